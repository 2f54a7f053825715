"""Siting criteria: one registry, one signature.

Every criterion is a function ``fn(context, grid, **params) -> (values,
reason)`` (as momepy's measures share one signature): ``context`` is the
run's :class:`layers.siting.context.SitingContext`, ``grid`` its
:class:`geo.siting.grid.Grid`; ``values`` a 2-D float array on the grid (NaN
outside the region and where unknown), ``reason`` None or why the criterion
is unknown (everywhere or in part). It is registered under a name, or a
name pattern with ``{params}`` for a family (``minutes_to_{destination}``),
together with what it means and which names the region can measure:

>>> @CRITERIA.register("cell_row", "row of the cell (for the example)")
... def cell_row(context, grid):
...     return np.where(grid.inside, np.indices(grid.shape)[0].astype(float), np.nan), None
>>> CRITERIA.unregister("cell_row")

A profile may then weight ``cell_row`` like any shipped criterion. Nothing
else changes: :func:`layers.siting.profiles.load_profile` checks names
against :meth:`CriteriaRegistry.known`, :func:`measure` computes what the
run needs, missing inputs give NaN with the reason (never 0).

Shipped criteria (in the order their columns are written)
---------------------------------------------------------
``minutes_to_<corridor>``, ``minutes_to_<destination>``, ``minutes_to_town``,
``people_within_<m>_min``, ``slope_deg``, ``km_to_park``, ``km_to_urban``,
``km_to_<layer>`` / ``in_<layer>`` (see :mod:`layers.siting`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely

from geo.crs import to_metric
from geo.siting.grid import Grid
from geo.io.raster import slope_degrees
from layers import access
from layers.region import Region
from layers.siting.options import CONSTRAINT_DEFAULTS

#: A criterion function: ``fn(context, grid, **params) -> (values on the grid, reason or None)``.
CriterionFn = Callable[..., tuple]


@dataclass(frozen=True)
class Criterion:
    """A registered criterion (or family of criteria when ``pattern`` has ``{params}``)."""

    pattern: str                    # "slope_deg" or "minutes_to_{destination}"
    fn: CriterionFn
    describe: str | Callable        # what it means: text with the {params}, or (region, params) -> text
    names: Callable | None          # (region, layer_names) -> list of param dicts the region can measure
    accept: Callable | None         # (params) -> bool: measurable although not listed (e.g. any minutes)
    standard: bool                  # measured (and written to the grid) whatever the profile
    regex: re.Pattern

    @property
    def is_family(self) -> bool:
        return bool(self.regex.groupindex)

    def meaning(self, region: Region, params: dict) -> str:
        """What the criterion (with these params) means, for profiles and error messages."""
        return self.describe(region, params) if callable(self.describe) else self.describe.format(**params)

    def instances(self, region: Region, layer_names=()) -> dict[str, dict]:
        """Criterion name → its params, for every name the region can measure."""
        if not self.is_family:
            return {self.pattern: {}}
        return {self.pattern.format(**p): p for p in (self.names(region, tuple(layer_names)) if self.names else [])}


class CriteriaRegistry:
    """Criteria by name; :data:`CRITERIA` is the one the siting uses."""

    def __init__(self):
        self._entries: dict[str, Criterion] = {}

    def register(self, pattern: str, describe, *, names=None, accept=None, standard: bool = False,
                 params: dict | None = None):
        """Decorator: register ``fn`` under ``pattern`` (``{param}`` parts match ``params[param]``, default any text).

        ``names(region, layer_names)`` lists the param dicts the region can
        measure (families only); ``accept(params)`` admits names outside that
        list; ``standard`` criteria are measured in every run.
        """
        params = params or {}

        def to_regex(text: str) -> str:
            parts = re.split(r"\{(\w+)\}", text)
            return "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>{params.get(p, '.+?')})" for i, p in enumerate(parts))

        def wrap(fn: CriterionFn) -> CriterionFn:
            if pattern in self._entries:
                raise ValueError(f"criterion '{pattern}' is already registered")
            self._entries[pattern] = Criterion(pattern, fn, describe, names, accept, standard,
                                               re.compile(f"^{to_regex(pattern)}$"))
            return fn

        return wrap

    def unregister(self, pattern: str) -> None:
        """Remove a criterion (tests, plug-ins)."""
        self._entries.pop(pattern, None)

    def entries(self) -> list[Criterion]:
        """Registered criteria: single names first, then families, each in registration order."""
        values = list(self._entries.values())
        return [c for c in values if not c.is_family] + [c for c in values if c.is_family]

    def order(self, criterion: Criterion) -> int:
        """Registration index (column order of the outputs)."""
        return list(self._entries).index(criterion.pattern)

    def resolve(self, name: str, region: Region, layer_names=()) -> tuple[Criterion, dict] | None:
        """The criterion measuring ``name`` and its params, or None when none can."""
        for crit in self.entries():
            m = crit.regex.match(name)
            if not m:
                continue
            params = m.groupdict()
            if not crit.is_family or name in crit.instances(region, layer_names) or (crit.accept and crit.accept(params)):
                return crit, params
        return None

    def describe(self, name: str, region: Region, layer_names=()) -> str:
        found = self.resolve(name, region, layer_names)
        if found is None:
            raise KeyError(name)
        crit, params = found
        return crit.meaning(region, params)

    def known(self, region: Region, layer_names=()) -> dict[str, str]:
        """Every criterion name the region can measure, with what it means."""
        out = {}
        for crit in self.entries():
            for name, params in crit.instances(region, layer_names).items():
                out.setdefault(name, crit.meaning(region, params))
        return out

    def standard(self, region: Region) -> list[str]:
        """The criteria measured in every run (registration order)."""
        return [name for crit in self._entries.values() if crit.standard for name in crit.instances(region)]


CRITERIA = CriteriaRegistry()


def known_criteria(region: Region, layer_names=()) -> dict[str, str]:
    """Criterion names the siting can measure for ``region`` (and user layers ``layer_names``), with what they mean."""
    return CRITERIA.known(region, layer_names)


def measure(context, grid: Grid, needed, registry: CriteriaRegistry = CRITERIA) -> tuple[dict, dict]:
    """Raw values of the ``needed`` criteria on the grid: ``(values, reasons)``, in registration order.

    Also ``values["snap_m"]``: metres from each cell centre to its road edge (NaN = not connected).
    """
    region, layer_names = context.region, tuple(context.user_layers)
    found = {}
    for name in dict.fromkeys(needed):
        hit = registry.resolve(name, region, layer_names)
        if hit is None:
            raise KeyError(f"no criterion measures '{name}'")
        found[name] = hit
    values, reasons = {"snap_m": context.put(context.cells.snap_m)}, {}
    position = {name: i for i, name in enumerate(found)}
    for name in sorted(found, key=lambda n: (registry.order(found[n][0]), position[n])):
        crit, params = found[name]
        array, reason = crit.fn(context, grid, **params)
        values[name] = np.where(grid.inside, np.asarray(array, dtype=float), np.nan)
        if reason:
            reasons[name] = reason
    context.clock.lap("criteria")
    return values, reasons


# ---------------------------------------------------------------------- shipped criteria

def _corridors(region, _layers):
    return [{"corridor": cid} for cid in region.corridors]


def _destinations(region, _layers):
    return [{"destination": key} for key in region.destinations()["key"]]


def _catchments(region, _layers):
    return [{"minutes": f"{float(m):g}"} for m in access.settings_of(region)["catchment_minutes"]]


def _layers(_region, layer_names):
    return [{"kind": k, "layer": name} for name in dict.fromkeys([*CONSTRAINT_DEFAULTS, *layer_names])
            for k in ("km_to", "in")]


def _corridor_meaning(region, params):
    spec = region.corridors.get(params["corridor"], {})
    what = "interchanges" if spec.get("road_class") == "expressway" else "network"
    return f"minutes by road to the nearest {spec.get('name_vi', params['corridor'])} {what} node"


def _destination_meaning(region, params):
    names = region.destinations().set_index("key")["name_vi"]
    return f"minutes by road to {names.get(params['destination'], params['destination'])}"


@CRITERIA.register("minutes_to_{corridor}", _corridor_meaning, names=_corridors)
def minutes_to_corridor(context, grid, corridor):
    """Minutes by road to the nearest node of a corridor (an expressway's interchanges only when a scenario adds them)."""
    return context.minutes_to(corridor)


def corridor_groups(region) -> dict[str, list[str]]:
    """The region's ``siting: corridor_groups:`` (group name → corridor ids), checked against its corridors."""
    groups = ((region.config.get("siting") or {}).get("corridor_groups")) or {}
    if not isinstance(groups, dict):
        raise TypeError("siting: corridor_groups must map a name to a list of corridor ids")
    return {str(k): [str(c) for c in v] for k, v in groups.items() if all(str(c) in region.corridors for c in v)}


def _groups(region, _layers):
    return [{"group": g} for g in corridor_groups(region)]


def _group_meaning(region, params):
    members = corridor_groups(region).get(params["group"], [])
    names = [region.corridors[c].get("name_vi", c) for c in members]
    return f"minutes by road to the nearest of {', '.join(names)} (expressways at their interchanges)"


@CRITERIA.register("minutes_to_{group}", _group_meaning, names=_groups)
def minutes_to_group(context, grid, group):
    """Minutes by road to the nearest node of any corridor of a group (``siting: corridor_groups:``), e.g. the trunk
    corridors CT.01 + QL1A that run side by side: one criterion for one kind of access, not one per road."""
    return context.minutes_to(group)


@CRITERIA.register("minutes_to_{destination}", _destination_meaning, names=_destinations)
def minutes_to_destination(context, grid, destination):
    """Minutes by road to a destination of the region YAML."""
    return context.minutes_to(destination)


@CRITERIA.register("minutes_to_town", "minutes by road to the nearest city or town", standard=True)
def minutes_to_town(context, grid):
    """Minutes by road to the nearest city or town (OSM places)."""
    values, reason = context.minutes_to("town")
    if "urban places" in context.missing_layers and not np.isfinite(values).any():
        reason = context.missing_layers["urban places"]
    return values, reason


@CRITERIA.register("people_within_{minutes}_min", "people within {minutes} minutes by road", names=_catchments,
                   standard=True, params={"minutes": r"\d+(?:\.\d+)?"}, accept=lambda p: 0 < float(p["minutes"]) <= 180)
def people_within(context, grid, minutes):
    """People (WorldPop rescaled to the census) reachable within ``minutes`` by road; exact."""
    return context.people_within(float(minutes))


@CRITERIA.register("slope_deg", "mean slope of the cell (degrees) from the DEM", standard=True)
def slope_deg(context, grid):
    """Mean slope of the cell (degrees); NaN where the DEM has no data."""
    dem = context.dem
    if dem is None:
        return context.unknown(), context.missing_layers.get("DEM", "no DEM given: slope unknown (not 0)")
    slope = slope_degrees(*dem)
    values = np.where(grid.inside, grid.sample(slope, dem[1]), np.nan)
    cov = float(np.isfinite(values[grid.inside]).mean())
    context.facts["slope_coverage"] = round(cov, 4)
    reason = None
    if cov < 1.0:
        reason = f"the DEM covers {cov:.1%} of the region's cells; slope elsewhere is unknown (not 0)"
    return values, reason


def _km_to_circles(grid, features):
    c = features["_centre"]
    return grid.distance_to(shapely.get_x(c), shapely.get_y(c), features["_radius"]) / 1000


@CRITERIA.register("km_to_park", "straight-line km to the nearest existing industrial park", standard=True)
def km_to_park(context, grid):
    """Straight-line km to the nearest existing park (a circle of its area around its point)."""
    parks = context.parks
    if parks is None or parks.empty:
        return context.unknown(), context.missing_layers.get("industrial parks", "no industrial parks given")
    return _km_to_circles(grid, parks), None


@CRITERIA.register("km_to_urban", "straight-line km to the nearest urban core", standard=True)
def km_to_urban(context, grid):
    """Straight-line km to the nearest urban core (a circle around each city/town/suburb place)."""
    places = context.places
    if places is None or places.empty:
        return context.unknown(), context.missing_layers.get("urban places", "no urban places found")
    return _km_to_circles(grid, places), None


@CRITERIA.register("{kind}_{layer}", "{kind} the {layer} layer (km_to: straight-line km to its nearest feature; "
                   "in: 1 where the cell touches it, else 0)", names=_layers, params={"kind": "km_to|in"})
def layer_criterion(context, grid, kind, layer):
    """``km_to_<layer>``: straight-line km from each cell centre to the nearest feature (exact, STRtree);
    ``in_<layer>``: 1 where the cell touches the layer (rasterised with ``all_touched``), else 0.
    NaN with the reason when the layer was not given (``--rice-land`` …, ``--layer NAME=FILE``)."""
    found = context.user_layers.get(layer)
    if found is None:
        option = "--" + layer.replace("_", "-") if layer in CONSTRAINT_DEFAULTS else f"--layer {layer}=FILE"
        return context.unknown(), f"{layer} layer not given (pass it with {option})"
    geoms = np.asarray(to_metric(found, grid.crs).geometry.values, dtype=object)
    if kind == "in":
        return grid.rasterize(list(geoms), all_touched=True).astype(float), None
    cx, cy = grid.centres()
    inside = grid.inside
    tree = shapely.STRtree(geoms)
    _, dist = tree.query_nearest(shapely.points(cx[inside], cy[inside]), return_distance=True, all_matches=False)
    return context.put(dist / 1000.0), None
