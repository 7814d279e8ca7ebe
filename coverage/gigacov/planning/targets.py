"""What planning aims at: the run it needs, its settings, each county's targets."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ..errors import ConfigError, RunError
from ..run_result import RunResult
from .greedy import (
    COVERAGE_KEYS,
    CountyTargets,
    Target,
)

__all__ = [
    "require_run",
    "validate_settings",
    "county_baselines",
    "targets_from_compliance",
    "IDLE_MESSAGES",
    "coverage_status",
    "county_targets",
]

log = logging.getLogger(__name__)


def require_run(run: RunResult) -> None:
    missing = []
    if run.grid is None:
        missing.append("grid")
    if "5G" not in (run.coverage or {}):
        missing.append("5G coverage")
    if run.population is None:
        missing.append("population")
    if run.indicators is None:
        missing.append("indicators")
    if run.compliance is None:
        missing.append("compliance")
    if missing:
        hint = (
            " (give a [population] raster or column)"
            if "population" in missing
            else " (add '5G' to [radio] technologies)"
            if "5G coverage" in missing
            else " (run the coverage and check stages first)"
        )
        raise RunError(f"planning needs {', '.join(missing)} from the run{hint}")


def validate_settings(ps) -> None:
    if ps.budget < 0:
        raise ConfigError(f"[planning] budget must be ≥ 0, got {ps.budget!r}")
    if ps.sectors < 1:
        raise ConfigError(f"[planning] sectors must be ≥ 1, got {ps.sectors!r}")
    for key in (
        "candidate_spacing_m",
        "site_height_m",
        "freq_mhz",
        "bandwidth_mhz",
        "footprint_radius_m",
        "scs_khz",
    ):
        v = getattr(ps, key)
        if v is None:  # not given: from the existing network (planning.defaults)
            continue
        if not v > 0:
            raise ConfigError(f"[planning] {key} must be > 0, got {v!r}")
    if not 0 < ps.beamwidth_deg <= 360:
        raise ConfigError(f"[planning] beamwidth_deg must be in (0, 360], got {ps.beamwidth_deg!r}")
    if ps.verify_rounds < 0:
        raise ConfigError(f"[planning] verify_rounds must be ≥ 0, got {ps.verify_rounds!r}")


def _col(df: pd.DataFrame, name: str, default: float = np.nan) -> pd.Series:
    if name in df.columns:
        return pd.to_numeric(df[name], errors="coerce")
    return pd.Series(default, index=df.index, dtype=float)


def county_baselines(county_table: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Numerators/denominators of the coverage indicators per county from the indicator table."""
    t = county_table
    pop = _col(t, "population")
    out: dict[str, dict[str, float]] = {}
    cov_pop = _col(t, "covered_population_5g")
    if "covered_population_5g" not in t.columns:
        cov_pop = _col(t, "pop_coverage_5g") * pop
    sites = _col(t, "sites_5g")
    if "sites_5g" not in t.columns:
        sites = (_col(t, "sites_5g_per_10k") * pop / 1e4).round()
    kp, kp_r = _col(t, "key_places", 0.0), _col(t, "key_places_reached_5g", 0.0)
    v, v_r = _col(t, "villages", 0.0), _col(t, "villages_reached_5g", 0.0)
    for i, code in enumerate(t["admin_code"].astype(str)):
        out[code] = {
            "population": float(pop.iloc[i]),
            "covered_population": float(cov_pop.iloc[i]),
            "sites": float(sites.iloc[i]) if pd.notna(sites.iloc[i]) else 0.0,
            "key_places": float(kp.iloc[i]) if pd.notna(kp.iloc[i]) else 0.0,
            "key_places_reached": float(kp_r.iloc[i]) if pd.notna(kp_r.iloc[i]) else 0.0,
            "villages": float(v.iloc[i]) if pd.notna(v.iloc[i]) else 0.0,
            "villages_reached": float(v_r.iloc[i]) if pd.notna(v_r.iloc[i]) else 0.0,
        }
    return out


def targets_from_compliance(
    compliance: pd.DataFrame, codes: set[str]
) -> dict[str, dict[str, Target]]:
    """Per county: the strictest failing threshold of each coverage-related indicator."""
    df = compliance
    sel = df[
        (df["level"].astype(str) == "county")
        & df["indicator"].isin(COVERAGE_KEYS)
        & (df["status"].astype(str) == "fail")
        & df["admin_code"].astype(str).isin(codes)
    ]
    out: dict[str, dict[str, Target]] = {}
    for (code, key), rows in sel.groupby([sel["admin_code"].astype(str), "indicator"], sort=True):
        ge = rows[rows["op"].isin([">=", ">"])]
        if len(ge) < len(rows):
            log.warning(
                "planning %s: %s has a '<' / '<=' threshold; new sites cannot lower it, ignored",
                code,
                key,
            )
        if ge.empty:
            continue
        thr = pd.to_numeric(ge["threshold"], errors="coerce")
        best = ge.loc[thr.idxmax()]
        top = thr.max()
        op = ">" if (ge.loc[thr == top, "op"] == ">").any() else str(best["op"])
        out.setdefault(code, {})[key] = Target(
            key=key,
            op=op,
            threshold=float(top),
            standards=tuple(sorted(set(ge["standard"].astype(str)))),
        )
    return out


IDLE_MESSAGES = {
    "pass": "no coverage-related indicator fails; nothing to plan",
    "no_data": "no coverage-related indicator fails, but some have no data (never a pass); nothing to plan",
    "fail": "the failing coverage-related thresholds are upper bounds ('<' / '<='); new sites cannot meet them",
}


def coverage_status(compliance: pd.DataFrame, codes: list[str]) -> dict[str, str]:
    """Per county, the status of its coverage-related indicators taken together.

    ``fail`` when any fails, else ``no_data`` when any lacks data (missing data is never a
    pass), else ``pass``; a county with no coverage-related row at all is ``no_data`` too.
    """
    df = compliance
    sel = df[(df["level"].astype(str) == "county") & df["indicator"].isin(COVERAGE_KEYS)]
    by_code = {
        str(c): set(g["status"].astype(str)) for c, g in sel.groupby(sel["admin_code"].astype(str))
    }
    out: dict[str, str] = {}
    for code in codes:
        seen = by_code.get(code, set())
        out[code] = "fail" if "fail" in seen else "pass" if seen and seen <= {"pass"} else "no_data"
    return out


def county_targets(
    code: str, index: int, name: str, base: dict[str, float] | None, targets: dict[str, Target]
) -> CountyTargets:
    base = base or {}
    return CountyTargets(
        index=index,
        admin_code=code,
        name=name,
        population=base.get("population", float("nan")),
        covered_population=base.get("covered_population", float("nan")),
        sites=base.get("sites", 0.0),
        key_places=base.get("key_places", 0.0),
        key_places_reached=base.get("key_places_reached", 0.0),
        villages=base.get("villages", 0.0),
        villages_reached=base.get("villages_reached", 0.0),
        targets=dict(targets),
    )
