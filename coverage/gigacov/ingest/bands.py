"""Radio parameters of a cell from what operators write: band names, ARFCNs, N_RB.

* **Band names** → centre frequency in MHz. NR bands (``n78``) and LTE bands (``B3``) map to the
  centre of the downlink range the Chinese operators use (or of the whole band where they share
  it); the values are representative, a few tens of MHz off at most, which changes path loss by
  well under 0.5 dB. Plain frequency spellings (``"2.6G"``, ``"3.5GHz"``, ``"700M"``) are read as
  numbers with a unit; China Mobile's TD-LTE band letters (A/D/E/F频段) are understood too.
* **Frequency ranges** (``"2515-2675MHz"``, ``"3.4~3.5GHz"``) → the centre of the range. A range
  exactly one channel wide (a channel bandwidth of the row's technology: NR 5–100 MHz, LTE
  1.4–20 MHz) is the carrier itself; a wider one (China Mobile's whole 160 MHz allocation
  ``2515-2675MHz``) names an allocation, i.e. a band, and the operator's carrier in it applies.
* **Band and technology.** A band spelling of the other technology (China Mobile's ``D频段`` is
  LTE band 41; ``B3``, ``n41`` …) on a row of a given technology means the same frequencies in that
  technology's band: ``b41`` on an NR row is ``n41``, ``n3`` on an LTE row is ``b3``
  (:func:`band_for_tech`).
* **ARFCN** (``频点`` / ``下行频点`` / ``earfcn`` columns hold channel numbers, not MHz: a whole
  number there is an ARFCN even when it would also be a frequency in a band): NR-ARFCN → MHz by
  TS 38.104 §5.4.2.1 (global raster: 5 kHz below 3 GHz, 15 kHz from 3 to 24.25 GHz); EARFCN →
  MHz by TS 36.104 §5.7.3, ``F_DL = F_DL_low + 0.1 (N_DL − N_Offs-DL)``, for the LTE bands used
  in China.
* **N_RB** — transmission bandwidth configuration: NR from TS 38.101-1 Table 5.3.2-1 (FR1, by
  channel bandwidth and sub-carrier spacing), LTE from TS 36.101 Table 5.6-1.
"""

from __future__ import annotations

import math
import re
import unicodedata

import numpy as np

from ..radio_defaults import CELL

__all__ = [
    "NR_N_RB",
    "LTE_N_RB",
    "BAND_CENTRE_MHZ",
    "parse_band",
    "n_rb_for",
    "nr_arfcn_to_mhz",
    "earfcn_to_mhz",
    "valid_bandwidths",
    "default_bandwidth",
    "is_arfcn_header",
    "freq_text",
    "arfcn_or_mhz",
    "is_range",
    "band_name",
    "band_for_tech",
    "range_width",
    "is_carrier_width",
]

#: TS 38.101-1 Table 5.3.2-1 (FR1): N_RB by SCS (kHz) and channel bandwidth (MHz).
NR_N_RB: dict[int, dict[float, int]] = {
    15: {5: 25, 10: 52, 15: 79, 20: 106, 25: 133, 30: 160, 35: 188, 40: 216, 45: 242, 50: 270},
    30: {
        5: 11,
        10: 24,
        15: 38,
        20: 51,
        25: 65,
        30: 78,
        35: 92,
        40: 106,
        45: 119,
        50: 133,
        60: 162,
        70: 189,
        80: 217,
        90: 245,
        100: 273,
    },
    60: {
        10: 11,
        15: 18,
        20: 24,
        25: 31,
        30: 38,
        35: 44,
        40: 51,
        45: 58,
        50: 65,
        60: 79,
        70: 93,
        80: 107,
        90: 121,
        100: 135,
    },
}

#: TS 36.101 Table 5.6-1: LTE N_RB by channel bandwidth (MHz); SCS is always 15 kHz.
LTE_N_RB: dict[float, int] = {1.4: 6, 3: 15, 5: 25, 10: 50, 15: 75, 20: 100}

#: Band → (centre MHz, technology hint or "", typical channel bandwidth MHz in China).
BAND_CENTRE_MHZ: dict[str, tuple[float, str, float]] = {
    # NR (downlink ranges; China's allocations)
    "n78": (3500.0, "5G", 100.0),  # 3300–3800; CT/CU share 3400–3600
    "n77": (3700.0, "5G", 100.0),
    "n79": (4850.0, "5G", 100.0),  # CMCC 4800–4900
    "n41": (2565.0, "5G", 100.0),  # CMCC 2515–2675, 100 MHz NR carrier 2515–2615
    "n28": (773.0, "5G", 30.0),  # CBN/CMCC 758–788
    "n1": (2140.0, "5G", 20.0),  # 2110–2170
    "n3": (1842.5, "5G", 20.0),
    "n8": (942.5, "5G", 10.0),
    "n5": (881.5, "5G", 10.0),
    "n40": (2350.0, "5G", 50.0),
    "n34": (2017.5, "5G", 15.0),  # 2010–2025
    "n38": (2595.0, "5G", 20.0),
    "n39": (1900.0, "5G", 40.0),  # 1880–1920
    # LTE
    "b1": (2140.0, "4G", 20.0),
    "b3": (1842.5, "4G", 20.0),  # 1805–1880
    "b5": (881.5, "4G", 10.0),
    "b8": (942.5, "4G", 10.0),  # 925–960
    "b28": (780.5, "4G", 10.0),  # 758–803
    "b34": (2017.5, "4G", 15.0),  # 2010–2025 (China Mobile "A")
    "b38": (2595.0, "4G", 20.0),
    "b39": (1900.0, "4G", 20.0),  # 1880–1920 (China Mobile "F")
    "b40": (2350.0, "4G", 20.0),  # 2300–2400 (China Mobile "E", indoor)
    "b41": (2593.0, "4G", 20.0),  # 2496–2690 (China Mobile "D")
}

# China Mobile's TD-LTE band letters.
_LETTER_BANDS = {"a": "b34", "d": "b41", "e": "b40", "f": "b39"}

_BAND_RE = re.compile(r"^(?:band|频段)?\s*([nb])\s*(\d{1,3})$")
_LTE_WORD_RE = re.compile(
    r"^(?:lte|fdd|tdd|tdlte|fddlte|tddlte|lte?fdd|ltetdd)?(?:band|b)?(\d{1,3})$"
)
_LETTER_RE = re.compile(r"^(?:td-?lte|tdd)?\s*([adef])\s*(?:频段|频|band)?$")
_FREQ_RE = re.compile(r"^([0-9]+(?:\.[0-9]+)?)\s*(ghz|mhz|khz|hz|g|m|k)?$")
_FDD_FREQ_RE = re.compile(r"^(?:fdd|tdd|lte|nr)?-?([0-9]{3,4})(?:m|mhz)?$")
#: A frequency range: "2515-2675MHz", "3.4~3.5GHz", "1850至1870M".
_RANGE_RE = re.compile(
    r"^([0-9]+(?:\.[0-9]+)?)(ghz|mhz|g|m)?[-~–—至到]([0-9]+(?:\.[0-9]+)?)(ghz|mhz|g|m)?$"
)
#: Channel bandwidths (MHz) a range of that width can be one carrier of.
_CARRIER_WIDTHS = (5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0)


def parse_band(text: str) -> tuple[float, str, float] | None:
    """``"n78"`` → ``(3500.0, "5G", 100.0)``; ``"2.6G"`` → ``(2600.0, "", nan)``.

    Returns (centre MHz, technology hint "5G"/"4G"/"", typical bandwidth MHz or NaN), or None
    when the text is not a band or frequency spelling.
    """
    t = _clean(text)
    if not t:
        return None
    m = _RANGE_RE.match(t)
    if m:
        return _range(m)
    key = band_name(t)
    if key:
        return BAND_CENTRE_MHZ[key]
    if _BAND_RE.match(t):
        return None
    m = _FREQ_RE.match(t)
    if m:
        num = float(m.group(1))
        unit = m.group(2) or ""
        mhz = _freq_to_mhz(num, unit)
        return None if mhz is None else (mhz, "", math.nan)
    m = _FDD_FREQ_RE.match(t)  # "FDD1800", "LTE900"
    if m:
        mhz = float(m.group(1))
        return (
            mhz,
            "4G" if t.startswith(("fdd", "tdd", "lte")) else "5G" if t.startswith("nr") else "",
            math.nan,
        )
    return None


def _clean(text: str) -> str:
    return re.sub(r"[\s_]+", "", unicodedata.normalize("NFKC", str(text)).strip().lower())


def is_range(text: str) -> bool:
    """Whether ``text`` spells a frequency range (``"3400-3500MHz"``, ``"3.4~3.5GHz"``)."""
    return bool(_RANGE_RE.match(_clean(text)))


def range_width(text: str) -> float:
    """Width (MHz) of a frequency range spelling; NaN when ``text`` is not a range."""
    m = _RANGE_RE.match(_clean(text))
    ends = _range_ends(m) if m else None
    return math.nan if ends is None else round(ends[1] - ends[0], 6)


#: Channel bandwidths (MHz) of NR (any sub-carrier spacing, TS 38.101-1) and of LTE.
_NR_WIDTHS = frozenset(float(b) for table in NR_N_RB.values() for b in table)
_LTE_WIDTHS = frozenset(float(b) for b in LTE_N_RB)


def is_carrier_width(width: float, tech: str) -> bool:
    """Whether a range ``width`` MHz wide can be one carrier of ``tech`` ("4G"/"5G")."""
    if not math.isfinite(width):
        return False
    return round(width, 6) in (_LTE_WIDTHS if tech == "4G" else _NR_WIDTHS)


def band_name(text: str) -> str:
    """The band a band spelling names (``"n78"``, ``"b41"`` for ``"D频段"``/``"B41"``/``"Band 41"``;
    a number only the other technology has a band for is that band: ``"B78"`` → ``"n78"``);
    ``""`` for anything else (frequencies, ranges, unknown bands)."""
    t = _clean(text)
    if not t or _RANGE_RE.match(t):
        return ""
    m = _BAND_RE.match(t)
    if m:
        key = f"{m.group(1)}{int(m.group(2))}"
        if key in BAND_CENTRE_MHZ:
            return key
        # "B78" (no LTE band 78) is band 78 of NR, "n39" band 39 of LTE
        other = ("b" if m.group(1) == "n" else "n") + key[1:]
        return other if other in BAND_CENTRE_MHZ else ""
    m = _LETTER_RE.match(t)
    if m:
        return _LETTER_BANDS[m.group(1)]
    return ""


def band_for_tech(key: str, tech: str) -> str:
    """The band of technology ``tech`` on the same frequencies as band ``key``: ``("b41", "5G")``
    → ``"n41"``, ``("n3", "4G")`` → ``"b3"``; ``key`` itself when it already is of ``tech``;
    ``""`` when that technology has no such band here."""
    if not key or key not in BAND_CENTRE_MHZ:
        return ""
    if BAND_CENTRE_MHZ[key][1] == tech:
        return key
    other = ("n" if tech == "5G" else "b") + key[1:]
    return other if other in BAND_CENTRE_MHZ else ""


def _range_ends(m: re.Match) -> tuple[float, float] | None:
    unit = m.group(4) or m.group(2) or "mhz"
    lo = _freq_to_mhz(float(m.group(1)), m.group(2) or unit)
    hi = _freq_to_mhz(float(m.group(3)), unit)
    if lo is None or hi is None or not hi > lo:
        return None
    return lo, hi


def _range(m: re.Match) -> tuple[float, str, float] | None:
    """A frequency range → its centre; its width is the bandwidth when it can be one carrier."""
    ends = _range_ends(m)
    if ends is None:
        return None
    width = round(ends[1] - ends[0], 6)
    bw = width if width in _CARRIER_WIDTHS else math.nan
    return ((ends[0] + ends[1]) / 2.0, "", bw)


def _freq_to_mhz(num: float, unit: str) -> float | None:
    unit = unit.lower()
    if unit in ("ghz", "g"):
        return num * 1000.0
    if unit in ("mhz", "m"):
        return num
    if unit in ("khz", "k"):
        return num / 1000.0
    if unit == "hz":
        return num / 1e6
    if unit == "":
        return guess_mhz(num)
    return None


def guess_mhz(num: float) -> float | None:
    """A unit-less frequency: MHz in 400–52,600, GHz below 60, kHz and Hz by magnitude."""
    if 400.0 <= num <= 52600.0:
        return num
    if 0.4 <= num < 60.0:
        return num * 1000.0
    if 4e5 <= num < 5.26e7:
        return num / 1e3
    if 4e8 <= num < 5.26e10:
        return num / 1e6
    return None


def nr_arfcn_to_mhz(n: np.ndarray) -> np.ndarray:
    """NR-ARFCN → MHz (TS 38.104 §5.4.2.1); NaN outside 0–3,279,165."""
    n = np.asarray(n, dtype=np.float64)
    out = np.full(n.shape, np.nan)
    low = (n >= 0) & (n < 600000)
    mid = (n >= 600000) & (n < 2016667)
    high = (n >= 2016667) & (n <= 3279165)
    out[low] = 0.005 * n[low]
    out[mid] = 3000.0 + 0.015 * (n[mid] - 600000)
    out[high] = 24250.08 + 0.06 * (n[high] - 2016667)
    return out


#: TS 36.104 Table 5.7.3-1: band → (F_DL_low MHz, N_Offs-DL, last EARFCN), bands used in China.
_EARFCN_BANDS = {
    1: (2110.0, 0, 599),
    3: (1805.0, 1200, 1949),
    5: (869.0, 2400, 2649),
    8: (925.0, 3450, 3799),
    34: (2010.0, 36200, 36349),
    38: (2570.0, 37750, 38249),
    39: (1880.0, 38250, 38649),
    40: (2300.0, 38650, 39649),
    41: (2496.0, 39650, 41589),
}


def earfcn_to_mhz(n: np.ndarray) -> np.ndarray:
    """Downlink EARFCN → MHz (TS 36.104 §5.7.3) for the LTE bands used in China; NaN otherwise."""
    n = np.asarray(n, dtype=np.float64)
    out = np.full(n.shape, np.nan)
    for f_low, offs, last in _EARFCN_BANDS.values():
        sel = (n >= offs) & (n <= last)
        out[sel] = f_low + 0.1 * (n[sel] - offs)
    return out


def valid_bandwidths(tech: str, scs_khz: float) -> list[float]:
    if tech == "4G":
        return sorted(LTE_N_RB)
    return sorted(NR_N_RB.get(int(scs_khz), {}))


def n_rb_for(tech: np.ndarray, bandwidth_mhz: np.ndarray, scs_khz: np.ndarray) -> np.ndarray:
    """N_RB per cell (int64; −1 where the bandwidth/SCS pair is not in the 3GPP table)."""
    tech = np.asarray(tech, dtype=object)
    bw = np.asarray(bandwidth_mhz, dtype=np.float64)
    scs = np.asarray(scs_khz, dtype=np.float64)
    out = np.full(bw.shape, -1, dtype=np.int64)
    is4 = tech == "4G"
    for b, nrb in LTE_N_RB.items():
        out[is4 & np.isclose(bw, b) & np.isclose(scs, 15.0)] = nrb
    for s, table in NR_N_RB.items():
        for b, nrb in table.items():
            out[~is4 & np.isclose(bw, b) & np.isclose(scs, s)] = nrb
    return out


# ------------------------------------------------------------------------------------------------
# Frequency columns of site lists
# ------------------------------------------------------------------------------------------------


def default_bandwidth(is5: np.ndarray, freq: np.ndarray) -> np.ndarray:
    """Bandwidth when none is given: the 100 MHz (5G) / 20 MHz (4G) defaults, narrower in low bands
    where such a carrier cannot exist (5G below 1 GHz: 30 MHz, n28; 1–2.4 GHz: 20 MHz; 4G below
    1 GHz: 10 MHz)."""
    f = np.nan_to_num(freq, nan=CELL["5G"]["freq_mhz"])
    bw5 = np.where(f < 1000, 30.0, np.where(f < 2400, 20.0, CELL["5G"]["bandwidth_mhz"]))
    bw4 = np.where(f < 1000, 10.0, CELL["4G"]["bandwidth_mhz"])
    return np.where(is5, bw5, bw4)


def is_arfcn_header(header: str) -> bool:
    """A header that names a channel number: ``频点``, ``下行频点``, ``中心频点``, ``earfcn``,
    ``ssb_arfcn`` … In Chinese operators' exports ``频点`` is the channel number (EARFCN on LTE
    rows, NR-ARFCN on NR rows), never MHz; MHz go in ``频率`` / ``中心频率(MHz)`` columns."""
    h = unicodedata.normalize("NFKC", str(header)).lower()
    return "arfcn" in h or "频点" in h


def freq_text(text: str) -> float | None:
    got = parse_band(text)
    return None if got is None else got[0]


def arfcn_or_mhz(v: np.ndarray, tech: np.ndarray) -> np.ndarray:
    """Values of a 频点 / ARFCN column → MHz: a whole number is a channel number (NR-ARFCN on 5G
    rows, EARFCN on 4G rows), whatever band its value would also fall in as MHz (电信's EARFCN
    1825 is 1867.5 MHz, not 1825 MHz); a number with decimals (``1867.5``) cannot be a channel
    number and is MHz. NaN where the channel number is in no band used here (an NR-ARFCN below
    400 MHz, an EARFCN outside China's LTE bands) or the MHz are outside 400–7,125."""
    v = np.asarray(v, dtype=np.float64)
    fin = np.isfinite(v)
    whole = fin & (v == np.floor(np.where(fin, v, 0.0)))
    is5 = np.asarray(tech) == "5G"
    with np.errstate(invalid="ignore"):
        nr = nr_arfcn_to_mhz(np.where(whole, v, -1.0))
        nr = np.where(nr >= 400.0, nr, np.nan)
        lte = earfcn_to_mhz(np.where(whole, v, -1.0))
        mhz = np.where(fin & ~whole & (v >= 400.0) & (v <= 7125.0), v, np.nan)
    return np.where(whole, np.where(is5, nr, lte), mhz)
