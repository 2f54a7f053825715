"""A sketched scenario as the web client sends it: a GeoJSON FeatureCollection, checked before any routing.

Line features (``LineString``/``MultiLineString``) are planned roads with
properties ``name``, ``road_class`` and/or ``design_speed_kmh`` (optional
``access_tolerance_m``); point features are interchanges. Everything a
request can get wrong is refused here with one line naming the feature and
the problem (:class:`SketchError`, HTTP 4xx): not JSON, not a
FeatureCollection, a geometry type other than lines and points, a
coordinate that is not a finite number or lies outside the region's window,
more roads, vertices or points than :class:`SketchLimits` allow, an unknown
road class, a design speed outside 5–130 km/h.

:func:`parse_sketch` returns a :class:`Sketch`: the roads and interchanges
as GeoDataFrames (EPSG:4326, properties filled in: the class's design speed
where none was given) and :meth:`Sketch.feature_collection`, the same
GeoJSON that ``plan.py scenario FILE`` reads ("save as scenario").

This module reads no file and calls nothing in ``layers``/``geo``: the
region's window, classes and speeds come in a :class:`SketchRules`.

>>> from shapely.geometry import box
>>> rules = SketchRules(window=box(105.5, 20.8, 107.0, 21.8), window_name="test window",
...                     speeds={"expressway": 100.0, "national": 60.0})
>>> body = b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "A", '
>>> body += b'"road_class": "national"}, "geometry": {"type": "LineString", "coordinates": [[106.0, 21.2], [106.1, 21.25]]}}]}'
>>> sketch = parse_sketch(body, rules)
>>> sketch.roads[["name", "road_class", "design_speed_kmh"]].values.tolist()
[['A', 'national', 60.0]]
>>> parse_sketch(b'{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": '
...              b'{"type": "LineString", "coordinates": [[100.0, 21.2], [106.1, 21.25]]}}]}', rules)
Traceback (most recent call last):
...
maps.serve.sketch.SketchError: road 1 ('sketched road 1'), vertex 1: 100.000000, 21.200000 lies outside the test window
"""

from __future__ import annotations

import json
import math
import unicodedata
from dataclasses import dataclass, field

import geopandas as gpd
import shapely
from shapely.geometry import LineString, MultiLineString, Point


class SketchError(ValueError):
    """A request the server refuses: ``status`` (HTTP, 4xx) and a one-line message."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class SketchLimits:
    """What one request may hold (a sketch of a few roads, not a network)."""

    max_bytes: int = 1_000_000        # request body
    max_roads: int = 20
    max_points: int = 50              # interchanges
    max_vertices: int = 2_000         # per road
    max_length_km: float = 300.0      # all roads together
    max_name_chars: int = 200
    design_speed_kmh: tuple[float, float] = (5.0, 130.0)
    access_tolerance_m: tuple[float, float] = (0.0, 5_000.0)


@dataclass(frozen=True)
class SketchRules:
    """The region's side of the checks: its window (lon/lat polygon), the road classes a sketch may use with the
    design speed each gets when none is given, and the limits."""

    window: object                           # shapely (Multi)Polygon, EPSG:4326
    window_name: str
    speeds: dict                             # road class → default design speed (km/h)
    speed_basis: dict = field(default_factory=dict)   # road class → where that speed comes from
    limits: SketchLimits = SketchLimits()


@dataclass
class Sketch:
    """The checked sketch: planned roads and interchanges (EPSG:4326)."""

    roads: gpd.GeoDataFrame
    interchanges: gpd.GeoDataFrame

    def feature_collection(self, source: str = "bgplan serve (sketched on the map)") -> dict:
        """The sketch as the GeoJSON ``plan.py scenario`` reads: lines (name, road_class, design_speed_kmh, status,
        source) then interchange points; coordinates rounded to 6 decimals (about 0.1 m)."""
        features = []
        for row in self.roads.itertuples(index=False):
            props = {"name": row.name, "road_class": row.road_class, "design_speed_kmh": row.design_speed_kmh,
                     "speed_basis": row.speed_basis, "status": "sketch", "source": source}
            if row.access_tolerance_m is not None and not math.isnan(row.access_tolerance_m):
                props["access_tolerance_m"] = row.access_tolerance_m
            features.append({"type": "Feature", "properties": props, "geometry": _rounded(row.geometry)})
        for row in self.interchanges.itertuples(index=False):
            features.append({"type": "Feature", "properties": {"name": row.name, "role": "interchange"},
                             "geometry": _rounded(row.geometry)})
        return {"type": "FeatureCollection", "name": "bgplan sketch",
                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}, "features": features}


def read_json(body: bytes, limits: SketchLimits) -> dict:
    """The request body as a JSON object (413 above ``max_bytes``, 400 when it is not JSON)."""
    if len(body) > limits.max_bytes:
        raise SketchError(f"request body of {len(body):,} bytes: at most {limits.max_bytes:,} accepted", 413)
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise SketchError("request body is not UTF-8 text", 400) from None
    except json.JSONDecodeError as exc:
        raise SketchError(f"malformed JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}", 400) from None
    if not isinstance(data, dict):
        raise SketchError("the request must be a JSON object", 400)
    return data


def parse_sketch(body: bytes | dict, rules: SketchRules) -> Sketch:
    """Check a request body (bytes, or an already parsed JSON object) and return the :class:`Sketch`."""
    data = read_json(body, rules.limits) if isinstance(body, (bytes, bytearray)) else body
    if data.get("type") != "FeatureCollection" or not isinstance(data.get("features"), list):
        raise SketchError("expected a GeoJSON FeatureCollection with a 'features' list")
    roads, points = [], []
    for i, feature in enumerate(data["features"], start=1):
        if not isinstance(feature, dict) or not isinstance(feature.get("geometry"), dict):
            raise SketchError(f"feature {i} is not a GeoJSON Feature with a geometry")
        kind = feature["geometry"].get("type")
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            raise SketchError(f"feature {i}: properties must be an object")
        if kind in ("LineString", "MultiLineString"):
            roads.append((len(roads) + 1, feature["geometry"], props))
        elif kind == "Point":
            points.append((len(points) + 1, feature["geometry"], props))
        else:
            raise SketchError(f"feature {i}: geometry type {str(kind)[:40]!r} is not accepted "
                              "(LineString or MultiLineString for roads, Point for interchanges)")
    limits = rules.limits
    if not roads:
        raise SketchError("the sketch has no road (no LineString feature)")
    if len(roads) > limits.max_roads:
        raise SketchError(f"{len(roads)} roads: at most {limits.max_roads} per request")
    if len(points) > limits.max_points:
        raise SketchError(f"{len(points)} interchange points: at most {limits.max_points} per request")
    road_rows = [_road(n, geometry, props, rules) for n, geometry, props in roads]
    total_km = sum(r["length_km"] for r in road_rows)
    if total_km > limits.max_length_km:
        raise SketchError(f"the roads are {total_km:,.0f} km long together: at most {limits.max_length_km:,.0f} km per request")
    point_rows = [_point(n, geometry, props, rules) for n, geometry, props in points]
    road_frame = gpd.GeoDataFrame([{k: v for k, v in r.items() if k != "length_km"} for r in road_rows],
                                  geometry="geometry", crs="EPSG:4326")
    point_frame = gpd.GeoDataFrame(point_rows, geometry="geometry", crs="EPSG:4326") if point_rows else \
        gpd.GeoDataFrame({"name": []}, geometry=[], crs="EPSG:4326")
    return Sketch(road_frame, point_frame)


def parse_point(value, rules: SketchRules, what: str = "origin") -> Point:
    """A ``[lon, lat]`` pair inside the window (e.g. an isochrone origin)."""
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise SketchError(f"{what}: give [lon, lat]")
    return Point(_position(value, rules, what))


def _road(n: int, geometry: dict, props: dict, rules: SketchRules) -> dict:
    limits = rules.limits
    name = _text(props.get("name"), f"sketched road {n}", limits.max_name_chars, f"road {n}")
    what = f"road {n} ({name!r})"
    lines = [geometry.get("coordinates")] if geometry["type"] == "LineString" else geometry.get("coordinates")
    if not isinstance(lines, list) or not lines:
        raise SketchError(f"{what}: no coordinates")
    parts, count = [], 0
    for line in lines:
        if not isinstance(line, list) or len(line) < 2:
            raise SketchError(f"{what}: a line needs at least two positions")
        count += len(line)
        if count > limits.max_vertices:
            raise SketchError(f"{what}: more than {limits.max_vertices:,} vertices")
        coords = [_position(p, rules, f"{what}, vertex {k}", check_window=False) for k, p in enumerate(line, start=1)]
        parts.append(LineString(coords))
    for k, (x, y) in enumerate((c for part in parts for c in part.coords), start=1):
        if not rules.window.covers(Point(x, y)):
            raise SketchError(f"{what}, vertex {k}: {x:.6f}, {y:.6f} lies outside the {rules.window_name}")
    geom = parts[0] if len(parts) == 1 else MultiLineString(parts)
    length_km = _length_km(geom)
    if length_km < 0.001:
        raise SketchError(f"{what}: the line has no length (its vertices coincide)")
    road_class = str(props.get("road_class") or "expressway").strip().lower()
    if road_class not in rules.speeds:
        raise SketchError(f"{what}: road_class {road_class[:40]!r} is not one of {', '.join(rules.speeds)}")
    speed, basis = _design_speed(props.get("design_speed_kmh"), road_class, rules, what)
    tolerance = props.get("access_tolerance_m")
    if tolerance is not None:
        tolerance = _number(tolerance, f"{what}: access_tolerance_m", *limits.access_tolerance_m)
    return {"name": name, "road_class": road_class, "design_speed_kmh": speed, "speed_basis": basis,
            "access_tolerance_m": float("nan") if tolerance is None else tolerance, "geometry": geom, "length_km": length_km}


def _point(n: int, geometry: dict, props: dict, rules: SketchRules) -> dict:
    name = _text(props.get("name"), f"interchange {n}", rules.limits.max_name_chars, f"interchange {n}")
    coords = geometry.get("coordinates")
    return {"name": name, "role": "interchange", "geometry": Point(_position(coords, rules, f"interchange {n} ({name!r})"))}


def _design_speed(value, road_class: str, rules: SketchRules, what: str) -> tuple[float, str]:
    if value is None or (isinstance(value, str) and not value.strip()):
        return float(rules.speeds[road_class]), rules.speed_basis.get(road_class, "default of the class")
    low, high = rules.limits.design_speed_kmh
    return _number(value, f"{what}: design_speed_kmh", low, high), "given"


def _position(value, rules: SketchRules, what: str, check_window: bool = True) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) not in (2, 3):
        raise SketchError(f"{what}: a position is [lon, lat]")
    lon, lat = (_number(v, what) for v in value[:2])
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise SketchError(f"{what}: {lon:g}, {lat:g} is not a longitude, latitude (EPSG:4326)")
    if check_window and not rules.window.covers(Point(lon, lat)):
        raise SketchError(f"{what}: {lon:.6f}, {lat:.6f} lies outside the {rules.window_name}")
    return lon, lat


def _number(value, what: str, low: float = -math.inf, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise SketchError(f"{what}: {str(value)[:40]!r} is not a number")
    try:
        number = float(value)
    except ValueError:
        raise SketchError(f"{what}: {str(value)[:40]!r} is not a number") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise SketchError(f"{what}: {number:g} is not a finite number" + (f" within {low:g}–{high:g}" if math.isfinite(low) else ""))
    return number


def _text(value, default: str, max_chars: int, what: str) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    if not isinstance(value, (str, int, float)):
        raise SketchError(f"{what}: name must be text")
    text = unicodedata.normalize("NFC", " ".join(str(value).split()))
    if len(text) > max_chars:
        raise SketchError(f"{what}: a name of {len(text):,} characters (at most {max_chars})")
    return text


def _length_km(geom) -> float:
    """Length on the sphere (km) — enough to apply a limit, no projection needed."""
    total = 0.0
    for part in getattr(geom, "geoms", [geom]):
        xy = list(part.coords)
        for (x0, y0), (x1, y1) in zip(xy[:-1], xy[1:]):
            dx = math.radians(x1 - x0) * math.cos(math.radians((y0 + y1) / 2))
            total += 6371.0 * math.hypot(dx, math.radians(y1 - y0))
    return total


def _rounded(geom) -> dict:
    return json.loads(shapely.to_geojson(shapely.transform(geom, lambda xy: xy.round(6))))
