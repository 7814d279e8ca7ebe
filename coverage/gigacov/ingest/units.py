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

import numpy as np
import pandas as pd

from ._common import fast_float, is_missing

__all__ = [
    "coord_unit",
    "metres_unit",
    "angle_unit",
    "khz_unit",
    "mhz_unit",
    "dbm_unit",
    "dbi_unit",
    "power_to_dbm",
    "is_plain_number",
    "parse_years",
]

#: Degrees–minutes–seconds after the degrees: minutes marked ' ′ ’ or 分, seconds " ″ ” 秒 or a
#: doubled minute mark ('' ′′ ’’: NFKC turns the double prime ″ into two primes).
_DMS_RE = re.compile(
    r"^[°度]\s*(?:(\d+(?:\.\d+)?)\s*['′’分])?\s*"
    r"(?:(\d+(?:\.\d+)?)\s*(?:[\"″”秒]|''|′′|’’)?)?\s*([ensw东西南北]?)$"
)


def coord_unit(num: float, unit: str) -> float | None:
    u = unit.strip().lower()
    if u in ("e", "n", "东", "北", "°e", "°n", "度"):
        return num
    if u in ("w", "s", "西", "南", "°w", "°s"):
        return -num
    m = _DMS_RE.match(u)
    if m:
        minutes = float(m.group(1) or 0.0)
        seconds = float(m.group(2) or 0.0)
        val = num + minutes / 60.0 + seconds / 3600.0
        return -val if m.group(3) in ("w", "s", "西", "南") else val
    return None


def metres_unit(num: float, unit: str) -> float | None:
    u = unit.strip().lower()
    return num if u in ("m", "米", "meter", "meters", "metre", "metres") else None


def angle_unit(num: float, unit: str) -> float | None:
    u = unit.strip().lower()
    return num if u in ("°", "度", "deg", "degree", "degrees") else None


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
    y = np.where(fin & (num >= 19000101) & (num <= 21001231), np.floor(num / 10000), y)
    serial = fin & (num >= 20000) & (num < 80000)  # Excel day numbers (1954–2119)
    if serial.any():
        y[serial] = (pd.Timestamp("1899-12-30") + pd.to_timedelta(num[serial], unit="D")).year
    unix = fin & (num >= 1e8) & (num < 5e9)
    if unix.any():
        y[unix] = pd.to_datetime(num[unix], unit="s").year
    year = np.where(np.isfinite(y), y, year)
    text = ~miss & ~is_dt & ~np.isfinite(year)
    if text.any():
        idx = np.flatnonzero(text)
        sub = s.iloc[idx].astype("str").str.strip()
        # fast path: text starting with a year ("2021-06-30", "2021/6/30", "2021年3月")
        lead = sub.str.match(r"(?:19|20)\d{2}(?:\D|$)").to_numpy(dtype=bool, na_value=False)
        year[idx[lead]] = fast_float(sub[lead].str.slice(0, 4))
        rest = idx[~lead]
        if rest.size:
            extracted = s.iloc[rest].astype("str").str.extract(_YEAR_RE, expand=False)
            year[rest] = pd.to_numeric(extracted, errors="coerce").to_numpy(
                dtype=float, na_value=np.nan
            )
    bad = ~miss & ~np.isfinite(year)
    return year, bad
