"""Options of bgplan's analyses: small dataclasses that check themselves when made (as r5py's ``RegionalTask``).

A bad value is a :class:`geo.errors.InputError` at once, one line naming
the option or the file, before any network is read. Every analysis that
routes also takes a :class:`NetworkOptions` (its ``network`` argument): the
network vintage, class overlays, speed model, vehicle and OSM extract travel
with the work, so every step of a run uses the network the user chose.

>>> AccessOptions(rail=False).ranges
True
>>> IsochroneOptions(minutes=[60, 15, 30]).minutes
(15.0, 30.0, 60.0)
>>> IsochroneOptions(minutes=[0])
Traceback (most recent call last):
...
geo.errors.InputError: --minutes 0: give a time above 0 and at most a week (10,080)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from geo.cluster import SchedulerOptions
from geo.errors import InputError
from geo.siting.montecarlo import MonteCarloOptions
from layers.networks import NetworkOptions
from layers.pipeline import RunOptions
from layers.siting import SitingOptions

__all__ = ["AccessOptions", "CalibrationOptions", "CommunesOptions", "IsochroneOptions", "MatrixOptions",
           "MonteCarloOptions", "NetworkOptions", "RunOptions", "ScenarioBatchOptions", "ScenarioOptions",
           "SchedulerOptions", "SensitivityOptions", "SitingOptions", "ValidationOptions"]

#: Isochrone thresholds (minutes) when none are given.
DEFAULT_MINUTES = (15.0, 30.0, 45.0, 60.0)


def _file(path, what: str) -> Path | None:
    """``path`` as a Path that exists (None stays None); a missing file is a one-line error naming it."""
    if path is None:
        return None
    path = Path(path)
    if not path.exists():
        raise InputError(path, f"file not found ({what})")
    return path


def _set(obj, name: str, value) -> None:
    object.__setattr__(obj, name, value)


@dataclass(frozen=True)
class AccessOptions:
    """Options of :func:`bgplan.access`.

    parks : a park list or outlines (any vector format and CRS, or a CSV with lon/lat) measured instead of the
        region's placed parks (ignored when points are given to :func:`bgplan.access`).
    rail : add the road + rail columns (``minutes_to_<dest>_road_rail``) where the region has railways.
    ranges : add ``minutes_low_to_*`` / ``minutes_high_to_*`` (every assumed speed at the bounds of the speed
        model) and, for a car, ``minutes_by_truck_to_*``.
    """

    parks: Path | None = None
    rail: bool = True
    ranges: bool = True

    def __post_init__(self):
        _set(self, "parks", _file(self.parks, "parks"))


@dataclass(frozen=True)
class IsochroneOptions:
    """Options of :func:`bgplan.isochrones`.

    origins : region destination keys (``kep_station`` …) or ``"LON,LAT"`` strings; None = the region's
        ``run: isochrone_origins`` (else ``kep_station``). Ignored when points are given.
    all_parks : one set of isochrones per placed park instead of ``origins``.
    parks : a park file instead of the region's (with ``all_parks``).
    minutes : thresholds in minutes, each above 0 and at most a week (sorted).
    """

    origins: tuple | None = None
    all_parks: bool = False
    parks: Path | None = None
    minutes: tuple = DEFAULT_MINUTES

    def __post_init__(self):
        if isinstance(self.origins, str):
            _set(self, "origins", (self.origins,))
        elif self.origins is not None:
            _set(self, "origins", tuple(str(o) for o in self.origins))
        minutes = self.minutes if isinstance(self.minutes, (list, tuple)) else (self.minutes,)
        checked = []
        for m in minutes:
            try:
                value = float(m)
            except (TypeError, ValueError):
                raise InputError(None, f"--minutes {m!r}: not a number of minutes") from None
            if not 0 < value <= 7 * 24 * 60:
                raise InputError(None, f"--minutes {m:g}: give a time above 0 and at most a week (10,080)")
            checked.append(value)
        if not checked:
            raise InputError(None, "--minutes: give at least one time")
        _set(self, "minutes", tuple(sorted(set(checked))))
        _set(self, "parks", _file(self.parks, "parks"))


@dataclass(frozen=True)
class MatrixOptions:
    """Options of :func:`bgplan.matrix`.

    origins : a point file (any vector format, or a CSV with lon/lat; column ``name``) instead of the region's
        parks (ignored when points are given).
    destinations : a point file, or a GeoDataFrame of points; None = the region's key destinations.
    parks : a park file instead of the region's (the default origins).
    """

    origins: Path | None = None
    destinations: object = None
    parks: Path | None = None

    def __post_init__(self):
        _set(self, "origins", _file(self.origins, "origins"))
        if isinstance(self.destinations, (str, os.PathLike)):
            _set(self, "destinations", _file(self.destinations, "destinations"))
        _set(self, "parks", _file(self.parks, "parks"))


@dataclass(frozen=True)
class ScenarioOptions:
    """Options of :func:`bgplan.scenario`.

    file : a scenario file (planned roads as lines with ``name``, ``road_class``, ``design_speed_kmh``;
        interchanges as points); None = the region's ``run: scenario`` on its ``scenario_network`` (e.g.
        "2018 vs today" for CT.01) unless a network is given.
    interchanges : interchange points, if not in the scenario file.
    parks : a park file instead of the region's.
    """

    file: Path | None = None
    interchanges: Path | None = None
    parks: Path | None = None

    def __post_init__(self):
        _set(self, "file", _file(self.file, "scenario"))
        _set(self, "interchanges", _file(self.interchanges, "interchanges"))
        _set(self, "parks", _file(self.parks, "parks"))


@dataclass(frozen=True)
class ScenarioBatchOptions:
    """Options of :func:`bgplan.scenario_batch`: scenario ``files`` (files, or folders whose scenario files are
    taken), where they run (``scheduler``) and a park file instead of the region's."""

    files: tuple = ()
    scheduler: SchedulerOptions = SchedulerOptions()
    parks: Path | None = None

    def __post_init__(self):
        from layers.scenario_batch import scenario_files

        files = (self.files,) if isinstance(self.files, (str, os.PathLike)) else tuple(self.files)
        _set(self, "files", tuple(scenario_files(files)))
        _set(self, "parks", _file(self.parks, "parks"))


@dataclass(frozen=True)
class CommunesOptions:
    """Options of :func:`bgplan.communes`: commune ``polygons`` (a vector file with a ``code`` (GSO 2025) or
    ``name`` column; default: the units' points) and a ``parks`` file instead of the region's."""

    polygons: Path | None = None
    parks: Path | None = None

    def __post_init__(self):
        _set(self, "polygons", _file(self.polygons, "communes"))
        _set(self, "parks", _file(self.parks, "parks"))


@dataclass(frozen=True)
class ValidationOptions:
    """Options of :func:`bgplan.validate`: the ``observed`` travel times (CSV, see
    :func:`layers.validation.read_observations`; None = the region's ``validation.observed_file``)."""

    observed: Path | None = None

    def __post_init__(self):
        _set(self, "observed", _file(self.observed, "observations"))


@dataclass(frozen=True)
class CalibrationOptions:
    """Options of :func:`bgplan.calibrate`: ``observed`` times (as :class:`ValidationOptions`), whether to
    run the ``leave_one_out`` check, and the fitting ``iterations`` (≥ 1)."""

    observed: Path | None = None
    leave_one_out: bool = True
    iterations: int = 3

    def __post_init__(self):
        _set(self, "observed", _file(self.observed, "observations"))
        if not isinstance(self.iterations, int) or self.iterations < 1:
            raise InputError(None, f"iterations must be a whole number ≥ 1, not {self.iterations!r}")


@dataclass(frozen=True)
class SensitivityOptions:
    """Options of :func:`bgplan.sensitivity`: the ``siting`` run re-scored (:class:`SitingOptions`; its own
    ±20 % sensitivity is skipped), the Monte Carlo draws (:class:`MonteCarloOptions`) and where they run
    (:class:`SchedulerOptions`)."""

    siting: SitingOptions | None = None
    montecarlo: MonteCarloOptions = MonteCarloOptions()
    scheduler: SchedulerOptions = SchedulerOptions()

    def __post_init__(self):
        if self.siting is None:
            _set(self, "siting", SitingOptions(sensitivity=False))
        elif not isinstance(self.siting, SitingOptions):
            raise TypeError(f"SensitivityOptions.siting must be a SitingOptions, not {type(self.siting).__name__}")
