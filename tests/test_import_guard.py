"""The top-level ``coverage/`` source folder must never shadow coverage.py (README.md, "Development").

numba imports ``coverage`` when it can; if ``import coverage`` found our folder instead of the
real package, ``import numba`` would fail with "module 'coverage' has no attribute 'types'".
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_numba_and_gigacov_import_from_repo_root():
    proc = subprocess.run(
        [sys.executable, "-c", "import numba, gigacov, coverage; print(coverage.__file__)"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    # The real coverage.py wins over the namespace folder.
    assert "site-packages" in proc.stdout, proc.stdout


def test_coverage_folder_is_not_a_package():
    assert (REPO / "coverage" / "gigacov" / "__init__.py").is_file()
    assert not (REPO / "coverage" / "__init__.py").exists()
