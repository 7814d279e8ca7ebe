"""Shared set-up of the test suite.

Builders that several test modules use live in the ``support`` package next to this file
(``support.grids``, ``support.places``, ``support.map_run``, ``support.report_run``, ...); test
modules import from there and never from each other. This file makes that package importable
whatever pytest's import mode, and provides the fixtures that many modules share.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from support.places import write_county_scenario  # noqa: E402


@pytest.fixture
def county_scenario(tmp_path: Path) -> Path:
    """A small scenario on the shipped boundaries: 晋江市 at 500 m, four 5G sites, 5G only."""
    return write_county_scenario(tmp_path)
