"""The text encoding of a shapefile's attributes.

A shapefile's DBF carries no encoding of its own; a ``.cpg`` beside it names one. Chinese files
often have none and are GBK: :func:`shapefile_encoding` then reads them as GB18030 (a superset
of GBK) when the bytes are not UTF-8. A ``.cpg`` that says UTF-8 beside a GBK DBF (copied from
another layer, or written by a tool that always says UTF-8) fails to decode:
:func:`read_gis_dataframe` then reads the DBF as GB18030 and says so, instead of stopping on a
``UnicodeDecodeError``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import InputError
from ._common import log

__all__ = ["shapefile_encoding", "read_gis_dataframe"]


def shapefile_encoding(p: Path) -> str | None:
    if p.with_suffix(".cpg").exists() or p.with_suffix(".CPG").exists():
        return None
    dbf = next((q for q in (p.with_suffix(".dbf"), p.with_suffix(".DBF")) if q.exists()), None)
    if dbf is None:
        return None
    data = dbf.read_bytes()
    try:
        data.decode("utf-8")
        return None
    except UnicodeDecodeError:
        return "gb18030"


def read_gis_dataframe(p: Path, kw: dict[str, Any]) -> tuple[Any, list[str]]:
    """``pyogrio.read_dataframe(p, **kw)``, and the notes to say about how it was read."""
    import pyogrio

    try:
        return pyogrio.read_dataframe(p, **kw), []
    except UnicodeDecodeError as exc:
        if p.suffix.lower() != ".shp" or "encoding" in kw:
            raise InputError(f"{p}: cannot read the file ({exc})") from None
        cpg = next((q for q in (p.with_suffix(".cpg"), p.with_suffix(".CPG")) if q.exists()), None)
        name = cpg.name if cpg else ".cpg"
        said = cpg.read_text(errors="replace").strip() if cpg else "UTF-8"
        try:
            gdf = pyogrio.read_dataframe(p, **kw, encoding="gb18030")
        except Exception as exc2:  # noqa: BLE001 - GDAL errors come in many types
            raise InputError(
                f"{p}: cannot read the file: its {name} says {said!r} but the attributes are not "
                f"({exc}), and GBK fails too ({exc2})"
            ) from None
    note = (
        f"{p}: its {name} says {said!r}, but the attributes are not in that encoding; read as "
        "GBK (GB18030). Fix or delete the .cpg"
    )
    log.warning("%s", note)
    return gdf, [note]
