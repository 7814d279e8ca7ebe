"""What the greedy planner works on: the candidates' footprints, the key places and villages as
weighted pixel sets, and the network state that adding a site updates.

Everything is flat over the grid (pixel ``r * width + c``) so that the numba kernels of
:mod:`gigacov.planning._kernels` can compute gains and apply picks without Python loops.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._kernels import N_KINDS, apply_pick, coverage_gains, offload_gains

__all__ = ["Footprints", "ObjectTable", "NetworkState"]


@dataclass
class Footprints:
    """Candidate footprints in CSR form: candidate ``c`` stores pixels
    ``pix[ptr[c]:ptr[c+1]]`` (flat indices) with its RSRP there (dBm, float32)."""

    ptr: np.ndarray
    pix: np.ndarray
    rsrp: np.ndarray

    @property
    def n(self) -> int:
        return len(self.ptr) - 1

    @property
    def nbytes(self) -> int:
        return self.ptr.nbytes + self.pix.nbytes + self.rsrp.nbytes

    @classmethod
    def from_lists(cls, pix: list[np.ndarray], rsrp: list[np.ndarray]) -> Footprints:
        counts = np.array([len(p) for p in pix], dtype=np.int64)
        ptr = np.zeros(len(pix) + 1, dtype=np.int64)
        np.cumsum(counts, out=ptr[1:])
        flat = np.concatenate(pix).astype(np.int64) if pix else np.empty(0, np.int64)
        val = np.concatenate(rsrp).astype(np.float32) if rsrp else np.empty(0, np.float32)
        return cls(ptr, flat, val)


@dataclass
class ObjectTable:
    """Key places (kind 0) and villages (kind 1) as weighted pixel sets.

    ``share`` is each object's covered share (0–1), ``req`` the share at which it counts as
    reached, ``county`` its 1-based county index. The pixel → object map is CSR over ``slot``
    (flat grid, −1 where no object).
    """

    ids: list[str]
    kind: np.ndarray  # int64
    county: np.ndarray  # int64
    req: np.ndarray  # float64
    share: np.ndarray  # float64
    reached: np.ndarray  # uint8
    slot: np.ndarray  # int32 (n_pixels)
    slot_ptr: np.ndarray  # int64
    slot_obj: np.ndarray  # int64
    slot_w: np.ndarray  # float64
    obj_pix: list[np.ndarray] = field(default_factory=list)
    obj_w: list[np.ndarray] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.ids)

    def kernel_args(self) -> tuple[np.ndarray, ...]:
        """The arrays the gain and pick kernels take, in their order (slot … county)."""
        return (
            self.slot,
            self.slot_ptr,
            self.slot_obj,
            self.slot_w,
            self.share,
            self.req,
            self.reached,
            self.kind,
            self.county,
        )

    @classmethod
    def build(
        cls,
        n_pixels: int,
        ids: list[str],
        kind: list[int],
        county: list[int],
        req: list[float],
        pixels: list[np.ndarray],
        weights: list[np.ndarray],
        share: list[float] | None = None,
        reached: list[bool] | None = None,
        covered: np.ndarray | None = None,
    ) -> ObjectTable:
        """Build from per-object pixel lists and weights (weights are normalised to sum 1;
        zero weights are dropped). Without ``share``, shares are computed from ``covered``;
        without ``reached``, an object is reached when its share meets ``req``."""
        n = len(ids)
        pix_n, w_n = [], []
        for p, w in zip(pixels, weights, strict=True):
            p = np.asarray(p, dtype=np.int64)
            w = np.asarray(w, dtype=np.float64)
            keep = w > 0
            p, w = p[keep], w[keep]
            if len(p):
                # merge duplicates of the same pixel
                order = np.argsort(p, kind="stable")
                p, w = p[order], w[order]
                uniq, start = np.unique(p, return_index=True)
                w = np.add.reduceat(w, start)
                p = uniq
                w = w / w.sum()
            pix_n.append(p)
            w_n.append(w)
        req_a = np.asarray(req, dtype=np.float64)
        if share is None:
            cov = covered if covered is not None else np.zeros(n_pixels, np.uint8)
            share_a = np.array(
                [float(w[cov[p] != 0].sum()) for p, w in zip(pix_n, w_n, strict=True)]
            )
        else:
            share_a = np.asarray(share, dtype=np.float64).copy()
        if reached is None:
            reached_a = (share_a >= req_a - 1e-9).astype(np.uint8)
        else:
            reached_a = np.asarray(reached, dtype=bool).astype(np.uint8)
        # objects without pixels can never be reached by new sites
        all_p = np.concatenate(pix_n) if n else np.empty(0, np.int64)
        all_o = (
            np.concatenate([np.full(len(p), i, np.int64) for i, p in enumerate(pix_n)])
            if n
            else np.empty(0, np.int64)
        )
        all_w = np.concatenate(w_n) if n else np.empty(0, np.float64)
        order = np.lexsort((all_o, all_p))
        all_p, all_o, all_w = all_p[order], all_o[order], all_w[order]
        uniq, start = np.unique(all_p, return_index=True)
        slot = np.full(n_pixels, -1, dtype=np.int32)
        slot[uniq] = np.arange(len(uniq), dtype=np.int32)
        slot_ptr = np.append(start, len(all_p)).astype(np.int64)
        return cls(
            ids=list(ids),
            kind=np.asarray(kind, dtype=np.int64),
            county=np.asarray(county, dtype=np.int64),
            req=req_a,
            share=share_a,
            reached=reached_a,
            slot=slot,
            slot_ptr=slot_ptr,
            slot_obj=all_o,
            slot_w=all_w,
            obj_pix=pix_n,
            obj_w=w_n,
        )

    @classmethod
    def empty(cls, n_pixels: int) -> ObjectTable:
        return cls.build(n_pixels, [], [], [], [], [], [])


@dataclass
class NetworkState:
    """The network as planning sees it, flat over the grid, updated in place as sites are added.

    ``pop_delta[z]`` / ``reached_delta[kind, z]`` / ``sites_delta[z]`` hold what the planned
    sites added per county index ``z`` (0 = outside every county) on top of the baseline
    indicator table.
    """

    shape: tuple[int, int]
    covered: np.ndarray  # uint8
    best_rsrp: np.ndarray  # float32, NaN = no server
    in_noise_mw: np.ndarray  # float32, interference + noise per RE seen by a new cell, mW
    county: np.ndarray  # int32, 1-based county index, 0 = none
    population: np.ndarray  # float32 or float64, NaN-free
    relevant: np.ndarray  # uint8: people in a county, or part of an object
    objects: ObjectTable
    n_counties: int
    pop_delta: np.ndarray = field(init=False)
    reached_delta: np.ndarray = field(init=False)
    sites_delta: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.pop_delta = np.zeros(self.n_counties + 1, dtype=np.float64)
        self.reached_delta = np.zeros((N_KINDS, self.n_counties + 1), dtype=np.int64)
        self.sites_delta = np.zeros(self.n_counties + 1, dtype=np.int64)

    @classmethod
    def build(
        cls,
        *,
        covered: np.ndarray,
        best_rsrp: np.ndarray,
        in_noise_mw: np.ndarray,
        county: np.ndarray,
        population: np.ndarray,
        objects: ObjectTable,
        n_counties: int,
    ) -> NetworkState:
        """Flat copies of 2-D grid arrays (the caller's arrays are never modified)."""
        shape = tuple(np.shape(covered))
        pop = np.nan_to_num(np.asarray(population).ravel(), nan=0.0).astype(np.float32)
        cty = np.ascontiguousarray(np.asarray(county, dtype=np.int32).ravel())
        relevant = ((pop > 0) & (cty > 0)) | (objects.slot >= 0)
        return cls(
            shape=shape,  # type: ignore[arg-type]
            covered=np.ascontiguousarray(np.asarray(covered).ravel() != 0).astype(np.uint8),
            best_rsrp=np.asarray(best_rsrp, dtype=np.float32).ravel().copy(),
            in_noise_mw=np.asarray(in_noise_mw, dtype=np.float32).ravel().copy(),
            county=cty,
            population=pop,
            relevant=relevant.astype(np.uint8),
            objects=objects,
            n_counties=n_counties,
        )

    # -- gains and updates --------------------------------------------------------------------

    def coverage_gains(self, fp: Footprints, cands: np.ndarray, k: int) -> np.ndarray:
        return coverage_gains(
            cands,
            fp.ptr,
            fp.pix,
            self.covered,
            self.county,
            k,
            self.population,
            *self.objects.kernel_args(),
        )

    def offload_gains(self, fp: Footprints, cands: np.ndarray, k: int) -> np.ndarray:
        return offload_gains(
            cands, fp.ptr, fp.pix, fp.rsrp, self.best_rsrp, self.county, k, self.population
        )

    def add_site(self, fp: Footprints, c: int, k: int) -> np.ndarray:
        """Add candidate ``c`` (located in county ``k``); returns the county-``k`` stats of
        :func:`gigacov.planning._kernels.apply_pick`."""
        stats = apply_pick(
            c,
            fp.ptr,
            fp.pix,
            fp.rsrp,
            self.covered,
            self.best_rsrp,
            self.county,
            k,
            self.population,
            *self.objects.kernel_args(),
            self.pop_delta,
            self.reached_delta,
        )
        self.sites_delta[k] += 1
        return stats
