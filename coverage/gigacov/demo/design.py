"""The design of the synthetic Quanzhou demo: what is real, what is invented, and why.

Real: the county boundaries (shipped ``data/boundaries/fujian.gpkg``) and the county resident
populations (Quanzhou statistical yearbook 2022, table 3-5, year-end 2021 — docs/design.md §10).
Approximate: the positions of the county seats and towns that carry the urban population, and the
few real landmark names among the key places (flagged ``approximate``).
Invented (synthetic): everything else — villages, population distribution inside a county,
terrain, sites, cells, broadband statistics. The numbers below choose the synthetic values so that
the demo shows every kind of outcome: counties that pass, and counties that fail for different
reasons (docs/design.md §10). :data:`COUNTIES` is the single table of those choices; the generated
``README-synthetic.md`` prints it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CountyDesign",
    "COUNTIES",
    "KINMEN_CODE",
    "REGION",
    "YEARS",
    "DEFAULT_SEED",
    "POPULATION_SOURCE",
    "SITES_SOURCE",
    "BROADBAND_SOURCE",
    "SITES_5G_TOTAL",
    "SITES_4G_TOTAL",
    "VILLAGE_TOTAL",
    "county_by_code",
    "STATISTICS_KEYS",
    "ASSUMED_THRESHOLDS",
    "intended_failures",
    "predicted_indicators",
    "MAX_RADIUS_M",
    "UNREACHABLE_M",
]

#: Prefecture-level city analysed (泉州市).
REGION = "350500"
#: 金门县: claimed as part of Quanzhou, not administered by the PRC and not in PRC statistics.
#: The demo gives it no sites, villages, population or statistics, so it shows no-data.
KINMEN_CODE = "350527"
#: The two years the demo describes (two yearly operator exports and statistics).
YEARS = (2023, 2024)
#: The default seed: the issue date of 《2024年数字福建工作要点》.
DEFAULT_SEED = 20240430
#: ``[radio] max_radius_m`` of the demo scenarios (metres). The radio work grows with the square
#: of the radius: 5 km keeps the 100 m demo's radio stage to about a minute on two cores (15 km,
#: gigacov's default, takes about 1.5 minutes per technology and year with the DEM).
MAX_RADIUS_M = 5_000.0
#: ``[planning] budget`` of the demo scenarios: new sites per failing county. Enough for the
#: designed 2024 failures to be closed (惠安县: about 260 sites for 12 per 10,000 people).
PLANNING_BUDGET = 300
#: Distance from every 5G site beyond which the demo's "unreachable" villages and key place lie:
#: gigacov's default cut-off, so they stay out of reach even with ``max_radius_m`` raised to it.
UNREACHABLE_M = 15_000.0

POPULATION_SOURCE = (
    "Quanzhou statistical yearbook 2022 (《泉州统计年鉴2022》), table 3-5, resident population at "
    "year-end 2021, in 10,000 persons (docs/design.md §10); city total 885 (10,000 persons)"
)
SITES_SOURCE = (
    "Quanzhou had 22,000 5G base stations at the end of 2023 (docs/design.md §10); the synthetic "
    "count is smaller (about 15,500 at the end of 2023 and 18,000 at the end of 2024) and its "
    "distribution over counties is invented"
)
BROADBAND_SOURCE = (
    "Fujian 2023-04: gigabit users 14.1 % of 22.107 M fixed broadband users, 5G users 36.8 % of "
    "mobile users; Fujian 2024-02: 5G users 48.6 %; 2024 target: gigabit users > 25 % "
    "(docs/design.md §10). The synthetic Quanzhou values echo these levels (gigabit users about "
    "21 % in 2023 and 28 % in 2024)"
)

#: Statistics keys designed per county and year (docs/design.md §8 indicator keys).
STATISTICS_KEYS = (
    "household_gigabit_coverage",
    "pon_10g_share",
    "users_500m_share",
    "users_1000m_share",
    "users_5g_share",
)


@dataclass(frozen=True)
class CountyDesign:
    """Design values of one county (all ratios are fractions 0–1).

    Attributes
    ----------
    code, name, short
        Adcode, official name and short name (used in synthetic site names).
    population_10k
        Resident population at year-end 2021, 10,000 persons (real, docs/design.md §10).
    villages
        Number of synthetic administrative villages / communities at ``scale = 1``.
    urban_share
        Share of the population living in the Gaussian town centres (the rest lives in villages
        and, thinly, across the countryside).
    centres
        Town centres ``(lon, lat, sigma_km, weight)``, WGS84, approximate positions: the county
        seat first.
    sites_5g_per_10k
        Distinct 5G sites per 10,000 residents at the end of 2024 (at ``scale = 1``).
    share_5g_2024
        Share of the county's 5G sites commissioned in 2024 (so 2023 has fewer).
    stats
        ``{year: {key: value}}`` for :data:`STATISTICS_KEYS`: the county-level ratios the
        synthetic village statistics are calibrated to.
    story
        One sentence on the intended outcome (printed in the README).
    """

    code: str
    name: str
    short: str
    population_10k: float
    villages: int
    urban_share: float
    centres: tuple[tuple[float, float, float, float], ...]
    sites_5g_per_10k: float
    share_5g_2024: float
    stats: dict[int, dict[str, float]]
    story: str = ""
    remote_villages_without_5g: bool = False
    """True for the county whose remote mountain villages get no 5G site (德化县)."""

    @property
    def population(self) -> int:
        return int(round(self.population_10k * 10_000))


def _stats(
    hh: tuple[float, float],
    pon: tuple[float, float],
    u500: tuple[float, float],
    u1000: tuple[float, float],
    u5g: tuple[float, float],
) -> dict[int, dict[str, float]]:
    out: dict[int, dict[str, float]] = {}
    for i, year in enumerate(YEARS):
        out[year] = {
            "household_gigabit_coverage": hh[i],
            "pon_10g_share": pon[i],
            "users_500m_share": u500[i],
            "users_1000m_share": u1000[i],
            "users_5g_share": u5g[i],
        }
    return out


MIIT = "miit-gigabit-city-2021"
FJ = "fujian-2024"

#: The 11 administered county-level units of Quanzhou (金门县 is handled apart).
#: Populations: docs/design.md §10 (yearbook 2022, year-end 2021) — they sum to 885.0 (10,000 persons).
COUNTIES: tuple[CountyDesign, ...] = (
    CountyDesign(
        "350502",
        "鲤城区",
        "鲤城",
        42.9,
        70,
        0.85,
        ((118.587, 24.910, 1.6, 1.0), (118.545, 24.900, 1.2, 0.35)),
        28.0,
        0.12,
        _stats((0.90, 0.95), (0.47, 0.55), (0.35, 0.41), (0.27, 0.32), (0.50, 0.61)),
        "old city centre: dense sites, high take-up — passes everything.",
    ),
    CountyDesign(
        "350503",
        "丰泽区",
        "丰泽",
        72.0,
        85,
        0.80,
        ((118.615, 24.905, 2.0, 1.0), (118.660, 24.930, 1.5, 0.5)),
        26.0,
        0.12,
        _stats((0.91, 0.95), (0.48, 0.56), (0.36, 0.42), (0.27, 0.33), (0.51, 0.62)),
        "city centre: passes everything.",
    ),
    CountyDesign(
        "350504",
        "洛江区",
        "洛江",
        25.5,
        75,
        0.45,
        ((118.672, 24.945, 1.5, 1.0), (118.640, 25.020, 1.0, 0.25)),
        20.0,
        0.14,
        _stats((0.84, 0.89), (0.38, 0.45), (0.32, 0.36), (0.20, 0.28), (0.18, 0.22)),
        "network fine, but too few 5G subscribers: fails the 5G user share (22 % < 25 %).",
    ),
    CountyDesign(
        "350505",
        "泉港区",
        "泉港",
        35.9,
        85,
        0.45,
        ((118.915, 25.125, 1.8, 1.0), (118.880, 25.160, 1.2, 0.4)),
        16.0,
        0.30,
        _stats((0.84, 0.88), (0.17, 0.22), (0.32, 0.35), (0.20, 0.28), (0.42, 0.50)),
        "fails the 10G-PON port share (22 % < 30 %); in 2023 also short of 5G sites "
        "(about 11 per 10,000), fixed by a 2024 build-out.",
    ),
    CountyDesign(
        "350521",
        "惠安县",
        "惠安",
        104.1,
        205,
        0.40,
        ((118.797, 25.030, 2.0, 1.0), (118.920, 24.900, 1.2, 0.4), (118.850, 24.960, 1.0, 0.3)),
        9.5,
        0.15,
        _stats((0.84, 0.89), (0.37, 0.44), (0.32, 0.35), (0.20, 0.28), (0.41, 0.50)),
        "short of 5G base stations: about 9.5 per 10,000 residents (< 12).",
    ),
    CountyDesign(
        "350524",
        "安溪县",
        "安溪",
        100.2,
        370,
        0.35,
        ((118.186, 25.056, 2.0, 1.0), (118.050, 25.100, 1.0, 0.2), (118.120, 24.980, 1.0, 0.2)),
        19.0,
        0.14,
        _stats((0.64, 0.72), (0.34, 0.40), (0.32, 0.35), (0.19, 0.27), (0.40, 0.48)),
        "short of gigabit-capable households: 72 % of households (< 80 %).",
    ),
    CountyDesign(
        "350525",
        "永春县",
        "永春",
        42.2,
        190,
        0.35,
        ((118.294, 25.322, 1.8, 1.0), (118.200, 25.280, 0.9, 0.2)),
        21.0,
        0.14,
        _stats((0.83, 0.88), (0.36, 0.42), (0.21, 0.24), (0.15, 0.20), (0.41, 0.49)),
        "low take-up of fast broadband: 500 Mbps+ users 24 % (< 30 %), gigabit users 20 % (< 25 %).",
    ),
    CountyDesign(
        "350526",
        "德化县",
        "德化",
        33.7,
        170,
        0.45,
        ((118.241, 25.492, 1.6, 1.0), (118.300, 25.440, 0.9, 0.2)),
        19.0,
        0.20,
        _stats((0.82, 0.87), (0.35, 0.41), (0.32, 0.35), (0.19, 0.27), (0.40, 0.47)),
        "mountains: 5G only within 12 km of the county seat; the remote villages and the "
        "九仙山 scenic area are not reached — fails rural 5G extension and key-place reach.",
        remote_villages_without_5g=True,
    ),
    CountyDesign(
        "350581",
        "石狮市",
        "石狮",
        68.9,
        105,
        0.70,
        ((118.648, 24.732, 2.2, 1.0), (118.700, 24.700, 1.0, 0.3)),
        22.0,
        0.13,
        _stats((0.88, 0.93), (0.44, 0.52), (0.34, 0.39), (0.22, 0.30), (0.47, 0.57)),
        "passes everything.",
    ),
    CountyDesign(
        "350582",
        "晋江市",
        "晋江",
        206.9,
        320,
        0.60,
        (
            (118.552, 24.781, 2.5, 1.0),
            (118.460, 24.720, 1.5, 0.5),
            (118.620, 24.700, 1.2, 0.35),
            (118.640, 24.645, 1.0, 0.3),
            (118.600, 24.800, 1.2, 0.4),
        ),
        22.5,
        0.13,
        _stats((0.88, 0.93), (0.43, 0.50), (0.34, 0.38), (0.22, 0.29), (0.47, 0.56)),
        "the most populous county: passes everything.",
    ),
    CountyDesign(
        "350583",
        "南安市",
        "南安",
        152.7,
        330,
        0.45,
        (
            (118.386, 24.960, 2.0, 1.0),
            (118.420, 24.710, 1.5, 0.5),
            (118.330, 24.830, 1.0, 0.3),
            (118.450, 25.050, 1.0, 0.3),
        ),
        21.5,
        0.14,
        _stats((0.85, 0.90), (0.40, 0.46), (0.32, 0.36), (0.20, 0.27), (0.44, 0.52)),
        "passes everything (with a thin margin on gigabit users, 27 %).",
    ),
)

#: Design totals at scale 1.
VILLAGE_TOTAL = sum(c.villages for c in COUNTIES)
SITES_5G_TOTAL = 18_000
"""Nominal: the per-county rates give 18,030 at scale 1."""
SITES_4G_TOTAL = 25_000


def county_by_code(code: str) -> CountyDesign:
    for c in COUNTIES:
        if c.code == code:
            return c
    raise KeyError(code)


#: Thresholds the design assumes (docs/design.md §3: the commonly cited values, tag [U], and the Fujian
#: 2024 target [V]; village reach as in the shipped ``fujian-2024`` file, 97 %); the shipped
#: standard files are authoritative — the design keeps clear margins (≥ 2 percentage points,
#: sites ≥ 15 per 10,000 where meant to pass; 德化县's village reach is designed below 80 %, the
#: national 2025 target, not only below 97 %) so that small differences in the thresholds do not
#: change the outcome.
ASSUMED_THRESHOLDS: dict[str, tuple[str, str, float]] = {
    "household_gigabit_coverage": (MIIT, ">=", 0.80),
    "pon_10g_share": (MIIT, ">=", 0.30),
    "users_500m_share": (MIIT, ">=", 0.30),
    "users_5g_share": (MIIT, ">=", 0.25),
    "sites_5g_per_10k": (MIIT, ">=", 12.0),
    "key_place_reach_5g": (MIIT, ">=", 0.95),
    "users_1000m_share": (FJ, ">", 0.25),
    "village_reach_5g": (FJ, ">=", 0.97),
}


def _passes(value: float, op: str, threshold: float) -> bool:
    return value > threshold if op == ">" else value >= threshold


def predicted_indicators(year: int) -> tuple[str, ...]:
    """Indicators whose county outcome the design predicts in ``year`` (see :func:`intended_failures`)."""
    keys = (*STATISTICS_KEYS, "sites_5g_per_10k", "key_place_reach_5g")
    return (*keys, "village_reach_5g") if year >= YEARS[-1] else keys


def intended_failures(
    county: CountyDesign, year: int, sites_5g_per_10k: float | None = None
) -> list[tuple[str, str]]:
    """The ``(standard, indicator)`` pairs designed to fail for ``county`` in ``year``.

    Statistics-based indicators follow from :attr:`CountyDesign.stats` and
    :data:`ASSUMED_THRESHOLDS`; 5G sites per 10,000 from the designed site counts (scale 1);
    village and key-place reach from the designed gaps (德化县's remote villages and 九仙山).
    ``sites_5g_per_10k`` is the generated rate of that year (it differs from the design when
    ``scale`` ≠ 1); by default the design rate at scale 1.
    Raster-based indicators of other counties are designed to pass in 2024 (a 5G site stands at
    every village and key place); in 2023 the rural sites commissioned in 2024 are missing, so
    village reach there depends on the radio model and is not predicted.
    """
    out: list[tuple[str, str]] = []
    for key in STATISTICS_KEYS:
        std, op, thr = ASSUMED_THRESHOLDS[key]
        if not _passes(county.stats[year][key], op, thr):
            out.append((std, key))
    rate = sites_5g_per_10k
    if rate is None:
        rate = county.sites_5g_per_10k * (1.0 - (county.share_5g_2024 if year < 2024 else 0.0))
    if not _passes(rate, *ASSUMED_THRESHOLDS["sites_5g_per_10k"][1:]):
        out.append((MIIT, "sites_5g_per_10k"))
    if county.remote_villages_without_5g:
        out.append((FJ, "village_reach_5g"))
        out.append((MIIT, "key_place_reach_5g"))
    return out
