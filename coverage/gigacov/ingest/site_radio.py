"""Stage 3 of the site reader: radio values of each cell, with defaults counted.

Frequency from a frequency, band or ARFCN column (:mod:`.bands`), channel bandwidth, sub-carrier
spacing and N_RB, antenna height, azimuth (none = omni), beamwidth, downtilt, and EIRP (from EIRP,
transmit power + gain, or reference-signal power + gain; units in :mod:`.units`). Unreadable
values are rejected ``not_a_number``, impossible ones ``out_of_range``; missing ones get
:data:`gigacov.radio_defaults.CELL` (and its beamwidth and tilt), each counted per column.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..radio_defaults import BEAMWIDTH_DEG, CELL, TILT_DEG
from ._common import as_text, is_missing, parse_numbers
from .bands import (
    BAND_CENTRE_MHZ,
    arfcn_or_mhz,
    band_for_tech,
    band_name,
    default_bandwidth,
    freq_text,
    guess_mhz,
    is_carrier_width,
    n_rb_for,
    parse_band,
    range_width,
)
from .site_columns import SiteColumns
from .site_work import SiteWork
from .units import (
    angle_unit,
    bandwidth_unit,
    dbi_unit,
    dbm_unit,
    is_plain_number,
    khz_unit,
    metres_unit,
    omni_azimuths,
    power_to_dbm,
)
from .vocab import map_unique

__all__ = [
    "Band",
    "band_hints",
    "fit_band_to_tech",
    "frequency_stage",
    "carrier_stage",
    "antenna_stage",
    "eirp_stage",
]


@dataclass
class Band:
    """What the band column says per row: centre MHz, technology hint, typical bandwidth, the
    band's name (``"n78"``, ``"b41"``; ``""`` for frequencies and ranges), the width of a range
    (NaN when not a range) and whether the row's range is exactly one carrier."""

    mhz: np.ndarray
    tech: np.ndarray
    bw: np.ndarray
    key: np.ndarray
    width: np.ndarray
    carrier: np.ndarray


def band_hints(w: SiteWork) -> Band:
    n = w.n
    out = Band(
        np.full(n, np.nan),
        np.full(n, "", dtype=object),
        np.full(n, np.nan),
        np.full(n, "", dtype=object),
        np.full(n, np.nan),
        np.zeros(n, dtype=bool),
    )
    if not w.cols.has("band"):
        return out
    text = as_text(w.cols.raw["band"])
    parsed = map_unique(text, lambda t: parse_band(t) if t else None)
    got = parsed.notna().to_numpy()
    if got.any():
        arr = parsed[got].tolist()
        out.mhz[got] = [a[0] for a in arr]
        out.tech[got] = [a[1] for a in arr]
        out.bw[got] = [a[2] for a in arr]
        out.key[got] = map_unique(text[got], band_name).to_numpy(dtype=object)
        out.width[got] = map_unique(text[got], range_width).to_numpy(dtype=float)
    return out


def fit_band_to_tech(w: SiteWork, band: Band, tech: np.ndarray) -> None:
    """The band column read with each row's technology (in place).

    A band of the other technology names the same frequencies in the row's technology:
    ``D频段`` (LTE band 41) on an NR row is n41 (its centre and its 100 MHz typical carrier, not
    LTE's 20 MHz); ``n3`` on an LTE row is B3. Where the row's technology has no such band the
    frequency stays and the bandwidth falls to the technology's default, with a warning. A range
    is one carrier when its width is a channel bandwidth of the row's technology, else it names
    an allocation (a band): no bandwidth from it."""
    other = (band.tech != "") & (band.tech != tech) & np.isin(tech, ("4G", "5G"))
    if other.any():
        pairs = pd.Series(band.key[other] + "|" + tech[other])
        new = map_unique(pairs, lambda p: band_for_tech(*p.split("|"))).to_numpy(dtype=object)
        idx = np.flatnonzero(other)
        for i, k in zip(idx, new, strict=True):
            if k:
                band.mhz[i], band.tech[i], band.bw[i] = BAND_CENTRE_MHZ[k]
            else:
                band.bw[i] = np.nan
        lost = idx[new == ""]
        if lost.size:
            n_rows = np.unique(w.table.rows[lost]).size  # a row of several sectors once
            w.warnings.append(
                f"{w.table.path}: {n_rows} row(s) give a technology that does not match their "
                f"band (e.g. row {int(w.table.rows[lost[0]])}, "
                f"{str(as_text(w.cols.raw['band']).iloc[lost[0]])!r} on a {tech[lost[0]]} row) "
                "and that technology has no band on those frequencies; the technology column "
                "was used, with its default bandwidth"
            )
    ranged = np.isfinite(band.width)
    if ranged.any():
        ok = _carrier_ranges(band.width, tech)
        band.carrier = ranged & ok
        band.bw = np.where(ranged, np.where(ok, band.width, np.nan), band.bw)


def _carrier_ranges(width: np.ndarray, tech: np.ndarray) -> np.ndarray:
    """Per row: the range ``width`` is one channel of the row's technology."""
    return np.array(
        [is_carrier_width(float(wd), str(t)) for wd, t in zip(width, tech, strict=True)],
        dtype=bool,
    )


# ------------------------------------------------------------------------------------------------
# 3. radio values
# ------------------------------------------------------------------------------------------------


def frequency_stage(w: SiteWork, tech: np.ndarray, band: Band) -> tuple[np.ndarray, np.ndarray]:
    """Centre frequency (MHz) from the frequency, band or ARFCN column; default by technology.

    Also returns where each row's frequency came from (``freq_source``): ``"input"`` (MHz or
    ARFCN), ``"band"`` (a band name or a rough frequency such as ``3.5G``: the operator's
    carrier in that band applies) or ``"default"`` (nothing given)."""
    freq, fbad, (col_name, raw_vals), source = _frequency_columns(w.cols, tech, band, w.n)
    if fbad.any():
        w.tracker.reject(
            fbad,
            col_name,
            raw_vals,
            "not_a_number",
            lambda v: (
                "frequency/band "
                + v.map(repr)
                + " is not understood; give MHz (3500), a band (n78, B3) or an ARFCN (a 频点 column "
                "holds channel numbers: EARFCN on LTE rows, NR-ARFCN on NR rows)"
            ),
        )
    frange = np.isfinite(freq) & ((freq < 400) | (freq > 52600))
    w.tracker.reject(
        frange,
        col_name,
        freq,
        "out_of_range",
        lambda v: "frequency " + v.astype(str) + " MHz is outside 400–52,600 MHz",
    )
    fmiss = ~np.isfinite(freq)
    is5 = tech == "5G"
    w.defaults["freq_mhz"] = fmiss
    source = np.where(fmiss, "default", source).astype(object)
    freq = np.where(fmiss, np.where(is5, CELL["5G"]["freq_mhz"], CELL["4G"]["freq_mhz"]), freq)
    return freq, source


def _frequency_columns(cols: SiteColumns, tech: np.ndarray, band: Band, n: int):
    """Centre frequency (MHz) from freq / band / ARFCN columns.

    Returns (freq, bad, (column, raw), source) with ``source`` per row ``"input"`` (an exact
    frequency, an ARFCN or a range one carrier wide), ``"band"`` (a band name, a band number, a
    range wider than one carrier, or a rough frequency: a spelling with a unit, or a plain number
    in GHz, that is a whole multiple of 100 MHz, such as ``3.5G`` or ``2600M``) or ``""`` (none).
    A one-carrier range in the frequency column sets ``band.bw`` (the carrier's width)."""
    band_mhz = band.mhz
    freq = np.full(n, np.nan)
    bad = np.zeros(n, dtype=bool)
    src = ("freq_mhz", None)
    source = np.full(n, "", dtype=object)
    if cols.has("freq"):
        raw = cols.raw["freq"]
        header_unit = cols.unit.get("freq", "")
        p = parse_numbers(raw, lambda num, unit: freq_text(f"{num}{unit}"))
        vals = p.values
        plain = ~p.missing & ~p.bad & is_plain_number(raw)
        if header_unit in ("ghz", "g"):
            vals = np.where(plain, vals * 1000.0, vals)
        elif header_unit in ("khz", "k"):
            vals = np.where(plain, vals / 1000.0, vals)
        elif header_unit == "hz":
            vals = np.where(plain, vals / 1e6, vals)
        elif header_unit in ("mhz", "m"):
            pass
        else:
            guessed = pd.Series(vals[plain]).map(
                lambda v: guess_mhz(v) if np.isfinite(v) else np.nan
            )
            vals = vals.copy()
            vals[plain] = guessed.to_numpy(dtype=float, na_value=np.nan)
        # exact MHz numbers are explicit; GHz numbers and spelled-out units that are whole
        # hundreds of MHz ("3.5G", "2600M") only name a band
        if header_unit in ("ghz", "g"):
            ghz_plain = plain
        elif header_unit == "":
            with np.errstate(invalid="ignore"):
                ghz_plain = plain & (np.asarray(p.values, dtype=np.float64) < 60.0)
        else:
            ghz_plain = np.zeros(n, dtype=bool)
        rough = np.isfinite(vals) & (np.abs(vals / 100.0 - np.round(vals / 100.0)) < 1e-9)
        spelled = ~plain & ~p.missing & ~p.bad
        source[np.isfinite(vals)] = "input"
        source[rough & (ghz_plain | spelled)] = "band"
        # band names in a frequency column ("n78") come back as NaN → try them as bands
        nb = p.bad
        if nb.any():
            b = map_unique(as_text(raw[nb]), lambda t: parse_band(t))
            ok = b.notna().to_numpy()
            idx = np.flatnonzero(nb)
            vals[idx[ok]] = [a[0] for a in b[ok].tolist()]
            source[idx[ok]] = "band"
            nb = nb.copy()
            nb[idx[ok]] = False
        # a range ("3400-3500MHz") exactly one carrier wide is the carrier itself: given, not a
        # band, and its width is the bandwidth; a wider one is an allocation: a band
        read = np.isfinite(vals) & ~plain
        if read.any():
            idx = np.flatnonzero(read)
            width = map_unique(as_text(raw[read]), range_width).to_numpy(dtype=float)
            ranged = np.isfinite(width)
            one = ranged & _carrier_ranges(width, tech[idx])
            source[idx[ranged]] = "band"
            source[idx[one]] = "input"
            sel = idx[one]
            band.bw[sel] = np.where(np.isfinite(band.bw[sel]), band.bw[sel], width[one])
        freq = vals
        bad = nb | (plain & ~np.isfinite(vals))
        src = (cols.header["freq"], raw)
    take = ~np.isfinite(freq) & ~bad & np.isfinite(band_mhz)
    freq[take] = band_mhz[take]
    source[take] = "band"
    # an explicit range one carrier wide ("3400-3500MHz") is the carrier itself: given
    source[take & band.carrier] = "input"
    if cols.has("band"):
        band_text = as_text(cols.raw["band"])
        bmiss = is_missing(cols.raw["band"])
        band_bad = ~bmiss & ~np.isfinite(band_mhz)
        # a plain band number ("78", "3") with the row's technology
        num = pd.to_numeric(band_text, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        small = band_bad & np.isfinite(num) & (num >= 1) & (num < 100) & (num == np.floor(num))
        if small.any():
            keys = (
                np.where(tech[small] == "5G", "n", "b")
                + pd.Series(num[small]).astype(int).astype(str).to_numpy()
            )
            centre = np.array([BAND_CENTRE_MHZ.get(k, (np.nan,))[0] for k in keys])
            idx = np.flatnonzero(small)
            source[idx[~np.isfinite(freq[idx]) & np.isfinite(centre)]] = "band"
            freq[idx] = np.where(np.isfinite(freq[idx]), freq[idx], centre)
            band_bad[idx[np.isfinite(centre)]] = False
        newbad = band_bad & ~np.isfinite(freq)
        if newbad.any() and not bad.any():
            src = (cols.header["band"], cols.raw["band"])
        bad |= newbad
    if cols.has("arfcn"):
        raw = cols.raw["arfcn"]
        p = parse_numbers(raw)
        v = p.values
        if cols.unit.get("arfcn", "") in ("mhz", "m"):  # "频点(MHz)": the header says MHz
            f = np.where((v >= 400) & (v <= 52600), v, np.nan)
        elif cols.unit.get("arfcn", "") in ("ghz", "g"):
            f = np.where((v >= 0.4) & (v <= 52.6), v * 1000.0, np.nan)
        else:
            f = arfcn_or_mhz(v, tech)
        take = ~np.isfinite(freq) & np.isfinite(f)
        freq[take] = f[take]
        source[take] = "input"
        abad = (p.bad | (np.isfinite(v) & ~np.isfinite(f))) & ~np.isfinite(freq)
        if abad.any() and not bad.any():
            src = (cols.header["arfcn"], raw)
        bad |= abad
    bad &= ~np.isfinite(freq)
    source[~np.isfinite(freq)] = ""
    return freq, bad, src, source


def carrier_stage(w: SiteWork, tech: np.ndarray, freq: np.ndarray, band: Band):
    """Channel bandwidth (MHz), sub-carrier spacing (kHz) and N_RB per row."""
    cols, tracker, n = w.cols, w.tracker, w.n
    is5 = tech == "5G"
    bw = w.numeric("bandwidth", bandwidth_unit, "bandwidth")
    bw_unit = cols.unit.get("bandwidth", "")
    if bw_unit in ("khz", "k"):
        bw = bw / 1000.0
    elif bw_unit == "hz":
        bw = bw / 1e6
    elif not bw_unit:
        bw = np.where(bw >= 1e6, bw / 1e6, np.where(bw >= 1000, bw / 1000.0, bw))
    bmiss = ~np.isfinite(bw)
    typical = np.where(np.isfinite(band.bw), band.bw, default_bandwidth(is5, freq))
    bw = np.where(bmiss, typical, bw)
    w.defaults["bandwidth_mhz"] = bmiss

    scs = w.numeric("scs", khz_unit, "subcarrier spacing")
    if cols.unit.get("scs", "") == "hz":
        scs = scs / 1000.0
    smiss = ~np.isfinite(scs)
    scs = np.where(smiss, np.where(is5, CELL["5G"]["scs_khz"], CELL["4G"]["scs_khz"]), scs)
    w.defaults["scs_khz"] = smiss & is5
    n_rb = n_rb_for(tech, bw, scs)
    bad_rb = n_rb < 0
    if bad_rb.any():
        combos = np.full(n, "", dtype=object)
        combos[bad_rb] = [
            f"{t} {b:g} MHz at {c:g} kHz"
            for t, b, c in zip(tech[bad_rb], bw[bad_rb], scs[bad_rb], strict=True)
        ]
        tracker.reject(
            bad_rb,
            cols.header.get("bandwidth", cols.header.get("scs", "bandwidth_mhz")),
            combos,
            "out_of_range",
            lambda v: (
                v + " is not a 3GPP channel configuration (NR FR1: 5–100 MHz at 15/30/60 kHz per "
                "TS 38.101-1 Table 5.3.2-1; LTE: 1.4/3/5/10/15/20 MHz)"
            ),
        )
    return bw, scs, n_rb


def _reject_out_of_range(
    w: SiteWork,
    values: np.ndarray,
    column: str,
    raw,
    outside: Callable[[np.ndarray], np.ndarray],
    message: Callable[[pd.Series], pd.Series],
) -> None:
    """Reject (``out_of_range``) the rows whose value is a number for which ``outside`` holds."""
    w.tracker.reject(np.isfinite(values) & outside(values), column, raw, "out_of_range", message)


def _ranged_column(
    w: SiteWork,
    key: str,
    unit,
    what: str,
    outside: Callable[[np.ndarray], np.ndarray],
    message: Callable[[pd.Series], pd.Series],
) -> np.ndarray:
    """Column ``key`` as numbers (several per cell allowed), out-of-range values rejected."""
    values = w.numeric(key, unit, what, multi=True)
    column, raw = w.cols.header.get(key, ""), w.cols.raw.get(key)
    _reject_out_of_range(w, values, column, raw, outside, message)
    return values


def antenna_stage(w: SiteWork) -> dict[str, np.ndarray]:
    """Height, azimuth (NaN = omni), horizontal beamwidth and total downtilt per row."""
    cols = w.cols
    height = _ranged_column(
        w,
        "height",
        metres_unit,
        "antenna height",
        lambda h: (h <= 0) | (h > 500),
        lambda v: "antenna height " + v.astype(str) + " m is outside (0, 500] m",
    )
    hmiss = ~np.isfinite(height)
    height = np.where(hmiss, CELL["5G"]["height_m"], height)
    w.defaults["height_m"] = hmiss

    if cols.has("azimuth"):  # "全向" / "omni" / "360°全向": no azimuth, like an empty cell
        omni_words = omni_azimuths(cols.raw["azimuth"])
        if omni_words.any():
            cols.raw["azimuth"] = cols.raw["azimuth"].astype(object).where(~omni_words, None)
    azimuth = _ranged_column(
        w,
        "azimuth",
        angle_unit,
        "azimuth",
        lambda a: (a < -360) | (a > 360),
        lambda v: "azimuth " + v.astype(str) + "° is outside −360…360°",
    )
    omni = ~np.isfinite(azimuth)
    azimuth = np.where(omni, np.nan, np.mod(azimuth, 360.0))
    w.defaults["azimuth_deg"] = omni

    beam = _ranged_column(
        w,
        "beamwidth",
        angle_unit,
        "beamwidth",
        lambda b: (b <= 0) | (b > 360),
        lambda v: "beamwidth " + v.astype(str) + "° is outside (0, 360]°",
    )
    bmiss_b = ~np.isfinite(beam)
    beam = np.where(bmiss_b, np.where(omni, 360.0, BEAMWIDTH_DEG), beam)
    w.defaults["beamwidth_deg"] = bmiss_b & ~omni

    tilt = w.numeric("tilt", angle_unit, "downtilt", multi=True)
    if not cols.has("tilt") and (cols.has("tilt_mech") or cols.has("tilt_elec")):
        mech = w.numeric("tilt_mech", angle_unit, "mechanical downtilt", multi=True)
        elec = w.numeric("tilt_elec", angle_unit, "electrical downtilt", multi=True)
        both_missing = ~np.isfinite(mech) & ~np.isfinite(elec)
        tilt = np.where(both_missing, np.nan, np.nan_to_num(mech) + np.nan_to_num(elec))
    tcol = cols.header.get("tilt", cols.header.get("tilt_mech", cols.header.get("tilt_elec", "")))
    _reject_out_of_range(
        w,
        tilt,
        tcol,
        tilt,
        lambda t: (t < -20) | (t > 90),
        lambda v: "downtilt " + v.astype(str) + "° is outside −20…90°",
    )
    tmiss = ~np.isfinite(tilt)
    tilt = np.where(tmiss, TILT_DEG, tilt)
    w.defaults["tilt_deg"] = tmiss
    return {"height_m": height, "azimuth_deg": azimuth, "beamwidth_deg": beam, "tilt_deg": tilt}


def eirp_stage(w: SiteWork, n_rb: np.ndarray) -> np.ndarray:
    """EIRP (dBm, total over the carrier) from eirp / tx power + gain / RS power + gain."""
    cols, n = w.cols, w.n
    n_rb = np.where(n_rb > 0, n_rb, 1)
    warn = ""
    if cols.has("eirp"):
        eirp = _plain_power(cols, "eirp", w.numeric("eirp", dbm_unit, "EIRP"))
        eirp_col = cols.header["eirp"]
    else:
        gain = np.zeros(n)
        if cols.has("gain"):
            gain = np.nan_to_num(w.numeric("gain", dbi_unit, "antenna gain"), nan=0.0)
        if cols.has("tx_power"):
            t = _plain_power(cols, "tx_power", w.numeric("tx_power", dbm_unit, "transmit power"))
            if not cols.has("gain"):
                warn = (
                    f"transmit power ({cols.header['tx_power']!r}) taken as EIRP: the file has no "
                    "antenna gain column (天线增益 / antenna_gain); a sector antenna adds about "
                    "15–18 dB"
                )
            eirp, eirp_col = t + gain, cols.header["tx_power"]
        elif cols.has("rs_power"):
            rs = w.numeric("rs_power", dbm_unit, "reference-signal power")
            eirp, eirp_col = rs + 10 * np.log10(12.0 * n_rb) + gain, cols.header["rs_power"]
        else:
            eirp, eirp_col = np.full(n, np.nan), "eirp_dbm"
    _reject_out_of_range(
        w,
        eirp,
        eirp_col,
        eirp,
        lambda e: (e < 0) | (e > 100),
        lambda v: "EIRP " + v.map(lambda e: f"{e:.1f}") + " dBm is outside 0–100 dBm",
    )
    emiss = ~np.isfinite(eirp)
    w.defaults["eirp_dbm"] = emiss
    if warn:
        w.warnings.append(f"{w.table.path}: {warn}")
    return np.where(emiss, CELL["5G"]["eirp_dbm"], eirp)


def _plain_power(cols: SiteColumns, key: str, values: np.ndarray) -> np.ndarray:
    unit = cols.unit.get(key, "")
    if unit in ("w", "瓦", "mw", "kw"):
        plain = is_plain_number(cols.raw[key])
        return np.where(plain, power_to_dbm(values, unit), values)
    return values
