"""Cells as transmitters and as servers of operators' users: a shared cell that several sharing
operators list is one transmitter (:func:`transmitters`); a cell serves its own operator's users,
and every sharing operator's in a declared shared network (:func:`cells_serving`)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from .cell_carriers import SERVES_SEP, carrier_span
from .operator_names import OPERATORS, cached_normaliser

__all__ = [
    "transmitters",
    "serving_mask",
    "cells_serving",
    "operators_present",
    "operator_sites",
]

log = logging.getLogger(__name__)


def transmitters(cells: pd.DataFrame, tolerance_m: float = 1.0) -> pd.DataFrame:
    """The cells as transmitters: a shared cell listed by several sharing operators counts once.

    Cells of a declared shared network (``serves`` names several operators) that stand at the
    same position (within ``tolerance_m``), point the same way (or are both omni), use the same
    technology and carrier, and are listed under different operators are one physical cell: the
    first listed is kept. Every other cell is kept as it is. Returns a new frame (index reset).
    """
    if len(cells) == 0 or "serves" not in cells.columns:
        return cells.reset_index(drop=True)
    multi = cells["serves"].astype(str).str.contains(SERVES_SEP, regex=False).to_numpy()
    if not multi.any():
        return cells.reset_index(drop=True)
    lo, hi = carrier_span(cells)
    lat = cells["lat"].to_numpy(dtype=np.float64)
    lon = cells["lon"].to_numpy(dtype=np.float64)
    # ~1 m grid in degrees at China's latitudes
    step = tolerance_m / 111_000.0
    az = (
        pd.to_numeric(cells.get("azimuth_deg"), errors="coerce").to_numpy(dtype=np.float64)
        if "azimuth_deg" in cells.columns
        else np.full(len(cells), np.nan)
    )
    key = pd.DataFrame(
        {
            "x": np.round(lon / step).astype(np.int64),
            "y": np.round(lat / step).astype(np.int64),
            "az": np.where(np.isfinite(az), np.round(np.nan_to_num(az) % 360.0), -1.0),
            "tech": cells["tech"].astype(str).to_numpy(),
            "lo": lo,
            "hi": hi,
            "op": cells["operator"].astype(str).to_numpy(),
        }
    )
    dup = np.zeros(len(cells), dtype=bool)
    sub = key[multi]
    first_op = sub.groupby(["x", "y", "az", "tech", "lo", "hi"], sort=False)["op"].transform(
        "first"
    )
    repeated = sub.duplicated(["x", "y", "az", "tech", "lo", "hi"], keep="first")
    # the same operator listing two cells at one spot is not sharing: keep both
    dup[np.flatnonzero(multi)] = (repeated & (sub["op"] != first_op)).to_numpy()
    if dup.any():
        log.info(
            "%d shared cell(s) listed by a second operator count once as transmitters",
            int(dup.sum()),
        )
    return cells[~dup].reset_index(drop=True)


def serving_mask(cells: pd.DataFrame, operator: str) -> np.ndarray:
    """Boolean per cell: it serves ``operator``'s users (its own and the shared cells)."""
    if len(cells) == 0:
        return np.zeros(0, dtype=bool)
    if "serves" in cells.columns:
        serves = cells["serves"].astype(str)
        mask = serves.str.split(SERVES_SEP, regex=False).map(lambda ops: operator in ops)
    else:
        mask = cells["operator"].map(cached_normaliser()) == operator
    return mask.to_numpy(dtype=bool)


def cells_serving(cells: pd.DataFrame, operator: str) -> pd.DataFrame:
    """The cells that serve ``operator``'s users (its own and the shared ones), index reset."""
    return cells[serving_mask(cells, operator)].reset_index(drop=True)


def operators_present(cells: pd.DataFrame, tech: str | None = "5G") -> list[str]:
    """Known operators with cells (of ``tech``) serving them, in :data:`OPERATORS` order."""
    if cells is None or len(cells) == 0:
        return []
    c = cells if tech is None else cells[cells["tech"].astype(str).str.upper() == tech]
    if "serves" in c.columns:
        named: set[str] = set()
        for s in pd.unique(c["serves"].astype(str)):
            named.update(s.split(SERVES_SEP))
    else:
        named = set(c["operator"].map(cached_normaliser()))
    return [o for o in OPERATORS if o in named]


def operator_sites(cells: pd.DataFrame, operator: str) -> pd.DataFrame:
    """Cells whose listed operator is ``operator`` (its own sites, not the partner's)."""
    if len(cells) == 0:
        return cells
    return cells[cells["operator"].map(cached_normaliser()) == operator]
