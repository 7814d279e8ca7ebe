"""Greedy maximum-coverage placement of new sites in one county, with lazy (CELF) evaluation.

The objective
-------------
Planning serves the county's failing coverage-related indicators (``pop_coverage_5g``,
``key_place_reach_5g``, ``village_reach_5g``, ``sites_5g_per_10k``). It runs in two phases:

1. **Coverage.** While population coverage, key-place reach or village reach fails, the gain of a
   candidate site is the share of each failing indicator's *initial* shortfall that the site
   closes, summed over those indicators::

       gain = Σ_i  min(progress_i, remaining_i) / shortfall_i

   where, for population coverage, ``progress`` is the newly covered persons of the county and
   the shortfall is in persons; for key places and villages ``progress`` is the number of objects
   the site brings to "reached", with partial credit ``(min(s + a, r) − min(s, r)) / r`` for an
   object whose covered share ``s`` rises by ``a`` towards its requirement ``r`` (a village is
   reached when ``[indicators] village_reached_pop_share`` of its people are covered, a polygon
   key place when ``key_place_area_share`` of its area is, a road ``key_place_road_share`` of its
   length, a point when its pixel is). An indicator that passes contributes nothing, so the
   weights are scale-free: closing the whole population shortfall is worth as much as reaching
   every missing village. Ties are broken by newly covered persons, then by candidate order.
2. **Density.** When coverage passes (or no candidate can improve it) and ``sites_5g_per_10k``
   still fails, sites are added for capacity: the gain is the number of the county's persons the
   site would serve with a better signal than the network does (RSRP above the current best
   server, in pixels the site covers).

A candidate whose gain is zero is never picked; when no candidate has a gain the county stops
with a reason. Both gains only decrease as sites are added (coverage is submodular, the
remaining shortfalls only shrink, best-server RSRP only rises), so a gain computed earlier is an
upper bound of the current one and lazy greedy evaluation (CELF, Leskovec et al. 2007) picks
exactly what re-evaluating every candidate each round would pick — ties included.

Radio assumptions (documented in the plan summary): a candidate covers a pixel when its RSRP
reaches ``[radio] rsrp_threshold_dbm`` and its SINR against the interference and noise already
present there (derived from the 5G coverage result) reaches ``sinr_threshold_db``; the
interference that new sites add to each other and to existing cells is ignored. The plan is
checked afterwards by re-running the coverage engine with the new sites (see ``plan``).

What the loop works on (the candidates' footprints, the key places and villages as pixel sets,
the network state that a pick updates) is in :mod:`gigacov.planning.network`.
"""

from __future__ import annotations

import heapq
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ..compliance import passes
from ._kernels import KIND_KEY_PLACE, KIND_VILLAGE
from .network import Footprints, NetworkState, ObjectTable

__all__ = [
    "COVERAGE_KEYS",
    "Footprints",
    "ObjectTable",
    "NetworkState",
    "Target",
    "CountyTargets",
    "Pick",
    "CountyOutcome",
    "greedy_county",
    "compare_op",
]

log = logging.getLogger(__name__)

#: Indicators that new 5G sites can change.
COVERAGE_KEYS = ("pop_coverage_5g", "sites_5g_per_10k", "key_place_reach_5g", "village_reach_5g")
_PHASE1_KEYS = ("pop_coverage_5g", "key_place_reach_5g", "village_reach_5g")

Method = Literal["lazy", "naive"]


#: Values within this (relative) of a threshold count as equal — the rule of
#: :mod:`gigacov.compliance`, so planning and compliance agree on pass / fail.
# The comparison of a standard's threshold: one definition, in gigacov.compliance.
compare_op = passes


@dataclass(frozen=True)
class Target:
    """The value a county indicator must reach: ``value op threshold`` (strictest failing row)."""

    key: str
    op: str
    threshold: float
    standards: tuple[str, ...]


@dataclass
class CountyTargets:
    """A county's baseline (from the indicator table) and its failing coverage targets."""

    index: int
    admin_code: str
    name: str
    population: float
    covered_population: float
    sites: float
    key_places: float
    key_places_reached: float
    villages: float
    villages_reached: float
    targets: dict[str, Target]

    # -- indicator values ---------------------------------------------------------------------

    def counts(self, state: NetworkState) -> dict[str, float]:
        """Numerators of the coverage indicators with the sites planned so far."""
        k = self.index
        return {
            "covered_population": float(self.covered_population + state.pop_delta[k]),
            "sites": float(self.sites + state.sites_delta[k]),
            "key_places_reached": float(
                self.key_places_reached + state.reached_delta[KIND_KEY_PLACE, k]
            ),
            "villages_reached": float(self.villages_reached + state.reached_delta[KIND_VILLAGE, k]),
        }

    def values(self, state: NetworkState) -> dict[str, float]:
        """Indicator values with the sites planned so far (NaN where the denominator is 0)."""
        c = self.counts(state)
        return {
            "pop_coverage_5g": _ratio(c["covered_population"], self.population),
            "sites_5g_per_10k": _ratio(c["sites"], self.population / 1e4),
            "key_place_reach_5g": _ratio(c["key_places_reached"], self.key_places),
            "village_reach_5g": _ratio(c["villages_reached"], self.villages),
        }

    def unmet(self, state: NetworkState) -> list[str]:
        vals = self.values(state)
        return [k for k, t in self.targets.items() if not compare_op(vals[k], t.op, t.threshold)]

    def remaining(self, state: NetworkState) -> dict[str, float]:
        """Shortfall of each target in its own units: persons, sites, key places, villages
        (0 when met; ``inf`` when it cannot be met by counting, e.g. a threshold above 100 %)."""
        c = self.counts(state)
        vals = self.values(state)
        out: dict[str, float] = {}
        for key, t in self.targets.items():
            if compare_op(vals[key], t.op, t.threshold):
                out[key] = 0.0
                continue
            if key == "pop_coverage_5g":
                need = t.threshold * self.population - c["covered_population"]
                out[key] = max(need, 1.0) if need > 0 or t.op == ">" else 1.0
            elif key == "sites_5g_per_10k":
                out[key] = float(_needed_count(self.population / 1e4, t) - c["sites"])
            elif key == "key_place_reach_5g":
                out[key] = float(
                    _needed_count(self.key_places, t, cap=True) - c["key_places_reached"]
                )
            else:
                out[key] = float(_needed_count(self.villages, t, cap=True) - c["villages_reached"])
            out[key] = max(out[key], 0.0) if not math.isinf(out[key]) else out[key]
        return out


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den and den > 0 and not math.isnan(den) else float("nan")


def _needed_count(denominator: float, t: Target, cap: bool = False) -> float:
    """Smallest integer count m with ``m / denominator op threshold`` (``inf`` if none ≤ the
    denominator when ``cap``)."""
    if not denominator or denominator <= 0:
        return math.inf
    m = max(0, math.ceil(t.threshold * denominator) - 1)
    while not compare_op(m / denominator, t.op, t.threshold):
        m += 1
        if cap and m > denominator:
            return math.inf
    return float(m)


@dataclass
class Pick:
    """One chosen candidate and what it added in its county."""

    candidate: int
    purpose: str  # "coverage" | "density"
    gain: float
    added_population: float
    added_key_places: int
    added_villages: int
    served_population: float
    values_after: dict[str, float]


@dataclass
class CountyOutcome:
    picks: list[Pick]
    stop_reason: str
    """``targets_met``, ``budget``, ``no_gain`` (no candidate adds anything towards a failing
    indicator) or ``no_candidates``; when the coverage phase ran out of gain and the density
    phase then spent the budget, ``budget`` (the message names both)."""
    stop_message: str
    evaluations: int
    """Candidate gain evaluations done (what lazy evaluation saves)."""


# ------------------------------------------------------------------------------------------------
# Greedy
# ------------------------------------------------------------------------------------------------


_GAIN_COLUMN = {"pop_coverage_5g": 0, "key_place_reach_5g": 1, "village_reach_5g": 2}


def _phase1_keys(
    g: np.ndarray, rem: dict[str, float], weight: dict[str, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Primary gains (shares of the initial shortfalls closed) and tie-breaks (newly covered
    persons) of candidates from their :func:`coverage_gains` rows ``g`` (n, 3)."""
    primary = np.zeros(g.shape[0], dtype=np.float64)
    for key, col in _GAIN_COLUMN.items():
        r = rem.get(key, 0.0)
        if weight.get(key, 0.0) and r > 0:
            primary += np.minimum(g[:, col], r) * weight[key]
    return primary, g[:, 0].astype(np.float64)


def _phase1_weights(rem: dict[str, float]) -> dict[str, float]:
    out = {}
    for key in _PHASE1_KEYS:
        r = rem.get(key, 0.0)
        if r > 0:
            out[key] = 1.0 / r if not math.isinf(r) else 1.0 / 1e9
    return out


def greedy_county(
    state: NetworkState,
    county: CountyTargets,
    fp: Footprints,
    budget: int,
    *,
    method: Method = "lazy",
    on_pick: Callable[[int], None] | None = None,
) -> CountyOutcome:
    """Add sites to one county until its failing coverage targets pass, the budget is spent, or
    no candidate adds anything (module docstring: the objective).

    ``state`` is updated in place (later counties see these sites). ``method="naive"``
    re-evaluates every candidate each round; it picks the same sites as ``"lazy"`` and exists to
    measure the speed-up.
    """
    k = county.index
    picks: list[Pick] = []
    evaluations = 0
    n = fp.n
    if not county.unmet(state):
        return CountyOutcome([], "targets_met", "every targeted indicator passes", 0)
    if n == 0:
        return CountyOutcome([], "no_candidates", "the county has no candidate locations", 0)

    def record(c: int, purpose: str, gain: float) -> None:
        stats = state.add_site(fp, c, k)
        picks.append(
            Pick(
                candidate=int(c),
                purpose=purpose,
                gain=float(gain),
                added_population=float(stats[0]),
                added_key_places=int(stats[1]),
                added_villages=int(stats[2]),
                served_population=float(stats[3]),
                values_after=county.values(state),
            )
        )
        if on_pick is not None:
            on_pick(int(c))

    all_cands = np.arange(n, dtype=np.int64)
    stop_reason, stop_message = "", ""

    # ---- phase 1: coverage ----------------------------------------------------------------
    rem0 = county.remaining(state)
    weight = _phase1_weights(rem0)
    phase1_unmet = [key for key in _PHASE1_KEYS if rem0.get(key, 0.0) > 0]
    if phase1_unmet:
        alive = np.ones(n, dtype=bool)
        heap: list[tuple[float, float, int]] = []
        if method == "lazy":
            p_all, s_all = _phase1_keys(state.coverage_gains(fp, all_cands, k), rem0, weight)
            evaluations += n
            heap = [
                (-float(p_all[c]), -float(s_all[c]), c) for c in np.flatnonzero(p_all > 0).tolist()
            ]
            heapq.heapify(heap)
        while True:
            rem = county.remaining(state)
            if not any(rem.get(key, 0.0) > 0 for key in _PHASE1_KEYS):
                break
            if len(picks) >= budget:
                stop_reason = "budget"
                stop_message = f"the budget of {budget} new sites is spent"
                break
            chosen = -1
            gain = 0.0
            if method == "lazy":
                while heap:
                    _, _, c = heapq.heappop(heap)
                    p1, s1 = _phase1_keys(
                        state.coverage_gains(fp, np.array([c], np.int64), k), rem, weight
                    )
                    p, s = float(p1[0]), float(s1[0])
                    evaluations += 1
                    if p <= 0:
                        continue
                    if not heap or (-p, -s, c) <= heap[0]:
                        chosen, gain = c, p
                        break
                    heapq.heappush(heap, (-p, -s, c))
            else:
                cands = all_cands[alive]
                p_all, s_all = _phase1_keys(state.coverage_gains(fp, cands, k), rem, weight)
                evaluations += len(cands)
                ok = p_all > 0
                alive[cands[~ok]] = False
                if ok.any():
                    order = np.lexsort((cands, -s_all, -p_all))
                    chosen, gain = int(cands[order[0]]), float(p_all[order[0]])
            if chosen < 0:
                missing = ", ".join(
                    _describe_shortfall(key, rem[key])
                    for key in _PHASE1_KEYS
                    if rem.get(key, 0.0) > 0
                )
                stop_reason = "no_gain"
                stop_message = (
                    f"no remaining candidate adds coverage towards {missing}: the uncovered people, "
                    "key places or villages are out of every candidate's reach (too far, or drowned "
                    "by the interference of existing cells); add candidate locations or reduce "
                    "[planning] candidate_spacing_m"
                )
                break
            alive[chosen] = False
            record(chosen, "coverage", gain)

    # ---- phase 2: density -----------------------------------------------------------------
    if not stop_reason or stop_reason == "no_gain":
        rem = county.remaining(state)
        if rem.get("sites_5g_per_10k", 0.0) > 0:
            taken = np.zeros(n, dtype=bool)
            taken[[p.candidate for p in picks]] = True
            heap2: list[tuple[float, int]] = []
            if method == "lazy":
                g2 = state.offload_gains(fp, all_cands, k)
                evaluations += n
                heap2 = [(-float(g2[c]), c) for c in range(n) if g2[c] > 0 and not taken[c]]
                heapq.heapify(heap2)
            density_reason = ""
            while county.remaining(state).get("sites_5g_per_10k", 0.0) > 0:
                if len(picks) >= budget:
                    density_reason = "budget"
                    msg = f"the budget of {budget} new sites is spent"
                    stop_message = f"{stop_message}; {msg}" if stop_message else msg
                    break
                chosen, gain = -1, 0.0
                if method == "lazy":
                    while heap2:
                        _, c = heapq.heappop(heap2)
                        s = float(state.offload_gains(fp, np.array([c], np.int64), k)[0])
                        evaluations += 1
                        if s <= 0:
                            continue
                        if not heap2 or (-s, c) <= heap2[0]:
                            chosen, gain = c, s
                            break
                        heapq.heappush(heap2, (-s, c))
                else:
                    cands = all_cands[~taken]
                    g2 = state.offload_gains(fp, cands, k)
                    evaluations += len(cands)
                    ok = g2 > 0
                    taken[cands[~ok]] = True
                    if ok.any():
                        order = np.lexsort((cands, -g2))
                        chosen, gain = int(cands[order[0]]), float(g2[order[0]])
                if chosen < 0:
                    density_reason = "no_gain"
                    msg = (
                        "no remaining candidate would serve any of the county's people better than "
                        f"the network does, {_describe_shortfall('sites_5g_per_10k', county.remaining(state)['sites_5g_per_10k'])}"
                    )
                    stop_message = f"{stop_message}; {msg}" if stop_message else msg
                    break
                taken[chosen] = True
                record(chosen, "density", gain)
            if density_reason:
                stop_reason = density_reason
    if not stop_reason:
        unmet = county.unmet(state)
        if unmet:  # pragma: no cover - loops above only end with a reason or with targets met
            stop_reason, stop_message = "no_gain", f"still failing: {', '.join(unmet)}"
        else:
            stop_reason, stop_message = "targets_met", "every targeted indicator passes"
    log.info(
        "planning %s: %d sites (%s), %d gain evaluations",
        county.admin_code,
        len(picks),
        stop_reason,
        evaluations,
    )
    return CountyOutcome(picks, stop_reason, stop_message, evaluations)


def _describe_shortfall(key: str, remaining: float) -> str:
    if math.isinf(remaining):
        return f"{key} (threshold cannot be reached by counting)"
    unit = {
        "pop_coverage_5g": "persons",
        "sites_5g_per_10k": "sites",
        "key_place_reach_5g": "key places",
        "village_reach_5g": "villages",
    }[key]
    return f"{key} (short by {remaining:,.0f} {unit})"
