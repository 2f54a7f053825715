"""What makes a command safe to stop: signals that unwind (SIGTERM, SIGHUP like Ctrl-C), and messages that name
OUT's paths while the command writes into its staging folder (:class:`geo.io.output.OutputSet`)."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
from pathlib import Path


class Terminated(KeyboardInterrupt):
    """SIGTERM (or SIGHUP) received: unwinds like Ctrl-C, so that temporaries are removed."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def signals_raise():
    """SIGTERM and SIGHUP raise :class:`Terminated` in this process (forked workers keep the default action)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    owner = os.getpid()

    def handler(signum, frame):
        if os.getpid() != owner:            # a forked worker: die as it would have
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        raise Terminated(signum)

    names = [n for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n)]
    previous = {n: signal.signal(getattr(signal, n), handler) for n in names}
    try:
        yield
    finally:
        for n, old in previous.items():
            signal.signal(getattr(signal, n), old)


class _ShownPaths:
    """A text stream that shows the staging folder's path as OUT's."""

    def __init__(self, stream, pairs):
        self._stream, self._pairs = stream, pairs

    def write(self, text):
        return self._stream.write(replace_all(text, self._pairs))

    def __getattr__(self, name):
        return getattr(self._stream, name)


class _ShownPathsFilter(logging.Filter):
    def __init__(self, pairs):
        super().__init__()
        self._pairs = pairs

    def filter(self, record):
        message = record.getMessage()
        fixed = replace_all(message, self._pairs)
        if fixed != message:
            record.msg, record.args = fixed, None
        return True


def replace_all(text, pairs):
    if isinstance(text, str):
        for old, new in pairs:
            text = text.replace(old, new)
    return text


def path_pairs(staging: Path, final: Path) -> list[tuple[str, str]]:
    return [(os.path.abspath(staging), os.path.abspath(final)), (str(staging), str(final))]


@contextlib.contextmanager
def shown_as(pairs):
    """Messages (stdout, stderr, logging) name OUT's paths, not the staging folder's."""
    handlers = logging.getLogger().handlers
    flt = _ShownPathsFilter(pairs)
    for h in handlers:
        h.addFilter(flt)
    try:
        with contextlib.redirect_stdout(_ShownPaths(sys.stdout, pairs)), contextlib.redirect_stderr(_ShownPaths(sys.stderr, pairs)):
            yield
    finally:
        for h in handlers:
            h.removeFilter(flt)

