"""Is a point file really in the datum it declares? A sign test at the region's edges.

GCJ-02 (Amap, Tencent) and BD-09 (Baidu) coordinates are WGS84 plus a smooth offset of a few
hundred metres. Data in one datum declared as another are therefore *systematically* shifted.
Deep inside the region a shift changes nothing we can see, but near its outer edge — above all
along the coast, where there are no sites on the sea side — it moves points across the boundary.

For every point the test asks two questions: is it inside the region's counties when read in the
declared datum (*D*), and when read in the alternative one (*A*)? Points with the same answer
both times carry no information. Among the *discordant* points, let ``k`` be those inside only
under *A* and ``m`` those inside only under *D*. If neither reading were systematically better,
each discordant point would be equally likely to go either way: ``k ~ Binomial(k + m, 1/2)``
(an exact sign test, as in McNemar's test for paired binary outcomes). Where the outside of the
edge is empty (sea), correct data give ``k ≈ 0``; a shifted file gives ``k ≫ m``. A warning is
raised when the one-sided p-value ``P(X ≥ k)`` is below ``alpha`` (default 1e-3), ``k + m`` is at
least ``min_discordant`` and at least three quarters of the discordant points favour *A*. The
message states ``k``, ``m``, their share, the p-value, and how many points fall outside the
region under each reading. The test can only *warn*; it never converts data.

Alternatives tested: declared WGS84 → GCJ-02 and BD-09; declared GCJ-02 → WGS84 and BD-09;
declared BD-09 → GCJ-02 and WGS84.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..crs import bd09_to_wgs84, gcj02_to_wgs84
from .geo import Region

__all__ = ["DatumTest", "binomial_sf_half", "datum_test", "datum_warning"]

_TO_WGS = {
    "wgs84": lambda x, y: (np.asarray(x, dtype=float), np.asarray(y, dtype=float)),
    "gcj02": gcj02_to_wgs84,
    "bd09": bd09_to_wgs84,
}
_NAMES = {"wgs84": "WGS84", "gcj02": "GCJ-02", "bd09": "BD-09"}


def binomial_sf_half(k: int, n: int) -> float:
    """``P(X ≥ k)`` for ``X ~ Binomial(n, 1/2)``, exact (log-space sum)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    i = np.arange(k, n + 1, dtype=np.float64)
    log_terms = (
        math.lgamma(n + 1)
        - np.array([math.lgamma(v + 1) for v in i])
        - np.array([math.lgamma(n - v + 1) for v in i])
        - n * math.log(2.0)
    )
    top = log_terms.max()
    return float(min(1.0, math.exp(top) * np.exp(log_terms - top).sum()))


@dataclass(frozen=True)
class DatumTest:
    declared: str
    alternative: str
    n_points: int
    inside_declared: int
    inside_alternative: int
    only_alternative: int  # k
    only_declared: int  # m
    p_value: float

    @property
    def discordant(self) -> int:
        return self.only_alternative + self.only_declared

    @property
    def share_alternative(self) -> float:
        return self.only_alternative / self.discordant if self.discordant else 0.0


def datum_test(
    lon, lat, declared: str, region: Region, *, max_points: int = 200_000, seed: int = 0
) -> list[DatumTest]:
    """Run the sign test for each alternative datum; ``lon``/``lat`` as written in the file."""
    if declared not in _TO_WGS:
        return []
    x = np.asarray(lon, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    ok = np.isfinite(x) & np.isfinite(y) & (np.abs(x) <= 180) & (np.abs(y) <= 90)
    x, y = x[ok], y[ok]
    if x.size > max_points:
        pick = np.random.default_rng(seed).choice(x.size, max_points, replace=False)
        x, y = x[pick], y[pick]
    if x.size == 0:
        return []
    dx, dy = _TO_WGS[declared](x, y)
    in_d = region.contains(dx, dy, buffered=False)
    out = []
    for alt in _TO_WGS:
        if alt == declared:
            continue
        ax, ay = _TO_WGS[alt](x, y)
        in_a = region.contains(ax, ay, buffered=False)
        k = int((in_a & ~in_d).sum())
        m = int((in_d & ~in_a).sum())
        out.append(
            DatumTest(
                declared,
                alt,
                int(x.size),
                int(in_d.sum()),
                int(in_a.sum()),
                k,
                m,
                binomial_sf_half(k, k + m),
            )
        )
    return out


def datum_warning(
    tests: list[DatumTest],
    *,
    what: str,
    path: str,
    key: str,
    alpha: float = 1e-3,
    min_discordant: int = 10,
) -> str | None:
    """The warning for the strongest significant alternative, or None."""
    hits = [
        t
        for t in tests
        if t.discordant >= min_discordant and t.p_value < alpha and t.share_alternative >= 0.75
    ]
    if not hits:
        return None
    t = min(hits, key=lambda t: (t.p_value, -t.only_alternative))
    d, a = _NAMES[t.declared], _NAMES[t.alternative]
    return (
        f"{path}: the {what} look like {a} coordinates although {key} declares {d}: of {t.discordant} points "
        f"near the region's edges whose side depends on the datum, {t.only_alternative} "
        f"({t.share_alternative:.0%}) fall inside the region only when read as {a} and "
        f"{t.only_declared} only as {d} (exact sign test, one-sided p = {t.p_value:.1e}); "
        f"{t.n_points - t.inside_declared} of {t.n_points} points lie outside the counties as {d}, "
        f"{t.n_points - t.inside_alternative} as {a}. If the data come from "
        f"{'Amap/Tencent' if t.alternative == 'gcj02' else 'Baidu' if t.alternative == 'bd09' else 'GPS'}, "
        f'set {key} = "{t.alternative}"'
    )
