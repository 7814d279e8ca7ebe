"""Standards (``standards/*.toml``) and the evaluation of indicators against them.

A standard file (DESIGN.md §6) holds its identity and provenance and a list of indicators, each
with a comparison, a threshold and the levels it applies to::

    id = "miit-gigabit-city-2021"
    version = "2021.1"
    year = 2021
    issuer = "工业和信息化部 (MIIT)"
    source = "《"双千兆"网络协同发展行动计划（2021-2023年）》 附件"
    url = ""                        # optional
    notes = "..."
    [title]
    zh = "千兆城市评价指标"
    en = "Gigabit-city evaluation indicators"
    [level_notes]                   # optional: a note per level, shown under the tables
    county = "by analogy: the title is awarded to prefecture-level cities"

    [[indicators]]
    key = "household_gigabit_coverage"   # an indicator key (DESIGN.md §10) or "cities_passing_share"
    name_zh = "城市家庭千兆光纤网络覆盖率"
    name_en = "household gigabit-fibre coverage"
    unit = "ratio"                  # ratio | per_10k | count (optional: taken from the key)
    op = ">="                       # >= > <= <
    threshold = 0.80                # fractions for ratios; omit only for mandatory = false
    levels = ["city", "county"]
    mandatory = true
    confirmed = false               # threshold not read in the official text ...
    note = "commonly cited, unconfirmed"   # ... then a note is required
    source = ""                     # optional, per indicator
    certified_min = 0.25            # optional, only with confirmed = false and >= / >: the
    certified_source = "..."        # lowest value a certified unit had, and where it is published

``certified_min`` turns the verdict on an unconfirmed threshold into three: below it ``fail``
(short of every certified value), from it up to the threshold ``at_risk`` (below the cited figure,
but a certified unit did as well), at or above the threshold ``pass``. A confirmed threshold keeps
pass / fail. A standard may name the reference outcomes it was checked against with
``reference_outcomes = "<name>"`` (a CSV in ``data/reference/``, see :mod:`gigacov.reference`).

``key = "cities_passing_share"`` with ``of_standard = "<id>"`` is the share of a province's cities
that pass that other standard (``of_level`` defaults to ``city``).

Compliance table (DESIGN.md §10): one row per unit × standard × indicator with ``value``,
``op``, ``threshold``, ``mandatory``, ``status`` (``pass`` / ``at_risk`` / ``fail`` /
``no_data`` — missing data is never a pass), ``margin`` (value − threshold for ≥/>, threshold −
value for ≤/<: negative = short) and ``shortfall`` to the (cited) threshold in real units (sites,
persons, households, ports, users, km², key places, villages, cities; 0 when passing).
"""

from __future__ import annotations

import difflib
import logging
import math
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import StandardError
from .indicators import INDICATORS, LEVELS, IndicatorSet
from .text import clean_text, terminal_text

__all__ = [
    "Standard",
    "StandardIndicator",
    "COMPLIANCE_COLUMNS",
    "UNIT_STATUS_COLUMNS",
    "STATUSES",
    "OPS",
    "DERIVED_KEYS",
    "STANDARDS_DIR",
    "list_standards",
    "load_standard",
    "load_standards",
    "evaluate",
    "mandatory_flags",
    "unit_status",
    "print_compliance",
]

log = logging.getLogger(__name__)

#: Columns of the compliance table, in order (DESIGN.md §10).
COMPLIANCE_COLUMNS: tuple[str, ...] = (
    "admin_code",
    "name",
    "level",
    "standard",
    "indicator",
    "value",
    "op",
    "threshold",
    "mandatory",
    "status",
    "margin",
    "shortfall",
    "shortfall_unit",
)
#: Columns of :func:`unit_status`; ``failed``, ``at_risk`` and ``no_data`` list indicator keys.
UNIT_STATUS_COLUMNS: tuple[str, ...] = (
    "admin_code",
    "name",
    "level",
    "standard",
    "status",
    "failed",
    "at_risk",
    "no_data",
)
#: Statuses of a compliance row and of a unit, best first. ``at_risk``: below an unconfirmed
#: threshold, but not below the lowest value of a unit that was certified (``certified_min``).
STATUSES: tuple[str, ...] = ("pass", "at_risk", "fail", "no_data")
OPS: tuple[str, ...] = (">=", ">", "<=", "<")
#: Indicators computed from other standards' results rather than from the unit tables.
DERIVED_KEYS: dict[str, tuple[str, str, str, str]] = {
    # key: (unit, name_zh, name_en, shortfall unit)
    "cities_passing_share": (
        "ratio",
        "达标城市占比",
        "share of cities meeting the standard",
        "cities",
    ),
}
STANDARDS_DIR = Path(__file__).resolve().parent / "standards"

_UNITS = ("ratio", "per_10k", "count")
_TOL = 1e-9  # comparisons: values within this (relative) of the threshold count as equal


@dataclass(frozen=True)
class StandardIndicator:
    """One indicator of a standard (see the module docstring for the file format)."""

    key: str
    name_zh: str
    name_en: str
    op: str
    threshold: float
    level: tuple[str, ...]
    mandatory: bool = True
    confirmed: bool = True
    source: str = ""
    unit: str = "ratio"
    note: str = ""
    of_standard: str = ""
    of_level: str = "city"
    certified_min: float = math.nan
    certified_source: str = ""

    @property
    def levels(self) -> tuple[str, ...]:
        return self.level

    @property
    def has_evidence_bound(self) -> bool:
        """True when a value below the threshold may be ``at_risk`` instead of ``fail``."""
        return not self.confirmed and math.isfinite(self.certified_min)


@dataclass(frozen=True)
class Standard:
    """A versioned standard: identity, provenance and indicators."""

    id: str
    title: str
    issuer: str
    source: str
    version: str
    year: int
    notes: str
    indicators: list[StandardIndicator]
    title_zh: str = ""
    url: str = ""
    level_notes: dict[str, str] = field(default_factory=dict)
    path: str = ""
    reference_outcomes: str = ""

    def applies_to(self, level: str) -> list[StandardIndicator]:
        return [i for i in self.indicators if level in i.level]


# ------------------------------------------------------------------------------------------------
# Loading
# ------------------------------------------------------------------------------------------------

_TOP_KEYS = {
    "id": str,
    "title": dict,
    "issuer": str,
    "source": str,
    "url": str,
    "version": str,
    "year": int,
    "notes": str,
    "level_notes": dict,
    "reference_outcomes": str,
    "indicators": list,
}
_REQUIRED_TOP = ("id", "title", "issuer", "source", "version", "year", "indicators")
_IND_KEYS = {
    "key": str,
    "name_zh": str,
    "name_en": str,
    "unit": str,
    "op": str,
    "threshold": float,
    "levels": list,
    "mandatory": bool,
    "confirmed": bool,
    "note": str,
    "source": str,
    "of_standard": str,
    "of_level": str,
    "certified_min": float,
    "certified_source": str,
}
_REQUIRED_IND = ("key", "op", "levels")


def list_standards() -> list[str]:
    """Ids of the standards shipped with gigacov (``standards/*.toml``), sorted."""
    return sorted(p.stem for p in STANDARDS_DIR.glob("*.toml"))


def _type_ok(value: Any, typ: type) -> bool:
    if typ is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if typ is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, typ)


def _unknown_key(where: str, key: str, valid: Iterable[str]) -> StandardError:
    valid = sorted(valid)
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return StandardError(f"{where}: unknown key {key!r}{hint} (valid: {', '.join(valid)})")


def load_standard(path: str | Path) -> Standard:
    """Read and validate one standard file.

    Raises
    ------
    StandardError
        Naming the file and the key (``indicators[2].op``) when the file is missing, not TOML,
        or holds an unknown, missing or mistyped key, an unknown indicator key or level, an
        operator other than ``>= > <= <``, or ``confirmed = false`` without a ``note``.
    """
    p = Path(path)
    if not p.is_file():
        raise StandardError(f"standard file {str(p)!r} does not exist")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise StandardError(f"{p}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise StandardError(f"{p}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    for key, value in data.items():
        if key not in _TOP_KEYS:
            raise _unknown_key(str(p), key, _TOP_KEYS)
        if not _type_ok(value, _TOP_KEYS[key]):
            raise StandardError(
                f"{p}: {key} must be a {_TOP_KEYS[key].__name__ if _TOP_KEYS[key] is not dict else 'table'}, "
                f"got {value!r}"
            )
    for key in _REQUIRED_TOP:
        if key not in data:
            raise StandardError(f"{p}: missing required key {key!r}")
    title = data["title"]
    for k in title:
        if k not in ("zh", "en"):
            raise _unknown_key(f"{p}: title", k, ("zh", "en"))
    if not title.get("en") and not title.get("zh"):
        raise StandardError(f'{p}: title needs zh and/or en, e.g. [title] en = "..."')
    level_notes = data.get("level_notes", {})
    for k, v in level_notes.items():
        if k not in LEVELS:
            raise _unknown_key(f"{p}: level_notes", k, LEVELS)
        if not isinstance(v, str):
            raise StandardError(f"{p}: level_notes.{k} must be a string, got {v!r}")
    if not data["indicators"]:
        raise StandardError(f"{p}: indicators is empty; add at least one [[indicators]] table")
    indicators = [_load_indicator(p, i, raw) for i, raw in enumerate(data["indicators"])]
    seen: dict[tuple[str, str], int] = {}
    for i, ind in enumerate(indicators):
        if ind.of_standard and ind.of_standard in (data["id"], p.stem, str(p)):
            raise StandardError(f"{p}: indicators[{i}].of_standard refers to the standard itself")
        for lv in ind.level:
            if (ind.key, lv) in seen:
                raise StandardError(
                    f"{p}: indicators[{i}] repeats key {ind.key!r} for level {lv!r} "
                    f"(already in indicators[{seen[(ind.key, lv)]}]); give each level once"
                )
            seen[(ind.key, lv)] = i
    return Standard(
        id=data["id"],
        title=title.get("en") or title.get("zh", ""),
        title_zh=title.get("zh", ""),
        issuer=data["issuer"],
        source=data["source"],
        url=data.get("url", ""),
        version=data["version"],
        year=int(data["year"]),
        notes=data.get("notes", ""),
        level_notes=dict(level_notes),
        indicators=indicators,
        path=str(p),
        reference_outcomes=data.get("reference_outcomes", ""),
    )


def _load_indicator(p: Path, i: int, raw: Any) -> StandardIndicator:
    where = f"{p}: indicators[{i}]"
    if not isinstance(raw, dict):
        raise StandardError(f"{where} must be a table ([[indicators]]), got {raw!r}")
    for key, value in raw.items():
        if key not in _IND_KEYS:
            raise _unknown_key(where, key, _IND_KEYS)
        if not _type_ok(value, _IND_KEYS[key]):
            raise StandardError(f"{where}.{key} must be a {_IND_KEYS[key].__name__}, got {value!r}")
    for key in _REQUIRED_IND:
        if key not in raw:
            raise StandardError(f"{where}: missing required key {key!r}")
    key = raw["key"]
    if key in INDICATORS:
        d = INDICATORS[key]
        unit, name_zh, name_en = d.unit, d.name_zh, d.name_en
    elif key in DERIVED_KEYS:
        unit, name_zh, name_en, _ = DERIVED_KEYS[key]
        if not raw.get("of_standard"):
            raise StandardError(f'{where}: {key!r} needs of_standard = "<standard id>"')
    else:
        valid = list(INDICATORS) + list(DERIVED_KEYS)
        close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise StandardError(
            f"{where}.key: unknown indicator {key!r}{hint} (valid: {', '.join(valid)})"
        )
    op = raw["op"]
    if op not in OPS:
        raise StandardError(f"{where}.op: {op!r} is not one of {', '.join(map(repr, OPS))}")
    unit = raw.get("unit", unit)
    if unit not in _UNITS:
        raise StandardError(f"{where}.unit: {unit!r} is not one of {', '.join(map(repr, _UNITS))}")
    mandatory = raw.get("mandatory", True)
    if "threshold" in raw:
        threshold = float(raw["threshold"])
        if not math.isfinite(threshold):
            raise StandardError(
                f"{where}.threshold must be a finite number, got {raw['threshold']!r}"
            )
    elif mandatory:
        raise StandardError(
            f"{where}: missing required key 'threshold' (only a mandatory = false indicator may "
            "leave it out, to be reported without a judgement)"
        )
    else:
        threshold = math.nan
    if unit == "ratio" and math.isfinite(threshold) and not 0.0 <= threshold <= 1.0:
        raise StandardError(
            f"{where}.threshold: {threshold!r} is not a fraction 0–1 (ratios are fractions: write "
            f"{threshold / 100:g} for {threshold:g} %)"
        )
    levels = raw["levels"]
    if not levels:
        raise StandardError(
            f'{where}.levels is empty; list the levels it applies to, e.g. ["county"]'
        )
    for lv in levels:
        if lv not in LEVELS:
            close = difflib.get_close_matches(str(lv), LEVELS, n=1, cutoff=0.5)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise StandardError(
                f"{where}.levels: {lv!r} is not a level{hint} (valid: {', '.join(LEVELS)})"
            )
    confirmed = raw.get("confirmed", True)
    note = raw.get("note", "")
    if not confirmed and not note.strip():
        raise StandardError(
            f"{where}: confirmed = false needs a note saying what is unconfirmed and why"
        )
    of_level = raw.get("of_level", "city")
    if of_level not in LEVELS:
        raise StandardError(f"{where}.of_level: {of_level!r} is not one of {', '.join(LEVELS)}")
    certified_min = _certified_min(where, raw, op, threshold, unit, bool(confirmed))
    return StandardIndicator(
        key=key,
        name_zh=raw.get("name_zh", name_zh),
        name_en=raw.get("name_en", name_en),
        op=op,
        threshold=threshold,
        level=tuple(levels),
        mandatory=bool(mandatory),
        confirmed=bool(confirmed),
        source=raw.get("source", ""),
        unit=unit,
        note=note,
        of_standard=raw.get("of_standard", ""),
        of_level=of_level,
        certified_min=certified_min,
        certified_source=raw.get("certified_source", ""),
    )


def _certified_min(
    where: str, raw: dict, op: str, threshold: float, unit: str, confirmed: bool
) -> float:
    """Check an indicator's ``certified_min`` (the evidence bound below an unconfirmed threshold)."""
    if "certified_min" not in raw:
        if "certified_source" in raw:
            raise StandardError(f"{where}: certified_source is given without certified_min")
        return math.nan
    value = float(raw["certified_min"])
    if confirmed:
        raise StandardError(
            f"{where}.certified_min: the threshold is confirmed = true, so it is the rule and a "
            "certified value below it cannot soften it; remove certified_min or set confirmed = false"
        )
    if op not in (">=", ">"):
        raise StandardError(
            f"{where}.certified_min: only for thresholds a unit must reach (op '>=' or '>'), "
            f"not {op!r}"
        )
    if not math.isfinite(value) or not math.isfinite(threshold):
        raise StandardError(
            f"{where}.certified_min must be a finite number below a threshold, got {value!r}"
        )
    if unit == "ratio" and not 0.0 <= value <= 1.0:
        raise StandardError(
            f"{where}.certified_min: {value!r} is not a fraction 0–1 (write {value / 100:g} for "
            f"{value:g} %)"
        )
    if not value < threshold:
        raise StandardError(
            f"{where}.certified_min = {value!r} is not below the threshold {threshold!r}: no "
            "certified unit was below the threshold, so there is nothing between them to call "
            "at risk; remove certified_min"
        )
    if not str(raw.get("certified_source", "")).strip():
        raise StandardError(
            f"{where}: certified_min needs certified_source saying which certified unit had it "
            "and where that is published"
        )
    return value


def _looks_like_path(item: str) -> bool:
    return item.endswith(".toml") or "/" in item or "\\" in item


def load_standards(ids_or_paths: list[str], base_dir: Path | None = None) -> list[Standard]:
    """Load standards by shipped id (``"fujian-2024"``) or by path to a user ``.toml``.

    Relative paths resolve against ``base_dir`` (the scenario's folder) when given, else the
    current directory.

    Raises
    ------
    StandardError
        For an unknown id (listing the shipped ones), a malformed file (naming file and key), or
        two standards with the same id.
    """
    if isinstance(ids_or_paths, str):
        ids_or_paths = [ids_or_paths]
    out: list[Standard] = []
    shipped = list_standards()
    for item in ids_or_paths:
        item = str(item)
        if _looks_like_path(item):
            p = Path(item).expanduser()
            if not p.is_absolute() and base_dir is not None:
                p = Path(base_dir) / p
            std = load_standard(p)
        elif item in shipped:
            std = load_standard(STANDARDS_DIR / f"{item}.toml")
        else:
            close = difflib.get_close_matches(item, shipped, n=1, cutoff=0.5)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise StandardError(
                f"unknown standard {item!r}: {hint}shipped standards are {', '.join(shipped)}; "
                "or give the path of a .toml file"
            )
        if any(s.id == std.id for s in out):
            raise StandardError(f"standard {std.id!r} is listed twice ({item!r})")
        out.append(std)
    return out


# ------------------------------------------------------------------------------------------------
# Evaluation
# ------------------------------------------------------------------------------------------------


def passes(value: float | None, op: str, threshold: float) -> bool:
    """``value op threshold`` for a standard's comparison operators; missing (None/NaN) never passes.

    Values within a relative 1e-9 of the threshold count as equal to it.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    tol = _TOL * max(1.0, abs(threshold))
    if op == ">=":
        return value >= threshold - tol
    if op == ">":
        return value > threshold + tol
    if op == "<=":
        return value <= threshold + tol
    if op == "<":
        return value < threshold - tol
    raise ValueError(f"unknown comparison {op!r}")


def _margin(value: float, op: str, threshold: float) -> float:
    return value - threshold if op in (">=", ">") else threshold - value


def _shortfall(num: float, den: float, op: str, threshold: float, integer: bool) -> float:
    """Change of the numerator (in its own units) needed to pass, with the denominator fixed.

    ≥: ceil(threshold·den − num); >: floor(threshold·den − num) + 1 (the smallest whole number
    that makes it strictly greater); ≤ / < mirror that as a reduction. Continuous units (km²)
    are not rounded.
    """
    if not (math.isfinite(num) and math.isfinite(den)):
        return math.nan
    need = threshold * den - num if op in (">=", ">") else num - threshold * den
    if not integer:
        return max(need, 0.0)
    need = round(need, 6)  # 0.8 × 1000 − 800 must not become 1 through rounding noise
    if op in (">=", "<="):
        return float(max(math.ceil(need), 0))
    return float(max(math.floor(need) + 1, 0))


def _rows_for(table: pd.DataFrame, std: Standard, ind: StandardIndicator, level: str) -> list[dict]:
    d = INDICATORS[ind.key]
    rows = []
    values = (
        pd.to_numeric(table[ind.key], errors="coerce")
        if ind.key in table.columns
        else pd.Series(np.nan, index=table.index)
    )
    nums = (
        pd.to_numeric(table[d.numerator], errors="coerce") if d.numerator in table.columns else None
    )
    dens = (
        pd.to_numeric(table[d.denominator], errors="coerce") / d.scale
        if d.denominator and d.denominator in table.columns
        else None
    )
    integer = d.shortfall_unit != "km2"
    codes = table["admin_code"].astype(str).tolist()
    names = table["name"].astype(str).tolist()
    v = values.to_numpy(dtype=np.float64)
    nu = nums.to_numpy(dtype=np.float64) if nums is not None else np.full(len(table), math.nan)
    if dens is not None:
        de = dens.to_numpy(dtype=np.float64)
    else:
        de = np.full(len(table), 1.0 if not d.denominator else math.nan)
    for i in range(len(table)):
        rows.append(
            _judge(
                codes[i],
                names[i],
                level,
                std,
                ind,
                float(v[i]),
                float(nu[i]),
                float(de[i]),
                integer,
                d.shortfall_unit,
            )
        )
    return rows


def _judge(code, name, level, std, ind, value, num, den, integer, sunit, undecided=False) -> dict:
    row = {
        "admin_code": code,
        "name": name,
        "level": level,
        "standard": std.id,
        "indicator": ind.key,
        "value": value,
        "op": ind.op,
        "threshold": ind.threshold,
        "mandatory": ind.mandatory,
        "status": "no_data",
        "margin": math.nan,
        "shortfall": math.nan,
        "shortfall_unit": sunit,
    }
    if not math.isfinite(value) or not math.isfinite(ind.threshold):
        return row  # no figure, or no threshold to judge it by
    row["margin"] = _margin(value, ind.op, ind.threshold)
    if passes(value, ind.op, ind.threshold):
        row["status"] = "pass"
        row["shortfall"] = 0.0
        return row
    if undecided:
        row["status"] = "no_data"
    elif ind.has_evidence_bound and passes(value, ">=", ind.certified_min):
        row["status"] = "at_risk"  # below the cited figure, not below every certified unit
    else:
        row["status"] = "fail"
    row["shortfall"] = _shortfall(num, den, ind.op, ind.threshold, integer)
    return row


def _derived_rows(
    ind: IndicatorSet, std: Standard, si: StandardIndicator, level: str, others: dict[str, Standard]
) -> list[dict]:
    """``cities_passing_share``: share of the unit's ``of_level`` units that pass ``of_standard``."""
    table = ind.units[level]
    target = others.get(si.of_standard)
    if target is None:
        target = _resolve(si.of_standard, std)
    sub = evaluate(ind, [target])
    st = unit_status(sub, [target])
    st = st[st["level"] == si.of_level]
    members = ind.units.get(si.of_level)
    rows = []
    sunit = DERIVED_KEYS[si.key][3]
    for i in range(len(table)):
        unit = table.iloc[i]
        code, name = str(unit["admin_code"]), str(unit["name"])
        if members is None or len(members) == 0:
            rows.append(
                _judge(code, name, level, std, si, math.nan, math.nan, math.nan, True, sunit)
            )
            continue
        mine = members[_belongs(members, code, level)]["admin_code"].astype(str)
        s = st[st["admin_code"].isin(set(mine))]["status"]
        n = len(mine)
        if n == 0:
            rows.append(
                _judge(code, name, level, std, si, math.nan, math.nan, math.nan, True, sunit)
            )
            continue
        n_pass = int((s == "pass").sum())
        n_nodata = n - n_pass - int((s == "fail").sum())
        value = n_pass / n
        # Undecided when the no-data cities could still make it pass.
        undecided = n_nodata > 0 and passes((n_pass + n_nodata) / n, si.op, si.threshold)
        rows.append(
            _judge(
                code, name, level, std, si, value, float(n_pass), float(n), True, sunit, undecided
            )
        )
    return rows


def _belongs(members: pd.DataFrame, code: str, level: str) -> pd.Series:
    """Which ``members`` rows lie in the unit ``code`` of ``level`` (parent code or code prefix)."""
    digits = {"province": 2, "city": 4, "county": 6}.get(level, 6)
    codes = members["admin_code"].astype(str)
    return (members["parent_code"].astype(str) == code) | (codes.str[:digits] == code[:digits])


def _resolve(ref: str, std: Standard) -> Standard:
    base = Path(std.path).parent if std.path else None
    return load_standards([ref], base_dir=base)[0]


def _meta(standards: list[Standard]) -> dict[str, Any]:
    return {
        s.id: {
            "title": s.title,
            "title_zh": s.title_zh,
            "version": s.version,
            "level_notes": dict(s.level_notes),
            "indicators": [
                {
                    "key": i.key,
                    "levels": list(i.level),
                    "mandatory": i.mandatory,
                    "confirmed": i.confirmed,
                    "unit": i.unit,
                    "name_en": i.name_en,
                    "name_zh": i.name_zh,
                    "op": i.op,
                    "threshold": i.threshold,
                    "note": i.note,
                    "certified_min": i.certified_min,
                    "certified_source": i.certified_source,
                }
                for i in s.indicators
            ],
        }
        for s in standards
    }


def evaluate(ind: IndicatorSet, standards: list[Standard]) -> pd.DataFrame:
    """The compliance table: one row per unit × standard × indicator (DESIGN.md §10).

    Every unit of every level an indicator applies to gets a row; a unit without the figure
    (no statistics, no population, no key places) gets ``status = "no_data"`` with NaN value,
    margin and shortfall. Standards' metadata (mandatory flags, confirmation, level notes) ride
    along in ``df.attrs["standards"]`` for :func:`unit_status` and :func:`print_compliance`.
    """
    rows: list[dict] = []
    by_id = {s.id: s for s in standards}
    for std in standards:
        for level in LEVELS:
            if level not in ind.units:
                continue
            table = ind.units[level]
            for si in std.applies_to(level):
                if si.key in DERIVED_KEYS:
                    rows.extend(_derived_rows(ind, std, si, level, by_id))
                else:
                    rows.extend(_rows_for(table, std, si, level))
    df = pd.DataFrame(rows, columns=list(COMPLIANCE_COLUMNS))
    for c in ("value", "threshold", "margin", "shortfall"):
        df[c] = df[c].astype(np.float64)
    df["mandatory"] = df["mandatory"].astype(bool)
    df.attrs["standards"] = _meta(standards)
    return df


def _flag_table(standards: Iterable[Any] | None, meta: Any) -> dict[tuple[str, str, str], bool]:
    """(standard, indicator, level) → mandatory, from standards or ``evaluate``'s metadata.

    ``standards`` may be :class:`Standard` objects or anything with ``id`` and ``indicators``
    whose items have ``key``, ``level`` or ``levels`` and ``mandatory`` (the report's
    ``StandardInfo``); an entry without levels applies to every level (``"*"``).
    """
    out: dict[tuple[str, str, str], bool] = {}
    if standards:
        for s in standards:
            for i in getattr(s, "indicators", None) or ():
                levels = getattr(i, "level", None) or getattr(i, "levels", None) or ("*",)
                for lv in (levels,) if isinstance(levels, str) else levels:
                    out[(str(s.id), str(i.key), str(lv))] = bool(getattr(i, "mandatory", True))
        return out
    for sid, m in (meta or {}).items():
        for i in m.get("indicators", []):
            for lv in i.get("levels", []) or ["*"]:
                out[(str(sid), str(i.get("key")), str(lv))] = bool(i.get("mandatory", True))
    return out


def mandatory_flags(df: pd.DataFrame, standards: Iterable[Any] | None = None) -> np.ndarray:
    """Whether each row of a compliance table is a mandatory indicator of its standard.

    From the table's ``mandatory`` column (written by :func:`evaluate` and kept in
    ``compliance.csv``); for rows without it (a table from an older run), from ``standards``,
    else from the metadata :func:`evaluate` leaves in ``df.attrs["standards"]``. An indicator
    found nowhere counts as mandatory: it can make a unit fail, never pass.
    """
    n = len(df)
    given = (
        np.array(df["mandatory"].map(_as_flag).tolist(), dtype=object)
        if "mandatory" in df.columns
        else np.full(n, None, dtype=object)
    )
    missing = [i for i in range(n) if given[i] is None]
    if missing:
        table = _flag_table(standards, df.attrs.get("standards"))
        std, key, lvl = (df[c].astype(str).to_numpy() for c in ("standard", "indicator", "level"))
        for i in missing:
            given[i] = table.get((std[i], key[i], lvl[i]), table.get((std[i], key[i], "*"), True))
    return given.astype(bool)


def _as_flag(value: Any) -> bool | None:
    """A ``mandatory`` cell as read from a table or CSV (True/False, 1/0, "true"/"false")."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    return None


def unit_status(df: pd.DataFrame, standards: Iterable[Any] | None = None) -> pd.DataFrame:
    """Overall status per unit × standard: the one rule every output uses.

    ``fail`` when any mandatory indicator fails; else ``at_risk`` when any is ``at_risk`` (below
    an unconfirmed threshold but not below every certified unit: neither pass nor fail); else
    ``no_data`` when any lacks data (missing data is never a pass); else ``pass``. Informative
    (``mandatory = false``) indicators do not count. Units for which a standard has no mandatory
    indicator at their level get no row (the standard does not judge them). Columns
    :data:`UNIT_STATUS_COLUMNS`: ``failed``, ``at_risk`` and ``no_data`` list the mandatory
    indicators in each state. Which indicators are mandatory: see :func:`mandatory_flags`.
    """
    cols = list(UNIT_STATUS_COLUMNS)
    if df is None or len(df) == 0:
        return pd.DataFrame(columns=cols)
    keys = ["standard", "level", "admin_code"]
    work = df[["standard", "level", "admin_code", "name", "indicator", "status"]].copy()
    work["admin_code"] = work["admin_code"].astype(str)
    work["name"] = work["name"].fillna("").astype(str)
    work = work[mandatory_flags(df, standards)]
    if work.empty:
        return pd.DataFrame(columns=cols)
    out = work.groupby(keys, sort=False)["name"].first().to_frame()
    for state, col in (("fail", "failed"), ("at_risk", "at_risk"), ("no_data", "no_data")):
        found = work[work["status"] == state].groupby(keys, sort=False)["indicator"].agg(list)
        out[col] = [found.get(k, []) for k in out.index]
    out["status"] = [
        "fail" if f else ("at_risk" if r else ("no_data" if n else "pass"))
        for f, r, n in zip(out["failed"], out["at_risk"], out["no_data"], strict=True)
    ]
    return out.reset_index()[cols]


# ------------------------------------------------------------------------------------------------
# Printing
# ------------------------------------------------------------------------------------------------

_SHORT = {
    "pop_coverage_5g": "5G pop.",
    "area_coverage_5g": "5G area",
    "sites_5g_per_10k": "5G sites/10k",
    "key_place_reach_5g": "Key places",
    "village_reach_5g": "Villages",
    "household_gigabit_coverage": "Gigabit HH",
    "pon_10g_share": "10G-PON",
    "users_500m_share": "500M+ users",
    "users_1000m_count": "1000M users",
    "users_1000m_share": "1000M share",
    "users_5g_share": "5G users",
    "cities_passing_share": "Cities pass",
    "pop_coverage_4g": "4G pop.",
    "area_coverage_4g": "4G area",
    "key_place_reach_4g": "Key pl. 4G",
    "village_reach_4g": "Vill. 4G",
}
_SHORTFALL_ABBR = {
    "persons": "persons",
    "sites": "sites",
    "households": "hh",
    "ports": "ports",
    "users": "users",
    "km2": "km²",
    "key_places": "places",
    "villages": "villages",
    "cities": "cities",
}
_STYLE = {"pass": "green", "at_risk": "dark_orange", "fail": "bold red", "no_data": "yellow"}
_STATUS_TEXT = {"pass": "pass", "at_risk": "at risk", "fail": "FAIL", "no_data": "no data"}
_OP_TEXT = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}
_VILLAGE_PRINT_LIMIT = 60


def _fmt(value: float, unit: str) -> str:
    if not math.isfinite(value):
        return "—"
    if unit == "ratio":
        return f"{value * 100:.1f}%"
    if unit == "per_10k":
        return f"{value:.1f}"
    return f"{value:,.0f}"


def _fmt_shortfall(x: float, sunit: str) -> str:
    if not math.isfinite(x) or x <= 0:
        return ""
    abbr = _SHORTFALL_ABBR.get(sunit, sunit)
    return f"+{x:,.1f} {abbr}" if sunit == "km2" else f"+{x:,.0f} {abbr}"


def print_compliance(df: pd.DataFrame, level: str | None = None, *, console=None) -> None:
    """Print the compliance table to the terminal (rich), one table per standard and level.

    One row per unit with its overall status, one column per indicator: the value (ratios as
    percentages) coloured green (pass), red (fail) or yellow (no data), with the shortfall under
    failing values. Unconfirmed thresholds are starred; level notes (e.g. "county results by
    analogy") are printed under the table. Villages are listed only with ``level="village"`` or
    when there are few of them.
    """
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    if console is None:
        console = Console(highlight=False)
        if not console.is_terminal:
            console = Console(highlight=False, width=max(console.width, 140))
    if level:
        df = df[df["level"] == level]
    if len(df) == 0:
        console.print("No compliance rows" + (f" at level {level!r}" if level else "") + ".")
        return
    meta = _mandatory_meta(df)
    status = unit_status(df)
    for std in dict.fromkeys(df["standard"]):
        smeta = meta.get(std, {})
        for lv in LEVELS:
            part = df[(df["standard"] == std) & (df["level"] == lv)]
            if len(part) == 0:
                continue
            n_units = part["admin_code"].nunique()
            if lv == "village" and level != "village" and n_units > _VILLAGE_PRINT_LIMIT:
                st = status[(status["standard"] == std) & (status["level"] == lv)][
                    "status"
                ].value_counts()
                console.print(
                    f"[bold]{terminal_text(std)}[/bold] — {n_units} villages: "
                    + ", ".join(f"{st.get(k, 0)} {_STATUS_TEXT[k]}" for k in STATUSES)
                    + " (list them with --level village)"
                )
                continue
            keys = list(dict.fromkeys(part["indicator"]))
            ind_meta = {(i["key"]): i for i in smeta.get("indicators", []) if lv in i["levels"]}
            ust = status[(status["standard"] == std) & (status["level"] == lv)].set_index(
                "admin_code"
            )["status"]
            counts = ust.value_counts()
            if len(ust):
                tally = f"{n_units}: " + ", ".join(
                    f"{counts.get(k, 0)} {_STATUS_TEXT[k]}" for k in STATUSES
                )
            else:
                tally = f"{n_units}, for information: no mandatory indicator at this level"
            title = f"{std} — {smeta.get('title', '')} — {lv} ({tally})"
            table = Table(title=terminal_text(title), title_justify="left", show_lines=False)
            table.add_column("Unit", no_wrap=True)
            table.add_column("Status", no_wrap=True)
            starred = False
            for k in keys:
                im = ind_meta.get(k, {})
                thr = part.loc[part["indicator"] == k, "threshold"].iloc[0]
                unit = im.get("unit", INDICATORS[k].unit if k in INDICATORS else "ratio")
                op = _OP_TEXT.get(part.loc[part["indicator"] == k, "op"].iloc[0], "")
                star = "" if im.get("confirmed", True) else "*"
                starred |= bool(star)
                opt = "" if im.get("mandatory", True) else " (info)"
                thr_txt = f"{op}{_fmt(thr, unit)}" if math.isfinite(thr) else "no threshold"
                table.add_column(
                    terminal_text(f"{_SHORT.get(k, k)}") + f"\n{thr_txt}{star}{opt}",
                    justify="right",
                )
            for code, g in part.groupby("admin_code", sort=False):
                s = ust.get(code, "")
                cells = [
                    Text(clean_text(f"{g['name'].iloc[0]} {code}")),
                    Text(_STATUS_TEXT.get(s, "—"), style=_STYLE.get(s, "dim")),
                ]
                byk = g.set_index("indicator")
                for k in keys:
                    if k not in byk.index:
                        cells.append(Text(""))
                        continue
                    r = byk.loc[k]
                    unit = ind_meta.get(k, {}).get(
                        "unit", INDICATORS[k].unit if k in INDICATORS else "ratio"
                    )
                    txt = _fmt(float(r["value"]), unit)
                    sf = _fmt_shortfall(float(r["shortfall"]), r["shortfall_unit"])
                    if r["status"] in ("fail", "at_risk") and sf:
                        txt += f"\n{sf}"
                    cells.append(Text(txt, style=_STYLE[r["status"]]))
                table.add_row(*cells)
            console.print(table)
            if starred:
                console.print(
                    "  * threshold not confirmed against the official text (see the standard file's notes)"
                )
            if (part["status"] == "at_risk").any():
                console.print(
                    "  at risk: below an unconfirmed threshold, but not below the lowest value of "
                    "a certified unit (certified_min); neither pass nor fail"
                )
            note = smeta.get("level_notes", {}).get(lv)
            if note:
                console.print(f"  Note ({lv}): {terminal_text(note)}")
            console.print()


def _mandatory_meta(df: pd.DataFrame) -> dict[str, Any]:
    meta = df.attrs.get("standards")
    if meta:
        return meta
    shipped = set(list_standards())
    known = [i for i in dict.fromkeys(df["standard"]) if i in shipped]
    return _meta(load_standards(known)) if known else {}
