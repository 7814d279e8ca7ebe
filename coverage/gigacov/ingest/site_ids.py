"""Site and cell ids of a site list, and the duplicate rule.

Cells share a site through ``site_id``. Rows without one are grouped by position: cells within
about a metre of each other (same or neighbouring 1 m snapping cell) form one site whose id is
derived from the coordinates of its first row (``site@<lon>,<lat>``, 6 decimals), so the same
file always gives the same ids. Cells without an id get ``<site_id>-<k>`` (k-th row of the site
in file order).

Duplicates (``duplicate_id``): a (site, cell) pair given twice, or — when the file has no cell
ids — a row identical to an earlier one; the first is kept.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ._common import Tracker, as_text

__all__ = ["site_ids_from_positions", "assign_ids"]


def assign_ids(
    site_raw: pd.Series | None,
    cell_raw: pd.Series | None,
    cell_header: str,
    df: pd.DataFrame,
    lon: np.ndarray,
    lat: np.ndarray,
    tracker: Tracker,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Site and cell id per row; rejects duplicates.

    Returns ``(site_id, cell_id, site_defaulted, cell_defaulted)``: the two masks say which rows
    got an id derived here (counted as defaults).
    """
    n = len(df)
    rows = tracker.rows
    site_id = (
        as_text(site_raw).to_numpy(dtype=object)
        if site_raw is not None
        else np.full(n, "", dtype=object)
    )
    no_site = (site_id == "") & tracker.alive
    if no_site.any():
        site_id[no_site] = site_ids_from_positions(lon[no_site], lat[no_site])
    has_cell = cell_raw is not None
    cell_id = as_text(cell_raw).to_numpy(dtype=object) if has_cell else np.full(n, "", dtype=object)
    if has_cell:
        _duplicate_cells(site_id, cell_id, cell_header, rows, tracker)
    else:
        _duplicate_rows(df, rows, tracker)
    no_cell = tracker.alive & (cell_id == "")
    if no_cell.any():
        k = pd.Series(site_id[no_cell]).groupby(site_id[no_cell]).cumcount().to_numpy() + 1
        cell_id[no_cell] = (
            pd.Series(site_id[no_cell]).astype(str).to_numpy()
            + "-"
            + pd.Series(k).astype(str).to_numpy()
        )
    return site_id, cell_id, no_site, no_cell


def _duplicate_cells(site_id, cell_id, header: str, rows: np.ndarray, tracker: Tracker) -> None:
    """A (site, cell) pair given twice: the later rows are rejected ``duplicate_id``."""
    n = site_id.size
    keyframe = pd.DataFrame({"s": site_id, "c": cell_id})
    given = tracker.alive & (cell_id != "")
    sub = keyframe[given]
    dup_sub = sub.duplicated(keep="first").to_numpy()
    firsts = (
        sub[~sub.duplicated(keep="first")]
        .assign(r=rows[given][~dup_sub])
        .set_index(["s", "c"])["r"]
    )
    dmask = np.zeros(n, dtype=bool)
    dmask[np.flatnonzero(given)[dup_sub]] = True
    dup_rows = pd.MultiIndex.from_arrays([site_id[dmask], cell_id[dmask]])
    first_of = firsts.reindex(dup_rows).to_numpy()
    msgs = np.full(n, "", dtype=object)
    msgs[dmask] = [
        f"cell {c!r} of site {s!r} already given in row {int(r)}"
        for s, c, r in zip(site_id[dmask], cell_id[dmask], first_of, strict=True)
    ]
    tracker.reject(dmask, header, cell_id, "duplicate_id", lambda v: msgs[dmask & tracker.alive])


def _duplicate_rows(df: pd.DataFrame, rows: np.ndarray, tracker: Tracker) -> None:
    """Without cell ids: a row identical to an earlier one is rejected ``duplicate_id``."""
    n = len(df)
    alive_idx = np.flatnonzero(tracker.alive)
    sub = df.iloc[alive_idx]
    dup_sub = sub.duplicated(keep="first").to_numpy()
    if not dup_sub.any():
        return
    first_idx = (
        pd.Series(alive_idx)
        .groupby(pd.util.hash_pandas_object(sub, index=False).to_numpy())
        .transform("first")
        .to_numpy()
    )
    dmask = np.zeros(n, dtype=bool)
    dmask[alive_idx[dup_sub]] = True
    msgs = np.array(
        [f"identical to row {int(rows[first_idx[k]])}" for k in np.flatnonzero(dup_sub)],
        dtype=object,
    )
    tracker.reject(dmask, "(whole row)", None, "duplicate_id", msgs)


def site_ids_from_positions(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Site ids for cells without one: positions within ~1 m form one site (see module doc)."""
    lat0 = float(np.nanmean(lat)) if lat.size else 0.0
    kx = 111_320.0 * math.cos(math.radians(lat0))
    ky = 110_574.0
    ix = np.floor(lon * kx).astype(np.int64)
    iy = np.floor(lat * ky).astype(np.int64)
    keys = pd.MultiIndex.from_arrays([ix, iy])
    codes, uniq = pd.factorize(keys)
    ux = uniq.get_level_values(0).to_numpy()
    uy = uniq.get_level_values(1).to_numpy()
    index = pd.MultiIndex.from_arrays([ux, uy])
    label = np.arange(len(ux))
    edges_a, edges_b = [], []
    for dx, dy in ((1, -1), (1, 0), (1, 1), (0, 1)):
        nb = index.get_indexer(pd.MultiIndex.from_arrays([ux + dx, uy + dy]))
        has = nb >= 0
        edges_a.append(np.flatnonzero(has))
        edges_b.append(nb[has])
    a = np.concatenate(edges_a)
    b = np.concatenate(edges_b)
    while a.size:
        lo = np.minimum(label[a], label[b])
        new = label.copy()
        np.minimum.at(new, a, lo)
        np.minimum.at(new, b, lo)
        new = new[new]
        if np.array_equal(new, label):
            break
        label = new
    cluster = label[codes]
    # representative: first row of each cluster
    first = pd.Series(np.arange(lon.size)).groupby(cluster).transform("first").to_numpy()
    return np.array([f"site@{lon[i]:.6f},{lat[i]:.6f}" for i in first], dtype=object)
