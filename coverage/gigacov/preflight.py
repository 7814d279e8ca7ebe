"""Checks made before a run writes anything: where it will write, and what it must not touch.

:func:`check_paths` refuses, naming the key:

* ``[report] previous_run`` equal to ``out_dir`` (the run would overwrite the year it compares
  with), or not a complete run directory (checked before the old run could be overwritten);
* an input file that is one of the files the run writes (``out_dir = "."`` with
  ``[broadband] path = "compliance.csv"`` would replace the user's data);
* a run directory or ``maps/`` folder that is a file, or that cannot be written.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from pathlib import Path
from typing import Any

from .errors import ConfigError, RunError
from .staging import OUTPUT_NAMES, is_run_output

__all__ = ["OUTPUT_NAMES", "input_paths", "check_paths"]

# OUTPUT_NAMES: the files a run writes into its run directory (besides the map, which goes to
# ``maps/``, and the per-operator rasters; see gigacov.staging.is_run_output).


def input_paths(scenario: Any) -> list[tuple[str, Path]]:
    """Every input file the scenario names, as ``(key, path)`` (paths already absolute)."""
    from .scenario_sections import SECTIONS, is_path_hint

    out: list[tuple[str, Path]] = []
    for name in SECTIONS:
        section = getattr(scenario, name, None)
        if section is None:
            continue
        hints = typing.get_type_hints(type(section), include_extras=True)
        for f in dataclasses.fields(section):
            if (name, f.name) in (("scenario", "out_dir"), ("report", "previous_run")):
                continue
            hint = hints.get(f.name)
            args = typing.get_args(hint)
            is_path = is_path_hint(hint) or any(is_path_hint(a) for a in args)
            if not is_path:
                continue
            value = getattr(section, f.name)
            for v in value if isinstance(value, list) else [value]:
                if v:
                    out.append((f"[{name}] {f.name}", Path(v)))
    for i, f in enumerate(scenario.key_places.files):
        out.append((f"[key_places] files[{i}] path", Path(f.path)))
    base = scenario.path.parent if scenario.path else Path.cwd()
    for i, std in enumerate(scenario.scenario.standards):
        if std.endswith(".toml"):
            p = Path(std)
            out.append((f"[scenario] standards[{i}]", p if p.is_absolute() else base / p))
    return out


def _same(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def _writable_folder(folder: Path, key: str) -> None:
    """``folder`` is (or can be made as) a writable folder."""
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise ConfigError(f"{key}: {str(probe)!r} is a file, not a folder; choose another path")
    if probe.exists() and not os.access(probe, os.W_OK | os.X_OK):
        raise ConfigError(
            f"{key}: cannot write into {str(probe)!r} (permission denied); choose a folder you "
            "can write to"
        )


def check_paths(scenario: Any, *, writes_map: bool, reads_previous: bool) -> None:
    """Refuse a run that would overwrite an input, its own previous run, or cannot write.

    Parameters
    ----------
    scenario
        The :class:`gigacov.scenario.Scenario`.
    writes_map
        The run writes ``maps/<name>.html`` (the map stage runs).
    reads_previous
        The run compares with ``[report] previous_run`` (the report stage runs).
    """
    out_dir = Path(scenario.out_dir)
    _writable_folder(out_dir, "[scenario] out_dir")
    maps_dir = Path.cwd() / "maps"
    outputs = [(out_dir / n) for n in sorted(OUTPUT_NAMES)]
    if writes_map:
        _writable_folder(maps_dir, "the maps folder (maps/ in the current folder)")
        outputs.append(maps_dir / f"{scenario.name}.html")
    for key, path in input_paths(scenario):
        if is_run_output(path.name) and _same(path.parent, out_dir):
            outputs.append(out_dir / path.name)  # a per-operator raster's name
        for out in outputs:
            if _same(path, out):
                raise ConfigError(
                    f"{key} = {str(path)!r} is a file the run writes ({out.name} in "
                    f"{str(out.parent)!r}); the run would overwrite your input — move the input "
                    "or choose another [scenario] out_dir"
                )
    prev = scenario.report.previous_run
    if prev and reads_previous:
        p = Path(prev)
        if _same(p, out_dir):
            raise ConfigError(
                f"[report] previous_run = {prev!r} is this run's own out_dir; the run would "
                "overwrite the run it compares with — point previous_run at last year's run "
                "directory"
            )
        if not p.is_dir() or not (p / "manifest.json").is_file():
            what = "does not exist" if not p.exists() else "is not a complete gigacov run"
            raise RunError(
                f"[report] previous_run = {prev!r} {what} (a finished run holds manifest.json, "
                "compliance.csv and indicators.gpkg); fix the path or run that year first — "
                "nothing was written"
            )
