"""Broadband statistics given per operator: one row per unit and year from the operators' rows.

A unit's rows of several operators are summed (:func:`sum_operators`); a row of the unit's own
beside them (operator blank or ``合计``) gives its household counts and is checked against the
sum, never added to it. Which blanks make a figure no data is said per unit
(:func:`say_missing`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..catalogue import STAT_FIELDS
from .model import BROADBAND_COLUMNS

__all__ = [
    "ADDITIVE_COLUMNS",
    "HOUSEHOLD_COLUMNS",
    "COUNT_COLUMNS",
    "quantum",
    "sum_operators",
    "say_missing",
]

COUNT_COLUMNS = [
    c for c in BROADBAND_COLUMNS if c not in ("admin_code", "level", "year", "source_row")
]

#: Counts of the unit's households: not additive across operators (a household reached by two
#: operators' fibre is one household); operators' rows must agree on them.
HOUSEHOLD_COLUMNS = ["households", "fttx_households_covered", "gigabit_households_covered"]
#: Counts that add up across operators (each operator's own ports and users).
ADDITIVE_COLUMNS = [c for c in STAT_FIELDS if c not in HOUSEHOLD_COLUMNS]


def _agree(total: float, parts: float, n_parts: int, step: float) -> bool:
    """A unit row's total and its operators' sum agree to the rounding of the figures as the
    file gives them: each of the ``n_parts`` rows and the total is rounded to ``step`` (the
    column's finest step, e.g. 100 for 万 with two decimals), so they may differ by half a step
    per figure — never less than 1."""
    return abs(total - parts) <= max(1.0, (n_parts + 1) * step / 2)


def quantum(values: np.ndarray, scale: float) -> float:
    """The step a column's figures are rounded to: the largest power of ten, at most ``scale``
    (1e4 for a column in 万, else 1) and at least 0.01, that every figure is a multiple of."""
    v = values[np.isfinite(values) & (values != 0)]
    step = float(scale)
    while step > 0.01:
        if not v.size or np.all(np.abs(v / step - np.round(v / step)) < 1e-6):
            return step
        step /= 10
    return 0.01


def _where(row: pd.Series) -> str:
    """A row for a message: ``row 7``, or ``'中国电信' row 7`` when the file's sheets are read."""
    sheet = row.get("_sheet", "")
    return f"{sheet!r} row {int(row['source_row'])}" if sheet else f"row {int(row['source_row'])}"


def sum_operators(out: pd.DataFrame, path, warnings: list[str]) -> pd.DataFrame:
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
        return out.drop(columns=["_op", "_sheet"], errors="ignore")
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
            elif np.isnan(parts) or _agree(total, parts, len(ops), float(g[f"_q_{c}"].max())):
                rec[c] = total
            else:
                rec[c] = np.nan
                conflicts.append(
                    f"{code} {c}: {_where(unit)} gives {total:g}, the operators' rows "
                    f"({', '.join(_where(r) for _, r in ops.iterrows())}) add up to {parts:g}"
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
    return merged.sort_values("source_row", kind="stable").drop(
        columns=["_op", "_sheet"], errors="ignore"
    )


def say_missing(rows: pd.DataFrame, units: pd.DataFrame, cmap, path, warnings: list[str]) -> None:
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
        lines = [_where(r) for _, r in rows[miss].head(5).iterrows()]
        ex = ", ".join(f"{k} ({r})" for k, r in zip(codes[:5], lines[:5], strict=True))
        warnings.append(
            f"{path}: {len(set(codes))} unit(s) have no value in {cmap.header(c)!r} "
            f"({ex}{', ...' if miss.sum() > 5 else ''}); {c} is no data there"
        )
