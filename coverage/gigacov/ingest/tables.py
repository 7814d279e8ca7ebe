"""Reading tabular and GIS files as users bring them into a :class:`Table`.

* **CSV / TXT / TSV** — the encoding is detected (a BOM, then a strict UTF-8 decode, then
  GB18030 — a superset of GBK and GB2312 — and only then ``charset-normalizer``); the delimiter
  (comma, tab, semicolon, ``|``) is sniffed from the header line. Title lines above the header
  (common in statistical tables: "2024年XX县宽带统计表") are skipped: the header is the line
  among the first 30 that names most of the known columns.
* **XLSX** (openpyxl) — first sheet unless one is named; the same header search.
* **GeoPackage / GeoJSON / Shapefile / Parquet (plain or GeoParquet)** — via pyogrio /
  pyarrow; a Shapefile without a ``.cpg`` whose ``.dbf`` is not UTF-8 is read as GBK.

Every reader returns a :class:`Table`: the attribute columns as read (strings for text files,
typed values for the others), the geometry if any, the file's own CRS if it declares one, and
the spreadsheet row number of the first data row (header = row 1, first data row = row 2; a
file without a header row starts at row 1; for GIS layers feature *i* (0-based) is row *i* + 2,
as in its attribute table exported with a header).

The text encoding is :mod:`.text_encoding`; matching the headers to canonical columns (aliases,
units in headers, mapping errors) is :mod:`.columns`, whose names are importable from here too.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj

from ..errors import ConfigError, InputError
from ._common import log, require_regular_file
from .columns import (
    ColumnMap,
    alias_index,
    dbf_truncations,
    lookup_header,
    lookup_pair,
    mapping_hint,
    match_columns,
    match_table,
    missing_columns_error,
    score_header,
    split_header,
)
from .headers import GROUP_SEP, two_row_header
from .shapefile_text import read_gis_dataframe, shapefile_encoding
from .text_encoding import decode_mixed, detect_encoding
from .xlsx_cells import fill_merged_body, refuse_uncomputed_formulas, sheet_xml

__all__ = [
    "Table",
    "read_table",
    "detect_encoding",
    "ColumnMap",
    "match_columns",
    "match_table",
    "split_header",
    "missing_columns_error",
    "mapping_hint",
    "dbf_truncations",
    "sheets_to_read",
]

TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
GIS_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp", ".fgb", ".gml", ".kml", ".zip")
PARQUET_SUFFIXES = (".parquet", ".geoparquet", ".pq")
_HEADER_SCAN_ROWS = 30


@dataclass
class Table:
    """One file's content as read: attributes, geometry, CRS, and row numbering."""

    path: Path
    df: pd.DataFrame
    first_row: int = 2
    """Spreadsheet row number of ``df.iloc[0]`` (header = row 1 → first data row = 2)."""
    geometry: object | None = None
    """A GeoSeries (same index as ``df``) for GIS files, else None."""
    crs: pyproj.CRS | None = None
    """The CRS the file declares (GIS files, GeoParquet), else None."""
    kind: str = "csv"
    encoding: str = ""
    has_header: bool = True
    dbf_names: bool = False
    """Field names from a DBF (shapefile): cut at 10 bytes (``行政区划代码`` → ``行政区划代``)."""
    notes: list[str] = field(default_factory=list)
    """Warnings about how the file was read (another sheet than the first, …) for the report."""
    title: list[str] = field(default_factory=list)
    """The text of the lines above the header (a title row such as "2024年宽带统计 单位：万户")."""
    combined: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Columns named from a two-row header (:mod:`.headers`): name → (group title, sub-header),
    e.g. ``"固定宽带用户(万户)/千兆及以上"`` → ``("固定宽带用户(万户)", "千兆及以上")``."""

    @property
    def rows(self) -> np.ndarray:
        """Spreadsheet row number of every data row (int64)."""
        return (
            self.first_row + np.arange(len(self.df), dtype=np.int64)
            if self._row_numbers is None
            else self._row_numbers
        )

    _row_numbers: np.ndarray | None = field(default=None, repr=False)


# ------------------------------------------------------------------------------------------------
# Readers
# ------------------------------------------------------------------------------------------------


def read_table(
    path: str | Path,
    *,
    what: str,
    aliases: Mapping[str, Sequence[str]] | None = None,
    sheet: str = "",
    layer: str = "",
    encoding: str = "",
    headerless: Sequence[str] | None = None,
    headerless_test=None,
    section: str = "",
) -> Table:
    """Read any supported file into a :class:`Table` (see the module docstring).

    Parameters
    ----------
    path
        The file. The suffix chooses the reader.
    what
        What the file holds, for messages ("sites", "broadband statistics", ...).
    aliases
        Canonical columns and their aliases, used to find the header line of text/Excel files.
    headerless, headerless_test
        Column names for a known header-less layout (OpenCelliD) and a function of the first
        line's fields that says whether the file uses it.
    section
        The scenario section that names the file (``"sites"``), for the ``sheet`` key in
        messages.
    """
    p = Path(path)
    require_regular_file(p, f"{what} file")
    if not p.exists():
        raise InputError(f"{what} file {str(p)!r} does not exist")
    suffix = p.suffix.lower()
    index = alias_index(aliases or {})
    if suffix in TEXT_SUFFIXES or suffix in (".gz",) and p.stem.lower().endswith(".csv"):
        return _read_text(p, what, index, encoding, headerless, headerless_test)
    if suffix in EXCEL_SUFFIXES:
        return _read_excel(p, what, index, sheet, section)
    if suffix == ".xls":
        raise InputError(
            f"{p}: old Excel .xls files are not supported; save the sheet as .xlsx or .csv"
        )
    if suffix in PARQUET_SUFFIXES:
        return _read_parquet(p, what)
    if suffix in GIS_SUFFIXES:
        return _read_gis(p, what, layer)
    raise InputError(
        f"{p}: unsupported {what} file type {suffix!r}; use CSV, XLSX, GeoPackage, GeoJSON, "
        "Shapefile or Parquet"
    )


def _sniff_delimiter(line: str) -> str:
    counts = {d: line.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def _read_text(p: Path, what: str, index, encoding: str, headerless, headerless_test) -> Table:
    raw = p.read_bytes()
    if p.suffix.lower() == ".gz":
        import gzip

        raw = gzip.decompress(raw)
    mixed = None
    if not encoding and not raw.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            mixed = decode_mixed(raw, p, what)
    enc = "utf-8" if mixed is not None else detect_encoding(raw, p, encoding)
    if mixed is not None:
        raw = mixed.encode("utf-8")
    elif enc not in ("utf-8", "utf-8-sig"):
        text = raw.decode(enc)
        raw = text.encode("utf-8")
        enc = "utf-8"
    elif enc == "utf-8-sig":
        raw = raw[3:]
        enc = "utf-8"
    if not raw.strip():
        raise InputError(f"{p}: the {what} file is empty")
    # Look at the first lines to find the header and the delimiter.
    head_text = raw[: 1 << 16].decode("utf-8", errors="replace")
    head_lines = head_text.splitlines()[:_HEADER_SCAN_ROWS]
    non_blank = [i for i, ln in enumerate(head_lines) if ln.strip()]
    first = non_blank[0] if non_blank else 0
    delim = _sniff_delimiter(head_lines[first] if head_lines else "")
    parsed = list(csv.reader(head_lines, delimiter=delim))
    header_line = first
    has_header = True
    if headerless_test is not None and parsed and parsed[first] and headerless_test(parsed[first]):
        has_header = False
    elif index:
        scores = [score_header(r, index) if r else 0 for r in parsed]
        best = max(scores) if scores else 0
        if best >= 2 and scores[first] < best:
            header_line = scores.index(best)
    pairs = None
    if has_header:
        last, pairs = _two_row_header(parsed, header_line, index)
    blank_lines = b"\n\n" in raw or b"\n\r\n" in raw
    read_kw = dict(dtype=str, keep_default_na=False, sep=delim)
    src = io.BytesIO(raw)
    try:
        if pairs is not None:
            width = max([len(pairs), *(len(r) for r in parsed[last + 1 :] if r)])
            names = [f"{g}{GROUP_SEP}{s}" if g and s else g or s for g, s in pairs]
            names += [""] * (width - len(names))
            names = _dedupe([n or f"column_{i + 1}" for i, n in enumerate(names)])
            df = pd.read_csv(
                src,
                engine="c",
                header=None,
                names=names,
                skiprows=last + 1,
                skip_blank_lines=False,
                **read_kw,
            )
            header_line = last
        elif has_header:
            if blank_lines or delim not in (",", "\t") or header_line:
                df = pd.read_csv(
                    src, engine="c", skiprows=header_line, skip_blank_lines=False, **read_kw
                )
            else:
                df = pd.read_csv(src, engine="pyarrow", **read_kw)
        else:
            df = pd.read_csv(
                src,
                engine="c",
                header=None,
                names=list(headerless),
                skiprows=header_line,
                skip_blank_lines=False,
                **read_kw,
            )
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputError(f"{p}: cannot read the {what} file as delimited text ({exc})") from None
    df.columns = [str(c).strip() for c in df.columns]
    # Spreadsheet rows: header at line header_line + 1 (1-based) → data from header_line + 2.
    first_row = header_line + (2 if has_header else 1)
    rows = first_row + np.arange(len(df), dtype=np.int64)
    if blank_lines or header_line or pairs is not None:
        blank = np.ones(len(df), dtype=bool)
        for c in df.columns:
            blank &= (df[c].astype("str").str.strip().fillna("") == "").to_numpy()
        if blank.any():
            df = df[~blank].reset_index(drop=True)
            rows = rows[~blank]
    log.debug(
        "%s: %d rows, encoding %s, delimiter %r, header line %d",
        p,
        len(df),
        enc,
        delim,
        header_line + 1,
    )
    combined = {}
    if pairs is not None:
        combined = {n: pr for n, pr in zip(df.columns, pairs, strict=False) if all(pr)}
    return Table(
        p,
        df,
        first_row,
        kind="csv",
        encoding=enc,
        has_header=has_header,
        _row_numbers=rows,
        combined=combined,
        title=[" ".join(c.strip() for c in r if c.strip()) for r in parsed[:header_line]],
    )


def _sheet_score(ws, index) -> tuple[int, list[str]]:
    """The best header score among a sheet's first rows, and that row's known headers."""
    best, names = 0, []
    for r in ws.iter_rows(max_row=_HEADER_SCAN_ROWS, values_only=True):
        sc = score_header(r, index)
        if sc > best:
            best = sc
            names = [str(c).strip() for c in r if c is not None and lookup_header(str(c), index)]
    return best, names


def _choose_sheet(wb, p: Path, what: str, index, section: str) -> tuple[object, str]:
    """The first sheet, unless it has no header row with known columns (an instructions sheet,
    填表说明) and exactly one other sheet has: that one, with a note. None or several such sheets:
    an :class:`InputError` naming the sheets, the one(s) that look like data and the key."""
    first = wb.worksheets[0]
    if not index or len(wb.worksheets) < 2:
        return first, ""
    score0, _ = _sheet_score(first, index)
    if score0 >= 2:
        return first, ""
    scored = [(ws.title, *_sheet_score(ws, index)) for ws in wb.worksheets[1:]]
    data = [(t, sc, names) for t, sc, names in scored if sc >= 2]
    key = f'[{section}] sheet = "{{}}"' if section else 'sheet = "{}" in its scenario section'
    sheets = ", ".join(repr(n) for n in wb.sheetnames)
    if len(data) == 1:
        title, _, names = data[0]
        note = (
            f"{p}: the first sheet {first.title!r} has no header row with known {what} columns; "
            f"read sheet {title!r} (headers {', '.join(names)}), the only one that has one. Say "
            f"so in the scenario to be sure: {key.format(title)}"
        )
        log.warning("%s", note)
        return wb[title], note
    if data:
        looks = "; ".join(f"{t!r} (headers {', '.join(n)})" for t, _, n in data)
        raise InputError(
            f"{p}: the first sheet {first.title!r} of the {what} workbook has no header row with "
            f"known columns, and several sheets look like data: {looks}. Sheets: {sheets}. Name "
            f"the one to read in the scenario: {key.format(data[0][0])}"
        )
    raise InputError(
        f"{p}: no sheet of the {what} workbook has a header row with known columns (sheets: "
        f"{sheets}). Name the sheet to read in the scenario, {key.format(wb.sheetnames[-1])}, "
        "and map its columns (see docs/inputs.md)"
    )


def sheets_to_read(
    path: str | Path,
    sheet: str | Sequence[str],
    *,
    what: str,
    aliases: Mapping[str, Sequence[str]],
    section: str = "",
) -> tuple[list[str], str]:
    """The sheets of one input file to read, and a note saying so ("" when there is no choice).

    ``sheet`` a list (``["5G", "4G"]``): those sheets. One name: that sheet. None given, and the
    file an ``.xlsx`` workbook whose first sheet and at least one other sheet each have a header
    row of known columns of this input (operators' lists split 移动广电 / 电信联通 or 5G / 4G):
    every such sheet, in workbook order, so that no sheet of sites is left unread. Otherwise
    ``[""]``: the file's one table (the first sheet, or the one data sheet after an instructions
    sheet, see :func:`read_table`)."""
    if isinstance(sheet, list | tuple):
        names = [str(s) for s in sheet if str(s)]
        if len(set(names)) != len(names):
            raise ConfigError(f"{path}: [{section}] sheet lists a sheet twice: {names!r}")
        return names or [""], ""
    if sheet:
        return [str(sheet)], ""
    p = Path(path)
    if p.suffix.lower() not in EXCEL_SUFFIXES or not p.is_file():
        return [""], ""
    index = alias_index(aliases or {})
    if not index:
        return [""], ""
    try:
        import openpyxl

        wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - read_table reports a broken workbook
        return [""], ""
    try:
        if len(wb.worksheets) < 2:
            return [""], ""
        scored = [(ws.title, *_sheet_score(ws, index)) for ws in wb.worksheets]
    finally:
        wb.close()
    first = scored[0]
    data = [(t, names) for t, sc, names in scored if sc >= 2 and sc * 2 >= first[1]]
    if first[1] < 2 or len(data) < 2:
        return [""], ""
    others = [t for t, _, _ in scored if t not in {d[0] for d in data}]
    note = (
        f"{p}: {len(data)} sheets have a header row of {what} columns: "
        + ", ".join(f"{t!r} ({', '.join(n[:4])}{', …' if len(n) > 4 else ''})" for t, n in data)
        + "; all are read, each row once"
        + (f" (not read: {', '.join(map(repr, others))})" if others else "")
        + f". To read one: [{section or 'its section'}] sheet = {data[0][0]!r}"
    )
    log.info("%s", note)
    return [t for t, _ in data], note


def _read_excel(p: Path, what: str, index, sheet: str, section: str = "") -> Table:
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - a declared dependency
        raise InputError("reading .xlsx needs openpyxl (pip install openpyxl)") from None
    try:
        wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for broken files
        raise InputError(
            f"{p}: cannot open the {what} workbook ({type(exc).__name__}: {exc})"
        ) from None
    try:
        if sheet:
            if sheet not in wb.sheetnames:
                raise ConfigError(
                    f"{p}: no sheet {sheet!r}; the workbook has {', '.join(map(repr, wb.sheetnames))}"
                )
            ws = wb[sheet]
            note = ""
        else:
            ws, note = _choose_sheet(wb, p, what, index, section)
        values = list(ws.iter_rows(values_only=True))
    finally:
        wb.close()
    if not values:
        raise InputError(f"{p}: the {what} sheet {ws.title!r} is empty")
    xml = sheet_xml(p, ws.title)
    refuse_uncomputed_formulas(p, xml, ws.title, values)
    head = values[:_HEADER_SCAN_ROWS]
    non_blank = [i for i, r in enumerate(head) if any(c not in (None, "") for c in r)]
    header_line = non_blank[0] if non_blank else 0
    if index:
        scores = [score_header(r, index) for r in head]
        best = max(scores)
        if best >= 2 and scores[header_line] < best:
            header_line = scores.index(best)
    header_line, pairs = _two_row_header(values, header_line, index)
    filled = fill_merged_body(xml, values, header_line + 1)
    if filled:
        log.info("%s: %d cell(s) under merged cells take the merged value", p, filled)
    if pairs is None:
        header = [("" if c is None else str(c).strip()) for c in values[header_line]]
    else:
        header = [f"{g}{GROUP_SEP}{s}" if g and s else g or s for g, s in pairs]
    width = len(header)
    # unnamed columns get a placeholder so nothing collides
    header = [h or f"column_{i + 1}" for i, h in enumerate(header)]
    body = values[header_line + 1 :]
    rows = np.arange(len(body), dtype=np.int64) + header_line + 2
    data = [tuple(r[:width]) + (None,) * (width - len(r)) for r in body]
    df = (
        pd.DataFrame.from_records(data, columns=_dedupe(header))
        if data
        else pd.DataFrame(columns=_dedupe(header))
    )
    df = df.astype(object)
    blank = np.array(
        [all(c is None or (isinstance(c, str) and not c.strip()) for c in r) for r in data],
        dtype=bool,
    )
    if blank.any():
        df = df[~blank].reset_index(drop=True)
        rows = rows[~blank]
    combined = {}
    if pairs is not None:
        combined = {name: pair for name, pair in zip(df.columns, pairs, strict=False) if all(pair)}
        log.info(
            "%s: the header spans rows %d–%d (group titles over sub-headers); columns read as %s",
            p,
            header_line,
            header_line + 1,
            ", ".join(map(repr, combined)),
        )
    return Table(
        p,
        df,
        header_line + 2,
        title=[
            " ".join(str(c).strip() for c in r if c is not None and str(c).strip())
            for r in values[:header_line]
        ],
        kind="xlsx",
        _row_numbers=rows,
        combined=combined,
        notes=[note] if note else [],
    )


def _two_row_header(
    values: Sequence[Sequence[object]], header_line: int, index
) -> tuple[int, list[tuple[str, str]] | None]:
    """The last header row and the (group, sub) pairs when the header found at ``header_line``
    spans two rows (it and the next, or the previous and it; :func:`.headers.two_row_header`),
    else ``(header_line, None)``."""
    if not index:
        return header_line, None

    def score(pairs: list[tuple[str, str]]) -> int:
        hits = set()
        for g, s in pairs:
            hit = (
                lookup_pair(g, s, index)
                if g and s
                else lookup_header(g or s, index)
                if g or s
                else None
            )
            if hit:
                hits.add(hit[0])
        return len(hits)

    for upper in (header_line, header_line - 1):
        if upper < 0 or upper + 1 >= len(values):
            continue
        pairs = two_row_header(values[upper], values[upper + 1], values[upper + 2 :], score)
        if pairs is not None:
            return upper + 1, pairs
    return header_line, None


def _dedupe(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        if n in seen:
            seen[n] += 1
            out.append(f"{n}.{seen[n]}")
        else:
            seen[n] = 0
            out.append(n)
    return out


def _read_gis(p: Path, what: str, layer: str) -> Table:
    import pyogrio

    kw: dict = {}
    if p.suffix.lower() == ".shp":
        enc = shapefile_encoding(p)
        if enc:
            kw["encoding"] = enc
    if layer:
        layers = [str(n) for n in pyogrio.list_layers(p)[:, 0]]
        if layer not in layers:
            raise ConfigError(
                f"{p}: no layer {layer!r}; the file has {', '.join(map(repr, layers))}"
            )
        kw["layer"] = layer
    try:
        gdf, notes = read_gis_dataframe(p, kw)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - GDAL errors come in many types
        raise InputError(
            f"{p}: cannot read the {what} file ({type(exc).__name__}: {exc})"
        ) from None
    geom = gdf.geometry if "geometry" in gdf.columns else None
    crs = gdf.crs if geom is not None else None
    df = pd.DataFrame(gdf.drop(columns="geometry") if geom is not None else gdf)
    df.columns = [str(c) for c in df.columns]
    return Table(
        p,
        df.reset_index(drop=True),
        2,
        geometry=None if geom is None else geom.reset_index(drop=True),
        crs=crs,
        kind="gis",
        dbf_names=_is_dbf(p, kw.get("layer", "")),
        notes=notes,
    )


def _is_dbf(p: Path, layer: str) -> bool:
    """Whether a GIS file's attributes come from a DBF (a shapefile, alone or zipped)."""
    suffix = p.suffix.lower()
    if suffix in (".shp", ".dbf"):
        return True
    if suffix == ".zip":
        import pyogrio

        try:
            return pyogrio.read_info(p, layer=layer or None).get("driver") == "ESRI Shapefile"
        except Exception:  # noqa: BLE001 - GDAL errors come in many types
            return False
    return False


def _read_parquet(p: Path, what: str) -> Table:
    import pyarrow.parquet as pq

    try:
        meta = pq.read_schema(p).metadata or {}
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"{p}: cannot read the {what} Parquet file ({exc})") from None
    if b"geo" in meta:
        import geopandas as gpd

        gdf = gpd.read_parquet(p)
        geom = gdf.geometry.reset_index(drop=True)
        df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).reset_index(drop=True)
        return Table(p, df, 2, geometry=geom, crs=gdf.crs, kind="parquet")
    df = pd.read_parquet(p).reset_index(drop=True)
    df.columns = [str(c) for c in df.columns]
    return Table(p, df, 2, kind="parquet")
