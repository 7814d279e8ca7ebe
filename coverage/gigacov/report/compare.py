"""Year-over-year comparison of two runs (docs/design.md §8).

A run directory holds ``manifest.json``, ``compliance.csv`` and ``indicators.gpkg``; two of them
are comparable when they were evaluated against the same standards (ids *and* versions) on the
same grid (CRS, resolution, extent). :func:`compute_comparison` works on :class:`RunTables`, which
come either from a directory (:func:`load_run`) or from a run in memory (:func:`run_tables`, used
by the annual-review report's year-over-year section), so both paths share one computation.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..compliance import unit_status
from ..errors import RunError, StandardError
from ..run_result import RunResult
from ..rundir import COMPLETE_RUN_FILES, COMPLIANCE, code_text, read_run
from ..standard_files import StandardInfo, list_standards, load_standards, standards_info
from .compare_notes import partial_rollups, years_notes
from .labels import KNOWN_KEYS, LEVELS, Labeler, is_ratio
from .tables import (
    indicator_columns,
    normalise_compliance,
    provenance,
)

__all__ = [
    "RUN_FILES",
    "RunTables",
    "Comparison",
    "load_run",
    "run_tables",
    "comparability",
    "compute_comparison",
    "compare_runs",
    "classify_change",
]

log = logging.getLogger(__name__)

#: Files that make a folder a complete run for a comparison.
RUN_FILES = COMPLETE_RUN_FILES

#: Status-change classes (per unit × standard, or per unit × indicator).
CHANGES = (
    "newly_passing",
    "newly_failing",
    "still_passing",
    "still_failing",
    "at_risk",
    "no_data",
    "new",
    "dropped",
)


@dataclass
class RunTables:
    """What a comparison needs from one run.

    Attributes
    ----------
    label
        Short name for column headers and charts (``"quanzhou-2023 2023"``).
    path
        The run directory (None for a run in memory).
    manifest
        ``manifest.json`` (or the same facts built from the run in memory).
    compliance
        The compliance table (docs/design.md §8 columns), normalised.
    units
        Level → indicator table (no geometry), ``admin_code`` as text.
    definitions
        Indicator definitions when known (runs in memory), else None.
    """

    label: str
    path: Path | None
    manifest: dict[str, Any]
    compliance: pd.DataFrame
    units: dict[str, pd.DataFrame]
    definitions: list[Any] | None = None
    standards_info: list[StandardInfo] | None = None
    """The standards' indicators (mandatory flags) when known; else every indicator counts."""

    @property
    def year(self) -> Any:
        return (self.manifest.get("scenario") or {}).get("year")

    @property
    def name(self) -> str:
        return str((self.manifest.get("scenario") or {}).get("name", ""))

    @property
    def synthetic(self) -> bool:
        return bool((self.manifest.get("scenario") or {}).get("synthetic", False))

    @property
    def standards(self) -> dict[str, str]:
        """Standard id → version."""
        return {
            str(s.get("id")): str(s.get("version", ""))
            for s in self.manifest.get("standards") or []
        }

    @property
    def grid(self) -> dict[str, Any] | None:
        return self.manifest.get("grid")


@dataclass
class Comparison:
    """The change from run ``a`` (earlier) to run ``b`` (later).

    Attributes
    ----------
    indicator_changes
        One row per level × unit × indicator: ``level, admin_code, name, indicator, ratio,
        value_a, value_b, delta, delta_pp`` (``delta_pp`` = Δ in percentage points, ratios only).
    status_changes
        One row per level × unit × standard × indicator from the compliance tables:
        ``status_a, status_b, change`` plus both values and thresholds.
    unit_changes
        One row per level × unit × standard: overall ``status_a, status_b, change`` and the
        indicators failed in B (``failed_b``).
    reasons
        Why the runs are not comparable (only non-empty when ``forced``).
    notes
        What a reader must know to read the changes: runs of one year, the later year first,
        city or province figures whose change is not computed because the counties with data
        differ between the two runs.
    """

    a: RunTables
    b: RunTables
    indicator_changes: pd.DataFrame
    status_changes: pd.DataFrame
    unit_changes: pd.DataFrame
    reasons: list[str] = field(default_factory=list)
    forced: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def newly_passing(self) -> pd.DataFrame:
        return self.unit_changes[self.unit_changes["change"] == "newly_passing"]

    @property
    def newly_failing(self) -> pd.DataFrame:
        return self.unit_changes[self.unit_changes["change"] == "newly_failing"]

    def change_of(self, admin_code: str, indicator: str, level: str | None = None) -> pd.Series:
        """The indicator-change row of one unit (raises KeyError when absent)."""
        t = self.indicator_changes
        m = (t["admin_code"] == str(admin_code)) & (t["indicator"] == indicator)
        if level:
            m &= t["level"] == level
        rows = t[m]
        if rows.empty:
            raise KeyError(f"no change row for unit {admin_code!r}, indicator {indicator!r}")
        return rows.iloc[0]


# ------------------------------------------------------------------------------------------------
# Reading runs
# ------------------------------------------------------------------------------------------------


def check_manifest_shape(manifest: dict[str, Any], where: Path) -> None:
    """The manifest entries a comparison reads have the types a run writes (a hand-edited or
    damaged manifest is a RunError naming the entry, even with ``force``)."""

    def bad(key: str, expected: str) -> RunError:
        value = json.dumps(manifest.get(key), ensure_ascii=False)[:80]
        return RunError(
            f"{where}: {key!r} must be {expected}, got {value}; the manifest was edited or "
            "damaged — rerun that run"
        )

    def number(v: Any) -> bool:
        return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)

    scn = manifest.get("scenario")
    if scn is not None:
        if not isinstance(scn, dict):
            raise bad("scenario", "an object")
        if not isinstance(scn.get("name", ""), str) or not (
            scn.get("year") is None or isinstance(scn.get("year"), int)
        ):
            raise bad("scenario", "an object with a text name and an integer year")
    stds = manifest.get("standards")
    if stds is not None and not (
        isinstance(stds, list)
        and all(isinstance(x, dict) and isinstance(x.get("id"), str) for x in stds)
    ):
        raise bad("standards", "a list of objects with an id")
    grid = manifest.get("grid")
    if grid is not None and not (
        isinstance(grid, dict)
        and isinstance(grid.get("crs"), str)
        and number(grid.get("resolution_m"))
        and isinstance(grid.get("width"), int)
        and isinstance(grid.get("height"), int)
        and isinstance(grid.get("transform"), list)
        and len(grid["transform"]) >= 6
        and all(number(v) for v in grid["transform"])
    ):
        raise bad("grid", "an object with crs, resolution_m, width, height and transform")
    for key in ("tool_version", "created_utc", "generated_utc"):
        if manifest.get(key) is not None and not isinstance(manifest[key], str):
            raise bad(key, "text")


def _label(manifest: dict[str, Any], fallback: str) -> str:
    scn = manifest.get("scenario") or {}
    name, year = scn.get("name") or fallback, scn.get("year")
    return f"{name} {year}" if year and str(year) not in str(name) else str(name)


def load_run(path: str | Path) -> RunTables:
    """Read a run directory for a comparison.

    Raises
    ------
    RunError
        When the folder does not exist or is not a complete run (names the missing files), or
        when a file in it cannot be read.
    """
    stored = read_run(path)
    path, manifest = stored.path, stored.manifest
    check_manifest_shape(manifest, path / "manifest.json")
    compliance = normalise_compliance(stored.compliance, where=str(path / COMPLIANCE))
    units = stored.units
    return RunTables(
        _label(manifest, path.name),
        path,
        manifest,
        compliance,
        units,
        # An older run's compliance.csv has no ``mandatory`` column: the shipped standards of
        # the same versions say which indicators are mandatory.
        standards_info=None
        if "mandatory" in stored.compliance.columns
        else _shipped_standards(manifest, path),
    )


def _shipped_standards(manifest: dict[str, Any], path: Path) -> list[StandardInfo] | None:
    """The run's standards from gigacov's shipped files, when their versions match the manifest.

    For a ``compliance.csv`` written before it had a ``mandatory`` column: the shipped standard of
    the same id and version says which indicators are mandatory. Otherwise every indicator counts
    as mandatory (logged).
    """
    wanted = {str(s.get("id")): str(s.get("version", "")) for s in manifest.get("standards") or []}
    if not wanted:
        return None
    found: list[StandardInfo] = []
    shipped = set(list_standards())
    for sid, version in wanted.items():
        info = None
        if sid in shipped:
            try:
                info = standards_info(load_standards([sid]))[0]
            except StandardError as exc:
                log.warning("shipped standard %r cannot be read: %s", sid, exc)
        if info is None or info.version != version:
            log.warning(
                "%s: standard %r version %r is not the shipped one; all its indicators are taken as "
                "mandatory for the overall status",
                path,
                sid,
                version,
            )
            continue
        found.append(info)
    return found or None


def run_tables(run: RunResult) -> RunTables:
    """The comparison tables of a run in memory (a :class:`gigacov.run_result.RunResult`)."""
    manifest = provenance(run)
    units = {
        lv: pd.DataFrame(t.drop(columns="geometry", errors="ignore")).reset_index(drop=True)
        for lv, t in (getattr(run.indicators, "units", None) or {}).items()
        if t is not None
    }
    for t in units.values():
        t["admin_code"] = t["admin_code"].map(code_text).astype(object)
    return RunTables(
        _label(manifest, run.scenario.name),
        Path(getattr(run, "final_path", Path)(run.run_dir)) if run.run_dir else None,
        manifest,
        normalise_compliance(run.compliance),
        units,
        list(getattr(run.indicators, "definitions", None) or []),
        standards_info(run.standards) or None,
    )


# ------------------------------------------------------------------------------------------------
# Comparability
# ------------------------------------------------------------------------------------------------


def _grid_bounds(g: dict[str, Any]) -> tuple[float, float, float, float]:
    a, _b, c, _d, e, f = (float(v) for v in g["transform"][:6])
    w, h = int(g["width"]), int(g["height"])
    return (c, f + h * e, c + w * a, f)


def _grid_reasons(
    ga: dict[str, Any] | None, gb: dict[str, Any] | None, la: str, lb: str
) -> list[str]:
    import pyproj

    if not ga or not gb:
        which = [lab for lab, g in ((la, ga), (lb, gb)) if not g]
        return [
            f"the manifest of {' and '.join(which)} records no grid, so the grids cannot be checked"
        ]
    reasons = []
    try:
        same_crs = pyproj.CRS.from_user_input(ga["crs"]) == pyproj.CRS.from_user_input(gb["crs"])
    except (pyproj.exceptions.CRSError, KeyError):
        same_crs = ga.get("crs") == gb.get("crs")
    if not same_crs:
        reasons.append(f"grid CRS differs: {ga.get('crs')!r} ({la}) vs {gb.get('crs')!r} ({lb})")
    ra, rb = float(ga.get("resolution_m", math.nan)), float(gb.get("resolution_m", math.nan))
    if not math.isclose(ra, rb, rel_tol=1e-9):
        reasons.append(f"grid resolution differs: {ra:g} m ({la}) vs {rb:g} m ({lb})")
    try:
        ba, bb = _grid_bounds(ga), _grid_bounds(gb)
    except (KeyError, TypeError, ValueError):
        reasons.append("a manifest's grid has no usable transform/width/height")
        return reasons
    tol = 1e-6 * max(ra if ra == ra else 1.0, 1.0)
    if any(abs(x - y) > tol for x, y in zip(ba, bb, strict=True)):
        fa = ", ".join(f"{v:.0f}" for v in ba)
        fb = ", ".join(f"{v:.0f}" for v in bb)
        reasons.append(f"grid extent differs: ({fa}) ({la}) vs ({fb}) ({lb})")
    return reasons


def comparability(a: RunTables, b: RunTables) -> list[str]:
    """Reasons why ``a`` and ``b`` cannot be compared (empty when they can)."""
    reasons = []
    sa, sb = a.standards, b.standards
    for sid in sorted(set(sa) | set(sb)):
        if sid not in sb:
            reasons.append(f"standard {sid!r} was used only in {a.label}")
        elif sid not in sa:
            reasons.append(f"standard {sid!r} was used only in {b.label}")
        elif sa[sid] != sb[sid]:
            reasons.append(
                f"standard {sid!r} has version {sa[sid]!r} in {a.label} but {sb[sid]!r} in {b.label}"
            )
    reasons += _grid_reasons(a.grid, b.grid, a.label, b.label)
    return reasons


# ------------------------------------------------------------------------------------------------
# Computation
# ------------------------------------------------------------------------------------------------


def classify_change(status_a: Any, status_b: Any) -> str:
    """Status change from A to B.

    ``newly_passing``: passes in B, failed, was at risk or had no data in A; ``newly_failing``:
    fails in B, passed, was at risk or had no data in A; ``still_passing`` / ``still_failing``;
    ``at_risk`` (at risk in B: below an unconfirmed threshold, not below the certified evidence;
    ``status_a`` says where it came from); ``no_data`` (no data in B); ``new`` / ``dropped``
    (the unit or indicator exists in one run only).
    """
    a = status_a if isinstance(status_a, str) and status_a else None
    b = status_b if isinstance(status_b, str) and status_b else None
    if b is None:
        return "dropped"
    if a is None:
        return "new"
    if b == "pass":
        return "still_passing" if a == "pass" else "newly_passing"
    if b == "fail":
        return "still_failing" if a == "fail" else "newly_failing"
    if b == "at_risk":
        return "at_risk"
    return "no_data"


def _long(units: dict[str, pd.DataFrame], keys_by_level: dict[str, list[str]]) -> pd.DataFrame:
    frames = []
    for lv, keys in keys_by_level.items():
        t = units[lv]
        if not keys:
            continue
        sub = t[["admin_code", "name", *keys]].copy()
        for k in keys:
            sub[k] = pd.to_numeric(sub[k], errors="coerce").astype("float64")
        m = sub.melt(
            id_vars=["admin_code", "name"],
            value_vars=keys,
            var_name="indicator",
            value_name="value",
        )
        m.insert(0, "level", lv)
        frames.append(m)
    if not frames:
        return pd.DataFrame(columns=["level", "admin_code", "name", "indicator", "value"])
    return pd.concat(frames, ignore_index=True)


def _indicator_changes(a: RunTables, b: RunTables, labeler: Labeler) -> pd.DataFrame:
    extra = sorted(set(a.compliance["indicator"]) | set(b.compliance["indicator"]))
    keys_a: dict[str, list[str]] = {}
    keys_b: dict[str, list[str]] = {}
    for lv in [lv for lv in LEVELS if lv in a.units and lv in b.units]:
        ka = indicator_columns(a.units[lv], extra)
        kb = indicator_columns(b.units[lv], extra)
        common = [k for k in kb if k in ka]
        keys_a[lv], keys_b[lv] = common, common
    la = _long(a.units, keys_a).rename(columns={"value": "value_a", "name": "name_a"})
    lb = _long(b.units, keys_b).rename(columns={"value": "value_b", "name": "name_b"})
    m = la.merge(lb, on=["level", "admin_code", "indicator"], how="outer")
    m["name"] = m["name_b"].where(m["name_b"].notna() & (m["name_b"] != ""), m["name_a"]).fillna("")
    m["ratio"] = [labeler.indicator(k).ratio for k in m["indicator"]]
    m["value_a"] = m["value_a"].astype("float64")
    m["value_b"] = m["value_b"].astype("float64")
    m["delta"] = m["value_b"] - m["value_a"]
    m["delta_pp"] = np.where(m["ratio"].to_numpy(dtype=bool), m["delta"] * 100.0, np.nan)
    m = _sorted(m, ["admin_code", "_ind"])
    return m[
        [
            "level",
            "admin_code",
            "name",
            "indicator",
            "ratio",
            "value_a",
            "value_b",
            "delta",
            "delta_pp",
        ]
    ]


def _sorted(m: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Rows top level first, then by ``by``; ``_ind`` sorts indicators in the catalogue order."""
    m = m.copy()
    m["_lv"] = m["level"].map({lv: i for i, lv in enumerate(LEVELS)}).fillna(len(LEVELS))
    if "_ind" in by:
        order = {k: i for i, k in enumerate(KNOWN_KEYS)}
        m["_ind"] = [order.get(k, len(order)) for k in m["indicator"]]
        by = [*by, "indicator"]
    m = m.sort_values(["_lv", *by], kind="stable").reset_index(drop=True)
    return m.drop(columns=[c for c in ("_lv", "_ind") if c in m])


def _status_changes(a: RunTables, b: RunTables) -> pd.DataFrame:
    keys = ["level", "admin_code", "standard", "indicator"]
    ca = a.compliance[[*keys, "name", "value", "op", "threshold", "status"]]
    cb = b.compliance[
        [*keys, "name", "value", "op", "threshold", "status", "shortfall", "shortfall_unit"]
    ]
    m = ca.merge(cb, on=keys, how="outer", suffixes=("_a", "_b"))
    m["name"] = m["name_b"].where(m["name_b"].notna() & (m["name_b"] != ""), m["name_a"]).fillna("")
    m["op"] = m["op_b"].where(m["op_b"].notna() & (m["op_b"] != ""), m["op_a"]).fillna("")
    m["change"] = [classify_change(x, y) for x, y in zip(m["status_a"], m["status_b"], strict=True)]
    m["ratio"] = [is_ratio(k) for k in m["indicator"]]
    cols = [
        *keys,
        "name",
        "op",
        "ratio",
        "value_a",
        "value_b",
        "threshold_a",
        "threshold_b",
        "status_a",
        "status_b",
        "change",
        "shortfall",
        "shortfall_unit",
    ]
    return _sorted(m, ["admin_code", "standard", "_ind"])[cols]


def _unit_changes(a: RunTables, b: RunTables) -> pd.DataFrame:
    keys = ["level", "admin_code", "standard"]
    ua = unit_status(a.compliance, a.standards_info).rename(
        columns={"status": "status_a", "failed": "failed_a", "name": "name_a"}
    )
    ub = unit_status(b.compliance, b.standards_info).rename(
        columns={"status": "status_b", "failed": "failed_b", "name": "name_b"}
    )
    lists = ["no_data", "at_risk"]
    m = ua.drop(columns=lists).merge(ub.drop(columns=lists), on=keys, how="outer")
    m["name"] = m["name_b"].where(m["name_b"].notna(), m["name_a"]).fillna("")
    m["change"] = [classify_change(x, y) for x, y in zip(m["status_a"], m["status_b"], strict=True)]
    m["failed_b"] = [f if isinstance(f, list) else [] for f in m["failed_b"]]
    m["failed_a"] = [f if isinstance(f, list) else [] for f in m["failed_a"]]
    m = _sorted(m, ["admin_code", "standard"])
    return m[[*keys, "name", "status_a", "status_b", "change", "failed_a", "failed_b"]]


def compute_comparison(a: RunTables, b: RunTables, force: bool = False) -> Comparison:
    """Compare run ``a`` (earlier) with run ``b`` (later).

    Raises
    ------
    RunError
        When the runs used different standards (ids or versions) or grids (CRS, resolution,
        extent) and ``force`` is false.
    """
    reasons = comparability(a, b)
    if reasons and not force:
        where_a = str(a.path) if a.path else a.label
        where_b = str(b.path) if b.path else b.label
        raise RunError(
            f"cannot compare {where_a} with {where_b}: "
            + "; ".join(reasons)
            + ". Their figures would not mean the same thing; compare runs made with the same "
            "standards and grid, or pass force=True (gigacov compare --force) to compare anyway"
        )
    for r in reasons:
        log.warning("comparison forced although %s", r)
    labeler = Labeler("both", b.definitions or a.definitions)
    changes = _indicator_changes(a, b, labeler)
    notes = years_notes(a, b) + partial_rollups(a, b, changes)
    for note in notes:
        log.warning("%s", note)
    return Comparison(
        a=a,
        b=b,
        indicator_changes=changes,
        status_changes=_status_changes(a, b),
        unit_changes=_unit_changes(a, b),
        reasons=reasons,
        forced=bool(reasons),
        notes=notes,
    )


def compare_runs(
    run_a: str | Path, run_b: str | Path, out_dir: str | Path | None = None, force: bool = False
) -> dict[str, Path]:
    """Year-over-year comparison of two run directories (A earlier, B later).

    Writes ``comparison.xlsx`` and ``comparison.html`` (atomically) into ``out_dir``
    (default: ``run_b``).

    Parameters
    ----------
    run_a, run_b
        Run directories, each with ``manifest.json``, ``compliance.csv`` and ``indicators.gpkg``.
    out_dir
        Where to write; created if missing.
    force
        Compare even when the standards or grids differ (the outputs then say so).

    Returns
    -------
    dict
        ``{"workbook": Path, "report": Path}`` (``comparison.xlsx``, ``comparison.html``).

    Raises
    ------
    RunError
        A folder is not a complete run (names what is missing), or the runs are not comparable
        and ``force`` is false.
    """
    from ..staging import recover
    from .charts import find_cjk_font
    from .comparison_workbook import write_comparison_workbook
    from .html import write_comparison_html

    for folder in (run_a, run_b):
        recover(folder)  # a run killed while it was being moved in is completed first
    a = load_run(run_a)
    b = load_run(run_b)
    cmp = compute_comparison(a, b, force=force)
    font = find_cjk_font()  # before writing anything: no font, no half set of outputs
    out = Path(out_dir) if out_dir is not None else Path(run_b)
    xlsx = write_comparison_workbook(cmp, out / "comparison.xlsx")
    html = write_comparison_html(cmp, out / "comparison.html", font=font)
    log.info("comparison written: %s, %s", xlsx, html)
    return {"workbook": xlsx, "report": html}
