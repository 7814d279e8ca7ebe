"""Fixed-broadband and mobile-user statistics per county or village and year (docs/design.md §4).

Columns are found by alias (``区划代码``, ``年份``, ``家庭户数``, ``千兆覆盖家庭数``, ``PON端口数``,
``10G-PON端口数``, ``千兆用户数``, ``5G用户数`` ...). A unit of ``万`` in a header (``家庭户数(万户)``)
multiplies the column by 10,000. Codes are 6-digit counties or 12-digit villages; a 12-digit code
ending in ``000000`` is its county. Rows are checked in this order (first failure wins):

* ``missing_value`` (no code), ``unknown_admin_code`` (malformed, or matches no boundary: a
  county code must be a county (or city / province) of the boundary file, a village code a
  village of the villages file — or, without a villages file, start with a county of the region);
  rows of units outside ``[scenario] region`` that the boundary file *does* know are *skipped*;
* ``not_a_number`` for the year or a count; ``out_of_range`` for a year outside 1990–2100, a
  negative count, or a numerator above its denominator (FTTx- or gigabit-covered households
  above households, 10G-PON ports above PON ports, 500 M+ or 1000 M users above fixed users,
  1000 M users above 500 M+ users, 5G users above mobile users);
* ``duplicate_id``: the same unit and year twice (the first row is kept).

Rows of another year than ``[scenario] year`` are *skipped* (``other_year``), and so are the
totals of a city or the province, a ``合计`` row without a code and a township's row beside its
villages' (``total_row``: their figures are sums the indicators compute themselves), notes under
the table (``note_row``: ``注：…``, ``填报单位：…``) and breakdowns of a unit (``part_row``:
``其中：农村`` in the operator cell). Without a year column the scenario year is used and counted
as a default. A unit given only in a title row (``单位：万户、个``) applies to the count columns
whose headers give none.

Rows of several operators (an operator column, or one sheet per operator named after it) are
summed per unit (:mod:`gigacov.ingest.broadband_operators`); a row of the unit's own beside them
(operator blank or ``合计``) gives its household counts and is checked against the sum, never
added to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..operator_names import OPERATORS
from ..rundir import sha256_file
from ..scenario import Scenario
from ._common import Rejects, Tracker, as_text, log, parse_numbers
from .boundaries import Boundaries, normalise_codes
from .broadband_columns import BROADBAND_ALIASES
from .broadband_operators import COUNT_COLUMNS, quantum, say_missing, sum_operators
from .columns import ColumnMap
from .model import BROADBAND_COLUMNS, InputReport
from .tables import match_table, missing_columns_error, read_table, sheets_to_read
from .vocab import map_unique, normalise_operator

__all__ = ["BROADBAND_ALIASES", "COUNT_COLUMNS", "RATIO_CHECKS", "read_broadband"]

#: Operators a broadband row may name (the four, and China Tower, which reports no users).
KNOWN_OPERATORS = [*OPERATORS, "China Tower"]
#: Words of an operator cell that make the row a breakdown of its unit (其中：农村), not an operator.
PART_WORDS = r"其中|农村|乡村|城镇|城市|城区|家庭|政企|集团客户|个人|住宅|商企"

#: Words that make a row a total (合计) rather than a unit's or an operator's own figures.
TOTAL_WORDS = ("合计", "总计", "小计", "全市", "全省", "汇总", "total", "全部")

#: (numerator, denominator): numerator must not exceed denominator.
RATIO_CHECKS = [
    ("fttx_households_covered", "households"),
    ("gigabit_households_covered", "households"),
    ("pon_10g_ports", "pon_ports"),
    ("users_500m_plus", "fixed_users"),
    ("users_1000m_plus", "fixed_users"),
    ("users_1000m_plus", "users_500m_plus"),
    ("users_5g", "mobile_users"),
]


def _count_unit(num: float, unit: str) -> float | None:
    u = unit.strip().lower()
    if u in ("万", "万户", "万人", "万个"):
        return num * 1e4
    if u in ("户", "人", "个", "家", "口"):
        return num
    return None


def read_broadband(
    scn: Scenario, bnd: Boundaries, rejects: Rejects, hashes: dict[str, str]
) -> tuple[pd.DataFrame, InputReport, list[str]]:
    """Read ``[broadband] path`` (see the module docstring).

    A workbook whose sheets each hold statistics (``[broadband] sheet = ["中国移动", "中国电信"]``,
    or no ``sheet`` and several sheets with a header row of statistics columns) is read sheet by
    sheet with the same settings, each row counted once; a sheet without an operator column
    whose name is an operator's (``中国电信``, ``电信``, ``CTCC``) holds that operator's rows, and
    the operators' rows are summed per unit like the rows of one sheet."""
    sec = scn.broadband
    sheets, note = sheets_to_read(
        sec.path,
        sec.sheet,
        what="broadband statistics",
        aliases=BROADBAND_ALIASES,
        section="broadband",
    )
    several = len(sheets) > 1
    parts = [
        _read_rows(scn, bnd, rejects, hashes, sh, f"{sec.path}[{sh}]" if several else "", several)
        for sh in sheets
    ]
    first = parts[0]
    report = InputReport(input="broadband", path=first.report.path)
    warnings = [note] if note else []
    for part in parts:
        report.add(part.report)
        warnings.extend(part.warnings)
    rows = pd.concat([p.rows for p in parts], ignore_index=True)
    if several:
        _refuse_sheets_overlapping(rows, first.path)
    out = sum_operators(rows, first.path, warnings)
    say_missing(rows, out, first.cmap, first.path, warnings)
    report.warnings.extend(warnings)
    out = out[list(BROADBAND_COLUMNS)].reset_index(drop=True)
    log.info(
        "broadband: %d rows read, %d used, %d rejected, %d skipped",
        report.read,
        report.used,
        report.rejected,
        report.skipped,
    )
    return out, report, warnings


@dataclass
class _Rows:
    """One sheet's (or the file's one table's) rows in use, before the operators are summed."""

    rows: pd.DataFrame
    report: InputReport
    warnings: list[str]
    cmap: ColumnMap
    path: Path


def _refuse_sheets_overlapping(rows: pd.DataFrame, path: Path) -> None:
    """Two sheets giving the same unit, year and operator (a copied sheet, or sheets that are
    not one operator's each): which to use is not in the file."""
    key = ["admin_code", "year", "_op"]
    dup = rows.duplicated(key, keep=False)
    if not dup.any():
        return
    ex = rows[dup].groupby(key, sort=False)["_sheet"].agg(lambda v: " and ".join(map(repr, v)))
    (code, year, op), sheets = next(iter(ex.items()))
    raise InputError(
        f"{path}: sheets {sheets} both give unit {code}, year {year}"
        f"{f', operator {op}' if op else ''} ({int(dup.sum())} rows in all); each sheet must "
        "hold other units, years or operators (name each sheet after its operator, give an "
        'operator column, or read one sheet: [broadband] sheet = "…")'
    )


#: How a note under a statistics table begins.
_NOTE_START = re.compile(
    r"\s*(注|备注|说明|填报\w{0,4}|填表\w{0,3}|制表\w{0,3}|审核\w{0,3}|负责人|联系人|联系电话|"
    r"数据来源|资料来源|来源|统计口径|口径)"
    r"\s*[0-9一二三四五六七八九十、.．:：]"
)

#: A unit declared in a title row: 单位：万户、个 / （单位：万户） / 计量单位:万.
_TITLE_UNIT = re.compile(r"单位\s*[:：]\s*([^\s)）]+)")
PORT_COLUMNS = ("pon_ports", "pon_10g_ports")


def _title_units(table, cmap: ColumnMap, warnings: list[str]) -> set[str]:
    """The count columns a title row's unit puts in 万 (``单位：万户、个``): those whose header gives
    no unit of its own — households and users for 万户 / 万人, ports too for 万个 or a bare 万.
    Said in a warning, so that a ×10,000 is never a surprise."""
    text = " ".join(table.title)
    m = _TITLE_UNIT.search(text)
    if not m or "万" not in m.group(1):
        return set()
    units = re.split(r"[、,，/;；]", m.group(1))
    wan_ports = any(u.strip() in ("万", "万个", "万端口") for u in units)
    wan_counts = any(u.strip().startswith("万") and u.strip() not in ("万个",) for u in units)
    cols = {
        c
        for c in COUNT_COLUMNS
        if c in cmap and not cmap.unit(c) and (wan_ports if c in PORT_COLUMNS else wan_counts)
    }
    if cols:
        warnings.append(
            f"{table.path}: the title says {m.group(0)!r}: "
            f"{', '.join(repr(cmap.header(c)) for c in sorted(cols))} (no unit in their headers) "
            "are read in 万 (×10,000)"
            + ("; ports as given" if any(c in cmap for c in PORT_COLUMNS) and not wan_ports else "")
        )
    return cols


def _read_rows(
    scn: Scenario,
    bnd: Boundaries,
    rejects: Rejects,
    hashes: dict[str, str],
    sheet: str,
    label: str,
    by_sheet: bool,
) -> _Rows:
    """The rows of one sheet of ``[broadband] path`` (``sheet`` "": the file's one table),
    checked; ``label`` names the sheet in the row lists."""
    sec = scn.broadband
    table = read_table(
        sec.path,
        what="broadband statistics",
        aliases=BROADBAND_ALIASES,
        section="broadband",
        sheet=sheet,
        encoding=sec.encoding,
    )
    hashes[str(table.path)] = sha256_file(table.path)
    warnings: list[str] = list(table.notes)
    cmap = match_table(
        table,
        BROADBAND_ALIASES,
        sec.columns,
        where=f"{table.path}: [broadband.columns]",
        what="broadband statistics",
    )
    if "admin_code" not in cmap:
        raise missing_columns_error(
            table.path,
            "broadband statistics",
            ["admin_code"],
            cmap,
            BROADBAND_ALIASES,
            "broadband.columns",
        )
    counts_present = [c for c in COUNT_COLUMNS if c in cmap]
    if not counts_present:
        raise missing_columns_error(
            table.path,
            "broadband statistics",
            COUNT_COLUMNS[:3],
            cmap,
            BROADBAND_ALIASES,
            "broadband.columns",
        )
    df = table.df
    n = len(df)
    report = InputReport(input="broadband", path=str(table.path))
    tracker = Tracker(label or str(table.path), table.rows, rejects, report)
    hc = cmap.header("admin_code")
    raw_code = df[hc]
    code = normalise_codes(raw_code).to_numpy(dtype=object)
    code_s = pd.Series(code, dtype=object).astype(str)
    # a note under the table (注：…, 填报单位：…): one or two text cells, one of them a note
    texts = {c: as_text(df[c]) for c in df.columns}  # every cell as text, once
    notes = np.zeros(n, dtype=bool)
    if n:
        filled = np.column_stack([(t != "").to_numpy(dtype=bool) for t in texts.values()])
        for t in texts.values():
            notes |= t.str.match(_NOTE_START).to_numpy(dtype=bool, na_value=False)
        notes &= filled.sum(axis=1) <= 2
        tracker.skip(
            notes,
            "note_row",
            hc,
            pd.Series([next((x for x in r if x), "") for r in zip(*texts.values(), strict=True)]),
            lambda v: v.map(lambda x: repr(x[:40])) + ": a note under the table, not data",
        )
    # a 合计 row (no code, a total word in one of its text cells) is a total, not a bad row
    no_code = code == ""
    if no_code.any():
        total_word = np.zeros(n, dtype=bool)
        for c in df.columns:
            if not pd.api.types.is_numeric_dtype(df[c]):
                text = texts[c].str.lower()
                total_word |= text.str.contains("|".join(TOTAL_WORDS), regex=True).to_numpy(
                    dtype=bool, na_value=False
                )
        tracker.skip(
            no_code & total_word,
            "total_row",
            hc,
            raw_code,
            "a total row (合计) without an admin code: gigacov sums the units' own rows",
        )
    tracker.reject(code == "", hc, None, "missing_value", "no admin code")
    six = code_s.str.fullmatch(r"\d{6}").to_numpy(dtype=bool)
    twelve = code_s.str.fullmatch(r"\d{12}").to_numpy(dtype=bool)
    tracker.reject(
        ~six & ~twelve,
        hc,
        raw_code,
        "unknown_admin_code",
        lambda v: (
            "admin code " + v.map(repr) + " is neither a 6-digit county nor a 12-digit village code"
        ),
    )
    units = bnd.units
    in_table = set(units["admin_code"])
    has_villages = (units["level"] == "village").any()
    region_counties = set(units.loc[units["level"] == "county", "admin_code"])
    if has_villages:
        matched = np.isin(code, list(in_table))
    else:
        county6 = code_s.str[:6].to_numpy(dtype=object)
        matched = np.where(
            twelve, np.isin(county6, list(region_counties)), np.isin(code, list(in_table))
        )
        if (twelve & tracker.alive & matched).any():
            warnings.append(
                f"{table.path}: village rows (12-digit codes) kept by their county prefix; without "
                "[boundaries] villages their codes cannot be checked against village boundaries"
            )
    all_codes = list(bnd.all_codes)
    known = np.isin(code, all_codes) | (
        twelve & np.isin(code_s.str[:6].to_numpy(dtype=object), all_codes)
    )
    not_in_region = ~code_s.str.startswith(bnd.prefix).to_numpy(dtype=bool)
    outside = tracker.alive & ~matched & known & not_in_region
    tracker.skip(
        outside,
        "outside_region",
        hc,
        raw_code,
        lambda v: (
            "admin code "
            + v.map(repr)
            + f" is a unit outside [scenario] region = {scn.scenario.region!r}"
        ),
    )
    tracker.reject(
        ~matched,
        hc,
        raw_code,
        "unknown_admin_code",
        lambda v: "admin code " + v.map(repr) + " matches no unit of the boundary files",
    )
    # year
    if "year" in cmap:
        hy = cmap.header("year")
        py = parse_numbers(df[hy], lambda num, unit: num if unit in ("年", "年度") else None)
        tracker.reject(py.missing, hy, None, "missing_value", "no year")
        tracker.reject(
            py.bad, hy, df[hy], "not_a_number", lambda v: "year " + v.map(repr) + " is not a number"
        )
        year = py.values
        tracker.reject(
            np.isfinite(year) & ((year < 1990) | (year > 2100) | (year != np.floor(year))),
            hy,
            df[hy],
            "out_of_range",
            lambda v: "year " + v.map(repr) + " is not a year between 1990 and 2100",
        )
    else:
        year = np.full(n, float(scn.year))
        warnings.append(
            f"{table.path}: no year column; every row taken as {scn.year} (the scenario year)"
        )
    if "year" in cmap:
        other = tracker.alive & np.isfinite(year) & (year != scn.year)
        years_present = sorted({int(y) for y in year[tracker.alive & np.isfinite(year)]})
        tracker.skip(
            other,
            "other_year",
            cmap.header("year"),
            df[cmap.header("year")],
            lambda v: "year " + v.map(repr) + f" is not the scenario year {scn.year}",
        )
        if other.any() and not tracker.alive.any():
            warnings.append(
                f"{table.path}: no row is for the scenario year {scn.year} (years present: "
                f"{', '.join(map(str, years_present))}); set [scenario] year or give that year's "
                "statistics"
            )
    # totals: a city's or the province's own row is not used (its figures are the sum of its
    # counties, which is what the indicators compute)
    level_of = units.set_index("admin_code")["level"].to_dict()
    unit_level = np.array([level_of.get(c, "") for c in code], dtype=object)
    total = tracker.alive & np.isin(unit_level, ["city", "province"])
    if total.any():
        name_of = units.set_index("admin_code")["name"].to_dict()
        lv = unit_level
        tracker.skip(
            total,
            "total_row",
            hc,
            raw_code,
            lambda v: pd.Series(
                [
                    f"{c!r} is the {lv[i]} total of {name_of.get(code[i], '')}: gigacov sums its "
                    "counties' rows instead (a total row is not used)"
                    for c, i in zip(v, np.flatnonzero(total), strict=True)
                ],
                dtype=object,
            ),
        )
    # a township's row (12 digits ending in 000) beside its villages' rows is their total
    township = (
        tracker.alive
        & twelve
        & code_s.str.endswith("000").to_numpy(dtype=bool)
        & ~code_s.str.endswith("000000").to_numpy(dtype=bool)
    )
    if township.any():
        town9 = code_s.str[:9].to_numpy(dtype=object)
        villages_of = set(town9[tracker.alive & twelve & ~township])
        tracker.skip(
            township & np.isin(town9, list(villages_of)),
            "total_row",
            hc,
            raw_code,
            lambda v: (
                "admin code " + v.map(repr) + " is a township (乡镇/街道) whose villages have "
                "rows of their own: its figures are their sum, so it is not counted again"
            ),
        )
    # counts
    title_wan = _title_units(table, cmap, warnings)
    values: dict[str, np.ndarray] = {}
    steps: dict[str, float] = {}  # the step each column's figures are rounded to
    for col in COUNT_COLUMNS:
        if col not in cmap:
            values[col] = np.full(n, np.nan)
            continue
        h = cmap.header(col)
        p = parse_numbers(df[h], _count_unit)
        tracker.reject(
            p.bad,
            h,
            df[h],
            "not_a_number",
            lambda v, c=col: f"{c} " + v.map(repr) + " is not a number",
        )
        v = p.values
        in_wan = cmap.unit(col).startswith("万") or col in title_wan
        if in_wan:
            v = v * 1e4
        wan = in_wan or bool(df[h].astype(str).str.contains("万").any())
        steps[col] = quantum(v, 1e4 if wan else 1.0)
        tracker.reject(
            np.isfinite(v) & (v < 0),
            h,
            df[h],
            "out_of_range",
            lambda vv, c=col: f"{c} " + vv.map(repr) + " is negative",
        )
        values[col] = v
    for num, den in RATIO_CHECKS:
        if num not in cmap or den not in cmap:
            continue
        a, b = values[num], values[den]
        over = np.isfinite(a) & np.isfinite(b) & (a > b)
        pair = (
            np.array([f"{x:g} > {y:g}" for x, y in zip(a, b, strict=True)], dtype=object)
            if over.any()
            else None
        )
        tracker.reject(
            over,
            cmap.header(num),
            pair,
            "out_of_range",
            lambda v, nn=num, dd=den: f"{nn} above {dd} (" + v + f"); {nn} cannot exceed {dd}",
        )
    # operators: one row per operator and unit is summed; a row of the unit's own (operator
    # blank or a total word such as 合计) beside them is merged into the sum (sum_operators)
    op = np.full(n, "", dtype=object)
    if "operator" in cmap:
        ho = cmap.header("operator")
        raw_op = as_text(df[ho])
        op = map_unique(raw_op, normalise_operator).to_numpy(dtype=object)
        is_total = (
            raw_op.str.lower()
            .str.contains("|".join(TOTAL_WORDS), regex=True)
            .to_numpy(dtype=bool, na_value=False)
        )
        op = np.where(is_total, "", np.where(op == "", raw_op.to_numpy(dtype=object), op))
        # a breakdown of the unit (其中：农村, 城市用户) is part of its operators' rows, never one
        # more operator
        part = (
            ~is_total
            & ~np.isin(op, KNOWN_OPERATORS)
            & raw_op.str.contains(PART_WORDS, regex=True).to_numpy(dtype=bool, na_value=False)
        )
        tracker.skip(
            part & tracker.alive,
            "part_row",
            ho,
            raw_op,
            lambda v: (
                "operator " + v.map(repr) + ": a breakdown of the unit (其中…), already "
                "counted in its operators' rows, not one more operator"
            ),
        )
        unknown = sorted(
            {str(o) for o in op[tracker.alive & ~part] if o and o not in KNOWN_OPERATORS}
        )
        if unknown:
            warnings.append(
                f"{label or table.path}: rows of {', '.join(map(repr, unknown))} in "
                f"{ho!r}, which gigacov does not know as an operator, are summed as operators "
                "of their units; if one is a part of a unit or a total, delete or rename those "
                "rows (其中… rows are left out, 合计 rows are checked against the sum)"
            )
    elif by_sheet and normalise_operator(sheet) in KNOWN_OPERATORS:
        # one operator's sheet: its name says whose rows they are
        op = np.full(n, normalise_operator(sheet), dtype=object)
        warnings.append(
            f"{label}: no operator column; the rows are taken as {normalise_operator(sheet)}'s "
            "(the sheet's name)"
        )
    # duplicates (unit, year[, operator])
    alive = tracker.alive
    key = pd.DataFrame({"c": code, "y": year, "op": op})
    sub = key[alive]
    dup = sub.duplicated(keep="first").to_numpy()
    if dup.any():
        first = dict(
            zip(
                map(tuple, sub[~dup].to_numpy().tolist()),
                table.rows[alive][~dup].tolist(),
                strict=True,
            )
        )
        mask = np.zeros(n, dtype=bool)
        mask[np.flatnonzero(alive)[dup]] = True
        msgs = np.array(
            [
                f"unit {c!r}, year {int(y)}{f', operator {o}' if o else ''} already given in "
                f"row {first[(c, y, o)]}"
                for c, y, o in zip(code[mask], year[mask], op[mask], strict=True)
            ],
            dtype=object,
        )
        tracker.reject(mask, hc, code, "duplicate_id", lambda v: msgs)
    tracker.finish()
    if "year" not in cmap:
        tracker.count_default("year", np.ones(n, dtype=bool))
    keep = tracker.alive
    level = np.array(
        [level_of.get(c, "village" if len(c) == 12 else "county") for c in code[keep]], dtype=object
    )
    out = pd.DataFrame(
        {"admin_code": code[keep].astype(str), "level": level, "year": year[keep].astype("int64")}
    )
    for col in COUNT_COLUMNS:
        out[col] = values[col][keep].astype("float64")
        out[f"_q_{col}"] = steps.get(col, 1.0)
    out["source_row"] = table.rows[keep]
    out["_op"] = op[keep]
    out["_sheet"] = sheet
    return _Rows(out, report, warnings, cmap, table.path)
