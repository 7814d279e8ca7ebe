"""The run directory: its file names, atomic writes, hashing, the manifest, and reading a run back.

Every stage of :mod:`gigacov.pipeline` writes into one folder per run (``[scenario] out_dir``).
This module is the only place that knows how that folder is laid out and how files get into it,
and it sits at the bottom of gigacov's import graph: it imports nothing from gigacov but
:mod:`gigacov.errors`, :mod:`gigacov.text` (CSV cells safe for spreadsheets), :mod:`gigacov.safefs`
(private temporary folders) and the indicator
catalogue, so every other module may use it.

Public API
----------
File names
    :data:`MANIFEST`, :data:`REJECTED_ROWS`, :data:`SKIPPED_ROWS`, :data:`COMPLIANCE`,
    :data:`INDICATORS`, :data:`GAPS`, :data:`RECOMMENDED_GPKG`, :data:`RECOMMENDED_CSV`,
    :data:`COMPLETE_RUN_FILES` (the files a finished run always has), and the coverage rasters:
    :data:`COVERAGE_LAYERS`, :func:`coverage_suffix`, :func:`coverage_file`.
Writing
    :func:`atomic_path` (a context manager yielding a temporary path that is renamed over the
    target on success), :func:`write_atomic` (the same around a writer callback),
    :func:`write_csv`, :func:`write_json`, :func:`write_gpkg_layers`.
Hashing
    :func:`sha256_file`.
The manifest
    ``manifest.json`` marks a complete run: it is written last (:func:`write_manifest`); a run
    is built in a staging folder and moved into its run directory with the manifest last
    (:mod:`gigacov.staging`), so an interrupted run never looks complete and never damages the
    previous one. :func:`read_manifest` reads it back.
Reading a run back
    :func:`read_run` checks that a folder is a complete run and returns a :class:`StoredRun`
    (manifest, compliance table, indicator tables per level); :func:`read_compliance_csv` and
    :func:`read_unit_layers` read the two tables on their own; :func:`read_raster` and
    :func:`read_coverage_rasters` read rasters (a technology's four coverage rasters),
    :func:`read_gpkg` and :func:`gpkg_layers` any GeoPackage of the run.

Nothing here decides a verdict: a file that cannot be read raises :class:`gigacov.RunError`
naming the file and what to do.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import safefs
from .catalogue import LEVELS
from .errors import RunError
from .text import csv_unquote_frame
from .text import write_csv as _write_spreadsheet_csv

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd

__all__ = [
    "MANIFEST",
    "REJECTED_ROWS",
    "SKIPPED_ROWS",
    "COMPLIANCE",
    "INDICATORS",
    "COMPLETE_RUN_FILES",
    "GAPS",
    "RECOMMENDED_GPKG",
    "RECOMMENDED_CSV",
    "COVERAGE_LAYERS",
    "coverage_suffix",
    "coverage_file",
    "StoredRaster",
    "read_raster",
    "read_coverage_rasters",
    "read_gpkg",
    "gpkg_layers",
    "StoredRun",
    "sha256_file",
    "atomic_path",
    "write_atomic",
    "write_csv",
    "write_json",
    "write_gpkg_layers",
    "gpkg_safe",
    "write_manifest",
    "remove_manifest",
    "read_manifest",
    "read_compliance_csv",
    "read_unit_layers",
    "read_run",
    "code_text",
]

log = logging.getLogger(__name__)

#: Provenance of the run; written last, so its presence means the run finished.
MANIFEST = "manifest.json"
#: Every input row that could not be used, with its reason.
REJECTED_ROWS = "rejected_rows.csv"
#: Every valid input row left out of the run (outside the region, commissioned later), with why.
SKIPPED_ROWS = "skipped_rows.csv"
#: The compliance table (one row per unit × standard × indicator).
COMPLIANCE = "compliance.csv"
#: The indicator tables, one GeoPackage layer per level (plus ``key_places``).
INDICATORS = "indicators.gpkg"
#: Files that make a folder a complete run (what a comparison or a re-read needs).
COMPLETE_RUN_FILES: tuple[str, ...] = (MANIFEST, COMPLIANCE, INDICATORS)
#: The plan: weak-coverage areas, and the recommended sites as a GeoPackage and a CSV.
GAPS = "gaps.gpkg"
RECOMMENDED_GPKG = "recommended_sites.gpkg"
RECOMMENDED_CSV = "recommended_sites.csv"
#: The four coverage rasters of one technology, in the order they are written.
COVERAGE_LAYERS: tuple[str, ...] = ("rsrp", "sinr", "server", "covered")


def coverage_suffix(tech: str, operator: str = "") -> str:
    """Suffix of a coverage raster's stem: ``""`` for 5G, ``"_4g"`` for 4G, ``"_5g_<operator>"``
    for one operator's own 5G coverage (``operator`` is its slug)."""
    tech = str(tech).upper()
    if operator:
        return f"_{tech.lower()}_{operator}"
    return "" if tech == "5G" else f"_{tech.lower()}"


def coverage_file(layer: str, suffix: str = "") -> str:
    """File name of a coverage raster: ``rsrp.tif``, ``covered_4g.tif``, ``rsrp_5g_cmcc.tif``."""
    return f"{layer}{suffix}.tif"


#: Text columns of ``compliance.csv`` (read as text so that codes keep leading zeros).
_COMPLIANCE_TEXT = (
    "admin_code",
    "name",
    "level",
    "standard",
    "indicator",
    "op",
    "status",
    "shortfall_unit",
)


@dataclass
class StoredRun:
    """A finished run as read back from its directory.

    Attributes
    ----------
    path
        The run directory.
    manifest
        ``manifest.json`` as a dict.
    compliance
        ``compliance.csv`` as written (text columns as ``str``, empty cells NaN).
    units
        Level → indicator table without geometry (``admin_code`` as text, ``name`` present).
    """

    path: Path
    manifest: dict[str, Any]
    compliance: pd.DataFrame
    units: dict[str, pd.DataFrame]


@dataclass
class StoredRaster:
    """The first band of a raster file with its georeferencing (WKT CRS, affine transform)."""

    path: Path
    array: Any
    crs_wkt: str
    transform: Any
    width: int
    height: int


# ------------------------------------------------------------------------------------------------
# Hashing and atomic writes
# ------------------------------------------------------------------------------------------------


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """The SHA-256 of a file's bytes, as hex."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path for ``path``; on success rename it over ``path``.

    The temporary keeps the file name (drivers choose formats by the suffix) inside a private
    folder created exclusively next to ``path`` (:func:`gigacov.safefs.atomic_path`): a planted
    symlink is never followed, and a symlink at ``path`` is replaced, not written through. On
    error it is removed and ``path`` is left untouched, so an interrupted run never leaves a
    half-written file that looks complete.
    """
    with safefs.atomic_path(path) as tmp:
        yield tmp


def write_atomic(path: str | Path, writer: Callable[[Path], None]) -> Path:
    """Call ``writer(tmp_path)`` and move the result to ``path`` atomically."""
    with atomic_path(path) as tmp:
        writer(tmp)
    return Path(path)


def write_csv(path: str | Path, table: pd.DataFrame, **kwargs: Any) -> Path:
    """Write ``table`` as CSV for spreadsheet users (:func:`gigacov.text.write_csv`: no index,
    formula-like text neutralised, CRLF line ends), atomically. ``kwargs`` go to pandas."""
    return write_atomic(path, lambda p: _write_spreadsheet_csv(table, p, **kwargs))


def write_json(path: str | Path, obj: Any) -> Path:
    """Write ``obj`` as indented UTF-8 JSON (Chinese text kept readable), atomically."""
    text = json.dumps(obj, ensure_ascii=False, indent=2)
    return write_atomic(path, lambda p: p.write_text(text, "utf-8"))


def write_gpkg_layers(path: str | Path, layers: Iterable[tuple[str, gpd.GeoDataFrame]]) -> Path:
    """Write GeoDataFrames as the layers of one GeoPackage, in WGS 84, atomically.

    An existing file at ``path`` is replaced as a whole (never appended to). Nullable booleans
    become 0/1 floats and nullable strings plain objects, which GDAL understands.
    """
    import pyogrio

    layers = list(layers)
    if not layers:
        raise RunError(f"{path}: nothing to write (no layers)")

    def write(tmp: Path) -> None:
        for name, gdf in layers:
            g = gdf.to_crs(4326) if gdf.crs is not None and not gdf.crs.equals("EPSG:4326") else gdf
            pyogrio.write_dataframe(gpkg_safe(g), tmp, layer=name, driver="GPKG")

    write_atomic(path, write)
    log.info("wrote %s (%s)", path, ", ".join(n for n, _ in layers))
    return Path(path)


def gpkg_safe(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Plain dtypes GDAL understands (nullable booleans/strings → numpy/object)."""
    out = gdf.copy()
    for c in out.columns:
        if c == out.geometry.name:
            continue
        dt = out[c].dtype
        if isinstance(dt, pd.BooleanDtype):
            out[c] = out[c].astype("float64")
        elif isinstance(dt, pd.StringDtype) or pd.api.types.is_object_dtype(dt):
            out[c] = out[c].astype(object).where(out[c].notna(), None)
    return out


# ------------------------------------------------------------------------------------------------
# The manifest
# ------------------------------------------------------------------------------------------------


def write_manifest(run_dir: str | Path, manifest: dict[str, Any]) -> Path:
    """Write ``manifest.json`` into ``run_dir`` (atomically); call it after every other file."""
    return write_json(Path(run_dir) / MANIFEST, manifest)


def remove_manifest(run_dir: str | Path) -> None:
    """Mark ``run_dir`` as not complete (before a run writes anything into it)."""
    (Path(run_dir) / MANIFEST).unlink(missing_ok=True)


def read_manifest(run_dir: str | Path) -> dict[str, Any]:
    """``manifest.json`` of ``run_dir`` as a dict (raises RunError when absent or unreadable)."""
    path = Path(run_dir) / MANIFEST
    if not path.is_file():
        raise RunError(f"{path} does not exist: the run did not finish; rerun it")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RunError(f"{path}: not valid JSON ({exc}); rerun the run") from None
    if not isinstance(manifest, dict):
        raise RunError(f"{path}: expected a JSON object, got {type(manifest).__name__}")
    return manifest


# ------------------------------------------------------------------------------------------------
# Reading a run back
# ------------------------------------------------------------------------------------------------


def read_compliance_csv(path: str | Path) -> pd.DataFrame:
    """``compliance.csv`` with its text columns as text (codes keep their leading zeros) and the
    neutralising quote of formula-like text removed again."""
    path = Path(path)
    try:
        table = pd.read_csv(
            path,
            dtype=dict.fromkeys(_COMPLIANCE_TEXT, str),
            keep_default_na=False,
            na_values=["", "nan", "NaN"],
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise RunError(f"{path}: cannot be read ({exc})") from None
    return csv_unquote_frame(table)


def read_unit_layers(path: str | Path) -> dict[str, pd.DataFrame]:
    """The indicator tables of ``indicators.gpkg``: level → table without geometry.

    Layers named after a level are read as they are; a file with other layer names is read
    whole and split by its ``level`` column. ``admin_code`` comes back as text.
    """
    import pyogrio

    path = Path(path)
    try:
        layers = [str(row[0]) for row in pyogrio.list_layers(path)]
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise RunError(
            f"{path}: cannot read the GeoPackage ({exc}); the run directory is damaged, rerun it"
        ) from None
    units: dict[str, pd.DataFrame] = {}
    level_layers = [lv for lv in layers if lv in LEVELS]
    try:
        if level_layers:
            for lv in level_layers:
                units[lv] = pd.DataFrame(
                    pyogrio.read_dataframe(path, layer=lv, read_geometry=False)
                )
        else:
            frames = [
                pd.DataFrame(pyogrio.read_dataframe(path, layer=lay, read_geometry=False))
                for lay in layers
                if lay != "key_places"
            ]
            frames = [f for f in frames if "level" in f]
            if frames:
                both = pd.concat(frames, ignore_index=True)
                for lv, t in both.groupby("level", sort=False):
                    units[str(lv)] = t.reset_index(drop=True)
    except Exception as exc:
        raise RunError(f"{path}: cannot read the unit layers ({exc}); rerun the run") from None
    if not units:
        raise RunError(
            f"{path}: no unit layer (province, city, county or village) found; layers: {layers!r}"
        )
    for lv, t in units.items():
        if "admin_code" not in t:
            raise RunError(
                f"{path}, layer {lv!r}: column 'admin_code' is missing (see docs/design.md)"
            )
        t["admin_code"] = t["admin_code"].map(code_text).astype(object)
        if "name" not in t:
            t["name"] = ""
    return units


def code_text(x: Any) -> str:
    """An administrative code as text (``350503.0`` → ``"350503"``, missing → ``""``)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x)


def read_run(path: str | Path) -> StoredRun:
    """Read a finished run directory back.

    Raises
    ------
    RunError
        When the folder does not exist or is not a complete run (names the missing files), or
        when a file in it cannot be read.
    """
    path = Path(path)
    if not path.is_dir():
        raise RunError(f"run directory {str(path)!r} does not exist or is not a folder")
    missing = [f for f in COMPLETE_RUN_FILES if not (path / f).is_file()]
    if missing:
        raise RunError(
            f"{path} is not a complete gigacov run directory: missing {', '.join(missing)}. "
            "A finished run writes manifest.json last (an interrupted run has none); "
            "rerun it with 'gigacov run SCENARIO'"
        )
    manifest = read_manifest(path)
    compliance = read_compliance_csv(path / COMPLIANCE)
    units = read_unit_layers(path / INDICATORS)
    return StoredRun(path, manifest, compliance, units)


def read_raster(
    path: str | Path, *, missing: str = "raster missing; rerun the run"
) -> StoredRaster:
    """The first band of the raster at ``path`` (RunError naming the file when it is missing,
    with the text ``missing``, or cannot be read)."""
    import rasterio

    path = Path(path)
    if not path.is_file():
        raise RunError(f"{path}: {missing}")
    try:
        with rasterio.open(path) as src:
            return StoredRaster(
                path, src.read(1), src.crs.to_wkt(), src.transform, src.width, src.height
            )
    except rasterio.errors.RasterioError as exc:
        raise RunError(f"{path}: cannot be read back ({exc}); rerun the run") from None


def read_coverage_rasters(run_dir: str | Path, suffix: str = "") -> dict[str, StoredRaster]:
    """The four coverage rasters of one technology (:data:`COVERAGE_LAYERS`, stems + ``suffix``)."""
    run_dir = Path(run_dir)
    return {
        layer: read_raster(
            run_dir / coverage_file(layer, suffix),
            missing="coverage raster missing; run `gigacov coverage` (or `gigacov run`) first",
        )
        for layer in COVERAGE_LAYERS
    }


def gpkg_layers(path: str | Path) -> list[str]:
    """The layer names of a GeoPackage of the run (RunError when it cannot be read)."""
    import pyogrio

    path = Path(path)
    try:
        return [str(row[0]) for row in pyogrio.list_layers(path)]
    except Exception as exc:  # noqa: BLE001 - pyogrio raises DataSourceError and friends
        raise RunError(f"{path}: cannot be read back ({exc}); rerun with --recompute") from None


def read_gpkg(
    path: str | Path, layer: str | None = None, *, columns: list[str] | None = None
) -> gpd.GeoDataFrame:
    """A layer of a GeoPackage of the run (the first without ``layer``; only ``columns`` and the
    geometry when given). RunError naming the file when it cannot be read."""
    import geopandas as gpd

    path = Path(path)
    kwargs: dict[str, Any] = {"layer": layer} if layer else {}
    if columns is not None:
        kwargs["columns"] = columns
    try:
        return gpd.read_file(path, **kwargs)
    except Exception as exc:  # noqa: BLE001 - any reader failure is a damaged run file
        raise RunError(f"{path}: cannot be read back ({exc}); rerun with --recompute") from None
