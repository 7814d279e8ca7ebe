"""XLSX formula cells whose result was never computed and stored.

openpyxl reads a formula cell as the value Excel or WPS stored beside the formula. A workbook
written by a program (a script's export, openpyxl itself) and never saved by Excel or WPS holds
formulas without stored results, which read as blank: a figure that is unknown, not missing.
:func:`refuse_uncomputed_formulas` stops the read naming the cells, instead of letting the rows
be rejected as ``missing_value``.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from ..errors import InputError

__all__ = ["refuse_uncomputed_formulas"]


def _has_formulas(p: Path) -> bool:
    """Whether any sheet of the workbook holds a formula (a ``<f>`` element): a byte scan of the
    archive, so that workbooks without formulas are read once."""
    try:
        with zipfile.ZipFile(p) as z:
            for name in z.namelist():
                if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                    data = z.read(name)
                    if b"<f>" in data or b"<f " in data or b":f>" in data or b":f " in data:
                        return True
    except (OSError, zipfile.BadZipFile, KeyError):
        return False
    return False


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
