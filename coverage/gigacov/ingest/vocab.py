"""Technology and operator vocabularies of site lists: ``"NR SA"`` → 5G, ``"TDD-LTE"`` → 4G,
``"中国移动"`` / ``"CMCC"`` / ``46000`` → China Mobile."""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

__all__ = ["OPERATORS_BY_PLMN", "normalise_tech", "normalise_operator", "map_unique"]

OPERATORS_BY_PLMN: dict[str, str] = {
    **{f"460-{m}": "China Mobile" for m in ("00", "02", "04", "07", "08")},
    **{f"460-{m}": "China Unicom" for m in ("01", "06", "09")},
    **{f"460-{m}": "China Telecom" for m in ("03", "05", "11")},
    "460-15": "China Broadnet",
}


_TECH_5G = {
    "5G",
    "NR",
    "SA",
    "NSA",
    "5GNR",
    "NRSA",
    "NRNSA",
    "5GSA",
    "5GNSA",
    "5GNRSA",
    "5GNRNSA",
    "NR5G",
}
_TECH_4G = {
    "4G",
    "LTE",
    "FDD",
    "TDD",
    "TDDLTE",
    "FDDLTE",
    "LTEFDD",
    "LTETDD",
    "TDLTE",
    "4G+",
    "LTEA",
    "LTEADVANCED",
    "4GLTE",
    "EUTRA",
    "EUTRAN",
    "LTE+",
    "4GFDD",
    "4GTDD",
}
_TECH_OLD = {
    "2G",
    "3G",
    "GSM",
    "UMTS",
    "CDMA",
    "WCDMA",
    "TDSCDMA",
    "CDMA2000",
    "EVDO",
    "GPRS",
    "EDGE",
    "HSPA",
    "HSPA+",
    "1X",
    "CDMA1X",
    "DCS",
}

_OPERATOR_WORDS = [
    (("中国移动", "移动", "cmcc", "chinamobile", "cm", "mobile"), "China Mobile"),
    (("中国联通", "联通", "cucc", "chinaunicom", "cu", "unicom"), "China Unicom"),
    (("中国电信", "电信", "ctcc", "chinatelecom", "ct", "telecom"), "China Telecom"),
    (("中国广电", "广电", "cbn", "chinabroadnet", "broadnet", "中国广电网络"), "China Broadnet"),
    (("中国铁塔", "铁塔", "chinatower", "tower"), "China Tower"),
]


def normalise_tech(value) -> str:
    """``"NR SA"`` → ``"5G"``, ``"TDD-LTE"`` → ``"4G"``, ``"GSM"`` → ``"old"``, else ``""``."""
    t = unicodedata.normalize("NFKC", str(value)).upper()
    t = re.sub(r"[\s_\-/()（）.]+", "", t)
    if t in _TECH_5G:
        return "5G"
    if t in _TECH_4G:
        return "4G"
    if t in _TECH_OLD:
        return "old"
    if "5G" in t or t.startswith("NR"):
        return "5G"
    if "4G" in t or "LTE" in t:
        return "4G"
    if any(o in t for o in ("GSM", "CDMA", "UMTS", "2G", "3G")):
        return "old"
    return ""


def normalise_operator(value) -> str:
    t = unicodedata.normalize("NFKC", str(value)).strip()
    key = re.sub(r"[\s_\-.]+", "", t).lower()
    if not key:
        return ""
    for words, name in _OPERATOR_WORDS:
        if key in words or any(w in key for w in words if len(w) > 2):
            return name
    m = re.fullmatch(r"(\d{3})-?(\d{2,3})", key)
    if m:
        plmn = f"{m.group(1)}-{m.group(2)}"
        return OPERATORS_BY_PLMN.get(plmn, plmn)
    return t


def map_unique(s: pd.Series, func) -> pd.Series:
    uniq = pd.unique(s)
    table = {u: func(u) for u in uniq}
    return s.map(table)
