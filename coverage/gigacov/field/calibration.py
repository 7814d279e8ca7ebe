"""Calibration of the propagation model against field measurements.

The model is adjusted per clutter class (urban, suburban, rural) by an offset added to its path
loss and, optionally, a distance slope (dB per decade of 3-D distance, about 1 km)::

    PL_calibrated = PL + offset[class] + slope[class] · (log10(d3d / 1 m) − 3)

Every cell at a pixel of one class gets the same correction, so the best server does not change
and the predicted RSRP at a sample moves by exactly that amount; the fit is therefore a linear
regression of the error (predicted − measured RSRP) on the class (and the log-distance).

* **Robust.** Huber M-estimation (iteratively reweighted least squares, scale from the MAD): a
  few gross outliers (a sample taken inside a car park, a mis-logged position) count for little.
  The number of samples it down-weighted, and of those beyond 3 scales, is reported.
* **Validated by spatial cross-validation.** Samples are grouped into square blocks of
  ``[measurements] cv_block_m`` in the grid CRS; the blocks (not the samples) are dealt into
  ``cv_folds`` folds at random (seeded), each fold is predicted by a fit on the others. Along a
  drive route neighbouring samples share their shadowing, so random folds would leak and flatter
  the fit; block folds do not. ``after`` is measured on those held-out predictions only.
* A class with fewer than :data:`MIN_CLASS_SAMPLES` compared samples is not fitted (offset 0,
  said so in ``calibration.json``).

``calibration.toml`` holds the corrections per technology; a scenario applies it with
``[radio] calibration = "calibration.toml"`` (the run's manifest and report then say so). Fitted
on a run that already applied a calibration, the new file holds the sum of both.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..radio.calibration import read_calibration
from ..rundir import write_atomic
from .check import CLUTTER_NAMES, json_safe
from .stats import error_stats, huber_fit

__all__ = [
    "MIN_CLASS_SAMPLES",
    "fit_calibration",
    "write_calibration",
    "read_calibration",
    "spatial_folds",
]

MIN_CLASS_SAMPLES = 30
_CLASSES = tuple(CLUTTER_NAMES)  # 1, 2, 3


def spatial_folds(x: np.ndarray, y: np.ndarray, block_m: float, folds: int, seed: int = 0):
    """Fold number per sample: square blocks of ``block_m`` dealt into ``folds`` folds at random.

    Returns ``(fold, n_blocks, n_folds)``; ``n_folds`` is smaller than ``folds`` when there are
    fewer blocks.
    """
    bx = np.floor(np.asarray(x) / block_m).astype(np.int64)
    by = np.floor(np.asarray(y) / block_m).astype(np.int64)
    key = (bx - bx.min()) * (int(by.max() - by.min()) + 1) + (by - by.min()) if bx.size else bx
    keys, block = np.unique(key, return_inverse=True)
    block = np.asarray(block).ravel()
    n_blocks = len(keys)
    k = min(int(folds), n_blocks)
    rng = np.random.default_rng(seed)
    order = rng.permutation(n_blocks)
    fold_of_block = np.empty(n_blocks, dtype=np.int64)
    fold_of_block[order] = np.arange(n_blocks) % max(k, 1)
    return fold_of_block[block], n_blocks, k


def _design(cls: np.ndarray, lg: np.ndarray, fitted: list[int], slope: bool) -> np.ndarray:
    cols = [(cls == c).astype(np.float64) for c in fitted]
    if slope:
        cols += [np.where(cls == c, lg - 3.0, 0.0) for c in fitted]
    return np.stack(cols, axis=1) if cols else np.zeros((cls.size, 0))


def _fit_tech(part: pd.DataFrame, thr: dict[str, float], *, folds, block_m, fit_slope, seed):
    e = part["error_rsrp_db"].to_numpy(dtype=np.float64)
    cls = part["clutter_class"].to_numpy(dtype=np.int64)
    d3 = part["distance_3d_m"].to_numpy(dtype=np.float64)
    lg = np.log10(np.maximum(np.where(np.isfinite(d3), d3, 1000.0), 1.0))
    n_by_class = {CLUTTER_NAMES[c]: int((cls == c).sum()) for c in _CLASSES}
    fitted = [c for c in _CLASSES if (cls == c).sum() >= MIN_CLASS_SAMPLES]
    rows = np.isin(cls, fitted)
    X = _design(cls, lg, fitted, fit_slope)
    beta, w, scale = huber_fit(X[rows], e[rows])
    offsets = {CLUTTER_NAMES[c]: 0.0 for c in _CLASSES}
    slopes = {CLUTTER_NAMES[c]: 0.0 for c in _CLASSES}
    for j, c in enumerate(fitted):
        offsets[CLUTTER_NAMES[c]] = float(beta[j])
        if fit_slope:
            slopes[CLUTTER_NAMES[c]] = float(beta[len(fitted) + j])
    resid = e[rows] - X[rows] @ beta
    has_sinr = np.isfinite(part["sinr_db"].to_numpy())
    meas_cov = part["meas_covered"].to_numpy(dtype=bool)
    pred_rsrp = part["pred_rsrp_dbm"].to_numpy(dtype=np.float64)
    pred_sinr = part["pred_sinr_db"].to_numpy(dtype=np.float64)
    sinr_ok = np.where(has_sinr, np.nan_to_num(pred_sinr, nan=-np.inf) >= thr["sinr_db"], True)

    def verdict(correction: np.ndarray) -> np.ndarray:
        return (np.nan_to_num(pred_rsrp - correction, nan=-np.inf) >= thr["rsrp_dbm"]) & sinr_ok

    before = error_stats(e, verdict(np.zeros_like(e)) == meas_cov)
    # Spatial cross-validation: every sample predicted by a fit that never saw its block.
    fold, n_blocks, k = spatial_folds(
        part["x"].to_numpy(), part["y"].to_numpy(), block_m, folds, seed
    )
    held = np.full(e.size, np.nan)
    correction = np.zeros(e.size)
    if k >= 2:
        for f in range(k):
            train = (fold != f) & rows
            test = (fold == f) & rows
            if not test.any():
                continue
            fitted_f = [c for c in fitted if ((cls == c) & train).sum() >= MIN_CLASS_SAMPLES]
            Xf = _design(cls, lg, fitted_f, fit_slope)
            b_f, _, _ = huber_fit(
                Xf[train & np.isin(cls, fitted_f)], e[train & np.isin(cls, fitted_f)]
            )
            corr = Xf[test] @ b_f
            held[test] = e[test] - corr
            correction[test] = corr
        held[~rows] = e[~rows]  # classes not fitted keep the uncalibrated prediction
        after = error_stats(held, verdict(correction) == meas_cov)
    else:
        after = {**error_stats(np.array([])), "verdict_agreement": math.nan}
    return {
        "n": int(e.size),
        "n_by_class": n_by_class,
        "fitted_classes": [CLUTTER_NAMES[c] for c in fitted],
        "offsets_db": offsets,
        "slopes_db_per_decade": slopes if fit_slope else None,
        "robust_sigma_db": float(scale) if np.isfinite(scale) else math.nan,
        "downweighted": int((w < 1.0).sum()),
        "outliers_beyond_3_sigma": int((np.abs(resid) > 3.0 * scale).sum())
        if np.isfinite(scale)
        else 0,
        "before": before,
        "after": after,
        "in_sample": error_stats(resid),
        "cv": {"folds": int(k), "block_m": float(block_m), "blocks": int(n_blocks), "seed": seed},
    }


def fit_calibration(
    compared: pd.DataFrame,
    coverage: dict[str, Any],
    *,
    folds: int = 5,
    block_m: float = 5000.0,
    fit_slope: bool = False,
    seed: int = 0,
) -> dict[str, Any]:
    """Fit the corrections per technology from field-check samples (see the module docstring).

    ``compared`` are the rows of :attr:`FieldCheck.samples` with a finite ``error_rsrp_db``;
    ``coverage`` the run's results (for thresholds and a calibration already applied).
    Returns the content of ``calibration.json``.
    """
    out: dict[str, Any] = {"technologies": {}}
    for tech, part in compared.groupby("tech", sort=True):
        cov = coverage.get(tech)
        if cov is None or len(part) == 0:
            continue
        thr = {"rsrp_dbm": cov.params.rsrp_threshold_dbm, "sinr_db": cov.params.sinr_threshold_db}
        res = _fit_tech(
            part.reset_index(drop=True),
            thr,
            folds=folds,
            block_m=block_m,
            fit_slope=fit_slope,
            seed=seed,
        )
        prior_o = dict(zip(CLUTTER_NAMES.values(), cov.params.calibration_offsets_db, strict=True))
        prior_s = dict(zip(CLUTTER_NAMES.values(), cov.params.calibration_slopes_db, strict=True))
        res["model"] = cov.params.model
        res["applied_before"] = (
            {"file": cov.params.calibration, "offsets_db": prior_o, "slopes_db_per_decade": prior_s}
            if cov.params.calibrated
            else None
        )
        res["total_offsets_db"] = {k: prior_o[k] + v for k, v in res["offsets_db"].items()}
        res["total_slopes_db_per_decade"] = {
            k: prior_s[k] + (res["slopes_db_per_decade"] or {}).get(k, 0.0) for k in prior_s
        }
        out["technologies"][str(tech)] = res
    techs = out["technologies"]
    main = "5G" if "5G" in techs else next(iter(techs), None)
    if main is not None:
        t = techs[main]
        out.update(
            tech=main,
            n=t["n"],
            offsets_db=t["offsets_db"],
            before={k: t["before"][k] for k in ("mean_error_db", "std_db", "rmse_db")},
            after={k: t["after"][k] for k in ("mean_error_db", "std_db", "rmse_db")},
            downweighted=t["downweighted"],
        )
    else:
        out.update(tech=None, n=0, offsets_db={}, before={}, after={}, downweighted=0)
    return out


def write_calibration(cal: dict[str, Any], folder: Path, *, scenario: str = "") -> dict[str, Path]:
    """Write ``calibration.json`` and ``calibration.toml`` into ``folder`` (atomically)."""
    from .. import __version__

    folder = Path(folder)
    created = datetime.now(UTC).isoformat(timespec="seconds")
    doc = {"tool": "gigacov", "tool_version": __version__, "created_utc": created, **cal}
    lines = [
        "# Propagation-model calibration fitted by `gigacov calibrate` to field measurements.",
        '# Apply it in a scenario with [radio] calibration = "calibration.toml".',
        "# Path loss += offset_db[class] + slope[class] * (log10(distance_m) - 3), per clutter class.",
        "",
        "[calibration]",
        f'tool_version = "{__version__}"',
        f'created_utc = "{created}"',
        f"scenario = {json.dumps(scenario, ensure_ascii=False)}",
        "",
    ]
    for tech, t in cal.get("technologies", {}).items():
        offs = ", ".join(f"{k} = {v:.3f}" for k, v in t["total_offsets_db"].items())
        slopes = ", ".join(f"{k} = {v:.3f}" for k, v in t["total_slopes_db_per_decade"].items())
        before, after = t["before"], t["after"]
        lines += [
            f'[calibration."{tech}"]',
            f'model = "{t["model"]}"',
            f"n = {t['n']}",
            f"offsets_db = {{ {offs} }}",
            f"slopes_db_per_decade = {{ {slopes} }}",
            f"# RMSE before {before['rmse_db']:.2f} dB, after {after['rmse_db']:.2f} dB "
            f"(held-out, {t['cv']['folds']} spatial folds)",
            "",
        ]
    paths = {
        "calibration_json": folder / "calibration.json",
        "calibration_toml": folder / "calibration.toml",
    }
    text = json.dumps(json_safe(doc), ensure_ascii=False, indent=2)
    write_atomic(paths["calibration_json"], lambda p: p.write_text(text, "utf-8"))
    write_atomic(paths["calibration_toml"], lambda p: p.write_text("\n".join(lines), "utf-8"))
    return paths
