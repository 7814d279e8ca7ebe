"""The indicator catalogue: administrative levels, indicator definitions and the result type.

This module holds names and meanings only (no computation), so that compliance, maps, reports
and the run directory can read it without importing the indicator computation
(:mod:`gigacov.indicators`). The meaning of each key is also described in docs/design.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    import pandas as pd

__all__ = [
    "Level",
    "LEVELS",
    "STAT_FIELDS",
    "BASE_COLUMNS",
    "IndicatorDef",
    "INDICATORS",
    "IndicatorSet",
    "indicator_definitions",
]

Level = Literal["province", "city", "county", "village"]
#: Administrative levels, top down.
LEVELS: tuple[str, ...] = ("province", "city", "county", "village")

#: Broadband statistics columns summed by the roll-up (BROADBAND_COLUMNS minus keys).
STAT_FIELDS: tuple[str, ...] = (
    "households",
    "fttx_households_covered",
    "gigabit_households_covered",
    "pon_ports",
    "pon_10g_ports",
    "fixed_users",
    "users_500m_plus",
    "users_1000m_plus",
    "mobile_users",
    "users_5g",
)

#: Columns every level table starts with (docs/design.md §8), before the indicator keys.
BASE_COLUMNS: tuple[str, ...] = (
    "admin_code",
    "name",
    "name_en",
    "level",
    "parent_code",
    "population",
    "covered_population_5g",
    "area_km2",
    "covered_area_km2_5g",
    "sites_5g",
)


@dataclass(frozen=True)
class IndicatorDef:
    """What an indicator key means.

    Attributes
    ----------
    key
        Stable key (docs/design.md §8), e.g. ``pop_coverage_5g``.
    name_zh, name_en
        Names for people.
    unit
        ``ratio`` (fraction 0–1, shown as %), ``per_10k`` or ``count``.
    formula
        How it is computed from the unit table's columns.
    source
        ``raster`` (computed by gigacov from coverage, population, cells, places) or
        ``statistics`` (reported broadband statistics).
    numerator, denominator
        The unit-table columns the ratio is made of (denominator "" for counts); the compliance
        shortfall and the roll-up use them.
    scale
        Multiplier applied to the denominator (10,000 persons for ``per_10k``).
    shortfall_unit
        What one unit of shortfall is (``persons``, ``sites``, ``households``, ...).
    """

    key: str
    name_zh: str
    name_en: str
    unit: str
    formula: str
    source: str
    numerator: str = ""
    denominator: str = ""
    scale: float = 1.0
    shortfall_unit: str = ""


def _defs() -> dict[str, IndicatorDef]:
    d: list[IndicatorDef] = []
    for tech in ("5g", "4g"):
        T = tech.upper()
        d += [
            IndicatorDef(
                f"pop_coverage_{tech}",
                f"{T}人口覆盖率",
                f"{T} population coverage",
                "ratio",
                f"covered_population_{tech} / population",
                "raster",
                f"covered_population_{tech}",
                "population",
                1.0,
                "persons",
            ),
            IndicatorDef(
                f"area_coverage_{tech}",
                f"{T}面积覆盖率",
                f"{T} area coverage",
                "ratio",
                f"covered_area_km2_{tech} / area_km2",
                "raster",
                f"covered_area_km2_{tech}",
                "area_km2",
                1.0,
                "km2",
            ),
            IndicatorDef(
                f"key_place_reach_{tech}",
                f"重点场所{T}网络通达率",
                f"key-place {T} reach",
                "ratio",
                f"key_places_reached_{tech} / key_places",
                "raster",
                f"key_places_reached_{tech}",
                "key_places",
                1.0,
                "key_places",
            ),
            IndicatorDef(
                f"village_reach_{tech}",
                f"行政村{T}通达率",
                f"administrative-village {T} reach",
                "ratio",
                f"villages_reached_{tech} / villages",
                "raster",
                f"villages_reached_{tech}",
                "villages",
                1.0,
                "villages",
            ),
        ]
        if tech == "5g":
            d.append(
                IndicatorDef(
                    "sites_5g_per_10k",
                    "每万人拥有5G基站数",
                    "5G base stations per 10,000 people",
                    "per_10k",
                    "sites_5g / (population / 10000)",
                    "raster",
                    "sites_5g",
                    "population",
                    10_000.0,
                    "sites",
                )
            )
    d += [
        IndicatorDef(
            "household_gigabit_coverage",
            "家庭千兆光纤网络覆盖率",
            "household gigabit-fibre coverage",
            "ratio",
            "gigabit_households_covered / households",
            "statistics",
            "gigabit_households_covered",
            "households",
            1.0,
            "households",
        ),
        IndicatorDef(
            "pon_10g_share",
            "10G-PON端口占比",
            "10G-PON port share",
            "ratio",
            "pon_10g_ports / pon_ports",
            "statistics",
            "pon_10g_ports",
            "pon_ports",
            1.0,
            "ports",
        ),
        IndicatorDef(
            "users_500m_share",
            "500Mbps及以上用户占比",
            "500 Mbps+ user share",
            "ratio",
            "users_500m_plus / fixed_users",
            "statistics",
            "users_500m_plus",
            "fixed_users",
            1.0,
            "users",
        ),
        IndicatorDef(
            "users_1000m_count",
            "1000Mbps及以上用户数",
            "1000 Mbps+ users",
            "count",
            "users_1000m_plus",
            "statistics",
            "users_1000m_plus",
            "",
            1.0,
            "users",
        ),
        IndicatorDef(
            "users_1000m_share",
            "千兆宽带用户占比",
            "gigabit (1000 Mbps+) user share",
            "ratio",
            "users_1000m_plus / fixed_users",
            "statistics",
            "users_1000m_plus",
            "fixed_users",
            1.0,
            "users",
        ),
        IndicatorDef(
            "users_5g_share",
            "5G移动电话用户占比",
            "5G user share of mobile users",
            "ratio",
            "users_5g / mobile_users",
            "statistics",
            "users_5g",
            "mobile_users",
            1.0,
            "users",
        ),
    ]
    return {x.key: x for x in d}


#: Every indicator gigacov computes, by key (``_4g`` variants included).
INDICATORS: dict[str, IndicatorDef] = _defs()


def indicator_definitions(technologies: tuple[str, ...] = ("5g",)) -> list[IndicatorDef]:
    """Definitions of the indicators present for the given technologies (lower case)."""
    return [d for k, d in INDICATORS.items() if not k.endswith("_4g") or "4g" in technologies]


# ------------------------------------------------------------------------------------------------
# The result type
# ------------------------------------------------------------------------------------------------


@dataclass
class IndicatorSet:
    """Indicators of every administrative level of one run (docs/architecture.md).

    Attributes
    ----------
    units
        ``{level: GeoDataFrame}`` for the levels present (``province``, ``city``, ``county``,
        ``village``), WGS84 geometry; columns :data:`BASE_COLUMNS`, the counts and statistics
        the roll-up and the shortfalls need, and every indicator key (fractions 0–1, NaN = no
        data).
    key_places
        The key places with ``reached_5g`` (bool), ``covered_share_5g``, ``rsrp_dbm``,
        ``longest_gap_m`` (roads; NaN otherwise), and ``_4g`` variants when 4G was computed;
        None without key places.
    definitions
        :class:`IndicatorDef` of every indicator key in the tables.
    year
        The scenario year whose statistics were used.
    technologies
        Technologies with a coverage raster (``("5g", "4g")``).
    """

    units: dict[str, gpd.GeoDataFrame]
    key_places: gpd.GeoDataFrame | None
    definitions: list[IndicatorDef]
    year: int = 0
    technologies: tuple[str, ...] = ()

    @property
    def levels(self) -> list[str]:
        """Levels present, top down."""
        return [lv for lv in LEVELS if lv in self.units]

    def table(self, level: str) -> gpd.GeoDataFrame:
        """The table of one level (raises ``KeyError`` naming the levels present)."""
        if level not in self.units:
            raise KeyError(f"no {level!r} units; levels present: {', '.join(self.levels)}")
        return self.units[level]

    def definition(self, key: str) -> IndicatorDef:
        for d in self.definitions:
            if d.key == key:
                return d
        return INDICATORS[key]

    def to_frame(self) -> pd.DataFrame:
        """All levels in one table, without geometry."""
        import pandas as pd

        frames = [pd.DataFrame(self.units[lv].drop(columns="geometry")) for lv in self.levels]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
