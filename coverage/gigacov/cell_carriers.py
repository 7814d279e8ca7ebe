"""Each cell's carrier and the operators it serves (:func:`resolve_carriers`), and how much two
carriers overlap (:func:`overlap_weights`, the interference weights of the radio engine)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .carrier_table import BAND_SNAP_MHZ, CarrierTable
from .operator_names import OPERATORS, cached_normaliser

__all__ = [
    "SERVES_SEP",
    "carrier_span",
    "overlap_weights",
    "carrier_groups",
    "CarrierSummary",
    "resolve_carriers",
]


#: Separator of the operators in a cell's ``serves`` column.
SERVES_SEP = ";"


def carrier_span(cells: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's carrier (low, high MHz): the resolved ``carrier_*_mhz`` columns where set,
    else ``freq_mhz`` ± half of ``bandwidth_mhz`` (a single frequency without a bandwidth)."""
    n = len(cells)
    f = (
        pd.to_numeric(cells["freq_mhz"], errors="coerce").to_numpy(dtype=np.float64)
        if n
        else np.zeros(0)
    )
    if "bandwidth_mhz" in cells.columns:
        bw = pd.to_numeric(cells["bandwidth_mhz"], errors="coerce").to_numpy(dtype=np.float64)
    else:
        bw = np.full(n, np.nan)
    half = np.where(np.isfinite(bw) & (bw > 0), bw / 2.0, 0.0)
    lo, hi = f - half, f + half
    if "carrier_low_mhz" in cells.columns and "carrier_high_mhz" in cells.columns:
        clo = pd.to_numeric(cells["carrier_low_mhz"], errors="coerce").to_numpy(dtype=np.float64)
        chi = pd.to_numeric(cells["carrier_high_mhz"], errors="coerce").to_numpy(dtype=np.float64)
        ok = np.isfinite(clo) & np.isfinite(chi) & (chi >= clo)
        lo = np.where(ok, clo, lo)
        hi = np.where(ok, chi, hi)
    return lo, hi


def overlap_weights(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``W[a, b]``: the share of carrier ``a`` that carrier ``b`` overlaps (0–1).

    A cell on carrier ``a`` sees an interferer on ``b`` with ``W[a, b]`` times its received power
    per resource element: the interferer's power falls on that share of the server's resource
    elements. Identical carriers give 1, disjoint (or merely touching) ones 0; a carrier without a
    width (a bare frequency) is hit fully by any carrier that holds its frequency.
    """
    lo = np.asarray(lo, dtype=np.float64)
    hi = np.asarray(hi, dtype=np.float64)
    width = hi - lo
    ov = np.minimum(hi[:, None], hi[None, :]) - np.maximum(lo[:, None], lo[None, :])
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(width[:, None] > 0, np.clip(ov, 0.0, None) / width[:, None], 0.0)
    point = width <= 0
    if point.any():
        inside = (lo[:, None] >= lo[None, :]) & (lo[:, None] <= hi[None, :])
        same = (lo[:, None] == lo[None, :]) & (hi[:, None] == hi[None, :])
        w = np.where(point[:, None], (inside & ((width[None, :] > 0) | same)).astype(np.float64), w)
    np.fill_diagonal(w, 1.0)
    return np.clip(w, 0.0, 1.0)


def carrier_groups(cells: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(group per cell (int64), W (groups × groups), [low, high] per group)``: cells on the same
    carrier share a group; ``W`` is :func:`overlap_weights` of the groups' carriers."""
    lo, hi = carrier_span(cells)
    if len(lo) == 0:
        return np.zeros(0, dtype=np.int64), np.ones((1, 1)), np.zeros((1, 2))
    spans = np.stack([lo, hi], axis=1)
    uniq, groups = np.unique(spans, axis=0, return_inverse=True)
    return groups.reshape(-1).astype(np.int64), overlap_weights(uniq[:, 0], uniq[:, 1]), uniq


@dataclass
class CarrierSummary:
    """What :func:`resolve_carriers` did, for ``gigacov validate`` and the manifest."""

    from_table: int = 0
    """Cells that took their operator's carrier from the table (band or rough frequency given)."""
    main_carrier: int = 0
    """Cells without any frequency or band that took their operator's main carrier."""
    explicit: int = 0
    """Cells whose explicit frequency (MHz or ARFCN) was kept."""
    no_carrier: int = 0
    """Cells of a known operator whose band the table has no carrier for (kept as given)."""
    unknown_operator: int = 0
    """Cells without a known operator: today's rule (frequency ± half the bandwidth)."""
    unknown_examples: list[str] = field(default_factory=list)
    no_carrier_examples: list[str] = field(default_factory=list)
    """``"China Telecom 5G 2565 MHz"``: an operator and a band it holds no carrier in."""
    shared: int = 0
    """Cells in a declared shared network (they serve every sharing operator)."""
    by_operator: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    """The counts above in file rows (``source_row``; a row of several sectors once), by the
    same names; empty when the cells carry no row numbers."""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def resolve_carriers(
    cells: pd.DataFrame, table: CarrierTable
) -> tuple[pd.DataFrame, CarrierSummary]:
    """Operator names normalised and each cell's carrier and served operators set.

    Adds ``carrier_low_mhz``, ``carrier_high_mhz`` (the cell's carrier, downlink MHz) and
    ``serves`` (the operators whose users the cell serves, :data:`SERVES_SEP`-separated; ``""``
    for an unknown operator); sets ``freq_mhz`` to the carrier's centre where the carrier came from
    the table. Which frequency a cell's row gave is read from ``freq_source`` (``"input"``: MHz or
    ARFCN, kept; ``"band"``: a band name or rough frequency; ``"default"``: nothing given); without
    that column every frequency counts as given. Returns a copy; ``cells`` is not modified.
    """
    out = cells.copy()
    n = len(out)
    summ = CarrierSummary()
    if n == 0:
        for c in ("carrier_low_mhz", "carrier_high_mhz"):
            out[c] = pd.Series(dtype=np.float64)
        out["serves"] = pd.Series(dtype=object)
        return out, summ
    ops = (
        out["operator"].map(cached_normaliser()).astype(str)
        if "operator" in out.columns
        else pd.Series("", index=out.index)
    )
    out["operator"] = ops.to_numpy(dtype=object)
    src = (
        out["freq_source"].astype(str).to_numpy(dtype=object)
        if "freq_source" in out.columns
        else np.full(n, "input", dtype=object)
    )
    tech = out["tech"].astype(str).str.upper().to_numpy(dtype=object)
    freq = pd.to_numeric(out["freq_mhz"], errors="coerce").to_numpy(dtype=np.float64).copy()
    lo, hi = carrier_span(out)
    lo, hi = lo.copy(), hi.copy()
    serves = np.full(n, "", dtype=object)
    op_arr = ops.to_numpy(dtype=object)
    known = np.isin(op_arr, OPERATORS)
    kind = np.full(n, "", dtype=object)  # which count each cell went to
    shared_cell = np.zeros(n, dtype=bool)
    # one decision per distinct (operator, tech, source, frequency)
    keys = pd.DataFrame({"op": op_arr, "tech": tech, "src": src, "f": freq})
    for (op, t, s, f), idx in keys.groupby(
        ["op", "tech", "src", "f"], dropna=False
    ).indices.items():
        if op not in OPERATORS:
            continue
        carrier = None
        if s == "band":
            carrier = table.find(op, t, f, BAND_SNAP_MHZ)
        elif s == "default":
            carrier = table.main(op, t)
        share = None
        if s == "input":
            summ.explicit += len(idx)
            kind[idx] = "explicit"
            own = table.find(op, t, f)
            share = (
                table.sharing_for(op, own)
                if own is not None and own.low_mhz <= f <= own.high_mhz
                else None
            )
        elif carrier is None:
            summ.no_carrier += len(idx)
            kind[idx] = "no_carrier"
            example = f"{op} {t} {f:g} MHz"
            if len(summ.no_carrier_examples) < 5 and example not in summ.no_carrier_examples:
                summ.no_carrier_examples.append(example)
        else:
            share = table.sharing_for(op, carrier)
            use = share.carrier if share is not None else carrier
            lo[idx], hi[idx] = use.low_mhz, use.high_mhz
            freq[idx] = use.centre_mhz
            if s == "band":
                summ.from_table += len(idx)
                kind[idx] = "from_table"
            else:
                summ.main_carrier += len(idx)
                kind[idx] = "main_carrier"
        if share is not None:
            serves[idx] = SERVES_SEP.join(share.operators)
            summ.shared += len(idx)
            shared_cell[idx] = True
        else:
            serves[idx] = op
    unknown = ~known
    summ.unknown_operator = int(unknown.sum())
    if unknown.any():
        summ.unknown_examples = sorted({str(v) or "(empty)" for v in op_arr[unknown]})[:5]
    out["freq_mhz"] = freq
    out["carrier_low_mhz"] = lo
    out["carrier_high_mhz"] = hi
    out["serves"] = serves
    counts = pd.Series(op_arr[known]).value_counts()
    summ.by_operator = {o: int(counts.get(o, 0)) for o in OPERATORS if counts.get(o, 0)}
    if "source_row" in out.columns:
        row = out["source_row"].to_numpy()
        kind[unknown] = "unknown_operator"
        for k in ("explicit", "no_carrier", "from_table", "main_carrier", "unknown_operator"):
            if (kind == k).any():
                summ.rows[k] = int(np.unique(row[kind == k]).size)
        if shared_cell.any():
            summ.rows["shared"] = int(np.unique(row[shared_cell]).size)
    return out, summ
