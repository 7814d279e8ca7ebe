"""Site and cell ids of a site list, and the duplicate rule.

Cells share a site through ``site_id``. Rows without one are grouped by position: cells within
about a metre of each other (same or neighbouring 1 m snapping cell) form one site whose id is
derived from the coordinates of its first row (``site@<lon>,<lat>``, 6 decimals), so the same
file always gives the same ids. Cells without an id get ``<site_id>-<k>`` (k-th row of the site
in file order).

Duplicates (``duplicate_id``): a (site, cell) pair given twice, or — when the file has no cell
ids — a row identical to an earlier one; the first is kept.

Conflicts (``site_conflict``, the one rule for a site id used twice): the rows of one site id
must describe one place. When they lie more than ``[sites] same_site_tolerance_m`` (50 m) apart,
or carry different site names (a *site*-name column such as 站名 / 基站名称; cell names differ by
design; names are compared after Unicode NFKC and without whitespace, so ``青阳（东）`` and
``青阳(东)`` or ``青阳　大厦`` and ``青阳大厦`` are one name), the id stands for two sites and nothing tells which row is right: every row of that
id is rejected, each message naming another row of the id, the distance and the names. Nothing
is merged silently. OpenCelliD is exempt: its positions are per-cell crowd-sourced estimates.
"""

from __future__ import annotations

import math
import re
import unicodedata

import numpy as np
import pandas as pd

from ..operator_names import operator_slug
from ._common import Tracker, as_text, log

__all__ = ["site_ids_from_positions", "assign_ids", "ids_per_operator", "site_per_operator"]


def _scoped(
    ids: pd.Series, operator: np.ndarray, counted: np.ndarray, path, where: str
) -> tuple[pd.Series, str]:
    """``ids`` with ``@<operator>`` added to every id that the ``counted`` rows of several
    operators use, and the warning saying so ("" when none is)."""
    key = pd.DataFrame({"id": ids.to_numpy(dtype=object), "op": operator})[counted]
    key = key[(key["id"] != "") & (key["op"] != "")]
    n_ops = key.groupby("id")["op"].nunique()
    shared = sorted(n_ops.index[n_ops > 1])
    if not shared:
        return ids, ""
    mask = ids.isin(shared).to_numpy() & (operator != "")
    slug = np.array([operator_slug(o) for o in operator], dtype=object)
    out = ids.astype(object).copy()
    out[mask] = out[mask] + "@" + slug[mask]
    ex = ", ".join(map(repr, shared[:3]))
    return out, (
        f"{path}: {len(shared)} site id(s) are used by several operators{where} ({ex}"
        f"{', ...' if len(shared) > 3 else ''}: a tower code such as 站址编码?); each operator's "
        "cells there are a site of its own ('<id>@cmcc', '<id>@ctcc', ...)"
    )


def ids_per_operator(
    raw: pd.Series | None, operator: np.ndarray, alive: np.ndarray, path, warnings: list[str]
) -> pd.Series | None:
    """The site-id column, with ``@<operator>`` added to an id that rows of several operators
    use: a tower code (站址编码) names the tower, and each operator on it has a base station of
    its own, so the id alone would count three operators' gNBs as one site (and their different
    names as a conflict). A shared network's cell that both sharing operators list is still one
    transmitter (:func:`gigacov.serving.transmitters`)."""
    if raw is None:
        return None
    ids, said = _scoped(as_text(raw), operator, alive, path, "")
    if not said:
        return raw
    warnings.append(said)
    return ids


def site_per_operator(cells: pd.DataFrame, path: str, warnings: list[str]) -> pd.DataFrame:
    """Across the sheets or files of one site list (one export per operator), a site id that
    cells of several operators use is one site per operator (``<id>@cmcc``), as within one
    file (:func:`ids_per_operator`)."""
    operator = cells["operator"].astype(str).to_numpy(dtype=object)
    ids, said = _scoped(
        cells["site_id"], operator, np.ones(len(cells), bool), path, "' sheets or files"
    )
    if not said:
        return cells
    log.warning("%s", said)
    warnings.append(said)
    return cells.assign(site_id=ids)


def assign_ids(
    site_raw: pd.Series | None,
    cell_raw: pd.Series | None,
    cell_header: str,
    df: pd.DataFrame,
    lon: np.ndarray,
    lat: np.ndarray,
    tracker: Tracker,
    conflicts: tuple[np.ndarray | None, str, float] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Site and cell id per row; rejects duplicates and, with ``conflicts = (site names or
    None, the id column's header, tolerance in metres)``, site-id conflicts.

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
    if conflicts is not None:
        _conflicts(site_id, ~no_site, lon, lat, rows, tracker, *conflicts)
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


def _conflicts(
    site_id: np.ndarray,
    given: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    rows: np.ndarray,
    tracker: Tracker,
    names: np.ndarray | None,
    header: str,
    tolerance_m: float,
) -> None:
    """Reject every row of a site id whose rows disagree on position or site name."""
    cand = np.flatnonzero(tracker.alive & given)
    if cand.size < 2:
        return
    codes = pd.factorize(site_id[cand])[0]
    multi = np.bincount(codes)[codes] > 1
    if not multi.any():
        return
    cand, codes = cand[multi], codes[multi]
    order = np.argsort(codes, kind="stable")  # by site, rows in file order
    cand, codes = cand[order], codes[order]
    by_site = pd.Series(np.arange(cand.size)).groupby(codes)
    ref = by_site.transform("first").to_numpy()  # position (in cand) of the site's first row

    def metres(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        # at the pair's mean latitude: the same distance whichever row names the other
        kx = 111_320.0 * np.cos(np.radians((lat[cand[a]] + lat[cand[b]]) / 2))
        return np.hypot(
            (lon[cand[a]] - lon[cand[b]]) * kx, (lat[cand[a]] - lat[cand[b]]) * 110_574.0
        )

    pos = np.arange(cand.size)
    disagree = metres(pos, ref) > tolerance_m
    name_txt = None
    if names is not None:
        name_txt = pd.Series(names[cand], dtype=object).astype(str).str.strip().to_numpy()
        key = pd.Series(name_txt).map(_name_key).to_numpy(dtype=object)
        ref_key = key[ref]
        disagree |= (key != "") & (ref_key != "") & (key != ref_key)
    bad_site = np.zeros(int(codes.max()) + 1, dtype=bool)
    bad_site[codes[disagree]] = True
    sel = np.flatnonzero(bad_site[codes])
    if not sel.size:
        return
    # a disagreeing row names the site's first row; the first row names the first that disagrees
    first_disagreeing = (
        pd.Series(np.where(disagree, pos, cand.size)).groupby(codes).transform("min").to_numpy()
    )
    other = np.where(disagree, ref, first_disagreeing)[sel]
    dist = metres(sel, other)
    msgs = np.full(site_id.size, "", dtype=object)
    for j, o, d in zip(sel, other, dist, strict=True):
        text = f"site id {site_id[cand[j]]!r} is also given in row {int(rows[cand[o]])}, {d:,.0f} m away"
        if name_txt is not None and name_txt[j] != name_txt[o]:
            text += f", named {name_txt[o]!r} there and {name_txt[j]!r} here"
        msgs[cand[j]] = (
            text + f"; one id cannot be two sites (tolerance {tolerance_m:g} m, [sites] "
            "same_site_tolerance_m): give each site its own id or correct the row"
        )
    mask = np.zeros(site_id.size, dtype=bool)
    mask[cand[sel]] = True
    tracker.reject(mask, header, site_id, "site_conflict", lambda v: msgs[mask & tracker.alive])


def _name_key(name: str) -> str:
    """A site name as compared: NFKC (full-width brackets, letters, digits and spaces become
    their plain forms: ``青阳（东）`` = ``青阳(东)``), without any whitespace, lower case."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name)).lower()


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
