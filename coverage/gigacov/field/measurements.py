"""Field measurements as an input: drive tests, MR, crowdsourced and speed tests.

One row is one sample: a position and at least one of ``rsrp_dbm`` (SS-RSRP for 5G, RSRP for
4G), ``sinr_db`` and ``download_mbps``. Files are read like every other input (CSV with its
encoding detected, XLSX with title rows, GeoPackage, Parquet; see :mod:`gigacov.ingest.tables`)
and their columns are found by alias: the headers that drive-test and MR exports use (经度, 纬度,
``NR_SS-RSRP``, ``SS-SINR``, ``LTE RSRP``, 下载速率, 时间, PCI, 运营商, …) are known.

Rows are checked in this order, the first failure wins and goes to ``rejected_rows.csv``:

* position: ``missing_value`` / ``not_a_number`` / ``bad_geometry``, then ``lat_lon_swapped``
  (looks exchanged) and ``outside_region`` (outside the region's counties plus
  ``[sites] region_margin_m``);
* ``missing_value`` when the row has none of RSRP, SINR and download speed (or a fixed-broadband
  test has no download speed);
* ``not_a_number`` for a value that is not a number (units in the value or the header are
  understood: ``dBm``, ``Mbps``, ``kbps``, ``Gbps``);
* ``out_of_range``: RSRP outside −156…−31 dBm (the 3GPP reporting range of SS-RSRP and RSRP),
  SINR outside −23…40 dB (the SS-SINR reporting range), a negative or absurd speed
  (> 100,000 Mbps);
* ``unknown_technology`` for a ``tech`` that is not 5G, 4G or fixed broadband;
* ``bad_date`` for a ``time`` that cannot be read as a date and time.

A header that names the technology (``NR_SS-RSRP``, ``LTE RSRP``) gives the technology of rows
without a ``tech`` value; otherwise ``[measurements] tech`` does (counted as a default).
"""

from __future__ import annotations

import re
import unicodedata
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from ..crs import parse_crs
from ..errors import InputError
from ..ingest._common import Rejects, as_text, is_missing, log, parse_numbers
from ..ingest.geo import (
    Region,
    check_lonlat_ranges,
    effective_crs,
    lonlat_columns,
    points_to_wgs84_by_source,
)
from ..ingest.model import InputReport
from ..ingest.source import open_source
from ..ingest.tables import missing_columns_error
from ..scenario import Scenario

__all__ = [
    "MEASUREMENT_ALIASES",
    "MEASUREMENT_COLUMNS",
    "RSRP_RANGE_DBM",
    "SINR_RANGE_DB",
    "read_measurements",
    "normalise_sample_tech",
    "parse_indoor",
]

#: Physical / reporting ranges (3GPP TS 38.133 SS-RSRP −156…−31 dBm, SS-SINR −23…40 dB).
RSRP_RANGE_DBM = (-156.0, -31.0)
SINR_RANGE_DB = (-23.0, 40.0)
MAX_SPEED_MBPS = 100_000.0

MEASUREMENT_ALIASES: dict[str, list[str]] = {
    "lon": ["经度", "longitude", "lng", "long", "gps经度", "gpslongitude", "x坐标", "lon_wgs84"],
    "lat": ["纬度", "latitude", "gps纬度", "gpslatitude", "y坐标", "lat_wgs84"],
    "rsrp_dbm": [
        "NR_SS-RSRP",
        "SS-RSRP",
        "NR SS-RSRP",
        "NR RSRP",
        "5G RSRP",
        "SSB RSRP",
        "RSRP",
        "LTE RSRP",
        "4G RSRP",
        "LTE_RSRP",
        "serving rsrp",
        "参考信号接收功率",
        "主服务小区rsrp",
        "电平",
        "场强",
    ],
    "sinr_db": [
        "NR_SS-SINR",
        "SS-SINR",
        "NR SS-SINR",
        "NR SINR",
        "5G SINR",
        "SINR",
        "LTE SINR",
        "4G SINR",
        "RS-SINR",
        "LTE_SINR",
        "信噪比",
        "信干噪比",
    ],
    "download_mbps": [
        "下载速率",
        "下行速率",
        "下载速度",
        "下行速度",
        "下行吞吐量",
        "下载吞吐量",
        "download",
        "download_speed",
        "dl_mbps",
        "dl_throughput",
        "downlink",
        "dl",
        "download_speed_mbps",
    ],
    "upload_mbps": [
        "上行速率",
        "上传速率",
        "上传速度",
        "上行速度",
        "上行吞吐量",
        "upload",
        "upload_speed",
        "ul_mbps",
        "ul_throughput",
        "uplink",
        "ul",
    ],
    "tech": [
        "制式",
        "网络制式",
        "网络类型",
        "网络",
        "technology",
        "rat",
        "network",
        "network_type",
    ],
    "operator": ["运营商", "carrier", "operator_name", "network_operator", "plmn"],
    "pci": ["PCI", "NR PCI", "LTE PCI", "物理小区标识", "物理小区id", "服务小区pci"],
    "cell_id": ["cellid", "cell", "小区标识", "小区id", "eci", "nci", "ecgi", "ncgi", "cgi"],
    "time": ["时间", "测试时间", "采样时间", "日期时间", "timestamp", "datetime", "date_time"],
    "source": ["来源", "数据来源", "数据类型", "测试类型", "source_type", "data_source"],
    "indoor": ["室内", "室内外", "是否室内", "场景", "is_indoor", "indoor_outdoor"],
}

#: Columns of the samples table (``FieldInputs.samples``).
MEASUREMENT_COLUMNS: dict[str, str] = {
    "file": "str",
    "source_row": "int64",
    "lon": "float64",
    "lat": "float64",
    "tech": "str",  # "5G", "4G" or "fixed"
    "operator": "str",
    "rsrp_dbm": "float64",
    "sinr_db": "float64",
    "download_mbps": "float64",
    "upload_mbps": "float64",
    "pci": "float64",
    "cell_id": "str",
    "time": "datetime64[ns]",
    "source": "str",  # drive_test | mr | crowd | speed_test | "" (not given)
    "indoor": "bool",
    "admin_code": "str",
}

_FIXED_WORDS = {
    "fixed",
    "fixedbroadband",
    "broadband",
    "ftth",
    "fttx",
    "pon",
    "gpon",
    "xgpon",
    "10gpon",
    "固定",
    "固网",
    "宽带",
    "固定宽带",
    "家宽",
    "家庭宽带",
    "有线",
    "光纤",
}
_SOURCE_WORDS = {
    "drive_test": {"drivetest", "dt", "路测", "路测数据", "drive", "walktest", "步测", "scanner"},
    "mr": {"mr", "mro", "mdt", "测量报告", "measurementreport"},
    "crowd": {"crowd", "crowdsourced", "众包", "app", "用户上报"},
    "speed_test": {"speedtest", "speed", "测速", "速率测试", "ookla", "speed_test"},
}
_INDOOR_TRUE = {"1", "true", "yes", "y", "是", "室内", "indoor", "in", "t"}
_INDOOR_FALSE = {"0", "false", "no", "n", "否", "室外", "outdoor", "out", "f", ""}


def normalise_sample_tech(value) -> str:
    """``"NR"`` → ``"5G"``, ``"LTE"`` → ``"4G"``, ``"FTTH"`` / ``"宽带"`` → ``"fixed"``, else ``""``."""
    from ..ingest.vocab import normalise_tech

    key = re.sub(r"[\s_\-/()（）.]+", "", unicodedata.normalize("NFKC", str(value))).lower()
    if key in _FIXED_WORDS:
        return "fixed"
    tech = normalise_tech(value)
    return tech if tech in ("5G", "4G") else ""


def _source(value: str) -> str:
    key = re.sub(r"[\s\-.]+", "", unicodedata.normalize("NFKC", str(value))).lower()
    for name, words in _SOURCE_WORDS.items():
        if key == name.replace("_", "") or key in words:
            return name
    return key


def parse_indoor(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``(indoor, bad)``: booleans from 室内/室外, 是/否, true/false, 1/0; ``bad`` where unreadable."""
    text = as_text(values).str.strip().str.lower().to_numpy(dtype=object)
    indoor = np.isin(text, list(_INDOOR_TRUE))
    bad = ~indoor & ~np.isin(text, list(_INDOOR_FALSE))
    return indoor, bad


def _dbm_unit(num: float, unit: str) -> float | None:
    return num if unit.strip().lower() in ("dbm", "db") else None


def _db_unit(num: float, unit: str) -> float | None:
    return num if unit.strip().lower() == "db" else None


def _speed_unit(num: float, unit: str) -> float | None:
    u = unit.strip().lower().replace("/", "").replace(" ", "")
    if u in ("mbps", "mbits", "mbits", "mbs", "m", "兆"):
        return num
    if u in ("kbps", "kbits", "kbs", "k"):
        return num / 1000.0
    if u in ("gbps", "gbits", "gbs", "g"):
        return num * 1000.0
    return None


def _header_scale(unit: str) -> float | None:
    """Factor from a speed header's unit (``下载速率(kbps)``) to Mbit/s; None if not a speed unit."""
    if not unit:
        return 1.0
    out = _speed_unit(1.0, unit)
    return out


def _header_tech(header: str) -> str:
    key = re.sub(r"[\s_\-.]+", "", unicodedata.normalize("NFKC", header)).lower()
    if key.startswith(("nr", "5g", "ss", "ssb")):
        return "5G"
    if key.startswith(("lte", "4g")) or key == "rssinr":
        return "4G"
    return ""


def read_measurements(
    scn: Scenario, region: Region, rejects: Rejects, hashes: dict[str, str]
) -> tuple[pd.DataFrame, list[InputReport], list[str]]:
    """Read every file of ``[measurements]`` (see the module docstring).

    Returns the samples (:data:`MEASUREMENT_COLUMNS`, WGS84, with the county of each sample),
    one :class:`InputReport` per file and the warnings.
    """
    sec = scn.measurements
    paths = [p for p in [sec.path, *sec.paths] if p]
    frames, reports, warnings = [], [], []
    for path in paths:
        if not Path(path).exists():
            raise InputError(
                f"[measurements]: file {path!r} does not exist (relative paths resolve against "
                "the scenario file's folder)"
            )
        df, rep, w = _read_one(scn, path, region, rejects, hashes)
        frames.append(df)
        reports.append(rep)
        warnings.extend(w)
    if not frames:
        return empty_samples(), reports, warnings
    samples = pd.concat(frames, ignore_index=True)
    log.info("measurements: %d samples from %d file(s)", len(samples), len(paths))
    return samples, reports, warnings


def empty_samples() -> pd.DataFrame:
    return pd.DataFrame(
        {
            c: pd.Series(dtype=("object" if t == "str" else t))
            for c, t in MEASUREMENT_COLUMNS.items()
        }
    )


def _read_one(scn: Scenario, path: str, region: Region, rejects: Rejects, hashes):

    sec = scn.measurements
    src = open_source(
        path,
        sec,
        input_name="measurements",
        what="measurements",
        aliases=MEASUREMENT_ALIASES,
        rejects=rejects,
        hashes=hashes,
    )
    table, df, n, cmap = src.table, src.df, src.n, src.cmap
    report, tracker, warnings = src.report, src.tracker, src.warnings
    file = str(table.path)

    def raw(key: str) -> pd.Series:
        return df[cmap.header(key)].reset_index(drop=True)

    # -- 1. position ---------------------------------------------------------------------------
    declared = parse_crs(sec.crs, what="[measurements] crs")
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    from_cols = np.ones(n, dtype=bool)
    if table.geometry is not None:
        geom = np.asarray(table.geometry.values, dtype=object)
        missing_geom = shapely.is_missing(geom)
        ok_geom = ~missing_geom
        ok_geom[ok_geom] = ~shapely.is_empty(geom[ok_geom])
        tid = np.full(n, -1)
        tid[ok_geom] = shapely.get_type_id(geom[ok_geom])
        pt = tid == 0
        x[pt] = shapely.get_x(geom[pt])
        y[pt] = shapely.get_y(geom[pt])
        tracker.reject(
            tid > 0,
            "geometry",
            pd.Series(tid).map({1: "LineString", 3: "Polygon", 4: "MultiPoint"}).fillna("other"),
            "bad_geometry",
            lambda v: "a " + v.astype(str) + " geometry is not a sample position; give points",
        )
        from_cols = ~pt
    has_cols = "lon" in cmap and "lat" in cmap
    if table.geometry is None and not has_cols:
        missing = [k for k in ("lon", "lat") if k not in cmap]
        raise missing_columns_error(
            table.path, "measurements", missing, cmap, MEASUREMENT_ALIASES, "measurements.columns"
        )
    if has_cols and from_cols.any():
        hl, ha = cmap.header("lon"), cmap.header("lat")
        plon, plat = lonlat_columns(tracker, raw("lon"), raw("lat"), (hl, ha), from_cols)
        x = np.where(from_cols, plon, x)
        y = np.where(from_cols, plat, y)
    elif from_cols.any():
        tracker.reject(
            from_cols, "geometry", None, "bad_geometry", "the feature has no point geometry"
        )
    hl = cmap.header("lon") if "lon" in cmap else "geometry"
    ha = cmap.header("lat") if "lat" in cmap else "geometry"
    first_geo, shift_geo = (
        effective_crs(declared, table.crs, table.path, warnings)
        if table.geometry is not None
        else (declared, None)
    )
    first_col, shift_col = (
        (declared, None) if not declared.needs_datum_shift else (parse_crs("wgs84"), declared)
    )
    usable = tracker.alive & np.isfinite(x) & np.isfinite(y)
    check_lonlat_ranges(
        x[usable & from_cols], y[usable & from_cols], first_col, table.path, f"{hl!r} / {ha!r}"
    )

    to84 = partial(
        points_to_wgs84_by_source,
        col_crs=(first_col, shift_col),
        geo_crs=(first_geo, shift_geo),
    )

    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    idx = np.flatnonzero(usable)
    if idx.size:
        lon[idx], lat[idx] = to84(x[idx], y[idx], from_cols[idx])
    inside = np.zeros(n, dtype=bool)
    inside[idx] = region.contains(lon[idx], lat[idx])
    out = usable & ~inside
    if out.any():
        oi = np.flatnonzero(out)
        slon, slat = to84(y[oi], x[oi], from_cols[oi])
        swapped = np.zeros(n, dtype=bool)
        swapped[oi] = region.contains(slon, slat) | ((np.abs(y[oi]) > 90) & (np.abs(x[oi]) <= 90))
        text = np.array([f"{a!r}, {b!r}" for a, b in zip(x, y, strict=True)], dtype=object)
        tracker.reject(
            swapped,
            f"{hl}/{ha}",
            text,
            "lat_lon_swapped",
            lambda v: "longitude/latitude " + v + " look exchanged; fix the row",
        )
        km = scn.sites.region_margin_m / 1000.0
        tracker.reject(
            out,
            f"{hl}/{ha}",
            text,
            "outside_region",
            lambda v: (
                "position " + v + f" is outside the region (its counties + {km:g} km); "
                "check the coordinates and [measurements] crs"
            ),
        )

    # -- 2. technology -------------------------------------------------------------------------
    default_tech = sec.tech.upper() if sec.tech.lower() != "fixed" else "fixed"
    tech = np.full(n, "", dtype=object)
    header_tech = ""
    for key in ("rsrp_dbm", "sinr_db"):
        if key in cmap and not header_tech:
            header_tech = _header_tech(cmap.header(key))
    if "tech" in cmap:
        t_raw = raw("tech")
        t_miss = is_missing(t_raw)
        uniq = {u: normalise_sample_tech(u) for u in pd.unique(as_text(t_raw))}
        tech = as_text(t_raw).map(uniq).to_numpy(dtype=object)
        tracker.reject(
            ~t_miss & (tech == ""),
            cmap.header("tech"),
            t_raw,
            "unknown_technology",
            lambda v: "technology " + v.map(repr) + " is not 5G (NR), 4G (LTE) or fixed broadband",
        )
        fill = t_miss
    else:
        fill = np.ones(n, dtype=bool)
    tech = np.where(fill, header_tech or default_tech, tech)
    tracker.count_default("tech", fill)

    # -- 3. values -----------------------------------------------------------------------------
    values: dict[str, np.ndarray] = {}
    present: dict[str, np.ndarray] = {}
    for key, parser, lo, hi, what in (
        ("rsrp_dbm", _dbm_unit, *RSRP_RANGE_DBM, "RSRP (dBm)"),
        ("sinr_db", _db_unit, *SINR_RANGE_DB, "SINR (dB)"),
        ("download_mbps", _speed_unit, 0.0, MAX_SPEED_MBPS, "download speed (Mbit/s)"),
        ("upload_mbps", _speed_unit, 0.0, MAX_SPEED_MBPS, "upload speed (Mbit/s)"),
    ):
        if key not in cmap:
            values[key] = np.full(n, np.nan)
            present[key] = np.zeros(n, dtype=bool)
            continue
        h = cmap.header(key)
        p = parse_numbers(raw(key), parser)
        vals = p.values
        if key.endswith("_mbps"):
            scale = _header_scale(cmap.unit(key))
            if scale is None:
                raise InputError(
                    f"{table.path}: column {h!r}: unit {cmap.unit(key)!r} is not a speed unit "
                    "(Mbps, kbps, Gbps)"
                )
            plain = ~p.bad & ~p.missing
            vals = np.where(plain, vals * scale, vals)
        tracker.reject(
            p.bad,
            h,
            raw(key),
            "not_a_number",
            lambda v, w=what: w + " " + v.map(repr) + " is not a number",
        )
        bad = ~p.missing & ~p.bad & ((vals < lo) | (vals > hi))
        tracker.reject(
            bad,
            h,
            raw(key),
            "out_of_range",
            lambda v, w=what, a=lo, b=hi: (
                w + " " + v.map(repr) + f" is outside the physical range {a:g} … {b:g}"
            ),
        )
        values[key] = np.where(p.missing | p.bad, np.nan, vals)
        present[key] = ~p.missing & ~p.bad
    radio_any = present["rsrp_dbm"] | present["sinr_db"] | present["download_mbps"]
    tracker.reject(
        ~radio_any,
        "rsrp_dbm/sinr_db/download_mbps",
        None,
        "missing_value",
        "the sample has no RSRP, SINR or download speed",
    )
    tracker.reject(
        (tech == "fixed") & ~present["download_mbps"],
        cmap.header("download_mbps") if "download_mbps" in cmap else "download_mbps",
        None,
        "missing_value",
        "a fixed-broadband speed test without a download speed",
    )

    # -- 4. time, indoor, identifiers ----------------------------------------------------------
    times = pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")
    if "time" in cmap:
        t_raw = raw("time")
        t_miss = is_missing(t_raw)
        parsed = pd.to_datetime(t_raw.where(~t_miss), errors="coerce", format="mixed")
        if getattr(parsed.dt, "tz", None) is not None:
            parsed = parsed.dt.tz_localize(None)
        bad = ~t_miss & parsed.isna().to_numpy()
        tracker.reject(
            bad,
            cmap.header("time"),
            t_raw,
            "bad_date",
            lambda v: "time " + v.map(repr) + " is not a date and time",
        )
        times = parsed.astype("datetime64[ns]")
    indoor = np.zeros(n, dtype=bool)
    if "indoor" in cmap:
        indoor, bad = parse_indoor(raw("indoor"))
        tracker.reject(
            bad & ~is_missing(raw("indoor")),
            cmap.header("indoor"),
            raw("indoor"),
            "not_a_number",
            lambda v: "indoor " + v.map(repr) + " is not 室内/室外, yes/no, true/false or 1/0",
        )
    pci = np.full(n, np.nan)
    if "pci" in cmap:
        p = parse_numbers(raw("pci"))
        tracker.reject(
            p.bad | (~p.missing & ((p.values < 0) | (p.values > 1007) | (p.values % 1 != 0))),
            cmap.header("pci"),
            raw("pci"),
            "out_of_range",
            lambda v: "PCI " + v.map(repr) + " is not an integer 0 … 1007",
        )
        pci = np.where(p.missing | p.bad, np.nan, p.values)
    operator = np.full(n, "", dtype=object)
    if "operator" in cmap:
        from ..ingest.vocab import normalise_operator

        o_text = as_text(raw("operator"))
        uniq = {u: (normalise_operator(u) if u else "") for u in pd.unique(o_text)}
        operator = o_text.map(uniq).to_numpy(dtype=object)
    source = np.full(n, "", dtype=object)
    if "source" in cmap:
        s_text = as_text(raw("source"))
        source = s_text.map({u: (_source(u) if u else "") for u in pd.unique(s_text)}).to_numpy(
            dtype=object
        )
    cell_id = (
        as_text(raw("cell_id")).to_numpy(dtype=object)
        if "cell_id" in cmap
        else np.full(n, "", dtype=object)
    )

    tracker.finish()
    keep = tracker.alive
    out_df = pd.DataFrame(
        {
            "file": np.full(int(keep.sum()), file, dtype=object),
            "source_row": table.rows[keep].astype(np.int64),
            "lon": lon[keep],
            "lat": lat[keep],
            "tech": tech[keep].astype(object),
            "operator": operator[keep],
            "rsrp_dbm": values["rsrp_dbm"][keep],
            "sinr_db": values["sinr_db"][keep],
            "download_mbps": values["download_mbps"][keep],
            "upload_mbps": values["upload_mbps"][keep],
            "pci": pci[keep],
            "cell_id": cell_id[keep],
            "time": times.to_numpy()[keep],
            "source": source[keep],
            "indoor": indoor[keep].astype(bool),
        }
    )
    out_df["admin_code"] = region.county_of(out_df["lon"].to_numpy(), out_df["lat"].to_numpy())
    if report.rejected:
        log.info("%s: %d of %d rows rejected", file, report.rejected, report.read)
    return out_df, report, warnings
