"""One site file in progress, as the stages of :func:`gigacov.ingest.sites.read_sites` see it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..scenario import Scenario
from ._common import Parsed, Tracker, parse_numbers
from .model import InputReport
from .sectors import MULTI_VALUE_RE
from .site_columns import SiteColumns
from .tables import Table

__all__ = ["SiteWork"]


@dataclass
class SiteWork:
    """One site file in progress: what every stage reads and where it notes what it did."""

    scn: Scenario
    table: Table
    cols: SiteColumns
    tracker: Tracker
    report: InputReport
    warnings: list[str] = field(default_factory=list)
    defaults: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.table.df)

    def numeric(self, key: str, unit_parser, what: str, multi: bool = False) -> np.ndarray:
        """Parse an optional numeric column; reject non-numbers; NaN where missing or absent."""
        cols, tracker = self.cols, self.tracker
        if not cols.has(key):
            return np.full(self.n, np.nan)
        raw = cols.raw[key]
        p: Parsed = parse_numbers(raw, unit_parser)
        header = cols.header[key]
        if multi and p.bad.any():
            text = raw.astype("str")
            several = p.bad & text.str.match(MULTI_VALUE_RE).to_numpy(dtype=bool, na_value=False)
            tracker.reject(
                several,
                header,
                raw,
                "not_a_number",
                lambda v: (
                    f"{what} " + v.map(repr) + " holds several values that do not match the row's "
                    "azimuths (or a decimal comma); give one value per azimuth, or one cell "
                    "(sector) per row"
                ),
            )
        tracker.reject(
            p.bad,
            header,
            raw,
            "not_a_number",
            lambda v: f"{what} " + v.map(repr) + " is not a number",
        )
        return p.values
