"""Operator names: what site lists write (``移动``, ``中国移动``, ``CMCC``, PLMN ``46000``/``460-02``,
…) → one canonical name (``"China Mobile"``, ``"China Telecom"``, ``"China Unicom"``,
``"China Broadnet"``), the label reports show (``"中国移动 China Mobile"``) and the short id of
file and layer names (``cmcc``)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

import numpy as np

from .errors import ConfigError

__all__ = [
    "OPERATORS",
    "OPERATOR_ZH",
    "OPERATORS_BY_PLMN",
    "normalise_operator",
    "parse_operator",
    "parse_operators",
    "operator_label",
    "operator_slug",
    "cached_normaliser",
]


#: The four operators with 5G licences, in the order reports list them.
OPERATORS: tuple[str, ...] = ("China Mobile", "China Telecom", "China Unicom", "China Broadnet")


OPERATOR_ZH: dict[str, str] = {
    "China Mobile": "中国移动",
    "China Telecom": "中国电信",
    "China Unicom": "中国联通",
    "China Broadnet": "中国广电",
}


_SLUG = {
    "China Mobile": "cmcc",
    "China Telecom": "ctcc",
    "China Unicom": "cucc",
    "China Broadnet": "cbn",
}


#: MCC-MNC → operator (MNCs of China's operators).
OPERATORS_BY_PLMN: dict[str, str] = {
    **{f"460-{m}": "China Mobile" for m in ("00", "02", "04", "07", "08")},
    **{f"460-{m}": "China Unicom" for m in ("01", "06", "09")},
    **{f"460-{m}": "China Telecom" for m in ("03", "05", "11")},
    "460-15": "China Broadnet",
}


_OPERATOR_WORDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("中国移动", "移动", "cmcc", "chinamobile", "cm", "mobile"), "China Mobile"),
    (("中国联通", "联通", "cucc", "chinaunicom", "cu", "unicom"), "China Unicom"),
    (("中国电信", "电信", "ctcc", "chinatelecom", "ct", "telecom"), "China Telecom"),
    (("中国广电", "广电", "cbn", "chinabroadnet", "broadnet", "中国广电网络"), "China Broadnet"),
    (("中国铁塔", "铁塔", "chinatower", "tower"), "China Tower"),
)


def normalise_operator(value: Any) -> str:
    """The canonical operator name of what a site list writes; ``""`` for nothing.

    ``"移动"``, ``"中国移动"``, ``"CMCC"``, ``"China Mobile"``, ``"46000"``, ``"460-02"`` →
    ``"China Mobile"``; ``"电信"``/``"CTCC"``/``46003``/``46011`` → ``"China Telecom"``;
    ``"联通"``/``"CUCC"``/``46001``/``46006`` → ``"China Unicom"``; ``"广电"``/``"CBN"``/``46015``
    → ``"China Broadnet"``. Anything else comes back cleaned but unchanged (an unknown operator).
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    t = unicodedata.normalize("NFKC", str(value)).strip()
    key = re.sub(r"[\s_\-.]+", "", t).lower()
    if not key or key in ("nan", "none"):
        return ""
    for words, name in _OPERATOR_WORDS:
        if key in words:
            return name
    # a longer name that holds one operator's word: 泉州电信, 联通泉州分公司, China Mobile Fujian
    # (a Chinese word of two characters counts here too; a text naming two operators, such as
    # 电信联通共建, is no one operator's)
    found = {
        name
        for words, name in _OPERATOR_WORDS
        for w in words
        if (len(w) > 2 or not w.isascii()) and w in key
    }
    if len(found) == 1:
        return found.pop()
    m = re.fullmatch(r"(\d{3})-?(\d{2,3})", re.sub(r"\s+", "", t))
    if m:
        plmn = f"{m.group(1)}-{m.group(2)}"
        return OPERATORS_BY_PLMN.get(plmn, plmn)
    return t


def parse_operator(text: str, where: str = "operator") -> str:
    """A known operator from user text (CLI ``--operator``, scenario keys), else ConfigError."""
    name = normalise_operator(text)
    if name not in OPERATORS:
        known = ", ".join(f"{OPERATOR_ZH[o]} ({o})" for o in OPERATORS)
        raise ConfigError(f"{where}: {text!r} is not an operator gigacov knows ({known})")
    return name


def parse_operators(values: Iterable[str], where: str) -> list[str]:
    return [parse_operator(v, where) for v in values]


def operator_label(name: str) -> str:
    """``"China Mobile"`` → ``"中国移动 China Mobile"``; other names unchanged."""
    zh = OPERATOR_ZH.get(name)
    return f"{zh} {name}" if zh else str(name)


def operator_slug(name: str) -> str:
    """Short ASCII id for file and layer names: ``cmcc``, ``ctcc``, ``cucc``, ``cbn``."""
    return _SLUG.get(name) or re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-")


def cached_normaliser():
    """:func:`normalise_operator` with a cache, for mapping a column of repeated names."""
    cache: dict[Any, str] = {}

    def norm(v: Any) -> str:
        try:
            return cache[v]
        except (KeyError, TypeError):
            r = normalise_operator(v)
            try:
                cache[v] = r
            except TypeError:
                pass
            return r

    return norm
