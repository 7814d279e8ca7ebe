"""Matching a file's headers to canonical columns: aliases, units in headers, mapping errors.

Each canonical column has a list of accepted header spellings in English and Chinese; headers are
compared after Unicode NFKC normalisation, lower-casing, and dropping spaces, underscores, hyphens
and dots. A unit written in the header, in brackets (``挂高(m)``, ``EIRP（W）``,
``家庭户数(万户)``) or as a known suffix (``height_m``, ``eirp_w``), is kept with the match and
used to convert the values. A shapefile's field names cut at 10 bytes and a two-row header's
combined names (:mod:`.headers`) are understood. Reading the file is :mod:`.tables`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ConfigError, InputError
from ._common import log, norm_text
from .headers import GROUP_SEP, two_level_candidates

if TYPE_CHECKING:
    from .tables import Table

__all__ = [
    "ColumnMap",
    "match_columns",
    "match_table",
    "split_header",
    "missing_columns_error",
    "mapping_hint",
    "dbf_truncations",
    "DBF_NAME_BYTES",
    "alias_index",
    "lookup_header",
    "lookup_pair",
    "score_header",
]

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
    #: Canonical column → the other headers that matched it too (the one in ``found`` won by
    #: alias order); empty for a column mapped in the scenario.
    others: dict[str, list[str]] = field(default_factory=dict)

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


def alias_index(
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


def lookup_header(
    header: str, index: dict[str, tuple[str, int, str]]
) -> tuple[str, int, str] | None:
    key, unit = split_header(header)
    if key in index:
        canon, prio, implied = index[key]
        return canon, prio, unit or implied
    for suf in _UNIT_SUFFIXES:
        if key.endswith(suf) and len(key) > len(suf) and key[: -len(suf)] in index:
            canon, prio, implied = index[key[: -len(suf)]]
            return canon, prio, unit or suf
    return None


def lookup_pair(group: str, sub: str, index) -> tuple[str, int, str] | None:
    """A column named by a group title over a sub-header: the first of
    :func:`.headers.two_level_candidates` that is a known column; the unit is the sub-header's,
    else the group's (``固定宽带用户(万户)`` over ``千兆及以上``: 万户)."""
    gk, gu = split_header(group)
    sk, su = split_header(sub)
    for cand in two_level_candidates(gk, sk):
        hit = lookup_header(cand, index)
        if hit is not None:
            return hit[0], hit[1], su or gu or hit[2]
    return None


def _lookup_column(header: str, combined: Mapping[str, tuple[str, str]], index):
    pair = combined.get(header)
    if pair and pair[0] and pair[1]:
        return lookup_pair(pair[0], pair[1], index)
    return lookup_header(header, index)


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
    _one_position(table, cmap, where, overrides or {})
    if not table.combined:
        return cmap
    index = alias_index(aliases)
    used = {h for h, _ in cmap.found.values()}
    lost, ignored = [], []
    for name, (group, sub) in table.combined.items():
        if not (group and sub) or name in used or name not in table.df.columns:
            continue
        col = table.df[name]
        if col.isna().all() or col.astype(str).str.strip().eq("").all():
            continue
        known = lookup_header(group, index)
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
        section = _section(where)
        raise InputError(
            f"{table.path}: the header spans two rows (group titles merged over sub-headers) and "
            f"these columns match no known {what or 'input'} column: {names}; their group "
            f"{', '.join(groups)} is one, so they are not left out silently. Map each to the "
            f"column it holds in the scenario file, e.g.\n    [{section}]\n    <column> = "
            f'"{lost[0][0]}"\nor delete the columns from the file. Known columns: '
            f"{', '.join(aliases)}."
        )
    return cmap


#: Columns that must not be chosen among several by alias order: two longitude columns
#: (``经度`` beside ``经度WGS84``, one of them often GCJ-02) place every row differently.
POSITION_COLUMNS = ("lon", "lat")


def _one_position(table: Table, cmap: ColumnMap, where: str, overrides: Mapping[str, str]) -> None:
    """Refuse a file with two filled longitude (or latitude) columns that the scenario does not
    choose between: which one is right is not in the file."""
    for canon in POSITION_COLUMNS:
        if canon not in cmap or canon in overrides:
            continue  # a column the scenario maps is its choice
        named = [cmap.header(canon), *cmap.others.get(canon, [])]
        # a header given twice is read as '经度' and '经度.1'
        again = [
            c
            for c in table.df.columns
            if any(re.fullmatch(re.escape(h) + r"\.\d+", str(c)) for h in named)
        ]
        filled = [
            h
            for h in [*cmap.others.get(canon, []), *again]
            if h in table.df.columns
            and not table.df[h].isna().all()
            and not table.df[h].astype(str).str.strip().eq("").all()
        ]
        if not filled:
            continue
        chosen = cmap.header(canon)
        names = ", ".join(repr(h) for h in [chosen, *filled])
        section = _section(where)
        raise InputError(
            f"{table.path}: {len(filled) + 1} columns hold a {LONG_NAMES[canon]}: {names}"
            + (" (a header given twice is read with .1, .2 added)" if again else "")
            + "; which "
            "one places the rows is not in the file (one may be GCJ-02 or another datum), so "
            f"gigacov does not guess. Choose in the scenario file, e.g.\n    [{section}]\n    "
            f'lon = "<longitude header>"\n    lat = "<latitude header>"\nand declare its datum '
            "with the section's crs key if it is not WGS 84."
        )


LONG_NAMES = {"lon": "longitude", "lat": "latitude"}


def _section(where: str) -> str:
    """The mapping table named in ``where`` (``"f.csv: [key_places.columns]"`` →
    ``"key_places.columns"``)."""
    m = re.search(r"\[([^\]]+)\]", where)
    return m.group(1) if m else "<input>.columns"


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
    index = alias_index(aliases, truncated)
    best: dict[str, tuple[int, str, str]] = {}
    matched: dict[str, list[str]] = {}
    for h in headers:
        hit = _lookup_column(h, combined, index)
        if hit is None:
            continue
        canon, prio, unit = hit
        matched.setdefault(canon, []).append(h)
        if canon not in best or prio < best[canon][0]:
            best[canon] = (prio, h, unit)
    found = {k: (v[1], v[2]) for k, v in best.items()}
    others = {k: [h for h in hs if h != best[k][1]] for k, hs in matched.items() if len(hs) > 1}
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
        others.pop(canon, None)
    return ColumnMap(found, headers, others)


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
        hit = lookup_header(str(c), index)
        if hit:
            hits.add(hit[0])
    return len(hits)
