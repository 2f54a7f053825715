"""Work in a forked child process while this one goes on: how the main job overlaps independent steps on two cores.

``with start("siting", fn, *args) as job: ...; value = job.result()`` runs
``fn(*args)`` in a child forked from this process. The child sees everything
this process has built (copy-on-write: networks, hierarchies, layers), writes
its own files, and sends its return value back pickled; :meth:`Job.result`
waits for it and returns it, or raises the child's exception (with the child's
traceback as its cause). Leaving the ``with`` block stops a child nobody waited
for, so an error in this process leaves no writer behind.

Where forking is not possible or not safe the work runs here, at once, and
``result`` returns it — the same answer either way, only sooner or later:
no ``fork`` start method (Windows), a numba thread pool already running in
this process (its OpenMP runtime does not survive a fork), not the main thread,
or ``overlap=False`` (``geo.settings.overlap_steps``, ``BGPLAN_OVERLAP=0``).

>>> with start("sum", sum, [1, 2, 3]) as job:
...     job.result()
6
"""

from __future__ import annotations

import gc
import multiprocessing
import pickle
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

from geo import settings


class RemoteTraceback(Exception):
    """The child's traceback, as text: the ``__cause__`` of an exception raised in a child."""

    def __str__(self):
        return self.args[0]


def can_fork() -> bool:
    """True where a child can be forked safely now: a ``fork`` start method, the main thread, and no numba
    thread pool started (GNU OpenMP and numba's workqueue are not fork-safe once their threads run)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    if threading.current_thread() is not threading.main_thread():
        return False
    parallel = sys.modules.get("numba.np.ufunc.parallel")
    return not getattr(parallel, "_is_initialized", False) if parallel is not None else True


@dataclass
class Job:
    """One piece of work started by :func:`start`: ``forked`` says where it runs, ``seconds`` its own wall-clock
    seconds (known once :meth:`result` returned), ``waited_s`` how long this process waited for it."""

    name: str
    forked: bool
    seconds: float | None = None
    waited_s: float = 0.0
    _process: Any = field(default=None, repr=False)
    _conn: Any = field(default=None, repr=False)
    _value: Any = field(default=None, repr=False)

    def result(self):
        """The work's return value; raises its exception. Waits for a child (a second call returns at once)."""
        if self._process is None:
            return self._value
        t0 = time.perf_counter()
        try:
            message = self._conn.recv()
        except EOFError:
            self._process.join()
            code = self._process.exitcode
            self._close()
            raise RuntimeError(f"{self.name}: the background process ended (exit code {code}) without an answer") from None
        finally:
            self.waited_s = round(time.perf_counter() - t0, 3)
        self._process.join()
        self._close()
        kind, payload, self.seconds, remote = message
        if kind == "error":
            payload.__cause__ = RemoteTraceback(remote)
            raise payload
        self._value = payload
        return payload

    def stop(self):
        """Stop a child still running (nothing to do for work done here or already waited for)."""
        if self._process is not None:
            self._process.terminate()
            self._process.join()
            self._close()

    def _close(self):
        self._conn.close()
        self._process = self._conn = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


def start(name: str, fn: Callable, *args, overlap: bool | None = None, **kwargs) -> Job:
    """Start ``fn(*args, **kwargs)`` in a forked child (see the module docstring), or run it here at once.

    ``overlap``: False runs it here; None follows ``geo.settings.overlap_steps``. The return value must pickle.
    """
    if overlap is None:
        overlap = settings.overlap_steps
    if not (overlap and can_fork()):
        t0 = time.perf_counter()
        value = fn(*args, **kwargs)
        return Job(name, forked=False, seconds=round(time.perf_counter() - t0, 3), _value=value)
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    for stream in (sys.stdout, sys.stderr):     # else the child would print what this process had buffered
        stream.flush()
    process = context.Process(target=_child, args=(send, fn, args, kwargs), name=f"bgplan-{name}")
    gc.freeze()            # the child's collections skip what this process built (and leave its pages shared)
    try:
        process.start()
    finally:
        gc.unfreeze()
    send.close()
    return Job(name, forked=True, _process=process, _conn=receive)


def _child(conn, fn, args, kwargs):
    """In the child: run the work, send ``(kind, value or exception, seconds, traceback text)``."""
    t0 = time.perf_counter()
    try:
        message = ("ok", fn(*args, **kwargs), None, "")
    except BaseException as error:          # noqa: BLE001 - KeyboardInterrupt too: the parent re-raises it
        message = ("error", _picklable(error), None, traceback.format_exc())
    message = (message[0], message[1], round(time.perf_counter() - t0, 3), message[3])
    try:
        conn.send(message)
    except Exception as error:              # noqa: BLE001 - a return value that does not pickle
        conn.send(("error", RuntimeError(f"{type(error).__name__}: {error}"), message[2], traceback.format_exc()))
    finally:
        conn.close()
        for stream in (sys.stdout, sys.stderr):
            stream.flush()


def _picklable(error: BaseException) -> BaseException:
    """The exception itself when it survives pickling, else a RuntimeError with its type and message."""
    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:                       # noqa: BLE001
        return RuntimeError(f"{type(error).__name__}: {error}")
