"""Reading tabular and GIS files as users bring them, and finding their columns.

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

Columns are matched by *alias*: each canonical column has a list of accepted header spellings in
English and Chinese; headers are compared after Unicode NFKC normalisation, lower-casing, and
dropping spaces, underscores, hyphens and dots. A unit written in the header, in brackets
(``挂高(m)``, ``EIRP（W）``, ``家庭户数(万户)``) or as a known suffix (``height_m``, ``eirp_w``),
is kept with the match and used to convert the values.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj

from ..errors import ConfigError, InputError
from ._common import log, norm_text, require_regular_file
from .headers import GROUP_SEP, two_level_candidates, two_row_header

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
# Headers and aliases
# ------------------------------------------------------------------------------------------------

_BRACKET_UNIT_RE = re.compile(r"^(.*?)[\s]*[(\[（【]([^)\]）】]*)[)\]）】]\s*$")
#: Unit suffixes recognised at the end of a header (after normalisation), longest first.
_UNIT_SUFFIXES = (
    "万户",
    "万人",
    "万个",
    "万",
    "dbm",
    "dbi",
    "mhz",
    "ghz",
    "khz",
    "hz",
    "deg",
    "度",
    "米",
    "m",
    "w",
    "个",
    "户",
    "人",
    "°",
)


def split_header(header: str) -> tuple[str, str]:
    """``"挂高(m)"`` → ``("挂高", "m")``; ``"EIRP"`` → ``("eirp", "")`` (normalised name, unit)."""
    h = unicodedata.normalize("NFKC", str(header)).strip()
    m = _BRACKET_UNIT_RE.match(h)
    if m and m.group(1).strip():
        return norm_text(m.group(1)), m.group(2).strip().lower()
    return norm_text(h), ""


@dataclass(frozen=True)
class ColumnMap:
    """Canonical column → (header as found in the file, unit from the header or "")."""

    found: dict[str, tuple[str, str]]
    headers: list[str]

    def __contains__(self, key: str) -> bool:
        return key in self.found

    def header(self, key: str) -> str:
        return self.found[key][0]

    def unit(self, key: str) -> str:
        return self.found[key][1]


#: Bytes a DBF field name holds: shapefile writers cut longer names there.
DBF_NAME_BYTES = 10


def dbf_truncations(name: str) -> list[str]:
    """``name`` as a shapefile writer leaves it: cut at :data:`DBF_NAME_BYTES` bytes in GBK and in
    UTF-8 (a character split by the cut is dropped), when that is shorter than ``name``:
    ``"行政区划代码"`` → ``["行政区划代", "行政区"]``, ``"population_total"`` → ``["population"]``."""
    out = []
    for enc in ("gbk", "utf-8"):
        try:
            raw = name.encode(enc)
        except UnicodeEncodeError:
            continue
        if len(raw) > DBF_NAME_BYTES:
            cut = raw[:DBF_NAME_BYTES].decode(enc, errors="ignore").strip()
            if cut and cut not in out:
                out.append(cut)
    return out


def _alias_index(
    aliases: Mapping[str, Sequence[str]], truncated: bool = False
) -> dict[str, tuple[str, int, str]]:
    """Normalised alias → (canonical, priority, implied unit); with ``truncated`` also every
    alias cut as a DBF field name (:func:`dbf_truncations`), after all the whole aliases so that
    a whole alias always wins."""
    index: dict[str, tuple[str, int, str]] = {}
    for canon, names in aliases.items():
        for prio, name in enumerate([canon, *names]):
            key, unit = split_header(name)
            index.setdefault(key, (canon, prio, unit))
    if truncated:
        cuts: dict[str, list[tuple[str, int, str]]] = {}
        for canon, names in aliases.items():
            for prio, name in enumerate([canon, *names]):
                unit = split_header(name)[1]
                for cut in dbf_truncations(name):
                    key = split_header(cut)[0]
                    if key:
                        cuts.setdefault(key, []).append((canon, len(names) + 1 + prio, unit))
        for key, hits in cuts.items():
            if len({h[0] for h in hits}) == 1:  # a cut two columns share names neither
                index.setdefault(key, min(hits, key=lambda h: h[1]))
    return index


def _lookup(header: str, index: dict[str, tuple[str, int, str]]) -> tuple[str, int, str] | None:
    key, unit = split_header(header)
    if key in index:
        canon, prio, implied = index[key]
        return canon, prio, unit or implied
    for suf in _UNIT_SUFFIXES:
        if key.endswith(suf) and len(key) > len(suf) and key[: -len(suf)] in index:
            canon, prio, implied = index[key[: -len(suf)]]
            return canon, prio, unit or suf
    return None


def _lookup_pair(group: str, sub: str, index) -> tuple[str, int, str] | None:
    """A column named by a group title over a sub-header: the first of
    :func:`.headers.two_level_candidates` that is a known column; the unit is the sub-header's,
    else the group's (``固定宽带用户(万户)`` over ``千兆及以上``: 万户)."""
    gk, gu = split_header(group)
    sk, su = split_header(sub)
    for cand in two_level_candidates(gk, sk):
        hit = _lookup(cand, index)
        if hit is not None:
            return hit[0], hit[1], su or gu or hit[2]
    return None


def _lookup_column(header: str, combined: Mapping[str, tuple[str, str]], index):
    pair = combined.get(header)
    if pair and pair[0] and pair[1]:
        return _lookup_pair(pair[0], pair[1], index)
    return _lookup(header, index)


def _header_unit(header: str, combined: Mapping[str, tuple[str, str]]) -> str:
    pair = combined.get(header)
    if pair and pair[0] and pair[1]:
        return split_header(pair[1])[1] or split_header(pair[0])[1]
    return split_header(header)[1]


def match_table(
    table: Table,
    aliases: Mapping[str, Sequence[str]],
    overrides: Mapping[str, str] | None = None,
    *,
    where: str = "",
    what: str = "",
) -> ColumnMap:
    """:func:`match_columns` for a table as read: a shapefile's cut field names and a two-row
    header's combined names are understood. A column of a two-row header whose group title is a
    known column but which matches none itself (``固定宽带用户(万户)/农村``) is an
    :class:`InputError` naming the file and the columns, never dropped silently; other unmatched
    combined columns are logged."""
    cmap = match_columns(
        table.df.columns,
        aliases,
        overrides,
        where=where,
        truncated=table.dbf_names,
        combined=table.combined,
    )
    if not table.combined:
        return cmap
    index = _alias_index(aliases)
    used = {h for h, _ in cmap.found.values()}
    lost, ignored = [], []
    for name, (group, sub) in table.combined.items():
        if not (group and sub) or name in used or name not in table.df.columns:
            continue
        col = table.df[name]
        if col.isna().all() or col.astype(str).str.strip().eq("").all():
            continue
        known = _lookup(group, index)
        (lost if known is not None else ignored).append((name, known))
    if ignored:
        log.warning(
            "%s: the two-row header's columns %s match no known %s column and are not used",
            table.path,
            ", ".join(repr(n) for n, _ in ignored),
            what or "input",
        )
    if lost:
        names = ", ".join(repr(n) for n, _ in lost)
        groups = sorted({f"{n.split(GROUP_SEP)[0]!r} ({k[0]})" for n, k in lost if k})
        section = where.strip("[]") or "<input>.columns"
        raise InputError(
            f"{table.path}: the header spans two rows (group titles merged over sub-headers) and "
            f"these columns match no known {what or 'input'} column: {names}; their group "
            f"{', '.join(groups)} is one, so they are not left out silently. Map each to the "
            f"column it holds in the scenario file, e.g.\n    [{section}]\n    <column> = "
            f'"{lost[0][0]}"\nor delete the columns from the file. Known columns: '
            f"{', '.join(aliases)}."
        )
    return cmap


def match_columns(
    headers: Sequence[str],
    aliases: Mapping[str, Sequence[str]],
    overrides: Mapping[str, str] | None = None,
    *,
    where: str = "",
    truncated: bool = False,
    combined: Mapping[str, tuple[str, str]] | None = None,
) -> ColumnMap:
    """Map a file's headers to canonical columns.

    ``aliases`` maps each canonical name to accepted spellings (the canonical name itself is
    always accepted). When several headers match one canonical column, the one whose alias comes
    first in its list wins. ``overrides`` (``[sites] columns`` in the scenario) maps canonical
    names to exact headers and wins over aliases. ``truncated`` (a shapefile's DBF,
    :attr:`Table.dbf_names`): every alias cut at 10 bytes is accepted too (``行政区划代``).
    ``combined`` (:attr:`Table.combined`): the (group, sub-header) of columns named from a
    two-row header, matched by combining the two.
    """
    headers = [str(h) for h in headers]
    combined = combined or {}
    index = _alias_index(aliases, truncated)
    best: dict[str, tuple[int, str, str]] = {}
    for h in headers:
        hit = _lookup_column(h, combined, index)
        if hit is None:
            continue
        canon, prio, unit = hit
        if canon not in best or prio < best[canon][0]:
            best[canon] = (prio, h, unit)
    found = {k: (v[1], v[2]) for k, v in best.items()}
    for canon, header in (overrides or {}).items():
        if canon not in aliases:
            import difflib

            close = difflib.get_close_matches(canon, list(aliases), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                f"{where} {canon} = {header!r}: unknown column name {canon!r}{hint} "
                f"(valid: {', '.join(aliases)})"
            )
        if not isinstance(header, str) or header not in headers:
            raise ConfigError(
                f"{where} {canon} = {header!r}, but the file has no such header; "
                f"its headers are {', '.join(map(repr, headers))}"
            )
        found = {k: v for k, v in found.items() if v[0] != header}
        found[canon] = (header, _header_unit(header, combined))
    return ColumnMap(found, headers)


def mapping_hint(mapping: str, key: str) -> str:
    """The exact scenario syntax that maps column ``key`` of the file in ``mapping``.

    ``mapping`` is the TOML table, e.g. ``"sites.columns"`` or ``"boundaries.villages_columns"``.
    """
    return f'[{mapping}]\n    {key} = "<the header in your file>"'


def missing_columns_error(
    path: Path,
    what: str,
    missing: Sequence[str],
    cmap: ColumnMap,
    aliases: Mapping[str, Sequence[str]],
    mapping: str,
) -> InputError:
    """A required column no header matches: the file, its headers, the accepted headers, and the
    scenario lines that map it (``mapping``: the TOML table, e.g. ``"sites.columns"``)."""
    lines = [
        f"{path}: the {what} file has no {' / '.join(missing)} column.",
        f"Columns found: {', '.join(map(repr, cmap.headers)) or '(none)'}.",
    ]
    for m in missing:
        lines.append(f"Accepted headers for {m}: {', '.join([m, *aliases[m]])}.")
    lines.append(
        "Rename the column, or map it in the scenario file:\n    "
        + mapping_hint(mapping, missing[0])
    )
    return InputError(" ".join(lines))


def score_header(cells: Sequence[object], index: dict[str, tuple[str, int, str]]) -> int:
    hits = set()
    for c in cells:
        if c is None or (isinstance(c, float) and np.isnan(c)):
            continue
        hit = _lookup(str(c), index)
        if hit:
            hits.add(hit[0])
    return len(hits)


# ------------------------------------------------------------------------------------------------
# Encoding
# ------------------------------------------------------------------------------------------------


def detect_encoding(raw: bytes, path: Path | str, declared: str = "") -> str:
    """The text encoding of ``raw``: declared, else BOM → strict UTF-8 → GB18030 → charset-normalizer.

    Raises :class:`InputError` naming the file when nothing decodes it.
    """
    if declared:
        try:
            raw.decode(declared)
        except LookupError:
            raise ConfigError(
                f"{path}: unknown encoding {declared!r} (e.g. 'utf-8', 'gbk', 'gb18030')"
            ) from None
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{path}: not valid {declared} text ({exc.reason} at byte {exc.start}); "
                "remove the encoding setting to let gigacov detect it"
            ) from None
        return declared
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        utf8_error = exc
    try:
        raw.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(raw[: 1 << 20]).best()
    if best is not None:
        try:
            raw.decode(best.encoding)
            return best.encoding
        except (UnicodeDecodeError, LookupError):
            pass
    raise InputError(
        f"{path}: cannot tell the text encoding (not UTF-8: {utf8_error.reason} at byte "
        f'{utf8_error.start}; not GB18030 either); save it as UTF-8 or set encoding = "..." in '
        "its scenario section"
    )


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
    index = _alias_index(aliases or {})
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


_CJK_UTF8 = re.compile(rb"[\xe4-\xe9][\x80-\xbf]{2}")


def _decode_mixed(raw: bytes, p: Path, what: str) -> str | None:
    """Text of a file whose lines mix UTF-8 and GBK/GB18030, each line decoded on its own.

    Called when the file as a whole is not UTF-8 but decodes as GB18030. A line counts as UTF-8
    when it is valid UTF-8 and holds at least one Chinese character in UTF-8's three-byte form
    (GBK text almost never passes both tests). Returns None when the file is not mixed. The
    lines decoded as UTF-8 are logged, so a user can check them.
    """
    lines = raw.split(b"\n")
    utf8_rows: list[int] = []
    gbk_rows = 0
    for i, line in enumerate(lines):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            gbk_rows += 1
            continue
        if _CJK_UTF8.search(line):
            utf8_rows.append(i)
    if not utf8_rows or not gbk_rows:
        return None
    utf8 = set(utf8_rows)
    out = []
    for i, line in enumerate(lines):
        if i in utf8:
            out.append(line.decode("utf-8"))
            continue
        try:
            out.append(line.decode("gb18030"))
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{p}: line {i + 1} of the {what} file is neither UTF-8 nor GBK/GB18030 text "
                f"({exc.reason} at byte {exc.start}); fix or remove that line"
            ) from None
    shown = ", ".join(str(r + 1) for r in utf8_rows[:10]) + (" …" if len(utf8_rows) > 10 else "")
    log.warning(
        "%s: the %s file mixes text encodings: %d line(s) are UTF-8 (lines %s), %d are "
        "GBK/GB18030; each line was decoded in its own encoding — save the file in one "
        "encoding (UTF-8) to be sure",
        p,
        what,
        len(utf8_rows),
        shown,
        gbk_rows,
    )
    return "\n".join(out)


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
            mixed = _decode_mixed(raw, p, what)
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
    )


def _sheet_score(ws, index) -> tuple[int, list[str]]:
    """The best header score among a sheet's first rows, and that row's known headers."""
    best, names = 0, []
    for r in ws.iter_rows(max_row=_HEADER_SCAN_ROWS, values_only=True):
        sc = score_header(r, index)
        if sc > best:
            best = sc
            names = [str(c).strip() for c in r if c is not None and _lookup(str(c), index)]
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
    head = values[:_HEADER_SCAN_ROWS]
    non_blank = [i for i, r in enumerate(head) if any(c not in (None, "") for c in r)]
    header_line = non_blank[0] if non_blank else 0
    if index:
        scores = [score_header(r, index) for r in head]
        best = max(scores)
        if best >= 2 and scores[header_line] < best:
            header_line = scores.index(best)
    header_line, pairs = _two_row_header(values, header_line, index)
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
                _lookup_pair(g, s, index) if g and s else _lookup(g or s, index) if g or s else None
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


def _shapefile_encoding(p: Path) -> str | None:
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


def _read_gis(p: Path, what: str, layer: str) -> Table:
    import pyogrio

    kw: dict = {}
    if p.suffix.lower() == ".shp":
        enc = _shapefile_encoding(p)
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
        gdf = pyogrio.read_dataframe(p, **kw)
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
