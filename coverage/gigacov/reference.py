"""Reference outcomes: published indicators of units that were certified (``data/reference/``).

MIIT certifies gigabit cities by a comprehensive evaluation and publishes their key indicators.
A certified city is an outcome a standard file must agree with: a threshold that calls it failing
cannot be a hard pass/fail rule. This module reads such tables and evaluates a standard on them,
so that the tests can hold the shipped standards to the evidence and the report can say which
certified cities were below an unconfirmed threshold.

A reference file is a CSV in ``data/reference/`` (``<name>.csv``, its source in
``PROVENANCE.md`` beside it) with a ``city`` column, optional ``city_en`` and ``batch``, and one
column per indicator: an indicator key of :data:`gigacov.indicators.INDICATORS`, or the key with
``_pct`` for shares published in per cent (divided by 100 here).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .catalogue import INDICATORS, IndicatorSet, indicator_definitions
from .compliance import evaluate
from .errors import InputError
from .standard_files import Standard

__all__ = [
    "REFERENCE_DIR",
    "CertifiedBelow",
    "reference_path",
    "read_reference_outcomes",
    "evaluate_reference",
    "certified_below",
]

#: ``data/reference/`` in the repository.
REFERENCE_DIR = Path(__file__).resolve().parents[2] / "data" / "reference"


@dataclass(frozen=True)
class CertifiedBelow:
    """A certified city whose published value is below a standard's (unconfirmed) threshold."""

    city: str
    city_en: str
    batch: str
    indicator: str
    value: float
    op: str
    threshold: float
    status: str  # at_risk (not below certified_min) or fail (below it: the standard contradicts)


def reference_path(name_or_path: str, base_dir: Path | None = None) -> Path:
    """The CSV of a reference data set: a name in ``data/reference/`` or a path to a ``.csv``."""
    if name_or_path.endswith(".csv") or "/" in name_or_path or "\\" in name_or_path:
        p = Path(name_or_path).expanduser()
        if not p.is_absolute() and base_dir is not None:
            p = base_dir / p
        return p
    return REFERENCE_DIR / f"{name_or_path}.csv"


def read_reference_outcomes(name_or_path: str, base_dir: Path | None = None) -> pd.DataFrame:
    """Read a reference table: ``city, city_en, batch`` and indicator keys (fractions for shares).

    Raises
    ------
    InputError
        When the file is missing, has no ``city`` column or no indicator column, or a value is
        not a number (naming file, row and column).
    """
    path = reference_path(name_or_path, base_dir)
    if not path.is_file():
        raise InputError(f"reference outcomes {str(path)!r} do not exist")
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    if "city" not in raw.columns:
        raise InputError(f"{path}: no 'city' column (columns: {', '.join(raw.columns)})")
    out = pd.DataFrame(
        {
            "city": raw["city"].str.strip(),
            "city_en": raw.get("city_en", pd.Series("", index=raw.index)).str.strip(),
            "batch": raw.get("batch", pd.Series("", index=raw.index)).str.strip(),
        }
    )
    found = False
    for col in raw.columns:
        key, scale = (col[:-4], 100.0) if col.endswith("_pct") else (col, 1.0)
        if key not in INDICATORS:
            continue
        found = True
        values = []
        for i, text in enumerate(raw[col]):
            text = text.strip().rstrip("%").strip()
            try:
                values.append(float(text) / scale if text else math.nan)
            except ValueError:
                raise InputError(
                    f"{path}: row {i + 2}, column {col!r}: {raw[col].iloc[i]!r} is not a number"
                ) from None
        out[key] = values
    if not found:
        raise InputError(
            f"{path}: no indicator column (name columns by indicator key, e.g. "
            "'sites_5g_per_10k', or 'pon_10g_share_pct' for per cent)"
        )
    return out


def _as_indicator_set(outcomes: pd.DataFrame) -> IndicatorSet:
    table = outcomes.rename(columns={"city": "name", "city_en": "name_en"}).copy()
    table["admin_code"] = table["name"]
    table["level"] = "city"
    table["parent_code"] = ""
    table = gpd.GeoDataFrame(table, geometry=[None] * len(table), crs=4326)
    return IndicatorSet(units={"city": table}, key_places=None, definitions=indicator_definitions())


def evaluate_reference(standard: Standard, outcomes: pd.DataFrame) -> pd.DataFrame:
    """The compliance table of ``standard`` at city level for the reference cities.

    Indicators the reference does not publish are ``no_data``; ``admin_code`` and ``name`` hold
    the city's name.
    """
    df = evaluate(_as_indicator_set(outcomes), [standard])
    return df[df["level"] == "city"].reset_index(drop=True)


def certified_below(standard: Standard) -> list[CertifiedBelow]:
    """Certified cities of the standard's ``reference_outcomes`` below one of its thresholds.

    Empty when the standard names no reference outcomes or their file is not there (an installed
    copy without the repository's ``data/``).
    """
    if not standard.reference_outcomes:
        return []
    base = Path(standard.path).parent if standard.path else None
    if not reference_path(standard.reference_outcomes, base).is_file():
        return []
    outcomes = read_reference_outcomes(standard.reference_outcomes, base)
    df = evaluate_reference(standard, outcomes)
    below = df[df["status"].isin(("at_risk", "fail"))]
    info = outcomes.set_index("city")
    return [
        CertifiedBelow(
            city=r.name,
            city_en=str(info.at[r.name, "city_en"]),
            batch=str(info.at[r.name, "batch"]),
            indicator=r.indicator,
            value=float(r.value),
            op=r.op,
            threshold=float(r.threshold),
            status=r.status,
        )
        for r in below.itertuples()
    ]
