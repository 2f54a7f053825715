"""Road speeds and travel times from a speed model kept in configuration.

A *speed model* (a YAML file such as ``layers/regions/models/speeds-vn.yaml``) gives,
for each road class (expressway, national, provincial …), an assumed
operating speed in km/h for the ``rural`` and ``urban`` setting and for link
roads, each with its basis (legal limit, design speed or stated assumption);
it maps OSM ``highway=*`` values and road-number prefixes of ``ref`` tags to
those classes and says how OSM ``maxspeed=*`` is used. No speed is written in
this module.

Functions (pure, vectorised over edges):

* :func:`load_speed_model` / :meth:`SpeedModel.from_dict` — read and check a model;
* :func:`parse_maxspeed` — "60", "60 km/h", "30 mph", "50;60" → km/h (NaN with a reason otherwise);
* :func:`osm_road_classes` — class of OSM ways from ``ref`` (beats) and ``highway``;
* :func:`classify_unattributed` — class of the attribute-less 2018 network:
  corridor-labelled edges take the corridor's class, the others the model's default class;
* :func:`urban_setting` — ``"urban"`` when an edge's mid-point is within the
  model's radius of a city/town place, else ``"rural"`` (one STRtree query per place class);
* :func:`edge_speeds` — ``road_class``, ``speed_kmh``, ``speed_source`` per edge;
* :func:`travel_time_s` — seconds from metres and km/h.

A model may have a ``congestion: {urban_factor: …, basis: …}`` section: the
speeds of every urban-setting edge are multiplied by it (1 = none); a
``vehicle: {name: …, max_kmh: …, basis: …}`` section: no edge is faster than
the vehicle's ``max_kmh`` (a truck model: the legal limit of a tractor with
semi-trailer, or its cruising speed, whatever a posted limit allows cars); and a
``calibration`` section stating which assumed speeds may be fitted to
observations, within which bounds (see :mod:`geo.routing.calibration`).

Every speed comes with a ``speed_source`` text saying where it came from, e.g.
``"corridor ql1a (map-matched) → national rural 60 km/h (assumed operating speed)"``.

>>> model = SpeedModel.from_dict({
...     "classes": {"national": {"rural": {"kmh": 60, "basis": "assumed operating speed"},
...                              "urban": {"kmh": 40, "basis": "assumed operating speed"},
...                              "link": {"kmh": 35, "basis": "assumed operating speed"}},
...                 "unknown": {"rural": {"kmh": 30, "basis": "assumption: class unknown"},
...                             "urban": {"kmh": 25, "basis": "assumption: class unknown"}}},
...     "default_class": "unknown", "highway_classes": {"trunk": "national", "trunk_link": "national"},
...     "ref_classes": {"QL": "national"}, "maxspeed": {"operating_factor": 0.85, "basis": "assumed share"}})
>>> edges = pd.DataFrame({"highway": ["trunk", "trunk_link", "footway"], "ref": [None, None, None],
...                       "maxspeed": ["80", None, None]})
>>> out = edge_speeds(edges, model, setting=["rural", "rural", "urban"])
>>> out[["road_class", "speed_kmh"]].values.tolist()
[['national', 68.0], ['national', 35.0], ['unknown', 25.0]]
>>> out.speed_source.iloc[1]
'highway=trunk_link → national link 35 km/h (assumed operating speed)'
>>> float(travel_time_s(1000.0, 36.0))
100.0
"""

from __future__ import annotations

import logging
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from geo.config import read_yaml
from geo.errors import InputError
from geo.routing.roadref import parse_refs

log = logging.getLogger(__name__)

SETTINGS = ("rural", "urban")

#: Ranking of classes when a way carries several road numbers (first = highest).
_CLASS_RANK = ("expressway", "national", "provincial", "district", "commune", "local", "service", "track")

_MPH = 1.609344
_NUMBER = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(km/h|kmh|kph|mph)?\s*$", re.IGNORECASE)


# --------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class Speed:
    """One configured speed: km/h and its basis ("assumed operating speed", "legal limit" …)."""

    kmh: float
    basis: str
    note: str = ""


@dataclass(frozen=True)
class SpeedModel:
    """A checked speed model (see the module docstring and ``speeds-vn.yaml``)."""

    classes: dict                     # class -> {"name": str, "rural": Speed, "urban": Speed, "link": Speed | None}
    default_class: str
    highway_classes: dict = field(default_factory=dict)
    ref_classes: dict = field(default_factory=dict)
    maxspeed_min_kmh: float = 5.0
    maxspeed_max_kmh: float = 130.0
    maxspeed_factor: float = 1.0
    maxspeed_basis: str = "posted limit"
    urban_radius_m: dict = field(default_factory=dict)
    setting_basis: str = ""
    urban_factor: float = 1.0                 # congestion: urban speeds × this (0.3–1)
    urban_factor_basis: str = ""
    vehicle: str = "car"                      # which vehicle the speeds are for (vehicle.name)
    vehicle_max_kmh: float = math.inf         # no edge faster than this (vehicle.max_kmh)
    vehicle_basis: str = ""
    raw: dict = field(default_factory=dict)   # the whole file (rail, transfer, network sections …)
    source: str | None = None

    @classmethod
    def from_dict(cls, data: dict, source: str | os.PathLike | None = None) -> "SpeedModel":
        """Check a model given as a dict (as read from YAML); errors name ``source``."""
        where = None if source is None else str(source)
        if not isinstance(data, dict):
            raise InputError(where, "a speed model must be a YAML mapping")
        raw_classes = data.get("classes")
        if not isinstance(raw_classes, dict) or not raw_classes:
            raise InputError(where, "speed model has no 'classes' section")
        classes = {}
        for name, spec in raw_classes.items():
            if not isinstance(spec, dict):
                raise InputError(where, f"classes.{name} must be a mapping with rural/urban speeds")
            entry = {"name": str(spec.get("name", name))}
            for key in ("rural", "urban", "link", "legal_limit"):
                if key in spec:
                    entry[key] = _speed(spec[key], f"classes.{name}.{key}", where)
                elif key in SETTINGS:
                    raise InputError(where, f"classes.{name} has no '{key}' speed")
                else:
                    entry[key] = None
            classes[str(name)] = entry
        default = str(data.get("default_class", "unknown"))
        if default not in classes:
            raise InputError(where, f"default_class '{default}' is not one of the classes ({', '.join(classes)})")
        for section in ("highway_classes", "ref_classes"):
            for key, value in (data.get(section) or {}).items():
                if str(value) not in classes:
                    raise InputError(where, f"{section}.{key}: unknown class '{value}'")
        _check_sections(data, where)
        maxspeed = data.get("maxspeed") or {}
        setting = data.get("setting") or {}
        congestion = data.get("congestion") or {}
        vehicle = data.get("vehicle") or {}
        if vehicle.get("max_kmh") is not None and not str(vehicle.get("basis") or "").strip():
            raise InputError(where, "vehicle.max_kmh needs its basis (legal limit with article and date, or stated assumption)")
        radius = {str(k): _number(v, f"setting.urban_radius_m.{k}", where, 0, 100_000)
                  for k, v in (setting.get("urban_radius_m") or {}).items()}
        return cls(
            classes=classes, default_class=default,
            highway_classes={str(k): str(v) for k, v in (data.get("highway_classes") or {}).items()},
            ref_classes={str(k).upper(): str(v) for k, v in (data.get("ref_classes") or {}).items()},
            maxspeed_min_kmh=_number(maxspeed.get("min_kmh", 5), "maxspeed.min_kmh", where, 0, 1000),
            maxspeed_max_kmh=_number(maxspeed.get("max_kmh", 130), "maxspeed.max_kmh", where, 0, 1000),
            maxspeed_factor=_number(maxspeed.get("operating_factor", 1.0), "maxspeed.operating_factor", where, 0.1, 1.5),
            maxspeed_basis=str(maxspeed.get("basis", "posted limit")),
            urban_radius_m=radius, setting_basis=str(setting.get("basis", "")),
            urban_factor=_number(congestion.get("urban_factor", 1.0), "congestion.urban_factor", where, 0.3, 1.0),
            urban_factor_basis=str(congestion.get("basis", "")),
            vehicle=str(vehicle.get("name", "car")),
            vehicle_max_kmh=_number(vehicle["max_kmh"], "vehicle.max_kmh", where, 5, 200) if vehicle.get("max_kmh") is not None else math.inf,
            vehicle_basis=str(vehicle.get("basis", "")),
            raw=data, source=where,
        )

    def speed(self, road_class: str, setting: str, link: bool = False) -> Speed:
        """Configured speed of a class in a setting (link speed for ``link``, falling back to the class speed)."""
        entry = self.classes.get(road_class) or self.classes[self.default_class]
        if link and entry.get("link") is not None:
            return entry["link"]
        return entry["urban" if setting == "urban" else "rural"]

    def table(self) -> pd.DataFrame:
        """One row per class and setting: ``road_class``, ``name``, ``setting``, ``speed_kmh``, ``basis``, ``note``.

        >>> m = SpeedModel.from_dict({"classes": {"unknown": {"rural": {"kmh": 30, "basis": "assumption"},
        ...                                                   "urban": {"kmh": 25, "basis": "assumption"}}}})
        >>> m.table()[["road_class", "setting", "speed_kmh"]].values.tolist()
        [['unknown', 'rural', 30.0], ['unknown', 'urban', 25.0]]
        """
        rows = []
        for name, entry in self.classes.items():
            for key in ("rural", "urban", "link", "legal_limit"):
                s = entry.get(key)
                if s is not None:
                    rows.append({"road_class": name, "name": entry["name"], "setting": key, "speed_kmh": s.kmh,
                                 "basis": s.basis, "note": s.note})
        return pd.DataFrame(rows, columns=["road_class", "name", "setting", "speed_kmh", "basis", "note"])


def load_speed_model(path: str | os.PathLike) -> SpeedModel:
    """Read and check a speed model YAML file (errors are one line naming the file)."""
    path = Path(path)
    return SpeedModel.from_dict(read_yaml(path, "speed model file"), source=path)


def _number(value, what: str, where, low: float, high: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(where, f"{what}: '{value}' is not a number") from None
    if not (low <= number <= high) or math.isnan(number):
        raise InputError(where, f"{what}: {value} is outside {low:g}–{high:g}")
    return number


#: Numbers of the model's other sections (read by layers.networks and layers.access), checked when the
#: model is read so that a bad one names the file: (section, key, lowest, highest). A speed of 0 would
#: make every trip on that mode infinite, a negative one would make trips shorten with distance.
SECTION_NUMBERS = (
    ("rail", "speed_kmh", 1, 400), ("rail", "station_snap_m", 0, 10_000),
    ("transfer", "transfer_min", 0, 24 * 60), ("transfer", "access_kmh", 1, 200), ("transfer", "max_access_m", 0, 100_000),
    ("network", "gap_bridge_m", 0, 10_000), ("network", "interchange_link_max_m", 0, 100_000),
    ("access_leg", "kmh", 1, 200), (None, "interchange_snap_m", 0, 100_000),
)


def _check_sections(data: dict, where) -> None:
    """Refuse a non-number or an out-of-range number in the rail, transfer, network and access-leg sections.

    >>> try:
    ...     _check_sections({"rail": {"speed_kmh": "fast", "basis": "x"}}, "speeds.yaml")
    ... except InputError as e:
    ...     print(e)
    speeds.yaml: rail.speed_kmh: 'fast' is not a number
    >>> try:
    ...     _check_sections({"rail": {"speed_kmh": -40, "basis": "x"}}, "speeds.yaml")
    ... except InputError as e:
    ...     print(e)
    speeds.yaml: rail.speed_kmh: -40 is outside 1–400
    """
    for section, key, low, high in SECTION_NUMBERS:
        block = data if section is None else data.get(section)
        if block is None:
            continue
        if not isinstance(block, dict):
            raise InputError(where, f"{section}: expected a mapping of settings, got {block!r}")
        if key in block and block[key] is not None:
            value = block[key]
            if isinstance(value, bool):
                raise InputError(where, f"{key if section is None else f'{section}.{key}'}: '{value}' is not a number")
            _number(value, key if section is None else f"{section}.{key}", where, low, high)


def _speed(spec, what: str, where) -> Speed:
    if isinstance(spec, (int, float)):
        raise InputError(where, f"{what}: give {{kmh: …, basis: …}} so that every speed states its source or assumption")
    if not isinstance(spec, dict) or "kmh" not in spec:
        raise InputError(where, f"{what}: expected {{kmh: …, basis: …}}")
    if not str(spec.get("basis") or "").strip():
        raise InputError(where, f"{what}: no 'basis' (source or stated assumption) for {spec['kmh']} km/h")
    return Speed(_number(spec["kmh"], f"{what}.kmh", where, 1, 200), str(spec["basis"]).strip(), str(spec.get("note") or ""))


# --------------------------------------------------------------------------- tags


def parse_maxspeed(values, min_kmh: float = 5.0, max_kmh: float = 130.0) -> pd.DataFrame:
    """OSM ``maxspeed`` values as km/h.

    Returns a DataFrame (same index as ``values`` when it is a Series) with
    ``maxspeed_kmh`` (float, NaN when unusable) and ``maxspeed_note`` (None
    when used, else why not). Units: plain number or "km/h" → km/h, "mph" →
    × 1.609. Several values joined with ";" (merged ways) → their mean; any
    value outside ``[min_kmh, max_kmh]`` or not a number ("VN:urban",
    "none", "signals") makes the whole tag unusable.

    >>> parse_maxspeed(["60", "60 km/h", "30 mph", "50;60", "3", "200", "VN:urban", None]).round(1).values.tolist()
    [[60.0, None], [60.0, None], [48.3, None], [55.0, None], [nan, 'maxspeed 3 km/h outside 5–130'], [nan, 'maxspeed 200 km/h outside 5–130'], [nan, "maxspeed 'VN:urban' is not a speed"], [nan, 'no maxspeed']]
    """
    index = values.index if isinstance(values, pd.Series) else None
    text = [_first_text(v) for v in values]
    cache: dict[str | None, tuple[float, str | None]] = {}
    for value in set(text):
        cache[value] = _one_maxspeed(value, min_kmh, max_kmh)
    kmh = np.array([cache[v][0] for v in text], dtype=float)
    note = pd.Series([cache[v][1] for v in text], dtype=object, index=index)
    return pd.DataFrame({"maxspeed_kmh": kmh, "maxspeed_note": note}, index=index)


def _one_maxspeed(value, low: float, high: float) -> tuple[float, str | None]:
    if value is None or not value.strip():
        return np.nan, "no maxspeed"
    speeds = []
    for part in value.split(";"):
        match = _NUMBER.match(part)
        if not match:
            return np.nan, f"maxspeed '{value}' is not a speed"
        number = float(match.group(1).replace(",", "."))
        if (match.group(2) or "").lower() == "mph":
            number *= _MPH
        if not (low <= number <= high):
            return np.nan, f"maxspeed {number:g} km/h outside {low:g}–{high:g}"
        speeds.append(number)
    return float(np.mean(speeds)), None


def _first_text(value) -> str | None:
    """Tag value as text; None for missing (None, NaN, pd.NA)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (list, tuple)):
        return ";".join(str(v) for v in value)
    return str(value)


def osm_road_classes(edges: pd.DataFrame, model: SpeedModel) -> pd.DataFrame:
    """Road class of OSM ways from their ``ref`` and ``highway`` tags.

    A road number in ``ref`` whose prefix is in ``model.ref_classes`` (QL →
    national, ĐT → provincial …) wins over ``highway``; several numbers take
    the highest class. Otherwise ``highway`` is looked up in
    ``model.highway_classes``; unknown or missing values get the default
    class. ``link`` is True for ``*_link`` ways.

    Returns a DataFrame (index of ``edges``): ``road_class``, ``link``,
    ``class_source`` (e.g. ``"ref QL.1A;AH1"``, ``"highway=trunk"``,
    ``"highway=footway (not in the model)"``).

    >>> m = SpeedModel.from_dict({"classes": {c: {"rural": {"kmh": 50, "basis": "a"}, "urban": {"kmh": 30, "basis": "a"}}
    ...     for c in ("national", "provincial", "unknown")}, "highway_classes": {"primary": "provincial"},
    ...     "ref_classes": {"QL": "national"}})
    >>> osm_road_classes(pd.DataFrame({"highway": ["primary", "primary", None], "ref": ["QL37", None, None]}), m).values.tolist()
    [['national', False, 'ref QL37'], ['provincial', False, 'highway=primary'], ['unknown', False, 'no highway tag']]
    """
    n = len(edges)
    highway = [_first_text(v) for v in edges["highway"]] if "highway" in edges else [None] * n
    ref = [_first_text(v) for v in edges["ref"]] if "ref" in edges else [None] * n
    by_ref = {}
    for value in set(ref):
        if value is None:
            by_ref[value] = None
            continue
        found = [model.ref_classes[code[:2]] for code in parse_refs(value) if code[:2] in model.ref_classes]
        by_ref[value] = min(found, key=_rank) if found else None
    by_highway = {}
    for value in set(highway):
        if value is None:
            by_highway[value] = (model.default_class, False, "no highway tag")
            continue
        first = value.split(";")[0]          # merged ways: the first value
        link = first.endswith("_link")
        if first in model.highway_classes:
            by_highway[value] = (model.highway_classes[first], link, f"highway={value}")
        elif link and first[:-5] in model.highway_classes:
            by_highway[value] = (model.highway_classes[first[:-5]], True, f"highway={value}")
        else:
            by_highway[value] = (model.default_class, link, f"highway={value} (not in the model)")
    rows = []
    for h, r in zip(highway, ref):
        cls_h, link, source_h = by_highway[h]
        cls_r = by_ref[r]
        rows.append((cls_r, link, f"ref {r}") if cls_r is not None else (cls_h, link, source_h))
    return pd.DataFrame(rows, columns=["road_class", "link", "class_source"], index=edges.index)


def _rank(name: str) -> int:
    return _CLASS_RANK.index(name) if name in _CLASS_RANK else len(_CLASS_RANK)


def classify_unattributed(edge_ids, labels: pd.DataFrame, corridor_classes: dict, model: SpeedModel,
                          method: str | dict = "map-matched", network_name: str = "2018 network") -> pd.DataFrame:
    """Road class of a network without attributes, from corridor labels.

    ``labels`` has ``edge_id`` and ``corridor_id`` (as from
    :func:`layers.corridors.corridor_edges`); ``corridor_classes`` maps a
    corridor id to its class (``{"ql1a": "national"}``, from the region's
    ``corridors`` config). A labelled edge takes its corridor's class (the
    highest when two corridors share it); every other edge gets the model's
    default class, and says so. ``method`` says how the labels were found:
    one text for all, or a dict by corridor id (``{"ql1a": "map-matched", "ql31": "waypoints"}``).

    Returns a DataFrame aligned with ``edge_ids``: ``road_class``,
    ``corridor_id`` (ids joined with ";" in label order, None when
    unlabelled), ``link`` (False), ``class_source``.

    >>> m = SpeedModel.from_dict({"classes": {c: {"rural": {"kmh": 50, "basis": "a"}, "urban": {"kmh": 30, "basis": "a"}}
    ...     for c in ("national", "unknown")}})
    >>> labels = pd.DataFrame({"edge_id": [2], "corridor_id": ["ql1a"]})
    >>> classify_unattributed([1, 2], labels, {"ql1a": "national"}, m)[["road_class", "corridor_id", "class_source"]].values.tolist()
    [['unknown', None, 'unclassified 2018 network edge'], ['national', 'ql1a', 'corridor ql1a (map-matched)']]
    """
    ids = pd.Index(np.asarray(edge_ids))
    labels = labels.loc[labels["edge_id"].isin(ids)] if len(labels) else labels
    unknown_class = sorted({c for c in labels["corridor_id"] if corridor_classes.get(c) not in model.classes}) if len(labels) else []
    if unknown_class:
        log.warning("corridor(s) %s have no road class of the speed model: their edges get the default class",
                    ", ".join(unknown_class))
    per_edge = {}
    for edge, cid in zip(labels["edge_id"], labels["corridor_id"]):
        per_edge.setdefault(edge, []).append(cid)
    road_class, corridor, source = [], [], []
    for edge in ids:
        cids = per_edge.get(edge)
        if not cids:
            road_class.append(model.default_class)
            corridor.append(None)
            source.append(f"unclassified {network_name} edge")
            continue
        known = [corridor_classes.get(c) for c in cids if corridor_classes.get(c) in model.classes]
        road_class.append(min(known, key=_rank) if known else model.default_class)
        corridor.append(";".join(dict.fromkeys(cids)))
        how = method if isinstance(method, str) else "; ".join(dict.fromkeys(str(method.get(c, "?")) for c in cids))
        source.append(f"corridor {';'.join(dict.fromkeys(cids))} ({how})"
                      + ("" if known else " (corridor class not in the speed model)"))
    return pd.DataFrame({"road_class": road_class, "corridor_id": pd.Series(corridor, dtype=object),
                         "link": False, "class_source": source})


# --------------------------------------------------------------------------- setting


def urban_setting(edge_geometries, places, radius_m: dict, class_column: str = "fclass") -> np.ndarray:
    """``"urban"`` or ``"rural"`` for each edge, from nearby places.

    ``edge_geometries`` (array/GeoSeries of lines) and ``places`` (a
    GeoDataFrame of points with ``class_column``) must be in the same metric
    CRS. An edge is urban when its mid-point lies within ``radius_m[class]``
    metres of a place of that class (classes not in ``radius_m`` are
    ignored). One STRtree query per place class, no loop over edges.

    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString, Point
    >>> lines = [LineString([(0, 0), (100, 0)]), LineString([(5000, 0), (5100, 0)])]
    >>> town = gpd.GeoDataFrame({"fclass": ["town"]}, geometry=[Point(0, 500)])
    >>> urban_setting(lines, town, {"town": 1500}).tolist()
    ['urban', 'rural']
    """
    geoms = np.asarray(getattr(edge_geometries, "values", edge_geometries), dtype=object)
    out = np.full(len(geoms), "rural", dtype=object)
    if len(geoms) == 0 or places is None or len(places) == 0:
        return out
    mid = shapely.line_interpolate_point(geoms, 0.5, normalized=True)
    tree = None                      # over the mid-points, queried by the (few) places of each class
    for place_class, radius in radius_m.items():
        pts = np.asarray(places.geometry.values[np.asarray(places[class_column] == place_class)])
        if len(pts) == 0:
            continue
        if tree is None:
            tree = shapely.STRtree(mid)
        _, hit = tree.query(pts, predicate="dwithin", distance=float(radius))
        out[np.unique(hit)] = "urban"
    return out


# --------------------------------------------------------------------------- speeds


def edge_speeds(edges: pd.DataFrame, model: SpeedModel, setting) -> pd.DataFrame:
    """Speed of every edge, with the reason.

    Parameters
    ----------
    edges : DataFrame. Either already classified (``road_class`` column,
        optional ``class_source`` and ``link``; e.g. from
        :func:`classify_unattributed`) or with OSM tags ``highway`` / ``ref``
        (classified by :func:`osm_road_classes`). An optional ``maxspeed``
        column (OSM text) is used where sane: speed = posted limit ×
        ``model.maxspeed_factor``.
    model : the :class:`SpeedModel`.
    setting : ``"urban"`` / ``"rural"``, one for all or one per edge.

    Returns a DataFrame (index of ``edges``): ``road_class``, ``link``,
    ``setting``, ``speed_kmh`` (float, km/h), ``speed_source`` (text, e.g.
    ``"highway=trunk → national rural 60 km/h (assumed operating speed)"`` or
    ``"ref QL.1A + maxspeed=80 (OSM) × 0.85 → 68 km/h (assumed operating share
    of the posted limit, 85 %)"``).
    """
    n = len(edges)
    if "road_class" in edges:
        cls = pd.DataFrame({
            "road_class": edges["road_class"].where(edges["road_class"].isin(list(model.classes)), model.default_class),
            "link": edges["link"].astype(bool) if "link" in edges else False,
            "class_source": edges["class_source"] if "class_source" in edges else "road_class given",
        }, index=edges.index)
    else:
        cls = osm_road_classes(edges, model)
    settings = pd.Series(np.broadcast_to(np.asarray(setting, dtype=object), (n,)), index=edges.index, dtype=object)
    bad = ~settings.isin(SETTINGS)
    if bad.any():
        raise ValueError(f"setting must be 'urban' or 'rural', got {sorted(set(map(str, settings[bad])))[:3]}")

    # one speed per (class, setting, link) combination, spread to the edges by their combination's code
    class_code, classes = pd.factorize(cls["road_class"].values)
    setting_code, setting_names = pd.factorize(settings.values)
    link_code = cls["link"].values.astype(bool).astype(np.int64)
    codes, combos = pd.factorize((class_code * len(setting_names) + setting_code) * 2 + link_code)
    kmh_of = np.empty(len(combos), dtype=float)
    text_of = np.empty(len(combos), dtype=object)
    for j, combo in enumerate(combos):
        c, s, link = classes[combo // 2 // len(setting_names)], setting_names[combo // 2 % len(setting_names)], bool(combo % 2)
        sp = model.speed(c, s, link)
        is_link = link and model.classes[c].get("link") is not None
        kmh_of[j], text_of[j] = sp.kmh, f"{c} {'link' if is_link else s} {sp.kmh:g} km/h ({sp.basis})"
    speed = kmh_of[codes]
    source = (cls["class_source"].astype(str).values + " → " + text_of[codes]) if n else np.array([], dtype=object)

    if "maxspeed" in edges and n:
        tagged = np.flatnonzero(edges["maxspeed"].notna().to_numpy())       # most edges have no tag
        tags = [_first_text(v) for v in edges["maxspeed"].to_numpy(dtype=object)[tagged]]
        posted = parse_maxspeed(tags, model.maxspeed_min_kmh, model.maxspeed_max_kmh)
        sane = posted["maxspeed_kmh"].notna().to_numpy()
        use = np.zeros(n, dtype=bool)
        use[tagged[sane]] = True
        if use.any():
            kmh = posted["maxspeed_kmh"].to_numpy()[sane] * model.maxspeed_factor
            speed[use] = kmh
            text = np.array(tags, dtype=object)[sane]
            source = source.astype(object)
            source[use] = [f"{c} + maxspeed={t} (OSM) × {model.maxspeed_factor:g} → {round(k, 1):g} km/h ({model.maxspeed_basis})"
                           for c, t, k in zip(cls["class_source"].astype(str).to_numpy()[use], text, kmh)]
    if np.isfinite(model.vehicle_max_kmh) and n:
        capped = speed > model.vehicle_max_kmh
        if capped.any():
            speed[capped] = model.vehicle_max_kmh
            source = source.astype(object)
            source[capped] = [f"{t}; capped at {model.vehicle_max_kmh:g} km/h for a {model.vehicle} ({model.vehicle_basis})"
                              for t in source[capped]]
    if model.urban_factor != 1.0 and n:
        urban = settings.to_numpy() == "urban"
        speed[urban] = speed[urban] * model.urban_factor
        source = source.astype(object)
        source[urban] = [f"{t} × congestion {model.urban_factor:g} ({model.urban_factor_basis or 'urban congestion factor'})"
                         for t in source[urban]]
    return pd.DataFrame({"road_class": cls["road_class"].values, "link": cls["link"].values.astype(bool),
                         "setting": settings.values, "speed_kmh": speed, "speed_source": source}, index=edges.index)


def travel_time_s(length_m, speed_kmh):
    """Travel time in seconds: ``length_m / (speed_kmh / 3.6)``; NaN where the speed is missing or ≤ 0.

    >>> travel_time_s([1000.0, 500.0], [60.0, 0.0]).round(1).tolist()
    [60.0, nan]
    """
    length = np.asarray(length_m, dtype=float)
    speed = np.asarray(speed_kmh, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(speed > 0, length / (speed / 3.6), np.nan)
    return out
