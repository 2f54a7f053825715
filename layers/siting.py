"""Siting new industrial clusters (CCN) and parks (KCN): suitability grid and ranked candidate sites.

:func:`run_siting` lays a square grid over the region (metric CRS, default
250 m: 62,278 cells in old Bắc Giang), measures criteria in every cell,
removes excluded land, scores the rest with a *profile*
(``layers/profiles/*.yaml``, see :mod:`geo.suitability`), merges contiguous
suitable cells into sites, ranks them and tests the ranking against ±20 %
weight changes. :func:`write_siting` writes ``sites.gpkg`` (layers ``grid``
and ``sites``), ``sites.csv``, ``suitability.tif`` (the score, for maps)
and ``sites_summary.json``.

Criteria (raw values per cell; NaN = unknown, with the reason in the summary)
-----------------------------------------------------------------------------
``minutes_to_<corridor>`` : minutes by road to the nearest node of a
    corridor (``ct01`` = its interchanges, known only when a scenario adds
    CT.01: it is not in the 2018 network; ``ql1a``, ``ql37`` …).
``minutes_to_<destination>`` : to a region destination (``kep_station``,
    ``bac_giang_city``, ``lach_huyen_port`` …).
``minutes_to_town`` : to the nearest city or town (OSM places).
    Each cell centre joins the road network on its nearest edge with an
    access leg (20 km/h, :func:`geo.access.attach_points`); a cell farther
    than ``max_snap_m`` (2 km) from every road has no time (NaN).
    One multi-source search per target serves all cells.
``people_within_<m>_min`` : people (WorldPop 2020 rescaled to the 2019
    census) reachable within m minutes by road — exact, by one limited
    search per population node (:func:`geo.grid.people_within_cells`).
``slope_deg`` : mean slope of the cell (degrees) from the DEM; NaN where the
    DEM has no data (the shipped SRTM tile covers the western 4 %).
``km_to_park`` : straight-line km to the nearest existing park (a circle of
    the park's area around its point); ``km_to_urban`` : to the nearest
    urban core (a circle around each city/town/suburb place).
``km_to_<layer>``, ``in_<layer>`` : for every land-constraint layer
    (``rice_land``, ``protected_forest``, ``heritage``, ``settlements``,
    ``flood``) and every user layer (``--layer NAME=FILE``): straight-line
    km to its nearest feature, and 1 where the cell touches it (else 0);
    NaN with the reason when the layer is not given
    (:func:`measure_layer_criteria`).

Exclusions (hard constraints; each reported as used or "not given")
--------------------------------------------------------------------
region edge (cells not wholly inside the region), existing parks (circle of
their area + ``park_buffer_m``), urban cores (circle per place class),
water areas and waterways (+ buffers), protected forest and heritage sites
and the other land constraints (user files, optional: excluded, scored or
ignored as the profile's ``constraints:`` says, :data:`CONSTRAINT_DEFAULTS`), slope above ``max_slope_deg`` where slope is known
(unknown slope is not excluded; cells are flagged ``slope_known``). A cell
touched by any excluded geometry is excluded (rasterised with
``all_touched``), so no site overlaps an excluded area.

Columns of the ``grid`` layer (one row per cell whose centre is in the region)
------------------------------------------------------------------------------
``cell_id``, ``row``, ``col``, ``district``; ``snap_m`` (distance from the
cell centre to its road edge; NaN = not connected); every criterion's raw value;
``s_<criterion>`` its score (0–1) for the profile's criteria; ``score``
(weighted mean over known scored criteria, NaN when ``weight_known`` <
``min_known_weight``), ``weight_known``, ``criteria_known``; ``excluded``
and ``excluded_by`` (names of the exclusions that hit the cell);
``slope_known``; ``suitable``; ``site`` (rank of the site the cell belongs
to, 0 if none).

Columns of the ``sites`` layer (top N, dissolved cell polygons)
---------------------------------------------------------------
``site`` (rank, 1 = best), ``area_ha``, ``cells``, ``score_mean``,
``score_max``, ``zone`` and ``zone_area_ha`` (the suitable area the site was
cut from: sites of one zone are its parts or phases), ``district`` (holding most of its cells),
``lon``, ``lat`` (best cell); the mean raw value of every criterion and the
mean ``s_<criterion>``; ``slope_known_share``; sensitivity: ``rank_min``,
``rank_max`` (NaN when the site vanished in some run), ``runs``,
``runs_lost``, ``top_n_share``; ``profile``, ``scenario``, ``note``
(criteria not scored); the legal verdict ``eligible``,
``preconditions_met``, ``rule_failures``, ``rules_unknown``,
``rule_files`` and the facts the rules read (:mod:`layers.site_rules`).

Speed (``scripts/bench_siting.py --real``, one process): the 250 m run on
Bắc Giang takes about 15 s — network 3.8 s, attaching 62,277 cells 1.7 s,
ten-odd targets 0.7 s, labour catchments 6.7 s, exclusions 0.3 s, score,
sites and 12 sensitivity runs 0.25 s — plus 0.9 s to write the outputs.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import settings
from geo.access import Catchment, attach_points, minutes_to_targets
from geo.crs import to_metric
from geo.errors import InputError
from geo.grid import Grid, attachment_links, make_grid, people_within_cells
from geo.raster import read_raster, slope_degrees, zone_labels
from geo.sites import locate, site_means, site_mode, suitable_cells, weight_sensitivity
from geo.suitability import Profile, read_profile, weighted_score
from layers import access
from layers.region import Region

log = logging.getLogger(__name__)

PROFILES_DIR = Path(__file__).resolve().parent / "profiles"

#: Exclusion settings; a profile's ``exclusions:`` overrides them. Buffers in metres.
EXCLUSION_DEFAULTS = {
    "region_edge": True,               # exclude cells not wholly inside the region
    "parks": True,
    "park_buffer_m": 200.0,            # around the circle of each park's area (assumption)
    "park_default_area_ha": 50.0,      # for a park whose area is unknown (assumption; counted)
    "urban": True,
    "urban_radius_m": {"city": 2000.0, "town": 800.0, "suburb": 800.0},   # urban core per OSM place class (assumption)
    "water_areas": True,
    "water_area_buffer_m": 50.0,
    "rivers": True,
    "river_buffer_m": 50.0,            # along every OSM waterway (the 2018 data has no river classes)
    "max_slope_deg": 15.0,             # where slope is known
}

#: Land-constraint layers a planner can give (``--rice-land`` …, or ``--layer NAME=FILE``): each is excluded
#: (``use: exclude``, every cell touched by the layer buffered by ``buffer_m``), scored (``use: penalty``: not
#: excluded; score it with the ``in_<name>`` or ``km_to_<name>`` criterion) or ignored; a profile's
#: ``constraints:`` overrides these. Buffers in metres are planning assumptions.
CONSTRAINT_DEFAULTS = {
    "rice_land": {"use": "exclude", "buffer_m": 0.0, "what": "rice land (Decree 112/2024/NĐ-CP)"},
    "protected_forest": {"use": "exclude", "buffer_m": 0.0, "what": "special-use and protection forest"},
    "heritage": {"use": "exclude", "buffer_m": 100.0, "what": "heritage sites"},
    "settlements": {"use": "exclude", "buffer_m": 150.0, "what": "villages and buildings (points get the buffer)"},
    "flood": {"use": "exclude", "buffer_m": 0.0, "what": "flood-prone land"},
}
#: A layer given with ``--layer NAME=FILE`` that is not a constraint above: criteria only, never excluded.
USER_LAYER_DEFAULT = {"use": "ignore", "buffer_m": 0.0, "what": "user layer"}
CONSTRAINT_USES = ("exclude", "penalty", "ignore")
_LAYER_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

#: Locating defaults; a profile's ``locate:`` and the keyword arguments override them.
LOCATE_DEFAULTS = {"min_area_ha": 30.0, "max_area_ha": None, "top_n": 10, "top_share": 0.10, "min_score": None,
                   "sensitivity_change": 0.2, "split": "parts"}

#: Grid defaults; the region's optional ``siting:`` section overrides them.
SITING_DEFAULTS = {"cell_m": 250.0, "town_classes": ["city", "town"]}

_PEOPLE = re.compile(r"^people_within_(\d+(?:\.\d+)?)_min$")


@dataclass
class SitingResult:
    """What :func:`run_siting` found (GeoDataFrames in EPSG:4326)."""

    grid: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    score: np.ndarray
    arrays: dict          # the Grid, raw values, scores, masks, labels and exclusion geometries (metric CRS)
    summary: dict
    runs: pd.DataFrame = field(default_factory=pd.DataFrame)


# ---------------------------------------------------------------------- criteria catalogue

def known_criteria(region: Region, layer_names=()) -> dict[str, str]:
    """Criterion names this module can measure for ``region``, with what they mean.

    ``layer_names`` are user layers (``--layer NAME=FILE``); every
    constraint layer and user layer ``X`` gives ``km_to_X`` (straight-line
    km from the cell centre to the nearest feature) and ``in_X`` (1 where
    the cell touches the layer, else 0).
    """
    cfg = access.settings_of(region)
    out = {}
    for name in [*CONSTRAINT_DEFAULTS, *layer_names]:
        out[f"km_to_{name}"] = f"straight-line km to the nearest feature of the {name} layer"
        out[f"in_{name}"] = f"1 where the cell touches the {name} layer, else 0"
    for cid, spec in region.corridors.items():
        what = "interchanges" if spec.get("road_class") == "expressway" else "network"
        out[f"minutes_to_{cid}"] = f"minutes by road to the nearest {spec.get('name_vi', cid)} {what} node"
    for key, row in region.destinations().set_index("key").iterrows():
        out[f"minutes_to_{key}"] = f"minutes by road to {row['name_vi']}"
    out["minutes_to_town"] = "minutes by road to the nearest city or town"
    for m in cfg["catchment_minutes"]:
        out[f"people_within_{float(m):g}_min"] = f"people within {float(m):g} minutes by road"
    out["slope_deg"] = "mean slope of the cell (degrees) from the DEM"
    out["km_to_park"] = "straight-line km to the nearest existing industrial park"
    out["km_to_urban"] = "straight-line km to the nearest urban core"
    return out


def profile_path(name_or_path) -> Path:
    """Path of a shipped profile name (``logistics-heavy``, ``labour-intensive``) or of a YAML file."""
    candidate = Path(str(name_or_path))
    if candidate.suffix in (".yaml", ".yml") or candidate.exists():
        return candidate
    path = PROFILES_DIR / f"{name_or_path}.yaml"
    if not path.exists():
        shipped = ", ".join(sorted(p.stem for p in PROFILES_DIR.glob("*.yaml")))
        raise InputError(None, f"unknown siting profile '{name_or_path}' (shipped: {shipped}; or give a .yaml file)")
    return path


def load_profile(name_or_path, region: Region, layer_names=()) -> Profile:
    """Read a profile and check its criteria against what the region can measure."""
    path = profile_path(name_or_path)
    profile = read_profile(path)
    known = known_criteria(region, layer_names)
    for name in profile.criteria:  # any "people within N minutes" is measurable
        m = _PEOPLE.match(name)
        if m and 0 < float(m.group(1)) <= 180:
            known[name] = f"people within {float(m.group(1)):g} minutes by road"
    profile.check_names(known)
    return profile


# ---------------------------------------------------------------------- helpers

def _check_files(**paths) -> None:
    for what, path in paths.items():
        if path is not None and not Path(path).exists():
            raise InputError(path, f"file not found ({what})")


def _metric_geoms(gdf: gpd.GeoDataFrame, crs: str) -> np.ndarray:
    return np.asarray(to_metric(gdf, crs).geometry.values, dtype=object)


class _Clock:
    def __init__(self):
        self.times: dict[str, float] = {}
        self._t = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.times[name] = round(now - self._t, 2)
        self._t = now


# ---------------------------------------------------------------------- criteria

def _town_points(region: Region, classes) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Urban places (all urban classes) and the towns used as targets (EPSG:4326)."""
    from layers.urban import urban_areas

    places = urban_areas(region)
    places = places[places["kind"] == "place"].reset_index(drop=True)
    towns = places[places["place_class"].isin(list(classes))].reset_index(drop=True)
    return places, towns


def measure_criteria(region: Region, grid: Grid, net: access.Networks, needed, *, router=None, extra_targets=None,
                     population=None, places=None, towns=None, parks=None, dem=None, workers: int = 1,
                     clock: _Clock | None = None) -> tuple[dict, dict, dict]:
    """Raw criterion values on the grid: ``(values, reasons, facts)``.

    ``values`` maps criterion → 2-D array (NaN outside the region and where
    unknown); ``reasons`` says why a criterion is missing everywhere;
    ``facts`` holds counts for the summary. ``router`` replaces the road
    router (a scenario's); ``extra_targets`` adds target node sets (e.g.
    ``{"ct01": interchange nodes}``). ``population`` is ``(array, profile)``;
    ``dem`` is ``(array, profile)`` of elevations or None. ``places`` and
    ``parks`` are circles in the metric CRS (columns ``_centre``,
    ``_radius``, as built by ``run_siting``); ``towns`` the town points
    (EPSG:4326). ``workers`` spreads the labour searches over processes.
    """
    clock = clock or _Clock()
    cfg = access.settings_of(region)
    crs = region.metric_crs
    needed = list(dict.fromkeys(needed))
    values: dict[str, np.ndarray] = {}
    reasons: dict[str, str] = {}
    facts: dict = {}
    inside = grid.inside
    cx, cy = grid.centres()
    x, y = cx[inside], cy[inside]

    def put(flat):
        out = np.full(grid.shape, np.nan)
        out[inside] = flat
        return out

    base = router or net.road
    # --- targets: corridors, destinations, towns
    corridor_ids = [n.removeprefix("minutes_to_") for n in needed
                    if n.startswith("minutes_to_") and n.removeprefix("minutes_to_") in region.corridors]
    targets, missing = access.corridor_targets(net, corridor_ids, base, extra_targets, specs=region.corridors)
    for key in list(targets):
        if key not in corridor_ids:
            targets.pop(key)
    dest = region.destinations().set_index("key")
    dest_keys = [n.removeprefix("minutes_to_") for n in needed if n.removeprefix("minutes_to_") in dest.index]
    points = []
    if dest_keys:
        points.append(dest.loc[dest_keys].reset_index()[["key", "geometry"]])
    if "minutes_to_town" in needed:
        if towns is not None and len(towns):
            points.append(gpd.GeoDataFrame({"key": ["town"] * len(towns)}, geometry=towns.geometry.values, crs=towns.crs))
        else:
            missing["town"] = "no city or town among the OSM places"
            targets["town"] = np.empty(0, np.int64)
    routed = base
    if points:
        pts = pd.concat(points, ignore_index=True)
        pts = gpd.GeoDataFrame(pts, geometry="geometry", crs="EPSG:4326")
        routed, idx, _, why = net.attach(base, pts, cfg["destination_max_snap_m"], cfg["access_speed_kmh"])
        for key in dict.fromkeys(pts["key"]):
            sel = (pts["key"] == key).to_numpy()
            ok = sel & pd.isna(pd.Series(why)).to_numpy()
            targets[key] = idx[ok]
            if not ok.any():
                missing[key] = f"{key}: " + str(next(w for w, s in zip(why, sel) if s))
        if "town" in targets:
            facts["towns_used"] = len(targets["town"])
    clock.lap("targets")

    # --- cells joined to the road network
    e = net.road_edges
    cells_router, cell_idx, snap_m, why = attach_points(
        routed, net.road_lines, e["u"].to_numpy(), e["v"].to_numpy(), e["travel_time_s"].to_numpy(), x, y,
        max_snap_m=cfg["max_snap_m"], access_speed_kmh=cfg["access_speed_kmh"])
    connected = ~np.isnan(snap_m)
    facts["cells_connected"] = int(connected.sum())
    facts["cells_not_connected"] = int((~connected).sum())
    facts["not_connected_reason"] = f"cell centre more than {cfg['max_snap_m']:,.0f} m from the 2018 road network"
    values["snap_m"] = put(snap_m)
    clock.lap("attach cells")
    if targets:
        table = minutes_to_targets(cells_router, cell_idx, targets, missing=missing, origin_reason=why)
        for key in targets:
            values[f"minutes_to_{key}"] = put(table[f"minutes_to_{key}"].to_numpy())
            if key in missing:
                reasons[f"minutes_to_{key}"] = missing[key].replace("add it with 'plan.py scenario'",
                                                                    "add it with a scenario file ('plan.py site --scenario FILE')")
    clock.lap("minutes to targets")

    # --- labour
    minutes = sorted({float(_PEOPLE.match(n).group(1)) for n in needed if _PEOPLE.match(n)})
    if minutes:
        if population is None:
            for m in minutes:
                reasons[f"people_within_{m:g}_min"] = "no population raster given"
                values[f"people_within_{m:g}_min"] = np.full(grid.shape, np.nan)
        else:
            array, profile = population
            rows, cols = np.nonzero(np.isfinite(array) & (array > 0))
            lon, lat = profile["transform"] * (cols + 0.5, rows + 0.5)
            pts = to_metric(gpd.GeoSeries.from_xy(lon, lat, crs=profile["crs"]), crs)
            within = routed.largest_component() & (np.arange(routed.n) < net.road.n)
            catch = Catchment(routed, pts.x.to_numpy(), pts.y.to_numpy(), array[rows, cols], max_snap_m=cfg["max_snap_m"],
                              access_speed_kmh=cfg["access_speed_kmh"], within=within)
            links = attachment_links(routed, cells_router)
            people = people_within_cells(routed, catch, links, len(x), minutes, workers=workers, progress=settings.progress)
            for j, m in enumerate(minutes):
                values[f"people_within_{m:g}_min"] = put(np.round(people[:, j]))
            facts["labour"] = {
                "method": "exact reverse search: one limited search per population node (Catchment semantics)",
                "population_cells_attached": len(catch.node),
                "population_source_nodes": len(np.unique(catch.node)),
                "people_attached": round(float(catch.people.sum())),
                "people_not_attached": round(catch.unattached_people),
                "not_attached_reason": f"population cell centre more than {cfg['max_snap_m']:,.0f} m from a network node",
            }
        clock.lap("labour catchments")

    # --- terrain
    if "slope_deg" in needed:
        if dem is None:
            values["slope_deg"] = np.full(grid.shape, np.nan)
            reasons["slope_deg"] = "no DEM given: slope unknown (not 0)"
        else:
            slope = slope_degrees(*dem)
            sampled = grid.sample(slope, dem[1])
            values["slope_deg"] = np.where(inside, sampled, np.nan)
            cov = float(np.isfinite(values["slope_deg"][inside]).mean())
            facts["slope_coverage"] = round(cov, 4)
            if cov < 1.0:
                reasons["slope_deg"] = f"the DEM covers {cov:.1%} of the region's cells; slope elsewhere is unknown (not 0)"
        clock.lap("slope")

    # --- distances
    for name, features, why in (("km_to_park", parks, "no industrial parks given"),
                                ("km_to_urban", places, "no urban places found")):
        if name not in needed:
            continue
        if features is None or features.empty:
            values[name] = np.full(grid.shape, np.nan)
            reasons[name] = why
        else:
            c = features["_centre"]
            values[name] = np.where(inside, grid.distance_to(shapely.get_x(c), shapely.get_y(c), features["_radius"]) / 1000, np.nan)
    clock.lap("distances")
    return values, reasons, facts


# ---------------------------------------------------------------------- user layers and rules

RULES_DIR = Path(__file__).resolve().parent / "rules"


def constraint_settings(prof: Profile, user_files: dict) -> dict[str, dict]:
    """Use and buffer of every constraint layer and user layer: defaults, then the profile's ``constraints:``."""
    out = {}
    for name in dict.fromkeys([*CONSTRAINT_DEFAULTS, *user_files, *prof.constraints]):
        spec = dict(CONSTRAINT_DEFAULTS.get(name, USER_LAYER_DEFAULT))
        given = prof.constraints.get(name, {})
        if isinstance(given, str):
            given = {"use": given}
        if not isinstance(given, dict):
            raise InputError(prof.source, f"constraints: {name} must be exclude, penalty, ignore or a mapping with 'use'")
        unknown = sorted(set(given) - {"use", "buffer_m", "what"})
        if unknown:
            raise InputError(prof.source, f"constraints: {name}: unknown setting '{unknown[0]}' (use, buffer_m)")
        spec.update(given)
        if spec["use"] not in CONSTRAINT_USES:
            raise InputError(prof.source, f"constraints: {name}: use must be one of {', '.join(CONSTRAINT_USES)}, not '{spec['use']}'")
        try:
            spec["buffer_m"] = float(spec["buffer_m"])
        except (TypeError, ValueError):
            raise InputError(prof.source, f"constraints: {name}: buffer_m must be a number") from None
        if spec["buffer_m"] < 0:
            raise InputError(prof.source, f"constraints: {name}: buffer_m must be ≥ 0")
        spec["given"] = name in user_files
        out[name] = spec
    return out


def load_rules(prof: Profile) -> list:
    """The rule sets a profile names (``rules: [decree-32-2024-ccn]``: files in ``layers/rules/`` or paths)."""
    from geo.rules import read_rules

    sets = []
    for name in prof.rules:
        path = Path(name)
        if path.suffix not in (".yaml", ".yml"):
            path = RULES_DIR / f"{name}.yaml"
        if not path.exists():
            shipped = ", ".join(sorted(p.stem for p in RULES_DIR.glob("*.yaml")))
            raise InputError(prof.source, f"rule file '{name}' not found (shipped: {shipped})")
        sets.append(read_rules(path))
    return sets


def measure_layer_criteria(grid: Grid, needed, user_layers: dict) -> tuple[dict, dict]:
    """``km_to_<layer>`` and ``in_<layer>`` on the grid for the criteria in ``needed`` (NaN outside the region).

    ``km_to_X``: straight-line km from each cell centre to the nearest
    feature of layer X (exact, shapely STRtree); ``in_X``: 1 where the cell
    touches X (rasterised with ``all_touched``), else 0. A criterion on a
    layer that was not given is NaN everywhere, with the reason.
    """
    values, reasons = {}, {}
    cx, cy = grid.centres()
    inside = grid.inside
    for name in dict.fromkeys(needed):
        m = re.match(r"^(km_to|in)_(.+)$", name)
        if not m or m.group(2) in ("park", "urban", "town"):
            continue
        kind, layer_name = m.groups()
        layer = user_layers.get(layer_name)
        if layer is None:
            values[name] = np.full(grid.shape, np.nan)
            option = "--" + layer_name.replace("_", "-") if layer_name in CONSTRAINT_DEFAULTS else f"--layer {layer_name}=FILE"
            reasons[name] = f"{layer_name} layer not given (pass it with {option})"
            continue
        geoms = _metric_geoms(layer, grid.crs)
        if kind == "in":
            values[name] = np.where(inside, grid.rasterize(list(geoms), all_touched=True).astype(float), np.nan)
        else:
            tree = shapely.STRtree(geoms)
            pts = shapely.points(cx[inside], cy[inside])
            _, dist = tree.query_nearest(pts, return_distance=True, all_matches=False)
            out = np.full(grid.shape, np.nan)
            out[inside] = dist / 1000.0
            values[name] = out
    return values, reasons


# ---------------------------------------------------------------------- exclusions

def _park_shapes(parks: gpd.GeoDataFrame, crs: str, default_area_ha: float) -> gpd.GeoDataFrame:
    """Parks in the metric CRS with ``_centre``, ``_radius`` (m, from area) and ``_area_assumed``."""
    metric = to_metric(parks, crs)
    area = pd.to_numeric(metric.get("area_ha"), errors="coerce") if "area_ha" in metric else pd.Series(np.nan, index=metric.index)
    is_poly = metric.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    area = np.where(is_poly & np.isnan(area), metric.geometry.area / 1e4, area)
    assumed = np.isnan(area)
    area = np.where(assumed, default_area_ha, area)
    out = gpd.GeoDataFrame({"name": metric["name"].values if "name" in metric else None,
                            "_radius": np.sqrt(area * 1e4 / np.pi), "_area_assumed": assumed, "_polygon": is_poly},
                           geometry=metric.geometry.values, crs=crs)
    out["_centre"] = np.asarray(shapely.point_on_surface(np.asarray(out.geometry.values)))
    return out


def _place_shapes(places: gpd.GeoDataFrame, crs: str, radius_by_class: dict) -> gpd.GeoDataFrame:
    metric = to_metric(places, crs)
    radius = metric["place_class"].map(lambda c: float(radius_by_class.get(c, np.nan))).to_numpy()
    keep = np.isfinite(radius)
    out = gpd.GeoDataFrame({"name": metric["name"].values[keep], "place_class": metric["place_class"].values[keep],
                            "_radius": radius[keep]}, geometry=metric.geometry.values[keep], crs=crs)
    out["_centre"] = np.asarray(out.geometry.values)
    return out


def exclusion_layers(region: Region, grid: Grid, rules: dict, *, parks=None, places=None, water_layer=None,
                     slope=None, constraints: dict | None = None) -> tuple[dict, dict]:
    """Excluded cells by exclusion: ``(masks, report)``.

    ``masks`` maps exclusion name → boolean grid array; ``report`` maps it
    to what was used (``given``, ``cells``, ``ha``, ``note``). Geometries
    are in the grid's CRS; every cell touched by an excluded geometry is
    excluded. Also returns the geometries under ``report[name]["_geoms"]``
    (for checks; dropped before output).
    """
    masks: dict[str, np.ndarray] = {}
    report: dict[str, dict] = {}
    crs = grid.crs

    def add(name, geoms, note=""):
        geoms = [g for g in geoms if g is not None and not g.is_empty]
        masks[name] = grid.rasterize(geoms, all_touched=True) if geoms else np.zeros(grid.shape, bool)
        report[name] = {"given": True, "features": len(geoms), "note": note, "_geoms": geoms}

    def not_given(name, note):
        report[name] = {"given": False, "features": 0, "note": note, "_geoms": []}

    if rules.get("region_edge", True):
        outline = to_metric(gpd.GeoSeries([_region_outline(region)], crs="EPSG:4326"), crs).iloc[0]
        outside = ~grid.inside | grid.rasterize([outline.boundary], all_touched=True)
        masks["region_edge"] = outside
        report["region_edge"] = {"given": True, "features": 1,
                                 "note": "cells not wholly inside the region outline (GADM 4.1, generalised)",
                                 "_geoms": [shapely.box(*outline.buffer(10).bounds).difference(outline)]}
    if rules.get("parks", True):
        if parks is None or parks.empty:
            not_given("parks", "no industrial parks given")
        else:
            buf = float(rules["park_buffer_m"])
            shapes = [g.buffer(buf) if poly else c.buffer(r + buf)
                      for g, c, r, poly in zip(parks.geometry, parks["_centre"], parks["_radius"], parks["_polygon"])]
            add("parks", shapes, f"{len(parks)} parks: circle of each park's area (or its outline) + {buf:g} m; "
                                 f"{int(parks['_area_assumed'].sum())} with unknown area taken as {float(rules['park_default_area_ha']):g} ha")
    if rules.get("urban", True):
        if places is None or places.empty:
            not_given("urban", "no urban places found")
        else:
            add("urban", [c.buffer(r) for c, r in zip(places["_centre"], places["_radius"])],
                "urban cores: circles around OSM places, radius by class "
                + ", ".join(f"{k} {float(v):g} m" for k, v in rules["urban_radius_m"].items()))
    if water_layer is None:
        for name in ("water_areas", "rivers"):
            if rules.get(name, True):
                not_given(name, "no water layer given")
    else:
        metric = to_metric(water_layer, crs)
        frame = shapely.box(grid.x0, grid.y0 - grid.nrows * grid.cell_m, grid.x0 + grid.ncols * grid.cell_m, grid.y0)
        metric = metric[np.asarray(metric.intersects(frame))]
        if rules.get("water_areas", True):
            geoms = np.asarray(metric.loc[metric["kind"] == "water_area"].geometry.values, dtype=object)
            buf = float(rules["water_area_buffer_m"])
            add("water_areas", list(shapely.buffer(geoms, buf)) if buf > 0 else list(geoms),
                f"OSM 2018 water areas + {buf:g} m")
        if rules.get("rivers", True):
            geoms = np.asarray(metric.loc[metric["kind"] == "waterway"].geometry.values, dtype=object)
            buf = float(rules["river_buffer_m"])
            add("rivers", list(shapely.buffer(geoms, buf)) if buf > 0 else list(geoms),
                f"every OSM 2018 waterway (rivers, streams, canals, drains: no classes in the data) + {buf:g} m")
    for name, (layer, spec) in (constraints or {}).items():
        if spec["use"] == "ignore" and layer is not None and name not in CONSTRAINT_DEFAULTS:
            continue                                   # a user layer for criteria only
        option = "--" + name.replace("_", "-") if name in CONSTRAINT_DEFAULTS else f"--layer {name}=FILE"
        if layer is None:
            not_given(name, f"not given (no file shipped; pass one with {option})")
        elif spec["use"] != "exclude":
            report[name] = {"given": True, "features": len(layer), "_geoms": [],
                            "note": f"{layer.attrs.get('source', 'user file')}: {spec['use']} (not excluded"
                                    + ("; scored through in_/km_to_ criteria)" if spec["use"] == "penalty" else ")")}
        else:
            buf = float(spec["buffer_m"])
            geoms = _metric_geoms(layer, crs)
            points = shapely.get_type_id(geoms) == 0
            if points.any() and not buf > 0:
                raise InputError(layer.attrs.get("source"), f"{name}: points need a buffer_m > 0 to exclude land around them")
            add(name, list(shapely.buffer(geoms, buf)) if buf > 0 else list(geoms),
                f"{layer.attrs.get('source', 'user file')} + {buf:g} m")
    if slope is not None and rules.get("max_slope_deg") is not None:
        limit = float(rules["max_slope_deg"])
        with np.errstate(invalid="ignore"):
            masks["slope"] = slope > limit
        known = np.isfinite(slope) & grid.inside
        report["slope"] = {"given": bool(known.any()), "features": 0, "_geoms": [],
                           "note": f"mean slope > {limit:g}° where known ({known.sum() / max(grid.inside.sum(), 1):.1%} of the cells); "
                                   "cells of unknown slope are not excluded but flagged (slope_known = false)"}
    for name, mask in masks.items():
        report[name]["cells"] = int((mask & grid.inside).sum())
        report[name]["ha"] = round(report[name]["cells"] * grid.cell_ha, 1)
    return masks, report


def _optional(missing: dict, what: str, fn, *args, **kwargs):
    """``fn(*args, **kwargs)``, or None when its file is missing from the data folder (noted in ``missing``)."""
    try:
        return fn(*args, **kwargs)
    except InputError as exc:
        if not exc.problem.startswith("file not found"):
            raise
        missing[what] = f"{what} layer not given ({exc})"
        log.warning("%s layer not available: %s", what, exc)
        return None


def _region_outline(region: Region):
    from layers.boundaries import region_polygon

    return region_polygon(region)


# ---------------------------------------------------------------------- the run

def run_siting(region: Region, profile="logistics-heavy", *, cell_m: float | None = None, scenario=None, interchanges=None,
               parks_file=None, protected_file=None, heritage_file=None, dem_file=None, use_dem: bool = True, osm=None,
               net: access.Networks | None = None, population=None, min_area_ha: float | None = None,
               max_area_ha: float | None = None,
               top_n: int | None = None, top_share: float | None = None, min_score: float | None = None,
               sensitivity: bool = True, workers: int = 1, max_bytes: int | None = None,
               layers: dict | None = None) -> SitingResult:
    """Suitability grid and ranked candidate sites for ``region`` (see the module docstring).

    ``profile`` is a shipped profile name or a YAML path. ``scenario`` (a
    planned-road file, e.g. the shipped indicative CT.01) runs the analysis
    on the network *after* adding it; its interchanges become the targets of
    the matching corridor (``minutes_to_ct01``). ``protected_file`` and
    ``heritage_file`` are optional exclusion layers (any vector file), the
    same as ``layers={"protected_forest": …, "heritage": …}``. ``layers``
    maps a layer name to a vector file (any format and CRS): the land
    constraints (``rice_land``, ``protected_forest``, ``heritage``,
    ``settlements``, ``flood``; excluded or scored as the profile's
    ``constraints:`` says) and any other layer for ``km_to_<name>`` /
    ``in_<name>`` criteria (e.g. ``substations``).
    ``net`` and ``population`` may be passed in to reuse them.
    Inputs are all checked (profile, files, grid size) before the long work
    starts; nothing is written here (see :func:`write_siting`).
    """
    clock = _Clock()
    user_files = {str(k): v for k, v in (layers or {}).items() if v is not None}
    for key, path in (("protected_forest", protected_file), ("heritage", heritage_file)):
        if path is not None:
            user_files[key] = path
    bad = [k for k in user_files if not _LAYER_NAME.match(k)]
    if bad:
        raise InputError(None, f"layer name '{bad[0]}' must be lower-case letters, digits and _ (e.g. substations)")
    prof = load_profile(profile, region, layer_names=list(user_files))
    constraint_specs = constraint_settings(prof, user_files)
    grid_cfg = {**SITING_DEFAULTS, **(region.config.get("siting") or {})}
    rules = {**EXCLUSION_DEFAULTS, **prof.exclusions}
    rules["urban_radius_m"] = {**EXCLUSION_DEFAULTS["urban_radius_m"], **(prof.exclusions.get("urban_radius_m") or {})}
    unknown_rules = sorted(set(prof.exclusions) - set(EXCLUSION_DEFAULTS))
    if unknown_rules:
        raise InputError(prof.source, f"unknown exclusion setting '{unknown_rules[0]}' (known: {', '.join(EXCLUSION_DEFAULTS)})")
    loc = {**LOCATE_DEFAULTS, **prof.locate}
    unknown_loc = sorted(set(prof.locate) - set(LOCATE_DEFAULTS))
    if unknown_loc:
        raise InputError(prof.source, f"unknown locate setting '{unknown_loc[0]}' (known: {', '.join(LOCATE_DEFAULTS)})")
    for key, value in (("min_area_ha", min_area_ha), ("max_area_ha", max_area_ha), ("top_n", top_n), ("top_share", top_share),
                       ("min_score", min_score)):
        if value is not None:
            loc[key] = value
    if min_score is not None and top_share is None:
        loc["top_share"] = None
    _check_locate(loc, prof.source)
    _check_files(scenario=scenario, interchanges=interchanges, parks=parks_file, dem=dem_file, **user_files)
    rule_sets = load_rules(prof)
    cell_m = float(grid_cfg["cell_m"] if cell_m is None else cell_m)

    # Grid (refused before anything big is built when it would not fit in memory).
    crs = region.metric_crs
    outline = to_metric(gpd.GeoSeries([_region_outline(region)], crs="EPSG:4326"), crs).iloc[0]
    standard = ["minutes_to_ct01", "minutes_to_ql1a", "minutes_to_kep_station", "minutes_to_town",
                *[f"people_within_{float(m):g}_min" for m in access.settings_of(region)["catchment_minutes"]],
                "slope_deg", "km_to_park", "km_to_urban"]
    known = known_criteria(region)
    needed = [n for n in standard if n in known] + [n for n in prof.criteria if n not in standard]
    grid = make_grid(outline, cell_m, crs, n_layers=2 * len(needed) + 12, max_bytes=max_bytes, source="--cell-size")
    clock.lap("grid")

    # Optional user layers, read (and refused) early.
    from geo.vector import read_vector

    user_layers = {}
    for name, path in user_files.items():
        layer = read_vector(path)
        if layer.empty:
            raise InputError(path, "has no features")
        layer.attrs["source"] = Path(path).name
        user_layers[name] = layer
    lines = points = None
    if scenario is not None:
        from layers.scenario import read_scenario

        lines, points = read_scenario(scenario, interchanges)

    # Layers and networks. A region layer whose file is missing from --data is "not given": the criteria
    # and exclusions built on it are dropped and reported (a file the user names must exist, checked above).
    from layers.parks import industrial_parks
    from layers.population import population_raster
    from layers.water import water

    missing_layers: dict[str, str] = {}
    parks_layer = _optional(missing_layers, "industrial parks", industrial_parks, region, parks_file=parks_file)
    parks = None if parks_layer is None else _park_shapes(parks_layer, crs, float(rules["park_default_area_ha"]))
    found = _optional(missing_layers, "urban places", _town_points, region, grid_cfg["town_classes"])
    places, towns = found if found is not None else (None, None)
    place_shapes = None if places is None else _place_shapes(places, crs, rules["urban_radius_m"])
    water_layer = _optional(missing_layers, "water", water, region)
    dem = None
    if use_dem:
        if dem_file:
            dem = read_raster(dem_file)
        elif region.config.get("dem"):
            dem = _optional(missing_layers, "DEM", lambda: read_raster(region.path("dem")))
    if population is None:
        pop = _optional(missing_layers, "population", population_raster, region)
        population = None if pop is None else pop[:2]
    clock.lap("layers")
    if net is None:
        net = access.build_networks(region, osm=osm, with_rail=False)
    clock.lap("networks")

    router, extra, roads = None, None, None
    if lines is not None:
        router, extra, roads = _scenario_router(region, net, lines, points, scenario)
        clock.lap("scenario")

    values, reasons, facts = measure_criteria(region, grid, net, needed, router=router, extra_targets=extra,
                                              population=population, places=place_shapes, towns=towns, parks=parks,
                                              dem=dem, workers=workers, clock=clock)
    layer_values, layer_reasons = measure_layer_criteria(grid, needed, user_layers)
    values.update(layer_values)
    reasons.update(layer_reasons)
    masks, ex_report = exclusion_layers(region, grid, rules, parks=parks, places=place_shapes, water_layer=water_layer,
                                        slope=values.get("slope_deg"),
                                        constraints={k: (user_layers.get(k), spec) for k, spec in constraint_specs.items()})
    depends = {"industrial parks": (["km_to_park"], ["parks"]), "urban places": (["km_to_urban", "minutes_to_town"], ["urban"]),
               "water": ([], ["water_areas", "rivers"]), "DEM": (["slope_deg"], ["slope"]),
               "population": ([n for n in values if _PEOPLE.match(n)], [])}
    for layer, why in missing_layers.items():
        crits, exclusions = depends[layer]
        for name in crits:
            if name in values and not np.isfinite(values[name]).any():
                reasons[name] = why
        for name in exclusions:
            if name in ex_report:
                ex_report[name]["note"] = why
    excluded = np.zeros(grid.shape, bool)
    for mask in masks.values():
        excluded |= mask
    clock.lap("exclusions")

    # Score, locate, rank.
    scores = weighted_score(prof, {k: values[k] for k in prof.criteria}, within=grid.inside, reasons=reasons)
    score = np.where(grid.inside, scores.score, np.nan)
    eligible = grid.inside & ~excluded & np.isfinite(score)
    suitable, threshold = suitable_cells(score, eligible, loc["min_score"], loc["top_share"])
    max_area = None if loc["max_area_ha"] is None else float(loc["max_area_ha"])
    labels_all, table_all = locate(score, suitable, cell_ha=grid.cell_ha, min_area_ha=float(loc["min_area_ha"]),
                                   max_area_ha=max_area, split=loc["split"])
    n_top = min(int(loc["top_n"]), len(table_all))
    labels = np.where(labels_all <= n_top, labels_all, 0)
    clock.lap("score and locate")
    per_site, runs = None, pd.DataFrame()
    if sensitivity and n_top:
        per_site, runs = weight_sensitivity(
            {k: np.where(grid.inside, v, np.nan) for k, v in scores.components.items()}, scores.weights, eligible,
            labels, n_top, cell_ha=grid.cell_ha, min_area_ha=float(loc["min_area_ha"]), max_area_ha=max_area, top_n=int(loc["top_n"]), split=loc["split"],
            min_known_weight=prof.scoring["min_known_weight"], min_score=loc["min_score"], top_share=loc["top_share"],
            change=float(loc["sensitivity_change"]))
        clock.lap("sensitivity")

    districts, district_codes = _district_codes(region, grid)
    sites = _sites_frame(grid, labels, table_all.head(n_top), values, scores, districts, district_codes, per_site, prof,
                         scenario, crs)
    from layers.site_rules import judge_sites

    sites, rules_summary = judge_sites(sites, rule_sets, prof, region, user_layers=user_layers, parks=parks_layer,
                                       crs=crs, cell_districts=(labels, district_codes, districts))
    cells = _grid_frame(grid, values, scores, prof, excluded, masks, suitable, labels_all, districts, district_codes, crs)
    clock.lap("tables")

    inside_n = int(grid.inside.sum())
    summary = {
        "profile": {"name": prof.name, "title": prof.title, "source": prof.source, "weights_from": prof.weights_from,
                    "weights_given": {k: round(c.weight, 4) for k, c in prof.criteria.items()},
                    "transforms": {k: c.transform.describe() for k, c in prof.criteria.items()},
                    "ahp": {k: (round(v, 4) if isinstance(v, float) else v) for k, v in (prof.ahp or {}).items()} or None},
        "weights_used": {k: round(v, 4) for k, v in scores.weights.items()},
        "criteria_dropped": scores.dropped,
        "criteria_partial": {k: round(v, 4) for k, v in scores.partial.items()},
        "criteria_coverage": {k: round(v, 4) for k, v in scores.coverage.items()},
        "criteria_notes": reasons,
        "cell_m": grid.cell_m,
        "cells_in_bbox": grid.size,
        "cells_in_region": inside_n,
        "cells_excluded": int((excluded & grid.inside).sum()),
        "cells_scored": int(np.isfinite(score).sum()),
        "cells_unscored_reason": f"known criteria carry less than {prof.scoring['min_known_weight']:.0%} of the weight",
        "cells_eligible": int(eligible.sum()),
        "cells_suitable": int(suitable.sum()),
        "threshold": round(threshold, 4) if np.isfinite(threshold) else None,
        "threshold_rule": (f"score ≥ {loc['min_score']}" if loc["min_score"] is not None
                           else f"best {float(loc['top_share']):.0%} of the eligible cells"),
        "min_area_ha": float(loc["min_area_ha"]),
        "max_area_ha": max_area,
        "max_area_rule": None if max_area is None else (
            "a suitable area larger than max_area_ha is split into compact parts of at most max_area_ha by recursive halving "
            "across its longer side; each part is a site (zone = the area it was cut from, zone_area_ha its size)"
            if loc["split"] == "parts" else
            "a suitable area larger than max_area_ha is cut to its best core(s) by dropping its lowest-scoring cells "
            "(zone_area_ha = the whole area)"),
        "rules": rules_summary,
        "constraints": {k: {kk: vv for kk, vv in v.items()} for k, v in constraint_specs.items()},
        "sites_found": len(table_all),
        "sites_reported": int(n_top),
        "exclusions": {k: {kk: vv for kk, vv in v.items() if kk != "_geoms"} for k, v in ex_report.items()},
        "network": {**{k: v for k, v in facts.items() if k not in ("labour", "slope_coverage")}, "note": net.note},
        "slope_coverage": facts.get("slope_coverage"),
        "labour": facts.get("labour"),
        "layers_not_given": missing_layers,
        "scenario": None if roads is None else {"file": str(scenario), "roads": roads},
        "sensitivity": None if per_site is None else {
            "change": float(loc["sensitivity_change"]), "runs": len(runs),
            "sites_always_in_top_n": int((per_site["top_n_share"] == 1.0).sum()),
            "top_site_rank_range": [_num(per_site["rank_min"].iloc[0]), _num(per_site["rank_max"].iloc[0])],
        },
        "timings_s": clock.times,
    }
    log.info("siting (%s, %g m): %d cells, %d suitable, %d sites ≥ %g ha", prof.name, grid.cell_m, inside_n,
             summary["cells_suitable"], len(table_all), float(loc["min_area_ha"]))
    sites.attrs["summary"] = summary
    cells.attrs["summary"] = summary
    arrays = {"masks": masks, "exclusion_geoms": {k: v["_geoms"] for k, v in ex_report.items()}, "grid": grid,
                    "values": values, "scores": scores, "labels": labels, "labels_all": labels_all,
                    "threshold": threshold, "eligible": eligible}
    return SitingResult(grid=cells, sites=sites, score=score, arrays=arrays, summary=summary, runs=runs)


def _num(value):
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else float(value)


def _check_locate(loc: dict, source) -> None:
    try:
        area = float(loc["min_area_ha"])
        top_n = int(loc["top_n"])
    except (TypeError, ValueError):
        raise InputError(source, "locate: min_area_ha and top_n must be numbers") from None
    if area < 0 or top_n < 1:
        raise InputError(source, "locate: min_area_ha must be ≥ 0 and top_n ≥ 1")
    if loc["max_area_ha"] is not None and not float(loc["max_area_ha"]) >= area:
        raise InputError(source, f"locate: max_area_ha ({loc['max_area_ha']}) must be at least min_area_ha ({area:g})")
    if loc["min_score"] is None:
        share = loc["top_share"]
        if share is None or not 0 < float(share) <= 1:
            raise InputError(source, f"locate: top_share must be in (0, 1], not {share!r}")
    if loc["split"] not in ("parts", "core"):
        raise InputError(source, f"locate: split must be 'parts' (several legal-size sites) or 'core' (best core only), not {loc['split']!r}")
    change = float(loc["sensitivity_change"])
    if not 0 < change < 1:
        raise InputError(source, f"locate: sensitivity_change must be in (0, 1), not {change:g}")


def _scenario_router(region: Region, net: access.Networks, lines, points, scenario):
    from geo.roadref import match_corridor
    from geo.scenario import add_planned_roads
    from layers.scenario import _slug, scenario_tuning

    tuning = scenario_tuning(region, lines)
    after, report = add_planned_roads(net.road, to_metric(lines, region.metric_crs),
                                      to_metric(points, region.metric_crs) if len(points) else None,
                                      source=str(scenario), **tuning)
    extra = {}
    for i, row in report.iterrows():
        key = match_corridor(None, row["name"], region.corridors) or _slug(row["name"], i)
        extra[key] = list(extra.get(key, [])) + list(row["access_nodes"])
    roads = report.drop(columns="access_nodes").to_dict(orient="records")
    for road, key in zip(roads, extra):
        road["corridor_id"] = key
    return after, {k: np.asarray(v, dtype=np.int64) for k, v in extra.items()}, roads


def _district_codes(region: Region, grid: Grid):
    from layers.boundaries import districts

    units = districts(region)
    codes = zone_labels(grid.profile, to_metric(units, grid.crs))
    return units["district"].tolist(), codes


def _grid_frame(grid: Grid, values, scores, prof: Profile, excluded, masks, suitable, labels_all, districts, codes, crs):
    sel = grid.inside
    flat = np.flatnonzero(sel.ravel())
    rows, cols = np.divmod(flat, grid.ncols)
    names_of = np.array([*districts, None], dtype=object)          # code −1 (no district) → None
    data = {"cell_id": flat.astype(np.int64), "row": rows, "col": cols, "district": names_of[codes.ravel()[flat]]}
    for name, arr in values.items():
        data[name] = arr[sel]
    for name, comp in scores.components.items():
        data[f"s_{name}"] = comp[sel]
    data["score"] = scores.score[sel]
    data["weight_known"] = np.round(scores.weight_known[sel], 4)
    data["criteria_known"] = scores.criteria_known[sel].astype(np.int16)
    data["excluded"] = excluded[sel]
    names = list(masks)
    code = np.zeros(len(flat), dtype=np.int64)                     # one bit per exclusion
    for bit, name in enumerate(names):
        code |= masks[name][sel].astype(np.int64) << bit
    combos, inverse = np.unique(code, return_inverse=True)
    text = np.array(["; ".join(n for b, n in enumerate(names) if c >> b & 1) or None for c in combos], dtype=object)
    data["excluded_by"] = text[inverse.ravel()]
    data["slope_known"] = np.isfinite(values["slope_deg"][sel]) if "slope_deg" in values else False
    data["suitable"] = suitable[sel]
    data["site"] = labels_all[sel].astype(np.int32)
    frame = gpd.GeoDataFrame(data, geometry=grid.cell_boxes(flat), crs=crs)
    return frame.to_crs("EPSG:4326")


def _sites_frame(grid: Grid, labels, table, values, scores, districts, codes, per_site, prof: Profile, scenario, crs):
    n = len(table)
    columns = ["site", "area_ha", "cells", "score_mean", "score_max", "district", "lon", "lat"]
    if n == 0:
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs="EPSG:4326")
    means = site_means(labels, n, {k: v for k, v in values.items() if k != "snap_m"})
    comp = site_means(labels, n, {f"s_{k}": v for k, v in scores.components.items()})
    mode = site_mode(labels, n, codes)
    outlines = grid.outlines(labels, keep=range(1, n + 1))
    cx = grid.x0 + (table["col"].to_numpy() + 0.5) * grid.cell_m
    cy = grid.y0 - (table["row"].to_numpy() + 0.5) * grid.cell_m
    best = gpd.GeoSeries(shapely.points(cx, cy), crs=crs).to_crs("EPSG:4326")
    out = pd.DataFrame({
        "site": table["site"].to_numpy(), "area_ha": table["area_ha"].round(2).to_numpy(), "cells": table["cells"].to_numpy(),
        "score_mean": table["score_mean"].round(4).to_numpy(), "score_max": table["score_max"].round(4).to_numpy(),
        "zone_area_ha": table["zone_area_ha"].round(2).to_numpy(), "zone": table["zone"].to_numpy(),
        "district": [districts[c] if c >= 0 else None for c in mode],
        "lon": best.x.round(5).to_numpy(), "lat": best.y.round(5).to_numpy(),
    })
    means_cols = [c for c in means.columns if not c.endswith("_known_share")]
    out = pd.concat([out, means[means_cols].round(3).reset_index(drop=True),
                     comp[[c for c in comp.columns if not c.endswith("_known_share")]].round(4).reset_index(drop=True)], axis=1)
    if "slope_deg_known_share" in means:
        out["slope_known_share"] = means["slope_deg_known_share"].round(3).to_numpy()
    if per_site is not None:
        out = pd.concat([out, per_site.reset_index(drop=True)], axis=1)
    out["profile"] = prof.name
    out["scenario"] = Path(scenario).name if scenario else None
    notes = [f"{name} ({'partial: known on ' + format(scores.partial[name], '.1%') + ' of cells' if name in scores.partial else 'missing'})"
             for name in scores.dropped]
    out["note"] = ("not scored: " + ", ".join(notes) + " (see sites_summary.json)") if notes else None
    geoms = [outlines.get(int(k)) for k in out["site"]]
    return gpd.GeoDataFrame(out, geometry=geoms, crs=crs).to_crs("EPSG:4326")


# ---------------------------------------------------------------------- output

def summary_lines(result: SitingResult) -> list[str]:
    """A few lines for the command line: what was scored, dropped, excluded, and the ranked sites."""
    s = result.summary
    lines = [f"profile {s['profile']['name']} ({s['profile']['weights_from']}"
             + (f", AHP CR {s['profile']['ahp']['cr']:.3f}" if s["profile"].get("ahp") else "") + "); weights used: "
             + ", ".join(f"{k} {v:.2f}" for k, v in s["weights_used"].items())]
    for name, why in s["criteria_dropped"].items():
        lines.append(f"  not scored: {name} — {why}")
    lines.append(f"{s['cells_in_region']:,} cells of {s['cell_m']:g} m in the region: {s['cells_excluded']:,} excluded, "
                 f"{s['cells_scored']:,} scored, {s['cells_suitable']:,} suitable ({s['threshold_rule']}, score ≥ {s['threshold']})")
    off = [k for k, v in s["exclusions"].items() if not v["given"]]
    if off:
        lines.append("  exclusions not given: " + ", ".join(off))
    rules = s.get("rules") or {}
    if rules.get("files"):
        lines.append("  judged against " + ", ".join(Path(f).name for f in rules["files"])
                     + (f" ({rules['scale']} rules)" if rules.get("scale") else ""))
    lines.append(f"{s['sites_found']} sites of at least {s['min_area_ha']:g} ha; the best {s['sites_reported']}:")
    for row in result.sites.itertuples():
        stable = ""
        if hasattr(row, "runs_lost"):
            change = f"±{s['sensitivity']['change']:.0%} weights"
            stable = (f", rank {row.rank_min:g}–{row.rank_max:g} under {change}" if row.runs_lost == 0 else
                      f", best rank {row.rank_min:g} under {change} but gone in {row.runs_lost} of {row.runs} runs")
        lines.append(f"  {row.site:>2}. {row.district or '?'} ({row.lon:.4f} E, {row.lat:.4f} N): {row.area_ha:g} ha, "
                     f"score {row.score_mean:.3f}{stable}"
                     + (f"; eligible: {row.eligible}" if hasattr(row, "eligible") else "")
                     + (f" — fails: {row.rule_failures}" if getattr(row, "rule_failures", None) else ""))
    return lines


def write_siting(result: SitingResult, out_dir) -> dict[str, Path]:
    """Write ``sites.gpkg`` (``grid``, ``sites``), ``sites.csv``, ``suitability.tif`` and ``sites_summary.json`` atomically."""
    from geo.output import write_csv, write_geopackage, write_json
    from geo.raster import write_geotiff

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    grid: Grid = result.arrays["grid"]
    paths = {"sites_gpkg": out_dir / "sites.gpkg", "sites_csv": out_dir / "sites.csv",
             "score_tif": out_dir / "suitability.tif", "summary": out_dir / "sites_summary.json"}
    write_geopackage({"grid": result.grid, "sites": result.sites}, paths["sites_gpkg"])
    write_csv(result.sites, paths["sites_csv"])
    write_geotiff(result.score, grid.profile, paths["score_tif"])
    write_json({**result.summary, "sensitivity_runs": result.runs.to_dict(orient="records") if len(result.runs) else []},
               paths["summary"])
    return paths
