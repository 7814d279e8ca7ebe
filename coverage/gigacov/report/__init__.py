"""Annual-review outputs: the Excel workbook, the HTML report and the year-over-year comparison.

docs/design.md §8. ``write_report(run)`` writes ``compliance.xlsx`` and ``report.html`` into
the run directory; ``compare_runs(dir_a, dir_b)`` writes ``comparison.xlsx`` and
``comparison.html``. Both write atomically (temporary file, then rename).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ..errors import ConfigError, RunError
from ..run_result import RunResult
from .charts import find_cjk_font
from .compare import Comparison, RunTables, compare_runs, compute_comparison, load_run, run_tables

__all__ = [
    "write_report",
    "compare_runs",
    "compute_comparison",
    "load_run",
    "run_tables",
    "Comparison",
    "RunTables",
    "find_cjk_font",
]

log = logging.getLogger(__name__)


def _previous_run_section(run: RunResult, font: str) -> dict[str, Any] | None:
    """The year-over-year context for ``[report] previous_run``, or None when it is not set.

    A previous run that is missing or incomplete is a configuration error (raised before any
    file is written). A previous run made with other standards or another grid is not an error
    for the report: the section then says why it does not compare (unless
    ``[report] force_compare``).
    """
    from .html import _title_suffix
    from .labels import Labeler
    from .year_over_year import comparison_context, run_columns

    prev = run.scenario.report.previous_run
    if not prev:
        return None
    try:
        before = load_run(prev)
    except RunError as exc:
        raise ConfigError(f"[report] previous_run = {prev!r}: {exc}") from None
    now = run_tables(run)
    lang = Labeler(run.scenario.report.language, now.definitions)
    try:
        cmp = compute_comparison(before, now, force=run.scenario.report.force_compare)
    except RunError as exc:
        log.warning("year-over-year section left out: %s", exc)
        col_a, col_b = run_columns(before, now, lang)
        return {
            "label_a": before.label,
            "label_b": now.label,
            "col_a": col_a,
            "col_b": col_b,
            "path_a": str(before.path),
            "path_b": "",
            "refused": str(exc),
            "forced": False,
            "reasons": [],
        }
    return comparison_context(cmp, lang, font, _title_suffix(run.scenario.scenario.synthetic, lang))


def write_report(run: RunResult) -> dict[str, Path]:
    """Write the annual-review outputs of a run into ``run.run_dir``.

    Parameters
    ----------
    run
        A :class:`gigacov.run_result.RunResult` after the ``check`` stage (indicators, standards
        and the compliance table are needed; coverage, plan and the map are used when present).

    Returns
    -------
    dict
        ``{"workbook": run_dir / "compliance.xlsx", "report": run_dir / "report.html"}``.

    Raises
    ------
    RunError
        The run has no compliance table, or no CJK font is installed (names the package).
    ConfigError
        ``[report] previous_run`` is not a complete run directory.
    """
    from .html import write_html
    from .workbook import write_workbook

    if run.compliance is None or run.indicators is None:
        raise RunError(
            "the report needs the indicators and the compliance table of the run; run the 'check' "
            "stage first (gigacov report SCENARIO runs it)"
        )
    # Everything that can fail for a reason the user must fix is checked before the first write.
    font = find_cjk_font()
    yoy = _previous_run_section(run, font)
    run_dir = Path(run.run_dir)
    workbook = write_workbook(run, run_dir / "compliance.xlsx")
    report = write_html(run, run_dir / "report.html", font, yoy)
    return {"workbook": workbook, "report": report}
