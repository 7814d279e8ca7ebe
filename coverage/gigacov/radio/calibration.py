"""Reading a propagation-model calibration file (``[radio] calibration``).

The file is written by ``gigacov calibrate`` (:mod:`gigacov.field.calibration` fits it to field
measurements); the radio model only reads the per-clutter-class corrections from it, so the
reader lives with the radio model and needs nothing of the field check.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

from ..errors import ConfigError
from .models import RURAL, SUBURBAN, URBAN

__all__ = ["CLUTTER_NAMES", "read_calibration"]

#: Clutter class code → its name in a calibration file.
CLUTTER_NAMES = {URBAN: "urban", SUBURBAN: "suburban", RURAL: "rural"}


def read_calibration(path: str | Path, tech: str, model: str) -> tuple[tuple, tuple]:
    """``(offsets, slopes)`` (urban, suburban, rural; dB) of ``tech`` from a calibration.toml.

    A technology the file does not hold gets zeros. A calibration fitted for another propagation
    model than ``model`` is an error: its offsets correct that model, not this one.
    """
    p = Path(path)
    where = f"[radio] calibration = {str(p)!r}"
    if not p.is_file():
        raise ConfigError(f"{where}: the file does not exist (write it with `gigacov calibrate`)")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from None
    cal = data.get("calibration")
    if not isinstance(cal, dict):
        raise ConfigError(f"{where}: no [calibration] table; is this a gigacov calibration file?")
    entry = cal.get(tech.upper())
    if entry is None:
        return (0.0, 0.0, 0.0), (0.0, 0.0, 0.0)
    if not isinstance(entry, dict):
        raise ConfigError(f'{where}: [calibration."{tech}"] must be a table')
    fitted_model = entry.get("model", model)
    if fitted_model != model:
        raise ConfigError(
            f"{where}: fitted for [radio] model = {fitted_model!r}, but the scenario uses "
            f"{model!r}; fit it again with this model (gigacov calibrate)"
        )

    def triple(key: str) -> tuple[float, float, float]:
        table = entry.get(key, {})
        if not isinstance(table, dict):
            raise ConfigError(f'{where}: [calibration."{tech}"] {key} must be a table')
        unknown = set(table) - set(CLUTTER_NAMES.values())
        if unknown:
            raise ConfigError(
                f'{where}: [calibration."{tech}"] {key}: unknown clutter class '
                f"{sorted(unknown)[0]!r} (valid: urban, suburban, rural)"
            )
        vals = []
        for name in CLUTTER_NAMES.values():
            v = table.get(name, 0.0)
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise ConfigError(
                    f'{where}: [calibration."{tech}"] {key}.{name}: {v!r} is not a number of dB'
                )
            if abs(v) > 60:
                raise ConfigError(
                    f'{where}: [calibration."{tech}"] {key}.{name} = {v!r} dB is not plausible '
                    "(|value| > 60 dB)"
                )
            vals.append(float(v))
        return tuple(vals)

    return triple("offsets_db"), triple("slopes_db_per_decade")
