"""What the command line prints: the compliance tables, the plan summary and the inputs table.

Presentation only, for people at a terminal (rich tables); the library computes and returns data,
and ``--json`` prints that data instead. Every name or title that comes from an input file goes
through :func:`gigacov.text.terminal_text` (no control characters, no rich markup).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from .catalogue import INDICATORS, LEVELS
from .compliance import STATUSES, standards_meta, unit_status
from .formatting import format_threshold, format_value
from .planning.result import PlanResult
from .run_result import RunResult
from .standard_files import list_standards, load_standards
from .text import clean_text, terminal_text

__all__ = ["print_compliance", "print_plan", "print_inputs"]


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
_VILLAGE_PRINT_LIMIT = 60


def stdout_console():
    """A rich console on stdout; when stdout is a file or a pipe, wide enough (160 columns)
    that tables are not cut to 80 columns."""
    from rich.console import Console

    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=max(console.width, 160))
    return console


def _decimals(unit: str) -> int:
    """Decimals of a compliance value in the terminal: none for counts, else one."""
    return 0 if unit == "count" else 1


def _fmt(value: float, unit: str) -> str:
    """A compliance value for the terminal: ratios in %, counts without decimals."""
    return format_value(value, ratio=unit == "ratio", decimals=_decimals(unit))


def _fmt_shortfall(x: float, sunit: str) -> str:
    if not math.isfinite(x) or x <= 0:
        return ""
    abbr = _SHORTFALL_ABBR.get(sunit, sunit)
    return f"+{x:,.1f} {abbr}" if sunit == "km2" else f"+{x:,.0f} {abbr}"


def print_compliance(
    df: pd.DataFrame, level: str | None = None, *, console=None, standards=None
) -> None:
    """Print the compliance table to the terminal (rich), one table per standard and level.

    One row per unit with its overall status, one column per indicator: the value (ratios as
    percentages) coloured green (pass), red (fail) or yellow (no data), with the shortfall under
    failing values. Unconfirmed thresholds are starred; level notes (e.g. "county results by
    analogy") are printed under the table. Villages are listed only with ``level="village"`` or
    when there are few of them.
    """
    from rich.table import Table
    from rich.text import Text

    if console is None:
        console = stdout_console()
    if level:
        df = df[df["level"] == level]
    if len(df) == 0:
        console.print("No compliance rows" + (f" at level {level!r}" if level else "") + ".")
        return
    # the run's own standards (a user's file included) name the tables; else the shipped ones
    meta = standards_meta(standards) if standards else _mandatory_meta(df)
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
                op = part.loc[part["indicator"] == k, "op"].iloc[0]
                star = "" if im.get("confirmed", True) else "*"
                starred |= bool(star)
                opt = "" if im.get("mandatory", True) else " (info)"
                thr_txt = (
                    format_threshold(op, thr, unit == "ratio", _decimals(unit), separator="")
                    if math.isfinite(thr)
                    else "no threshold"
                )
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
    return standards_meta(load_standards(known)) if known else {}


def _fmt_plan(v: Any, key: str) -> str:
    """A planning indicator for the terminal: sites per 10,000 people with two decimals, else %."""
    return format_value(
        v, ratio=key != "sites_5g_per_10k", decimals=2 if key == "sites_5g_per_10k" else 1
    )


def print_plan(plan: PlanResult, console=None) -> None:
    """Print a readable summary of the plan (rich tables) to ``console`` (default: stdout)."""
    from rich.table import Table

    console = console or stdout_console()
    s = plan.summary()
    title = "Planning" + (" (synthetic data)" if s["synthetic"] else "")
    operator = (s.get("settings") or {}).get("operator") or ""
    if operator:
        from .operators import operator_label

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
                    _fmt_plan(ind["before"], key),
                    _fmt_plan(ind["after"], key),
                    f"{ind['op']} {_fmt_plan(thr, key)}",
                    f"{ind['status_before']} → {ind['status_after']}",
                )
        console.print(t)
        for c in s["counties"]:
            if c["stop_reason"] not in ("targets_met", "not_failing", ""):
                console.print(
                    terminal_text(f"{c['admin_code']} {c['name']}")
                    + f": stopped ({c['stop_reason']}): {terminal_text(c['stop_message'])}"
                )


def print_inputs(result: RunResult, console=None) -> None:
    """The inputs of a run as a table: file rows read, used, rejected, repaired, skipped (with
    the reasons) and the defaults applied."""
    from rich.table import Table

    reports = [r.to_dict() for r in result.inputs.reports]
    table = Table(title=f"inputs of {terminal_text(result.scenario.name)} (counts are file rows)")
    numeric = ("rows read", "used", "rejected")
    for col in (
        "input",
        "path",
        *numeric,
        "repaired (rows)",
        "skipped (why)",
        "defaults applied (rows)",
    ):
        table.add_column(col, justify="right" if col in numeric else "left")
    for r in reports:
        defaults = ", ".join(f"{k}: {v}" for k, v in r["defaults"].items()) or "-"
        # per reason: one row can be repaired for two reasons (split and lat/lon exchanged)
        fixed = ", ".join(f"{k}: {v}" for k, v in r.get("fixed", {}).items()) or "-"
        why = r.get("skipped_reasons") or {}
        skipped = str(r.get("skipped", 0)) + (
            " (" + ", ".join(f"{k}: {v}" for k, v in why.items()) + ")" if why else ""
        )
        used = str(r["used"]) + (f" ({r['cells']} cells)" if "cells" in r else "")
        table.add_row(
            terminal_text(r["input"]),
            terminal_text(r["path"]),
            str(r["read"]),
            used,
            str(r["rejected"]),
            str(fixed),
            skipped,
            terminal_text(defaults),
        )
    console = console or stdout_console()
    console.print(table)
    n_warn = len(result.inputs.warnings)
    if n_warn:
        # the warnings themselves went to stderr with the log, each once
        console.print(f"warnings: {n_warn} (on stderr above; all in --json)", highlight=False)
