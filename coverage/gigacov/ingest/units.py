"""Values with units as operators write them: coordinates in DMS, metres, degrees, MHz/kHz,
dBm/W, dBi, and commissioning dates.

The ``*_unit(number, unit)`` parsers are handed to :func:`~gigacov.ingest._common.parse_numbers`:
they convert a number followed by a unit (``"30m"``, ``"40 W"``, ``"118°35'20\""``) to the
column's unit, or return None when the unit is not understood (the row is then rejected
``not_a_number``). They run once per *distinct* odd spelling, never per row.
"""

from __future__ import annotations

import math
import re
import unicodedata

import numpy as np
import pandas as pd

from ._common import Parsed, fast_float, is_missing, parse_numbers

__all__ = [
    "coord_unit",
    "parse_coordinates",
    "metres_unit",
    "angle_unit",
    "khz_unit",
    "mhz_unit",
    "bandwidth_unit",
    "omni_azimuths",
    "dbm_unit",
    "dbi_unit",
    "power_to_dbm",
    "is_plain_number",
    "parse_years",
    "planned_dates",
    "PLANNED_WORDS",
]

#: Degrees–minutes–seconds after the degrees: minutes marked ' ′ ’ or 分, seconds " ″ ” 秒 or a
#: doubled minute mark ('' ′′ ’’: NFKC turns the double prime ″ into two primes).
_DMS_RE = re.compile(
    r"^[°度]\s*(?:(\d+(?:\.\d+)?)\s*['′’分])?\s*"
    r"(?:(\d+(?:\.\d+)?)\s*(?:[\"″”秒]|''|′′|’’)?)?$"
)
#: A hemisphere written after the value: a letter or a Chinese word (东经 / 北纬 / 东 / 北 …).
_HEMI_SUFFIX_RE = re.compile(r"\s*(东经|西经|北纬|南纬|[ensw东西南北])$")
#: A hemisphere written before the value: ``E118°37'36"``, ``东经118°37′36″``, ``N24.87``,
#: ``北纬:24.87``.
_HEMI_PREFIX_RE = re.compile(
    r"^\s*(东经|西经|北纬|南纬|[东西南北]|[ENSWensw])\s*[:：]?\s*(?=[\d.])"
)
_NEGATIVE = ("w", "s", "西", "南", "西经", "南纬")


def coord_unit(num: float, unit: str) -> float | None:
    """A coordinate's number and what follows it: ``°``, DMS (``°37'36.13"``, ``度37分36秒``) and
    a hemisphere letter or word (``E``, ``N``, ``东经``, ``北纬``; ``W``/``S``/西/南 negative)."""
    u = unit.strip().lower()
    sign = 1.0
    m = _HEMI_SUFFIX_RE.search(u)
    if m:
        sign = -1.0 if m.group(1) in _NEGATIVE else 1.0
        u = u[: m.start()].strip()
    if u in ("", "°", "度"):
        return sign * num
    m = _DMS_RE.match(u)
    if m:
        minutes = float(m.group(1) or 0.0)
        seconds = float(m.group(2) or 0.0)
        return sign * (num + minutes / 60.0 + seconds / 3600.0)
    return None


def parse_coordinates(raw: pd.Series) -> Parsed:
    """A longitude or latitude column: decimal degrees or DMS, with the hemisphere as a suffix
    (``118.6E``, ``24°52′10″N``, ``118°37′36″东经``) or a prefix (``E118°37'36.13"``,
    ``东经118°37′36″``, ``北纬24°52′10″``, ``N24.87``). ``W``/``S``/西经/南纬 make the value
    negative (it then fails the region check like any other point outside)."""
    if raw.dtype.kind not in "iufb":
        try:
            pre = raw.str.match(_HEMI_PREFIX_RE, na=False).to_numpy(dtype=bool)
        except AttributeError:  # no text in the column
            pre = np.zeros(len(raw), dtype=bool)
        if pre.any():
            moved = raw[pre].astype(str).map(_prefix_to_suffix)
            raw = raw.astype(object).copy()
            raw[pre] = moved
    return parse_numbers(raw, coord_unit)


def _prefix_to_suffix(text: str) -> str:
    m = _HEMI_PREFIX_RE.match(text)
    return text if m is None else text[m.end() :].strip() + m.group(1)


def metres_unit(num: float, unit: str) -> float | None:
    u = unit.strip().lower()
    return num if u in ("m", "米", "meter", "meters", "metre", "metres") else None


def angle_unit(num: float, unit: str) -> float | None:
    u = unit.strip().lower()
    return num if u in ("°", "度", "deg", "degree", "degrees") else None


#: An azimuth that says the antenna is omnidirectional: ``全向``, ``omni``, ``360°全向``.
_OMNI_RE = re.compile(
    r"^(?:360\s*[°度]?\s*)?(?:全向(?:天线)?|omni(?:directional)?)(?:\s*360\s*[°度]?)?$"
)


def omni_azimuths(raw: pd.Series) -> np.ndarray:
    """Cells of an azimuth column that say "omnidirectional" (``全向``, ``omni``, ``360°全向``):
    such a cell has no azimuth, like an empty one."""
    if raw.dtype.kind in "iufbM":
        return np.zeros(len(raw), dtype=bool)
    text = raw.astype(object).map(
        lambda t: unicodedata.normalize("NFKC", t).strip().lower() if isinstance(t, str) else ""
    )
    return text.str.match(_OMNI_RE).to_numpy(dtype=bool, na_value=False)


#: An FDD pair written as "2×30MHz" / "2*30M" / "2x20M": the channel bandwidth is the 30 MHz.
_PAIRED_RE = re.compile(r"^[×x*]\s*(\d+(?:\.\d+)?)\s*(mhz|m|兆)?$")


def bandwidth_unit(num: float, unit: str) -> float | None:
    """A bandwidth with a unit (:func:`mhz_unit`), or an FDD pair ``2×30MHz`` → 30 (MHz): the
    uplink and downlink each 30 MHz wide, the channel bandwidth 30 MHz."""
    m = _PAIRED_RE.match(unit.strip().lower())
    if m and num == 2:
        return float(m.group(1))
    return mhz_unit(num, unit)


def khz_unit(num: float, unit: str) -> float | None:
    u = unit.strip().lower()
    return num if u in ("khz", "k") else None


def mhz_unit(num: float, unit: str) -> float | None:
    u = unit.strip().lower()
    if u in ("mhz", "m", "兆", "m带宽"):
        return num
    if u in ("khz", "k"):
        return num / 1000.0
    if u in ("ghz", "g"):
        return num * 1000.0
    return None


def dbm_unit(num: float, unit: str) -> float | None:
    u = unit.strip().lower()
    if u == "dbm":
        return num
    if u in ("w", "瓦"):
        return 10 * math.log10(num) + 30 if num > 0 else None
    if u == "mw":
        return 10 * math.log10(num) if num > 0 else None
    if u == "kw":
        return 10 * math.log10(num) + 60 if num > 0 else None
    return None


def dbi_unit(num: float, unit: str) -> float | None:
    return num if unit.strip().lower() in ("dbi", "db", "dbd") else None


def power_to_dbm(values: np.ndarray, header_unit: str) -> np.ndarray:
    """Plain numbers in a power column: dBm unless the header says W / mW / kW."""
    u = header_unit.lower()
    with np.errstate(divide="ignore", invalid="ignore"):
        if u in ("w", "瓦"):
            return np.where(values > 0, 10 * np.log10(values) + 30, np.nan)
        if u == "mw":
            return np.where(values > 0, 10 * np.log10(values), np.nan)
        if u == "kw":
            return np.where(values > 0, 10 * np.log10(values) + 60, np.nan)
    return values


def is_plain_number(raw: pd.Series) -> np.ndarray:
    if raw.dtype.kind in "iuf":
        return np.ones(len(raw), dtype=bool)
    return np.isfinite(pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan))


_YEAR_RE = r"((?:19|20)\d{2})"


#: A date's month and day after its year: "2024-06-30", "2024/6/30", "2024.6", "2024年6月30日".
_DATE_PARTS_RE = r"^(?:19|20)\d{2}\s*[-/.年]\s*(\d{1,2})(?:\s*[-/.月]\s*(\d{1,2}))?(?:\D|$)"


def _valid_dates(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Whether each (year, month, day) is a date of the calendar (month 1–12, day in month)."""
    year = np.asarray(year, dtype=float)
    month = np.asarray(month, dtype=float)
    day = np.asarray(day, dtype=float)
    ok = np.isfinite(year) & (month >= 1) & (month <= 12) & (day >= 1)
    mdays = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=float)
    leap = (np.nan_to_num(year) % 4 == 0) & (
        (np.nan_to_num(year) % 100 != 0) | (np.nan_to_num(year) % 400 == 0)
    )
    m = np.clip(np.nan_to_num(month), 1, 12).astype(int) - 1
    last = mdays[m] + ((m == 1) & leap)
    return ok & (day <= last)


def parse_years(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Commissioning dates/years → year (float, NaN = none) and a bad-value mask, vectorised.

    Accepts years (2021), dates in any common spelling (2021-06-30, 2021/6/30, 2021年6月,
    20210630), datetimes from spreadsheets, Excel serial day numbers, and Unix seconds.
    """
    n = len(s)
    miss = is_missing(s)
    year = np.full(n, np.nan)
    if s.dtype.kind == "M":
        year = s.dt.year.to_numpy(dtype=float, na_value=np.nan)
        return year, np.zeros(n, dtype=bool)
    if s.dtype == object:
        is_dt = s.map(lambda v: hasattr(v, "year") and not isinstance(v, str)).to_numpy(dtype=bool)
        if is_dt.any():
            year[is_dt] = [v.year for v in s[is_dt]]
    else:
        is_dt = np.zeros(n, dtype=bool)
    num = (
        fast_float(s)
        if not is_dt.any()
        else pd.to_numeric(s.where(~is_dt, None), errors="coerce").to_numpy(
            dtype=float, na_value=np.nan
        )
    )
    fin = np.isfinite(num) & ~is_dt & ~miss
    y = np.full(n, np.nan)
    y = np.where(fin & (num >= 1900) & (num <= 2100), np.floor(num), y)
    ymd = fin & (num >= 19000101) & (num <= 21001231)
    no_date = np.zeros(n, dtype=bool)
    if ymd.any():  # 20240315; 20241301 has no month 13: no date
        whole = np.floor(num[ymd])
        ok = _valid_dates(whole // 10000, (whole // 100) % 100, whole % 100)
        y[np.flatnonzero(ymd)[ok]] = whole[ok] // 10000
        no_date[np.flatnonzero(ymd)[~ok]] = True
    serial = fin & (num >= 20000) & (num < 80000)  # Excel day numbers (1954–2119)
    if serial.any():
        y[serial] = (pd.Timestamp("1899-12-30") + pd.to_timedelta(num[serial], unit="D")).year
    unix = fin & (num >= 1e8) & (num < 5e9)
    if unix.any():
        y[unix] = pd.to_datetime(num[unix], unit="s").year
    year = np.where(np.isfinite(y), y, year)
    text = ~miss & ~is_dt & ~np.isfinite(year) & ~no_date
    if text.any():
        idx = np.flatnonzero(text)
        sub = s.iloc[idx].astype("str").str.strip()
        # fast path: text starting with a year ("2021-06-30", "2021/6/30", "2021年3月")
        lead = sub.str.match(r"(?:19|20)\d{2}(?:\D|$)").to_numpy(dtype=bool, na_value=False)
        year[idx[lead]] = fast_float(sub[lead].str.slice(0, 4))
        # … whose month and day, when given, exist ("2024-13-01", "2023-02-30" are no dates)
        parts = sub[lead].str.extract(_DATE_PARTS_RE)
        if parts[0].notna().any():
            mon = pd.to_numeric(parts[0], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            day = pd.to_numeric(parts[1], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            day = np.where(np.isfinite(day), day, 1.0)
            yr = year[idx[lead]]
            given = np.isfinite(mon)
            ok = _valid_dates(yr, np.where(given, mon, 1.0), day)
            year[idx[lead][given & ~ok]] = np.nan
        rest = idx[~lead]
        if rest.size:
            extracted = s.iloc[rest].astype("str").str.extract(_YEAR_RE, expand=False)
            year[rest] = pd.to_numeric(extracted, errors="coerce").to_numpy(
                dtype=float, na_value=np.nan
            )
    bad = ~miss & ~np.isfinite(year)
    return year, bad


#: Words a commissioning-date cell holds for a site that is not on air yet (planned, being built,
#: waiting to be switched on): such a row is skipped (``not_yet_commissioned``), not rejected.
PLANNED_WORDS: tuple[str, ...] = (
    "待开通",
    "未开通",
    "待开",
    "未开",
    "规划",
    "在建",
    "拟建",
    "待建",
    "未建",
    "筹建",
    "建设中",
    "计划",
    "待入网",
    "未入网",
    "待启用",
    "未启用",
    "planned",
    "planning",
    "underconstruction",
    "notyet",
)


def planned_dates(s: pd.Series, bad: np.ndarray) -> np.ndarray:
    """Among the ``bad`` dates of a commissioning column, those that say the site is planned or
    being built (:data:`PLANNED_WORDS`: ``待开通``, ``未开通``, ``规划``, ``在建`` …)."""
    out = np.zeros(len(s), dtype=bool)
    if not bad.any():
        return out
    idx = np.flatnonzero(bad)
    text = (
        s.iloc[idx]
        .astype("str")
        .map(lambda t: re.sub(r"[\s_\-]+", "", unicodedata.normalize("NFKC", t)).lower())
    )
    words = "|".join(map(re.escape, PLANNED_WORDS))
    out[idx] = text.str.contains(words, regex=True).to_numpy(dtype=bool, na_value=False)
    return out
