"""Names, units and number formats of the indicators as people read them (中文 / English).

The indicator keys and their meaning are fixed by docs/design.md §8; ratios are stored as fractions
0–1 and shown as percentages. The names here are only the fallback used when a run does not carry
its own :class:`~gigacov.indicators.IndicatorDef` list (a run directory read back from disk);
thresholds are never kept here — they come from the standards' TOML files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..catalogue import INDICATORS, LEVELS
from ..formatting import OP_SYMBOLS, is_missing
from ..scenario import Language
from ..standard_files import DERIVED_KEYS

__all__ = [
    "LEVELS",
    "LEVEL_NAMES",
    "STATUS_NAMES",
    "IndicatorLabel",
    "Labeler",
    "Language",
    "indicator_labels",
    "is_ratio",
    "shortfall_text",
    "excel_number_format",
    "excel_threshold_format",
    "KNOWN_KEYS",
    "UNIT_COLUMNS",
]

LEVEL_NAMES: dict[str, tuple[str, str]] = {
    "province": ("省", "province"),
    "city": ("地市", "city"),
    "county": ("区县", "county"),
    "village": ("行政村", "village"),
}

#: Statuses in the order the reports list them; ``at_risk``: below an unconfirmed threshold but
#: not below the lowest value of a certified unit (neither pass nor fail).
STATUS_NAMES: dict[str, tuple[str, str]] = {
    "pass": ("达标", "pass"),
    "at_risk": ("存在风险", "at risk"),
    "fail": ("未达标", "fail"),
    "no_data": ("无数据", "no data"),
}

#: Display names of the definition units that are not ratios (indicators.IndicatorDef.unit).
_UNIT_NAMES = {"per_10k": ("个/万人", "per 10k people"), "count": ("个", "count")}

#: Units (as an indicator definition may spell them) that mean "a fraction 0–1".
_RATIO_UNITS = {"fraction", "ratio", "share", "%", "percent", "1", "0-1", "比例", "占比"}


@dataclass(frozen=True)
class IndicatorLabel:
    """How one indicator is named and shown.

    ``unit_zh`` / ``unit_en`` describe the stored number; for a ratio they are ``%`` because
    the fraction is shown as a percentage.
    """

    key: str
    name_zh: str
    name_en: str
    unit_zh: str
    unit_en: str
    ratio: bool
    decimals: int = 1


def _ratio(key: str, zh: str, en: str) -> IndicatorLabel:
    return IndicatorLabel(key, zh, en, "%", "%", True, 1)


#: Indicator keys in the order tables show them; names and units come from gigacov's own
#: definitions (:data:`gigacov.indicators.INDICATORS`, :data:`gigacov.compliance.DERIVED_KEYS`).
_ORDER: tuple[str, ...] = (
    "pop_coverage_5g",
    "area_coverage_5g",
    "sites_5g_per_10k",
    "key_place_reach_5g",
    "village_reach_5g",
    "household_gigabit_coverage",
    "pon_10g_share",
    "users_500m_share",
    "users_1000m_count",
    "users_1000m_share",
    "users_5g_share",
    "pop_coverage_4g",
    "area_coverage_4g",
    "key_place_reach_4g",
    "village_reach_4g",
    "cities_passing_share",
)
#: How the indicators that are not ratios are shown: (unit zh, unit en, decimals).
_NON_RATIO_DISPLAY = {
    "sites_5g_per_10k": ("个/万人", "sites per 10k people", 2),
    "users_1000m_count": ("户", "users", 0),
}


def _catalogue() -> dict[str, IndicatorLabel]:
    out = {}
    for key in (*_ORDER, *(k for k in (*INDICATORS, *DERIVED_KEYS) if k not in _ORDER)):
        if key in INDICATORS:
            d = INDICATORS[key]
            unit, zh, en = d.unit, d.name_zh, d.name_en
        else:
            unit, zh, en, _ = DERIVED_KEYS[key]
        if unit == "ratio":
            out[key] = _ratio(key, zh, en)
        else:
            uz, ue = _UNIT_NAMES.get(unit, (unit, unit))
            uz, ue, decimals = _NON_RATIO_DISPLAY.get(key, (uz, ue, 2))
            out[key] = IndicatorLabel(key, zh, en, uz, ue, False, decimals)
    return out


_CATALOGUE: dict[str, IndicatorLabel] = _catalogue()

#: Indicator keys in the order tables show them.
KNOWN_KEYS: tuple[str, ...] = tuple(_CATALOGUE)

#: Non-indicator columns of the unit tables that reports show, with their labels and formats.
UNIT_COLUMNS: dict[str, tuple[str, str, str, str]] = {
    # column: (zh, en, unit, excel number format)
    "population": ("常住人口", "population", "人 persons", "#,##0"),
    "area_km2": ("面积", "area", "km²", "#,##0.0"),
    "sites_5g": ("5G基站数", "5G sites", "个 sites", "#,##0"),
    "covered_population_5g": ("5G覆盖人口", "5G-covered population", "人 persons", "#,##0"),
}

#: How a shortfall reads, by its unit (compliance ``shortfall_unit``) and, where the unit alone
#: is ambiguous, the indicator: (中文, English) templates with ``{n}`` for the number.
_SHORTFALL_PHRASES: dict[str, tuple[str, str]] = {
    "sites": ("还需 {n} 个5G基站", "needs {n} more 5G base stations"),
    "sites_4g": ("还需 {n} 个4G基站", "needs {n} more 4G base stations"),
    "persons": ("还需覆盖 {n} 人", "needs {n} more people covered"),
    "km2": ("还需覆盖 {n} km²", "needs {n} km² more covered"),
    "key_places": ("还需 {n} 个重点场所通达", "needs {n} more key places reached"),
    "villages": ("还需 {n} 个行政村通达", "needs {n} more villages reached"),
    "households": ("还需 {n} 户千兆覆盖家庭", "needs {n} more gigabit-capable households"),
    "ports": ("还需 {n} 个10G-PON端口", "needs {n} more 10G-PON ports"),
    "users": ("还需 {n} 户用户", "needs {n} more users"),
    "users:users_500m_share": ("还需 {n} 户500M及以上用户", "needs {n} more 500 Mbps+ users"),
    "users:users_1000m_share": ("还需 {n} 户千兆用户", "needs {n} more gigabit users"),
    "users:users_1000m_count": ("还需 {n} 户千兆用户", "needs {n} more gigabit users"),
    "users:users_5g_share": ("还需 {n} 个5G用户", "needs {n} more 5G users"),
    "cities": ("还需 {n} 个城市达标", "needs {n} more cities meeting the standard"),
}


def _lang_join(zh: str, en: str, language: Language) -> str:
    if language == "zh":
        return zh
    if language == "en":
        return en
    if not zh:
        return en
    if not en or zh == en:
        return zh
    return f"{zh} / {en}"


class Labeler:
    """Bilingual (or single-language) labels, following ``[report] language``."""

    def __init__(self, language: Language = "both", definitions: Any = None):
        self.language: Language = language
        self._defs: dict[str, Any] = {}
        for d in definitions or []:
            key = getattr(d, "key", None)
            if key:
                self._defs[key] = d

    def __call__(self, zh: str, en: str) -> str:
        return _lang_join(zh, en, self.language)

    def level(self, level: str) -> str:
        zh, en = LEVEL_NAMES.get(level, (level, level))
        return self(zh, en)

    def status(self, status: str) -> str:
        zh, en = STATUS_NAMES.get(status, (str(status), str(status)))
        return self(zh, en)

    def indicator(self, key: str) -> IndicatorLabel:
        return indicator_labels(key, self._defs.get(key))

    def indicator_name(self, key: str) -> str:
        lab = self.indicator(key)
        return self(lab.name_zh, lab.name_en)

    def indicator_header(self, key: str) -> str:
        """``"每万人拥有5G基站数 / 5G base stations per 10,000 people (个/万人 sites per 10k people)"``."""
        lab = self.indicator(key)
        unit = (
            lab.unit_zh
            if lab.unit_zh == lab.unit_en
            else self(lab.unit_zh, lab.unit_en).replace(" / ", " ")
        )
        return f"{self(lab.name_zh, lab.name_en)} ({unit})"

    def shortfall(self, shortfall: Any, unit: Any, indicator: str = "") -> str:
        return shortfall_text(shortfall, unit, self.language, indicator)


def indicator_labels(key: str, definition: Any = None) -> IndicatorLabel:
    """The label of an indicator: from its definition when given, else the catalogue.

    Unknown keys get their key as a name; ``_share`` / ``_coverage`` / ``_reach`` keys count as
    ratios.
    """
    base = _CATALOGUE.get(key)
    if base is None:
        ratio = is_ratio(key, getattr(definition, "unit", None))
        base = IndicatorLabel(
            key, key, key, "%" if ratio else "", "%" if ratio else "", ratio, 1 if ratio else 2
        )
    if definition is None:
        return base
    unit = getattr(definition, "unit", None)
    ratio = is_ratio(key, unit) if unit else base.ratio
    zh = getattr(definition, "name_zh", None) or base.name_zh
    en = getattr(definition, "name_en", None) or base.name_en
    if ratio:
        unit_zh = unit_en = "%"
    elif unit and not base.unit_en:
        unit_zh, unit_en = _UNIT_NAMES.get(str(unit), (str(unit), str(unit)))
    else:
        unit_zh, unit_en = base.unit_zh, base.unit_en
    return IndicatorLabel(key, zh, en, unit_zh, unit_en, ratio, base.decimals)


def is_ratio(key: str, unit: str | None = None) -> bool:
    """True when the indicator is a fraction 0–1 (shown as a percentage)."""
    if unit:
        u = str(unit).strip().lower()
        if u in _RATIO_UNITS:
            return True
        if key not in _CATALOGUE:
            return False
    if key in _CATALOGUE:
        return _CATALOGUE[key].ratio
    stem = key.removesuffix("_5g").removesuffix("_4g")
    return stem.endswith(("_share", "_coverage", "_reach"))


def _fmt_count(x: float) -> str:
    if float(x).is_integer():
        return f"{x:,.0f}"
    return f"{x:,.1f}"


def shortfall_text(
    shortfall: Any, unit: Any, language: Language = "both", indicator: str = ""
) -> str:
    """``"还需 37 个5G基站 / needs 37 more 5G base stations"``; empty when there is no shortfall.

    ``unit`` is the compliance table's ``shortfall_unit`` (``sites``, ``households``, ``users``,
    ``key_places``, ...); ``indicator`` picks the phrase where the unit alone is ambiguous.
    Unknown units read ``needs N more <unit>``.
    """
    if is_missing(shortfall) or float(shortfall) <= 0:
        return ""
    n = _fmt_count(float(shortfall))
    u = "" if is_missing(unit) else str(unit).strip()
    key = u.lower()
    if key == "sites" and indicator.endswith("_4g"):
        key = "sites_4g"
    phrase = _SHORTFALL_PHRASES.get(f"{key}:{indicator}") or _SHORTFALL_PHRASES.get(key)
    if phrase is None:
        zh, en = f"还需 {n} {u}".strip(), f"needs {n} more {u}".strip()
    else:
        zh, en = phrase[0].format(n=n), phrase[1].format(n=n)
    return _lang_join(zh, en, language)


def excel_number_format(label: IndicatorLabel) -> str:
    """Number format of the indicator's value cells (ratios as percentages, never text)."""
    if label.ratio:
        return "0.0%"
    if label.decimals == 0:
        return "#,##0"
    return "#,##0." + "0" * label.decimals


def excel_threshold_format(
    label: IndicatorLabel, op: Any, threshold: Any, confirmed: bool = True
) -> str:
    """Number format of a threshold cell: the comparison sign and, if unconfirmed, a ``*``.

    The cell holds the threshold as a number (a fraction for ratios); the sign is only format.
    """
    sym = OP_SYMBOLS.get(str(op), "")
    t = 0.0 if is_missing(threshold) else float(threshold)
    if label.ratio:
        body = "0%" if float(round(t * 100, 6)).is_integer() else "0.0%"
    else:
        body = "#,##0" if float(t).is_integer() else "#,##0.0#"
    prefix = f'"{sym} "' if sym else ""
    star = '"*"' if not confirmed else ""
    return f"{prefix}{body}{star}"
