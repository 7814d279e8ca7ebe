"""Site-level rows that list their sectors (``方位角 = "0/120/240"``) become one row per cell."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd

from ._common import as_text, fast_float
from .tables import ColumnMap, Table

__all__ = ["MULTI_VALUE_RE", "SECTOR_KEYS", "split_sector_rows"]

#: A value listing several numbers ("0/120/240", "3;3;6").
MULTI_VALUE_RE = re.compile(r"^\s*-?\d+(?:\.\d+)?(?:\s*[/,;、|，；]\s*-?\d+(?:\.\d+)?)+\s*$")

#: Per-sector columns that a site-level row may list once per azimuth ("0/120/240", "3/3/6").
SECTOR_KEYS = (
    "azimuth",
    "tilt",
    "tilt_mech",
    "tilt_elec",
    "beamwidth",
    "height",
    "eirp",
    "tx_power",
    "gain",
    "rs_power",
)
_SPLIT_RE = re.compile(r"\s*[/,;、|，；]\s*")


def split_sector_rows(table: Table, cmap: ColumnMap) -> tuple[Table, int, int]:
    """One row per cell from site-level rows that list several azimuths.

    Planning sheets often give a site in one row with ``方位角 = "0/120/240"`` (separators
    ``/ , ; 、 | ，；``). Such a row becomes one row per azimuth, keeping its spreadsheet row
    number; any other per-sector column (tilt, beamwidth, height, power) that lists the same
    number of values is split alongside, one listing a different number of values is left
    whole (and is then rejected as ``not_a_number``, naming the row). A cell id is suffixed
    ``-1``, ``-2``, … per sector. ``"120,5"`` (two values split by a comma alone) is ambiguous
    with a decimal comma and is not split. Returns ``(table, rows split, cells made)``.
    """
    if "azimuth" not in cmap:
        return table, 0, 0
    raw = table.df[cmap.header("azimuth")]
    if raw.dtype.kind in "iufb":
        return table, 0, 0
    maybe = np.flatnonzero(~np.isfinite(fast_float(raw)))  # plain numbers are no lists
    multi = np.zeros(len(raw), dtype=bool)
    if maybe.size:
        multi[maybe] = (
            as_text(raw.iloc[maybe]).str.match(MULTI_VALUE_RE).to_numpy(dtype=bool, na_value=False)
        )
    if not multi.any():
        return table, 0, 0
    text = as_text(raw)
    parts = text[multi].str.split(_SPLIT_RE)
    counts = parts.str.len().to_numpy()
    decimal_comma = (counts == 2) & text[multi].str.fullmatch(r"\s*-?\d+\s*,\s*\d+\s*").to_numpy(
        dtype=bool
    )
    idx_multi = np.flatnonzero(multi)
    keep_whole = idx_multi[decimal_comma]
    multi[keep_whole] = False
    parts, counts = parts[~decimal_comma], counts[~decimal_comma]
    if not multi.any():
        return table, 0, 0
    n = len(table.df)
    reps = np.ones(n, dtype=np.int64)
    reps[multi] = counts
    src = np.repeat(np.arange(n), reps)
    sector = pd.Series(src).groupby(src).cumcount().to_numpy()
    expanded = np.repeat(multi, reps)
    df = table.df.iloc[src].reset_index(drop=True)
    for key in SECTOR_KEYS:
        if key not in cmap:
            continue
        col = cmap.header(key)
        vals = as_text(table.df[col]) if key != "azimuth" else text
        split = vals[multi].str.split(_SPLIT_RE)
        same = split.str.len().to_numpy() == counts
        if key != "azimuth":
            same &= vals[multi].str.match(MULTI_VALUE_RE).to_numpy(dtype=bool, na_value=False)
        pieces = np.full(n, None, dtype=object)
        pieces[np.flatnonzero(multi)[same]] = split[same].to_numpy()
        rows_exp = np.flatnonzero(expanded)
        per = pieces[src[rows_exp]]
        has = np.array([p is not None for p in per], dtype=bool)
        new = df[col].astype(object).to_numpy(copy=True)
        new[rows_exp[has]] = [p[k] for p, k in zip(per[has], sector[rows_exp[has]], strict=True)]
        df[col] = new
    if "cell_id" in cmap:
        col = cmap.header("cell_id")
        cid = as_text(df[col]).to_numpy(dtype=object)
        named = expanded & (cid != "")
        cid[named] = [f"{c}-{k + 1}" for c, k in zip(cid[named], sector[named], strict=True)]
        df[col] = np.where(expanded, cid, df[col].astype(object).to_numpy())
    geometry = None
    if table.geometry is not None:
        geometry = table.geometry.iloc[src].reset_index(drop=True)
    out = dataclasses.replace(table, df=df, geometry=geometry, _row_numbers=table.rows[src])
    return out, int(multi.sum()), int(counts.sum())
