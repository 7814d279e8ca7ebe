"""What ingest hands to the rest of the pipeline: the normalised inputs of one scenario.

All geometries and coordinates here are WGS84 (EPSG:4326); GCJ-02 / BD-09 / projected inputs have
already been converted. Column sets are fixed (below) so downstream stages can rely on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd

from ..grid import RasterData
from ..scenario import Scenario

__all__ = [
    "Inputs",
    "InputReport",
    "CELL_COLUMNS",
    "CARRIER_COLUMNS",
    "BROADBAND_COLUMNS",
    "BOUNDARY_COLUMNS",
    "KEY_PLACE_COLUMNS",
    "KEY_PLACE_CATEGORIES",
    "REJECTED_COLUMNS",
    "REASON_CODES",
    "SKIP_REASONS",
]

#: One row per cell (sector). ``site_id`` groups the cells of one site. ``azimuth_deg`` is NaN
#: for an omni antenna. ``admin_code`` is the county (6 digits) containing the site, "" if none.
#: ``source_row`` is the spreadsheet row of the cell in its source file (header = row 1, first
#: data row = row 2; see :mod:`gigacov.ingest`), the same number as in ``rejected_rows.csv``.
CELL_COLUMNS: dict[str, str] = {
    "site_id": "str",
    "cell_id": "str",
    "name": "str",
    "lon": "float64",
    "lat": "float64",
    "tech": "str",  # "5G" or "4G"
    "operator": "str",
    "freq_mhz": "float64",
    # where freq_mhz came from: "input" (MHz or ARFCN, kept), "band" (band name or rough
    # frequency: the operator's carrier in that band applies), "default" (nothing given)
    "freq_source": "str",
    "bandwidth_mhz": "float64",
    "scs_khz": "float64",
    "n_rb": "int64",
    "height_m": "float64",
    "azimuth_deg": "float64",  # NaN = omni
    "beamwidth_deg": "float64",
    "tilt_deg": "float64",  # total downtilt (electrical + mechanical), degrees, + = down
    "eirp_dbm": "float64",  # total over the carrier
    "commissioned_year": "Int64",
    "admin_code": "str",  # county adcode by location
    "source_row": "int64",
}

#: Added to the cells by :func:`gigacov.operators.resolve_carriers` after reading: the cell's
#: carrier (downlink MHz; from the operators' carrier table, else ``freq_mhz`` ± half the
#: bandwidth) and the operators whose users it serves (``;``-separated; ``""`` when its operator
#: is unknown). ``Inputs.cells`` has :data:`CELL_COLUMNS` followed by these.
CARRIER_COLUMNS: dict[str, str] = {
    "carrier_low_mhz": "float64",
    "carrier_high_mhz": "float64",
    "serves": "str",
}

#: Broadband statistics, one row per admin unit and year; numbers are float64 (NaN = missing).
BROADBAND_COLUMNS: dict[str, str] = {
    "admin_code": "str",
    "level": "str",  # "village" (12-digit code) or "county" (6-digit code)
    "year": "int64",
    "households": "float64",
    "fttx_households_covered": "float64",
    "gigabit_households_covered": "float64",
    "pon_ports": "float64",
    "pon_10g_ports": "float64",
    "fixed_users": "float64",
    "users_500m_plus": "float64",
    "users_1000m_plus": "float64",
    "mobile_users": "float64",
    "users_5g": "float64",
    "source_row": "int64",
}

#: Administrative units of every level present (province, city, county, village).
BOUNDARY_COLUMNS: dict[str, str] = {
    "admin_code": "str",
    "name": "str",
    "name_en": "str",
    "level": "str",  # province | city | county | village
    "parent_code": "str",
}

KEY_PLACE_CATEGORIES = (
    "hospital",
    "university",
    "tourism",
    "railway",
    "airport",
    "road",
    "government",
    "other",
)

#: Key places: points, lines (roads) or polygons.
KEY_PLACE_COLUMNS: dict[str, str] = {
    "place_id": "str",
    "name": "str",
    "category": "str",  # one of KEY_PLACE_CATEGORIES
    "admin_code": "str",  # county adcode containing the place (representative point)
    "approximate": "bool",  # position approximate (e.g. real name at a synthetic position)
}

REJECTED_COLUMNS = ["file", "row", "column", "value", "reason", "message"]

REASON_CODES = (
    "missing_value",
    "not_a_number",
    "lat_lon_swapped",
    "outside_region",
    "duplicate_id",
    "unknown_technology",
    "bad_geometry",
    "unknown_admin_code",
    "out_of_range",
    "bad_date",
    "not_yet_commissioned",
    "site_conflict",
    "wrong_county",
)

#: Why a valid row can be left out of a run (listed in ``skipped_rows.csv``, never a verdict).
SKIP_REASONS = {
    "outside_region": "a unit or place outside [scenario] region",
    "not_yet_commissioned": "a site commissioned after the scenario year, or planned (待开通)",
    "other_year": "a statistics row of another year than the scenario year",
    "total_row": "a total (合计) row: a city's or the province's in the statistics (gigacov "
    "sums the counties), or a list's footer",
    "note_row": "a note under a statistics table (注：…, 填报单位：…, 数据来源：…), not data",
    "part_row": "a breakdown of a unit's statistics (其中：农村, 城市), already counted in its "
    "operators' rows",
    "duplicate_place": "a key place already given in an earlier key-places file (same name, "
    "within 200 m)",
}


@dataclass
class InputReport:
    """How one input was read: counts, defaults applied (column → rows) and warnings.

    Counts are spreadsheet (or feature) rows, each counted once as used, rejected or skipped:
    ``read == used + rejected + skipped``, and ``read`` is every data row of the file.
    ``fixed`` counts the rows used after an automatic repair, per reason (e.g.
    ``lat_lon_swapped``: latitude and longitude exchanged; ``sectors_split``: a row listing
    several sectors). ``skipped`` counts valid rows that do not belong to this run, by reason in
    ``skipped_reasons`` (:data:`SKIP_REASONS`). They are not data errors and are listed in
    ``skipped_rows.csv``, not in the rejected rows. A sites row listing several sectors is one
    row (used, rejected or skipped as a whole); ``cells`` counts the cells made from the used
    rows.
    """

    input: str
    path: str
    read: int = 0
    used: int = 0
    rejected: int = 0
    defaults: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    fixed: dict[str, int] = field(default_factory=dict)
    skipped: int = 0
    skipped_reasons: dict[str, int] = field(default_factory=dict)
    """Why rows were skipped (:data:`SKIP_REASONS`)."""
    cells: int | None = None
    """Sites only: the cells made from the used rows (a row listing sectors makes several)."""

    def add(self, other: InputReport) -> None:
        """Count ``other``'s rows in this report too (the sheets or files of one input)."""
        self.read += other.read
        self.used += other.used
        self.rejected += other.rejected
        self.skipped += other.skipped
        if other.cells is not None:
            self.cells = (self.cells or 0) + other.cells
        for attr in ("defaults", "fixed", "skipped_reasons"):
            total = getattr(self, attr)
            for k, v in getattr(other, attr).items():
                total[k] = total.get(k, 0) + v

    def to_dict(self) -> dict[str, Any]:
        return {
            "input": self.input,
            "path": self.path,
            "read": self.read,
            "used": self.used,
            "rejected": self.rejected,
            "defaults": dict(self.defaults),
            "fixed": dict(self.fixed),
            "skipped": self.skipped,
            "skipped_reasons": dict(self.skipped_reasons),
            **({"cells": self.cells} if self.cells is not None else {}),
        }


@dataclass
class Inputs:
    """The normalised inputs of a scenario (everything WGS84).

    Attributes
    ----------
    boundaries
        Every administrative unit read: province, city, county (the region's counties and
        their parents) and, when given, villages. Columns :data:`BOUNDARY_COLUMNS` + geometry;
        plus ``population`` when ``[population] column`` is used.
    cells
        :data:`CELL_COLUMNS` + :data:`CARRIER_COLUMNS`, all technologies.
    broadband
        :data:`BROADBAND_COLUMNS` or None.
    population, dem, clutter
        Rasters as read (their own CRS), or None.
    key_places
        :data:`KEY_PLACE_COLUMNS` + geometry, or None.
    rejected
        Every unusable row: :data:`REJECTED_COLUMNS`.
    skipped
        Every valid row left out of this run (a unit outside ``[scenario] region``, a site
        commissioned after the scenario year), in the same columns; ``reason`` says which.
    reports
        One :class:`InputReport` per input read.
    file_hashes
        ``{path: sha256}`` of every input file (provenance).
    """

    scenario: Scenario
    boundaries: gpd.GeoDataFrame
    cells: pd.DataFrame
    broadband: pd.DataFrame | None = None
    population: RasterData | None = None
    dem: RasterData | None = None
    clutter: RasterData | None = None
    key_places: gpd.GeoDataFrame | None = None
    measurements: pd.DataFrame | None = None
    """Field measurements (``gigacov.field.MEASUREMENT_COLUMNS``), or None without any."""
    rejected: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REJECTED_COLUMNS))
    skipped: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REJECTED_COLUMNS))
    reports: list[InputReport] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    file_hashes: dict[str, str] = field(default_factory=dict)
    carrier_table: Any = None
    """The :class:`gigacov.operators.CarrierTable` used (shipped table + scenario overrides)."""
    carriers: Any = None
    """What :func:`gigacov.operators.resolve_carriers` did (a ``CarrierSummary``)."""

    def units(self, level: str) -> gpd.GeoDataFrame:
        """The units of one level (``province``, ``city``, ``county``, ``village``)."""
        return self.boundaries[self.boundaries["level"] == level]

    @property
    def counties(self) -> gpd.GeoDataFrame:
        return self.units("county")

    @property
    def villages(self) -> gpd.GeoDataFrame:
        return self.units("village")

    @property
    def region_geometry(self):
        """Union of the region's counties (shapely geometry, WGS84)."""
        return self.counties.geometry.union_all()
