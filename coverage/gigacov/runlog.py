"""Run-scoped logging: every warning is said once per run, and a run knows the warnings it gave.

A run's stages (ingest, coverage for 5G and 4G, planning's verifying coverage re-run, map,
report) may each meet the same condition and log the same warning; a person needs to read it
once. :class:`OncePerRun` is a :class:`logging.Filter` for the handler that shows the log (the
CLI puts it on its stderr handler): it lets a warning through the first time its text appears in
the current run and drops repeats. :func:`new_run` starts a new run (``pipeline.run`` calls it),
so the same condition in the next run of the same process is said again.

:func:`collect_warnings` gathers the distinct warnings logged by gigacov's loggers while it is
active; ``pipeline.run`` stores them in ``RunResult.warnings`` and the manifest, and
``gigacov run --json`` prints them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["OncePerRun", "new_run", "collect_warnings"]

_seen: set[tuple[int, str]] = set()


def new_run() -> None:
    """Forget the warnings said so far: the next run says each of them again."""
    _seen.clear()


class OncePerRun(logging.Filter):
    """Drops a warning (or error) whose text was already shown in the current run."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = (record.levelno, record.getMessage())
        if key in _seen:
            return False
        _seen.add(key)
        return True


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.levelno == logging.WARNING and text not in self.messages:
            self.messages.append(text)


@contextmanager
def collect_warnings(logger_name: str = "gigacov") -> Iterator[list[str]]:
    """Yield a list that fills with the distinct warnings logged under ``logger_name``.

    The logger's level is lowered to WARNING while collecting when it was higher (``-q``), so
    that the run records its warnings even when they are not shown.
    """
    logger = logging.getLogger(logger_name)
    collector = _Collector()
    old_level = logger.level
    if logger.getEffectiveLevel() > logging.WARNING:
        logger.setLevel(logging.WARNING)
    logger.addHandler(collector)
    try:
        yield collector.messages
    finally:
        logger.removeHandler(collector)
        logger.setLevel(old_level)
