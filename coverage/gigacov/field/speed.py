"""Fixed-broadband speed tests against the reported 500 Mbps+ and gigabit user shares.

Per county, the share of fixed-broadband speed tests (``tech = fixed``) that reach 500 Mbit/s and
1000 Mbit/s is set next to the reported shares of users on 500 Mbps+ and gigabit plans
(``users_500m_share``, ``users_1000m_share``). The two measure different things (a test measures
one line at one moment, Wi-Fi included; the statistics count subscriptions), so a gap larger than
``[measurements] speed_disagreement_pp`` percentage points is a *data-quality note*, never a
change of verdict.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["speed_tests_by_county", "SPEED_THRESHOLDS_MBPS"]

SPEED_THRESHOLDS_MBPS = (500.0, 1000.0)


def speed_tests_by_county(
    samples: pd.DataFrame,
    counties: pd.DataFrame | None,
    *,
    disagreement_pp: float = 10.0,
) -> list[dict[str, Any]]:
    """One entry per county with fixed-broadband tests.

    ``counties`` is the county table of the indicators (``admin_code, name, users_500m_share,
    users_1000m_share``) or None. Each entry: ``admin_code, name, tests, share_500_tests,
    share_1000_tests, reported_500_share, reported_1000_share, gap_500_pp, gap_1000_pp, notes``.
    """
    fixed = samples[(samples["tech"] == "fixed") & np.isfinite(samples["download_mbps"])]
    if fixed.empty:
        return []
    rep = {}
    if counties is not None and len(counties):
        for row in counties.itertuples(index=False):
            rep[str(row.admin_code)] = (
                str(row.name),
                float(getattr(row, "users_500m_share", math.nan)),
                float(getattr(row, "users_1000m_share", math.nan)),
            )
    out = []
    for code, part in fixed.groupby("admin_code", sort=True):
        speeds = part["download_mbps"].to_numpy(dtype=np.float64)
        name, r500, r1000 = rep.get(
            str(code), ("" if code else "(outside the counties)", math.nan, math.nan)
        )
        s500 = float((speeds >= 500.0).mean())
        s1000 = float((speeds >= 1000.0).mean())
        gap500 = 100.0 * (s500 - r500) if math.isfinite(r500) else math.nan
        gap1000 = 100.0 * (s1000 - r1000) if math.isfinite(r1000) else math.nan
        notes = []
        for label, gap in (("500 Mbps+", gap500), ("gigabit", gap1000)):
            if math.isfinite(gap) and abs(gap) > disagreement_pp:
                notes.append(
                    f"speed tests reaching {label}: {gap:+.1f} percentage points against the "
                    f"reported {label} user share (data-quality note; the verdict is unchanged)"
                )
        out.append(
            {
                "admin_code": str(code),
                "name": name,
                "tests": int(speeds.size),
                "share_500_tests": s500,
                "share_1000_tests": s1000,
                "reported_500_share": r500,
                "reported_1000_share": r1000,
                "gap_500_pp": gap500,
                "gap_1000_pp": gap1000,
                "notes": notes,
            }
        )
    return out
