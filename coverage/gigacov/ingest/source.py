"""An input file opened for reading: its table, its header map, its report and its row tracker.

The readers of point and table inputs (key places, field measurements) open each file the same
way: read it (:func:`gigacov.ingest.tables.read_table`, with the section's sheet, layer and
encoding), record its SHA-256 for the manifest, map its headers to gigacov's columns (aliases,
then the section's ``columns`` overrides), and start its report and the tracker that rejects rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..rundir import sha256_file
from ._common import Rejects, Tracker
from .model import InputReport
from .tables import ColumnMap, Table, match_table, read_table

__all__ = ["SourceFile", "open_source"]


@dataclass
class SourceFile:
    """One opened input file (see the module docstring)."""

    table: Table
    cmap: ColumnMap
    report: InputReport
    tracker: Tracker
    warnings: list[str] = field(default_factory=list)

    @property
    def df(self) -> pd.DataFrame:
        return self.table.df

    @property
    def n(self) -> int:
        return len(self.table.df)


def open_source(
    path: Any,
    section: Any,
    *,
    input_name: str,
    what: str,
    aliases: Mapping[str, Sequence[str]],
    rejects: Rejects,
    hashes: dict[str, str],
    label: str = "",
) -> SourceFile:
    """Open ``path`` for the scenario section ``[input_name]`` (its ``sheet``, ``layer``,
    ``encoding`` and ``columns``); ``what`` names the file's content in messages, ``label`` the
    file in its report and row lists (``"file.xlsx[sheet]"``; default: its path)."""
    table = read_table(
        path,
        what=what,
        aliases=aliases,
        section=input_name,
        sheet=section.sheet,
        layer=section.layer,
        encoding=section.encoding,
    )
    hashes[str(table.path)] = sha256_file(table.path)
    cmap = match_table(
        table, aliases, section.columns, where=f"{table.path}: [{input_name}.columns]", what=what
    )
    report = InputReport(input=input_name, path=label or str(table.path))
    tracker = Tracker(label or str(table.path), table.rows, rejects, report)
    return SourceFile(table, cmap, report, tracker, list(table.notes))
