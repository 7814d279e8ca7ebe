"""Standard files (``standards/*.toml``): what they hold, and loading them (:class:`Standard`).

The evaluation of indicators against a standard is :mod:`gigacov.compliance`.

A standard file (docs/design.md §3) holds its identity and provenance and a list of indicators, each
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
    key = "household_gigabit_coverage"   # an indicator key (docs/design.md §8) or "cities_passing_share"
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

from .catalogue import INDICATORS, LEVELS
from .errors import StandardError

__all__ = [
    "OPS",
    "DERIVED_KEYS",
    "STANDARDS_DIR",
    "StandardIndicator",
    "Standard",
    "list_standards",
    "load_standard",
    "load_standards",
    "StandardInfo",
    "ThresholdInfo",
    "standards_info",
]

log = logging.getLogger(__name__)

#: Comparison operators a standard's indicator may use.
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
# What the outputs show of a standard
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThresholdInfo:
    """One indicator of one standard, as a report shows it."""

    standard: str
    key: str
    name_zh: str
    name_en: str
    op: str
    threshold: float
    levels: tuple[str, ...]
    mandatory: bool
    confirmed: bool
    source: str
    note: str = ""
    certified_min: float = math.nan
    certified_source: str = ""

    def applies_to(self, level: str) -> bool:
        return not self.levels or level in self.levels


@dataclass(frozen=True)
class StandardInfo:
    """A standard as the outputs show it: identity, sources, indicators and level notes.

    Read from :class:`Standard` or any object with its attributes (a run read back, a test's
    namespace) by :func:`standards_info`; a standard known only by its id has just ``id`` and
    ``title``.
    """

    id: str
    title: str
    issuer: str = ""
    source: str = ""
    version: str = ""
    year: Any = None
    notes: str = ""
    indicators: tuple[ThresholdInfo, ...] = field(default_factory=tuple)
    title_zh: str = ""
    url: str = ""
    level_notes: tuple[tuple[str, str], ...] = ()

    @property
    def unconfirmed(self) -> list[ThresholdInfo]:
        return [t for t in self.indicators if not t.confirmed]

    @property
    def unconfirmed_keys(self) -> frozenset[str]:
        """Keys of the indicators whose threshold is not confirmed."""
        return frozenset(t.key for t in self.indicators if not t.confirmed)

    def level_note(self, level: str) -> str | None:
        """The standard's note for ``level`` (e.g. county results computed by analogy)."""
        return dict(self.level_notes).get(level)

    def get(self, key: str, level: str | None = None) -> ThresholdInfo | None:
        """The indicator ``key`` (the entry that applies to ``level`` when given)."""
        for t in self.indicators:
            if t.key == key and (level is None or t.applies_to(level)):
                return t
        return None


def _as_levels(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def standards_info(standards: Iterable[Any] | None) -> list[StandardInfo]:
    """Read the attributes of ``Standard``-like objects (duck-typed, missing ones empty)."""
    out = []
    for s in standards or []:
        sid = str(getattr(s, "id", ""))
        inds = []
        for ind in getattr(s, "indicators", []) or []:
            name = getattr(ind, "name", "") or ""
            inds.append(
                ThresholdInfo(
                    standard=sid,
                    key=str(getattr(ind, "key", "")),
                    name_zh=str(getattr(ind, "name_zh", "") or name),
                    name_en=str(getattr(ind, "name_en", "") or name),
                    op=str(getattr(ind, "op", "")),
                    threshold=float(getattr(ind, "threshold", math.nan)),
                    levels=_as_levels(getattr(ind, "level", None)),
                    mandatory=bool(getattr(ind, "mandatory", True)),
                    confirmed=bool(getattr(ind, "confirmed", True)),
                    source=str(getattr(ind, "source", "") or ""),
                    note=str(getattr(ind, "note", "") or ""),
                    certified_min=float(getattr(ind, "certified_min", math.nan)),
                    certified_source=str(getattr(ind, "certified_source", "") or ""),
                )
            )
        out.append(
            StandardInfo(
                id=sid,
                title=str(getattr(s, "title", "") or ""),
                issuer=str(getattr(s, "issuer", "") or ""),
                source=str(getattr(s, "source", "") or ""),
                version=str(getattr(s, "version", "") or ""),
                year=getattr(s, "year", None),
                notes=str(getattr(s, "notes", "") or "").strip(),
                indicators=tuple(inds),
                title_zh=str(getattr(s, "title_zh", "") or ""),
                url=str(getattr(s, "url", "") or ""),
                level_notes=tuple(
                    (str(k), str(v)) for k, v in (getattr(s, "level_notes", None) or {}).items()
                ),
            )
        )
    return out
