"""Sites and cells: operator exports (CSV / XLSX / GPKG / GeoJSON / Parquet) and OpenCelliD.

One output row per cell (sector), :data:`~gigacov.ingest.model.CELL_COLUMNS`. The validation is
vectorised over whole columns; checks run in this order and a row carries the reason of the
first one it fails:

1. coordinates: ``missing_value``, ``not_a_number``, then position: a point outside the region
   (its counties buffered by ``[sites] region_margin_m``) whose swapped coordinates fall inside is
   repaired and used (``lat_lon_swapped`` counted under *fixed*, with a warning); one that looks
   swapped but is inside the region in neither order is rejected ``lat_lon_swapped``; any other
   point outside is rejected ``outside_region``;
2. technology: 5G / NR / SA / NSA → ``"5G"``; 4G / LTE / FDD / TDD(-LTE) → ``"4G"``; anything
   else (GSM, UMTS, CDMA, …) → ``unknown_technology``. A missing technology is taken from the band
   (``n78`` → 5G, ``B3`` → 4G) when there is one; without a technology column at all the
   DESIGN.md default 5G is applied and counted;
3. radio values (frequency/band/ARFCN, bandwidth, SCS, height, azimuth, beamwidth, tilt, power):
   ``not_a_number`` / ``out_of_range``; missing values get the DESIGN.md §10 defaults, each
   counted per column in the report;
4. commissioning date: ``bad_date``; commissioned after the scenario year →
   ``not_yet_commissioned``;
5. ``duplicate_id``: a (site, cell) pair given twice, or — when the file has no cell ids — a
   row identical to an earlier one; the first is kept.

Site-level rows: a row whose azimuth lists several sectors (``0/120/240``) becomes one row per
azimuth before the checks (:func:`split_sector_rows`, counted under *fixed* as
``sectors_split``); its cells keep the file's row number, so ``read`` counts cells.

Site grouping: cells share a site through ``site_id``. Rows without one are grouped by position:
cells within about a metre of each other (same or neighbouring 1 m snapping cell) form one site
whose id is derived from the coordinates of its first row (``site@<lon>,<lat>``, 6 decimals), so
the same file always gives the same ids. Cells without an id get ``<site_id>-<k>`` (k-th row of
the site in file order).

OpenCelliD (``radio, mcc, net, area, cell, unit, lon, lat, range, samples, changeable, created,
updated, averageSignal``, with or without the header line): ``NR`` → 5G, ``LTE`` → 4G, other
radios rejected ``unknown_technology``; the operator from MCC-MNC (460-00/02/04/07/08 China
Mobile, 460-01/06/09 China Unicom, 460-03/05/11 China Telecom, 460-15 China Broadnet, otherwise
``"mcc-mnc"``); ``created`` (Unix time) gives the commissioning year. LTE cells are grouped into
eNBs by ``cell // 256`` (the 28-bit ECI is a 20-bit eNB id and an 8-bit cell id); NR cells into
gNBs by ``cell // 4096``, *assuming* a 36-bit NCI split into a 24-bit gNB id and a 12-bit cell id
(TS 38.413 allows gNB ids of 22–32 bits; operators choose, and OpenCelliD does not say). Its
positions are crowd-sourced estimates.
"""

from __future__ import annotations

import dataclasses
import math
import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely

from ..crs import parse_crs
from ..scenario import Scenario
from ._common import Parsed, Rejects, Tracker, as_text, fast_float, is_missing, log, parse_numbers
from .bands import (
    BAND_CENTRE_MHZ,
    earfcn_to_mhz,
    guess_mhz,
    n_rb_for,
    nr_arfcn_to_mhz,
    parse_band,
)
from .geo import Region, check_lonlat_ranges, effective_crs, points_to_wgs84
from .model import CELL_COLUMNS, InputReport
from .tables import ColumnMap, Table, match_columns, missing_columns_error, read_table

__all__ = [
    "SITE_ALIASES",
    "OPENCELLID_COLUMNS",
    "OPERATORS_BY_PLMN",
    "DEFAULTS",
    "read_sites",
    "SitesResult",
    "normalise_tech",
    "normalise_operator",
]

#: Canonical site/cell columns and the headers accepted for them (first match wins).
SITE_ALIASES: dict[str, list[str]] = {
    "site_id": [
        "siteid",
        "site",
        "site_code",
        "sitecode",
        "站号",
        "基站id",
        "基站编号",
        "基站号",
        "站点id",
        "站点编号",
        "站址编码",
        "站址id",
        "基站标识",
        "enodebid",
        "enodeb_id",
        "enbid",
        "enb",
        "gnodebid",
        "gnodeb_id",
        "gnbid",
        "gnb",
        "bts_id",
        "btsid",
        "nodeb_id",
        "基站代码",
    ],
    "cell_id": [
        "cellid",
        "cell",
        "ci",
        "eci",
        "nci",
        "ecgi",
        "ncgi",
        "cgi",
        "小区id",
        "小区编号",
        "小区标识",
        "小区号",
        "cell_identity",
        "cellidentity",
        "local_cell_id",
        "本地小区标识",
        "小区代码",
    ],
    "name": [
        "site_name",
        "sitename",
        "站名",
        "基站名称",
        "站点名称",
        "基站名",
        "小区名称",
        "cell_name",
        "cellname",
        "名称",
        "name_zh",
    ],
    "lon": [
        "lng",
        "long",
        "longitude",
        "x",
        "经度",
        "基站经度",
        "小区经度",
        "x坐标",
        "东经",
        "lon_wgs84",
        "经度wgs84",
    ],
    "lat": [
        "latitude",
        "y",
        "纬度",
        "基站纬度",
        "小区纬度",
        "y坐标",
        "北纬",
        "lat_wgs84",
        "纬度wgs84",
    ],
    "tech": [
        "technology",
        "rat",
        "radio",
        "network",
        "net_type",
        "nettype",
        "network_type",
        "制式",
        "网络制式",
        "网络类型",
        "无线制式",
        "系统制式",
        "网络",
        "generation",
        "system",
    ],
    "operator": ["carrier", "mno", "运营商", "所属运营商", "归属运营商", "运营商名称", "plmn"],
    "band": [
        "频段",
        "工作频段",
        "frequency_band",
        "freq_band",
        "频带",
        "band_name",
        "nr_band",
        "lte_band",
    ],
    "freq": [
        "freq_mhz",
        "frequency",
        "frequency_mhz",
        "频率",
        "中心频率",
        "下行频率",
        "dl_freq",
        "载频",
        "carrier_frequency",
        "dl_frequency",
        "centre_frequency",
        "center_frequency",
    ],
    "arfcn": [
        "频点",
        "earfcn",
        "nrarfcn",
        "nr_arfcn",
        "dl_earfcn",
        "dlearfcn",
        "ssb_arfcn",
        "ssbarfcn",
        "下行频点",
        "ssb频点",
        "中心频点",
        "dl_arfcn",
    ],
    "bandwidth": [
        "bandwidth_mhz",
        "bw",
        "带宽",
        "载波带宽",
        "小区带宽",
        "信道带宽",
        "channel_bandwidth",
        "dl_bandwidth",
        "下行带宽",
        "系统带宽",
    ],
    "scs": ["scs_khz", "subcarrier_spacing", "子载波间隔", "子载波带宽"],
    "height": [
        "height_m",
        "antenna_height",
        "ant_height",
        "挂高",
        "天线挂高",
        "天线高度",
        "高度",
        "站高",
        "agl",
        "height_agl",
        "挂高米",
    ],
    "azimuth": [
        "azimuth_deg",
        "azi",
        "az",
        "bearing",
        "direction",
        "方位角",
        "方向角",
        "天线方位角",
    ],
    "beamwidth": [
        "beamwidth_deg",
        "hbw",
        "horizontal_beamwidth",
        "水平波瓣宽度",
        "波瓣宽度",
        "水平半功率角",
        "半功率角",
        "水平波束宽度",
        "h_beamwidth",
    ],
    "tilt": ["tilt_deg", "downtilt", "total_tilt", "总下倾角", "下倾角", "天线下倾角", "总下倾"],
    "tilt_mech": ["mechanical_tilt", "mech_tilt", "mtilt", "机械下倾角", "机械下倾"],
    "tilt_elec": [
        "electrical_tilt",
        "elec_tilt",
        "etilt",
        "电子下倾角",
        "电下倾角",
        "电调下倾角",
        "预置电子下倾角",
    ],
    "eirp": ["eirp_dbm", "等效全向辐射功率", "有效全向辐射功率", "eirp功率"],
    "tx_power": [
        "txpower",
        "transmit_power",
        "tx_power_dbm",
        "power",
        "pmax",
        "max_tx_power",
        "发射功率",
        "最大发射功率",
        "载波发射功率",
        "总发射功率",
        "功率",
    ],
    "gain": ["antenna_gain", "gain_dbi", "天线增益", "增益"],
    "rs_power": [
        "referencesignalpower",
        "reference_signal_power",
        "rs_power_dbm",
        "参考信号功率",
        "rs功率",
        "ss_pbch_power",
        "ssb功率",
        "ss_pbch_block_power",
        "crs功率",
    ],
    "commissioned": [
        "commissioned_year",
        "commissioning_date",
        "on_air",
        "onair",
        "on_air_date",
        "start_date",
        "opening_date",
        "开通时间",
        "开通日期",
        "开通年份",
        "入网时间",
        "建成时间",
        "投产时间",
        "开站时间",
        "启用时间",
        "开通年",
        "year",
    ],
}

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

OPERATORS_BY_PLMN: dict[str, str] = {
    **{f"460-{m}": "China Mobile" for m in ("00", "02", "04", "07", "08")},
    **{f"460-{m}": "China Unicom" for m in ("01", "06", "09")},
    **{f"460-{m}": "China Telecom" for m in ("03", "05", "11")},
    "460-15": "China Broadnet",
}

#: Defaults of DESIGN.md §10 by technology.
DEFAULTS = {
    "5G": {
        "freq_mhz": 3500.0,
        "bandwidth_mhz": 100.0,
        "scs_khz": 30.0,
        "eirp_dbm": 61.0,
        "height_m": 30.0,
    },
    "4G": {
        "freq_mhz": 1800.0,
        "bandwidth_mhz": 20.0,
        "scs_khz": 15.0,
        "eirp_dbm": 61.0,
        "height_m": 30.0,
    },
}
DEFAULT_BEAMWIDTH_DEG = 65.0
DEFAULT_TILT_DEG = 6.0

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

_MULTI_VALUE_RE = re.compile(r"^\s*-?\d+(?:\.\d+)?(?:\s*[/,;、|，；]\s*-?\d+(?:\.\d+)?)+\s*$")


@dataclass
class SitesResult:
    cells: pd.DataFrame
    report: InputReport
    warnings: list[str] = field(default_factory=list)
    raw_lon: np.ndarray | None = None
    """Coordinates as written in the file (declared CRS) of rows with usable numbers — for the
    datum check."""
    raw_lat: np.ndarray | None = None
    declared: object = None


# ------------------------------------------------------------------------------------------------
# Small vocabularies
# ------------------------------------------------------------------------------------------------


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


def _map_unique(s: pd.Series, func) -> pd.Series:
    uniq = pd.unique(s)
    table = {u: func(u) for u in uniq}
    return s.map(table)


# ------------------------------------------------------------------------------------------------
# Unit parsers (called once per distinct odd spelling)
# ------------------------------------------------------------------------------------------------

_DMS_RE = re.compile(
    r"^[°度]\s*(?:(\d+(?:\.\d+)?)\s*['′分])?\s*(?:(\d+(?:\.\d+)?)\s*(?:[\"″秒]|'')?)?\s*([ensw东西南北]?)$"
)


def _coord_unit(num: float, unit: str) -> float | None:
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


def _metres_unit(num: float, unit: str) -> float | None:
    u = unit.strip().lower()
    return num if u in ("m", "米", "meter", "meters", "metre", "metres") else None


def _angle_unit(num: float, unit: str) -> float | None:
    u = unit.strip().lower()
    return num if u in ("°", "度", "deg", "degree", "degrees") else None


def _khz_unit(num: float, unit: str) -> float | None:
    u = unit.strip().lower()
    return num if u in ("khz", "k") else None


def _mhz_unit(num: float, unit: str) -> float | None:
    u = unit.strip().lower()
    if u in ("mhz", "m", "兆", "m带宽"):
        return num
    if u in ("khz", "k"):
        return num / 1000.0
    if u in ("ghz", "g"):
        return num * 1000.0
    return None


def _dbm_unit(num: float, unit: str) -> float | None:
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


def _dbi_unit(num: float, unit: str) -> float | None:
    return num if unit.strip().lower() in ("dbi", "db", "dbd") else None


def _power_to_dbm(values: np.ndarray, header_unit: str) -> np.ndarray:
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


# ------------------------------------------------------------------------------------------------
# Reading
# ------------------------------------------------------------------------------------------------


def _looks_like_opencellid(fields: list[str]) -> bool:
    return (
        len(fields) == len(OPENCELLID_COLUMNS)
        and fields[0].strip().upper() in _OCID_RADIOS
        and fields[1].strip().isdigit()
    )


@dataclass
class _Columns:
    """The file's columns under canonical names: raw values, header (for messages), unit."""

    raw: dict[str, pd.Series]
    header: dict[str, str]
    unit: dict[str, str]

    def has(self, key: str) -> bool:
        return key in self.raw


def _from_table(df: pd.DataFrame, cmap: ColumnMap) -> _Columns:
    raw = {k: df[h] for k, (h, _) in cmap.found.items()}
    header = {k: h for k, (h, _) in cmap.found.items()}
    unit = {k: u for k, (_, u) in cmap.found.items()}
    return _Columns(raw, header, unit)


def _from_opencellid(df: pd.DataFrame) -> _Columns:
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
    return _Columns(raw, header, {k: "" for k in raw})


def read_sites(
    scn: Scenario, region: Region, rejects: Rejects, hashes: dict[str, str]
) -> SitesResult:
    """Read ``[sites] path`` into the cells table (see the module docstring)."""
    from ..pipeline import sha256_file

    sec = scn.sites
    table = read_table(
        sec.path,
        what="sites",
        aliases=SITE_ALIASES,
        sheet=sec.sheet,
        layer=sec.layer,
        encoding=sec.encoding,
        headerless=OPENCELLID_COLUMNS,
        headerless_test=_looks_like_opencellid,
    )
    hashes[str(table.path)] = sha256_file(table.path)
    warnings: list[str] = []
    df = table.df
    lower = {str(c).strip().lower() for c in df.columns}
    is_ocid = (not table.has_header) or {
        "radio",
        "mcc",
        "net",
        "area",
        "cell",
        "lon",
        "lat",
    } <= lower
    if is_ocid:
        cols = _from_opencellid(df)
        log.info("%s: OpenCelliD layout", table.path)
        split_rows = split_cells = 0
    else:
        cmap = match_columns(df.columns, SITE_ALIASES, sec.columns, where="[sites]")
        table, split_rows, split_cells = split_sector_rows(table, cmap)
        df = table.df
        cols = _from_table(df, cmap)
    report = InputReport(input="sites", path=str(table.path))
    if split_rows:
        report.fixed["sectors_split"] = split_rows
        first = int(table.rows[np.flatnonzero(np.diff(table.rows) == 0)[0]])
        msg = (
            f"{table.path}: {split_rows} row(s) list several sectors in {cmap.header('azimuth')!r} "
            f"(e.g. row {first}); split into {split_cells} cells, one per azimuth"
        )
        warnings.append(msg)
        log.info(msg)
    tracker = Tracker(str(table.path), table.rows, rejects, report)
    n = len(df)
    defaults: dict[str, np.ndarray] = {}
    declared = parse_crs(sec.crs, what="[sites] crs")

    # -- 1. coordinates ------------------------------------------------------------------------
    gx = gy = None
    if table.geometry is not None:
        geom = np.asarray(table.geometry.values, dtype=object)
        missing_geom = shapely.is_missing(geom) | shapely.is_empty(
            np.where(shapely.is_missing(geom), shapely.Point(), geom)
        )
        tid = np.where(missing_geom, -1, shapely.get_type_id(np.where(missing_geom, None, geom)))
        is_point = tid == 0
        gx = np.full(n, np.nan)
        gy = np.full(n, np.nan)
        gx[is_point] = shapely.get_x(geom[is_point])
        gy[is_point] = shapely.get_y(geom[is_point])
        tracker.reject(
            (tid > 0),
            "geometry",
            pd.Series(tid).map(
                {
                    1: "LineString",
                    3: "Polygon",
                    4: "MultiPoint",
                    5: "MultiLineString",
                    6: "MultiPolygon",
                    7: "GeometryCollection",
                }
            ),
            "bad_geometry",
            lambda v: "a " + v.astype(str) + " is not a site position; give points",
        )
    if gx is None and not (cols.has("lon") and cols.has("lat")):
        missing = [k for k in ("lon", "lat") if not cols.has(k)]
        cmap = match_columns(df.columns, SITE_ALIASES, sec.columns, where="[sites]")
        raise missing_columns_error(table.path, "sites", missing, cmap, SITE_ALIASES, "sites")
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    from_cols = np.ones(n, dtype=bool)
    if gx is not None:
        x[:], y[:] = gx, gy
        from_cols = ~np.isfinite(gx)
    if cols.has("lon") and cols.has("lat") and from_cols.any():
        plon = parse_numbers(cols.raw["lon"], _coord_unit)
        plat = parse_numbers(cols.raw["lat"], _coord_unit)
        hl, ha = cols.header["lon"], cols.header["lat"]
        tracker.reject(
            from_cols & plon.missing, hl, None, "missing_value", f"no longitude ({hl!r} is empty)"
        )
        tracker.reject(
            from_cols & plat.missing, ha, None, "missing_value", f"no latitude ({ha!r} is empty)"
        )
        tracker.reject(
            from_cols & plon.bad,
            hl,
            cols.raw["lon"],
            "not_a_number",
            lambda v: (
                "longitude " + v.map(repr) + " is not a number (decimal degrees or 118°35'20\")"
            ),
        )
        tracker.reject(
            from_cols & plat.bad,
            ha,
            cols.raw["lat"],
            "not_a_number",
            lambda v: (
                "latitude " + v.map(repr) + " is not a number (decimal degrees or 24°52'10\")"
            ),
        )
        x = np.where(from_cols, plon.values, x)
        y = np.where(from_cols, plat.values, y)
    elif from_cols.any():
        tracker.reject(
            from_cols, "geometry", None, "bad_geometry", "the feature has no point geometry"
        )
    hl = cols.header.get("lon", "geometry")
    ha = cols.header.get("lat", "geometry")
    first_geo, shift_geo = (
        effective_crs(declared, table.crs, table.path, warnings)
        if gx is not None
        else (declared, None)
    )
    first_col, shift_col = (
        (declared, None) if not declared.needs_datum_shift else (parse_crs("wgs84"), declared)
    )
    usable = tracker.alive & np.isfinite(x) & np.isfinite(y)
    check_lonlat_ranges(
        x[usable & from_cols], y[usable & from_cols], first_col, table.path, f"{hl!r} / {ha!r}"
    )

    def to84(xx, yy, cols_mask):
        lo = np.full(xx.shape, np.nan)
        la = np.full(xx.shape, np.nan)
        if cols_mask.any():
            lo[cols_mask], la[cols_mask] = points_to_wgs84(
                xx[cols_mask], yy[cols_mask], first_col, shift_col
            )
        if (~cols_mask).any():
            lo[~cols_mask], la[~cols_mask] = points_to_wgs84(
                xx[~cols_mask], yy[~cols_mask], first_geo, shift_geo
            )
        return lo, la

    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    idx = np.flatnonzero(usable)
    lon[idx], lat[idx] = to84(x[idx], y[idx], from_cols[idx])
    raw_lon, raw_lat = x[usable & from_cols].copy(), y[usable & from_cols].copy()
    inside = np.zeros(n, dtype=bool)
    inside[idx] = region.contains(lon[idx], lat[idx])
    out = usable & ~inside
    if out.any():
        oi = np.flatnonzero(out)
        slon, slat = to84(y[oi], x[oi], from_cols[oi])
        swap_in = region.contains(slon, slat)
        fix = oi[swap_in]
        if fix.size:
            lon[fix], lat[fix] = slon[swap_in], slat[swap_in]
            report.fixed["lat_lon_swapped"] = int(fix.size)
            ex = ", ".join(map(str, table.rows[fix][:5].tolist()))
            warnings.append(
                f"{table.path}: {fix.size} row(s) had longitude and latitude exchanged (rows {ex}"
                f"{', ...' if fix.size > 5 else ''}); swapped back and used, since only the swapped "
                "position lies in the region"
            )
        rest = oi[~swap_in]
        minx, miny, maxx, maxy = region.bounds
        pad = 1.0

        def near(a, b):
            return (a >= minx - pad) & (a <= maxx + pad) & (b >= miny - pad) & (b <= maxy + pad)

        looks_swapped = (np.abs(y[rest]) > 90) & (np.abs(x[rest]) <= 90) | near(
            slon[~swap_in], slat[~swap_in]
        )
        vals = pd.Series(
            [f"{float(a)!r}, {float(b)!r}" for a, b in zip(x[rest], y[rest], strict=True)],
            dtype=object,
        )
        mask = np.zeros(n, dtype=bool)
        mask[rest[looks_swapped]] = True
        full_vals = np.full(n, "", dtype=object)
        full_vals[rest] = vals.to_numpy()
        tracker.reject(
            mask,
            f"{hl}/{ha}",
            full_vals,
            "lat_lon_swapped",
            lambda v: (
                "longitude/latitude " + v + " look exchanged, but the position lies in the region "
                "in neither order; check the row"
            ),
        )
        mask = np.zeros(n, dtype=bool)
        mask[rest] = True
        km = region.margin_m / 1000.0
        tracker.reject(
            mask,
            f"{hl}/{ha}",
            full_vals,
            "outside_region",
            lambda v: (
                "position " + v + f" is outside the region (its counties + {km:g} km); "
                "check the coordinates and [sites] crs"
            ),
        )

    # -- 2. technology -------------------------------------------------------------------------
    band_mhz, band_tech, band_bw = _parse_band_columns(cols, n)
    if cols.has("tech"):
        raw_t = cols.raw["tech"]
        tmiss = is_missing(raw_t)
        tech = _map_unique(as_text(raw_t), normalise_tech).to_numpy(dtype=object)
        tech = np.where(tmiss, "", tech)
        from_band = tmiss & (band_tech != "")
        tech = np.where(from_band, band_tech, tech)
        defaults["tech"] = from_band
        ht = cols.header["tech"]
        tracker.reject(
            tmiss & ~from_band,
            ht,
            None,
            "missing_value",
            f"no technology ({ht!r} is empty and no band tells it); write 4G or 5G",
        )
        tracker.reject(
            tech == "old",
            ht,
            raw_t,
            "unknown_technology",
            lambda v: (
                "technology " + v.map(repr) + " is neither 4G nor 5G; only 4G/5G cells are analysed"
            ),
        )
        tracker.reject(
            tech == "",
            ht,
            raw_t,
            "unknown_technology",
            lambda v: "technology " + v.map(repr) + " is not understood; write 4G/LTE or 5G/NR",
        )
        mismatch = tracker.alive & (band_tech != "") & (tech != band_tech) & ~tmiss
        if mismatch.any():
            warnings.append(
                f"{table.path}: {int(mismatch.sum())} row(s) give a technology that does not match their "
                f"band (e.g. row {int(table.rows[np.argmax(mismatch)])}); the technology column was used"
            )
    else:
        tech = np.where(band_tech != "", band_tech, "5G").astype(object)
        defaults["tech"] = band_tech == ""
    is5 = tech == "5G"

    # -- 3. radio values -------------------------------------------------------------------------
    freq, fbad, fsrc = _frequency(cols, tech, band_mhz, n)
    if fbad.any():
        col_name, raw_vals = fsrc
        tracker.reject(
            fbad,
            col_name,
            raw_vals,
            "not_a_number",
            lambda v: (
                "frequency/band "
                + v.map(repr)
                + " is not understood; give MHz (3500), a band (n78, B3) or an ARFCN"
            ),
        )
    frange = np.isfinite(freq) & ((freq < 400) | (freq > 52600))
    tracker.reject(
        frange,
        fsrc[0],
        freq,
        "out_of_range",
        lambda v: "frequency " + v.astype(str) + " MHz is outside 400–52,600 MHz",
    )
    fmiss = ~np.isfinite(freq)
    freq = np.where(
        fmiss, np.where(is5, DEFAULTS["5G"]["freq_mhz"], DEFAULTS["4G"]["freq_mhz"]), freq
    )
    defaults["freq_mhz"] = fmiss

    bw = _numeric(cols, "bandwidth", _mhz_unit, tracker, "bandwidth", n)
    bw_unit = cols.unit.get("bandwidth", "")
    if bw_unit in ("khz", "k"):
        bw = bw / 1000.0
    elif bw_unit == "hz":
        bw = bw / 1e6
    elif not bw_unit:
        bw = np.where(bw >= 1e6, bw / 1e6, np.where(bw >= 1000, bw / 1000.0, bw))
    bmiss = ~np.isfinite(bw)
    typical = np.where(np.isfinite(band_bw), band_bw, _default_bandwidth(is5, freq))
    bw = np.where(bmiss, typical, bw)
    defaults["bandwidth_mhz"] = bmiss

    scs = _numeric(cols, "scs", _khz_unit, tracker, "subcarrier spacing", n)
    if cols.unit.get("scs", "") == "hz":
        scs = scs / 1000.0
    smiss = ~np.isfinite(scs)
    scs = np.where(smiss, np.where(is5, 30.0, 15.0), scs)
    defaults["scs_khz"] = smiss & is5
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
                v
                + " is not a 3GPP channel configuration (NR FR1: 5–100 MHz at 15/30/60 kHz per TS 38.101-1 Table 5.3.2-1; LTE: 1.4/3/5/10/15/20 MHz)"
            ),
        )

    height = _numeric(cols, "height", _metres_unit, tracker, "antenna height", n, multi=True)
    hbad = np.isfinite(height) & ((height <= 0) | (height > 500))
    tracker.reject(
        hbad,
        cols.header.get("height", ""),
        cols.raw.get("height"),
        "out_of_range",
        lambda v: "antenna height " + v.astype(str) + " m is outside (0, 500] m",
    )
    hmiss = ~np.isfinite(height)
    height = np.where(hmiss, 30.0, height)
    defaults["height_m"] = hmiss

    azimuth = _numeric(cols, "azimuth", _angle_unit, tracker, "azimuth", n, multi=True)
    abad = np.isfinite(azimuth) & ((azimuth < -360) | (azimuth > 720))
    tracker.reject(
        abad,
        cols.header.get("azimuth", ""),
        cols.raw.get("azimuth"),
        "out_of_range",
        lambda v: "azimuth " + v.astype(str) + "° is outside −360…720°",
    )
    omni = ~np.isfinite(azimuth)
    azimuth = np.where(omni, np.nan, np.mod(azimuth, 360.0))
    defaults["azimuth_deg"] = omni

    beam = _numeric(cols, "beamwidth", _angle_unit, tracker, "beamwidth", n, multi=True)
    bbad = np.isfinite(beam) & ((beam <= 0) | (beam > 360))
    tracker.reject(
        bbad,
        cols.header.get("beamwidth", ""),
        cols.raw.get("beamwidth"),
        "out_of_range",
        lambda v: "beamwidth " + v.astype(str) + "° is outside (0, 360]°",
    )
    bmiss_b = ~np.isfinite(beam)
    beam = np.where(bmiss_b, np.where(omni, 360.0, DEFAULT_BEAMWIDTH_DEG), beam)
    defaults["beamwidth_deg"] = bmiss_b & ~omni

    tilt = _numeric(cols, "tilt", _angle_unit, tracker, "downtilt", n, multi=True)
    if not cols.has("tilt") and (cols.has("tilt_mech") or cols.has("tilt_elec")):
        mech = _numeric(
            cols, "tilt_mech", _angle_unit, tracker, "mechanical downtilt", n, multi=True
        )
        elec = _numeric(
            cols, "tilt_elec", _angle_unit, tracker, "electrical downtilt", n, multi=True
        )
        both_missing = ~np.isfinite(mech) & ~np.isfinite(elec)
        tilt = np.where(both_missing, np.nan, np.nan_to_num(mech) + np.nan_to_num(elec))
    tcol = cols.header.get("tilt", cols.header.get("tilt_mech", cols.header.get("tilt_elec", "")))
    tbad = np.isfinite(tilt) & ((tilt < -20) | (tilt > 90))
    tracker.reject(
        tbad,
        tcol,
        tilt,
        "out_of_range",
        lambda v: "downtilt " + v.astype(str) + "° is outside −20…90°",
    )
    tmiss_ = ~np.isfinite(tilt)
    tilt = np.where(tmiss_, DEFAULT_TILT_DEG, tilt)
    defaults["tilt_deg"] = tmiss_

    eirp, eirp_col, power_warn = _power(cols, tracker, n, np.where(n_rb > 0, n_rb, 1))
    ebad = np.isfinite(eirp) & ((eirp < 0) | (eirp > 100))
    tracker.reject(
        ebad,
        eirp_col,
        eirp,
        "out_of_range",
        lambda v: "EIRP " + v.map(lambda e: f"{e:.1f}") + " dBm is outside 0–100 dBm",
    )
    emiss = ~np.isfinite(eirp)
    eirp = np.where(emiss, 61.0, eirp)
    defaults["eirp_dbm"] = emiss
    if power_warn:
        warnings.append(f"{table.path}: {power_warn}")

    # -- 4. commissioning ------------------------------------------------------------------------
    year = np.full(n, np.nan)
    if cols.has("commissioned"):
        hc = cols.header["commissioned"]
        year, ybad = parse_years(cols.raw["commissioned"])
        tracker.reject(
            ybad,
            hc,
            cols.raw["commissioned"],
            "bad_date",
            lambda v: (
                "commissioning date "
                + v.map(repr)
                + " is not a date or year (e.g. 2021-06-30, 2021)"
            ),
        )
        late = np.isfinite(year) & (year > scn.year)
        tracker.reject(
            late,
            hc,
            cols.raw["commissioned"],
            "not_yet_commissioned",
            lambda v: (
                "commissioned "
                + v.astype(str)
                + f", after the scenario year {scn.year}: not in service that year"
            ),
        )

    # -- 5. ids and duplicates -------------------------------------------------------------------
    site_id = (
        as_text(cols.raw["site_id"]).to_numpy(dtype=object)
        if cols.has("site_id")
        else np.full(n, "", dtype=object)
    )
    no_site = (site_id == "") & tracker.alive
    if no_site.any():
        site_id[no_site] = _site_ids_from_positions(lon[no_site], lat[no_site])
    defaults["site_id"] = no_site
    has_cell = cols.has("cell_id")
    cell_id = (
        as_text(cols.raw["cell_id"]).to_numpy(dtype=object)
        if has_cell
        else np.full(n, "", dtype=object)
    )
    keyframe = pd.DataFrame({"s": site_id, "c": cell_id})
    if has_cell:
        given = tracker.alive & (cell_id != "")
        sub = keyframe[given]
        dup_sub = sub.duplicated(keep="first").to_numpy()
        firsts = (
            sub[~sub.duplicated(keep="first")]
            .assign(r=table.rows[given][~dup_sub])
            .set_index(["s", "c"])["r"]
        )
        dmask = np.zeros(n, dtype=bool)
        dmask[np.flatnonzero(given)[dup_sub]] = True
        dup_rows = pd.MultiIndex.from_arrays([site_id[dmask], cell_id[dmask]])
        first_of = firsts.reindex(dup_rows).to_numpy()
        msgs = np.full(n, "", dtype=object)
        msgs[dmask] = [
            f"cell {c!r} of site {s!r} already given in row {int(r)}"
            for s, c, r in zip(site_id[dmask], cell_id[dmask], first_of, strict=True)
        ]
        tracker.reject(
            dmask,
            cols.header["cell_id"],
            cell_id,
            "duplicate_id",
            lambda v: msgs[dmask & tracker.alive],
        )
    else:
        alive_idx = np.flatnonzero(tracker.alive)
        sub = df.iloc[alive_idx]
        dup_sub = sub.duplicated(keep="first").to_numpy()
        if dup_sub.any():
            first_idx = (
                pd.Series(alive_idx)
                .groupby(pd.util.hash_pandas_object(sub, index=False).to_numpy())
                .transform("first")
                .to_numpy()
            )
            dmask = np.zeros(n, dtype=bool)
            dmask[alive_idx[dup_sub]] = True
            msgs = np.array(
                [
                    f"identical to row {int(table.rows[first_idx[k]])}"
                    for k in np.flatnonzero(dup_sub)
                ],
                dtype=object,
            )
            tracker.reject(dmask, "(whole row)", None, "duplicate_id", msgs)
    no_cell = tracker.alive & (cell_id == "")
    if no_cell.any():
        k = pd.Series(site_id[no_cell]).groupby(site_id[no_cell]).cumcount().to_numpy() + 1
        cell_id[no_cell] = (
            pd.Series(site_id[no_cell]).astype(str).to_numpy()
            + "-"
            + pd.Series(k).astype(str).to_numpy()
        )
    defaults["cell_id"] = no_cell

    # -- finish ----------------------------------------------------------------------------------
    tracker.finish()
    for col, mask in defaults.items():
        tracker.count_default(col, mask)
    report.warnings.extend(warnings)
    keep = tracker.alive
    name = (
        as_text(cols.raw["name"]).to_numpy(dtype=object)
        if cols.has("name")
        else np.full(n, "", dtype=object)
    )
    operator = (
        _map_unique(as_text(cols.raw["operator"]), normalise_operator).to_numpy(dtype=object)
        if cols.has("operator")
        else np.full(n, "", dtype=object)
    )
    admin = region.county_of(lon[keep], lat[keep])
    cells = pd.DataFrame(
        {
            "site_id": site_id[keep],
            "cell_id": cell_id[keep],
            "name": name[keep],
            "lon": lon[keep],
            "lat": lat[keep],
            "tech": tech[keep],
            "operator": operator[keep],
            "freq_mhz": freq[keep],
            "bandwidth_mhz": bw[keep],
            "scs_khz": scs[keep],
            "n_rb": n_rb[keep],
            "height_m": height[keep],
            "azimuth_deg": azimuth[keep],
            "beamwidth_deg": beam[keep],
            "tilt_deg": tilt[keep],
            "eirp_dbm": eirp[keep],
            "commissioned_year": pd.array(
                np.where(np.isfinite(year[keep]), year[keep], np.nan), dtype="Float64"
            ).astype("Int64"),
            "admin_code": admin,
            "source_row": table.rows[keep],
        }
    )
    cells = _typed(cells)
    log.info(
        "sites: %d rows read, %d cells used, %d rejected", report.read, report.used, report.rejected
    )
    return SitesResult(cells, report, warnings, raw_lon, raw_lat, declared)


def _typed(cells: pd.DataFrame) -> pd.DataFrame:
    for col, dtype in CELL_COLUMNS.items():
        if dtype == "str":
            cells[col] = cells[col].astype(object).astype(str)
        elif dtype == "Int64":
            cells[col] = cells[col].astype("Int64")
        else:
            cells[col] = cells[col].astype(dtype)
    return cells[list(CELL_COLUMNS)].reset_index(drop=True)


# ------------------------------------------------------------------------------------------------
# Column helpers
# ------------------------------------------------------------------------------------------------


#: Per-sector columns that a site-level row may list once per azimuth ("0/120/240", "3/3/6").
_SECTOR_KEYS = (
    "azimuth",
    "tilt",
    "tilt_mech",
    "tilt_elec",
    "beamwidth",
    "height",
    "eirp",
    "tx_power",
    "gain",
    "rs_power",
)
_SPLIT_RE = re.compile(r"\s*[/,;、|，；]\s*")


def split_sector_rows(table: Table, cmap: ColumnMap) -> tuple[Table, int, int]:
    """One row per cell from site-level rows that list several azimuths.

    Planning sheets often give a site in one row with ``方位角 = "0/120/240"`` (separators
    ``/ , ; 、 | ，；``). Such a row becomes one row per azimuth, keeping its spreadsheet row
    number; any other per-sector column (tilt, beamwidth, height, power) that lists the same
    number of values is split alongside, one listing a different number of values is left
    whole (and is then rejected as ``not_a_number``, naming the row). A cell id is suffixed
    ``-1``, ``-2``, … per sector. ``"120,5"`` (two values split by a comma alone) is ambiguous
    with a decimal comma and is not split. Returns ``(table, rows split, cells made)``.
    """
    if "azimuth" not in cmap:
        return table, 0, 0
    raw = table.df[cmap.header("azimuth")]
    if raw.dtype.kind in "iufb":
        return table, 0, 0
    maybe = np.flatnonzero(~np.isfinite(fast_float(raw)))  # plain numbers are no lists
    multi = np.zeros(len(raw), dtype=bool)
    if maybe.size:
        multi[maybe] = (
            as_text(raw.iloc[maybe]).str.match(_MULTI_VALUE_RE).to_numpy(dtype=bool, na_value=False)
        )
    if not multi.any():
        return table, 0, 0
    text = as_text(raw)
    parts = text[multi].str.split(_SPLIT_RE)
    counts = parts.str.len().to_numpy()
    decimal_comma = (counts == 2) & text[multi].str.fullmatch(r"\s*-?\d+\s*,\s*\d+\s*").to_numpy(
        dtype=bool
    )
    idx_multi = np.flatnonzero(multi)
    keep_whole = idx_multi[decimal_comma]
    multi[keep_whole] = False
    parts, counts = parts[~decimal_comma], counts[~decimal_comma]
    if not multi.any():
        return table, 0, 0
    n = len(table.df)
    reps = np.ones(n, dtype=np.int64)
    reps[multi] = counts
    src = np.repeat(np.arange(n), reps)
    sector = pd.Series(src).groupby(src).cumcount().to_numpy()
    expanded = np.repeat(multi, reps)
    df = table.df.iloc[src].reset_index(drop=True)
    for key in _SECTOR_KEYS:
        if key not in cmap:
            continue
        col = cmap.header(key)
        vals = as_text(table.df[col]) if key != "azimuth" else text
        split = vals[multi].str.split(_SPLIT_RE)
        same = split.str.len().to_numpy() == counts
        if key != "azimuth":
            same &= vals[multi].str.match(_MULTI_VALUE_RE).to_numpy(dtype=bool, na_value=False)
        pieces = np.full(n, None, dtype=object)
        pieces[np.flatnonzero(multi)[same]] = split[same].to_numpy()
        rows_exp = np.flatnonzero(expanded)
        per = pieces[src[rows_exp]]
        has = np.array([p is not None for p in per], dtype=bool)
        new = df[col].astype(object).to_numpy(copy=True)
        new[rows_exp[has]] = [p[k] for p, k in zip(per[has], sector[rows_exp[has]], strict=True)]
        df[col] = new
    if "cell_id" in cmap:
        col = cmap.header("cell_id")
        cid = as_text(df[col]).to_numpy(dtype=object)
        named = expanded & (cid != "")
        cid[named] = [f"{c}-{k + 1}" for c, k in zip(cid[named], sector[named], strict=True)]
        df[col] = np.where(expanded, cid, df[col].astype(object).to_numpy())
    geometry = None
    if table.geometry is not None:
        geometry = table.geometry.iloc[src].reset_index(drop=True)
    out = dataclasses.replace(table, df=df, geometry=geometry, _row_numbers=table.rows[src])
    return out, int(multi.sum()), int(counts.sum())


def _numeric(
    cols: _Columns, key: str, unit_parser, tracker: Tracker, what: str, n: int, multi: bool = False
) -> np.ndarray:
    """Parse an optional numeric column; reject non-numbers; NaN where missing or absent."""
    if not cols.has(key):
        return np.full(n, np.nan)
    raw = cols.raw[key]
    p: Parsed = parse_numbers(raw, unit_parser)
    header = cols.header[key]
    if multi and p.bad.any():
        text = raw.astype("str")
        several = p.bad & text.str.match(_MULTI_VALUE_RE).to_numpy(dtype=bool, na_value=False)
        tracker.reject(
            several,
            header,
            raw,
            "not_a_number",
            lambda v: (
                f"{what} " + v.map(repr) + " holds several values that do not match the row's "
                "azimuths (or a decimal comma); give one value per azimuth, or one cell (sector) per row"
            ),
        )
    tracker.reject(
        p.bad, header, raw, "not_a_number", lambda v: f"{what} " + v.map(repr) + " is not a number"
    )
    return p.values


def _default_bandwidth(is5: np.ndarray, freq: np.ndarray) -> np.ndarray:
    """Bandwidth when none is given: DESIGN.md's 100 MHz (5G) / 20 MHz (4G), narrower in low bands
    where such a carrier cannot exist (5G below 1 GHz: 30 MHz, n28; 1–2.4 GHz: 20 MHz; 4G below
    1 GHz: 10 MHz)."""
    f = np.nan_to_num(freq, nan=3500.0)
    bw5 = np.where(f < 1000, 30.0, np.where(f < 2400, 20.0, 100.0))
    bw4 = np.where(f < 1000, 10.0, 20.0)
    return np.where(is5, bw5, bw4)


def _parse_band_columns(cols: _Columns, n: int):
    """Band column → (centre MHz, tech hint, typical bandwidth) per row (NaN / "" if none)."""
    mhz = np.full(n, np.nan)
    tech = np.full(n, "", dtype=object)
    bw = np.full(n, np.nan)
    if not cols.has("band"):
        return mhz, tech, bw
    text = as_text(cols.raw["band"])
    parsed = _map_unique(text, lambda t: parse_band(t) if t else None)
    got = parsed.notna().to_numpy()
    if got.any():
        arr = parsed[got].tolist()
        mhz[got] = [a[0] for a in arr]
        tech[got] = [a[1] for a in arr]
        bw[got] = [a[2] for a in arr]
    return mhz, tech, bw


def _frequency(cols: _Columns, tech: np.ndarray, band_mhz: np.ndarray, n: int):
    """Centre frequency (MHz) from freq / band / ARFCN columns; returns (freq, bad, (column, raw))."""
    freq = np.full(n, np.nan)
    bad = np.zeros(n, dtype=bool)
    src = ("freq_mhz", None)
    if cols.has("freq"):
        raw = cols.raw["freq"]
        header_unit = cols.unit.get("freq", "")
        p = parse_numbers(raw, lambda num, unit: _freq_text(f"{num}{unit}"))
        vals = p.values
        plain = ~p.missing & ~p.bad & _is_plain_number(raw)
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
        # band names in a frequency column ("n78") come back as NaN → try them as bands
        nb = p.bad
        if nb.any():
            b = _map_unique(as_text(raw[nb]), lambda t: parse_band(t))
            ok = b.notna().to_numpy()
            idx = np.flatnonzero(nb)
            vals[idx[ok]] = [a[0] for a in b[ok].tolist()]
            nb = nb.copy()
            nb[idx[ok]] = False
        freq = vals
        bad = nb | (plain & ~np.isfinite(vals))
        src = (cols.header["freq"], raw)
    take = ~np.isfinite(freq) & ~bad & np.isfinite(band_mhz)
    freq[take] = band_mhz[take]
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
        f = _arfcn_or_mhz(v, tech, explicit=split_is_explicit_arfcn(cols.header["arfcn"]))
        take = ~np.isfinite(freq) & np.isfinite(f)
        freq[take] = f[take]
        abad = (p.bad | (np.isfinite(v) & ~np.isfinite(f))) & ~np.isfinite(freq)
        if abad.any() and not bad.any():
            src = (cols.header["arfcn"], raw)
        bad |= abad
    bad &= ~np.isfinite(freq)
    return freq, bad, src


def split_is_explicit_arfcn(header: str) -> bool:
    h = header.lower()
    return "arfcn" in h


def _is_plain_number(raw: pd.Series) -> np.ndarray:
    if raw.dtype.kind in "iuf":
        return np.ones(len(raw), dtype=bool)
    return np.isfinite(pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan))


def _freq_text(text: str) -> float | None:
    got = parse_band(text)
    return None if got is None else got[0]


_LTE_DL_RANGES = [
    (2110, 2170),
    (1805, 1880),
    (869, 894),
    (925, 960),
    (2010, 2025),
    (2570, 2620),
    (1880, 1920),
    (2300, 2400),
    (2496, 2690),
]


def _arfcn_or_mhz(v: np.ndarray, tech: np.ndarray, explicit: bool) -> np.ndarray:
    """频点 values: ARFCN (NR-ARFCN for 5G rows, EARFCN for 4G) or MHz written in a 频点 column."""
    out = np.full(v.shape, np.nan)
    fin = np.isfinite(v)
    is5 = tech == "5G"
    nr = nr_arfcn_to_mhz(v)
    lte = earfcn_to_mhz(v)
    if explicit:
        out = np.where(is5, nr, lte)
        return np.where(fin, out, np.nan)
    in_lte_band = np.zeros(v.shape, dtype=bool)
    for lo, hi in _LTE_DL_RANGES:
        in_lte_band |= (v >= lo) & (v <= hi)
    big = fin & (v >= 36000)
    out = np.where(big & is5, nr, out)
    out = np.where(big & ~is5, np.where(np.isfinite(lte), lte, nr), out)
    small = fin & (v < 36000)
    mhz_ok = (v >= 400) & (v <= 7125)
    out = np.where(small & is5 & mhz_ok, v, out)
    out = np.where(small & ~is5 & in_lte_band, v, out)
    out = np.where(small & ~is5 & ~in_lte_band & np.isfinite(lte), lte, out)
    out = np.where(small & ~is5 & ~in_lte_band & ~np.isfinite(lte) & mhz_ok, v, out)
    return out


def _power(
    cols: _Columns, tracker: Tracker, n: int, n_rb: np.ndarray
) -> tuple[np.ndarray, str, str]:
    """EIRP (dBm, total over the carrier) from eirp / tx power + gain / RS power + gain."""
    warn = ""
    if cols.has("eirp"):
        e = _numeric(cols, "eirp", _dbm_unit, tracker, "EIRP", n)
        return _plain_power(cols, "eirp", e), cols.header["eirp"], warn
    gain = np.zeros(n)
    if cols.has("gain"):
        gain = np.nan_to_num(_numeric(cols, "gain", _dbi_unit, tracker, "antenna gain", n), nan=0.0)
    if cols.has("tx_power"):
        t = _plain_power(
            cols, "tx_power", _numeric(cols, "tx_power", _dbm_unit, tracker, "transmit power", n)
        )
        if not cols.has("gain"):
            warn = (
                f"transmit power ({cols.header['tx_power']!r}) taken as EIRP: the file has no antenna "
                "gain column (天线增益 / antenna_gain); a sector antenna adds about 15–18 dB"
            )
        return t + gain, cols.header["tx_power"], warn
    if cols.has("rs_power"):
        rs = _numeric(cols, "rs_power", _dbm_unit, tracker, "reference-signal power", n)
        total = rs + 10 * np.log10(12.0 * n_rb)
        return total + gain, cols.header["rs_power"], warn
    return np.full(n, np.nan), "eirp_dbm", warn


def _plain_power(cols: _Columns, key: str, values: np.ndarray) -> np.ndarray:
    unit = cols.unit.get(key, "")
    if unit in ("w", "瓦", "mw", "kw"):
        plain = _is_plain_number(cols.raw[key])
        return np.where(plain, _power_to_dbm(values, unit), values)
    return values


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


def _site_ids_from_positions(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Site ids for cells without one: positions within ~1 m form one site (see module doc)."""
    lat0 = float(np.nanmean(lat)) if lat.size else 0.0
    kx = 111_320.0 * math.cos(math.radians(lat0))
    ky = 110_574.0
    ix = np.floor(lon * kx).astype(np.int64)
    iy = np.floor(lat * ky).astype(np.int64)
    keys = pd.MultiIndex.from_arrays([ix, iy])
    codes, uniq = pd.factorize(keys)
    ux = uniq.get_level_values(0).to_numpy()
    uy = uniq.get_level_values(1).to_numpy()
    index = pd.MultiIndex.from_arrays([ux, uy])
    label = np.arange(len(ux))
    edges_a, edges_b = [], []
    for dx, dy in ((1, -1), (1, 0), (1, 1), (0, 1)):
        nb = index.get_indexer(pd.MultiIndex.from_arrays([ux + dx, uy + dy]))
        has = nb >= 0
        edges_a.append(np.flatnonzero(has))
        edges_b.append(nb[has])
    a = np.concatenate(edges_a)
    b = np.concatenate(edges_b)
    while a.size:
        lo = np.minimum(label[a], label[b])
        new = label.copy()
        np.minimum.at(new, a, lo)
        np.minimum.at(new, b, lo)
        new = new[new]
        if np.array_equal(new, label):
            break
        label = new
    cluster = label[codes]
    # representative: first row of each cluster
    first = pd.Series(np.arange(lon.size)).groupby(cluster).transform("first").to_numpy()
    return np.array([f"site@{lon[i]:.6f},{lat[i]:.6f}" for i in first], dtype=object)
