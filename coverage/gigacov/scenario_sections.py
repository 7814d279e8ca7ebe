"""The scenario file's schema: one frozen dataclass per ``[section]`` (docs/design.md §5).

The dataclass fields are the valid keys, their annotations the accepted types (``PathStr``: a
path that resolves against the scenario's folder) and their defaults the defaults.
:data:`SECTIONS` maps each section's name to its dataclass. Reading and validating a file is
:mod:`gigacov.scenario`.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from . import radio_defaults as rd

__all__ = [
    "ScenarioSection",
    "BoundariesSection",
    "SitesSection",
    "BroadbandSection",
    "PopulationSection",
    "TerrainSection",
    "KeyPlacesFile",
    "KeyPlacesSection",
    "GridSection",
    "RadioSection",
    "ComputeSection",
    "IndicatorsSection",
    "MapSection",
    "PlanningSection",
    "ReportSection",
    "MeasurementsSection",
    "SECTIONS",
    "PathStr",
    "PathOrPaths",
    "is_path_hint",
    "PROPAGATION_MODELS",
    "PropagationModel",
    "Basemap",
    "BASEMAPS",
    "Backend",
    "Language",
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
    path: PathOrPaths = ""
    """One file, or a list (one operator's export each: ``["移动.xlsx", "电信联通.csv"]``) read
    with the same settings."""
    crs: str = "wgs84"
    sheet: str | list[str] = ""
    """Sheet name for XLSX input, or a list (``["5G", "4G"]``) read with the same settings;
    default: the first sheet, or every sheet with a header row of site columns when several
    have one."""
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
    sheet: str | list[str] = ""
    """The sheet to read; a list (``["中国移动", "中国电信"]``) reads those sheets; default: the
    first sheet, or every sheet with a header row of statistics columns when several have one."""
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
    sheet: str | list[str] = ""
    columns: dict[str, str] = field(default_factory=dict)
    """This file's whole mapping, used instead of ``[key_places.columns]`` when given."""


@dataclass(frozen=True)
class KeyPlacesSection:
    path: PathOrPaths = ""
    """One file or a list of files (``["hospitals.xlsx", "amap-pois.csv", "roads.gpkg"]``)."""
    crs: str = ""
    """The datum of coordinate columns: ``""`` (not declared) reads WGS 84, but refuses a file that
    looks like an Amap export (Amap coordinates are GCJ-02 whatever the file says)."""
    layer: str = ""
    encoding: str = ""
    sheet: str | list[str] = ""
    """Sheet name for XLSX input, or a list read with the same settings; default: the first
    sheet, or every sheet with a header row of key-place columns when several have one."""
    columns: dict[str, str] = field(default_factory=dict)
    """Header of a column whose name no alias knows, e.g. ``{category = "场所类型"}``."""
    files: list[KeyPlacesFile] = field(default_factory=list)
    """Files with settings of their own, read after those of ``path``: e.g. an Amap export in
    GCJ-02 beside a WGS84 list, ``[[key_places.files]] path = "amap.csv"  crs = "gcj02"``."""

    def sources(self) -> list[KeyPlacesFile]:
        """Every key-places file with the settings that apply to it, ``path`` first.

        A ``[[key_places.files]]`` entry takes the section's ``crs``, ``layer``, ``encoding`` and
        ``sheet`` where it gives none. Its own ``columns``, when given, are its whole mapping and
        are used *instead of* ``[key_places.columns]`` (not merged with them): a file with its
        own headers must not be forced onto the section's mapping, which may name a header it
        lacks. An entry without ``columns`` uses the section's."""
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
                    dict(f.columns) if f.columns else dict(self.columns),
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


#: Each section of the file → its dataclass, in the order of the file format.
SECTIONS: dict[str, type] = {
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


def is_path_hint(hint: Any) -> bool:
    """Whether a field's annotation marks a path (``PathStr``, ``PathOrPaths``)."""
    return get_origin(hint) is typing.Annotated and _PathField in hint.__metadata__
