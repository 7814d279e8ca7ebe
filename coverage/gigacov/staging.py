"""A run is a transaction: it is built in a staging folder and moved into the run directory only
when it is complete.

:func:`staged_run` creates the staging folder, exclusively, next to the run directory (in
``out_dir``'s parent: ``<parent>/.<name>.gigacov-staging-<pid>-<random>/``, mode 0700, holding a
marker file). When the parent cannot be written to or lies on another file system, the staging
folder is made inside ``out_dir`` instead (``<out_dir>/.gigacov-staging-<pid>-<random>/``): a
rename is atomic only within one file system. Every file of the new run is written there; a
command that reuses stages of the existing run first hard-links their files into it (a copy
where hard links are impossible). :meth:`Staging.commit` then moves the run in with renames:

1. the marker records that the commit has begun (from then on the run is only ever completed,
   never undone) and which of the old run's files the new run no longer has;
2. the old ``manifest.json`` is removed (``out_dir`` stops being a complete run);
3. those old files are removed — only gigacov's own output names (:func:`is_run_output`),
   never an input of the scenario, never any other file;
4. every file of the new run is renamed into ``out_dir``, files outside it (the map in
   ``maps/``) into their folders, and ``manifest.json`` last;
5. the staging folder is removed.

The commit runs with SIGINT and SIGTERM held back, so an interruption happens before it (the old
run is untouched and the staging folder is removed) or after it (the new run is complete). Only
a SIGKILL or a power cut can stop it halfway: the next gigacov command on the folder finds the
staging folder of a dead process whose marker says "commit" and completes the move
(:func:`sweep`). ``out_dir`` itself — the folder, its permissions, the user's own files in it —
is never moved or replaced, so ``out_dir = "."`` works and a user's notes beside the run stay.

:func:`sweep` also removes, at start-up, what killed gigacov processes left behind: staging
folders still being built, the private partial folders of :mod:`gigacov.safefs`, and the
temporary files of earlier gigacov versions (``.<output>.partial-<pid>.<ext>`` with their
GDAL ``.ovr.tmp`` companions, and ``.cog-*`` scratch folders). Something is removed only when
its name is gigacov's, it is a plain file or folder owned by this user (never a symlink), and
the process that made it is provably gone: the pid in the marker or in the name no longer runs
(``.cog-*`` folders carry no pid: no process of this user has a file in them open and they have
not changed for :data:`LEGACY_QUIET_S` seconds).

Only the standard library and :mod:`gigacov.safefs` are used.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import re
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from . import safefs

__all__ = [
    "STAGING_TAG",
    "STAGING_MARKER",
    "OUTPUT_NAMES",
    "is_run_output",
    "Staging",
    "staged_run",
    "sweep",
    "recover",
]

log = logging.getLogger(__name__)

#: Part of every staging folder's name.
STAGING_TAG = ".gigacov-staging-"
#: Marker file inside a staging folder (JSON: tool, kind, pid, host, created, target, phase).
STAGING_MARKER = ".gigacov-staging.json"
#: The file that makes a run directory a complete run; moved in last.
MANIFEST = "manifest.json"
#: Folder inside a staging folder for files that go elsewhere than the run directory (the map).
_EXTERNAL = ".external"
#: How long a ``.cog-*`` folder of an earlier gigacov version must have been left unchanged
#: (with no file in it open) before the sweep removes it.
LEGACY_QUIET_S = 120.0

#: Files a run writes into its run directory, besides the rasters of :data:`_RASTER_RE`.
OUTPUT_NAMES = frozenset(
    {
        "manifest.json",
        "rejected_rows.csv",
        "skipped_rows.csv",
        "compliance.csv",
        "indicators.gpkg",
        "compliance.xlsx",
        "report.html",
        "comparison.xlsx",
        "comparison.html",
        "gaps.gpkg",
        "recommended_sites.csv",
        "recommended_sites.gpkg",
        "field_check.json",
        "disputed.gpkg",
        "rsrp.tif",
        "sinr.tif",
        "server.tif",
        "covered.tif",
        "rsrp_4g.tif",
        "sinr_4g.tif",
        "server_4g.tif",
        "covered_4g.tif",
    }
)
#: Coverage rasters: per technology and per operator (``rsrp_5g_china_mobile.tif``).
_RASTER_RE = re.compile(r"(rsrp|sinr|server|covered)(_[a-z0-9]+)*\.tif")
#: Output file name of an earlier gigacov's temporary file (``.compliance.partial-123.csv``),
#: with the companions GDAL writes beside a COG being made.
_LEGACY_PARTIAL_RE = re.compile(
    r"\.(?P<stem>.+)\.partial-(?P<pid>\d+)(?P<suffix>\.[A-Za-z0-9]+)"
    r"(?P<extra>\.ovr\.tmp|\.msk\.ovr\.tmp|\.ovr|\.aux\.xml|-journal|-wal|-shm)?"
)
#: ``tempfile.TemporaryDirectory(prefix=".cog-")`` of an earlier gigacov's COG writer.
_LEGACY_COG_RE = re.compile(r"\.cog-[a-z0-9_]{8}")
_LEGACY_COG_FILES = re.compile(r"scratch\.tif(\.ovr|\.ovr\.tmp|\.msk|\.aux\.xml)?")


def is_run_output(name: str) -> bool:
    """Whether ``name`` (a file name in a run directory) is one of the files a run writes and a
    later run may remove. ``calibration.toml`` / ``.json`` are not: a scenario may apply them."""
    return name in OUTPUT_NAMES or _RASTER_RE.fullmatch(name) is not None


# ------------------------------------------------------------------------------------------------
# The staging folder
# ------------------------------------------------------------------------------------------------


def _write_marker(folder: Path, marker: dict[str, Any], *, create: bool) -> None:
    """Write the marker: exclusively the first time, then atomically replaced."""
    text = json.dumps(marker, ensure_ascii=False)
    name = STAGING_MARKER if create else f"{STAGING_MARKER}.new"
    fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    if not create:
        os.replace(folder / name, folder / STAGING_MARKER)


def _same_device(a: Path, b: Path) -> bool:
    try:
        return a.stat().st_dev == b.stat().st_dev
    except OSError:
        return False


class Staging:
    """A new run being built beside (or inside) its run directory.

    Attributes
    ----------
    target
        The run directory (absolute, symlinks resolved).
    dir
        The staging folder: write every file of the run here.
    """

    def __init__(self, target: Path, folder: Path, marker: dict[str, Any]) -> None:
        self.target = target
        self.dir = folder
        self._marker = marker
        self._external: dict[str, Path] = {}
        self.committed = False
        self.committing = False

    # -- creation ----------------------------------------------------------------------------

    @classmethod
    def create(cls, out_dir: str | Path) -> Staging:
        """Make the staging folder for ``out_dir`` (``out_dir`` itself is not created yet
        when the staging folder can live in its parent)."""
        target = Path(out_dir).absolute().resolve()
        parent = target.parent
        parent.mkdir(parents=True, exist_ok=True)
        in_parent = (
            target != parent
            and os.access(parent, os.W_OK | os.X_OK)
            and (not target.exists() or _same_device(target, parent))
        )
        if in_parent:
            base, prefix = parent, f".{target.name}{STAGING_TAG}{os.getpid()}-"
        else:
            target.mkdir(parents=True, exist_ok=True)
            base, prefix = target, f"{STAGING_TAG}{os.getpid()}-"
        folder = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
        marker = {
            "tool": "gigacov",
            "kind": "staging",
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "created": time.time(),
            "target": str(target),
            "phase": "building",
        }
        try:
            _write_marker(folder, marker, create=True)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        log.debug("staging the run for %s in %s", target, folder)
        return cls(target, folder, marker)

    # -- building ----------------------------------------------------------------------------

    def carry(self, names: Iterable[str]) -> list[str]:
        """Bring files of the existing run into the new one: hard links (a copy where the file
        system has none). Returns the names carried (missing files are skipped)."""
        carried = []
        for name in dict.fromkeys(names):
            if Path(name).name != name or name in (STAGING_MARKER, _EXTERNAL):
                continue
            src, dst = self.target / name, self.dir / name
            if src.is_symlink() or not src.is_file():
                continue
            try:
                os.link(src, dst)
            except OSError:
                shutil.copy2(src, dst)
            carried.append(name)
        return carried

    def external(self, final: str | Path) -> Path:
        """Where to write a file whose place is outside the run directory (the map in
        ``maps/``); it is moved to ``final`` with the rest of the run."""
        final = Path(final).absolute()
        folder = self.dir / _EXTERNAL
        folder.mkdir(exist_ok=True)
        staged = folder / f"{len(self._external)}-{final.name}"
        self._external[staged.name] = final
        return staged

    def final_path(self, path: str | Path) -> Path:
        """Where a file written into the staging folder will be once the run is committed."""
        path = Path(path)
        try:
            rel = path.absolute().relative_to(self.dir)
        except ValueError:
            return path
        if rel.parts[:1] == (_EXTERNAL,) and len(rel.parts) == 2:
            return self._external.get(rel.parts[1], path)
        return self.target / rel

    # -- commit ------------------------------------------------------------------------------

    def commit(self, *, keep: Iterable[str | Path] = ()) -> None:
        """Move the finished run into the run directory (see the module docstring).

        ``keep``: paths never removed even when they carry an output's name (the inputs).
        """
        if not (self.dir / MANIFEST).is_file():
            raise RuntimeError(f"{self.dir}: no manifest.json; a run is committed complete")
        staged = {p.name for p in self.dir.iterdir() if p.is_file() and p.name != STAGING_MARKER}
        keep_paths = [Path(k) for k in keep]
        with _signals_held(), _locked(self.target):
            remove = []
            if self.target.is_dir():
                for entry in self.target.iterdir():
                    if (
                        is_run_output(entry.name)
                        and entry.name not in staged
                        and (entry.is_symlink() or entry.is_file())
                        and not any(_same_file(entry, k) for k in keep_paths)
                    ):
                        remove.append(entry.name)
            marker = {
                **self._marker,
                "phase": "commit",
                "remove": sorted(remove),
                "external": {k: str(v) for k, v in self._external.items()},
            }
            _write_marker(self.dir, marker, create=False)
            self.committing = True
            _finish(self.dir, marker)
            # before the held signals are delivered (a Ctrl-C pressed during the move then
            # interrupts a complete run, which stays complete)
            self.committed = True

    def discard(self) -> None:
        """Remove the staging folder (the run directory is left as it was). A commit that was
        stopped halfway is left for :func:`sweep` to complete."""
        if self.committing and not self.committed:
            log.error(
                "%s: the new run is complete in %s but could not all be moved in; the next "
                "gigacov command on this folder completes the move",
                self.target,
                self.dir,
            )
            return
        shutil.rmtree(self.dir, ignore_errors=True)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back (they are delivered when the block ends)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "pthread_sigmask"
    ):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@contextlib.contextmanager
def _locked(target: Path) -> Iterator[None]:
    """An exclusive lock on the run directory while a run is moved in (two gigacov processes
    committing into one folder take turns instead of mixing their files)."""
    target.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    fd = os.open(target, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _move(src: Path, dst: Path) -> None:
    """Rename ``src`` to ``dst``; across file systems, copy into a private temporary beside
    ``dst`` and rename that."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(src, dst)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        with safefs.atomic_path(dst) as tmp:
            shutil.copy2(src, tmp)
        src.unlink()


def _finish(folder: Path, marker: dict[str, Any]) -> None:
    """Steps 2–5 of the commit; safe to repeat after an interruption (it only completes)."""
    target = Path(marker["target"])
    manifest = folder / MANIFEST
    if manifest.is_file():
        target.mkdir(parents=True, exist_ok=True)
        (target / MANIFEST).unlink(missing_ok=True)
        for name in marker.get("remove") or []:
            p = target / name
            if is_run_output(name) and Path(name).name == name and (p.is_symlink() or p.is_file()):
                p.unlink()
        for entry in sorted(folder.iterdir()):
            if entry.name in (MANIFEST, STAGING_MARKER) or not entry.is_file():
                continue
            _move(entry, target / entry.name)
        external = folder / _EXTERNAL
        for staged, final in (marker.get("external") or {}).items():
            src = external / staged
            if src.is_file():
                _move(src, Path(final))
        _move(manifest, target / MANIFEST)
    shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def staged_run(out_dir: str | Path) -> Iterator[Staging]:
    """A :class:`Staging` for ``out_dir``; removed again unless :meth:`Staging.commit` was
    called (an exception or an interruption leaves ``out_dir`` untouched)."""
    staging = Staging.create(out_dir)
    try:
        yield staging
    finally:
        if not staging.committed:
            staging.discard()


# ------------------------------------------------------------------------------------------------
# The sweep
# ------------------------------------------------------------------------------------------------


def _ours(path: Path) -> bool:
    """A real file or folder (not a symlink) owned by this user."""
    try:
        st = path.lstat()
    except OSError:
        return False
    if path.is_symlink():
        return False
    return not hasattr(os, "getuid") or st.st_uid == os.getuid()


def _gone(marker: dict[str, Any], max_age_s: float) -> bool:
    """The process that wrote ``marker`` no longer runs (on another host: it is old)."""
    pid = int(marker["pid"])
    if pid == os.getpid():
        return False
    if marker.get("host") == socket.gethostname():
        return not safefs._alive(pid)
    return time.time() - float(marker.get("created", 0)) > max_age_s


def _valid_commit(entry: Path, marker: dict[str, Any]) -> bool:
    """A commit marker that can only complete a run into the folder it sits beside/in."""
    target = Path(str(marker.get("target", "")))
    if not target.is_absolute():
        return False
    beside = target.parent == entry.parent and entry.name.startswith(f".{target.name}{STAGING_TAG}")
    inside = target == entry.parent and entry.name.startswith(STAGING_TAG)
    if not (beside or inside):
        return False
    for name in marker.get("remove") or []:
        if not isinstance(name, str) or Path(name).name != name or not is_run_output(name):
            return False
    for staged, final in (marker.get("external") or {}).items():
        f = Path(str(final))
        if Path(staged).name != staged or f.suffix != ".html" or f.parent.name != "maps":
            return False
    return True


def _sweep_staging(folder: Path, max_age_s: float) -> int:
    done = 0
    for entry in folder.iterdir():
        if STAGING_TAG not in entry.name or not entry.name.startswith("."):
            continue
        if not _ours(entry) or not entry.is_dir():
            continue
        try:
            marker = json.loads((entry / STAGING_MARKER).read_text("utf-8"))
            if marker.get("tool") != "gigacov" or marker.get("kind") != "staging":
                continue
            if not _gone(marker, max_age_s):
                continue
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue  # not provably gigacov's: leave it
        if marker.get("phase") == "commit":
            if not _valid_commit(entry, marker):
                log.warning(
                    "%s: an unfinished gigacov commit that names other folders; left", entry
                )
                continue
            with _locked(Path(marker["target"])):
                _finish(entry, marker)
            log.warning(
                "%s: completed the move of a finished run that an interrupted gigacov left "
                "halfway (%s)",
                marker["target"],
                entry.name,
            )
        else:
            shutil.rmtree(entry, ignore_errors=True)
            log.info("%s: removed the staging folder of an interrupted run", entry)
        done += not entry.exists()
    return done


def _open_paths() -> set[str] | None:
    """Every path this user's processes hold open or stand in (Linux ``/proc``), else None."""
    proc = Path("/proc")
    if not (proc / "self" / "fd").is_dir():
        return None
    held: set[str] = set()
    for pid_dir in proc.iterdir():
        if not pid_dir.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            held.add(os.readlink(pid_dir / "cwd"))
        try:
            fds = list((pid_dir / "fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            with contextlib.suppress(OSError):
                held.add(os.readlink(fd))
    return held


def _sweep_legacy(folder: Path) -> int:
    """Temporary files and folders of earlier gigacov versions in ``folder``."""
    removed = 0
    open_paths: set[str] | None = None
    now = time.time()
    for entry in folder.iterdir():
        m = _LEGACY_PARTIAL_RE.fullmatch(entry.name)
        if m is not None:
            output = m["stem"] + m["suffix"]
            if not (is_run_output(output) or (folder.name == "maps" and m["suffix"] == ".html")):
                continue
            pid = int(m["pid"])
            if pid == os.getpid() or safefs._alive(pid) or not _ours(entry) or not entry.is_file():
                continue
            entry.unlink(missing_ok=True)
            removed += 1
            continue
        if _LEGACY_COG_RE.fullmatch(entry.name) and _ours(entry) and entry.is_dir():
            try:
                files = list(entry.iterdir())
            except OSError:
                continue
            if not all(f.is_file() and _LEGACY_COG_FILES.fullmatch(f.name) for f in files):
                continue
            newest = max([entry.lstat().st_mtime, *(f.lstat().st_mtime for f in files)])
            if open_paths is None:
                open_paths = _open_paths()
            if open_paths is None:
                quiet = now - newest > 86400  # no /proc: only a folder left alone for a day
            else:
                inside = str(entry.resolve()) + os.sep
                quiet = now - newest > LEGACY_QUIET_S and not any(
                    p.startswith(inside) or p == inside[:-1] for p in open_paths
                )
            if quiet:
                shutil.rmtree(entry, ignore_errors=True)
                removed += not entry.exists()
    return removed


def recover(out_dir: str | Path, *, max_age_s: float = 7 * 86400) -> int:
    """Complete or remove the staging folders of dead gigacov processes for ``out_dir`` (in its
    parent and inside it). Returns how many were handled."""
    target = Path(out_dir).absolute()
    with contextlib.suppress(OSError):
        target = target.resolve()
    done = 0
    for folder in (target.parent, target):
        if folder.is_dir():
            with contextlib.suppress(OSError):
                done += _sweep_staging(folder, max_age_s)
    return done


def sweep(
    out_dir: str | Path, maps_dir: str | Path | None = None, *, max_age_s: float = 7 * 86400
) -> int:
    """Everything killed gigacov processes left for this run directory, at start-up.

    Staging folders of dead processes in ``out_dir``'s parent and inside ``out_dir`` (a commit
    begun is completed, a run being built is removed), partial folders
    (:func:`gigacov.safefs.sweep_partials`) and earlier gigacov versions' temporary files in
    ``out_dir`` and ``maps_dir``. Returns how many things were removed or completed.
    """
    done = recover(out_dir, max_age_s=max_age_s)
    target = Path(out_dir).absolute()
    for folder in (target, Path(maps_dir) if maps_dir is not None else None):
        if folder is None or not folder.is_dir():
            continue
        done += safefs.sweep_partials(folder, max_age_s=max_age_s)
        with contextlib.suppress(OSError):
            n = _sweep_legacy(folder)
            if n:
                log.info(
                    "%s: removed %d temporary file(s) of an earlier gigacov version", folder, n
                )
            done += n
    return done
