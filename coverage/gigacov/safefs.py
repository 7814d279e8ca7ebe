"""Files that appear whole or not at all, temporary files nobody can redirect, and a sweep of
what an interrupted gigacov left behind.

* :func:`partial_dir` — a private temporary folder next to the output (created exclusively,
  mode 0700, named ``.gigacov-partial-<pid>-…`` and holding a marker file), removed on exit.
  Writers create their files inside it, so a symlink planted beside the output is never
  followed and a predictable name is never reused.
* :func:`atomic_path` — a temporary path inside a :func:`partial_dir`; on success it is renamed
  over the target (``os.replace``: a symlink at the target is replaced, not followed).
* :func:`sweep_partials` — removes the partial folders of gigacov processes that no longer run
  (identified by the name *and* the marker, never anything else).
* :func:`terminate_like_interrupt` — SIGTERM then cleans up like Ctrl-C (SIGINT).

Only the standard library is used; every module may import this one.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "PARTIAL_PREFIX",
    "MARKER",
    "partial_dir",
    "atomic_path",
    "sweep_partials",
    "terminate_like_interrupt",
]

log = logging.getLogger(__name__)

#: Name prefix of gigacov's temporary folders.
PARTIAL_PREFIX = ".gigacov-partial-"
#: Marker file inside each temporary folder (JSON: tool, pid, host, created).
MARKER = ".gigacov-partial.json"


@contextlib.contextmanager
def partial_dir(parent: str | Path) -> Iterator[Path]:
    """A new private folder in ``parent`` for half-written files; removed when the block ends.

    Created with :func:`tempfile.mkdtemp` (exclusive, mode 0700, unpredictable name), so no
    existing file, folder or symlink is ever reused.
    """
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{PARTIAL_PREFIX}{os.getpid()}-", dir=parent))
    try:
        marker = {
            "tool": "gigacov",
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "created": time.time(),
        }
        fd = os.open(folder / MARKER, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(marker, f)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path for ``path``; on success rename it over ``path``.

    The temporary has the same file name (drivers choose formats by the suffix) inside a
    :func:`partial_dir` in the same folder, so the final rename is atomic. On error it is
    removed and ``path`` is left untouched. A symlink at ``path`` is replaced by the file, never
    written through.
    """
    path = Path(path)
    with partial_dir(path.parent) as folder:
        tmp = folder / path.name
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"{path}: the writer produced no file")
        os.replace(tmp, path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def sweep_partials(folder: str | Path, *, max_age_s: float = 7 * 86400) -> int:
    """Remove stale partial folders that gigacov left in ``folder`` (not recursive).

    A folder is removed only when its name starts with :data:`PARTIAL_PREFIX`, it is a real
    folder (not a symlink) holding gigacov's :data:`MARKER`, and the process that made it no
    longer runs on this host (or, made on another host, it is older than ``max_age_s``).
    Returns how many were removed.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    removed = 0
    host = socket.gethostname()
    for entry in folder.iterdir():
        if not entry.name.startswith(PARTIAL_PREFIX) or entry.is_symlink() or not entry.is_dir():
            continue
        try:
            marker = json.loads((entry / MARKER).read_text("utf-8"))
            pid = int(marker["pid"])
            same_host = marker.get("host") == host
            created = float(marker.get("created", 0))
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not provably gigacov's: leave it
        if marker.get("tool") != "gigacov" or pid == os.getpid():
            continue
        stale = not _alive(pid) if same_host else time.time() - created > max_age_s
        if stale:
            shutil.rmtree(entry, ignore_errors=True)
            removed += not entry.exists()
    if removed:
        log.info("%s: removed %d partial folder(s) left by interrupted runs", folder, removed)
    return removed


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def terminate_like_interrupt() -> None:
    """Make SIGTERM raise :class:`KeyboardInterrupt`, so that ``finally`` blocks and context
    managers clean up as they do after Ctrl-C (the default SIGTERM kills without cleanup).
    Only possible from the main thread; elsewhere it does nothing."""
    with contextlib.suppress(ValueError):
        signal.signal(signal.SIGTERM, _raise_interrupt)
