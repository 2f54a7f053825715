"""Command line of the planning tool: ``bgplan SUBCOMMAND`` (installed) or ``python scripts/plan.py SUBCOMMAND`` (a checkout).

Only wiring lives here: parse the options, refuse the shared options a subcommand does not use (one line, exit 2),
resolve the others (the region, the :class:`NetworkOptions` every analysis that routes carries), then run the
subcommand (:mod:`bgplan.commands`, each a call of the library API :mod:`bgplan.analyses`) in a staging folder.
Errors about inputs are printed as one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import signal
import sys
from pathlib import Path

from geo import settings
from geo.errors import InputError

from bgplan.commands import (cmd_access, cmd_bench, cmd_calibrate, cmd_communes, cmd_fetch, cmd_isochrones, cmd_layers,
                             cmd_map, cmd_matrix, cmd_publish, cmd_run, cmd_scenario, cmd_sensitivity, cmd_serve,
                             cmd_site, cmd_validate)
from bgplan.staging import Terminated, path_pairs, replace_all, shown_as, signals_raise

log = logging.getLogger("bgplan")

#: The options every subcommand is made with (dest → flags and argparse settings). Their defaults are None here
#: (so that a refused option is seen when given) and filled in by :func:`_resolve` (:data:`DEFAULTS`).
SHARED = {
    "region": (("--region",), {"metavar": "NAME|FILE",
                               "help": "region definition: one of {regions}, or a .yaml file (default: bac-giang)"}),
    "data": (("--data",), {"type": Path, "metavar": "DIR",
                           "help": "folder with the source files, laid out like ../shared/data (default: $BGPLAN_DATA, "
                                   "else the open-data bundle data/)"}),
    "boundaries": (("--boundaries",), {"choices": ["open", "gadm"],
                                       "help": "boundary set: open (geoBoundaries, CC BY 3.0 IGO, carried in data/) or gadm "
                                               "(GADM 4.1; needs --data with it)"}),
    "osm": (("--osm",), {"type": Path, "metavar": "FILE",
                         "help": "an OpenStreetMap extract (.osm, .osm.bz2 or .osm.pbf): its roads (with their tags) make "
                                 "the network; adds OSM-tagged corridors, park outlines, built-up areas"}),
    "parks": (("--parks",), {"type": Path, "metavar": "FILE",
                             "help": "your own park list or outlines (GeoJSON, GeoPackage, Shapefile or CSV with lon/lat; any "
                                     "CRS), used instead of the shipped registry"}),
    "out": (("--out",), {"type": Path, "metavar": "DIR", "help": "output folder (default: ./out)"}),
    "network": (("--network",), {"choices": ["today", "2018"],
                                 "help": "road network: 'today' (the 2018 file plus roads opened since, e.g. CT.01; default) "
                                         "or '2018'"}),
    "roads": (("--roads",), {"type": Path, "action": "append", "metavar": "FILE",
                             "help": "a road-class overlay: lines with ref/name/highway/maxspeed, any CRS, map-matched onto "
                                     "the network; repeatable"}),
    "speeds": (("--speeds",), {"type": Path, "metavar": "FILE",
                               "help": "a speed model YAML instead of the region's (e.g. OUT/speeds-calibrated.yaml from "
                                       "'calibrate')"}),
    "vehicle": (("--vehicle",), {"choices": ["car", "truck"],
                                 "help": "speeds for a car / light goods vehicle (default) or a truck (tractor with "
                                         "semi-trailer: legal limits by vehicle type, the region's vehicle_speed_models.truck)"}),
    "allow_large": (("--allow-large",), {"action": "store_true", "default": False,
                                         "help": f"run inputs above the stated limits (more than {settings.max_points:,} "
                                                 f"parks/origins/destinations, more than {settings.max_sensitivity_runs:,} "
                                                 "sensitivity runs), which take long and much memory"}),
    "quiet": (("--quiet",), {"action": "store_true", "default": False, "help": "no progress bars, warnings and errors only"}),
    "verbose": (("--verbose",), {"action": "store_true", "default": False,
                                 "help": "debug logging (and, for run, the seconds of every step)"}),
}

REGION = ("region", "data", "boundaries")
NETWORK = ("network", "roads", "speeds", "vehicle", "osm")
ANALYSIS = (*REGION, *NETWORK, "parks", "out", "allow_large")

#: The shared options each subcommand honours (besides --quiet and --verbose); any other one given is refused.
HONOURS = {
    "layers": (*REGION, "osm", "parks", "out", "network", "allow_large"),
    "access": ANALYSIS, "matrix": ANALYSIS, "scenario": ANALYSIS, "isochrones": ANALYSIS, "site": ANALYSIS,
    "sensitivity": ANALYSIS, "run": ANALYSIS, "communes": ANALYSIS,
    "validate": (*REGION, *NETWORK, "out"), "calibrate": (*REGION, *NETWORK, "out"),
    "map": ("out",), "publish": ("out",), "fetch": (), "bench": ("region", "data", "out"),
    "serve": (*REGION, "network", "roads", "speeds", "vehicle", "parks"),
}

#: Why a subcommand does without the shared options it refuses (the end of the one error line).
WHY_NOT = {
    "layers": "the layers build no routing network; the network options belong to access, scenario, isochrones, "
              "site … and run",
    "validate": "it routes the observations, not parks", "calibrate": "it routes the observations, not parks",
    "map": "it draws what OUT already holds", "publish": "it publishes what OUT already holds",
    "fetch": "it downloads the public sources into --dest", "bench": "the benchmarks make their own inputs",
    "serve": "it writes nothing and reads the data folder's network, not an OSM extract",
}


def _common_options(command: str) -> argparse.ArgumentParser:
    """The shared options of ``command``: those it honours with their help, the others hidden (refused if given)."""
    from layers.region import available_regions

    honoured = set(HONOURS[command]) | {"quiet", "verbose"}
    common = argparse.ArgumentParser(add_help=False)
    for dest, (flags, spec) in SHARED.items():
        spec = dict(spec)
        spec.setdefault("default", None)
        if dest in honoured:
            spec["help"] = spec["help"].replace("{regions}", ", ".join(available_regions()))
        else:
            spec["help"] = argparse.SUPPRESS
        common.add_argument(*flags, dest=dest, **spec)
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bgplan",
        description="Planning layers, corridor access and siting for industrial parks in Bắc Giang (Vietnam). "
                    "The same as 'python scripts/plan.py' in a checkout, and as the functions of 'import bgplan'.",
        epilog="Run 'bgplan SUBCOMMAND --help' for the options of one subcommand.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="SUBCOMMAND")

    p = sub.add_parser("layers", parents=[_common_options("layers")], help="build the planning layers into OUT/layers.gpkg",
                       description="Build boundaries, industrial parks, corridors, railways, stations, water, urban areas and "
                                   "population from the --data folder (and --osm when given); write OUT/layers.gpkg "
                                   "(EPSG:4326, opens in QGIS), OUT/population.tif and OUT/layers_summary.json.")
    p.add_argument("--scenario", type=Path, action="append", default=[], metavar="FILE",
                   help="a line file of planned corridors (columns: name, road_class, design_speed_kmh); repeatable")
    p.add_argument("--logistics", type=Path, default=None, metavar="FILE",
                   help="points of dry ports / ICD / logistics centres (column kind: dry_port, icd, logistics_centre)")
    p.set_defaults(func=cmd_layers)

    a = sub.add_parser("access", parents=[_common_options("access")], help="corridor access report per industrial park → OUT/access.csv, OUT/access.gpkg",
                       description="Minutes from every park to the nearest CT.01 interchange, QL1A, QL37, Kép station, Bắc Giang "
                                   "city, Hà Nội, Nội Bài, Lạch Huyện port and the Đồng Đăng border (by road, and by road + rail "
                                   "through stations), and people within 30 and 45 minutes. What is measured is the region's "
                                   "'access:' section; speeds come from its speed model.")
    a.add_argument("--no-rail", action="store_true", help="skip the road + rail columns (faster)")
    a.set_defaults(func=cmd_access)

    m = sub.add_parser("matrix", parents=[_common_options("matrix")], help="travel-time matrix (tidy table) → OUT/matrix.csv",
                       description="Minutes by road from many origins to many destinations as a tidy table "
                                   "(origin, destination, minutes, reason). Defaults: the industrial parks to the region's destinations.")
    m.add_argument("--origins", type=Path, default=None, metavar="FILE", help="origin points (any vector file or CSV with lon/lat; column 'name')")
    m.add_argument("--destinations", type=Path, default=None, metavar="FILE", help="destination points (default: the region's key destinations)")
    m.set_defaults(func=cmd_matrix)

    s = sub.add_parser("scenario", parents=[_common_options("scenario")], help="what a planned road changes: access before / after / change",
                       description="Add planned roads (line features of FILE: name, road_class, design_speed_kmh; point features = "
                                   "interchanges) to the road network and recompute the access report. Writes OUT/scenario.csv and "
                                   "OUT/scenario.gpkg (layers access_change, planned_roads, interchanges).")
    s.add_argument("scenario_file", type=Path, nargs="?", metavar="FILE", default=None,
                   help="scenario file (default: the region's run: scenario, e.g. '2018 vs today' for CT.01 on the 2018 network)")
    s.add_argument("--interchanges", type=Path, default=None, metavar="FILE", help="interchange points, if not in the scenario file")
    s.add_argument("--batch", type=Path, action="append", default=None, metavar="DIR_OR_FILE",
                   help="evaluate many scenario files (a folder of them, or files; repeatable) and rank them → OUT/scenario_batch.csv")
    _add_sketch_options(s)
    _add_scheduler_options(s)
    s.set_defaults(func=cmd_scenario)

    i = sub.add_parser("isochrones", parents=[_common_options("isochrones")], help="areas reachable within 15/30/45/60 minutes → OUT/isochrones.gpkg",
                       description="Polygons reachable by road within each time from each origin, with the people inside "
                                   "(WorldPop 2020 rescaled to the 2019 census). Origins: region destinations by key "
                                   "(kep_station, bac_giang_city …), 'LON,LAT' points, or --all-parks.")
    i.add_argument("--from", dest="origins", action="append", default=None, metavar="KEY|LON,LAT",
                   help="an origin; repeatable (default: kep_station)")
    i.add_argument("--all-parks", action="store_true", help="one set of isochrones per industrial park")
    i.add_argument("--minutes", type=_positive_minutes, nargs="+", default=[15, 30, 45, 60],
                   help="thresholds in minutes (default: 15 30 45 60)")
    i.set_defaults(func=cmd_isochrones)

    b = sub.add_parser("bench", parents=[_common_options("bench")], help="benchmarks: routing vs networkx, siting vs a per-cell loop → OUT/bench*.json",
                       description="Run the benchmark scripts (ratios against a baseline in the same run, plus peak memory): "
                                   "routing on the real network and a generated 200,000-node one (OUT/bench.json), scoring and "
                                   "locating 100,000 cells (OUT/bench_siting.json), 1,000 Monte Carlo weightings and a scenario batch in-process "
                                   "vs 1 and 2 Dask workers (OUT/bench_dask.json). Takes about ten minutes. Page sizes and first "
                                   "paint: scripts/bench_maps.py.")
    b.add_argument("--quick", action="store_true", help="a smaller generated network (for a fast look)")
    b.set_defaults(func=cmd_bench)

    g = sub.add_parser("site", parents=[_common_options("site")], help="suitability grid and ranked candidate sites → OUT/sites.gpkg, OUT/sites.csv",
                       description="Score a square grid (100 m by default) over the region with a siting profile (criteria, "
                                   "transforms, weights or an AHP matrix), remove excluded land and barriers (classified roads, "
                                   "railways, stations, water, settlements with their legal corridors), grow compact sites inside the "
                                   "parcels they leave, rank them, keep a shortlist (spacing, per-district cap) and judge each site "
                                   "(eligible / ineligible / unknown); ±20 %% weight sensitivity. Writes OUT/sites.gpkg (grid, sites), "
                                   "OUT/sites.csv, OUT/sites_by_district.csv, OUT/suitability.tif, OUT/sites_summary.json.")
    g.add_argument("--profile", default="logistics-heavy", help="logistics-heavy, labour-intensive, or a profile .yaml (default: logistics-heavy)")
    g.add_argument("--cell-size", type=float, default=None, metavar="M",
                   help="cell side in metres (default: the region's siting cell_m, 100)")
    g.add_argument("--scenario", type=Path, default=None, metavar="FILE",
                   help="planned roads to add first (e.g. layers/scenarios/ct01-bac-giang-lang-son-indicative.geojson)")
    g.add_argument("--interchanges", type=Path, default=None, metavar="FILE", help="interchange points, if not in the scenario file")
    g.add_argument("--protected-forest", type=Path, default=None, metavar="FILE", help="protected forest polygons (exclusion)")
    g.add_argument("--heritage", type=Path, default=None, metavar="FILE", help="heritage sites (exclusion)")
    g.add_argument("--rice-land", type=Path, default=None, metavar="FILE", help="rice land polygons, any vector format and CRS (exclusion, or as the profile says)")
    g.add_argument("--settlements", type=Path, default=None, metavar="FILE", help="villages/buildings: polygons, or points buffered as the profile says (exclusion)")
    g.add_argument("--flood", type=Path, default=None, metavar="FILE", help="flood-prone land polygons (exclusion, or as the profile says)")
    g.add_argument("--layer", action="append", default=[], metavar="NAME=FILE",
                   help="a user layer for km_to_NAME / in_NAME criteria in a profile (e.g. substations=substations.gpkg); repeatable")
    g.add_argument("--dem", type=Path, default=None, metavar="FILE", help="a DEM GeoTIFF instead of the region's")
    g.add_argument("--no-dem", action="store_true", help="ignore elevation (slope unknown everywhere)")
    g.add_argument("--min-area-ha", type=float, default=None, help="smallest site (default: the profile's)")
    g.add_argument("--max-area-ha", type=float, default=None, help="largest site (default: the profile's)")
    g.add_argument("--top", type=int, default=None, help="number of ranked sites to keep (default: the profile's)")
    g.add_argument("--top-share", type=float, default=None, help="share of eligible cells called suitable (default 0.10)")
    g.add_argument("--min-score", type=float, default=None, help="score a suitable cell needs (instead of --top-share)")
    g.add_argument("--district", action="append", default=None, metavar="NAME",
                   help="only sites in this former district (e.g. 'Lục Nam'); repeatable")
    g.add_argument("--commune", action="append", default=None, metavar="NAME",
                   help="only sites in this 2025 commune (needs --communes FILE); repeatable")
    g.add_argument("--communes", type=Path, default=None, metavar="FILE",
                   help="2025 commune polygons with a name column (for --commune and --max-per-commune)")
    g.add_argument("--min-spacing-km", type=float, default=None, metavar="KM",
                   help="shortlisted sites at least this far apart, edge to edge (default: the profile's, 2)")
    g.add_argument("--max-per-district", type=int, default=None, metavar="N",
                   help="at most N shortlisted sites per district (default: the profile's, 3)")
    g.add_argument("--max-per-commune", type=int, default=None, metavar="N",
                   help="at most N shortlisted sites per commune (needs --communes FILE)")
    g.add_argument("--no-sensitivity", action="store_true", help="skip the ±20 %% weight sensitivity")
    g.add_argument("--workers", type=int, default=1, help="processes for the labour catchments (default 1)")
    g.set_defaults(func=cmd_site)

    _add_sensitivity_parser(sub)

    mp = sub.add_parser("map", parents=[_common_options("map")], help="the planner's interactive map → OUT/map.html",
                        description="One self-contained HTML map of OUT/layers.gpkg (run 'layers' first) with every analysis "
                                    "found in OUT (access.gpkg, scenario.gpkg, isochrones.gpkg, sites.gpkg, sites_grid.tif): layer groups, legends, "
                                    "popups in Vietnamese and English. Works offline (Leaflet is inlined; tiles are optional).")
    mp.set_defaults(func=cmd_map)

    pb = sub.add_parser("publish", parents=[_common_options("publish")], help="the public website → OUT/site/index.html + one page per map",
                        description="A static site (no server code) of the maps and an indicators page, with only the public "
                                    "attributes of maps/publish.yaml (or --config) and visible attribution.")
    pb.add_argument("--config", type=Path, default=None, metavar="FILE", help="publishing allow-list (default: maps/publish.yaml)")
    pb.add_argument("--include-restricted", action="store_true",
                    help="also publish layers whose redistribution is 'not allowed' (every page then says so)")
    pb.set_defaults(func=cmd_publish)

    rn = sub.add_parser("run", parents=[_common_options("run")], help="everything in order: layers, access, scenario, isochrones, site, map, publish",
                        description="The main job: build the layers, the corridor access report, the indicative CT.01 scenario, "
                                    "isochrones from Kép and Bắc Giang city and candidate sites (logistics-heavy profile), then the "
                                    "planner map and the published site.")
    rn.add_argument("--no-analyses", action="store_true", help="layers, map and site only")
    rn.set_defaults(func=cmd_run)

    sv = sub.add_parser("serve", parents=[_common_options("serve")], help="the live scenario editor: sketch a road on the map, see what it changes",
                        description="A local web application (http://127.0.0.1:PORT/): the planner map with a drawing tool to "
                                    "sketch roads and interchanges, evaluated against the region's network in a fraction of a "
                                    "second — parks and communes before / after, a minutes-saved grid, isochrones, the largest "
                                    "gains; 'save as scenario' gives the GeoJSON 'scenario FILE' reads. API: GET /api/health, "
                                    "GET /api/options, POST /api/scenario, POST /api/isochrones (README: 'serve').")
    sv.add_argument("--host", default="127.0.0.1",
                    help="address to listen on (default 127.0.0.1, this machine only; the editor has no authentication)")
    sv.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    sv.set_defaults(func=cmd_serve)

    cm = sub.add_parser("communes", parents=[_common_options("communes")], help="the 2025 communes: population, parks → OUT/communes.csv, OUT/communes.gpkg",
                        description="One row per 2025 commune/ward of the region (needs a 'communes:' section, e.g. bac-ninh-2025): "
                                    "2019 census population mapped 2019 → 2024 → 2025 (with ranges where inferred), parks; "
                                    "OUT/communes_mapping.csv lists each 2019 commune's 2025 commune and how it was found.")
    cm.add_argument("--communes", type=Path, default=None, metavar="FILE",
                    help="commune polygons (any vector file with a 'code' (GSO 2025) or 'name' column); default: points")
    cm.set_defaults(func=cmd_communes)

    f = sub.add_parser("fetch", parents=[_common_options("fetch")], help="download the public sources into a cache folder",
                       description="Download the public sources (OSM, GADM 4.1, WorldPop 1 km …) into a folder with the "
                                   "--data layout. Offline, it says which files to put where.")
    f.add_argument("--dest", type=Path, default=None, help="where to put the files (default: the cache folder)")
    f.add_argument("--mirror", action="append", default=None, metavar="URL",
                   help="base URL of a mirror laid out like the --data folder (intranet); repeatable; replaces the upstream hosts")
    f.add_argument("--only", action="append", default=None, metavar="FILE",
                   help="fetch only this file (name or shell pattern, e.g. 'worldpop_*'); repeatable. "
                        "The whole-country OSM extract osm/vietnam-latest.osm.pbf is fetched only when named here")
    f.set_defaults(func=cmd_fetch)

    v = sub.add_parser("validate", parents=[_common_options("validate")], help="modelled vs observed travel times → OUT/validation.csv, OUT/validation.json",
                       description="Route every observation (origin/destination coordinates, km, minutes_min, minutes_max, route, "
                                   "source; format of observed_travel_times.csv) on the road network and compare: model_km, "
                                   "model_minutes, the relative distance error and the time error outside the observed range.")
    v.add_argument("--observed", type=Path, default=None, metavar="FILE",
                   help="observations CSV (default: the region's validation.observed_file)")
    v.set_defaults(func=cmd_validate)

    c = sub.add_parser("calibrate", parents=[_common_options("calibrate")], help="fit the assumed speeds to observed times → OUT/speeds-calibrated.yaml",
                       description="Fit the speeds the speed model marks as assumptions (calibration section: unknown-class "
                                   "speeds, urban congestion factor, access-leg speed; never a legal limit) to the observed drive "
                                   "times within the stated bounds. Writes a speed model for --speeds and OUT/calibration.json "
                                   "with the leave-one-out error.")
    c.add_argument("--observed", type=Path, default=None, metavar="FILE",
                   help="observations CSV (default: the region's validation.observed_file)")
    c.add_argument("--no-leave-one-out", action="store_true", help="skip the leave-one-out check (faster)")
    c.set_defaults(func=cmd_calibrate)
    return parser


def _positive_minutes(text: str) -> float:
    """An argparse type: a finite number of minutes > 0 (at most a week)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of minutes") from None
    if not 0 < value <= 7 * 24 * 60:
        raise argparse.ArgumentTypeError(f"{text} minutes: give a time above 0 and at most a week (10,080)")
    return value


def _setup(args) -> None:
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("pyogrio", "fiona", "rasterio", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    settings.progress = not args.quiet


def _add_sketch_options(s) -> None:
    s.add_argument("--from", dest="sketch_from", default=None, metavar="LON,LAT",
                   help="a planned road from this point (with --to; instead of FILE): the same road as one sketched on the "
                        "'serve' map, written to OUT/scenario_sketch.geojson")
    s.add_argument("--to", dest="sketch_to", default=None, metavar="LON,LAT", help="where the planned road of --from ends")
    s.add_argument("--via", dest="sketch_via", action="append", default=[], metavar="LON,LAT",
                   help="a point the road of --from passes through; repeatable, in order")
    s.add_argument("--road-class", default="expressway",
                   help="class of the road of --from: expressway (entered at its ends, or at --interchanges points) or a "
                        "class of the speed model (national, provincial, district, commune …; joins roads it crosses and "
                        "at its ends). Default: expressway")
    s.add_argument("--design-speed", type=float, default=None, metavar="KMH",
                   help="design speed of the road of --from (default: the class's)")
    s.add_argument("--name", default=None, help="name of the road of --from")


def _add_scheduler_options(p) -> None:
    p.add_argument("--scheduler", default="none", metavar="none|local|ADDRESS",
                   help="where the runs execute: none (this process), local (a Dask LocalCluster on this machine) or the "
                        "address of a Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: none)")
    p.add_argument("--dask-workers", type=int, default=2, metavar="N", help="worker processes for --scheduler local (default 2)")


def _add_sensitivity_parser(sub) -> None:
    from geo.siting.montecarlo import MonteCarloOptions

    d = MonteCarloOptions()
    p = sub.add_parser("sensitivity", parents=[_common_options("sensitivity")], help="Monte Carlo weight sensitivity of the siting → OUT/sensitivity.*",
                       description="Run the siting once, then re-score the grid with RUNS weightings drawn around the profile's "
                                   "weights (Dirichlet, alpha = concentration x weight): per cell the share of runs in which it is "
                                   "suitable, per candidate site its rank distribution. Writes OUT/sensitivity.csv, "
                                   "OUT/sensitivity.gpkg (cells, sites, site_ranks), OUT/sensitivity.tif, OUT/sensitivity.json and "
                                   "the siting outputs (OUT/sites.*). Identical results for the same seed on any scheduler.")
    p.add_argument("--runs", type=int, default=d.runs, help=f"number of weightings (default {d.runs})")
    p.add_argument("--seed", type=int, default=d.seed, help=f"random seed (default {d.seed})")
    p.add_argument("--concentration", type=float, default=d.concentration, metavar="K",
                   help=f"Dirichlet concentration: sd of a weight w is sqrt(w(1-w)/(K+1)); smaller = wider spread (default {d.concentration:g})")
    p.add_argument("--chunk-runs", type=int, default=d.chunk_runs, metavar="N", help=f"runs per task (default {d.chunk_runs})")
    p.add_argument("--profile", default="logistics-heavy", help="logistics-heavy, labour-intensive, or a profile .yaml")
    p.add_argument("--cell-size", type=float, default=None, metavar="M",
                   help="cell side in metres (default: the region's siting cell_m, 100)")
    p.add_argument("--scenario", type=Path, default=None, metavar="FILE", help="planned roads to add first")
    p.add_argument("--interchanges", type=Path, default=None, metavar="FILE", help="interchange points, if not in the scenario file")
    p.add_argument("--no-dem", action="store_true", help="ignore elevation (slope unknown everywhere)")
    p.add_argument("--min-area-ha", type=float, default=None, help="smallest site (default: the profile's)")
    p.add_argument("--max-area-ha", type=float, default=None, help="largest site (default: the profile's)")
    p.add_argument("--top", type=int, default=None, help="number of ranked sites (default: the profile's)")
    p.add_argument("--top-share", type=float, default=None, help="share of eligible cells called suitable (default 0.10)")
    p.add_argument("--min-score", type=float, default=None, help="score a suitable cell needs (instead of --top-share)")
    _add_scheduler_options(p)
    p.set_defaults(func=cmd_sensitivity)


#: Commands that write into OUT through a staging folder (geo.io.output.OutputSet); fetch writes into --dest.
STAGED = {"layers", "access", "matrix", "scenario", "isochrones", "site", "sensitivity", "map", "publish", "run",
          "communes", "validate", "calibrate"}
#: Commands that read no region data of their own (map, publish read OUT): no region window to check files against.
WITHOUT_REGION = {"map", "publish", "fetch", "bench"}


def main(argv=None) -> int:
    """Run one subcommand; bad input or an unusable OUT is one line on stderr and exit status 2.

    Outputs go to a staging folder inside OUT and are moved in together at the end (geo.io.output.OutputSet):
    an error, Ctrl-C or SIGTERM leaves OUT as it was.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup(args)
    args.region_obj = None
    with signals_raise():
        try:
            _refuse_unused(args)
            _resolve(args)
            return _run(args)
        except InputError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except Terminated as exc:
            print(f"error: stopped by {signal.Signals(exc.signum).name}; OUT was left as it was", file=sys.stderr)
            return 128 + exc.signum
        except KeyboardInterrupt:
            print("error: interrupted; OUT was left as it was", file=sys.stderr)
            return 130
        except OSError as exc:      # the file system failed under a writer that does not say so itself
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO):
                return _unexpected(exc, args)
            where = exc.filename or getattr(args, "out", "")
            print(f"error: {where}: {os.strerror(exc.errno)}; OUT was left as it was", file=sys.stderr)
            return 2
        except Exception as exc:    # a case no check knows yet: still one line (the traceback with --verbose)
            return _unexpected(exc, args)


def _unexpected(exc: Exception, args) -> int:
    """One line and status 1 for an error no check anticipated; ``--verbose`` shows the traceback."""
    if args.verbose:
        raise exc
    text = " ".join(str(exc).split()) or "no message"
    print(f"error: unexpected {type(exc).__name__}: {text[:300]} (OUT was left as it was; run with --verbose for "
          "the traceback and report it)", file=sys.stderr)
    return 1


def _run(args) -> int:
    """Check OUT and the input sizes, then run the command in a staging folder against the region's window."""
    from geo.collector import fewer_collections
    from geo.io.extent import region_window
    from geo.io.output import OutputSet, check_output_folder

    if args.command not in STAGED:
        if args.command == "bench":
            check_output_folder(args.out)
        return args.func(args)
    outputs = OutputSet(args.out)
    final, staging = args.out, outputs.open()
    try:
        _check_sizes(args)
        window = None if args.command in WITHOUT_REGION else _window_of(args)
        with region_window(window):
            _precheck(args)
        if args.command not in WITHOUT_REGION:
            _load_region(args)
        args.out = staging
        pairs = path_pairs(staging, final)
        try:
            with shown_as(pairs), region_window(window), fewer_collections():
                status = args.func(args)
        except InputError as exc:       # name OUT, not the staging folder
            raise type(exc)(replace_all(exc.path, pairs), replace_all(exc.problem, pairs)) from exc
        except OSError as exc:
            exc.filename = replace_all(exc.filename, pairs)
            raise
        if status == 0:
            outputs.commit()
        return status
    finally:
        args.out = final
        outputs.discard()


def _precheck(args) -> None:
    """Small inputs the command would read only after building its network: read (and checked) now, so a bad
    one fails in a second. The DEM's header is checked, not its pixels."""
    from geo.io.vector import read_vector

    files = [getattr(args, "scenario_file", None), getattr(args, "interchanges", None), getattr(args, "communes", None),
             getattr(args, "logistics", None), *(getattr(args, "roads", None) or [])]
    scenario = getattr(args, "scenario", None)
    files += scenario if isinstance(scenario, list) else [scenario]
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)          # the command reads them again and says what it finds
    try:
        for path in files:
            if path is not None:
                read_vector(path)
    finally:
        logging.disable(previous)
    if getattr(args, "dem", None) is not None:
        from geo.io.raster import check_raster

        check_raster(args.dem)
    if args.command == "isochrones":          # KEY or LON,LAT origins: degrees, inside the region's window
        from bgplan.analyses import isochrone_origins
        from bgplan.commands import isochrone_options
        from geo.io.extent import check_points

        options = isochrone_options(args)
        if options.parks is not None and not options.all_parks:
            raise InputError(args.parks, "--parks gives the origins of --all-parks: add --all-parks, or give --from")
        if not options.all_parks:
            origins = isochrone_origins(_load_region(args), options)
            check_points(origins.geometry.x.to_numpy(), origins.geometry.y.to_numpy(), "--from", what="origin(s)")


def _window_of(args):
    """The region's window (geo.io.extent.Window) that user files must overlap; None when the region cannot say."""
    from geo.io.extent import Window
    from layers.boundaries import region_window
    from layers.region import BUNDLED_DATA_DIR

    region = _load_region(args)
    try:
        west, south, east, north = region_window(region).bounds
    except InputError as exc:      # the command reports the missing boundary itself
        log.debug("no region window to check inputs against: %s", exc)
        return None
    # the region's destinations belong to its analyses (e.g. Lạch Huyện port, south of the window), and so do
    # the roads that reach them: the window takes them in, with a margin of about 10 km
    destinations = region.destinations() if region.config.get("destinations") else None
    if destinations is not None and len(destinations):
        dw, ds, de, dn = destinations.total_bounds
        margin = 0.1
        west, south, east, north = min(west, dw - margin), min(south, ds - margin), max(east, de + margin), max(north, dn + margin)
    import layers

    shipped = Path(layers.__file__).resolve().parent          # shipped scenarios, roads opened since 2018
    return Window(west, south, east, north, name=region.id, data_folders=(region.data_dir, BUNDLED_DATA_DIR, shipped))


def _check_sizes(args) -> None:
    """Inputs above the stated limits need --allow-large; the message says what to expect."""
    if args.allow_large:
        return
    for option in ("parks", "origins", "destinations") if args.command == "matrix" else ("parks",):
        path = getattr(args, option, None)
        count = _feature_count(path) if path is not None else None
        if count is not None and count > settings.max_points:
            raise InputError(path, f"{count:,} features for --{option}: more than the {settings.max_points:,} a run takes "
                                   f"without --allow-large; expect about {count * 3.45e-3 / 60:,.0f} min and "
                                   f"{count * 100e3 / 1e9:,.1f} GB of memory for access (100,000 parks took 345 s and 10 GB)")
    runs = getattr(args, "runs", None)
    if args.command == "sensitivity" and isinstance(runs, int) and runs > settings.max_sensitivity_runs:
        raise InputError(None, f"--runs {runs:,}: more than the {settings.max_sensitivity_runs:,} runs allowed without "
                               f"--allow-large; expect about {runs * 14.4e-3 / 3600:,.1f} h at 250 m cells "
                               "(1,000,000 runs: about 4 hours)")


def _feature_count(path) -> int | None:
    """Features of a vector file (rows of a CSV), counted without reading it; None when unknown."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        if path.suffix.lower() == ".csv":
            with open(path, "rb") as f:
                return max(sum(1 for _ in f) - 1, 0)
        import pyogrio

        count = int(pyogrio.read_info(path)["features"])
        return count if count >= 0 else None
    except Exception:      # unreadable: the reader says why, with the file's name
        return None


def _refuse_unused(args) -> None:
    """A shared option the subcommand does not use, given anyway: one line naming it (exit 2), nothing run."""
    honoured = set(HONOURS[args.command]) | {"quiet", "verbose"}
    for dest, (flags, spec) in SHARED.items():
        value = getattr(args, dest, None)
        if dest not in honoured and value not in (None, False, []):
            why = WHY_NOT.get(args.command, "")
            raise InputError(None, f"{flags[0]} is not used by '{args.command}'" + (f": {why}" if why else ""))


#: Values of the shared options when not given (--network stays None: 'today', or a scenario's own network).
DEFAULTS = {"region": "bac-giang", "boundaries": "open", "out": Path("out"), "roads": [], "vehicle": "car"}


def _resolve(args) -> None:
    """Defaults of the shared options; for the commands that read a region, the region (``args.region_obj``) and
    the network options (``args.network_options``), checked now: a missing file fails before any work."""
    from layers.region import DEFAULT_DATA_DIR

    for dest, value in DEFAULTS.items():
        if getattr(args, dest, None) is None:
            setattr(args, dest, value)
    if args.data is None:
        args.data = DEFAULT_DATA_DIR
    for path in (args.osm, args.parks):
        if path is not None and not Path(path).exists():
            raise InputError(path, "file not found")
    args.network_options = None
    if "network" in HONOURS[args.command] and "speeds" in HONOURS[args.command]:
        from layers.networks import NetworkOptions

        args.network_options = NetworkOptions(network=args.network or "today", roads=tuple(args.roads),
                                              speeds=args.speeds, vehicle=args.vehicle, osm=args.osm)


def _load_region(args):
    """The region named by --region/--data/--boundaries, loaded once per command."""
    if getattr(args, "region_obj", None) is None:
        from layers.region import load_region

        args.region_obj = load_region(args.region, data_dir=args.data, boundaries=args.boundaries)
    return args.region_obj

