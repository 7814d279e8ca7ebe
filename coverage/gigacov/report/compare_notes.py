"""Notes that a comparison of two runs carries: what a reader must know to read the changes.

* :func:`years_notes`: two runs of one year, or the later year given first;
* :func:`partial_rollups`: a city's or the province's figure rolled up from other counties in
  the two runs (statistics of other counties each year): its change is not computed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .compare import RunTables

__all__ = ["years_notes", "partial_rollups"]


def years_notes(a: RunTables, b: RunTables) -> list[str]:
    """Two runs of one year, or the later year given first: the comparison is still made (two
    runs of one year show what other inputs or settings change), but not as a year over year."""
    ya, yb = a.year, b.year
    if not (isinstance(ya, int) and isinstance(yb, int)):
        return []
    if ya == yb:
        return [
            f"both runs are for {ya}: the comparison shows what changed between two runs of the "
            "same year (their inputs or settings), not a change from one year to the next"
        ]
    if ya > yb:
        return [
            f"the first run is for {ya} and the second for {yb}: the first is taken as the "
            "earlier one, so every change reads backwards in time; give the earlier year's run "
            "first"
        ]
    return []


def partial_rollups(a: RunTables, b: RunTables, changes: pd.DataFrame) -> list[str]:
    """A city's or the province's figure is the roll-up of the counties that have data. When
    the counties with data differ between the two runs (statistics of 3 counties in 2023, of 3
    others in 2024), the two figures describe different places: their change is not computed
    (``delta`` is NaN) and a note names the counties. Changes in place."""
    if "county" not in a.units or "county" not in b.units:
        return []
    parent: dict[str, str] = {}
    for t in (a.units["county"], b.units["county"]):
        if "parent_code" in t.columns:
            parent.update(
                zip(t["admin_code"].astype(str), t["parent_code"].astype(str), strict=True)
            )
    counties = changes[changes["level"] == "county"]
    upper = changes["level"].isin(["city", "province"]).to_numpy()
    found: dict[tuple[str, str], tuple[list[str], set[str], set[str]]] = {}
    for ind, g in counties.groupby("indicator", sort=False):
        with_a = set(g.loc[g["value_a"].notna(), "admin_code"].astype(str))
        with_b = set(g.loc[g["value_b"].notna(), "admin_code"].astype(str))
        if with_a == with_b:
            continue
        for i in np.flatnonzero(upper & (changes["indicator"] == ind).to_numpy()):
            code, level = str(changes["admin_code"].iat[i]), changes["level"].iat[i]
            members = {c for c, p in parent.items() if level == "province" or p == code}
            in_a, in_b = with_a & members, with_b & members
            if in_a == in_b or not (in_a and in_b):
                continue
            changes.iloc[i, changes.columns.get_loc("delta")] = np.nan
            changes.iloc[i, changes.columns.get_loc("delta_pp")] = np.nan
            key = (code, str(changes["name"].iat[i]))
            inds, only_a, only_b = found.setdefault(key, ([], set(), set()))
            inds.append(str(ind))
            only_a |= in_a - in_b
            only_b |= in_b - in_a
    notes = []
    for (code, name), (inds, only_a, only_b) in found.items():
        notes.append(
            f"{name} ({code}): {', '.join(inds)} rolled up from other counties in the two runs "
            f"(only in {a.label}: {', '.join(sorted(only_a)) or '—'}; only in {b.label}: "
            f"{', '.join(sorted(only_b)) or '—'}); their change is not computed — compare the "
            "counties present in both"
        )
    return notes
