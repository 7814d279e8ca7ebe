"""Prediction versus measurement: the engine's value at every sample's pixel, and the errors.

For each radio sample (5G or 4G) the prediction is read from the coverage rasters of its
technology at the pixel that contains it: best-server RSRP, SINR, the covered verdict, the
serving cell, and the clutter class of the pixel. Those rasters are the ones every coverage
verdict of the run comes from, so the check tests exactly what gigacov publishes.

**Operators.** The run's rasters take the best server of *all* operators' cells. A sample that
names its operator, in a run whose cells serve more than one operator for its technology, is
compared with a prediction from the cells that serve that operator's users
(:func:`gigacov.operators.cells_serving`: its own, and its partners' where ``[radio] shared``
declares a shared network such as 中国电信 + 中国联通 on n78): the same engine with the same
settings, on the part of the grid its samples span. A sample whose operator has no cells in the
sites file is not compared (counted as ``no_cells_of_operator``).

**Verdicts.** A sample is *measured covered* when its RSRP ≥ the technology's RSRP threshold and,
when it has a SINR, its SINR ≥ the SINR threshold; the prediction's verdict at the sample uses the
same quantities (the predicted RSRP, and the predicted SINR only where a SINR was measured), so
the two verdicts are compared like for like. Indoor samples are left out (the model predicts
outdoor levels) unless ``[measurements] include_indoor``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..grid import Grid
from ..radio.calibration import CLUTTER_NAMES
from ..radio.models import SUBURBAN
from ..radio_defaults import UE_HEIGHT_M
from .stats import distance_band, error_stats

__all__ = ["FieldCheck", "predict_samples", "field_check", "CLUTTER_NAMES"]

log = logging.getLogger(__name__)


@dataclass
class FieldCheck:
    """Predicted versus measured, per sample, and the summary written to ``field_check.json``."""

    samples: pd.DataFrame
    """The radio samples with ``pred_rsrp_dbm, pred_sinr_db, pred_covered, meas_covered,
    error_rsrp_db, error_sinr_db, clutter, distance_m, distance_band, basis, status``
    (``compared`` or why not) and ``x, y`` (grid CRS)."""
    summary: dict[str, Any] = field(default_factory=dict)


def _pixel_values(cov, rows, cols) -> dict[str, np.ndarray]:
    rsrp = np.asarray(cov.rsrp_dbm[rows, cols], dtype=np.float64)
    sinr = np.asarray(cov.sinr_db[rows, cols], dtype=np.float64)
    server = np.asarray(cov.server[rows, cols], dtype=np.int64)
    return {"rsrp": rsrp, "sinr": sinr, "server": server}


def predict_samples(
    samples: pd.DataFrame,
    grid: Grid,
    coverage: dict[str, Any],
    *,
    classes: np.ndarray | None = None,
    operator_coverage=None,
    include_indoor: bool = False,
) -> pd.DataFrame:
    """The engine's prediction at every radio sample (see the module docstring).

    Parameters
    ----------
    samples
        Measurement samples (:data:`gigacov.field.MEASUREMENT_COLUMNS`, WGS84).
    grid
        The grid of the coverage rasters.
    coverage
        Technology → :class:`gigacov.radio.CoverageResult` of the run.
    classes
        Clutter class per pixel (1 urban, 2 suburban, 3 rural) as the engine used it, or None
        (every pixel suburban, as the engine then assumes).
    operator_coverage
        ``f(tech, group, rows, cols) -> CoverageResult-like window values`` (None: no
        per-operator predictions); see :func:`field_check`.
    include_indoor
        Compare indoor samples too.
    """
    df = samples[samples["tech"].isin(["5G", "4G"])].reset_index(drop=True).copy()
    n = len(df)
    x, y = grid.lonlat_to_xy(df["lon"].to_numpy(), df["lat"].to_numpy())
    rows, cols = grid.rowcol(x, y)
    inside = grid.contains_rowcol(rows, cols)
    df["x"], df["y"] = x, y
    df["row"], df["col"] = np.where(inside, rows, -1), np.where(inside, cols, -1)
    status = np.full(n, "compared", dtype=object)
    status[~inside] = "outside_grid"
    if not include_indoor:
        status[df["indoor"].to_numpy(dtype=bool) & inside] = "indoor"
    has_rsrp = np.isfinite(df["rsrp_dbm"].to_numpy())
    has_sinr = np.isfinite(df["sinr_db"].to_numpy())
    status[(status == "compared") & ~has_rsrp & ~has_sinr] = "no_radio_value"
    pred_rsrp = np.full(n, np.nan)
    pred_sinr = np.full(n, np.nan)
    server = np.full(n, -1, dtype=np.int64)
    cell_x = np.full(n, np.nan)
    cell_y = np.full(n, np.nan)
    cell_h = np.full(n, np.nan)
    basis = np.full(n, "", dtype=object)
    thr_rsrp = np.full(n, np.nan)
    thr_sinr = np.full(n, np.nan)
    for tech in ("5G", "4G"):
        sel = np.flatnonzero((df["tech"].to_numpy() == tech) & inside)
        if sel.size == 0:
            continue
        cov = coverage.get(tech)
        if cov is None:
            status[sel[status[sel] == "compared"]] = "technology_not_computed"
            continue
        thr_rsrp[sel] = cov.params.rsrp_threshold_dbm
        thr_sinr[sel] = cov.params.sinr_threshold_db
        cells = cov.cells
        from ..operators import normalise_operator, operators_present

        ops_text = df["operator"].fillna("").astype(str)
        named = {o: (normalise_operator(o) if o else "") for o in pd.unique(ops_text)}
        sample_ops = ops_text.map(named).to_numpy()
        has_ops = "operator" in cells.columns or "serves" in cells.columns
        groups = (
            operators_present(cells, tech)
            if operator_coverage is not None and has_ops and (sample_ops[sel] != "").any()
            else []
        )
        by_group = len(groups) > 1
        plain = sel if not by_group else sel[sample_ops[sel] == ""]
        todo = [("all operators", plain, cov)]
        if by_group:
            for g in sorted(set(sample_ops[sel]) - {""}):
                idx = sel[sample_ops[sel] == g]
                if g not in groups:
                    status[idx[status[idx] == "compared"]] = "no_cells_of_operator"
                    continue
                todo.append((g, idx, None))
        for label, idx, src in todo:
            if idx.size == 0:
                continue
            if src is None:
                values = operator_coverage(
                    tech, label, df["row"].to_numpy()[idx], df["col"].to_numpy()[idx]
                )
                group_cells = values["cells"]
            else:
                values = _pixel_values(src, df["row"].to_numpy()[idx], df["col"].to_numpy()[idx])
                group_cells = cells
            pred_rsrp[idx] = values["rsrp"]
            pred_sinr[idx] = values["sinr"]
            server[idx] = values["server"]
            basis[idx] = label
            ok = values["server"] >= 0
            if ok.any() and len(group_cells):
                # cell positions once per cell, then indexed by each sample's server
                gx, gy = grid.lonlat_to_xy(
                    group_cells["lon"].to_numpy(dtype=np.float64),
                    group_cells["lat"].to_numpy(dtype=np.float64),
                )
                cell_x[idx[ok]] = gx[values["server"][ok]]
                cell_y[idx[ok]] = gy[values["server"][ok]]
                cell_h[idx[ok]] = group_cells["height_m"].to_numpy(dtype=np.float64)[
                    values["server"][ok]
                ]
    cls = np.full(n, SUBURBAN, dtype=np.int64)
    if classes is not None:
        r = df["row"].to_numpy()
        c = df["col"].to_numpy()
        ok = r >= 0
        cls[ok] = classes[r[ok], c[ok]]
    # Text columns as categoricals: cheap to build and to group by, whatever the string backend.
    df["clutter"] = pd.Categorical.from_codes(
        np.clip(cls - 1, 0, 2), categories=list(CLUTTER_NAMES.values())
    )
    df["clutter_class"] = cls
    df["pred_rsrp_dbm"] = pred_rsrp
    df["pred_sinr_db"] = pred_sinr
    df["server"] = server
    df["basis"] = pd.Categorical(basis)
    df["distance_m"] = np.hypot(x - cell_x, y - cell_y)
    df["distance_band"] = pd.Categorical(distance_band(df["distance_m"].to_numpy()))
    ue_h = UE_HEIGHT_M
    for cov in coverage.values():
        ue_h = cov.params.ue_height_m
        break
    df["distance_3d_m"] = np.hypot(df["distance_m"].to_numpy(), cell_h - ue_h)
    meas = df["rsrp_dbm"].to_numpy()
    meas_s = df["sinr_db"].to_numpy()
    with np.errstate(invalid="ignore"):
        meas_cov = np.where(has_rsrp, meas >= thr_rsrp, True) & np.where(
            has_sinr, meas_s >= thr_sinr, True
        )
        pred_cov = np.where(has_rsrp, np.nan_to_num(pred_rsrp, nan=-np.inf) >= thr_rsrp, True) & (
            np.where(has_sinr, np.nan_to_num(pred_sinr, nan=-np.inf) >= thr_sinr, True)
        )
    pred_cov &= server >= 0
    df["meas_covered"] = meas_cov
    df["pred_covered"] = pred_cov
    df["error_rsrp_db"] = np.where(has_rsrp & (status == "compared"), pred_rsrp - meas, np.nan)
    df["error_sinr_db"] = np.where(has_sinr & (status == "compared"), pred_sinr - meas_s, np.nan)
    df["status"] = pd.Categorical(status)
    return df


def _grouped_stats(labels, err: np.ndarray, agree: np.ndarray) -> dict[str, Any]:
    """:func:`error_stats` per label, vectorised (one pass of bincounts, no frame slicing)."""
    labels = pd.Series(labels)
    if isinstance(labels.dtype, pd.CategoricalDtype):
        codes = labels.cat.codes.to_numpy()
        uniques = list(labels.cat.categories)
    else:
        codes, uniques = pd.factorize(labels.astype(object), sort=True)
    k = len(uniques)
    n = np.bincount(codes, minlength=k).astype(np.float64)
    s1 = np.bincount(codes, weights=err, minlength=k)
    s2 = np.bincount(codes, weights=err * err, minlength=k)
    sa = np.bincount(codes, weights=agree.astype(np.float64), minlength=k)
    out = {}
    for i, label in enumerate(uniques):
        ni = n[i]
        if ni == 0:
            continue
        mean = s1[i] / ni
        var = (s2[i] - ni * mean * mean) / (ni - 1.0) if ni > 1 else math.nan
        name = "(not given)" if label in ("", None) else str(label)
        out[name] = {
            "n": int(ni),
            "mean_error_db": float(mean),
            "std_db": float(math.sqrt(max(var, 0.0))) if ni > 1 else math.nan,
            "rmse_db": float(math.sqrt(s2[i] / ni)),
            "verdict_agreement": float(sa[i] / ni),
        }
    return out


def summarise(df: pd.DataFrame, county_names: dict[str, str] | None = None) -> dict[str, Any]:
    """The statistics of ``field_check.json``: per technology, for RSRP and SINR, overall and by
    clutter class, county, operator and distance band, plus the sample accounting."""
    county_names = county_names or {}
    out: dict[str, Any] = {
        "samples": int(len(df)),
        "status": {
            str(k): int(v) for k, v in df["status"].value_counts().sort_index().items() if v
        },
        "technologies": {},
    }
    comp = df[df["status"] == "compared"].copy()
    comp["agree"] = comp["meas_covered"].to_numpy() == comp["pred_covered"].to_numpy()
    codes = comp["admin_code"].fillna("").astype(str)
    labels = {
        c: (f"{c} {county_names.get(c, '')}".strip() if c else "(outside the counties)")
        for c in pd.unique(codes)
    }
    comp["county"] = pd.Categorical(codes.map(labels))
    comp["operator_name"] = pd.Categorical(comp["operator"].fillna("").astype(str))
    for tech in sorted(pd.unique(comp["tech"])):
        part = comp[comp["tech"] == tech]
        entry: dict[str, Any] = {
            "n": int(len(part)),
            "measured_covered_share": float(part["meas_covered"].mean()),
            "predicted_covered_share": float(part["pred_covered"].mean()),
            "verdict_agreement": float(part["agree"].mean()),
            "predicted_covered_measured_not": int(
                (part["pred_covered"] & ~part["meas_covered"]).sum()
            ),
            "measured_covered_predicted_not": int(
                (~part["pred_covered"] & part["meas_covered"]).sum()
            ),
        }
        agree = part["agree"].to_numpy(dtype=bool)
        for what, err in (("rsrp", "error_rsrp_db"), ("sinr", "error_sinr_db")):
            e = part[err].to_numpy(dtype=np.float64)
            ok = np.isfinite(e)
            if not ok.any():
                continue
            e, a = e[ok], agree[ok]
            entry[what] = {"overall": error_stats(e, a)}
            for key, col in (
                ("by_clutter", "clutter"),
                ("by_county", "county"),
                ("by_operator", "operator_name"),
                ("by_distance_band", "distance_band"),
            ):
                entry[what][key] = _grouped_stats(part[col].iloc[np.flatnonzero(ok)], e, a)
        out["technologies"][str(tech)] = entry
    return out


def field_check(result, samples: pd.DataFrame | None = None) -> FieldCheck:
    """The field check of a run (:class:`gigacov.run_result.RunResult` after its coverage stage).

    Per-operator predictions (see the module docstring) are computed with
    :func:`gigacov.radio.compute_coverage` on the window of the grid that the operator's samples
    span, with the run's radio settings.
    """
    from ..radio import compute_coverage
    from ..radio.engine import clutter_classes

    scn = result.scenario
    samples = result.inputs.measurements if samples is None else samples
    grid = result.grid
    any_cov = next(iter(result.coverage.values()), None)
    classes = None
    if any_cov is not None:
        classes = clutter_classes(grid, any_cov.params, result.population, result.inputs.clutter)

    def operator_coverage(tech, group, rows, cols):
        from ..operators import cells_serving

        ready = (getattr(result, "coverage_by_operator", None) or {}).get(group)
        if tech == "5G" and ready is not None and ready.grid.same_as(grid):
            # [radio] per_operator: the run has this operator's rasters already
            values = _pixel_values(ready, rows, cols)
            values["cells"] = ready.cells
            return values
        cov = result.coverage[tech]
        sub_cells = cells_serving(cov.cells, group)
        r0, r1 = int(rows.min()), int(rows.max()) + 1
        c0, c1 = int(cols.min()), int(cols.max()) + 1
        from ..grid import Tile

        tile = Tile(r0, c0, r1 - r0, c1 - c0)
        sub = grid.subgrid(tile)
        pop = None if result.population is None else result.population[r0:r1, c0:c1]
        log.info(
            "field check: %s %s prediction from %d cells on %d×%d pixels",
            tech,
            group,
            len(sub_cells),
            tile.height,
            tile.width,
        )
        part = compute_coverage(
            sub_cells,
            sub,
            cov.params,
            population=pop,
            clutter=result.inputs.clutter,
            dem=result.inputs.dem,
            workers=scn.compute.workers,
            tile_size=scn.grid.tile_size,
            memory_budget_mb=scn.compute.memory_budget_mb,
        )
        values = _pixel_values(part, rows - r0, cols - c0)
        values["cells"] = sub_cells
        return values

    df = predict_samples(
        samples,
        grid,
        result.coverage,
        classes=classes,
        operator_coverage=operator_coverage,
        include_indoor=scn.measurements.include_indoor,
    )
    names = {}
    counties = result.inputs.counties
    if counties is not None and len(counties):
        names = dict(zip(counties["admin_code"].astype(str), counties["name"], strict=True))
    summary = summarise(df, names)
    summary["thresholds"] = {
        tech: {
            "rsrp_dbm": cov.params.rsrp_threshold_dbm,
            "sinr_db": cov.params.sinr_threshold_db,
        }
        for tech, cov in result.coverage.items()
    }
    summary["calibration_applied"] = {
        tech: (
            {
                "file": cov.params.calibration,
                "offsets_db": dict(
                    zip(CLUTTER_NAMES.values(), cov.params.calibration_offsets_db, strict=True)
                ),
            }
            if cov.params.calibrated
            else None
        )
        for tech, cov in result.coverage.items()
    }
    return FieldCheck(df, summary)


def json_safe(obj):
    """NaN / inf → None, NumPy scalars → Python (for ``json.dumps``)."""
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
