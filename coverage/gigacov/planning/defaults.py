"""Radio settings of new sites: the scenario's, else those of the existing network.

A new site in a county looks like the operator's existing 5G sites there: for every
``[planning]`` radio key the scenario leaves out, the value is the most common one among the
county's 5G cells — the carrier (frequency, bandwidth and sub-carrier spacing, taken together so
that they form a real carrier), the antenna height and the EIRP. A county without 5G cells takes
the region's; a region without any takes the built-in fallback, the 5G cell defaults of
:mod:`gigacov.radio_defaults` (3.5 GHz, 100 MHz, 30 kHz, 30 m, 61 dBm). Where each value came from is stated in the plan's settings
(``settings["new_site_radio"]``) and every recommended site carries its values.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from ..radio_defaults import CELL

__all__ = ["FALLBACK", "RADIO_KEYS", "new_site_radio", "section_for"]

#: Built-in values when neither the scenario nor the network gives one: a 5G cell's defaults.
FALLBACK = {
    "freq_mhz": CELL["5G"]["freq_mhz"],
    "bandwidth_mhz": CELL["5G"]["bandwidth_mhz"],
    "scs_khz": CELL["5G"]["scs_khz"],
    "site_height_m": CELL["5G"]["height_m"],
    "eirp_dbm": CELL["5G"]["eirp_dbm"],
}
RADIO_KEYS = tuple(FALLBACK)
_CARRIER = ("freq_mhz", "bandwidth_mhz", "scs_khz")
_CELL_COLUMN = {"site_height_m": "height_m"}


def _mode(df: pd.DataFrame, cols: list[str]) -> tuple[float, ...] | None:
    """The most common combination of ``cols`` (ties: the smallest), or None without rows."""
    sub = df[cols].dropna()
    if sub.empty:
        return None
    counts = sub.round(6).value_counts()
    best = counts[counts == counts.max()].index.sort_values()[0]
    return tuple(float(v) for v in (best if isinstance(best, tuple) else (best,)))


def new_site_radio(ps, cells: pd.DataFrame, counties: list[str]) -> dict[str, dict]:
    """Per county: ``{"values": {key: value}, "source": {key: where it came from}}``.

    ``ps`` is the ``[planning]`` section (``None`` = not given), ``cells`` the run's cells
    (:data:`~gigacov.ingest.model.CELL_COLUMNS`). The key ``""`` holds the region-wide values.
    """
    five = cells[cells["tech"] == "5G"] if len(cells) else cells
    groups = [("", five, "the region's 5G network")] + [
        (c, five[five["admin_code"] == c], f"county {c}'s 5G network") for c in counties
    ]
    region_vals: dict[str, float] = {}
    region_src: dict[str, str] = {}
    out: dict[str, dict] = {}
    for code, sub, where in groups:
        vals: dict[str, float] = {}
        src: dict[str, str] = {}
        n = len(sub)
        for keys in (_CARRIER, ("site_height_m",), ("eirp_dbm",)):
            given = [getattr(ps, k) for k in keys]
            if all(v is not None for v in given):
                for k, v in zip(keys, given, strict=True):
                    vals[k], src[k] = float(v), "scenario"
                continue
            got = _mode(sub, [_CELL_COLUMN.get(k, k) for k in keys]) if n else None
            for i, k in enumerate(keys):
                if getattr(ps, k) is not None:
                    vals[k], src[k] = float(getattr(ps, k)), "scenario"
                elif got is not None:
                    vals[k], src[k] = got[i], f"most common of {n} cells of {where}"
                elif code and k in region_vals:
                    vals[k], src[k] = region_vals[k], region_src[k]
                else:
                    vals[k], src[k] = FALLBACK[k], "built-in default"
        if not code:
            region_vals, region_src = vals, src
        out[code] = {"values": vals, "source": src}
    return out


def section_for(ps, radio: dict[str, dict], code: str):
    """The ``[planning]`` section with the radio values of ``code`` (``""``: the region)."""
    vals = radio.get(code, radio[""])["values"]
    return dataclasses.replace(ps, **{k: float(np.float64(v)) for k, v in vals.items()})
