"""The scenario file (TOML, docs/design.md §5) → validated, typed settings.

Each ``[section]`` of the file maps to a frozen dataclass below; the dataclass fields are the
valid keys, their annotations the accepted types and their defaults the defaults. Unknown
sections or keys are an error that names the key and suggests the closest valid one. Paths are
resolved against the folder of the scenario file; an empty string means "not given".
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from . import radio_defaults as rd
from .errors import ConfigError

__all__ = [
    "Scenario",
    "ScenarioSection",
    "BoundariesSection",
    "SitesSection",
    "BroadbandSection",
    "PopulationSection",
    "TerrainSection",
    "KeyPlacesSection",
    "GridSection",
    "RadioSection",
    "ComputeSection",
    "IndicatorsSection",
    "MapSection",
    "PlanningSection",
    "ReportSection",
    "MeasurementsSection",
    "load_scenario",
    "scenario_from_dict",
    "PROPAGATION_MODELS",
    "PropagationModel",
    "Basemap",
    "BASEMAPS",
    "default_boundaries_path",
]

PropagationModel = Literal[
    "auto", "free-space", "3gpp-38.901-uma", "3gpp-38.901-umi", "3gpp-38.901-rma", "cost231-hata"
]
PROPAGATION_MODELS: tuple[str, ...] = get_args(PropagationModel)
Basemap = Literal["osm", "tianditu", "amap", "none"]
BASEMAPS: tuple[str, ...] = get_args(Basemap)
Backend = Literal["threads", "dask"]
#: Languages of the report and the workbook.
Language = Literal["zh", "en", "both"]

_REPO_ROOT = Path(__file__).resolve().parents[2]


def default_boundaries_path() -> Path:
    """The shipped Fujian boundaries (``data/boundaries/fujian.gpkg`` in the repository)."""
    return _REPO_ROOT / "data" / "boundaries" / "fujian.gpkg"


class _PathField:
    """Marker type for fields holding a path that resolves against the scenario folder."""


PathStr = typing.Annotated[str, _PathField]
#: One path or a list of paths (each resolves against the scenario folder).
PathOrPaths = typing.Annotated[str | list[str], _PathField]


# ------------------------------------------------------------------------------------------------
# Sections
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScenarioSection:
    name: str = ""
    """Used for output names (``maps/<name>.html``); letters, digits, ``-``, ``_`` and ``.``."""
    year: int = 0
    """The year the scenario describes (statistics of this year are evaluated)."""
    region: str = ""
    """Adcode prefix to analyse (``"350500"`` → Quanzhou's counties); empty = all counties."""
    standards: list[str] = field(default_factory=lambda: ["miit-gigabit-city-2021", "fujian-2024"])
    """Standard ids shipped with gigacov, or paths to user ``.toml`` standard files."""
    out_dir: PathStr = ""
    """Run directory; default ``out/<name>`` next to the scenario file."""
    synthetic: bool = False
    """True when inputs are synthetic: every title, file and report then says so."""
    description: str = ""
    title: str = ""
    """Human-readable title for maps and reports (default: the name)."""
    allow_empty: bool = False
    """Accept empty inputs (an input file without a usable row for the region) and
    ``standards = []``; otherwise they stop the run (``gigacov … --allow-empty`` sets it)."""


@dataclass(frozen=True)
class BoundariesSection:
    counties: PathStr = ""
    """County (and optionally province/city) polygons; default: the shipped Fujian file."""
    villages: PathStr = ""
    crs: str = "wgs84"
    layer: str = ""
    villages_layer: str = ""
    villages_crs: str = ""
    """CRS of the villages file; default: same as ``crs``."""
    columns: dict[str, str] = field(default_factory=dict)
    """Header of a counties-file column whose name no alias knows, e.g. ``{admin_code = "县代码"}``."""
    villages_columns: dict[str, str] = field(default_factory=dict)
    """Header of a villages-file column whose name no alias knows, e.g. ``{name = "村名"}``."""


@dataclass(frozen=True)
class SitesSection:
    path: PathStr = ""
    crs: str = "wgs84"
    sheet: str = ""
    """Sheet name for XLSX input (default: the first sheet)."""
    layer: str = ""
    """Layer name for GeoPackage input (default: the first layer)."""
    encoding: str = ""
    """Text encoding for CSV (default: detected: UTF-8, UTF-8-BOM, GBK/GB18030)."""
    columns: dict[str, str] = field(default_factory=dict)
    """Header of a column whose name no alias knows, e.g. ``{lon = "X坐标", lat = "Y坐标"}``."""
    region_margin_m: float = 5000.0
    """Sites up to this far outside the region's counties are kept (they cover its edges);
    farther ones are rejected as ``outside_region``."""
    same_site_tolerance_m: float = 50.0
    """Rows of one site id farther apart than this are a ``site_conflict`` (all rejected)."""
    operator: str = ""
    """The operator of every row that names none (``中国移动``, ``CMCC``, …): for one operator's
    list without an operator column; its cells then take that operator's carriers."""


@dataclass(frozen=True)
class BroadbandSection:
    path: PathStr = ""
    sheet: str = ""
    encoding: str = ""
    columns: dict[str, str] = field(default_factory=dict)
    """Header of a column whose name no alias knows, e.g. ``{households = "总户数"}``."""


@dataclass(frozen=True)
class PopulationSection:
    raster: PathStr = ""
    column: str = ""
    """Population column on the boundaries (used when no raster is given)."""
    crs: str = ""
    """Override for a raster that declares no CRS."""


@dataclass(frozen=True)
class TerrainSection:
    dem: PathStr = ""
    crs: str = ""


@dataclass(frozen=True)
class KeyPlacesFile:
    """One key-places file with its own settings (``[[key_places.files]]``); a key left out
    takes the ``[key_places]`` value."""

    path: PathStr = ""
    crs: str = ""
    layer: str = ""
    encoding: str = ""
    sheet: str = ""
    columns: dict[str, str] = field(default_factory=dict)
    """Merged over ``[key_places.columns]`` (this file's mapping wins)."""


@dataclass(frozen=True)
class KeyPlacesSection:
    path: PathOrPaths = ""
    """One file or a list of files (``["hospitals.xlsx", "amap-pois.csv", "roads.gpkg"]``)."""
    crs: str = "wgs84"
    layer: str = ""
    encoding: str = ""
    sheet: str = ""
    columns: dict[str, str] = field(default_factory=dict)
    """Header of a column whose name no alias knows, e.g. ``{category = "场所类型"}``."""
    files: list[KeyPlacesFile] = field(default_factory=list)
    """Files with settings of their own, read after those of ``path``: e.g. an Amap export in
    GCJ-02 beside a WGS84 list, ``[[key_places.files]] path = "amap.csv"  crs = "gcj02"``."""

    def sources(self) -> list[KeyPlacesFile]:
        """Every key-places file with the settings that apply to it, ``path`` first."""
        paths = [self.path] if isinstance(self.path, str) else list(self.path)
        out = [
            KeyPlacesFile(str(p), self.crs, self.layer, self.encoding, self.sheet, self.columns)
            for p in paths
            if p
        ]
        for f in self.files:
            out.append(
                KeyPlacesFile(
                    f.path,
                    f.crs or self.crs,
                    f.layer or self.layer,
                    f.encoding or self.encoding,
                    f.sheet or self.sheet,
                    {**self.columns, **f.columns},
                )
            )
        return out


@dataclass(frozen=True)
class GridSection:
    resolution_m: float = 100.0
    crs: str = "auto"
    """``auto`` (UTM zone of the region) or ``EPSG:xxxx`` (projected, metres)."""
    tile_size: int = 256
    """Tile edge in pixels for the radio engine and the zonal pass."""
    buffer_m: float = 0.0
    """Extra margin around the region's bounding box."""


@dataclass(frozen=True)
class RadioSection:
    model: PropagationModel = rd.MODEL
    ue_height_m: float = rd.UE_HEIGHT_M
    rsrp_threshold_dbm: float = rd.RSRP_THRESHOLD_DBM["5G"]
    """5G SS-RSRP threshold for "covered"."""
    sinr_threshold_db: float = rd.SINR_THRESHOLD_DB["5G"]
    rsrp_threshold_4g_dbm: float = rd.RSRP_THRESHOLD_DBM["4G"]
    """4G RSRP threshold for "covered"."""
    sinr_threshold_4g_db: float = rd.SINR_THRESHOLD_DB["4G"]
    load: float = rd.LOAD
    """Fraction of resource elements loaded in interfering cells (0–1)."""
    max_radius_m: float = rd.MAX_RADIUS_M
    noise_figure_db: float = rd.NOISE_FIGURE_DB
    """UE noise figure."""
    extra_loss_db: float = 0.0
    """Extra loss on every link (body, vehicle, indoor penetration)."""
    clutter: PathStr = ""
    """Optional clutter raster (1 urban, 2 suburban, 3 rural); else derived from population."""
    urban_density_per_km2: float = rd.URBAN_DENSITY_PER_KM2
    """Population density from which a pixel counts as urban (``auto`` model)."""
    suburban_density_per_km2: float = rd.SUBURBAN_DENSITY_PER_KM2
    """Population density from which a pixel counts as suburban (``auto`` model)."""
    diffraction: Literal["knife-edge", "deygout", "none"] = rd.DIFFRACTION
    terrain_method: Literal["horizon", "profile"] = rd.TERRAIN_METHOD
    """With a DEM: ``horizon`` (fast radial horizon sweep, single knife edge at the transmitter's
    horizon) or ``profile`` (exact path profile per pixel, slow); ``deygout`` always uses ``profile``."""
    technologies: list[str] = field(default_factory=lambda: ["5G", "4G"])
    vertical_beamwidth_deg: float = rd.VERTICAL_BEAMWIDTH_DEG
    """Vertical half-power beamwidth of the sector antennas (3GPP TR 38.901 pattern), degrees."""
    default_beamwidth_deg: float = rd.BEAMWIDTH_DEG
    """Horizontal beamwidth of sectors whose sites file gives none, degrees."""
    cutoff_margin_db: float = rd.CUTOFF_MARGIN_DB
    """Cells count as server or interferer where their RSRP ≥ threshold − this margin (dB)."""
    building_height_m: float = rd.BUILDING_HEIGHT_M
    """RMa model: average building height (3GPP default 5 m)."""
    street_width_m: float = rd.STREET_WIDTH_M
    """RMa model: average street width (3GPP default 20 m)."""
    carriers: list[dict[str, Any]] = field(default_factory=list)
    """Operators' carriers that replace or add to the shipped table (``carriers.toml``), e.g.
    ``[[radio.carriers]]`` with ``operator = "中国电信"``, ``band = "n78"``, ``low_mhz = 3400``,
    ``high_mhz = 3500`` (downlink MHz)."""
    per_operator: bool = True
    """Also compute each operator's own 5G coverage (its cells only, interference from its own
    carriers): the ``<level>_operator`` layers, the report's by-operator section, the map's
    per-operator switch."""
    shared: list[list[str]] = field(default_factory=list)
    """Shared radio networks: operators and a band, e.g. ``[["中国电信", "中国联通", "n78"]]``.
    The shared cells use the carrier of the operator listed first and serve every listed
    operator's users; a cell both operators list counts once as a transmitter."""
    calibration: PathStr = ""
    """A ``calibration.toml`` written by ``gigacov calibrate``: per-clutter-class path-loss offsets
    (and distance slopes) fitted to field measurements, applied to every cell."""


@dataclass(frozen=True)
class ComputeSection:
    backend: Backend = "threads"
    scheduler: str = ""
    """Dask scheduler address (``tcp://host:8786``); empty = a LocalCluster."""
    workers: int = 0
    """Threads or Dask workers; 0 = number of CPU cores."""
    memory_budget_mb: int = 4096
    progress: bool = True


@dataclass(frozen=True)
class IndicatorsSection:
    village_reached_pop_share: float = 0.5
    """A village counts as reached by 5G when this share of its population is covered."""
    key_place_area_share: float = 0.5
    """A polygon key place counts as reached when this share of its area is covered."""
    key_place_road_share: float = 0.9
    """A road counts as reached when this share of its length is covered."""
    subpixel: int = 4
    """Sub-pixel factor along polygon edges for fair zonal weights (1 = centre rule only)."""


@dataclass(frozen=True)
class MapSection:
    basemap: Basemap = "osm"
    tianditu_key: str = ""
    offline: bool = True
    """Embed Leaflet and gigacov's scripts in the map (works with no internet; the default)."""
    cdn: bool = False
    """Link Leaflet from a public CDN instead (a lighter file that needs internet)."""
    village_min_zoom: int = 11
    """Villages are drawn only from this zoom level up when there are many."""
    village_zoom_gate: int = 500
    """"Many" villages: from this count on they are drawn only from ``village_min_zoom`` up."""
    raster_opacity: float = 0.6
    """Initial opacity of the coverage overlays (0–1); the map has a slider to change it."""
    raster_max_pixels: int = 8_000_000
    """Coverage overlays larger than this (in Web Mercator pixels) are drawn coarser."""
    simplify_m: float = 25.0
    """Tolerance in metres for simplifying polygons for display (0 = draw them unsimplified)."""


@dataclass(frozen=True)
class PlanningSection:
    budget: int = 50
    """Maximum number of new sites per county."""
    candidate_spacing_m: float = 500.0
    candidates: PathStr = ""
    """Optional candidate locations (towers, poles, rooftops); else a grid inside the county."""
    candidates_crs: str = "wgs84"
    candidates_layer: str = ""
    """GeoPackage layer of the candidate file (default: the first)."""
    candidates_columns: dict[str, str] = field(default_factory=dict)
    """Header of a candidate-file column whose name no alias knows, e.g. ``{lon = "东经"}``."""
    site_height_m: float | None = None
    """Height of new sites. Not given: the most common height of the county's existing 5G
    cells (else the region's, else 30 m) — the same rule for the four keys below."""
    sectors: int = 3
    """Cells per new site at azimuths 360·i/sectors (0/120/240); 1 = one omni cell."""
    freq_mhz: float | None = None
    """Not given: the most common carrier (frequency, bandwidth, SCS) of the county's 5G cells,
    else the region's, else 3500 MHz / 100 MHz / 30 kHz."""
    bandwidth_mhz: float | None = None
    scs_khz: float | None = None
    eirp_dbm: float | None = None
    """Not given: the most common EIRP of the county's 5G cells, else the region's, else 61 dBm."""
    beamwidth_deg: float = rd.BEAMWIDTH_DEG
    """Horizontal half-power beamwidth of a new sector (ignored for omni)."""
    tilt_deg: float = 4.0
    """Total downtilt of a new cell, degrees (positive = down; suburban/rural macro value)."""
    footprint_radius_m: float = 5000.0
    """Cut-off radius of a candidate's footprint (never beyond [radio] max_radius_m)."""
    gap_min_population: float = 0.0
    """Leave weak-coverage areas with fewer persons out of gaps.gpkg (0 = keep all)."""
    verify: bool = True
    """Re-run the coverage engine and indicators with the new sites and add more if needed."""
    verify_rounds: int = 2
    """How often sites may be added after a failed verification (each time checked again)."""
    operator: str = ""
    """Plan for one operator (``中国移动``, ``CMCC``, …): its own coverage gaps, and new sites on
    its main 5G carrier; empty = the region-wide coverage of every operator together."""


@dataclass(frozen=True)
class ReportSection:
    previous_run: PathStr = ""
    """A previous run directory to compare with in the report (year over year)."""
    language: Language = "both"
    force_compare: bool = False
    """Compare with ``previous_run`` even when its standards or grid differ (the report says so)."""
    county_maps_max: int = 40
    """At most this many failing counties get a static map in the HTML report (0 = none)."""


@dataclass(frozen=True)
class MeasurementsSection:
    """Field measurements (drive tests, MR, crowd and speed tests): one sample per row."""

    path: PathStr = ""
    paths: list[PathStr] = field(default_factory=list)
    """Several files (CSV, XLSX, GeoPackage, Parquet); ``path`` and ``paths`` may be combined."""
    crs: str = "wgs84"
    """CRS of the coordinates (Amap exports: ``gcj02``)."""
    sheet: str = ""
    layer: str = ""
    encoding: str = ""
    columns: dict[str, str] = field(default_factory=dict)
    """Header of a column whose name no alias knows, e.g. ``{rsrp_dbm = "主服务小区电平"}``."""
    tech: str = "5G"
    """Technology of rows without a ``tech`` column or value (``5G``, ``4G`` or ``fixed``)."""
    include_indoor: bool = False
    """Compare indoor samples with the (outdoor) prediction too; by default they are counted
    and left out of the field check, the calibration and the disputed areas."""
    h3_resolution: int = 8
    """H3 resolution of the disputed-area hexagons (8 ≈ 0.74 km² per hexagon)."""
    disputed_min_samples: int = 10
    """A hexagon needs at least this many samples to be tested."""
    disputed_share: float = 0.10
    """Null hypothesis: at most this share of a hexagon's samples contradict its prediction."""
    disputed_confidence: float = 0.95
    """One-sided binomial test level; a hexagon is disputed when p < 1 − this."""
    speed_disagreement_pp: float = 10.0
    """Speed tests vs reported user shares: a larger gap (percentage points) is noted."""
    cv_folds: int = 5
    """Calibration: number of spatial cross-validation folds."""
    cv_block_m: float = 5000.0
    """Calibration: edge of the square spatial blocks that form the folds (metres)."""
    fit_slope: bool = False
    """Calibration: also fit a distance slope per clutter class (dB per decade of distance)."""


_SECTIONS: dict[str, type] = {
    "scenario": ScenarioSection,
    "boundaries": BoundariesSection,
    "sites": SitesSection,
    "broadband": BroadbandSection,
    "population": PopulationSection,
    "terrain": TerrainSection,
    "key_places": KeyPlacesSection,
    "grid": GridSection,
    "radio": RadioSection,
    "compute": ComputeSection,
    "indicators": IndicatorsSection,
    "map": MapSection,
    "planning": PlanningSection,
    "report": ReportSection,
    "measurements": MeasurementsSection,
}


@dataclass(frozen=True)
class Scenario:
    """A validated scenario. ``path`` is the scenario file (None when built from a dict)."""

    scenario: ScenarioSection
    boundaries: BoundariesSection
    sites: SitesSection
    broadband: BroadbandSection = field(default_factory=BroadbandSection)
    population: PopulationSection = field(default_factory=PopulationSection)
    terrain: TerrainSection = field(default_factory=TerrainSection)
    key_places: KeyPlacesSection = field(default_factory=KeyPlacesSection)
    grid: GridSection = field(default_factory=GridSection)
    radio: RadioSection = field(default_factory=RadioSection)
    compute: ComputeSection = field(default_factory=ComputeSection)
    indicators: IndicatorsSection = field(default_factory=IndicatorsSection)
    map: MapSection = field(default_factory=MapSection)
    planning: PlanningSection = field(default_factory=PlanningSection)
    report: ReportSection = field(default_factory=ReportSection)
    measurements: MeasurementsSection = field(default_factory=MeasurementsSection)
    path: Path | None = None

    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def year(self) -> int:
        return self.scenario.year

    @property
    def out_dir(self) -> Path:
        return Path(self.scenario.out_dir)

    @property
    def title(self) -> str:
        base = self.scenario.title or self.scenario.name
        if self.scenario.synthetic and "synthetic" not in base.lower():
            base += " (synthetic data)"
        return base

    def replace(self, **sections: Any) -> Scenario:
        """A copy with whole sections or section fields replaced.

        ``scn.replace(grid={"resolution_m": 500})`` changes one field;
        ``scn.replace(grid=GridSection(...))`` a whole section.
        """
        changes: dict[str, Any] = {}
        for key, value in sections.items():
            if key not in _SECTIONS:
                raise ConfigError(_unknown("section", key, list(_SECTIONS), "scenario"))
            if isinstance(value, dict):
                current = getattr(self, key)
                hints = typing.get_type_hints(type(current), include_extras=True)
                coerced = {}
                for k, v in value.items():
                    if k not in hints:
                        raise ConfigError(_unknown("key", k, sorted(hints), f"[{key}]"))
                    coerced[k] = _coerce(v, hints[k], f"[{key}] {k}")
                changes[key] = dataclasses.replace(current, **coerced)
            else:
                changes[key] = value
        _check_bounds(changes, str(self.path) if self.path else "scenario")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The settings as a plain dict (for manifests)."""
        out = {name: dataclasses.asdict(getattr(self, name)) for name in _SECTIONS}
        out["path"] = str(self.path) if self.path else None
        return out


# ------------------------------------------------------------------------------------------------
# Loading
# ------------------------------------------------------------------------------------------------


def _unknown(kind: str, key: str, valid: list[str], where: str) -> str:
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{where}: unknown {kind} {key!r}{hint} (valid: {', '.join(valid)})"


def _is_path_hint(hint: Any) -> bool:
    return get_origin(hint) is typing.Annotated and _PathField in hint.__metadata__


def path_keys() -> frozenset[tuple[str, str]]:
    """``(section, key)`` of every setting that holds a file or folder path."""
    out = set()
    for name, cls in typing.get_type_hints(Scenario).items():
        if name not in _SECTIONS:
            continue
        for key, hint in typing.get_type_hints(cls, include_extras=True).items():
            if _is_path_hint(hint):
                out.add((name, key))
    return frozenset(out)


def _coerce(value: Any, hint: Any, where: str) -> Any:
    origin = get_origin(hint)
    if origin is typing.Annotated:
        return _coerce(value, get_args(hint)[0], where)
    if origin is Literal:
        choices = get_args(hint)
        if value not in choices:
            text = str(value)
            close = difflib.get_close_matches(text, [str(c) for c in choices], n=1, cutoff=0.4)
            hint_txt = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                f"{where}: {value!r} is not one of {', '.join(map(repr, choices))}{hint_txt}"
            )
        return value
    if dataclasses.is_dataclass(hint):  # a table inside a section ([[key_places.files]])
        item = _build_section(hint, value, where.replace("] ", ".").lstrip("["), None)
        if "path" in {f.name for f in dataclasses.fields(item)} and not item.path:
            raise ConfigError(f'{where}: no path; give the file, e.g. path = "pois.csv"')
        return item
    if origin in (list, typing.List):  # noqa: UP006
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        (item_t,) = get_args(hint)
        return [_coerce(v, item_t, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(
                f'{where}: expected a table such as {{ lon = "X坐标" }}, got {value!r}'
            )
        _, val_t = get_args(hint)
        return {str(k): _coerce(v, val_t, f"{where}.{k}") for k, v in value.items()}
    if origin in (typing.Union, types.UnionType):
        args = [a for a in get_args(hint) if a is not type(None)]
        if value is None:
            return None
        if isinstance(value, list):  # str | list[str]: the list form when one is given
            args = [a for a in args if get_origin(a) in (list, typing.List)] or args  # noqa: UP006
        return _coerce(value, args[0], where)
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if hint is str:
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)  # e.g. region = 350500 written without quotes
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    return value


def _resolve(value: str, base: Path | None) -> str:
    """A path of the scenario file: relative ones against the scenario's folder, ``..`` and
    ``.`` taken out (``runs/../data/sites.csv`` → ``data/sites.csv``), so that every message,
    the manifest and the rejected rows name each file one way."""
    p = Path(value).expanduser()
    if not p.is_absolute() and base is not None:
        p = base / p
    if ".." in p.parts or "." in p.parts:
        # through the file system when it can be (a symlinked folder's ".." is its target's)
        p = p.resolve() if p.is_absolute() else Path(os.path.normpath(p))
    return str(p)


def _build_section(cls: type, raw: Any, section: str, base: Path | None) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"[{section}] must be a table, got {raw!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls, include_extras=True)
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in fields:
            raise ConfigError(_unknown("key", key, list(fields), f"[{section}]"))
        where = f"[{section}] {key}"
        value = _coerce(value, hints[key], where)
        if _is_path_hint(hints[key]) and value:
            value = (
                [_resolve(v, base) for v in value]
                if isinstance(value, list)
                else _resolve(value, base)
            )
        elif get_origin(hints[key]) is list and _is_path_hint(get_args(hints[key])[0]):
            value = [_resolve(v, base) for v in value if v]
        elif get_origin(hints[key]) is list and dataclasses.is_dataclass(get_args(hints[key])[0]):
            # tables of a list ([[key_places.files]]): their paths resolve like the section's
            item_hints = typing.get_type_hints(get_args(hints[key])[0], include_extras=True)
            value = [
                dataclasses.replace(
                    item,
                    **{
                        k: _resolve(getattr(item, k), base)
                        for k, h in item_hints.items()
                        if _is_path_hint(h) and getattr(item, k)
                    },
                )
                for item in value
            ]
        kwargs[key] = value
    return cls(**kwargs)


_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
#: Longest scenario name: it becomes file names (``maps/<name>.html``), which filesystems cap
#: at 255 bytes.
NAME_MAX = 100

#: Bounds of the numeric settings: (section, key) → (low, high). A value outside them cannot
#: describe a real network or a workable computation, so it stops the run naming the key.
#: Every float must also be finite (TOML allows ``inf`` and ``nan``).
BOUNDS: dict[tuple[str, str], tuple[float, float]] = {
    ("sites", "region_margin_m"): (0, 100_000),
    ("grid", "resolution_m"): (1, 10_000),
    ("grid", "tile_size"): (16, 8192),
    ("grid", "buffer_m"): (0, 200_000),
    ("radio", "ue_height_m"): (0.1, 500),
    ("radio", "rsrp_threshold_dbm"): (-200, 0),
    ("radio", "sinr_threshold_db"): (-50, 60),
    ("radio", "rsrp_threshold_4g_dbm"): (-200, 0),
    ("radio", "sinr_threshold_4g_db"): (-50, 60),
    ("radio", "load"): (0, 1),
    ("radio", "max_radius_m"): (10, 100_000),
    ("radio", "noise_figure_db"): (0, 30),
    ("radio", "extra_loss_db"): (0, 200),
    ("radio", "urban_density_per_km2"): (0, 1_000_000),
    ("radio", "suburban_density_per_km2"): (0, 1_000_000),
    ("radio", "vertical_beamwidth_deg"): (0.1, 180),
    ("radio", "default_beamwidth_deg"): (0.1, 360),
    ("radio", "cutoff_margin_db"): (0, 100),
    ("radio", "building_height_m"): (0, 100),
    ("radio", "street_width_m"): (1, 200),
    ("compute", "workers"): (0, 1024),
    ("compute", "memory_budget_mb"): (0, 16 * 2**20),
    ("indicators", "village_reached_pop_share"): (0, 1),
    ("indicators", "key_place_area_share"): (0, 1),
    ("indicators", "key_place_road_share"): (0, 1),
    ("indicators", "subpixel"): (1, 16),
    ("map", "village_min_zoom"): (0, 22),
    ("map", "village_zoom_gate"): (0, 10_000_000),
    ("map", "raster_opacity"): (0, 1),
    ("map", "raster_max_pixels"): (10_000, 200_000_000),
    ("map", "simplify_m"): (0, 10_000),
    ("planning", "budget"): (0, 100_000),
    ("planning", "candidate_spacing_m"): (10, 100_000),
    ("planning", "site_height_m"): (1, 1000),
    ("planning", "sectors"): (1, 12),
    ("planning", "freq_mhz"): (400, 100_000),
    ("planning", "bandwidth_mhz"): (1, 2000),
    ("planning", "scs_khz"): (15, 960),
    ("planning", "eirp_dbm"): (-30, 100),
    ("planning", "beamwidth_deg"): (0.1, 360),
    ("planning", "tilt_deg"): (-90, 90),
    ("planning", "footprint_radius_m"): (10, 100_000),
    ("planning", "gap_min_population"): (0, 1e9),
    ("planning", "verify_rounds"): (0, 20),
    ("report", "county_maps_max"): (0, 10_000),
}


def _check_bounds(sections: dict[str, Any], where: str) -> None:
    """Every numeric setting finite and within :data:`BOUNDS`; the error names the key."""
    for name, section in sections.items():
        for f in dataclasses.fields(section):
            value = getattr(section, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            key = f"[{name}] {f.name}"
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(f"{where}: {key} must be a finite number, got {value!r}")
            bounds = BOUNDS.get((name, f.name))
            if bounds and not bounds[0] <= value <= bounds[1]:
                low, high = bounds
                raise ConfigError(
                    f"{where}: {key} must be between {low:g} and {high:g}, got {value!r}"
                )


def scenario_from_dict(
    data: dict[str, Any], base_dir: Path | None = None, path: Path | None = None
) -> Scenario:
    """Validate a scenario given as a dict (the parsed TOML)."""
    if not isinstance(data, dict):
        raise ConfigError("scenario must be a TOML table")
    for key in data:
        if key not in _SECTIONS:
            raise ConfigError(_unknown("section", key, list(_SECTIONS), "scenario file"))
    where = str(path) if path else "scenario"
    for required in ("scenario", "sites"):
        if required not in data:
            raise ConfigError(f"{where}: missing required section [{required}]")
    sections = {
        name: _build_section(cls, data.get(name, {}), name, base_dir)
        for name, cls in _SECTIONS.items()
    }
    scn: ScenarioSection = sections["scenario"]
    if not scn.name:
        raise ConfigError(f"{where}: [scenario] name is required")
    if len(scn.name) > NAME_MAX:
        raise ConfigError(
            f"{where}: [scenario] name is {len(scn.name)} characters long; at most {NAME_MAX} "
            "(it becomes file names)"
        )
    if not _NAME_RE.match(scn.name):
        raise ConfigError(
            f"{where}: [scenario] name {scn.name!r} may hold only letters, digits, '-', '_' and '.'"
        )
    if "year" not in data.get("scenario", {}):
        raise ConfigError(f"{where}: [scenario] year is required, e.g. year = 2024")
    if not 1990 <= scn.year <= 2100:
        raise ConfigError(f"{where}: [scenario] year must be a year such as 2024, got {scn.year!r}")
    if scn.region and not (scn.region.isdigit() and len(scn.region) <= 12):
        raise ConfigError(
            f"{where}: [scenario] region {scn.region!r} must be an adcode prefix such as '350500'"
        )
    if not scn.out_dir:
        out = (base_dir or Path.cwd()) / "out" / scn.name
        sections["scenario"] = dataclasses.replace(scn, out_dir=str(out))
    if not sections["sites"].path:
        raise ConfigError(f"{where}: [sites] path is required")
    if not sections["boundaries"].counties:
        sections["boundaries"] = dataclasses.replace(
            sections["boundaries"], counties=str(default_boundaries_path())
        )
    _check_bounds(sections, where)
    radio: RadioSection = sections["radio"]
    if radio.suburban_density_per_km2 > radio.urban_density_per_km2:
        raise ConfigError(
            f"{where}: [radio] suburban_density_per_km2 ({radio.suburban_density_per_km2:g}) "
            f"must not exceed urban_density_per_km2 ({radio.urban_density_per_km2:g})"
        )
    if not 0.0 <= radio.load <= 1.0:
        raise ConfigError(f"{where}: [radio] load must be between 0 and 1, got {radio.load!r}")
    if radio.max_radius_m <= 0:
        raise ConfigError(f"{where}: [radio] max_radius_m must be > 0, got {radio.max_radius_m!r}")
    for tech in radio.technologies:
        if tech.upper() not in ("4G", "5G"):
            raise ConfigError(f"{where}: [radio] technologies: {tech!r} is not '4G' or '5G'")
    grid: GridSection = sections["grid"]
    if grid.resolution_m <= 0:
        raise ConfigError(f"{where}: [grid] resolution_m must be > 0, got {grid.resolution_m!r}")
    if grid.tile_size < 16:
        raise ConfigError(f"{where}: [grid] tile_size must be ≥ 16, got {grid.tile_size!r}")
    if radio.carriers or radio.shared:
        from .operators import load_carrier_table

        load_carrier_table(radio.carriers, radio.shared)  # errors name the key
    from .operators import parse_operator

    if sections["planning"].operator:
        parse_operator(sections["planning"].operator, f"{where}: [planning] operator")
    if sections["sites"].operator:
        parse_operator(sections["sites"].operator, f"{where}: [sites] operator")
    meas: MeasurementsSection = sections["measurements"]
    if meas.tech.upper() not in ("4G", "5G", "FIXED"):
        raise ConfigError(
            f"{where}: [measurements] tech: {meas.tech!r} is not '5G', '4G' or 'fixed'"
        )
    if not 0 <= meas.h3_resolution <= 15:
        raise ConfigError(
            f"{where}: [measurements] h3_resolution must be 0–15, got {meas.h3_resolution!r}"
        )
    if not 0.0 < meas.disputed_share < 1.0:
        raise ConfigError(
            f"{where}: [measurements] disputed_share must be between 0 and 1, "
            f"got {meas.disputed_share!r}"
        )
    if not 0.5 <= meas.disputed_confidence < 1.0:
        raise ConfigError(
            f"{where}: [measurements] disputed_confidence must be in [0.5, 1), "
            f"got {meas.disputed_confidence!r}"
        )
    if meas.disputed_min_samples < 1:
        raise ConfigError(f"{where}: [measurements] disputed_min_samples must be ≥ 1")
    if meas.cv_folds < 2:
        raise ConfigError(f"{where}: [measurements] cv_folds must be ≥ 2, got {meas.cv_folds!r}")
    if meas.cv_block_m <= 0:
        raise ConfigError(f"{where}: [measurements] cv_block_m must be > 0")
    if sections["population"].raster and sections["population"].column:
        raise ConfigError(f"{where}: [population] give either raster or column, not both")
    return Scenario(**sections, path=path)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario TOML file.

    Raises
    ------
    ConfigError
        When the file is missing, is not valid TOML (with line and column), or holds an unknown
        or mistyped key (naming it and suggesting the closest valid one).
    """
    p = Path(path).expanduser()
    if not p.is_file():
        raise ConfigError(f"scenario file {str(p)!r} does not exist")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{p}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return scenario_from_dict(data, base_dir=p.resolve().parent, path=p.resolve())
