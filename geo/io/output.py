"""Writing outputs without ever leaving a half-written file, or a mixed set of files, behind.

*One file*: every output is first written to a temporary file next to its
destination and renamed into place only when complete (``os.replace`` is
atomic on one file system). If anything fails, the temporary file is removed
and an existing output is left untouched; a full disk or a read-only folder
is an :class:`~geo.errors.OutputError` (one line naming the file).

*A set of files*: :class:`OutputSet` gives a command a staging folder inside
OUT (``OUT/.bgplan-run-*``, where OUT's existing entries are visible as links,
so a step can read what an earlier one wrote). The command writes there; on
success every new entry is moved into OUT together, with SIGINT/SIGTERM held
back for those few renames; on failure or interruption the staging folder is
removed and OUT is as it was. A run killed outright (SIGKILL, power loss)
leaves its staging folder behind: the next command in OUT removes it — or,
when the kill came in the middle of the moves, finishes them — and removes
the hidden temporaries of older versions (``.sites-*.gpkg``, ``.site-*/`` …).

*Spreadsheets*: :func:`write_csv` neutralises text cells that a spreadsheet
would run as a formula (``=``, ``+``, ``-``, ``@`` …) by prefixing ``'``;
numbers stay numbers.
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
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Iterator, Mapping

import geopandas as gpd
import pandas as pd

from geo import settings
from geo.errors import OutputError

log = logging.getLogger(__name__)

#: Name prefix of a command's staging folder inside OUT.
STAGING_PREFIX = ".bgplan-run-"

_LOCK = ".lock"
_COMMITTING = ".committing"
_DISK_FULL = re.compile(r"no space left|disk (is )?full|quota exceeded|failed to commit transaction|write error", re.IGNORECASE)
#: Hidden temporaries left in OUT by runs of older versions: atomic_path's ``.<stem>-XXXXXXXX<suffix>`` (+ SQLite
#: journals) and the site's ``.site-XXXXXXXX/`` / ``.site-old-XXXXXXXX/`` folders.
_LEGACY_TEMPORARY = re.compile(r"^\.[^/]+-[a-z0-9_]{8}\.(gpkg|csv|json|tif|html|yaml)(-journal|-wal|-shm)?$"
                               r"|^\.site(-old)?-[a-z0-9_]{8}$")


@contextlib.contextmanager
def atomic_path(final: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path; move it onto ``final`` when the block succeeds.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "a.txt") as tmp:
    ...     _ = tmp.write_text("done")
    >>> (d / "a.txt").read_text()
    'done'
    """
    final = Path(final)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{final.stem}-", suffix=final.suffix, dir=final.parent)
    except OSError as exc:
        raise _output_error(final, exc) from exc
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()  # let the writer create it (GDAL refuses to open an empty file)
    try:
        yield tmp
        os.replace(tmp, final)
    except Exception as exc:
        if isinstance(exc, OutputError) or not _is_write_failure(exc, final.parent):
            raise
        raise _output_error(final, exc) from exc
    finally:
        for leftover in (tmp, Path(f"{tmp}-journal"), Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            if leftover.exists():
                leftover.unlink()


@contextlib.contextmanager
def _sqlite_unsynced():
    """GDAL's SQLite writes without a sync to disk after every layer (``OGR_SQLITE_SYNCHRONOUS=OFF``) while a
    GeoPackage is written to its temporary file: the file is moved into place only once written whole
    (:func:`atomic_path`), as every other output, so the syncs bought nothing but time (writing the 14 layers of
    ``layers.gpkg`` took 1.6 s with them, 0.13 s without)."""
    import pyogrio

    previous = pyogrio.get_gdal_config_option("OGR_SQLITE_SYNCHRONOUS")
    pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": "OFF"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": previous})


def write_geopackage(layers: Mapping[str, pd.DataFrame], path: str | os.PathLike) -> Path:
    """Write several layers into one GeoPackage, atomically.

    GeoDataFrames are stored in EPSG:4326 (storage CRS) so the file opens in
    QGIS next to any web map; plain DataFrames become attribute-only tables.
    """
    path = Path(path)
    with atomic_path(path) as tmp, _sqlite_unsynced():
        for name, frame in layers.items():
            if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame:
                out = frame.to_crs(settings.storage_crs) if frame.crs is not None else frame
                out.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")
            else:
                import pyogrio

                pyogrio.write_dataframe(pd.DataFrame(frame), tmp, layer=name, driver="GPKG")
    return path


def write_csv(frame: pd.DataFrame, path: str | os.PathLike, spreadsheet_safe: bool = True) -> Path:
    """Write a table as UTF-8 CSV (geometry, if any, left out), atomically.

    ``spreadsheet_safe``: text cells a spreadsheet would run as a formula are
    neutralised (:func:`spreadsheet_safe_frame`).
    """
    path = Path(path)
    if isinstance(frame, gpd.GeoDataFrame):
        frame = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    if spreadsheet_safe:
        frame = spreadsheet_safe_frame(frame)
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, encoding="utf-8")
    return path


def write_json(data, path: str | os.PathLike) -> Path:
    """Write ``data`` as pretty UTF-8 JSON, atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------- spreadsheets

#: First characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection"), tab and CR included.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")


def neutralise_cell(value):
    """A text cell a spreadsheet would run as a formula, prefixed with ``'``; anything else unchanged.

    Numbers — and text that is only a number, such as ``"-40"`` — stay as they are.

    >>> [neutralise_cell(v) for v in ("=HYPERLINK(1)", "@SUM(A1)", "+1+2", "-40", "-2.5e3", -7, "QL1A - QL37", None)]
    ["'=HYPERLINK(1)", "'@SUM(A1)", "'+1+2", '-40', '-2.5e3', -7, 'QL1A - QL37', None]
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.match(value.strip()):
        return "'" + value
    return value


def spreadsheet_safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell neutralised by :func:`neutralise_cell` (numeric columns untouched; a copy if changed)."""
    out = frame
    for column in frame.columns:
        series = frame[column]
        if not (series.dtype == object or pd.api.types.is_string_dtype(series)):
            continue
        text = series.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_STARTS))
        if text.any():
            if out is frame:
                out = frame.copy()
            out[column] = series.map(neutralise_cell)
    header = [neutralise_cell(c) if isinstance(c, str) else c for c in out.columns]
    if header != list(out.columns):
        out = out.set_axis(header, axis=1)
    return out


# ---------------------------------------------------------------------------------------------- errors

def _is_write_failure(exc: BaseException, folder: Path) -> bool:
    """True when ``exc`` comes from the file system (disk full, read-only, no permission), not from the data."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO):
        return True
    return bool(_DISK_FULL.search(str(exc))) or _free_bytes(folder) < 1 << 20


def _output_error(path: Path, exc: BaseException) -> OutputError:
    code = getattr(exc, "errno", None)
    if code in (errno.EROFS, errno.EACCES, errno.EPERM):
        return OutputError(path, f"cannot be written: {os.strerror(code)} (a read-only or protected folder?)")
    if code in (errno.ENOSPC, errno.EDQUOT) or _DISK_FULL.search(str(exc)) or _free_bytes(path.parent) < 1 << 20:
        return OutputError(path, f"cannot be written: the disk is full ({_first_line(exc)}); free some space and run again — "
                                 "the outputs already in the folder were left as they were")
    return OutputError(path, f"cannot be written ({_first_line(exc)})")


def _free_bytes(folder: Path) -> int:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return 1 << 62


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# ---------------------------------------------------------------------------------------------- the output folder

def check_output_folder(out: str | os.PathLike) -> Path:
    """Create ``out`` if needed and check that files can be created in it — before any work is done.

    Raises :class:`OutputError` when ``out`` is a file, cannot be created or is
    not writable; warns when less than :data:`geo.settings.min_free_mb` is free.

    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "taken"
    >>> _ = f.write_text("x")
    >>> try:
    ...     check_output_folder(f)
    ... except OutputError as e:
    ...     print(e.problem)
    is a file, not a folder: give a folder for --out
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(out, "is a file, not a folder: give a folder for --out")
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".bgplan-probe-", dir=out)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else _first_line(exc)
        raise OutputError(out, f"the output folder is not writable ({reason}); give another --out") from None
    free_mb = _free_bytes(out) / 1e6
    if free_mb < settings.min_free_mb:
        log.warning("%s: only %.0f MB free on this disk; the outputs may not fit", out, free_mb)
    return out


class OutputSet:
    """The outputs of one command, staged in ``OUT/.bgplan-run-*`` and moved into OUT together.

    Use as a context manager; the block gets the staging folder, to be used
    as OUT by the command::

        with OutputSet(out) as staging:
            write_csv(table, staging / "access.csv")
            write_geopackage(layers, staging / "access.gpkg")
        # both now in OUT, or — after an error or a signal — neither

    OUT's existing entries are linked into the staging folder (relative
    symbolic links), so reading ``staging / "layers.gpkg"`` reads OUT's. An
    entry the command writes replaces its link and is moved into OUT on
    :meth:`commit`; folders (``site/``) replace OUT's folder of that name.
    Write outputs through this module (:func:`atomic_path`, ``write_*``) or
    into a new folder: opening a linked entry for writing in place would
    write through to OUT.
    """

    def __init__(self, out: str | os.PathLike):
        self.out = Path(out)
        self.staging: Path | None = None
        self._created = False
        self._lock_file = None
        self._owner = os.getpid()
        self.removed_stale: list[str] = []

    # ------------------------------------------------------------------ context
    def __enter__(self) -> Path:
        return self.open()

    def __exit__(self, kind, value, tb) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()

    # ------------------------------------------------------------------ steps
    def open(self) -> Path:
        """Check OUT, remove stale staging folders and temporaries, and make this command's staging folder."""
        self._created = not self.out.exists()
        check_output_folder(self.out)
        self.removed_stale = remove_stale(self.out)
        try:
            self.staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=self.out))
            os.chmod(self.staging, 0o755)
            self._lock_file = _hold_lock(self.staging / _LOCK)
        except OSError as exc:
            self.discard()
            raise _output_error(self.out, exc) from None
        for entry in sorted(self.out.iterdir()):
            if not entry.name.startswith("."):
                _link(entry, self.staging / entry.name)
        return self.staging

    def written(self) -> list[Path]:
        """Entries of the staging folder that the command wrote (not the links to OUT's entries)."""
        if self.staging is None or not self.staging.is_dir():
            return []
        return sorted(e for e in self.staging.iterdir() if not e.name.startswith(".") and not e.is_symlink())

    def commit(self) -> list[Path]:
        """Move every written entry into OUT, with SIGINT/SIGTERM held back; returns their paths in OUT."""
        if self.staging is None or os.getpid() != self._owner:
            return []
        entries = self.written()
        with _signals_held():
            marker = self.staging / _COMMITTING
            try:
                _write_marker(marker, [e.name for e in entries])
            except OSError as exc:
                raise _output_error(marker, exc) from exc
            try:
                moved = _move_into(self.staging, self.out, entries)
            except OSError as exc:       # keep the staging folder: the next command in OUT finishes the moves
                staging, self.staging = self.staging, None
                self._close()
                raise OutputError(staging, f"could not move every output into {self.out} ({_first_line(exc)}); "
                                           "the next command in that folder finishes the move") from exc
            self._close()
        return moved

    def discard(self) -> None:
        """Remove the staging folder (OUT untouched; OUT itself removed when this set created it and it is empty)."""
        if os.getpid() != self._owner:
            return
        if self.staging is not None:
            self._close()
        if self._created and self.out.is_dir() and not any(self.out.iterdir()):
            with contextlib.suppress(OSError):
                self.out.rmdir()

    def _close(self) -> None:
        staging, self.staging = self.staging, None
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None


def remove_stale(out: str | os.PathLike) -> list[str]:
    """Clean OUT of what crashed runs left: staging folders of dead runs (finished when they died while
    moving their outputs in, removed otherwise) and, when no other run is active in OUT, older versions'
    hidden temporaries. Returns the names removed or finished."""
    out = Path(out)
    done, live = [], False
    for entry in sorted(out.glob(STAGING_PREFIX + "*")):
        if not entry.is_dir() or entry.is_symlink():
            continue
        if _is_locked(entry / _LOCK):
            live = True
            continue
        if (entry / _COMMITTING).is_file():
            try:
                names = [str(n) for n in json.loads((entry / _COMMITTING).read_text(encoding="utf-8"))]
                _move_into(entry, out, [entry / n for n in names
                                        if "/" not in n and (entry / n).exists() and not (entry / n).is_symlink()])
                log.warning("%s: finished moving the outputs of a run killed while it was moving them in (%s)",
                            out, ", ".join(names))
            except (OSError, ValueError, TypeError) as exc:
                log.warning("%s: could not finish the moves of an interrupted run (%s); its staging folder is removed",
                            entry, exc)
        shutil.rmtree(entry, ignore_errors=True)
        done.append(entry.name)
    if not live:
        for entry in sorted(out.iterdir()):
            if _LEGACY_TEMPORARY.match(entry.name) and not entry.name.startswith(STAGING_PREFIX):
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
                done.append(entry.name)
    if done:
        log.info("%s: removed what earlier interrupted runs left: %s", out, ", ".join(done))
    return done


def _move_into(staging: Path, out: Path, entries: list[Path]) -> list[Path]:
    moved = []
    for entry in entries:
        dest = out / entry.name
        if entry.is_dir() and not entry.is_symlink() and (dest.exists() or dest.is_symlink()):
            old = staging / f".old-{entry.name}"
            os.replace(dest, old)                 # a folder (site/) cannot be replaced in one rename
        elif dest.is_dir() and not dest.is_symlink():
            os.replace(dest, staging / f".old-{entry.name}")
        os.replace(entry, dest)
        moved.append(dest)
    return moved


def _write_marker(marker: Path, names: list[str]) -> None:
    tmp = marker.with_name(marker.name + ".part")
    tmp.write_text(json.dumps(names), encoding="utf-8")
    os.replace(tmp, marker)


def _link(entry: Path, link: Path) -> None:
    """Make ``entry`` (in OUT) readable as ``link`` (in the staging folder): a relative symlink, else a hard link."""
    try:
        os.symlink(os.path.join("..", entry.name), link, target_is_directory=entry.is_dir())
    except OSError:
        if entry.is_file():
            with contextlib.suppress(OSError):
                os.link(entry, link)


@contextlib.contextmanager
def _signals_held():
    """Defer SIGINT and SIGTERM for the block: they are re-sent, to the handlers in place before, after it.

    Python runs signal handlers in the main thread whichever thread the kernel picks, so swapping the
    handlers (not the thread's signal mask) holds them back reliably. A no-op off the main thread.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    held = [s for s in (signal.SIGINT, signal.SIGTERM)]
    previous = {s: signal.signal(s, lambda signum, frame: pending.append(signum)) for s in held}
    try:
        yield
    finally:
        for s, old in previous.items():
            signal.signal(s, old if old is not None else signal.SIG_DFL)
        for signum in dict.fromkeys(pending):
            os.kill(os.getpid(), signum)


try:  # POSIX advisory locks: a staging folder whose lock nobody holds belongs to a dead run
    import fcntl
except ImportError:  # pragma: no cover - Windows: fall back on the process id in the folder's name
    fcntl = None


def _hold_lock(path: Path):
    f = open(path, "w")
    f.write(f"{os.getpid()} {uuid.uuid4().hex}\n")
    f.flush()
    if fcntl is not None:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    return f


def _is_locked(path: Path) -> bool:
    if not path.exists():
        return False
    if fcntl is None:  # pragma: no cover
        pid = int(path.parent.name[len(STAGING_PREFIX):].split("-")[0] or 0)
        try:
            os.kill(pid, 0)
            return True
        except OSError:
            return False
    with open(path) as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)
        return False
