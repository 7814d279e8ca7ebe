"""The demo's sites as an operator's export: one row per cell, the rows of one year with a few
deliberately bad ones, written with Chinese headers in GBK."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .design import COUNTIES

__all__ = ["SITE_COLUMNS_ZH", "BAD_ROW_SHARE", "cells_table", "export_rows", "write_export"]


#: Share of rows in an export that are deliberately bad (≈ 0.1 %).
BAD_ROW_SHARE = 0.001


#: Export columns: canonical name (docs/design.md §4) → Chinese header as in an operator's export.
SITE_COLUMNS_ZH: dict[str, str] = {
    "site_id": "站号",
    "name": "站名",
    "cell_id": "小区ID",
    "cell_name": "小区名称",
    "county": "区县",
    "lon": "经度",
    "lat": "纬度",
    "tech": "制式",
    "operator": "运营商",
    "band": "频段",
    "bandwidth_mhz": "带宽(MHz)",
    "scs_khz": "子载波间隔(kHz)",
    "azimuth_deg": "方位角",
    "beamwidth_deg": "水平波瓣宽度",
    "height_m": "挂高(m)",
    "tilt_deg": "下倾角",
    "eirp_dbm": "EIRP(dBm)",
    "commissioned": "开通时间",
    "site_type": "站型",
}


_SITE_TYPE = {
    "macro": "宏站",
    "small": "微站",
    "road": "道路覆盖",
    "keyplace": "重点场所",
    "village": "农村覆盖",
}


def cells_table(rng: np.random.Generator, sites: pd.DataFrame) -> pd.DataFrame:
    """One row per cell (sector) with the export's canonical columns."""
    reps = sites["sectors"].to_numpy()
    idx = np.repeat(np.arange(len(sites)), reps)
    k = np.concatenate([np.arange(1, r + 1) for r in reps]) if len(reps) else np.array([], int)
    s = sites.iloc[idx].reset_index(drop=True)
    n = len(s)
    jitter = rng.uniform(-10, 10, n)
    az = (
        np.where(
            s["kind"].to_numpy() == "road",
            s["bearing"].to_numpy() + 180.0 * (k - 1),
            s["azimuth0"].to_numpy()
            + (k - 1) * np.where(s["sectors"].to_numpy() == 2, 180.0, 120.0),
        )
        + jitter
    )
    az = np.round(np.mod(az, 360.0))
    omni = s["kind"].to_numpy() == "small"
    az = np.where(omni, np.nan, az)
    beam = np.where(omni, np.nan, 65.0)
    county_name = {d.code: d.name for d in COUNTIES}
    tech = s["tech"].to_numpy()
    cells = pd.DataFrame(
        {
            "site_id": s["site_id"],
            "name": s["name"],
            "cell_id": [f"{sid}-{j}" for sid, j in zip(s["site_id"], k, strict=True)],
            "cell_name": [f"{nm}_{j}" for nm, j in zip(s["name"], k, strict=True)],
            "county": [county_name[c] for c in s["county"]],
            "lon": s["lon"],
            "lat": s["lat"],
            "tech": tech,
            "operator": s["operator"],
            "band": s["band"],
            "bandwidth_mhz": s["bandwidth_mhz"],
            "scs_khz": s["scs_khz"],
            "azimuth_deg": az,
            "beamwidth_deg": beam,
            "height_m": s["height_m"],
            "tilt_deg": s["tilt_deg"],
            "eirp_dbm": s["eirp_dbm"],
            "commissioned": [
                f"{y:04d}-{m:02d}-{d:02d}"
                for y, m, d in zip(s["year"], s["month"], s["day"], strict=True)
            ],
            "site_type": [_SITE_TYPE[x] for x in s["kind"]],
            "year": s["year"].to_numpy(),
        }
    )
    return cells


def export_rows(
    rng: np.random.Generator, cells: pd.DataFrame, year: int
) -> tuple[pd.DataFrame, list[dict]]:
    """The export of ``year``: the cells in service by then, plus ≈ 0.1 % deliberately bad rows.

    Bad rows, each an extra row (the good cells stay complete), in equal numbers:
    ``lat_lon_swapped`` (经度 and 纬度 exchanged), ``missing_coordinate`` (纬度 empty),
    ``duplicate_cell_id`` (a second row with an existing 小区ID and a different azimuth),
    ``unknown_technology`` (制式 "3G", a leftover WCDMA cell). Returns the rows (export columns,
    without ``year``) and the list of bad rows with their spreadsheet row numbers (header = 1).
    """
    good = cells[cells["year"] <= year].reset_index(drop=True)
    n_bad = max(4, int(round(BAD_ROW_SHARE * len(good))))
    kinds = ["lat_lon_swapped", "missing_coordinate", "duplicate_cell_id", "unknown_technology"]
    bad_rows = []
    for i in range(n_bad):
        kind = kinds[i % 4]
        src = good.iloc[int(rng.integers(len(good)))].copy()
        if kind == "duplicate_cell_id":
            src["azimuth_deg"] = (
                (src["azimuth_deg"] + 10.0) % 360 if not np.isnan(src["azimuth_deg"]) else 0.0
            )
        else:
            sid = f"{src['site_id']}-X{i:03d}"
            src["site_id"] = sid
            src["cell_id"] = f"{sid}-1"
            src["name"] = f"{src['name']}补{i:03d}"
            src["cell_name"] = f"{src['name']}_1"
            src["commissioned"] = f"{int(rng.integers(2019, min(year, 2023) + 1)):04d}-06-30"
            if kind == "lat_lon_swapped":
                src["lon"], src["lat"] = src["lat"], src["lon"]
            elif kind == "missing_coordinate":
                src["lat"] = np.nan
            else:
                src["tech"] = "3G"
                src["band"] = "B1"
                src["bandwidth_mhz"] = 5.0
        bad_rows.append((kind, src))
    out = good.drop(columns=["year"])
    bad_df = pd.DataFrame([row for _, row in bad_rows]).drop(columns=["year"])
    total = len(out) + n_bad
    positions = np.sort(rng.choice(total, size=n_bad, replace=False))
    is_bad = np.zeros(total, dtype=bool)
    is_bad[positions] = True
    order = np.empty(total, dtype=np.int64)
    order[~is_bad] = np.arange(len(out))
    order[is_bad] = len(out) + np.arange(n_bad)
    rows = pd.concat([out, bad_df], ignore_index=True).iloc[order].reset_index(drop=True)
    report = [
        {
            "row": int(pos) + 2,
            "kind": kind,
            "cell_id": str(row["cell_id"]),
            "site_id": str(row["site_id"]),
        }
        for pos, (kind, row) in zip(positions, bad_rows, strict=True)
    ]
    return rows, report


def write_export(rows: pd.DataFrame, path: Path) -> None:
    """Write the export as an operator would: Chinese headers, GBK, CRLF line ends."""
    df = rows.rename(columns=SITE_COLUMNS_ZH)[list(SITE_COLUMNS_ZH.values())].copy()
    for col in ("带宽(MHz)", "子载波间隔(kHz)", "方位角", "水平波瓣宽度"):
        df[col] = pd.to_numeric(df[col]).map(lambda v: "" if pd.isna(v) else f"{v:g}")
    for col in ("挂高(m)", "下倾角", "EIRP(dBm)"):
        df[col] = pd.to_numeric(df[col]).map(lambda v: "" if pd.isna(v) else f"{v:.1f}")
    for col in ("经度", "纬度"):
        df[col] = pd.to_numeric(df[col]).map(lambda v: "" if pd.isna(v) else f"{v:.6f}")
    df.to_csv(path, index=False, encoding="gbk", lineterminator="\r\n")
