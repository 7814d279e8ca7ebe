"""Key places (markers, outlines, roads coloured by coverage) and sites as map layer data.

The functions return plain, JSON-able dicts and lists for the map runtime
(``static/gigacov_map.js``). Site popups are built in the browser from the raw values (the
runtime escapes them there), so that a map with tens of thousands of sites carries each value
once instead of a ready-made popup per site.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely

from ..formatting import is_missing
from ..grid import Grid
from .encoding import COORD_DIGITS, Display, _feature, _latlon_list, _shown, esc

__all__ = ["KEY_PLACE_SYMBOLS", "road_pieces", "key_places_layer", "sites_layer"]

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
