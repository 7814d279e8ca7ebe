"""XLSX cells that read differently from what the sheet shows: formulas without stored results,
and merged cells.

Merged cells: a statistics workbook often merges a unit's code, name and year down over its
block of rows (移动 / 电信 / 联通 / 合计). openpyxl reads the value in the range's first cell only
and blanks below it, which would reject every row but the first as having no code (and leave
the unit to its first operator). :func:`fill_merged_body` gives every cell of a merged range
below the header the range's value, as the sheet shows it.

Formulas: openpyxl reads a formula cell as the value Excel or WPS stored beside the formula. A workbook
written by a program (a script's export, openpyxl itself) and never saved by Excel or WPS holds
formulas without stored results, which read as blank: a figure that is unknown, not missing.
:func:`refuse_uncomputed_formulas` stops the read naming the cells, instead of letting the rows
be rejected as ``missing_value``.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from ..errors import InputError

__all__ = ["fill_merged_body", "refuse_uncomputed_formulas"]


def _sheets_hold(p: Path, needles: tuple[bytes, ...]) -> bool:
    """Whether any sheet's XML holds one of ``needles``: a byte scan of the archive, so that a
    workbook without formulas or merged cells is read once."""
    try:
        with zipfile.ZipFile(p) as z:
            for name in z.namelist():
                if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                    data = z.read(name)
                    if any(n in data for n in needles):
                        return True
    except (OSError, zipfile.BadZipFile, KeyError):
        return False
    return False


def _has_formulas(p: Path) -> bool:
    return _sheets_hold(p, (b"<f>", b"<f ", b":f>", b":f "))


def fill_merged_body(p: Path, title: str, values: list[tuple], first_body: int) -> int:
    """Give every cell of a merged range that lies wholly in the body (rows from index
    ``first_body`` of ``values``, 0-based) the value of the range's first cell, in place.
    Returns the number of cells filled (0 when the workbook merges nothing)."""
    if not _sheets_hold(p, (b"<mergeCell ", b":mergeCell ")):
        return 0
    import openpyxl

    wb = openpyxl.load_workbook(p, read_only=False, data_only=True)
    try:
        ranges = list(wb[title].merged_cells.ranges)
    finally:
        wb.close()
    filled = 0
    for rng in ranges:
        top = rng.min_row - 1
        if top < first_body or top >= len(values):
            continue
        row0 = values[top]
        value = row0[rng.min_col - 1] if rng.min_col - 1 < len(row0) else None
        if value is None:
            continue
        for i in range(top, min(rng.max_row, len(values))):
            row = list(values[i])
            if len(row) < rng.max_col:
                row += [None] * (rng.max_col - len(row))
            for j in range(rng.min_col - 1, rng.max_col):
                if row[j] is None:
                    row[j] = value
                    filled += 1
            values[i] = tuple(row)
    return filled


def refuse_uncomputed_formulas(p: Path, title: str, values: list[tuple]) -> None:
    """A formula cell whose result was never computed and stored reads as blank (a workbook
    written by a program and never saved by Excel or WPS): a figure that is unknown, not
    missing. Stop and name the cells rather than reject the rows as ``missing_value``."""
    if not any(c is None for r in values for c in r) or not _has_formulas(p):
        return
    import openpyxl
    from openpyxl.utils import get_column_letter

    wb = openpyxl.load_workbook(p, read_only=True, data_only=False)
    try:
        formulas = list(wb[title].iter_rows(values_only=True))
    finally:
        wb.close()
    cells = [
        f"{get_column_letter(j + 1)}{i + 1}"
        for i, (got, raw) in enumerate(zip(values, formulas, strict=False))
        for j, (a, f) in enumerate(zip(got, raw, strict=False))
        if a is None and isinstance(f, str) and f.startswith("=")
    ]
    if cells:
        raise InputError(
            f"{p}: sheet {title!r}: {len(cells)} cell(s) hold a formula whose result was never "
            f"computed and saved ({', '.join(cells[:8])}{', ...' if len(cells) > 8 else ''}): "
            "the workbook was written by a program and not saved by Excel or WPS, so these "
            "figures are unknown, not blank. Open the file in Excel or WPS and save it, or "
            "paste the values in place of the formulas"
        )
