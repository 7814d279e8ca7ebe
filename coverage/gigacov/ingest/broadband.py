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
totals of a city or the province (``total_row``): their figures are the sums of their counties,
which the indicators compute themselves. Without a year column the scenario year is used and
counted as a default.

With an operator column, a unit's rows of several operators are summed (:func:`_sum_operators`);
a row of the unit's own beside them (operator blank or ``合计``) gives its household counts and
is checked against the sum, never added to it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..rundir import sha256_file
from ..scenario import Scenario
from ._common import Rejects, Tracker, as_text, log, parse_numbers
from .boundaries import Boundaries, normalise_codes
from .model import BROADBAND_COLUMNS, InputReport
from .tables import match_table, missing_columns_error, read_table
from .vocab import map_unique, normalise_operator

__all__ = ["BROADBAND_ALIASES", "COUNT_COLUMNS", "RATIO_CHECKS", "read_broadband"]

BROADBAND_ALIASES: dict[str, list[str]] = {
    "admin_code": [
        "adcode",
        "code",
        "区划代码",
        "行政区划代码",
        "统计用区划代码",
        "区划编码",
        "代码",
        "单位代码",
        "county_code",
        "village_code",
        "区县代码",
        "县区代码",
        "区县编码",
        "村代码",
        "村级代码",
    ],
    "year": ["年份", "年度", "统计年份", "统计年度", "报告年度", "年", "stat_year"],
    "operator": ["运营商", "运营商名称", "基础电信企业", "电信企业", "企业", "operator", "carrier"],
    "households": ["家庭户数", "住户数", "总户数", "户数", "家庭总户数", "households_total", "hh"],
    "fttx_households_covered": [
        "ftth覆盖家庭数",
        "fttx覆盖家庭数",
        "光纤覆盖家庭数",
        "光纤覆盖户数",
        "ftth覆盖户数",
        "ftth_households",
        "fttx_households",
        "fttx_covered",
        "ftth_covered",
    ],
    "gigabit_households_covered": [
        "千兆覆盖家庭数",
        "具备千兆接入能力家庭数",
        "千兆覆盖户数",
        "千兆光网覆盖家庭数",
        "千兆覆盖住户数",
        "gigabit_households",
        "gigabit_covered",
        "具备千兆接入能力的家庭数",
    ],
    "pon_ports": ["pon端口数", "pon口数", "pon端口", "pon_port", "pon端口总数"],
    "pon_10g_ports": [
        "10gpon端口数",
        "10gpon口数",
        "10gpon端口",
        "10g_pon_ports",
        "10gpon_ports",
        "万兆pon端口数",
        "xgpon端口数",
    ],
    "fixed_users": [
        "固定宽带用户数",
        "宽带用户数",
        "固定宽带用户",
        "fixed_broadband_users",
        "broadband_users",
        "固网宽带用户数",
    ],
    "users_500m_plus": [
        "500m及以上用户数",
        "500m以上用户数",
        "500mbps及以上用户数",
        "users_500m",
        "users500m",
        "500m及以上宽带用户数",
    ],
    "users_1000m_plus": [
        "千兆用户数",
        "1000m及以上用户数",
        "1000mbps及以上用户数",
        "千兆宽带用户数",
        "千兆及以上用户数",
        "users_1000m",
        "users1000m",
        "gigabit_users",
        "1000m以上用户数",
    ],
    "mobile_users": [
        "移动电话用户数",
        "移动用户数",
        "移动电话用户",
        "mobile_subscribers",
        "手机用户数",
    ],
    "users_5g": [
        "5g用户数",
        "5g移动电话用户数",
        "5g用户",
        "5g_users",
        "5g套餐用户数",
        "5g网络用户数",
    ],
}

COUNT_COLUMNS = [
    c for c in BROADBAND_COLUMNS if c not in ("admin_code", "level", "year", "source_row")
]

#: Counts that add up across operators (each operator's own ports and users).
ADDITIVE_COLUMNS = [
    "pon_ports",
    "pon_10g_ports",
    "fixed_users",
    "users_500m_plus",
    "users_1000m_plus",
    "mobile_users",
    "users_5g",
]
#: Counts of the unit's households: not additive across operators (a household reached by two
#: operators' fibre is one household); operators' rows must agree on them.
HOUSEHOLD_COLUMNS = ["households", "fttx_households_covered", "gigabit_households_covered"]

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
    """Read ``[broadband] path`` (see the module docstring)."""

    sec = scn.broadband
    table = read_table(
        sec.path,
        what="broadband statistics",
        aliases=BROADBAND_ALIASES,
        section="broadband",
        sheet=sec.sheet,
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
    tracker = Tracker(str(table.path), table.rows, rejects, report)
    hc = cmap.header("admin_code")
    raw_code = df[hc]
    code = normalise_codes(raw_code).to_numpy(dtype=object)
    code_s = pd.Series(code, dtype=object).astype(str)
    # a 合计 row (no code, a total word in one of its text cells) is a total, not a bad row
    no_code = code == ""
    if no_code.any():
        total_word = np.zeros(n, dtype=bool)
        for c in df.columns:
            if not pd.api.types.is_numeric_dtype(df[c]):
                text = as_text(df[c]).str.lower()
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
    # counts
    values: dict[str, np.ndarray] = {}
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
        if cmap.unit(col).startswith("万"):
            v = v * 1e4
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
    # blank or a total word such as 合计) beside them is merged into the sum (_sum_operators)
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
    report.warnings.extend(warnings)
    keep = tracker.alive
    level = np.array(
        [level_of.get(c, "village" if len(c) == 12 else "county") for c in code[keep]], dtype=object
    )
    out = pd.DataFrame(
        {"admin_code": code[keep].astype(str), "level": level, "year": year[keep].astype("int64")}
    )
    for col in COUNT_COLUMNS:
        out[col] = values[col][keep].astype("float64")
    out["source_row"] = table.rows[keep]
    out["_op"] = op[keep]
    rows_out = out
    out = _sum_operators(out, table.path, warnings)
    _say_missing(rows_out, out, cmap, table.path, warnings)
    out = out[list(BROADBAND_COLUMNS)].reset_index(drop=True)
    log.info(
        "broadband: %d rows read, %d used, %d rejected, %d skipped",
        report.read,
        report.used,
        report.rejected,
        report.skipped,
    )
    return out, report, warnings


def _agree(total: float, parts: float) -> bool:
    """A unit row's total and its operators' sum agree to the rounding of a figure given in
    万 with two decimals: within 1 or 0.5 % of the sum, whichever is larger."""
    return abs(total - parts) <= max(1.0, 0.005 * abs(parts))


def _sum_operators(out: pd.DataFrame, path, warnings: list[str]) -> pd.DataFrame:
    """One row per unit and year: the rows of several operators are summed.

    Ports and users add up (:data:`ADDITIVE_COLUMNS`; a count one operator leaves blank makes
    the sum no data, never a partial sum). Household counts belong to the unit, not to an
    operator: when the operators' rows agree they are kept, otherwise they are no data (the
    union of two operators' fibre coverage is not in the file), with a warning.

    A row of the unit's own beside its operators' rows (operator blank, or ``合计``) is never
    summed as one more operator: its household counts are the unit's and win; each port or
    user count it gives is checked against the operators' sum (:func:`_agree`) and, where they
    disagree, the figure is no data with a warning naming both; where the operators' sum is
    no data, the unit's own total is used."""
    multi = out.duplicated(["admin_code", "year"], keep=False)
    if not multi.any():
        return out.drop(columns="_op")
    groups = out[multi].groupby(["admin_code", "year"], sort=False)
    rows = []
    disagree: list[str] = []
    conflicts: list[str] = []
    n_unit_rows = 0
    for (code, _yr), g in groups:
        own = g[g["_op"] == ""]
        ops = g[g["_op"] != ""]
        rec = g.iloc[0].copy()
        unit = own.iloc[0] if len(own) else None
        n_unit_rows += len(own)
        for c in ADDITIVE_COLUMNS:
            parts = ops[c].sum(skipna=False) if len(ops) else np.nan
            total = np.nan if unit is None else unit[c]
            if np.isnan(total):
                rec[c] = parts
            elif np.isnan(parts) or _agree(total, parts):
                rec[c] = total
            else:
                rec[c] = np.nan
                conflicts.append(
                    f"{code} {c}: row {int(unit['source_row'])} gives {total:g}, the operators' "
                    f"rows {', '.join(str(int(r)) for r in ops['source_row'])} add up to {parts:g}"
                )
        for c in HOUSEHOLD_COLUMNS:
            if unit is not None and not np.isnan(unit[c]):
                rec[c] = unit[c]
                continue
            vals = ops[c].dropna().unique()
            if len(vals) <= 1:
                rec[c] = vals[0] if len(vals) else np.nan
            else:
                rec[c] = np.nan
                disagree.append(f"{code} {c}")
        rows.append(rec)
    n_units = len(rows)
    names = sorted({str(o) for o in out.loc[multi, "_op"] if o})
    warnings.append(
        f"{path}: {int(multi.sum())} rows give {n_units} unit-year(s) per operator "
        f"({', '.join(names)}); their ports and users are summed per unit"
        + (
            f"; {n_unit_rows} row(s) with no operator (or 合计) beside them are the unit's own: "
            "their household counts are used and their totals checked against the sum"
            if n_unit_rows
            else ""
        )
    )
    if conflicts:
        warnings.append(
            f"{path}: a unit's own total disagrees with the sum of its operators' rows for "
            f"{'; '.join(conflicts[:5])}{'; ...' if len(conflicts) > 5 else ''}; these figures "
            "are no data (the file does not say which is right)"
        )
    if disagree:
        warnings.append(
            f"{path}: the operators' rows give different household counts for "
            f"{', '.join(disagree[:5])}{', ...' if len(disagree) > 5 else ''}; households are the "
            "unit's, not an operator's, so these are no data (give them once, in a row of their "
            "own or the same in every operator's row)"
        )
    merged = pd.concat([out[~multi], pd.DataFrame(rows)], ignore_index=True)
    return merged.sort_values("source_row", kind="stable").drop(columns="_op")


def _say_missing(rows: pd.DataFrame, units: pd.DataFrame, cmap, path, warnings: list[str]) -> None:
    """A blank (or ``—``, ``/``) cell in a column the file has is no data for that unit: say
    which units, so that a figure that turns into no data is never a surprise. ``rows`` are the
    rows used, ``units`` the units after the operators' rows are summed: a blank in an
    operator's row that the unit's own row fills is not said; the rows named are the blank
    ones."""
    if not len(units):
        return
    for c in COUNT_COLUMNS:
        if c not in cmap:
            continue
        blank_units = units.loc[units[c].isna(), ["admin_code", "year"]]
        if blank_units.empty:
            continue
        keys = set(map(tuple, blank_units.to_numpy().tolist()))
        in_unit = np.array(
            [(a, y) in keys for a, y in zip(rows["admin_code"], rows["year"], strict=True)],
            dtype=bool,
        )
        miss = in_unit & rows[c].isna().to_numpy()
        if not miss.any():  # no data from a disagreement, said with the figures
            continue
        codes = rows.loc[miss, "admin_code"].astype(str).tolist()
        lines = rows.loc[miss, "source_row"].astype(int).tolist()
        ex = ", ".join(f"{k} (row {r})" for k, r in zip(codes[:5], lines[:5], strict=True))
        warnings.append(
            f"{path}: {len(set(codes))} unit(s) have no value in {cmap.header(c)!r} "
            f"({ex}{', ...' if miss.sum() > 5 else ''}); {c} is no data there"
        )
