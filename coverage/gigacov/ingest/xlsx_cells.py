"""XLSX cells that read differently from what the sheet shows: formulas without stored results,
and merged cells.

Merged cells: a statistics workbook often merges a unit's code, name and year down over its
block of rows (移动 / 电信 / 联通 / 合计). openpyxl reads the value in the range's first cell only
and blanks below it, which would reject every row but the first as having no code (and leave
the unit to its first operator). :func:`fill_merged_body` gives every cell of a merged range
below the header the range's value, as the sheet shows it, from the ranges listed in the
sheet's XML (the workbook is not loaded a second time).

Formulas: openpyxl reads a formula cell as the value Excel or WPS stored beside the formula. A workbook
written by a program (a script's export, openpyxl itself) and never saved by Excel or WPS holds
formulas without stored results, which read as blank: a figure that is unknown, not missing.
:func:`refuse_uncomputed_formulas` stops the read naming the cells, instead of letting the rows
be rejected as ``missing_value``.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

from ..errors import InputError

__all__ = ["sheet_xml", "fill_merged_body", "refuse_uncomputed_formulas"]

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"
#: ``<mergeCell ref="A3:A6"/>`` (any namespace prefix).
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')
#: A formula element, ``<f>…</f>`` or ``<f t="shared" …/>``.
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")


def sheet_xml(p: Path, title: str) -> bytes:
    """The XML of the sheet named ``title`` (b"" when the archive cannot be read that way):
    read once, for both checks of this module, instead of loading the workbook again."""
    try:
        with zipfile.ZipFile(p) as z:
            book = ElementTree.fromstring(z.read("xl/workbook.xml"))
            rid = next(
                (s.get(f"{_REL}id") for s in book.iter(f"{_MAIN}sheet") if s.get("name") == title),
                None,
            )
            rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
            target = next(
                (
                    r.get("Target", "")
                    for r in rels.iter(f"{_PKG}Relationship")
                    if r.get("Id") == rid
                ),
                "",
            )
            if not target:
                return b""
            name = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
            return z.read(posixpath.normpath(name))
    except (OSError, KeyError, zipfile.BadZipFile, ElementTree.ParseError):
        return b""


def _column_index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def fill_merged_body(xml: bytes, values: list[tuple], first_body: int) -> int:
    """Give every cell of a merged range (from the sheet's ``xml``) that lies wholly in the body
    (rows from index ``first_body`` of ``values``, 0-based) the value of the range's first cell,
    in place. Returns the number of cells filled; a merged title row above the body is left."""
    filled = 0
    for m in _MERGE.finditer(xml):
        c0, r0, c1, r1 = _column_index(m[1]), int(m[2]), _column_index(m[3]), int(m[4])
        top = r0 - 1
        if top < first_body or top >= len(values):
            continue
        row0 = values[top]
        value = row0[c0 - 1] if c0 - 1 < len(row0) else None
        if value is None:
            continue
        for i in range(top, min(r1, len(values))):
            row = list(values[i])
            if len(row) < c1:
                row += [None] * (c1 - len(row))
            for j in range(c0 - 1, c1):
                if row[j] is None:
                    row[j] = value
                    filled += 1
            values[i] = tuple(row)
    return filled


def refuse_uncomputed_formulas(p: Path, xml: bytes, title: str, values: list[tuple]) -> None:
    """A formula cell whose result was never computed and stored reads as blank (a workbook
    written by a program and never saved by Excel or WPS): a figure that is unknown, not
    missing. Stop and name the cells rather than reject the rows as ``missing_value``. The
    formulas are read (a second pass over the sheet) only when the sheet's ``xml`` has any and
    a cell read blank."""
    if not _FORMULA.search(xml) or not any(c is None for r in values for c in r):
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
