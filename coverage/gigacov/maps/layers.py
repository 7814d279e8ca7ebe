"""Map layers as compact, JSON-able data for the map runtime (``static/gigacov_map.js``).

Every function here takes pipeline objects (WGS84 GeoDataFrames, the grid, coverage arrays,
the compliance table) and returns plain dicts and lists: coordinates rounded to 5 decimals
(about 1 m), polygons simplified for display, and every text that comes from user data
HTML-escaped (:func:`esc`) before it is placed into tooltip or popup HTML. Site popups are built
in the browser from the raw values (the runtime escapes them there), so that a map with tens of
thousands of sites carries each value once instead of a ready-made popup per site.

Coordinates are converted to the basemap's datum by a :class:`Display`: WGS84 for OpenStreetMap
and Tianditu, GCJ-02 for Amap.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely

from ..catalogue import INDICATORS
from ..crs import geoseries_from_wgs84, wgs84_to_gcj02
from ..formatting import format_threshold, format_value, is_missing
from ..grid import Grid
from ..standard_files import StandardInfo

__all__ = [
    "esc",
    "Display",
    "STATUS_COLOURS",
    "STATUS_LABELS",
    "KEY_PLACE_SYMBOLS",
    "indicator_meta",
    "shortfall_text",
    "units_layer",
    "villages_layer",
    "key_places_layer",
    "road_pieces",
    "sites_layer",
    "gaps_layer",
    "recommended_layer",
    "COORD_DIGITS",
]

#: Decimal places kept in lon/lat (1e-5° ≈ 1.1 m).
COORD_DIGITS = 5

#: ``at_risk``: below an unconfirmed threshold, not below the lowest certified unit's value.
STATUS_COLOURS = {"pass": "#1a9850", "at_risk": "#f08c00", "fail": "#d73027", "no_data": "#969696"}
STATUS_LABELS = {"pass": "pass", "at_risk": "at risk", "fail": "fail", "no_data": "no data"}

#: Key-place category → (letter on the marker, label).
KEY_PLACE_SYMBOLS: dict[str, tuple[str, str]] = {
    "hospital": ("H", "hospital"),
    "university": ("U", "university"),
    "tourism": ("T", "cultural / tourist area"),
    "railway": ("R", "railway station"),
    "airport": ("A", "airport"),
    "government": ("G", "government"),
    "road": ("—", "key road"),
    "other": ("•", "other"),
}

#: How an indicator unit (gigacov.indicators.IndicatorDef.unit) is shown; others: plain numbers.
_KINDS = {"ratio": "ratio", "count": "count"}


def esc(value: Any) -> str:
    """HTML-escape any value (quotes included) for tooltips and popups."""
    return html.escape("" if value is None else str(value), quote=True)


def _rnd(v: float, digits: int) -> float | int | None:
    """Round for JSON: None for NaN, an int when the value is integral (shorter text)."""
    if is_missing(v):
        return None
    r = round(float(v), digits)
    return int(r) if r == int(r) and abs(r) < 2**53 else r


# ------------------------------------------------------------------------------------------------
# Display datum and geometry encoding
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Display:
    """Converts WGS84 lon/lat to the basemap's datum (``"wgs84"`` or ``"gcj02"``)."""

    datum: str = "wgs84"
    simplify_m: float = 25.0

    def lonlat(self, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        lon = np.asarray(lon, dtype=np.float64)
        lat = np.asarray(lat, dtype=np.float64)
        if self.datum == "gcj02":
            return wgs84_to_gcj02(lon, lat)
        return lon, lat

    def geoms(self, geoms, *, simplify: bool = True) -> np.ndarray:
        """WGS84 geometries (GeoSeries or array) → display datum, simplified and rounded."""
        import geopandas as gpd

        gs = (
            geoms
            if isinstance(geoms, gpd.GeoSeries)
            else gpd.GeoSeries(np.asarray(geoms, dtype=object), crs=4326)
        )
        if self.datum == "gcj02":
            gs = geoseries_from_wgs84(gs, "gcj02")
        arr = np.asarray(gs.values, dtype=object)
        if simplify and self.simplify_m > 0:
            # Degrees of latitude; longitude degrees are shorter, so this is conservative.
            arr = shapely.simplify(arr, self.simplify_m / 111_320.0, preserve_topology=True)
        return shapely.transform(arr, lambda c: np.round(c, COORD_DIGITS))


def _geometry(geom) -> dict[str, Any] | None:
    if geom is None or shapely.is_empty(geom):
        return None
    return shapely.geometry.mapping(geom)


def _feature(geom, props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "geometry": _geometry(geom), "properties": props}


def _latlon_list(lon: np.ndarray, lat: np.ndarray) -> list[list[float]]:
    return np.column_stack([np.round(lat, COORD_DIGITS), np.round(lon, COORD_DIGITS)]).tolist()


# ------------------------------------------------------------------------------------------------
# Indicators, thresholds, shortfalls
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorMeta:
    key: str
    label: str
    label_zh: str
    kind: str  # "ratio", "count" or "number"


def indicator_meta(
    definitions: Iterable[Any] | None, columns: Iterable[str] = ()
) -> list[IndicatorMeta]:
    """Indicators to show, in order: the IndicatorSet's definitions, else docs/design.md §8 keys.

    Only keys that appear in ``columns`` are kept when ``columns`` is given and definitions are
    missing; with definitions, every defined key is kept (its value may come from compliance).
    """
    metas: list[IndicatorMeta] = []
    seen: set[str] = set()
    for d in definitions or ():
        key = str(getattr(d, "key", "") or "")
        if not key or key in seen:
            continue
        seen.add(key)
        base = _catalogue_meta(key)
        label = str(getattr(d, "name_en", "") or base.label)
        unit = str(getattr(d, "unit", "") or "").strip().lower()
        if unit in ("ratio", "fraction", "share", "%", "percent", "0-1", "0–1"):
            kind = "ratio"
        elif unit in ("count", "users", "households", "sites", "ports", "persons"):
            kind = "count"
        else:
            kind = base.kind
        metas.append(IndicatorMeta(key, label, str(getattr(d, "name_zh", "") or ""), kind))
    if metas:
        return metas
    cols = set(columns)
    return [_catalogue_meta(k) for k in INDICATORS if k in cols]


def _catalogue_meta(key: str) -> IndicatorMeta:
    """An indicator as gigacov.indicators defines it (an unknown key: its key, a plain number)."""
    d = INDICATORS.get(key)
    if d is None:
        return IndicatorMeta(key, key.replace("_", " "), "", "number")
    return IndicatorMeta(key, d.name_en, d.name_zh, _KINDS.get(d.unit, "number"))


def _shown(value: Any, kind: str) -> str:
    """A value in a tooltip: ratios as ``85.3 %``, counts without decimals, else one decimal."""
    return format_value(
        value, kind == "ratio", 0 if kind == "count" else 1, percent=" %", missing="no data"
    )


def _shown_threshold(op: Any, threshold: Any, kind: str) -> str:
    """A threshold in a tooltip: ``≥ 95.0 %``."""
    return format_threshold(
        op, threshold, kind == "ratio", 0 if kind == "count" else 1, percent=" %"
    )


# shortfall_unit codes of the compliance table → what the shortfall counts, in words.
_SHORTFALL_WORDS = {
    "sites": "5G base stations",
    "households": "gigabit-capable households",
    "ports": "10G-PON ports",
    "persons": "people covered by 5G",
    "key_places": "key places reached by 5G",
    "villages": "villages reached by 5G",
    "cities": "cities meeting the standard",
}
_USER_WORDS = {
    "users_500m_share": "users on ≥ 500 Mbps plans",
    "users_1000m_share": "users on 1000 Mbps plans",
    "users_1000m_count": "users on 1000 Mbps plans",
    "users_5g_share": "5G users",
}


def shortfall_text(row: pd.Series | dict, kind: str) -> str:
    """ "needs 37 more 5G base stations" from a failing compliance row."""
    shortfall = row.get("shortfall")
    unit = row.get("shortfall_unit")
    unit = "" if is_missing(unit) else str(unit).strip()
    if not is_missing(shortfall) and float(shortfall) > 0:
        n = float(shortfall)
        if unit == "km2":
            return f"needs {n:,.1f} km² more 5G coverage"
        words = _SHORTFALL_WORDS.get(unit) or (
            _USER_WORDS.get(str(row.get("indicator", "")), "users") if unit == "users" else unit
        )
        amount = f"{math.ceil(n - 1e-9):,}" if unit else _shown(n, kind)
        return f"needs {amount} more {words}".rstrip()
    margin = row.get("margin")
    if not is_missing(margin):
        return f"short by {_shown(abs(float(margin)), kind)}"
    return "below the threshold"


# ------------------------------------------------------------------------------------------------
# Administrative units (counties, cities) coloured by compliance status
# ------------------------------------------------------------------------------------------------


def _unit_tooltip(
    name: str,
    code: str,
    level: str,
    std: StandardInfo | None,
    status: str,
    values: dict[str, Any],
    rows: dict[str, pd.Series],
    metas: Sequence[IndicatorMeta],
) -> str:
    parts = [
        f'<div class="gc-tip"><b>{esc(name)}</b> <span class="gc-muted">{esc(code)} · {esc(level)}</span>'
    ]
    if std is not None:
        parts.append(
            f'<div><span class="gc-badge gc-{status}">{esc(STATUS_LABELS.get(status, status))}</span> '
            f"{esc(std.title)}</div>"
        )
    parts.append(
        '<table class="gc-table"><tr><th>indicator</th><th>value</th><th>target</th><th></th></tr>'
    )
    for m in metas:
        row = rows.get(m.key)
        value = row["value"] if row is not None else values.get(m.key)
        if row is None and is_missing(value) and m.key not in values:
            continue
        if row is not None:
            target = _shown_threshold(row.get("op"), row.get("threshold"), m.kind)
            if std is not None and m.key in std.unconfirmed_keys:
                target += "*"
            st = str(row.get("status"))
            mark = {"pass": "✓", "at_risk": "!", "fail": "✗"}.get(st, "?")
            cls = f"gc-{st}"
        else:
            target, mark, cls = "—", "", ""
        parts.append(
            f'<tr class="{cls}"><td>{esc(m.label)}</td><td>{esc(_shown(value, m.kind))}</td>'
            f"<td>{esc(target)}</td><td>{mark}</td></tr>"
        )
    parts.append("</table></div>")
    return "".join(parts)


def _unit_popup(
    name: str,
    code: str,
    level: str,
    std: StandardInfo | None,
    status: str,
    rows: dict[str, pd.Series],
    metas: dict[str, IndicatorMeta],
) -> str:
    parts = [
        f'<div class="gc-pop"><b>{esc(name)}</b> <span class="gc-muted">{esc(code)} · {esc(level)}</span>'
    ]
    if std is None:
        parts.append("<p>No standard was evaluated for this run.</p></div>")
        return "".join(parts)
    parts.append(
        f'<p><span class="gc-badge gc-{status}">{esc(STATUS_LABELS.get(status, status))}</span> '
        f"{esc(std.title)}</p>"
    )
    fails, at_risk, missing = [], [], []
    for key, row in rows.items():
        meta = metas.get(key) or _catalogue_meta(key)
        st = str(row.get("status"))
        item = f"<li><b>{esc(meta.label)}</b>: {esc(shortfall_text(row, meta.kind))}</li>"
        if st == "fail":
            fails.append(item)
        elif st == "at_risk":
            at_risk.append(item)
        elif st != "pass":
            missing.append(f"<li>{esc(meta.label)}</li>")
    if fails:
        parts.append("<p>Shortfalls:</p><ul>" + "".join(fails) + "</ul>")
    if at_risk:
        parts.append(
            "<p>At risk (below the unconfirmed threshold, not below the lowest value of a "
            "certified city):</p><ul>" + "".join(at_risk) + "</ul>"
        )
    if missing:
        parts.append(
            "<p>No data (missing data is never a pass):</p><ul>" + "".join(missing) + "</ul>"
        )
    if not fails and not at_risk and not missing:
        parts.append("<p>Meets every indicator of this standard.</p>")
    note = std.level_note(level)
    if note:
        parts.append(f'<p class="gc-note">{esc(note)}</p>')
    if any(k in std.unconfirmed_keys for k in rows):
        parts.append('<p class="gc-note">* threshold not confirmed against the official text.</p>')
    parts.append("</div>")
    return "".join(parts)


def units_layer(
    units: Any,
    level: str,
    *,
    standards: Sequence[StandardInfo],
    compliance: pd.DataFrame | None,
    statuses: pd.DataFrame,
    metas: Sequence[IndicatorMeta],
    display: Display,
) -> dict[str, Any]:
    """Units of one level as a FeatureCollection with, per standard, status, tooltip and popup.

    Feature properties: ``c`` admin code, ``st`` {standard id: status}, ``tip`` and ``pop``
    {standard id: escaped HTML}. With no standard, the single key ``""`` holds ``no_data``.
    """
    units = units.reset_index(drop=True)
    codes = units["admin_code"].astype(str).tolist()
    names = units["name"].astype(str).tolist() if "name" in units.columns else codes
    geoms = display.geoms(units.geometry)
    meta_by_key = {m.key: m for m in metas}
    value_cols = [m.key for m in metas if m.key in units.columns]
    comp = None
    if compliance is not None and len(compliance):
        comp = compliance.assign(admin_code=compliance["admin_code"].astype(str))
        if "level" in comp.columns:
            comp = comp[comp["level"].astype(str) == level]
    status_map: dict[tuple[str, str], str] = {}
    if len(statuses):
        sub = statuses
        if "level" in sub.columns:
            sub = sub[(sub["level"].astype(str) == level) | (sub["level"].astype(str) == "")]
        status_map = {
            (str(a), str(s)): str(v)
            for a, s, v in zip(sub["admin_code"], sub["standard"], sub["status"], strict=True)
        }
    grouped: dict[tuple[str, str], dict[str, pd.Series]] = {}
    if comp is not None:
        for (code, std_id), g in comp.groupby(["admin_code", "standard"], sort=False):
            grouped[(str(code), str(std_id))] = {str(r["indicator"]): r for _, r in g.iterrows()}
    std_list: list[StandardInfo | None] = list(standards) or [None]
    features = []
    for i, code in enumerate(codes):
        values = {k: units.at[i, k] for k in value_cols}
        st, tip, pop = {}, {}, {}
        for std in std_list:
            sid = std.id if std is not None else ""
            rows = grouped.get((code, sid), {})
            status = status_map.get((code, sid), "no_data")
            st[sid] = status
            tip[sid] = _unit_tooltip(names[i], code, level, std, status, values, rows, metas)
            pop[sid] = _unit_popup(names[i], code, level, std, status, rows, meta_by_key)
        features.append(_feature(geoms[i], {"c": code, "st": st, "tip": tip, "pop": pop}))
    return {"type": "FeatureCollection", "features": features}


# ------------------------------------------------------------------------------------------------
# Villages: 5G reach and gigabit fibre
# ------------------------------------------------------------------------------------------------


def fibre_classes(threshold: float) -> list[tuple[float, str, str]]:
    """Gigabit-fibre classes of a village, best first: ``(lower bound, colour, label)``.

    The top class starts at the standard's household threshold (80 % when no standard gives
    one), the middle one at 50 % (or half the threshold when that is 50 % or less).
    """
    t = float(threshold)
    mid = 0.5 if t > 0.5 else t / 2.0
    return [
        (t, "#1a9850", f"≥ {t * 100:.0f} %"),
        (mid, "#fdae61", f"{mid * 100:.0f} … {t * 100:.0f} %"),
        (0.0, "#d7191c", f"< {mid * 100:.0f} %"),
    ]


VILLAGE_REACH_COLOURS = {1: "#2c7bb6", 0: "#d7191c", None: "#bdbdbd"}


def villages_layer(
    villages: Any, *, display: Display, fibre_threshold: float, county_names: dict[str, str]
) -> dict[str, Any]:
    """Villages with ``r`` (5G reached 1/0/None), ``f`` (fibre class index or None) and ``tip``."""
    v = villages.reset_index(drop=True)
    geoms = display.geoms(v.geometry)
    reach = _column(v, "village_reach_5g")
    if reach is None and "villages_reached_5g" in v.columns and "villages" in v.columns:
        reach = pd.to_numeric(v["villages_reached_5g"], errors="coerce") / pd.to_numeric(
            v["villages"], errors="coerce"
        )
    fibre = _column(v, "household_gigabit_coverage")
    popcov = _column(v, "pop_coverage_5g")
    households = _column(v, "households")
    classes = fibre_classes(fibre_threshold)
    codes = v["admin_code"].astype(str).tolist()
    names = v["name"].astype(str).tolist() if "name" in v.columns else codes
    parents = (
        v["parent_code"].astype(str).tolist()
        if "parent_code" in v.columns
        else [c[:6] for c in codes]
    )
    reach_a = None if reach is None else reach.to_numpy(dtype=np.float64)
    fibre_a = None if fibre is None else fibre.to_numpy(dtype=np.float64)
    features = []
    for i in range(len(v)):
        r = None if reach_a is None or np.isnan(reach_a[i]) else int(reach_a[i] >= 0.5)
        f = None
        if fibre_a is not None and not np.isnan(fibre_a[i]):
            f = next(k for k, (lo, _, _) in enumerate(classes) if fibre_a[i] >= lo or lo == 0.0)
        code, name = codes[i], names[i]
        county = county_names.get(parents[i], "")
        reach_txt = {1: "reached", 0: "not reached", None: "no data"}[r]
        tip = (
            f'<div class="gc-tip"><b>{esc(name)}</b> <span class="gc-muted">{esc(code)}'
            f"{' · ' + esc(county) if county else ''}</span>"
            f'<table class="gc-table"><tr><td>5G</td><td>{esc(reach_txt)}</td></tr>'
        )
        if popcov is not None:
            tip += f"<tr><td>5G population coverage</td><td>{esc(_shown(popcov.iat[i], 'ratio'))}</td></tr>"
        if fibre is not None:
            tip += f"<tr><td>households with gigabit fibre</td><td>{esc(_shown(fibre.iat[i], 'ratio'))}</td></tr>"
        if households is not None:
            tip += f"<tr><td>households</td><td>{esc(_shown(households.iat[i], 'count'))}</td></tr>"
        tip += "</table></div>"
        features.append(_feature(geoms[i], {"c": code, "r": r, "f": f, "tip": tip}))
    return {"type": "FeatureCollection", "features": features}


def _column(df: pd.DataFrame, name: str) -> pd.Series | None:
    if name not in df.columns:
        return None
    return pd.to_numeric(df[name], errors="coerce").reset_index(drop=True)


# ------------------------------------------------------------------------------------------------
# Key places and roads
# ------------------------------------------------------------------------------------------------


def road_pieces(
    line_wgs84, grid: Grid, covered: np.ndarray | None, display: Display
) -> list[list[Any]]:
    """Split a road at pixel steps and colour each piece by the covered raster.

    The line is projected to the grid CRS, cut into segments of at most half a pixel, and each
    segment takes the ``covered`` value of the pixel holding its midpoint (2 = outside the grid or
    no raster). Consecutive segments with the same value are merged into one piece. Returns
    ``[[state, [[lat, lon], ...]], ...]`` in the display datum.
    """
    res = grid.resolution_m
    to_xy = lambda c: np.column_stack(grid.lonlat_to_xy(c[:, 0], c[:, 1]))  # noqa: E731
    proj = shapely.transform(line_wgs84, to_xy)
    parts = shapely.get_parts(proj) if proj.geom_type.startswith("Multi") else [proj]
    pieces: list[list[Any]] = []
    for part in parts:
        if part.is_empty or part.geom_type != "LineString":
            continue
        seg = shapely.segmentize(part, res / 2.0)
        xy = shapely.get_coordinates(seg)
        if len(xy) < 2:
            continue
        mid = (xy[:-1] + xy[1:]) / 2.0
        if covered is None:
            state = np.full(len(mid), 2, dtype=np.int64)
        else:
            row, col = grid.rowcol(mid[:, 0], mid[:, 1])
            inside = grid.contains_rowcol(row, col)
            state = np.full(len(mid), 2, dtype=np.int64)
            state[inside] = (covered[row[inside], col[inside]] > 0).astype(np.int64)
        breaks = np.flatnonzero(np.diff(state)) + 1
        starts = np.r_[0, breaks]
        ends = np.r_[breaks, len(state)]
        for s, e in zip(starts, ends, strict=True):
            piece = shapely.LineString(xy[s : e + 1])
            if display.simplify_m > 0:
                piece = shapely.simplify(piece, min(display.simplify_m, res / 2.0))
            pxy = shapely.get_coordinates(piece)
            lon, lat = grid.xy_to_lonlat(pxy[:, 0], pxy[:, 1])
            lon, lat = display.lonlat(lon, lat)
            pieces.append([int(state[s]), _latlon_list(lon, lat)])
    return pieces


def _key_place_tip(row: pd.Series) -> str:
    cat = str(row.get("category", "other") or "other")
    label = KEY_PLACE_SYMBOLS.get(cat, KEY_PLACE_SYMBOLS["other"])[1]
    reached = row.get("reached_5g")
    reached_txt = (
        "no data"
        if is_missing(reached)
        else ("reached by 5G" if bool(reached) else "not reached by 5G")
    )
    out = [
        f'<div class="gc-tip"><b>{esc(row.get("name", ""))}</b> <span class="gc-muted">{esc(label)}</span>',
        f"<div>{esc(reached_txt)}</div>",
        '<table class="gc-table">',
    ]
    share = row.get("covered_share_5g")
    if not is_missing(share):
        out.append(f"<tr><td>share covered</td><td>{esc(_shown(share, 'ratio'))}</td></tr>")
    rsrp = row.get("rsrp_dbm")
    if not is_missing(rsrp):
        out.append(f"<tr><td>SS-RSRP</td><td>{float(rsrp):.1f} dBm</td></tr>")
    gap = row.get("longest_gap_m")
    if not is_missing(gap) and cat == "road":
        out.append(f"<tr><td>longest gap</td><td>{float(gap):,.0f} m</td></tr>")
    out.append("</table>")
    if bool(row.get("approximate", False)) is True:
        out.append('<div class="gc-note">position approximate</div>')
    out.append("</div>")
    return "".join(out)


def key_places_layer(
    places: Any, *, grid: Grid | None, covered: np.ndarray | None, display: Display
) -> dict[str, Any]:
    """Key places: point markers (also for polygon places, at a representative point),
    polygon outlines, and roads split into covered / not covered pieces.

    ``points``: ``[lat, lon, category, reached (1/0/None), tooltip]``; ``areas``: a
    FeatureCollection with ``r`` and ``tip``; ``roads``: ``[{"tip":…, "pieces": [[state,
    latlons]]}]``.
    """
    p = places.reset_index(drop=True)
    points, areas, roads = [], [], []
    for i in range(len(p)):
        row = p.iloc[i]
        geom = row.geometry
        if geom is None or geom.is_empty:
            continue
        tip = _key_place_tip(row)
        reached = row.get("reached_5g")
        r = None if is_missing(reached) else int(bool(reached))
        cat = str(row.get("category", "other") or "other")
        gtype = geom.geom_type
        if "LineString" in gtype:
            if grid is not None:
                pieces = road_pieces(geom, grid, covered, display)
            else:
                pieces = []
                for part in shapely.get_parts(geom):
                    xy = shapely.get_coordinates(part)
                    lon, lat = display.lonlat(xy[:, 0], xy[:, 1])
                    pieces.append([2, _latlon_list(lon, lat)])
            roads.append({"tip": tip, "r": r, "pieces": pieces})
            continue
        if "Polygon" in gtype:
            areas.append(_feature(display.geoms([geom])[0], {"r": r, "tip": tip}))
            pt = geom.representative_point()
        else:
            pt = geom if gtype == "Point" else geom.centroid
        lon, lat = display.lonlat([pt.x], [pt.y])
        points.append(
            [round(float(lat[0]), COORD_DIGITS), round(float(lon[0]), COORD_DIGITS), cat, r, tip]
        )
    return {
        "points": points,
        "areas": {"type": "FeatureCollection", "features": areas},
        "roads": roads,
    }


# ------------------------------------------------------------------------------------------------
# Sites (clustered in the browser)
# ------------------------------------------------------------------------------------------------


def _num_list(values: pd.Series, digits: int) -> list[Any]:
    arr = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
    r = np.round(arr, digits)
    finite = np.isfinite(r)
    if finite.all() and (r == np.round(r)).all():
        return r.astype(np.int64).tolist()
    out: list[Any] = r.tolist()
    for i in np.flatnonzero(~finite):
        out[i] = None
    if digits == 0:
        return [None if v is None else int(v) for v in out]
    return [None if v is None else (int(v) if v == int(v) else v) for v in out]


def sites_layer(cells: pd.DataFrame, *, display: Display) -> dict[str, Any]:
    """Sites for the browser-side clustering: one entry per site, its cells in columns.

    ``lat``/``lon``/``id``/``name``/``kind`` (1 = has a 5G cell, 2 = 4G only) per site;
    ``ops`` the operator names; ``cells`` columns, cells grouped by site in site order with
    ``n`` cells per site: ``cid`` (cell id, or the suffix after the site id when
    ``cid_suffix``), ``tech`` (5 or 4), ``f`` MHz, ``bw`` MHz, ``az`` degrees (None = omni),
    ``h`` m, ``tilt`` degrees, ``eirp`` dBm, ``op`` (index into ``ops``).
    Names are raw text here; the runtime escapes them when it builds a popup.
    """
    c = cells.copy()
    c["site_id"] = c["site_id"].astype(str)
    c = c.sort_values("site_id", kind="stable").reset_index(drop=True)
    first = c.groupby("site_id", sort=False).head(1)
    site_ids = first["site_id"].tolist()
    counts = c.groupby("site_id", sort=False).size().reindex(site_ids).to_numpy()
    tech = c["tech"].astype(str).str.upper() if "tech" in c.columns else pd.Series(["5G"] * len(c))
    has5 = (tech == "5G").groupby(c["site_id"], sort=False).any().reindex(site_ids).to_numpy()
    lon, lat = display.lonlat(first["lon"].to_numpy(), first["lat"].to_numpy())
    names = (
        first["name"].fillna("").astype(str).tolist()
        if "name" in first.columns
        else [""] * len(first)
    )
    names = ["" if n == s else n for n, s in zip(names, site_ids, strict=True)]
    ops_col = (
        c["operator"].fillna("").astype(str)
        if "operator" in c.columns
        else pd.Series([""] * len(c))
    )
    ops = sorted(set(ops_col))
    op_index = {o: i for i, o in enumerate(ops)}
    cid = c["cell_id"].fillna("").astype(str).tolist() if "cell_id" in c.columns else [""] * len(c)
    sid = c["site_id"].tolist()
    suffix = bool(len(c)) and all(a.startswith(s) for a, s in zip(cid, sid, strict=True))
    if suffix:
        cid = [a[len(s) :] for a, s in zip(cid, sid, strict=True)]

    def col(name: str, digits: int) -> list[Any]:
        if name not in c.columns:
            return [None] * len(c)
        return _num_list(c[name], digits)

    return {
        "lat": np.round(np.asarray(lat), COORD_DIGITS).tolist(),
        "lon": np.round(np.asarray(lon), COORD_DIGITS).tolist(),
        "id": site_ids,
        "name": names,
        "kind": np.where(has5, 1, 2).astype(int).tolist(),
        "ops": ops,
        "cid_suffix": suffix,
        "cells": {
            "n": counts.astype(int).tolist(),
            "cid": cid,
            "tech": np.where(tech.to_numpy() == "5G", 5, 4).astype(int).tolist(),
            "f": col("freq_mhz", 1),
            "bw": col("bandwidth_mhz", 1),
            "az": col("azimuth_deg", 0),
            "h": col("height_m", 1),
            "tilt": col("tilt_deg", 1),
            "eirp": col("eirp_dbm", 1),
            "op": [op_index[o] for o in ops_col.tolist()],
        },
    }


# ------------------------------------------------------------------------------------------------
# Planning: weak-coverage areas and recommended sites
# ------------------------------------------------------------------------------------------------


def gaps_layer(gaps: Any, *, display: Display, county_names: dict[str, str]) -> dict[str, Any]:
    """Weak-coverage polygons with a tooltip: population, area, county, nearest site, rank."""
    g = gaps.reset_index(drop=True)
    geoms = display.geoms(g.geometry)
    features = []
    for i in range(len(g)):
        row = g.iloc[i]
        code = esc_plain(row.get("admin_code", ""))
        cname = esc_plain(row.get("county_name", "")) or county_names.get(code, "")
        rank = row.get("rank")
        rows = [
            ("population", _shown(row.get("population"), "count")),
            (
                "area",
                "no data"
                if is_missing(row.get("area_km2"))
                else f"{float(row.get('area_km2')):,.2f} km²",
            ),
        ]
        if code or cname:
            rows.append(("county", f"{cname} {code}".strip()))
        if not is_missing(row.get("nearest_site_m")):
            rows.append(
                (
                    "nearest site",
                    f"{esc_plain(row.get('nearest_site_id'))} at {float(row.get('nearest_site_m')):,.0f} m",
                )
            )
        title = "Weak 5G coverage" + ("" if is_missing(rank) else f" — rank {int(rank)}")
        tip = (
            f'<div class="gc-tip"><b>{esc(title)}</b><table class="gc-table">'
            + "".join(f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in rows)
            + "</table></div>"
        )
        features.append(_feature(geoms[i], {"tip": tip}))
    return {"type": "FeatureCollection", "features": features}


def _is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    if isinstance(value, list | tuple | np.ndarray):
        return len(value) == 0
    return is_missing(value)


def esc_plain(value: Any) -> str:
    """``str(value)`` with NaN/None as an empty string (escaping happens where HTML is built)."""
    return "" if is_missing(value) else str(value)


# (column, label, kind) shown in a recommended site's popup when present ("text": as is).
_RECOMMENDED_FIELDS = (
    ("site_id", "site", "text"),
    ("rank", "rank in the county", "count"),
    ("purpose", "purpose", "text"),
    ("added_population", "people newly covered", "count"),
    ("added_key_places", "key places newly reached", "count"),
    ("added_villages", "villages newly reached", "count"),
    ("served_population", "people served", "count"),
    ("pop_coverage_5g_after", "county 5G population coverage after", "ratio"),
    ("sites_5g_per_10k_after", "county 5G sites per 10,000 people after", "number"),
    ("key_place_reach_5g_after", "county key-place reach after", "ratio"),
    ("village_reach_5g_after", "county village reach after", "ratio"),
    ("height_m", "height (m)", "number"),
    ("sectors", "sectors", "count"),
    ("azimuths_deg", "azimuths (°)", "text"),
    ("tilt_deg", "tilt (°)", "number"),
    ("freq_mhz", "frequency (MHz)", "count"),
    ("bandwidth_mhz", "bandwidth (MHz)", "count"),
    ("eirp_dbm", "EIRP (dBm)", "number"),
    ("candidate_source", "candidate from", "text"),
)


def recommended_layer(
    recommended: Any, *, display: Display, county_names: dict[str, str]
) -> list[list[Any]]:
    """Recommended new sites: ``[lat, lon, popup HTML]``."""
    r = recommended.reset_index(drop=True)
    pts = r.geometry
    lon, lat = display.lonlat(pts.x.to_numpy(), pts.y.to_numpy())
    out = []
    for i in range(len(r)):
        row = r.iloc[i]
        county = esc_plain(row.get("county", ""))
        cname = esc_plain(row.get("county_name", "")) or county_names.get(county, "")
        lines = (
            [f"<tr><td>county</td><td>{esc((cname + ' ' + county).strip())}</td></tr>"]
            if county or cname
            else []
        )
        for col, label, kind in _RECOMMENDED_FIELDS:
            value = row.get(col) if col in r.columns else None
            if _is_blank(value):
                continue
            text = str(value) if kind == "text" else _shown(value, kind)
            lines.append(f"<tr><td>{esc(label)}</td><td>{esc(text)}</td></tr>")
        html_text = (
            '<div class="gc-pop"><b>Recommended new 5G site</b><table class="gc-table">'
            + "".join(lines)
            + f"<tr><td>position</td><td>{float(pts.y.iat[i]):.5f} N, {float(pts.x.iat[i]):.5f} E (WGS84)</td></tr>"
            + "</table></div>"
        )
        out.append(
            [round(float(lat[i]), COORD_DIGITS), round(float(lon[i]), COORD_DIGITS), html_text]
        )
    return out
