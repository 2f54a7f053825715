"""geo.background: work in a forked child beside this process — answers, errors, and no writer left behind."""

from __future__ import annotations

import os
import sys
import time
import types

import pytest

from geo import background
from geo.errors import InputError

pytestmark = pytest.mark.skipif("fork" not in __import__("multiprocessing").get_all_start_methods(),
                                reason="no fork on this platform: geo.background runs the work in this process")


def _pid_and(value):
    return os.getpid(), value


def _fail(path):
    raise InputError(path, "no 'lon'/'lat' columns")


def _write_later(path, seconds):
    time.sleep(seconds)
    path.write_text("late", encoding="utf-8")


def test_a_forked_job_returns_its_value_from_another_process(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba.np.ufunc.parallel", types.SimpleNamespace(_is_initialized=False))
    with background.start("pid", _pid_and, {"a": [1, 2]}, overlap=True) as job:
        pid, value = job.result()
    assert job.forked and pid != os.getpid()
    assert value == {"a": [1, 2]} and job.seconds is not None and job.waited_s >= 0
    assert job.result() == (pid, value)                       # a second call answers at once


def test_without_overlap_the_work_runs_here_at_once():
    with background.start("pid", _pid_and, 7, overlap=False) as job:
        assert not job.forked
        assert job.result() == (os.getpid(), 7)


def test_a_running_numba_thread_pool_keeps_the_work_in_this_process(monkeypatch):
    """GNU OpenMP does not survive a fork once its threads run: then no child is forked."""
    monkeypatch.setitem(sys.modules, "numba.np.ufunc.parallel", types.SimpleNamespace(_is_initialized=True))
    assert not background.can_fork()
    job = background.start("pid", _pid_and, 1, overlap=True)
    assert not job.forked and job.result() == (os.getpid(), 1)


def test_the_childs_error_is_raised_here_with_its_type_message_and_traceback(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba.np.ufunc.parallel", types.SimpleNamespace(_is_initialized=False))
    with pytest.raises(InputError) as raised:
        with background.start("parks", _fail, "parks.csv", overlap=True) as job:
            assert job.forked
            job.result()
    assert str(raised.value) == "parks.csv: no 'lon'/'lat' columns" and raised.value.path == "parks.csv"
    assert isinstance(raised.value.__cause__, background.RemoteTraceback)
    assert "_fail" in str(raised.value.__cause__)


def test_a_child_that_dies_is_an_error_naming_the_job(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba.np.ufunc.parallel", types.SimpleNamespace(_is_initialized=False))
    with pytest.raises(RuntimeError, match=r"^siting: the background process ended \(exit code 3\)"):
        with background.start("siting", os._exit, 3, overlap=True) as job:
            job.result()


def test_leaving_the_block_stops_a_child_nobody_waited_for(tmp_path, monkeypatch):
    """An error in this process while the child works: the child is stopped, it writes nothing afterwards."""
    monkeypatch.setitem(sys.modules, "numba.np.ufunc.parallel", types.SimpleNamespace(_is_initialized=False))
    late = tmp_path / "late.txt"
    with pytest.raises(ValueError):
        with background.start("writer", _write_later, late, 1.5, overlap=True) as job:
            process = job._process
            raise ValueError("this process failed first")
    assert not process.is_alive() and process.exitcode != 0
    time.sleep(2.0)
    assert not late.exists()


def test_a_value_that_does_not_pickle_is_an_error_not_a_hang(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba.np.ufunc.parallel", types.SimpleNamespace(_is_initialized=False))
    with pytest.raises(RuntimeError, match="pickle|Pickl|lambda"):
        with background.start("lambda", lambda: (lambda: 1), overlap=True) as job:
            job.result()
