"""Ingest: read every input of a scenario as users bring it, normalise it, say what is wrong.

Entry point: :func:`load_inputs` (``Scenario`` → :class:`~gigacov.ingest.model.Inputs`).

* Readers: :mod:`.boundaries` (counties, cities, province, villages; codes and parents in
  :mod:`.admin_codes`, polygons in :mod:`.polygons`), :mod:`.sites` (operator exports, one
  function per stage) with :mod:`.opencellid` (OpenCelliD layout), :mod:`.site_columns` (site
  aliases), :mod:`.sectors` (site-level rows split per azimuth), :mod:`.site_ids` (site grouping
  and the duplicate rule), :mod:`.broadband` (statistics), :mod:`.rasters` (population, DEM,
  clutter), :mod:`.key_places` (categories in :mod:`.place_categories`); file formats in :mod:`.tables` (text encodings in
  :mod:`.text_encoding`); headers matched to columns (aliases, units in headers) in
  :mod:`.columns`; values with units (DMS, W, dates) in :mod:`.units`; band names, ARFCNs and
  N_RB in :mod:`.bands`; technology and operator words in :mod:`.vocab`; the datum (GCJ-02 /
  BD-09) sign test in :mod:`.datum_check`.
* Everything that leaves ingest is WGS84 (EPSG:4326); rasters keep their own CRS.

**Row numbers.** Rejected rows and ``source_row`` use the row number a user sees in a
spreadsheet: the header is row 1 and the first data row is row 2 (title lines above the header
shift both; a header-less file such as an OpenCelliD export starts at row 1; for GIS layers,
feature *i* counting from 0 is row *i* + 2, as in its attribute table exported with a header).

**Nothing is lost silently.** For every input ``read == used + rejected + skipped``, ``read``
being every data row of the file: a row that cannot be used is written to ``Inputs.rejected``
(``file, row, column, value, reason, message``) with one of
:data:`~gigacov.ingest.model.REASON_CODES`; a valid row that does not belong to the run (a unit
outside ``[scenario] region``, a later site, another year's statistics, a total row) is listed in
``Inputs.skipped`` with one of :data:`~gigacov.ingest.model.SKIP_REASONS`; a row repaired
automatically (latitude/longitude exchanged, invalid polygon, sectors split) is used and counted
under ``InputReport.fixed`` with a warning; a default applied to a missing value is counted per
column in ``InputReport.defaults``.
"""

from __future__ import annotations

from .load import load_inputs
from .model import (
    BOUNDARY_COLUMNS,
    BROADBAND_COLUMNS,
    CARRIER_COLUMNS,
    CELL_COLUMNS,
    KEY_PLACE_CATEGORIES,
    KEY_PLACE_COLUMNS,
    REASON_CODES,
    REJECTED_COLUMNS,
    InputReport,
    Inputs,
)

__all__ = [
    "load_inputs",
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
]
