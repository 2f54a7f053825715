"""Many planned-road scenarios evaluated in one batch and ranked by what they change for the parks.

:func:`run_scenario_batch` runs :func:`layers.scenario.run_scenario` on each
scenario file — in this process or on Dask workers (:mod:`geo.cluster`; the
network, parks and population are sent to each worker once) — and returns
one row per scenario, ranked:

``rank`` (1 = most park-minutes saved; ties broken by people gained, then
file name), ``scenario`` (file name), ``roads`` (names of the planned
roads), ``length_km`` (their total length), ``park_minutes_saved`` — the sum,
over every park and every *existing* target (corridor or destination known
before the scenario), of the minutes saved (before − after; a target the
scenario creates, e.g. CT.01 interchanges, has no "before" and is not
counted: unknown is not zero), ``minutes_saved_<target>`` the same per
target, ``people_within_<m>_min_gained`` — the sum over parks of the change
in people reachable within m minutes, ``parks_faster`` (parks at least half
a minute faster to some existing target), ``new_targets`` (targets the
scenario creates, with how many parks reach them and their median minutes),
``path`` (the file).

Workers read the scenario files themselves: on a remote cluster the files
must be at the same paths on the workers (a shared file system).

The table is the same, to the last bit, in-process and on any number of
workers: before the tasks start, the base network's routing hierarchy is
built (:func:`ready_for_batch`) and travels with the network, so every
scenario is answered by the same engine whatever ran before it in that
process (see :meth:`geo.routing.router.Router.hierarchy`: while a hierarchy is not
yet worth building, plain searches answer, and they add the same times in
another order — the last bits of a float differ).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geo.cluster import SchedulerOptions, Session, map_tasks
from geo.errors import InputError

log = logging.getLogger(__name__)

#: File types read as scenarios when a folder is given.
SCENARIO_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".fgb")

#: A park counts as faster when it saves at least this many minutes to some target.
FASTER_MINUTES = 0.5


@dataclass
class BatchInputs:
    """What every scenario needs, sent to each worker once."""

    region: object
    net: object
    parks: object
    population: object = None


def scenario_files(paths) -> list[Path]:
    """Scenario files named by ``paths`` (files, or folders whose scenario files are taken, sorted by name)."""
    out: list[Path] = []
    for p in [Path(x) for x in paths]:
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.suffix.lower() in SCENARIO_SUFFIXES)
            if not found:
                raise InputError(p, f"no scenario files ({', '.join(SCENARIO_SUFFIXES)}) in this folder")
            out.extend(found)
        elif p.exists():
            out.append(p)
        else:
            raise InputError(p, "file not found (scenario batch)")
    if not out:
        raise InputError(None, "--batch names no scenario file")
    return list(dict.fromkeys(out))


def scenario_effects(change: pd.DataFrame, roads: pd.DataFrame, name: str) -> dict:
    """One row of the batch table from a :class:`layers.scenario.ScenarioResult`'s ``change`` and ``roads``."""
    row = {"scenario": name, "roads": "; ".join(str(r) for r in roads["name"]) if "name" in roads else None,
           "length_km": float(roads["length_km"].sum()) if "length_km" in roads else np.nan}
    minutes = [c.removesuffix("_change") for c in change.columns if c.startswith("minutes_to_") and c.endswith("_change")]
    total, faster = 0.0, np.zeros(len(change), bool)
    new_targets = {}
    for col in minutes:
        before = change[f"{col}_before"].to_numpy(dtype=float)
        after = change[f"{col}_after"].to_numpy(dtype=float)
        key = col.removeprefix("minutes_to_")
        if not np.isfinite(before).any():          # a target the scenario creates: no "before"
            reach = np.isfinite(after)
            new_targets[key] = f"{int(reach.sum())} parks, median {np.median(after[reach]):.1f} min" if reach.any() else "no park"
            continue
        saved = before - after                      # NaN where either is unknown
        row[f"minutes_saved_{key}"] = float(np.nansum(saved))
        total += float(np.nansum(saved))
        faster |= np.nan_to_num(saved, nan=0.0) >= FASTER_MINUTES
    row["park_minutes_saved"] = total
    for col in [c for c in change.columns if c.startswith("people_within_") and c.endswith("_change")]:
        row[f"{col.removesuffix('_change')}_gained"] = float(np.nansum(change[col].to_numpy(dtype=float)))
    row["parks_faster"] = int(faster.sum())
    row["new_targets"] = "; ".join(f"{k}: {v}" for k, v in new_targets.items()) or None
    return row


def _evaluate(inputs: BatchInputs, path: Path) -> dict:
    from layers.scenario import run_scenario

    result = run_scenario(inputs.region, inputs.parks, inputs.net, path, population=inputs.population)
    return {**scenario_effects(result.change, result.roads, Path(path).name), "path": str(path)}


def rank_scenarios(rows: list[dict]) -> pd.DataFrame:
    """The batch table, ranked by park-minutes saved, then people within 30 min gained, then name."""
    table = pd.DataFrame(rows)
    people = "people_within_30_min_gained"
    if people not in table:
        table[people] = np.nan
    table = table.sort_values(["park_minutes_saved", people, "scenario"], ascending=[False, False, True],
                              na_position="last", kind="mergesort").reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table


def ready_for_batch(net) -> None:
    """Build what every scenario task would otherwise build on its own, differently by history: the base
    road network's routing hierarchy and the index of the edges points join."""
    net.road.hierarchy()
    net.entry_edges.nearest([], [], 0.0)


def run_scenario_batch(region, parks, net, files, *, population=None, session: Session | None = None) -> pd.DataFrame:
    """Evaluate every scenario file on ``net`` for ``parks`` and rank them (see the module docstring); nothing is
    written here. Arguments in the order of every analysis: region, features, networks, then what is specific."""
    from layers.networks.routers import require_networks

    require_networks(net, "run_scenario_batch(region, parks, net, files)")
    files = [Path(f) for f in files]
    session = session or Session(SchedulerOptions("none"))
    ready_for_batch(net)
    rows = map_tasks(session, _evaluate, BatchInputs(region, net, parks, population), files,
                     description=f"{len(files)} scenarios")
    table = rank_scenarios(rows)
    table.attrs["summary"] = {"scenarios": len(files), "scheduler": session.label, "workers": session.workers,
                              "timings_s": dict(session.timings_s)}
    return table
