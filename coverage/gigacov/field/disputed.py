"""Disputed areas: H3 hexagons where the measurements contradict the prediction.

Samples are aggregated into H3 cells (resolution ``[measurements] h3_resolution``, 8 by default:
about 0.74 km² per hexagon, as the FCC's Broadband Data Collection uses for mobile challenges).
A hexagon's *predicted verdict* is the verdict at the majority of its samples' pixels. Then:

* predicted **covered**: the hexagon is disputed when the share of its samples measured *not*
  covered is significantly above ``disputed_share`` (10 %): one-sided exact binomial test,
  H0: p ≤ 0.10, rejected when P(X ≥ k | n, 0.10) < 1 − ``disputed_confidence`` (0.05);
* predicted **not covered**: the reverse — disputed when the share measured *covered* is
  significantly above 10 %.

Only hexagons with at least ``disputed_min_samples`` samples are tested. :func:`verdict_changes`
takes every disputed hexagon at its measured value (sets the covered raster inside it to the
measured verdict), recomputes the indicators and the compliance, and names each county whose
status under a standard would change.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .stats import binomial_sf

__all__ = ["hex_ids", "disputed_hexagons", "verdict_changes", "DISPUTED_COLUMNS"]

log = logging.getLogger(__name__)

DISPUTED_COLUMNS = [
    "hex_id",
    "tech",
    "n",
    "n_measured_covered",
    "n_measured_not_covered",
    "share_measured_covered",
    "share_measured_not_covered",
    "share_predicted_covered",
    "predicted_verdict",
    "p_value",
    "tested",
    "disputed",
    "dispute",
    "mean_error_rsrp_db",
    "admin_code",
    "county",
]


def hex_ids(lon: np.ndarray, lat: np.ndarray, resolution: int) -> np.ndarray:
    """H3 cell id (hex string) of every point (WGS84), with the ``h3`` library."""
    import h3
    from h3.api import basic_int

    f = basic_int.latlng_to_cell
    ints = np.fromiter(
        (
            f(la, lo, resolution)
            for lo, la in zip(np.asarray(lon).tolist(), np.asarray(lat).tolist(), strict=True)
        ),
        dtype=np.uint64,
        count=len(lon),
    )
    uniq, inverse = np.unique(ints, return_inverse=True)
    names = np.array([h3.int_to_str(int(v)) for v in uniq], dtype=object)
    return names[np.asarray(inverse).ravel()] if len(names) else np.array([], dtype=object)


def _hex_polygon(h: str):
    import h3

    ring = [(lo, la) for la, lo in h3.cell_to_boundary(h)]
    return shapely.Polygon(ring)


def disputed_hexagons(
    samples: pd.DataFrame,
    *,
    resolution: int = 8,
    min_samples: int = 10,
    share: float = 0.10,
    confidence: float = 0.95,
    county_names: dict[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """One row per technology × hexagon with samples (:data:`DISPUTED_COLUMNS` + geometry).

    ``samples`` are the compared samples of the field check (``meas_covered``,
    ``pred_covered``, ``error_rsrp_db``, ``admin_code``, ``lon``, ``lat``, ``tech``).
    """
    county_names = county_names or {}
    df = samples[
        ["lon", "lat", "tech", "meas_covered", "pred_covered", "error_rsrp_db", "admin_code"]
    ].copy()
    df["admin_code"] = df["admin_code"].fillna("").astype(str)
    if len(df) == 0:
        return gpd.GeoDataFrame(
            {c: pd.Series(dtype=object) for c in DISPUTED_COLUMNS}, geometry=[], crs="EPSG:4326"
        )
    df["hex_id"] = hex_ids(df["lon"].to_numpy(), df["lat"].to_numpy(), resolution)
    df["mc"] = df["meas_covered"].astype(np.int64)
    df["pc"] = df["pred_covered"].astype(np.int64)
    g = df.groupby(["tech", "hex_id"], sort=True)
    agg = g.agg(
        n=("mc", "size"),
        n_measured_covered=("mc", "sum"),
        n_pred_covered=("pc", "sum"),
        mean_error_rsrp_db=("error_rsrp_db", "mean"),
    ).reset_index()
    # county of a hexagon: the one most of its samples lie in (ties: the smaller code)
    counts = (
        df.groupby(["tech", "hex_id", "admin_code"], sort=True).size().rename("k").reset_index()
    )
    counts = counts.sort_values(["tech", "hex_id", "k", "admin_code"], ascending=[1, 1, 0, 1])
    first = counts.drop_duplicates(["tech", "hex_id"], keep="first")
    agg = agg.merge(first[["tech", "hex_id", "admin_code"]], on=["tech", "hex_id"], how="left")
    n = agg["n"].to_numpy(dtype=np.int64)
    k_cov = agg["n_measured_covered"].to_numpy(dtype=np.int64)
    k_not = n - k_cov
    pred_cov = agg["n_pred_covered"].to_numpy() * 2 >= n
    tested = n >= min_samples
    # The count that contradicts the prediction, and its upper-tail probability under H0.
    k_contra = np.where(pred_cov, k_not, k_cov)
    p = binomial_sf(k_contra, n, share)
    alpha = 1.0 - confidence
    disputed = tested & (p < alpha)
    out = pd.DataFrame(
        {
            "hex_id": agg["hex_id"],
            "tech": agg["tech"],
            "n": n,
            "n_measured_covered": k_cov,
            "n_measured_not_covered": k_not,
            "share_measured_covered": k_cov / n,
            "share_measured_not_covered": k_not / n,
            "share_predicted_covered": agg["n_pred_covered"].to_numpy() / n,
            "predicted_verdict": np.where(pred_cov, "covered", "not_covered"),
            "p_value": p,
            "tested": tested,
            "disputed": disputed,
            "dispute": np.where(
                disputed,
                np.where(
                    pred_cov, "predicted_covered_measured_not", "predicted_not_measured_covered"
                ),
                "",
            ),
            "mean_error_rsrp_db": agg["mean_error_rsrp_db"],
            "admin_code": agg["admin_code"].astype(str),
        }
    )
    out["county"] = [county_names.get(c, "") for c in out["admin_code"]]
    geoms = [_hex_polygon(h) for h in out["hex_id"]]
    return gpd.GeoDataFrame(out, geometry=geoms, crs="EPSG:4326")


def county_table(hexes: pd.DataFrame) -> pd.DataFrame:
    """Per technology and county: hexagons with samples, tested, disputed either way."""
    if len(hexes) == 0:
        return pd.DataFrame(
            columns=[
                "tech",
                "admin_code",
                "county",
                "hexagons",
                "tested",
                "disputed_not_covered",
                "disputed_covered",
            ]
        )
    h = pd.DataFrame(hexes.drop(columns="geometry"))
    h["d_not"] = h["dispute"] == "predicted_covered_measured_not"
    h["d_cov"] = h["dispute"] == "predicted_not_measured_covered"
    return (
        h.groupby(["tech", "admin_code", "county"], sort=True)
        .agg(
            hexagons=("hex_id", "size"),
            tested=("tested", "sum"),
            disputed_not_covered=("d_not", "sum"),
            disputed_covered=("d_cov", "sum"),
        )
        .reset_index()
    )


def verdict_changes(result, hexes: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """Counties whose status would change if the disputed hexagons took their measured value.

    The covered raster of each technology is set, inside every disputed hexagon of that
    technology, to the measured verdict; indicators and compliance are recomputed with the run's
    standards. Returns one entry per county and standard whose overall status changes:
    ``admin_code, name, standard, status_before, status_after, indicators`` (the indicators whose
    status changes, ``key: before → after``).
    """
    from rasterio.features import rasterize

    from ..compliance import evaluate, unit_status
    from ..indicators import compute_indicators

    disp = hexes[hexes["disputed"]] if len(hexes) else hexes
    if len(disp) == 0 or result.compliance is None or result.grid is None:
        return []
    grid = result.grid
    coverage = dict(result.coverage)
    for tech, part in disp.groupby("tech"):
        cov = coverage.get(tech)
        if cov is None:
            continue
        proj = part.to_crs(grid.crs)
        value = np.where(part["dispute"] == "predicted_not_measured_covered", 2, 1)
        burn = rasterize(
            zip(proj.geometry, value.tolist(), strict=True),
            out_shape=grid.shape,
            transform=grid.transform,
            fill=0,
            dtype="uint8",
        )
        covered = np.array(cov.covered, copy=True)
        covered[burn == 1] = 0
        covered[burn == 2] = 1
        coverage[tech] = replace(cov, covered=covered)
    ind = compute_indicators(result.inputs, grid, result.population, coverage)
    comp = evaluate(ind, result.standards)
    before = unit_status(result.compliance, result.standards)
    after = unit_status(comp, result.standards)
    key = ["admin_code", "standard"]
    m = before.merge(after, on=key, suffixes=("_before", "_after"))
    m = m[(m["level_before"] == "county") & (m["status_before"] != m["status_after"])]
    out = []
    cb = result.compliance
    for row in m.itertuples(index=False):
        a = cb[(cb["admin_code"] == row.admin_code) & (cb["standard"] == row.standard)]
        b = comp[(comp["admin_code"] == row.admin_code) & (comp["standard"] == row.standard)]
        j = a.merge(b, on="indicator", suffixes=("_b", "_a"))
        j = j[j["status_b"] != j["status_a"]]
        out.append(
            {
                "admin_code": str(row.admin_code),
                "name": str(row.name_before),
                "standard": str(row.standard),
                "status_before": str(row.status_before),
                "status_after": str(row.status_after),
                "indicators": [
                    f"{r.indicator}: {r.status_b} → {r.status_a}" for r in j.itertuples(index=False)
                ],
            }
        )
    return out
