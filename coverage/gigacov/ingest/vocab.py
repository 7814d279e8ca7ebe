"""Technology and operator vocabularies of site lists: ``"NR SA"`` → 5G, ``"TDD-LTE"`` → 4G,
``"中国移动"`` / ``"CMCC"`` / ``46000`` → China Mobile."""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

from ..operator_names import OPERATORS_BY_PLMN, normalise_operator

__all__ = ["OPERATORS_BY_PLMN", "normalise_tech", "normalise_operator", "map_unique"]

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


def map_unique(s: pd.Series, func) -> pd.Series:
    uniq = pd.unique(s)
    table = {u: func(u) for u in uniq}
    return s.map(table)
