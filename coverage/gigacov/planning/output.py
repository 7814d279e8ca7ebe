"""Writing and printing a plan: ``gaps.gpkg``, ``recommended_sites.csv/.gpkg`` and a console summary."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..text import terminal_text, write_csv
from .core import PlanResult

__all__ = ["write_plan", "print_plan"]


def write_plan(plan: PlanResult, run_dir: Path) -> dict[str, Path]:
    """Write the plan into a run directory, each file atomically.

    Returns
    -------
    dict
        ``{"gaps": gaps.gpkg, "recommended_csv": recommended_sites.csv,
        "recommended_gpkg": recommended_sites.gpkg}``. The GeoPackages are WGS84 (layers
        ``gaps`` and ``recommended_sites``); the CSV is UTF-8 with BOM (opens in Excel with its
        Chinese names intact) and carries ``lon``/``lat`` columns.
    """
    from ..pipeline import atomic_path

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    out = {
        "gaps": run_dir / "gaps.gpkg",
        "recommended_csv": run_dir / "recommended_sites.csv",
        "recommended_gpkg": run_dir / "recommended_sites.gpkg",
    }
    with atomic_path(out["gaps"]) as tmp:
        plan.gaps.to_crs(4326).to_file(
            tmp,
            layer="gaps",
            driver="GPKG",
            geometry_type="MultiPolygon" if len(plan.gaps) == 0 else None,
        )
    with atomic_path(out["recommended_csv"]) as tmp:
        write_csv(plan.recommended.drop(columns="geometry"), tmp, encoding="utf-8-sig")
    with atomic_path(out["recommended_gpkg"]) as tmp:
        plan.recommended.to_crs(4326).to_file(
            tmp,
            layer="recommended_sites",
            driver="GPKG",
            geometry_type="Point" if len(plan.recommended) == 0 else None,
        )
    return out


def _fmt(v: Any, key: str) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if key == "sites_5g_per_10k":
        return f"{v:.2f}"
    return f"{100 * v:.1f}%"


def print_plan(plan: PlanResult, console=None) -> None:
    """Print a readable summary of the plan (rich tables) to ``console`` (default: stdout)."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    s = plan.summary()
    title = "Planning" + (" (synthetic data)" if s["synthetic"] else "")
    operator = (s.get("settings") or {}).get("operator") or ""
    if operator:
        from ..operators import operator_label

        title += f" for {operator_label(operator)}'s own network"
    g = s["gaps"]
    console.print(
        f"[bold]{title}[/bold]: {g['count']} weak-coverage areas, {g['population']:,.0f} persons, "
        f"{g['area_km2']:,.1f} km²; {s['sites_recommended']} new sites recommended"
    )
    if g["largest"]:
        t = Table(title="Largest weak-coverage areas")
        for col in ("rank", "county", "persons", "km²", "nearest 5G site", "distance m"):
            t.add_column(
                col, justify="right" if col in ("rank", "persons", "km²", "distance m") else "left"
            )
        for r in g["largest"]:
            t.add_row(
                str(r["rank"]),
                terminal_text(f"{r['admin_code']} {r['county_name']}"),
                f"{r['population']:,.0f}",
                f"{r['area_km2']:.2f}",
                terminal_text(r["nearest_site_id"] or "—"),
                "—" if r["nearest_site_m"] is None else f"{r['nearest_site_m']:,.0f}",
            )
        console.print(t)
    if s["counties"]:
        t = Table(title="Counties")
        for col in (
            "county",
            "before",
            "after",
            "sites",
            "people covered",
            "key places",
            "villages",
            "stop",
        ):
            t.add_column(
                col,
                justify="right"
                if col in ("sites", "people covered", "key places", "villages")
                else "left",
            )
        for c in s["counties"]:
            after = c["status_after"] + (
                " ✓ verified"
                if c["verified"]
                else " (verification failed)"
                if c["verified"] is False
                else ""
            )
            t.add_row(
                terminal_text(f"{c['admin_code']} {c['name']}"),
                c["status_before"],
                after,
                str(c["sites_added"]),
                f"{c['people_covered']:,.0f}",
                str(c["key_places_reached"]),
                str(c["villages_reached"]),
                c["stop_reason"],
            )
        console.print(t)
        t = Table(title="Targeted indicators, before → after")
        for col in ("county", "indicator", "before", "after", "target", "status"):
            t.add_column(col)
        for c in s["counties"]:
            for key, ind in c["indicators"].items():
                if not ind["targeted"]:
                    continue
                thr = ind["threshold"]
                t.add_row(
                    terminal_text(f"{c['admin_code']} {c['name']}"),
                    terminal_text(key),
                    _fmt(ind["before"], key),
                    _fmt(ind["after"], key),
                    f"{ind['op']} {_fmt(thr, key)}",
                    f"{ind['status_before']} → {ind['status_after']}",
                )
        console.print(t)
        for c in s["counties"]:
            if c["stop_reason"] not in ("targets_met", "not_failing", ""):
                console.print(
                    terminal_text(f"{c['admin_code']} {c['name']}")
                    + f": stopped ({c['stop_reason']}): {terminal_text(c['stop_message'])}"
                )
