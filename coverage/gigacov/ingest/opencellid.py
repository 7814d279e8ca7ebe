"""OpenCelliD exports (``cell_towers.csv``), with or without their header line.

Columns ``radio, mcc, net, area, cell, unit, lon, lat, range, samples, changeable, created,
updated, averageSignal``. ``NR`` → 5G, ``LTE`` → 4G; other radios are rejected later as
``unknown_technology``. The operator comes from MCC-MNC (:data:`~gigacov.ingest.vocab.OPERATORS_BY_PLMN`);
``created`` (Unix time) gives the commissioning year. LTE cells are grouped into eNBs by
``cell // 256`` (the 28-bit ECI is a 20-bit eNB id and an 8-bit cell id); NR cells into gNBs by
``cell // 4096``, *assuming* a 36-bit NCI split into a 24-bit gNB id and a 12-bit cell id
(TS 38.413 allows gNB ids of 22–32 bits; operators choose, and OpenCelliD does not say). Its
positions are crowd-sourced estimates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._common import as_text
from .site_columns import SiteColumns
from .vocab import OPERATORS_BY_PLMN

__all__ = ["OPENCELLID_COLUMNS", "looks_like_opencellid", "is_opencellid", "opencellid_columns"]

OPENCELLID_COLUMNS = [
    "radio",
    "mcc",
    "net",
    "area",
    "cell",
    "unit",
    "lon",
    "lat",
    "range",
    "samples",
    "changeable",
    "created",
    "updated",
    "averageSignal",
]
_OCID_RADIOS = {"GSM", "UMTS", "LTE", "NR", "CDMA"}
#: Header words that mark an OpenCelliD export with its header line.
_OCID_HEADER = {"radio", "mcc", "net", "area", "cell", "lon", "lat"}


def looks_like_opencellid(fields: list[str]) -> bool:
    """Whether the first line of a header-less text file is an OpenCelliD record."""
    return (
        len(fields) == len(OPENCELLID_COLUMNS)
        and fields[0].strip().upper() in _OCID_RADIOS
        and fields[1].strip().isdigit()
    )


def is_opencellid(columns, has_header: bool) -> bool:
    """Whether a table read from a sites file is in the OpenCelliD layout."""
    lower = {str(c).strip().lower() for c in columns}
    return (not has_header) or _OCID_HEADER <= lower


def opencellid_columns(df: pd.DataFrame) -> SiteColumns:
    """The canonical site columns of an OpenCelliD table (see the module docstring)."""
    lower = {c.lower(): c for c in df.columns}
    col = {name: df[lower[name.lower()]] for name in OPENCELLID_COLUMNS if name.lower() in lower}
    radio = as_text(col["radio"]).str.upper()
    mcc = as_text(col["mcc"])
    mnc_num = pd.to_numeric(col["net"], errors="coerce")
    mnc = pd.Series(
        np.where(np.isfinite(mnc_num), mnc_num.fillna(0).astype("int64").map("{:02d}".format), ""),
        index=df.index,
    )
    plmn = mcc + "-" + mnc
    cell_num = pd.to_numeric(col["cell"], errors="coerce")
    cell_int = cell_num.fillna(-1).astype("int64")
    enb = np.where(radio == "NR", cell_int // 4096, cell_int // 256)
    kind = np.where(radio == "NR", "gNB", np.where(radio == "LTE", "eNB", radio))
    ok = (
        np.isfinite(cell_num.to_numpy(dtype=float))
        & (mcc != "").to_numpy()
        & (mnc != "").to_numpy()
    )
    site = pd.Series(
        np.where(
            ok,
            plmn
            + "-"
            + pd.Series(kind, index=df.index)
            + pd.Series(enb, index=df.index).astype(str),
            "",
        ),
        index=df.index,
        dtype=object,
    )
    cell = pd.Series(
        np.where(ok, plmn + "-" + cell_int.astype(str), ""), index=df.index, dtype=object
    )
    operator = plmn.map(lambda p: OPERATORS_BY_PLMN.get(p, p))
    created = pd.to_numeric(col.get("created", pd.Series([np.nan] * len(df))), errors="coerce")
    year = pd.Series(pd.to_datetime(created, unit="s", errors="coerce").dt.year, index=df.index)
    raw = {
        "tech": radio.map(lambda r: {"NR": "5G", "LTE": "4G"}.get(r, r)),
        "operator": operator.where(ok, ""),
        "site_id": site,
        "cell_id": cell,
        "lon": col["lon"],
        "lat": col["lat"],
        "commissioned": year.where(created.notna(), col.get("created", pd.Series([""] * len(df)))),
    }
    header = {
        "tech": "radio",
        "operator": "net",
        "site_id": "cell",
        "cell_id": "cell",
        "lon": "lon",
        "lat": "lat",
        "commissioned": "created",
    }
    return SiteColumns(raw, header, {k: "" for k in raw})
