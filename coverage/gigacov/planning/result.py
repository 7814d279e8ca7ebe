"""What planning returns: each county's plan and the recommended sites (:class:`PlanResult`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd

from .greedy import (
    COVERAGE_KEYS,
    Target,
    compare_op,
)

__all__ = [
    "OBJECTIVE",
    "ASSUMPTIONS",
    "RECOMMENDED_COLUMNS",
    "CountyPlan",
    "PlanResult",
    "recommended_frame",
    "empty_recommended",
]


OBJECTIVE = (
    "Greedy placement per failing county. Coverage phase: a candidate's gain is the share of each "
    "failing indicator's initial shortfall it closes (newly covered persons for pop_coverage_5g; key "
    "places / villages brought to 'reached', with partial credit towards the reach rule, for "
    "key_place_reach_5g / village_reach_5g), summed; ties go to more newly covered persons. Density "
    "phase (sites_5g_per_10k still failing): gain = persons the site would serve with a better signal "
    "than the network does. Lazy (CELF) evaluation; a site with zero gain is never picked."
)


ASSUMPTIONS = (
    "A candidate covers a pixel when its RSRP reaches [radio] rsrp_threshold_dbm and its SINR against "
    "the interference and noise already present (from the 5G coverage result) reaches "
    "sinr_threshold_db; interference between new sites and from new sites onto existing cells is "
    "ignored during the greedy search and accounted for by the verification run of the coverage "
    "engine ([planning] verify)."
)

#: Full-grid bytes per pixel that planning holds at once (checked against
#: ``[compute] memory_budget_mb``).


#: Columns of ``PlanResult.recommended`` (plus ``geometry``, WGS84 points).
RECOMMENDED_COLUMNS = [
    "site_id",
    "county",
    "county_name",
    "rank",
    "purpose",
    "added_population",
    "added_key_places",
    "added_villages",
    "served_population",
    "pop_coverage_5g_after",
    "sites_5g_per_10k_after",
    "key_place_reach_5g_after",
    "village_reach_5g_after",
    "lon",
    "lat",
    "candidate_id",
    "candidate_source",
    "height_m",
    "sectors",
    "azimuths_deg",
    "beamwidth_deg",
    "tilt_deg",
    "freq_mhz",
    "bandwidth_mhz",
    "scs_khz",
    "eirp_dbm",
    "verification_round",
]


@dataclass
class CountyPlan:
    """What planning did for one county (one entry of ``PlanResult.summary()['counties']``)."""

    admin_code: str
    name: str
    targets: dict[str, Target]
    indicators_before: dict[str, float]
    indicators_after: dict[str, float]
    status_before: str
    status_after: str
    counts_before: dict[str, float] = field(default_factory=dict)
    """``covered_population``, ``sites``, ``key_places_reached``, ``villages_reached``."""
    counts_after: dict[str, float] = field(default_factory=dict)
    sites_added: int = 0
    coverage_sites: int = 0
    density_sites: int = 0
    candidates: int = 0
    evaluations: int = 0
    stop_reason: str = ""
    stop_message: str = ""
    verified: bool | None = None
    """True/False after a verification run of the coverage engine, None when not verified."""

    def _gain(self, key: str) -> float:
        a, b = self.counts_after.get(key, math.nan), self.counts_before.get(key, math.nan)
        return 0.0 if math.isnan(a) or math.isnan(b) else float(a - b)

    @property
    def people_covered(self) -> float:
        """Persons of the county newly covered (verified figures when verified)."""
        return self._gain("covered_population")

    @property
    def key_places_reached(self) -> int:
        return int(round(self._gain("key_places_reached")))

    @property
    def villages_reached(self) -> int:
        return int(round(self._gain("villages_reached")))

    def to_dict(self) -> dict[str, Any]:
        indicators = {}
        for key in COVERAGE_KEYS:
            t = self.targets.get(key)
            before = self.indicators_before.get(key)
            after = self.indicators_after.get(key)
            indicators[key] = {
                "before": _json_num(before),
                "after": _json_num(after),
                "targeted": t is not None,
                "op": t.op if t else None,
                "threshold": t.threshold if t else None,
                "standards": list(t.standards) if t else [],
                "status_before": _status(before, t),
                "status_after": _status(after, t),
            }
        return {
            "admin_code": self.admin_code,
            "name": self.name,
            "status_before": self.status_before,
            "status_after": self.status_after,
            "sites_added": int(self.sites_added),
            "coverage_sites": int(self.coverage_sites),
            "density_sites": int(self.density_sites),
            "people_covered": round(float(self.people_covered), 1),
            "key_places_reached": int(self.key_places_reached),
            "villages_reached": int(self.villages_reached),
            "candidates": int(self.candidates),
            "gain_evaluations": int(self.evaluations),
            "stop_reason": self.stop_reason,
            "stop_message": self.stop_message,
            "verified": self.verified,
            "indicators": indicators,
        }


def _status(value: float | None, t: Target | None) -> str | None:
    if t is None:
        return None
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "no_data"
    return "pass" if compare_op(value, t.op, t.threshold) else "fail"


def _json_num(v: Any) -> Any:
    if v is None:
        return None
    v = float(v)
    return None if math.isnan(v) or math.isinf(v) else v


@dataclass
class PlanResult:
    """Weak-coverage areas and recommended sites of one run.

    Attributes
    ----------
    gaps
        GeoDataFrame (EPSG:4326) of weak-coverage polygons, :data:`gigacov.planning.gaps.GAP_COLUMNS`;
        rank 1 = most people.
    recommended
        GeoDataFrame (EPSG:4326 points) of recommended sites, :data:`RECOMMENDED_COLUMNS`;
        ``rank`` is the order of choice within the county.
    counties
        One :class:`CountyPlan` per county planned.
    new_cells
        The recommended sites as cells (:data:`gigacov.ingest.model.CELL_COLUMNS`), ready to be
        appended to the run's cells for a what-if coverage run.
    settings
        The ``[planning]`` settings used.
    timings
        Seconds per step and counts.
    """

    gaps: gpd.GeoDataFrame
    recommended: gpd.GeoDataFrame
    counties: list[CountyPlan] = field(default_factory=list)
    new_cells: pd.DataFrame | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    scenario_name: str = ""
    synthetic: bool = False

    def summary(self) -> dict[str, Any]:
        """JSON-able summary: totals, gaps, and per county the status before/after, the sites
        added, people / key places / villages reached and the indicators before → after."""
        gaps = self.gaps
        top = gaps.head(10)
        return {
            "scenario": self.scenario_name,
            "synthetic": self.synthetic,
            "objective": OBJECTIVE,
            "assumptions": ASSUMPTIONS,
            "settings": {
                k: (v if not isinstance(v, float) else _json_num(v))
                for k, v in self.settings.items()
            },
            "gaps": {
                "count": int(len(gaps)),
                "population": round(float(gaps["population"].sum()), 1) if len(gaps) else 0.0,
                "area_km2": round(float(gaps["area_km2"].sum()), 3) if len(gaps) else 0.0,
                "largest": [
                    {
                        "rank": int(r["rank"]),
                        "admin_code": r["admin_code"],
                        "county_name": r["county_name"],
                        "population": round(float(r["population"]), 1),
                        "area_km2": round(float(r["area_km2"]), 3),
                        "nearest_site_id": r["nearest_site_id"],
                        "nearest_site_m": _json_num(r["nearest_site_m"]),
                    }
                    for _, r in top.iterrows()
                ],
            },
            "sites_recommended": int(len(self.recommended)),
            "counties": [c.to_dict() for c in self.counties],
            "timings_s": {k: round(float(v), 3) for k, v in self.timings.items()},
        }


def recommended_frame(rows: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    if not rows:
        return empty_recommended()
    df = pd.DataFrame(rows, columns=RECOMMENDED_COLUMNS)
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs=4326)


def empty_recommended() -> gpd.GeoDataFrame:
    dtypes = {
        "site_id": object,
        "county": object,
        "county_name": object,
        "rank": "int64",
        "purpose": object,
        "added_population": float,
        "added_key_places": "int64",
        "added_villages": "int64",
        "served_population": float,
        "candidate_id": object,
        "candidate_source": object,
        "sectors": "int64",
        "azimuths_deg": object,
        "verification_round": "int64",
    }
    df = pd.DataFrame({c: pd.Series(dtype=dtypes.get(c, float)) for c in RECOMMENDED_COLUMNS})
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries([], crs=4326), crs=4326)
