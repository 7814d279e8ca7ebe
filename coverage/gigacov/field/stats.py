"""Statistics of the field check: error summaries, a robust location fit, the binomial tail.

Plain NumPy; everything here works on arrays and returns numbers or plain dicts (JSON-able).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "error_stats",
    "binomial_sf",
    "huber_fit",
    "robust_sigma",
    "DISTANCE_BANDS_M",
    "distance_band",
]

#: Distance bands (metres from the predicted serving cell) of the breakdown.
DISTANCE_BANDS_M = (0.0, 250.0, 500.0, 1000.0, 2000.0, 5000.0, math.inf)


def distance_band(d_m: np.ndarray) -> np.ndarray:
    """Band label per distance: ``"0-250 m"``, …, ``"≥5000 m"``; ``"no server"`` for NaN."""
    d = np.asarray(d_m, dtype=np.float64)
    labels = []
    for lo, hi in zip(DISTANCE_BANDS_M[:-1], DISTANCE_BANDS_M[1:], strict=True):
        labels.append(f"{lo:g}-{hi:g} m" if math.isfinite(hi) else f"≥{lo:g} m")
    idx = np.searchsorted(np.asarray(DISTANCE_BANDS_M[1:-1]), d, side="right")
    out = np.array(labels, dtype=object)[np.clip(idx, 0, len(labels) - 1)]
    out[~np.isfinite(d)] = "no server"
    return out


def error_stats(error: np.ndarray, agree: np.ndarray | None = None) -> dict[str, float | int]:
    """``n, mean_error_db, std_db, rmse_db`` (and ``verdict_agreement`` when ``agree`` is given).

    ``error`` is predicted − measured (dB); NaN entries are left out. ``std_db`` is the sample
    standard deviation (ddof = 1); with fewer than two values it is NaN.
    """
    e = np.asarray(error, dtype=np.float64)
    ok = np.isfinite(e)
    e = e[ok]
    n = int(e.size)
    out: dict[str, float | int] = {
        "n": n,
        "mean_error_db": float(e.mean()) if n else math.nan,
        "std_db": float(e.std(ddof=1)) if n > 1 else math.nan,
        "rmse_db": float(math.sqrt(np.mean(e * e))) if n else math.nan,
    }
    if agree is not None:
        a = np.asarray(agree, dtype=bool)[ok]
        out["verdict_agreement"] = float(a.mean()) if n else math.nan
    return out


def binomial_sf(k: int | np.ndarray, n: int | np.ndarray, p: float) -> np.ndarray:
    """P(X ≥ k) for X ~ Binomial(n, p), exactly (sum of the terms, in log space).

    Works on arrays of ``k`` and ``n`` (one tail per pair). ``k ≤ 0`` gives 1; ``k > n`` gives 0.
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p!r}")
    k_arr = np.atleast_1d(np.asarray(k, dtype=np.int64))
    n_arr = np.atleast_1d(np.asarray(n, dtype=np.int64))
    k_arr, n_arr = np.broadcast_arrays(k_arr, n_arr)
    out = np.empty(k_arr.shape, dtype=np.float64)
    lp, lq = math.log(p), math.log1p(-p)
    n_max = int(n_arr.max()) if n_arr.size else 0
    # log(i!) for i = 0 … n_max
    logfact = np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, n_max + 1, dtype=np.float64)))])
    for pos, (kk, nn) in enumerate(
        zip(k_arr.ravel().tolist(), n_arr.ravel().tolist(), strict=True)
    ):
        if kk <= 0:
            out.flat[pos] = 1.0
            continue
        if kk > nn:
            out.flat[pos] = 0.0
            continue
        i = np.arange(kk, nn + 1)
        lg = logfact[nn] - logfact[i] - logfact[nn - i] + i * lp + (nn - i) * lq
        m = lg.max()
        out.flat[pos] = float(min(1.0, math.exp(m) * np.exp(lg - m).sum()))
    return out if np.ndim(k) or np.ndim(n) else out[0]


def robust_sigma(r: np.ndarray) -> float:
    """Scale from the median absolute deviation (× 1.4826: σ for Gaussian data)."""
    r = np.asarray(r, dtype=np.float64)
    r = r[np.isfinite(r)]
    if r.size == 0:
        return math.nan
    return float(1.4826 * np.median(np.abs(r - np.median(r))))


def huber_fit(
    X: np.ndarray, y: np.ndarray, *, k: float = 1.345, max_iter: int = 30, tol: float = 1e-3
) -> tuple[np.ndarray, np.ndarray, float]:
    """Robust linear fit ``y ≈ X·β`` by iteratively reweighted least squares (Huber weights).

    The scale is estimated from the MAD of the residuals in the first three steps (then kept,
    so a step costs O(n) without sorting); a residual beyond
    ``k`` scales gets weight ``k·s / |r|`` (so a gross outlier counts for little). Columns of
    ``X`` that are all zero get β = 0.

    Returns ``(beta, weights, scale)``.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n, p = X.shape
    w = np.ones(n)
    beta = np.zeros(p)
    used = np.abs(X).sum(axis=0) > 0
    scale = math.nan
    if n == 0 or not used.any():
        return beta, w, scale
    Xu = X[:, used]
    for _ in range(max_iter):
        # weighted normal equations (p is small: one column per clutter class, ×2 with slopes)
        xtw = Xu.T * w
        b = np.linalg.lstsq(xtw @ Xu, xtw @ y, rcond=None)[0]
        r = y - Xu @ b
        if _ < 3 or not scale > 0:  # the scale settles in a few steps; then only β moves
            scale = robust_sigma(r)
            if not scale > 0:
                scale = float(np.std(r)) or 1e-9
        a = np.abs(r) / scale
        w_new = np.where(a <= k, 1.0, k / np.maximum(a, 1e-12))
        done = np.max(np.abs(b - beta[used])) < tol if _ else False
        beta[used] = b
        w = w_new
        if done:
            break
    return beta, w, scale
