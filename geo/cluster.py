"""Running many independent tasks in-process or on Dask (``dask.distributed``), with the same code.

``scheduler`` is one of:

* ``"none"`` — a plain loop in this process (no Dask needed);
* ``"local"`` — a :class:`distributed.LocalCluster` of ``workers`` processes
  (one thread each) on this machine, started and stopped here;
* an address (``tcp://10.0.0.5:8786``, ``10.0.0.5:8786``) — an existing Dask
  scheduler; its workers must be able to import this package
  (``pip install`` the repository on them, same versions as requirements.txt).

:func:`map_tasks` sends the heavy shared input to every worker **once**
(``client.scatter(..., broadcast=True)``), then submits one task per chunk
with only the small chunk description, and returns the results in task
order — whatever order they finish in — so a reduction over them does not
depend on the scheduler or the number of workers.

An unreachable scheduler is an :class:`~geo.errors.InputError` (one line,
exit status 2) after ``connect_timeout_s``.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geo import settings
from geo.errors import InputError

log = logging.getLogger(__name__)

#: Seconds to wait for a remote scheduler before giving up.
connect_timeout_s = 5.0


@dataclass(frozen=True)
class SchedulerOptions:
    """Where tasks run: ``scheduler`` ``none`` | ``local`` | ADDRESS; ``workers`` for ``local`` (≥ 1)."""

    scheduler: str = "none"
    workers: int = 2

    def __post_init__(self):
        if not isinstance(self.scheduler, str) or not self.scheduler.strip():
            raise InputError(None, f"--scheduler must be none, local or a scheduler address, not {self.scheduler!r}")
        if not isinstance(self.workers, int) or self.workers < 1:
            raise InputError(None, f"--workers must be a whole number ≥ 1, not {self.workers!r}")

    @property
    def kind(self) -> str:
        s = self.scheduler.strip().lower()
        return s if s in ("none", "local") else "address"


@dataclass
class Session:
    """An open executor: ``client`` is None for ``none``; ``workers`` = worker count (1 in-process)."""

    options: SchedulerOptions
    client: Any = None
    workers: int = 1
    timings_s: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.options.kind if self.options.kind != "address" else self.options.scheduler


@contextlib.contextmanager
def open_session(options: SchedulerOptions) -> Iterator[Session]:
    """Connect to (or start) the scheduler; close what was started here on exit."""
    if options.kind == "none":
        yield Session(options)
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - requirements.txt pins it
        raise InputError(None, f"--scheduler {options.scheduler} needs dask[distributed] (pip install -r requirements.txt): {exc}") from None
    if not logging.getLogger().isEnabledFor(logging.DEBUG):   # Dask's start/stop chatter only with --verbose
        for name in ("distributed", "distributed.scheduler", "distributed.nanny", "distributed.worker", "distributed.core"):
            logging.getLogger(name).setLevel(logging.WARNING)
    t0 = time.perf_counter()
    cluster = None
    if options.kind == "local":
        import dask

        # Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 in workers; that turns off glibc's adaptive mmap threshold,
        # so every array above 128 kB is mmapped and page-faulted afresh: measured 2× the CPU time per re-scoring
        # run (scripts/bench_dask.py). Unset it for the workers started here (see README for a remote cluster).
        with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
            cluster = LocalCluster(n_workers=options.workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    else:
        address = options.scheduler if "://" in options.scheduler else f"tcp://{options.scheduler}"
        try:
            client = Client(address, timeout=f"{connect_timeout_s}s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(None, f"cannot reach the Dask scheduler at {options.scheduler} within {connect_timeout_s:g} s "
                                   f"({type(exc).__name__}); start one with 'dask scheduler' or use --scheduler local|none") from None
    try:
        workers = len(client.scheduler_info()["workers"])
        if workers == 0:
            try:
                client.wait_for_workers(1, timeout=connect_timeout_s * 4)
            except TimeoutError:
                raise InputError(None, f"the Dask scheduler at {options.scheduler} has no workers after "
                                       f"{connect_timeout_s * 4:g} s; start some with 'dask worker {options.scheduler}'") from None
            workers = len(client.scheduler_info()["workers"])
        if options.kind == "address":
            _check_environment(client, options.scheduler)
        session = Session(options, client=client, workers=workers,
                          timings_s={"start": round(time.perf_counter() - t0, 3)})
        log.info("Dask %s: %d workers (dashboard %s)", session.label, workers, client.dashboard_link)
        yield session
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


#: Evaluated on the scheduler and the workers: can they import this package? (``eval`` is pickled by reference.)
_PROBE = "__import__('importlib.util').util.find_spec('geo') is not None"


def _check_environment(client, address: str) -> None:
    """One-line error when the scheduler or a worker cannot import the package (they unpickle its tasks)."""
    package = Path(__file__).resolve().parent.parent
    missing = [] if client.run_on_scheduler(eval, _PROBE) else ["the scheduler"]
    bad = [w for w, ok in client.run(eval, _PROBE).items() if not ok]
    if bad:
        missing.append(f"{len(bad)} worker(s)")
    if missing:
        raise InputError(None, f"{' and '.join(missing)} at {address} cannot import this tool's packages (geo, layers): "
                               f"start them with PYTHONPATH={package} and the same requirements.txt")


def map_tasks(session: Session, func: Callable, shared: Any, items: Sequence, *, description: str = "tasks",
              **kwargs) -> list:
    """``[func(shared, item, **kwargs) for item in items]``, in item order, on the session's executor.

    ``shared`` (the heavy input) is scattered to every worker once; each
    task receives only its ``item``. A progress bar (``geo.settings.progress``)
    counts finished tasks. Times (``scatter``, ``tasks``) go to ``session.timings_s``.
    """
    from tqdm.auto import tqdm

    bar = tqdm(total=len(items), desc=description, unit="task", disable=not settings.progress)
    t0 = time.perf_counter()
    try:
        if session.client is None:
            out = []
            for item in items:
                out.append(func(shared, item, **kwargs))
                bar.update(1)
            session.timings_s["tasks"] = round(time.perf_counter() - t0, 3)
            return out
        from distributed import as_completed

        client = session.client
        handle = client.scatter(shared, broadcast=True, hash=False)
        t1 = time.perf_counter()
        session.timings_s["scatter"] = round(t1 - t0, 3)
        futures = [client.submit(func, handle, item, pure=False, **kwargs) for item in items]
        position = {f.key: i for i, f in enumerate(futures)}
        out = [None] * len(items)
        for future in as_completed(futures):
            out[position[future.key]] = future.result()
            bar.update(1)
        session.timings_s["tasks"] = round(time.perf_counter() - t1, 3)
        return out
    finally:
        bar.close()
