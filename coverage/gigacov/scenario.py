"""The scenario file (TOML, docs/design.md §5) → a validated, typed :class:`Scenario`.

Each ``[section]`` of the file maps to a frozen dataclass (:mod:`gigacov.scenario_sections`,
whose names are importable from here too); :mod:`gigacov.scenario_values` checks each value
against its field. Unknown sections or keys are an error that names the key and suggests the
closest valid one; numeric settings must lie within :data:`BOUNDS`. Paths are resolved against
the folder of the scenario file; an empty string means "not given".
"""

from __future__ import annotations

import dataclasses
import math
import re
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .scenario_sections import (
    BASEMAPS,
    PROPAGATION_MODELS,
    SECTIONS,
    Backend,
    Basemap,
    BoundariesSection,
    BroadbandSection,
    ComputeSection,
    GridSection,
    IndicatorsSection,
    KeyPlacesFile,
    KeyPlacesSection,
    Language,
    MapSection,
    MeasurementsSection,
    PlanningSection,
    PopulationSection,
    PropagationModel,
    RadioSection,
    ReportSection,
    ScenarioSection,
    SitesSection,
    TerrainSection,
    default_boundaries_path,
    is_path_hint,
)
from .scenario_values import build_section, coerce, unknown_message

__all__ = [
    "Scenario",
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
    "load_scenario",
    "scenario_from_dict",
    "path_keys",
    "SECTIONS",
    "BOUNDS",
    "NAME_MAX",
    "PROPAGATION_MODELS",
    "PropagationModel",
    "Basemap",
    "BASEMAPS",
    "Backend",
    "Language",
    "default_boundaries_path",
]


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
            if key not in SECTIONS:
                raise ConfigError(unknown_message("section", key, list(SECTIONS), "scenario"))
            if isinstance(value, dict):
                current = getattr(self, key)
                hints = typing.get_type_hints(type(current), include_extras=True)
                coerced = {}
                for k, v in value.items():
                    if k not in hints:
                        raise ConfigError(unknown_message("key", k, sorted(hints), f"[{key}]"))
                    coerced[k] = coerce(v, hints[k], f"[{key}] {k}")
                changes[key] = dataclasses.replace(current, **coerced)
            else:
                changes[key] = value
        check_bounds(changes, str(self.path) if self.path else "scenario")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The settings as a plain dict (for manifests)."""
        out = {name: dataclasses.asdict(getattr(self, name)) for name in SECTIONS}
        out["path"] = str(self.path) if self.path else None
        return out


def path_keys() -> frozenset[tuple[str, str]]:
    """``(section, key)`` of every setting that holds a file or folder path."""
    out = set()
    for name, cls in typing.get_type_hints(Scenario).items():
        if name not in SECTIONS:
            continue
        for key, hint in typing.get_type_hints(cls, include_extras=True).items():
            if is_path_hint(hint):
                out.add((name, key))
    return frozenset(out)


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


def check_bounds(sections: dict[str, Any], where: str) -> None:
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
        if key not in SECTIONS:
            raise ConfigError(unknown_message("section", key, list(SECTIONS), "scenario file"))
    where = str(path) if path else "scenario"
    for required in ("scenario", "sites"):
        if required not in data:
            raise ConfigError(f"{where}: missing required section [{required}]")
    sections = {
        name: build_section(cls, data.get(name, {}), name, base_dir)
        for name, cls in SECTIONS.items()
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
    check_bounds(sections, where)
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
        from .carrier_table import load_carrier_table

        load_carrier_table(radio.carriers, radio.shared)  # errors name the key
    from .operator_names import parse_operator

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
