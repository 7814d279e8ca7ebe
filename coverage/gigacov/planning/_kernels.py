"""Numba kernels of the planning stage (plain arrays in, plain arrays out).

* :func:`label_zones` — connected-component labelling (8-connectivity) of a zone raster, two
  passes with union-find.
* :func:`coverage_gains` / :func:`offload_gains` — what candidate sites would add, read from
  their footprints stored as CSR arrays (``ptr``, ``pix``, ``rsrp``).
* :func:`apply_pick` — update the network state after a site is chosen.

Conventions: ``pix`` holds flat pixel indices into the grid (``row * width + col``); the grid
state arrays (``covered``, ``best_rsrp``, ``county``, ``population``, ``obj_slot``) are flat, of
length ``height * width``. Objects (key places and villages) map pixels to weights in CSR form:
pixel ``p`` with ``obj_slot[p] = s >= 0`` belongs to objects ``slot_obj[slot_ptr[s]:slot_ptr[s+1]]``
with weights ``slot_w[...]`` (an object's weights sum to 1). Objects of kind 0 are key places,
of kind 1 villages.
"""

from __future__ import annotations

import numpy as np

from .._jit import jit

KIND_KEY_PLACE = 0
KIND_VILLAGE = 1
N_KINDS = 2

#: A share counts as reaching its requirement within this tolerance (float sums of weights).
SHARE_EPS = 1e-9


# ------------------------------------------------------------------------------------------------
# Connected components
# ------------------------------------------------------------------------------------------------


@jit
def _find(parent, i):
    root = i
    while parent[root] != root:
        root = parent[root]
    # path compression
    while parent[i] != root:
        nxt = parent[i]
        parent[i] = root
        i = nxt
    return root


@jit
def label_zones(zone):
    """Label 8-connected regions of equal, positive zone value.

    Parameters
    ----------
    zone
        int32 (H, W). Pixels with ``zone > 0`` are foreground; two foreground neighbours
        (8-connectivity) belong to the same region when their zone values are equal.

    Returns
    -------
    labels, n
        int32 (H, W) with 0 for background and 1..n for the regions, numbered in raster-scan
        order of each region's first pixel; and the number of regions.
    """
    h, w = zone.shape
    labels = np.zeros((h, w), dtype=np.int32)
    n_fg = 0
    for r in range(h):
        for c in range(w):
            if zone[r, c] > 0:
                n_fg += 1
    parent = np.empty(n_fg + 1, dtype=np.int32)
    parent[0] = 0
    next_label = 1
    # First pass: provisional labels from the already visited neighbours
    # (W, NW, N, NE), union of their sets.
    for r in range(h):
        for c in range(w):
            z = zone[r, c]
            if z <= 0:
                continue
            best = 0
            for dr, dc in ((0, -1), (-1, -1), (-1, 0), (-1, 1)):
                rr = r + dr
                cc = c + dc
                if rr < 0 or cc < 0 or cc >= w:
                    continue
                if zone[rr, cc] != z:
                    continue
                lab = labels[rr, cc]
                root = _find(parent, lab)
                if best == 0:
                    best = root
                elif root != best:
                    if root < best:
                        parent[best] = root
                        best = root
                    else:
                        parent[root] = best
            if best == 0:
                parent[next_label] = next_label
                labels[r, c] = next_label
                next_label += 1
            else:
                labels[r, c] = best
    # Second pass: resolve to roots and renumber in order of first appearance.
    final = np.zeros(next_label, dtype=np.int32)
    n = 0
    for r in range(h):
        for c in range(w):
            lab = labels[r, c]
            if lab == 0:
                continue
            root = _find(parent, lab)
            if final[root] == 0:
                n += 1
                final[root] = n
            labels[r, c] = final[root]
    return labels, n


@jit
def region_sums(labels, n, weights, zone):
    """Per region: pixel count, sum of ``weights`` (float64) and the region's zone value."""
    h, w = labels.shape
    count = np.zeros(n + 1, dtype=np.int64)
    total = np.zeros(n + 1, dtype=np.float64)
    zone_of = np.zeros(n + 1, dtype=np.int32)
    for r in range(h):
        for c in range(w):
            lab = labels[r, c]
            if lab == 0:
                continue
            count[lab] += 1
            total[lab] += weights[r, c]
            zone_of[lab] = zone[r, c]
    return count, total, zone_of


# ------------------------------------------------------------------------------------------------
# Candidate gains
# ------------------------------------------------------------------------------------------------


@jit
def coverage_gains(
    cands,
    ptr,
    pix,
    covered,
    county,
    k,
    population,
    obj_slot,
    slot_ptr,
    slot_obj,
    slot_w,
    obj_share,
    obj_req,
    obj_reached,
    obj_kind,
    obj_county,
):
    """What each candidate in ``cands`` would add in county ``k``.

    Returns float64 (len(cands), 3): newly covered persons in county ``k`` (pixels not yet
    covered), and the progress credit towards reaching the county's unreached key places and
    villages: for each object, ``(min(share + added, req) - min(share, req)) / req`` summed over
    the objects (1.0 = one object becomes reached).
    """
    n_obj = obj_share.shape[0]
    acc = np.zeros(n_obj, dtype=np.float64)
    touched = np.empty(n_obj, dtype=np.int64)
    out = np.zeros((cands.shape[0], 3), dtype=np.float64)
    for i in range(cands.shape[0]):
        c = cands[i]
        pop_gain = 0.0
        n_touched = 0
        for e in range(ptr[c], ptr[c + 1]):
            p = pix[e]
            if covered[p] != 0:
                continue
            if county[p] == k:
                pop_gain += population[p]
            s = obj_slot[p]
            if s < 0:
                continue
            for q in range(slot_ptr[s], slot_ptr[s + 1]):
                o = slot_obj[q]
                if obj_reached[o] != 0 or obj_county[o] != k:
                    continue
                if acc[o] == 0.0:
                    touched[n_touched] = o
                    n_touched += 1
                acc[o] += slot_w[q]
        credit_kp = 0.0
        credit_v = 0.0
        for t in range(n_touched):
            o = touched[t]
            req = obj_req[o]
            before = min(obj_share[o], req)
            after = min(obj_share[o] + acc[o], req)
            credit = (after - before) / req
            if obj_share[o] + acc[o] >= req - SHARE_EPS:
                credit = (req - before) / req
            if obj_kind[o] == KIND_KEY_PLACE:
                credit_kp += credit
            else:
                credit_v += credit
            acc[o] = 0.0
        out[i, 0] = pop_gain
        out[i, 1] = credit_kp
        out[i, 2] = credit_v
    return out


@jit
def offload_gains(cands, ptr, pix, rsrp, best_rsrp, county, k, population):
    """Persons in county ``k`` that each candidate would serve better than the network does now.

    A pixel counts when the candidate covers it (its stored footprint) and its RSRP is above the
    current best-server RSRP there (NaN = no server = always below).
    """
    out = np.zeros(cands.shape[0], dtype=np.float64)
    for i in range(cands.shape[0]):
        c = cands[i]
        total = 0.0
        for e in range(ptr[c], ptr[c + 1]):
            p = pix[e]
            if county[p] != k:
                continue
            b = best_rsrp[p]
            if np.isnan(b) or rsrp[e] > b:
                total += population[p]
        out[i] = total
    return out


# ------------------------------------------------------------------------------------------------
# State update
# ------------------------------------------------------------------------------------------------


@jit
def apply_pick(
    c,
    ptr,
    pix,
    rsrp,
    covered,
    best_rsrp,
    county,
    k,
    population,
    obj_slot,
    slot_ptr,
    slot_obj,
    slot_w,
    obj_share,
    obj_req,
    obj_reached,
    obj_kind,
    obj_county,
    pop_delta,
    reached_delta,
):
    """Add candidate ``c`` to the network state (in place).

    Marks its footprint pixels covered, raises the best-server RSRP, adds the newly covered
    pixels' weights to their objects' shares and marks objects reached. ``pop_delta[z]``
    accumulates newly covered persons per county index ``z`` and ``reached_delta[kind, z]``
    newly reached objects.

    Returns
    -------
    float64 (4,)
        For county ``k``: newly covered persons, newly reached key places, newly reached
        villages, and persons now best served by this site.
    """
    stats = np.zeros(4, dtype=np.float64)
    for e in range(ptr[c], ptr[c + 1]):
        p = pix[e]
        z = county[p]
        b = best_rsrp[p]
        if np.isnan(b) or rsrp[e] > b:
            if z == k:
                stats[3] += population[p]
            best_rsrp[p] = rsrp[e]
        if covered[p] != 0:
            continue
        covered[p] = 1
        pop_delta[z] += population[p]
        if z == k:
            stats[0] += population[p]
        s = obj_slot[p]
        if s < 0:
            continue
        for q in range(slot_ptr[s], slot_ptr[s + 1]):
            o = slot_obj[q]
            obj_share[o] += slot_w[q]
            if obj_reached[o] == 0 and obj_share[o] >= obj_req[o] - SHARE_EPS:
                obj_reached[o] = 1
                reached_delta[obj_kind[o], obj_county[o]] += 1
                if obj_county[o] == k:
                    stats[1 + obj_kind[o]] += 1.0
    return stats


@jit
def site_footprint_pixels(
    rsrp_win,
    row_off,
    col_off,
    width,
    in_noise_mw,
    rsrp_threshold_dbm,
    sinr_threshold_db,
    covered,
    best_rsrp,
    relevant,
):
    """Flat pixel indices and RSRP of a site's footprint window worth storing.

    A pixel is kept when the site covers it (RSRP ≥ threshold, and SINR against the interference
    plus noise already present there, ``in_noise_mw`` in mW per resource element, ≥ threshold),
    it is ``relevant`` (people or a target object), and it is either not covered yet or the
    site would beat the current best server.
    """
    h, w = rsrp_win.shape
    n = 0
    idx = np.empty(h * w, dtype=np.int64)
    val = np.empty(h * w, dtype=np.float32)
    sinr_lin_thr = 10.0 ** (sinr_threshold_db / 10.0)
    for r in range(h):
        base = (row_off + r) * width + col_off
        for cc in range(w):
            v = rsrp_win[r, cc]
            if not (v >= rsrp_threshold_dbm):  # also drops NaN
                continue
            p = base + cc
            if relevant[p] == 0:
                continue
            s_mw = 10.0 ** (v / 10.0)
            if s_mw < sinr_lin_thr * in_noise_mw[p]:
                continue
            b = best_rsrp[p]
            if covered[p] != 0 and not (np.isnan(b) or v > b):
                continue
            idx[n] = p
            val[n] = v
            n += 1
    return idx[:n], val[:n]
