"""Field truth: measurements against predictions, model calibration, disputed areas.

* :mod:`.measurements` — ``[measurements]`` files (drive tests, MR, crowd and speed tests) read
  like every other input, with rejected rows and their reasons;
* :mod:`.check` — the engine's prediction at every sample and the error statistics;
* :mod:`.calibration` — robust per-clutter-class offsets (and slopes), spatially
  cross-validated, written to ``calibration.toml`` / ``calibration.json``;
* :mod:`.disputed` — H3 hexagons where measurements contradict the prediction (exact binomial
  test) and the counties whose verdict would change;
* :mod:`.speed` — fixed-broadband speed tests against the reported user shares;
* :mod:`.run` — the field stage of a run (``gigacov calibrate`` is :func:`gigacov.pipeline.calibrate`).
"""

from __future__ import annotations

from .calibration import fit_calibration, read_calibration, write_calibration
from .check import FieldCheck, field_check, predict_samples
from .disputed import disputed_hexagons, hex_ids, verdict_changes
from .measurements import MEASUREMENT_ALIASES, MEASUREMENT_COLUMNS, read_measurements
from .run import FieldResult, analyse, run_field
from .stats import binomial_sf, error_stats, huber_fit

__all__ = [
    "MEASUREMENT_ALIASES",
    "MEASUREMENT_COLUMNS",
    "read_measurements",
    "FieldCheck",
    "field_check",
    "predict_samples",
    "fit_calibration",
    "read_calibration",
    "write_calibration",
    "disputed_hexagons",
    "hex_ids",
    "verdict_changes",
    "FieldResult",
    "run_field",
    "analyse",
    "binomial_sf",
    "error_stats",
    "huber_fit",
]
