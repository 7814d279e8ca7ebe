"""Shared machinery of the readers: rejected-row bookkeeping and vectorised value parsing.

Row numbers follow the spreadsheet convention of :mod:`gigacov.ingest` (header = row 1, first
data row = row 2). Nothing here loops over rows in Python: values are parsed with pandas / NumPy
on whole columns, and only the *distinct* strings that fail the fast numeric parse go through a
slower, unit-aware parser (so the cost scales with the number of distinct odd spellings, not with
the number of rows).
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .model import REASON_CODES, REJECTED_COLUMNS, SKIP_REASONS, InputReport

log = logging.getLogger("gigacov.ingest")


def require_regular_file(path, key: str) -> None:
    """Refuse an input path that is not a regular file or a folder (a FIFO, a device such as
    ``/dev/urandom``, a socket): reading one would hang or never end. ``key`` names the setting
    or the kind of input for the message. A missing path is left to the caller's own message."""
    import os
    import stat
    from pathlib import Path

    from ..errors import InputError

    p = Path(path)
    try:
        mode = os.stat(p).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise InputError(f"{key}: cannot open {str(p)!r} ({exc.strerror})") from None
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        kind = (
            "a named pipe (FIFO)"
            if stat.S_ISFIFO(mode)
            else "a device"
            if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket"
            if stat.S_ISSOCK(mode)
            else "not a regular file"
        )
        raise InputError(
            f"{key}: {str(p)!r} is {kind}, not a file; gigacov reads inputs only from regular "
            "files (copy the data into a file first)"
        )


#: Cell contents read as "no value" (compared after stripping and lower-casing).
NA_TOKENS = frozenset(
    ["", "nan", "none", "null", "na", "n/a", "#n/a", "-", "--", "—", "——", "/", "无", "空", "nat"]
)


# ------------------------------------------------------------------------------------------------
# Rejected rows
# ------------------------------------------------------------------------------------------------


@dataclass
class Rejects:
    """Collects rejected rows (:data:`REJECTED_COLUMNS`) from vectorised checks."""

    parts: list[pd.DataFrame] = field(default_factory=list)
    skipped_parts: list[pd.DataFrame] = field(default_factory=list)
    """Valid rows left out of this run (``skipped_rows.csv``), same columns; see
    :meth:`Tracker.skip`."""

    def add(self, file: str, rows, column, values, reason: str, messages) -> int:
        return self._add(self.parts, file, rows, column, values, reason, messages)

    def add_skipped(self, file: str, rows, column, values, reason: str, messages) -> int:
        """Record valid rows that do not belong to this run (not errors) with why."""
        return self._add(self.skipped_parts, file, rows, column, values, reason, messages)

    @staticmethod
    def _add(parts, file: str, rows, column, values, reason: str, messages) -> int:
        rows = np.asarray(rows, dtype=np.int64)
        n = rows.size
        if n == 0:
            return 0
        if reason not in REASON_CODES and reason not in SKIP_REASONS:  # pragma: no cover
            raise ValueError(f"unknown reason code {reason!r}")
        parts.append(
            pd.DataFrame(
                {
                    "file": np.full(n, file, dtype=object),
                    "row": rows,
                    "column": _broadcast(column, n),
                    "value": _as_str_array(values, n),
                    "reason": np.full(n, reason, dtype=object),
                    "message": _broadcast(messages, n),
                }
            )
        )
        return n

    def frame(self) -> pd.DataFrame:
        """The rejected rows, files in the order they were read, rows in file order."""
        return self._frame(self.parts)

    def skipped_frame(self) -> pd.DataFrame:
        """The skipped rows, in the same order and columns as :meth:`frame`."""
        return self._frame(self.skipped_parts)

    @staticmethod
    def _frame(parts) -> pd.DataFrame:
        if not parts:
            return pd.DataFrame(
                {c: pd.Series(dtype=object if c != "row" else "int64") for c in REJECTED_COLUMNS}
            )
        out = pd.concat(parts, ignore_index=True)
        out["row"] = out["row"].astype("int64")
        # files in the order they were read, rows in file order
        file_order = {f: i for i, f in enumerate(pd.unique(out["file"]))}
        out["_f"] = out["file"].map(file_order)
        out = (
            out.sort_values(["_f", "row"], kind="stable").drop(columns="_f").reset_index(drop=True)
        )
        return out[REJECTED_COLUMNS]


def _broadcast(value, n: int) -> np.ndarray:
    if isinstance(value, str):
        return np.full(n, value, dtype=object)
    arr = np.asarray(value, dtype=object)
    if arr.shape != (n,):  # pragma: no cover - programming error
        raise ValueError(f"expected {n} values, got shape {arr.shape}")
    return arr


def _as_str_array(values, n: int) -> np.ndarray:
    if values is None:
        return np.full(n, "", dtype=object)
    if isinstance(values, str):
        return np.full(n, values, dtype=object)
    s = pd.Series(np.asarray(values, dtype=object))
    out = s.map(_value_text)
    return out.to_numpy(dtype=object)


def rows_text(rows, show: int = 5) -> str:
    """``"rows 3, 7, 9, ..."`` (``"row 3"`` for one) for distinct spreadsheet row numbers."""
    rows = np.unique(np.asarray(rows, dtype=np.int64))
    head = ", ".join(map(str, rows[:show].tolist()))
    return f"row{'s' if rows.size > 1 else ''} {head}{', ...' if rows.size > show else ''}"


def _value_text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        return repr(v) if not v.is_integer() else str(int(v)) if abs(v) < 1e15 else repr(v)
    if v is pd.NA or v is pd.NaT:
        return ""
    if hasattr(v, "isoformat") and hasattr(v, "year"):  # a date or datetime from a spreadsheet
        return date_text(v)
    return str(v)


def date_text(v) -> str:
    """A spreadsheet date as people write it: ``2025-03-01`` (a time only when it has one); an
    Excel day number is shown with its date (``45700 (Excel date 2025-02-12)``)."""
    if hasattr(v, "isoformat") and hasattr(v, "year") and not isinstance(v, str):
        ts = pd.Timestamp(v)
        if ts.hour == ts.minute == ts.second == 0 and ts.microsecond == 0:
            return ts.strftime("%Y-%m-%d")
        return ts.isoformat(sep=" ")
    if isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool):
        num = float(v)
        if 20000 <= num < 80000:
            day = pd.Timestamp("1899-12-30") + pd.to_timedelta(num, unit="D")
            shown = str(int(num)) if num.is_integer() else repr(num)
            return f"{shown} (Excel date {day.strftime('%Y-%m-%d')})"
        return str(int(num)) if num.is_integer() else repr(num)
    return str(v)


class Tracker:
    """Which rows of one input are still usable; each row is rejected at most once.

    Every check passes a boolean mask of offending rows; rows already rejected by an earlier
    check are ignored, so a row carries the reason of the first check it fails (the checks run
    in a fixed order: missing → not a number → position → values → dates → duplicates).

    ``groups`` (optional, one integer per row of the arrays) says which array rows come from one
    spreadsheet row — a site-level row split into one cell per azimuth. Then the spreadsheet row
    is what is counted: it is used when all its cells are, and otherwise rejected *once*, with
    the reasons of its rejected cells listed in one message (``labels`` names the cells).
    """

    def __init__(
        self,
        file: str,
        rows: np.ndarray,
        rejects: Rejects,
        report: InputReport,
        *,
        groups: np.ndarray | None = None,
        labels: np.ndarray | None = None,
    ):
        self.file = file
        self.rows = np.asarray(rows, dtype=np.int64)
        self.alive = np.ones(self.rows.size, dtype=bool)
        self.skipped = np.zeros(self.rows.size, dtype=bool)
        self.skip_reason = np.full(self.rows.size, "", dtype=object)
        self.rejects = rejects
        self.report = report
        self.groups = None if groups is None else np.asarray(groups, dtype=np.int64)
        self.labels = labels
        self._pending: list[tuple] = []
        self._skip_pending: list[tuple] = []
        self._fixed: dict[str, np.ndarray] = {}
        report.read = int(self.rows.size)

    def fix(self, mask, reason: str) -> None:
        """Note an automatic repair (``reason``) of the rows in ``mask``.

        Counted when the tracker finishes, in spreadsheet rows that end up used (a row whose
        cells were repaired but which is then rejected or skipped is not a repaired row used).
        """
        mask = np.asarray(mask, dtype=bool)
        prev = self._fixed.get(reason)
        self._fixed[reason] = mask.copy() if prev is None else (prev | mask)

    def _count_fixed(self) -> None:
        for reason, mask in self._fixed.items():
            used = mask & self.alive
            n = (
                int(np.unique(self.groups[used]).size)
                if self.groups is not None
                else int(used.sum())
            )
            if n:
                self.report.fixed[reason] = n
            else:
                self.report.fixed.pop(reason, None)

    def reject(
        self,
        mask,
        column: str,
        values,
        reason: str,
        message: str | Callable[[pd.Series], pd.Series],
    ) -> np.ndarray:
        """Reject the rows in ``mask`` that are still alive; return the index array rejected.

        ``values`` is the whole column (the rejected entries are taken from it); ``message`` a
        string or a function of the rejected values returning one message per row.
        """
        mask = np.asarray(mask, dtype=bool) & self.alive
        idx = np.flatnonzero(mask)
        if idx.size == 0:
            return idx
        if values is None:
            vals = pd.Series([""] * idx.size, dtype=object)
        elif isinstance(values, str):
            vals = pd.Series([values] * idx.size, dtype=object)
        else:
            vals = pd.Series(np.asarray(values, dtype=object)[idx])
        msgs = message(vals) if callable(message) else message
        if not isinstance(msgs, str):
            msgs = np.asarray(msgs, dtype=object)
        if self.groups is None:
            self.rejects.add(
                self.file, self.rows[idx], column, vals.to_numpy(dtype=object), reason, msgs
            )
        else:
            self._pending.append(
                (
                    idx,
                    _broadcast(column, idx.size),
                    _as_str_array(vals.to_numpy(dtype=object), idx.size),
                    reason,
                    _broadcast(msgs, idx.size),
                )
            )
        self.alive[idx] = False
        return idx

    def skip(
        self,
        mask,
        reason: str,
        column: str,
        values,
        message: str | Callable[[pd.Series], pd.Series],
    ) -> np.ndarray:
        """Leave out valid rows that do not belong to this run (not errors, not rejected):
        units outside ``[scenario] region``, sites commissioned after the scenario year.

        Each skipped row is listed once, like a rejected one (``skipped_rows.csv``): ``column``
        and ``values`` say which value decided it, ``message`` why (as in :meth:`reject`). A
        row of several cells is listed once, by its first skipped cell, unless one of its cells
        is rejected (then the whole row is rejected, not skipped).
        """
        mask = np.asarray(mask, dtype=bool) & self.alive
        idx = np.flatnonzero(mask)
        self.alive[mask] = False
        self.skipped |= mask
        self.skip_reason[mask] = reason
        if idx.size:
            vals = pd.Series(np.asarray(values, dtype=object)[idx])
            msgs = message(vals) if callable(message) else message
            self._skip_pending.append(
                (
                    idx,
                    _as_str_array(vals.to_numpy(dtype=object), idx.size),
                    reason,
                    _broadcast(column, idx.size),
                    _broadcast(
                        msgs if isinstance(msgs, str) else np.asarray(msgs, dtype=object),
                        idx.size,
                    ),
                )
            )
        return idx

    def _list_skips(self, keep: np.ndarray | None = None) -> None:
        """Hand the skipped rows to the collector; ``keep(idx)`` → which of them to list."""
        for idx, vals, reason, col, msgs in self._skip_pending:
            sel = np.ones(idx.size, dtype=bool) if keep is None else keep(idx)
            self.rejects.add_skipped(
                self.file, self.rows[idx[sel]], col[sel], vals[sel], reason, msgs[sel]
            )

    def finish(self) -> None:
        if self.groups is not None:
            self._finish_groups()
            return
        n_skipped = int(self.skipped.sum())
        self.report.skipped = n_skipped
        self.report.read = int(self.rows.size)
        self.report.used = int(self.alive.sum())
        self.report.rejected = int(self.report.read - self.report.used - n_skipped)
        self._count_skips(self.skip_reason[self.skipped])
        self._list_skips()
        self._count_fixed()

    def _count_skips(self, reasons: np.ndarray) -> None:
        for reason, k in pd.Series(reasons, dtype=object).value_counts(sort=False).items():
            self.report.skipped_reasons[str(reason)] = int(k)

    def _finish_groups(self) -> None:
        """One verdict per spreadsheet row (see the class docstring)."""
        g = self.groups
        n_groups = int(g.max()) + 1 if g.size else 0
        size = np.bincount(g, minlength=n_groups)
        rejected = ~self.alive & ~self.skipped
        dead = np.zeros(n_groups, dtype=bool)
        dead[g[rejected]] = True
        skipped_g = np.zeros(n_groups, dtype=bool)
        skipped_g[g[self.skipped]] = True
        skipped_g &= ~dead
        # cells of a rejected row are not used, cells of a skipped row are skipped with it
        self.alive &= ~dead[g] & ~skipped_g[g]
        first_cell = np.full(n_groups, -1, dtype=np.int64)
        first_cell[g[::-1]] = np.arange(g.size)[::-1]
        if self._pending:
            idx = np.concatenate([p[0] for p in self._pending])
            col = np.concatenate([p[1] for p in self._pending])
            val = np.concatenate([p[2] for p in self._pending])
            rsn = np.concatenate([np.full(p[0].size, p[3], dtype=object) for p in self._pending])
            msg = np.concatenate([p[4] for p in self._pending])
            order = np.lexsort((idx, g[idx]))  # by spreadsheet row, then cell (check order kept)
            idx, col, val, rsn, msg = idx[order], col[order], val[order], rsn[order], msg[order]
            grp = g[idx]
            starts = np.flatnonzero(np.r_[True, grp[1:] != grp[:-1]])
            ends = np.r_[starts[1:], grp.size]
            out_msgs = msg[starts].copy()
            for j in np.flatnonzero(size[grp[starts]] > 1):
                a, b = starts[j], ends[j]
                k = int(size[grp[a]])
                # cells that fail for the same message are named together, the message once
                by_msg: dict[str, list[str]] = {}
                for i, m in zip(idx[a:b], msg[a:b], strict=True):
                    by_msg.setdefault(str(m), []).append(
                        self._label(int(i), int(first_cell[grp[a]]))
                    )
                parts = [f"{', '.join(names)}: {m}" for m, names in by_msg.items()]
                out_msgs[j] = (
                    f"the row makes {k} cells; {b - a} cannot be used, so none is: "
                    + "; ".join(parts)
                )
            first_of = starts
            for reason in pd.unique(rsn[first_of]):
                sel = first_of[rsn[first_of] == reason]
                self.rejects.add(
                    self.file,
                    self.rows[idx[sel]],
                    col[sel],
                    val[sel],
                    str(reason),
                    out_msgs[np.searchsorted(starts, sel)],
                )
        self.report.read = int(n_groups)
        self.report.skipped = int(skipped_g.sum())
        self.report.used = int(n_groups - dead.sum() - skipped_g.sum())
        self.report.rejected = int(dead.sum())
        self.report.cells = int(self.alive.sum())
        skipped_cells = np.flatnonzero(self.skipped)
        if skipped_cells.size:
            first = pd.Series(skipped_cells).groupby(g[skipped_cells]).first().to_numpy()
            listed = first[skipped_g[g[first]]]
            self._count_skips(self.skip_reason[listed])
            self._list_skips(lambda idx: np.isin(idx, listed))
        self._count_fixed()

    def _label(self, i: int, first: int) -> str:
        if self.labels is not None and self.labels[i]:
            return str(self.labels[i])
        return f"cell {i - first + 1}"

    def count_default(self, column: str, mask) -> None:
        """Count a default applied to ``column`` on the rows in ``mask`` that are used."""
        mask = np.asarray(mask, dtype=bool) & self.alive
        if self.groups is not None:
            n = int(np.unique(self.groups[mask]).size)
        else:
            n = int(mask.sum())
        if n:
            self.report.defaults[column] = self.report.defaults.get(column, 0) + n


# ------------------------------------------------------------------------------------------------
# Text
# ------------------------------------------------------------------------------------------------


def is_missing(s: pd.Series) -> np.ndarray:
    """True where a cell holds no value (NaN/None or a text such as ``""``, ``"-"``, ``"NULL"``)."""
    if s.dtype.kind in "fiub":
        return s.isna().to_numpy() if s.dtype.kind == "f" else np.zeros(len(s), dtype=bool)
    if s.dtype.kind == "M":
        return s.isna().to_numpy()
    na = s.isna().to_numpy(dtype=bool, na_value=True)
    text = s.astype("str").str.strip().str.lower()
    return na | text.isin(NA_TOKENS).to_numpy(dtype=bool, na_value=True)


def as_text(s: pd.Series) -> pd.Series:
    """Identifiers and names as plain strings: integral floats lose ``.0``, missing → ``""``."""
    miss = is_missing(s)
    if s.dtype.kind == "f":
        vals = s.to_numpy()
        out = np.where(
            np.isfinite(vals) & (np.floor(vals) == vals) & (np.abs(vals) < 1e15),
            pd.Series(np.where(np.isfinite(vals), vals, 0)).astype("int64").astype(str).to_numpy(),
            s.astype(str).to_numpy(),
        )
        text = pd.Series(out, index=s.index, dtype=object)
    elif s.dtype.kind in "iub":
        text = s.astype(str).astype(object)
    else:
        text = s.astype("str").str.strip()
        # "350582.0" from spreadsheets that stored a code as a number
        dotzero = text.str.endswith(".0").to_numpy(dtype=bool, na_value=False)
        if dotzero.any():
            dotzero = dotzero & text.str.fullmatch(r"\d+\.0+").to_numpy(dtype=bool, na_value=False)
            text = text.where(~dotzero, text.str.split(".").str[0])
        return text.where(~miss, "").fillna("")
    text = text.where(~miss, "")
    return text


def norm_text(value: str) -> str:
    """NFKC, lower case, no spaces / underscores / hyphens / dots (header matching)."""
    v = unicodedata.normalize("NFKC", str(value)).strip().lower()
    return re.sub(r"[\s_\-.·/:：#]+", "", v)


# ------------------------------------------------------------------------------------------------
# Numbers with units
# ------------------------------------------------------------------------------------------------

_NUM_UNIT_RE = re.compile(
    r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)\s*([^\d\s].*?)?\s*$", re.I
)


@dataclass
class Parsed:
    """Result of parsing one column: values (float64, NaN where none) and per-row flags."""

    values: np.ndarray
    missing: np.ndarray
    bad: np.ndarray  # non-empty but not a usable number
    unit: np.ndarray | None = None  # per-row unit text found in the value ("" if none)


def parse_numbers(
    s: pd.Series,
    unit_parser: Callable[[float, str], float | None] | None = None,
) -> Parsed:
    """Parse a column into float64, vectorised.

    Plain numbers (``"30"``, ``"1,234"``, numbers stored as numbers) take the fast path.
    Distinct strings that are not plain numbers are parsed once each: a number followed by a
    unit (``"30m"``, ``"3.5GHz"``, ``"40 W"``); ``unit_parser(number, unit)`` converts it to the
    column's unit or returns None when the unit is not understood (then the row is *bad*).
    Without ``unit_parser`` any unit makes the value bad.
    """
    n = len(s)
    if s.dtype.kind in "iufb":
        vals = s.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
        missing = np.isnan(vals)
        bad = np.isinf(vals)  # ±inf stored as a number (Parquet, XLSX, GIS) is no value either
        return Parsed(vals, missing, bad, None)
    vals = fast_float(s)
    missing = np.zeros(n, dtype=bool)
    bad = np.zeros(n, dtype=bool)
    unit = None
    rest = ~np.isfinite(vals)
    if rest.any():
        idx = np.flatnonzero(rest)
        sub = s.iloc[idx]
        miss_sub = is_missing(sub)
        missing[idx[miss_sub]] = True
        vals[idx[miss_sub]] = np.nan
        todo_idx = idx[~miss_sub]
        if todo_idx.size:
            sub = s.iloc[todo_idx].astype("str")
            uniq = pd.unique(sub)
            mapping = {u: _parse_one(u, unit_parser) for u in uniq}
            fvals = sub.map(mapping).to_numpy(dtype=np.float64, na_value=np.nan)
            vals[todo_idx] = fvals
            bad[todo_idx] = ~np.isfinite(fvals)
    return Parsed(vals, missing, bad, unit)


def fast_float(s: pd.Series) -> np.ndarray:
    """Plain numbers of a text column as float64 (NaN elsewhere); a writable copy.

    A clean Arrow-backed column is cast by Arrow in one pass (about 10× faster than
    ``pd.to_numeric``); anything else goes through ``pd.to_numeric(errors="coerce")``.
    """
    arr = getattr(s.array, "_pa_array", None)
    if arr is not None:
        import pyarrow as pa
        import pyarrow.compute as pc

        try:
            return (
                pc.cast(arr, pa.float64())
                .to_numpy(zero_copy_only=False)
                .astype(np.float64, copy=True)
            )
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan, copy=True)


#: Thousands grouping: "1,234", "12,345.5", "1,234,567 m" (groups of exactly three digits).
_THOUSANDS_RE = re.compile(r"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?:[^\d,.].*)?$")


def _parse_one(text: str, unit_parser) -> float | None:
    t = unicodedata.normalize("NFKC", text).strip()
    if "," in t:  # NFKC folds the full-width comma
        if not _THOUSANDS_RE.match(t):
            return None  # "120,5": a decimal comma or two values; "1,2345": no grouping — say so
        t = t.replace(",", "")
    m = _NUM_UNIT_RE.match(t)
    if not m:
        return None
    try:
        num = float(m.group(1))
    except ValueError:  # pragma: no cover - regex guarantees a number
        return None
    unit = (m.group(2) or "").strip()
    if not unit:
        return num
    if unit_parser is None:
        return None
    out = unit_parser(num, unit.lower())
    return None if out is None or not math.isfinite(out) else float(out)


def first_words(values: pd.Series, limit: int = 3) -> str:
    """A short list of example values for messages: ``'a', 'b', 'c'``."""
    ex = list(dict.fromkeys(str(v) for v in values))[:limit]
    return ", ".join(repr(e) for e in ex)
