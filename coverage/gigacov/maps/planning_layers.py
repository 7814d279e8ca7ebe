"""The planning layers of the map: weak-coverage areas and recommended new sites."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..formatting import is_missing
from .encoding import COORD_DIGITS, Display, _feature, _shown, esc, esc_plain

__all__ = ["gaps_layer", "recommended_layer"]


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
