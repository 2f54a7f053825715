#!/usr/bin/env python
"""Command line of the planning tool: ``python scripts/plan.py SUBCOMMAND``.

Only wiring lives here: parse options, call ``layers``/``geo``, report.
Errors about inputs are printed as one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import logging
import os
import signal
import sys
import threading
from pathlib import Path

if __package__ in (None, ""):  # run as a file (python scripts/plan.py): make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geo import settings  # noqa: E402
from geo.errors import InputError  # noqa: E402

log = logging.getLogger("plan")


def _common_options() -> argparse.ArgumentParser:
    from layers.region import DEFAULT_DATA_DIR, available_regions

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--region", default="bac-giang",
                        help=f"region definition: one of {', '.join(available_regions())}, or a .yaml file (default: bac-giang)")
    common.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR,
                        help="folder with the source files, laid out like ../shared/data (default: $BGPLAN_DATA, else the open-data bundle data/)")
    common.add_argument("--boundaries", choices=["open", "gadm"], default="open",
                        help="boundary set: open (geoBoundaries, CC BY 3.0 IGO, carried in data/) or gadm (GADM 4.1; needs --data with it)")
    common.add_argument("--osm", type=Path, default=None,
                        help="an OpenStreetMap extract (.osm, .osm.bz2 or .osm.pbf); adds OSM-tagged corridors, park outlines, built-up areas")
    common.add_argument("--parks", type=Path, default=None,
                        help="your own park list or outlines (GeoJSON, GeoPackage, Shapefile or CSV with lon/lat; any CRS), used instead of the shipped registry")
    common.add_argument("--out", type=Path, default=Path("out"), help="output folder (default: ./out)")
    common.add_argument("--network", choices=["today", "2018"], default="today",
                        help="road network: 'today' (the 2018 file plus roads opened since, e.g. CT.01; default) or '2018'")
    common.add_argument("--roads", type=Path, action="append", default=[], metavar="FILE",
                        help="a road-class overlay: lines with ref/name/highway/maxspeed, any CRS, map-matched onto the network; repeatable")
    common.add_argument("--speeds", type=Path, default=None, metavar="FILE",
                        help="a speed model YAML instead of the region's (e.g. OUT/speeds-calibrated.yaml from 'calibrate')")
    common.add_argument("--allow-large", action="store_true",
                        help=f"run inputs above the stated limits (more than {settings.max_points:,} parks/origins/destinations, "
                             f"more than {settings.max_sensitivity_runs:,} sensitivity runs), which take long and much memory")
    common.add_argument("--vehicle", choices=["car", "truck"], default="car",
                        help="speeds for a car / light goods vehicle (default) or a truck (tractor with semi-trailer: legal "
                             "limits by vehicle type, the region's vehicle_speed_models.truck)")
    common.add_argument("--quiet", action="store_true", help="no progress bars, warnings and errors only")
    common.add_argument("--verbose", action="store_true", help="debug logging")
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common_options()
    parser = argparse.ArgumentParser(
        prog="plan.py",
        description="Planning layers, corridor access and siting for industrial parks in Bắc Giang (Vietnam).",
        epilog="Run 'plan.py SUBCOMMAND --help' for the options of one subcommand.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="SUBCOMMAND")

    p = sub.add_parser("layers", parents=[common], help="build the planning layers into OUT/layers.gpkg",
                       description="Build boundaries, industrial parks, corridors, railways, stations, water, urban areas and "
                                   "population from the --data folder (and --osm when given); write OUT/layers.gpkg "
                                   "(EPSG:4326, opens in QGIS), OUT/population.tif and OUT/layers_summary.json.")
    p.add_argument("--scenario", type=Path, action="append", default=[], metavar="FILE",
                   help="a line file of planned corridors (columns: name, road_class, design_speed_kmh); repeatable")
    p.add_argument("--logistics", type=Path, default=None, metavar="FILE",
                   help="points of dry ports / ICD / logistics centres (column kind: dry_port, icd, logistics_centre)")
    p.set_defaults(func=cmd_layers)

    a = sub.add_parser("access", parents=[common], help="corridor access report per industrial park → OUT/access.csv, OUT/access.gpkg",
                       description="Minutes from every park to the nearest CT.01 interchange, QL1A, QL37, Kép station, Bắc Giang "
                                   "city, Hà Nội, Nội Bài, Lạch Huyện port and the Đồng Đăng border (by road, and by road + rail "
                                   "through stations), and people within 30 and 45 minutes. What is measured is the region's "
                                   "'access:' section; speeds come from its speed model.")
    a.add_argument("--no-rail", action="store_true", help="skip the road + rail columns (faster)")
    a.set_defaults(func=cmd_access)

    m = sub.add_parser("matrix", parents=[common], help="travel-time matrix (tidy table) → OUT/matrix.csv",
                       description="Minutes by road from many origins to many destinations as a tidy table "
                                   "(origin, destination, minutes, reason). Defaults: the industrial parks to the region's destinations.")
    m.add_argument("--origins", type=Path, default=None, metavar="FILE", help="origin points (any vector file or CSV with lon/lat; column 'name')")
    m.add_argument("--destinations", type=Path, default=None, metavar="FILE", help="destination points (default: the region's key destinations)")
    m.set_defaults(func=cmd_matrix)

    s = sub.add_parser("scenario", parents=[common], help="what a planned road changes: access before / after / change",
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

    i = sub.add_parser("isochrones", parents=[common], help="areas reachable within 15/30/45/60 minutes → OUT/isochrones.gpkg",
                       description="Polygons reachable by road within each time from each origin, with the people inside "
                                   "(WorldPop 2020 rescaled to the 2019 census). Origins: region destinations by key "
                                   "(kep_station, bac_giang_city …), 'LON,LAT' points, or --all-parks.")
    i.add_argument("--from", dest="origins", action="append", default=None, metavar="KEY|LON,LAT",
                   help="an origin; repeatable (default: kep_station)")
    i.add_argument("--all-parks", action="store_true", help="one set of isochrones per industrial park")
    i.add_argument("--minutes", type=_positive_minutes, nargs="+", default=[15, 30, 45, 60],
                   help="thresholds in minutes (default: 15 30 45 60)")
    i.set_defaults(func=cmd_isochrones)

    b = sub.add_parser("bench", parents=[common], help="benchmarks: routing vs networkx, siting vs a per-cell loop → OUT/bench*.json",
                       description="Run the benchmark scripts (ratios against a baseline in the same run, plus peak memory): "
                                   "routing on the real network and a generated 200,000-node one (OUT/bench.json), scoring and "
                                   "locating 100,000 cells (OUT/bench_siting.json), 1,000 Monte Carlo weightings and a scenario batch in-process "
                                   "vs 1 and 2 Dask workers (OUT/bench_dask.json). Takes about ten minutes. Page sizes and first "
                                   "paint: scripts/bench_maps.py.")
    b.add_argument("--quick", action="store_true", help="a smaller generated network (for a fast look)")
    b.set_defaults(func=cmd_bench)

    g = sub.add_parser("site", parents=[common], help="suitability grid and ranked candidate sites → OUT/sites.gpkg, OUT/sites.csv",
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

    _add_sensitivity_parser(sub, common)

    mp = sub.add_parser("map", parents=[common], help="the planner's interactive map → OUT/map.html",
                        description="One self-contained HTML map of OUT/layers.gpkg (run 'layers' first) with every analysis "
                                    "found in OUT (access.gpkg, scenario.gpkg, isochrones.gpkg, sites.gpkg): layer groups, legends, "
                                    "popups in Vietnamese and English. Works offline (Leaflet is inlined; tiles are optional).")
    mp.set_defaults(func=cmd_map)

    pb = sub.add_parser("publish", parents=[common], help="the public website → OUT/site/index.html + one page per map",
                        description="A static site (no server code) of the maps and an indicators page, with only the public "
                                    "attributes of maps/publish.yaml (or --config) and visible attribution.")
    pb.add_argument("--config", type=Path, default=None, metavar="FILE", help="publishing allow-list (default: maps/publish.yaml)")
    pb.add_argument("--include-restricted", action="store_true",
                    help="also publish layers whose redistribution is 'not allowed' (every page then says so)")
    pb.set_defaults(func=cmd_publish)

    rn = sub.add_parser("run", parents=[common], help="everything in order: layers, access, scenario, isochrones, site, map, publish",
                        description="The main job: build the layers, the corridor access report, the indicative CT.01 scenario, "
                                    "isochrones from Kép and Bắc Giang city and candidate sites (logistics-heavy profile), then the "
                                    "planner map and the published site.")
    rn.add_argument("--no-analyses", action="store_true", help="layers, map and site only")
    rn.set_defaults(func=cmd_run)

    sv = sub.add_parser("serve", parents=[common], help="the live scenario editor: sketch a road on the map, see what it changes",
                        description="A local web application (http://127.0.0.1:PORT/): the planner map with a drawing tool to "
                                    "sketch roads and interchanges, evaluated against the region's network in a fraction of a "
                                    "second — parks and communes before / after, a minutes-saved grid, isochrones, the largest "
                                    "gains; 'save as scenario' gives the GeoJSON 'scenario FILE' reads. API: GET /api/health, "
                                    "GET /api/options, POST /api/scenario, POST /api/isochrones (README: 'serve').")
    sv.add_argument("--host", default="127.0.0.1",
                    help="address to listen on (default 127.0.0.1, this machine only; the editor has no authentication)")
    sv.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    sv.set_defaults(func=cmd_serve)

    cm = sub.add_parser("communes", parents=[common], help="the 2025 communes: population, parks → OUT/communes.csv, OUT/communes.gpkg",
                        description="One row per 2025 commune/ward of the region (needs a 'communes:' section, e.g. bac-ninh-2025): "
                                    "2019 census population mapped 2019 → 2024 → 2025 (with ranges where inferred), parks; "
                                    "OUT/communes_mapping.csv lists each 2019 commune's 2025 commune and how it was found.")
    cm.add_argument("--communes", type=Path, default=None, metavar="FILE",
                    help="commune polygons (any vector file with a 'code' (GSO 2025) or 'name' column); default: points")
    cm.set_defaults(func=cmd_communes)

    f = sub.add_parser("fetch", parents=[common], help="download the public sources into a cache folder",
                       description="Download the public sources (OSM, GADM 4.1, WorldPop 1 km …) into a folder with the "
                                   "--data layout. Offline, it says which files to put where.")
    f.add_argument("--dest", type=Path, default=None, help="where to put the files (default: the cache folder)")
    f.add_argument("--mirror", action="append", default=None, metavar="URL",
                   help="base URL of a mirror laid out like the --data folder (intranet); repeatable; replaces the upstream hosts")
    f.add_argument("--only", action="append", default=None, metavar="FILE",
                   help="fetch only this file (name or shell pattern, e.g. 'worldpop_*'); repeatable. "
                        "The whole-country OSM extract osm/vietnam-latest.osm.pbf is fetched only when named here")
    f.set_defaults(func=cmd_fetch)

    v = sub.add_parser("validate", parents=[common], help="modelled vs observed travel times → OUT/validation.csv, OUT/validation.json",
                       description="Route every observation (origin/destination coordinates, km, minutes_min, minutes_max, route, "
                                   "source; format of observed_travel_times.csv) on the road network and compare: model_km, "
                                   "model_minutes, the relative distance error and the time error outside the observed range.")
    v.add_argument("--observed", type=Path, default=None, metavar="FILE",
                   help="observations CSV (default: the region's validation.observed_file)")
    v.set_defaults(func=cmd_validate)

    c = sub.add_parser("calibrate", parents=[common], help="fit the assumed speeds to observed times → OUT/speeds-calibrated.yaml",
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


def cmd_layers(args) -> int:
    from layers.build import build_layers, summary_lines, write_layers
    from layers.region import load_region

    region = load_region(args.region, data_dir=args.data, boundaries=args.boundaries)
    _check_inputs(args.osm, args.parks, args.logistics, *args.scenario)
    result = build_layers(region, osm=args.osm, parks_file=args.parks, scenario_files=args.scenario,
                          logistics_file=args.logistics, network=args.network)
    paths = write_layers(result, args.out)
    counts = ", ".join(f"{k} {v['features']}" for k, v in result.summary["layers"].items())
    print("\n".join(summary_lines(result.summary)))
    print(f"wrote {paths['layers']} ({counts}), {paths.get('population', '')}, {paths['summary']}")
    return 0


def _check_inputs(*paths) -> None:
    for path in paths:
        if path is not None and not Path(path).exists():
            raise InputError(path, "file not found")


def _analysis_inputs(args, with_rail=True):
    """Region, parks, networks and population shared by access/matrix/scenario."""
    from layers import networks, parks, population
    from layers.region import load_region

    region = load_region(args.region, data_dir=args.data, boundaries=args.boundaries)
    _check_inputs(args.osm, args.parks)
    park_layer = parks.region_parks(region, parks_file=args.parks, osm=args.osm)
    _report_unplaced(park_layer)
    net = networks.build_networks(region, osm=args.osm, with_rail=with_rail, options=_network_options(args))
    if "population_raster" not in region.config:  # a region without population data: catchments unknown
        return region, park_layer, net, None
    array, profile, _ = population.population_raster(region)
    return region, park_layer, net, (array, profile)


def _report_unplaced(park_layer) -> None:
    """Name on stderr the sourced parks that have no position (left out of every per-park figure), and how to give them."""
    without = (park_layer.attrs.get("summary") or {}).get("without_position") or []
    if without:
        names = ", ".join(w["name"] for w in without)
        print(f"note: {len(without)} sourced park(s) have no position and are left out of per-park figures: {names} "
              "(reasons in layers_summary.json; give positions with --parks FILE)", file=sys.stderr)


def _network_options(args):
    """--network, --roads and --speeds as a checked options object."""
    from layers.networks import NetworkOptions

    return NetworkOptions(network=getattr(args, "network", "today"), roads=tuple(getattr(args, "roads", []) or ()),
                          speeds=getattr(args, "speeds", None), vehicle=getattr(args, "vehicle", "car"))


def _observations(args, region):
    from geo.io.extent import check_points
    from layers.validation import observations_file, read_observations

    path = args.observed if args.observed else observations_file(region)
    table = read_observations(path)
    check_points(table[["origin_lon", "destination_lon"]].to_numpy().ravel(),
                 table[["origin_lat", "destination_lat"]].to_numpy().ravel(), path, what="observation end points")
    return table


def cmd_validate(args) -> int:
    from layers import networks
    from layers.region import load_region
    from layers.validation import validate, write_validation

    region = load_region(args.region, data_dir=args.data)
    _check_inputs(args.osm)
    observations = _observations(args, region)
    net = networks.build_networks(region, osm=args.osm, with_rail=False, options=_network_options(args))
    table = validate(region, net, observations)
    paths = write_validation(table, args.out, extra={"observed_file": observations.attrs.get("source_file")})
    s = table.attrs["summary"]
    print(f"{s['observations']} observations on {s['network']}")
    print(f"median |distance error| {s['median_abs_km_error']}, median |time error outside the observed range| "
          f"{s['median_abs_minutes_error']} ({s['rows_inside_time_range']} of {s['rows_with_time']} times inside their range)")
    print(f"wrote {paths['csv']}, {paths['json']}")
    return 0


def cmd_calibrate(args) -> int:
    from geo.io.output import write_json
    from layers import networks
    from layers.calibration import calibrate, write_calibrated_model
    from layers.region import load_region

    region = load_region(args.region, data_dir=args.data)
    _check_inputs(args.osm)
    observations = _observations(args, region)
    net = networks.build_networks(region, osm=args.osm, with_rail=False, options=_network_options(args))
    result = calibrate(region, net, observations, leave_one_out=not args.no_leave_one_out)
    model_path = write_calibrated_model(result, args.out / "speeds-calibrated.yaml", observed_file=observations.attrs.get("source_file"))
    write_json({**result.summary, "rows": result.rows.to_dict(orient="records")}, args.out / "calibration.json")
    print(result.parameters.drop(columns="basis").to_string(index=False))
    s = result.summary
    print(f"median |time error|: before {s['median_abs_minutes_error_before']}, after {s['median_abs_minutes_error_after']}, "
          f"leave-one-out {s['median_abs_minutes_error_leave_one_out']}")
    print(f"wrote {model_path} (use it with --speeds) and {args.out / 'calibration.json'}")
    return 0


def _write_access(report, out: Path) -> None:
    from geo.io.output import write_csv, write_geopackage

    write_csv(report, out / "access.csv")
    write_geopackage({"access": report}, out / "access.gpkg")


def _write_scenario(result, out: Path) -> None:
    from geo.io.output import write_csv, write_geopackage

    write_csv(result.change, out / "scenario.csv")
    write_geopackage({"access_change": result.change, "planned_roads": result.roads, "interchanges": result.interchanges},
                     out / "scenario.gpkg")


def cmd_access(args) -> int:
    region, park_layer, net, pop = _analysis_inputs(args, with_rail=not args.no_rail)
    from layers.access import access_report

    report = access_report(region, park_layer, net, population=pop)
    _write_access(report, args.out)
    s = report.attrs["summary"]
    print(f"access for {s['origins']} parks ({s['not_connected']} not connected to the network); median minutes: "
          + ", ".join(f"{k} {v}" for k, v in s["median_minutes"].items()))
    for key, why in s["missing_targets"].items():
        print(f"  no time to {key}: {why}")
    print(f"wrote {args.out / 'access.csv'}, {args.out / 'access.gpkg'}")
    return 0


def cmd_matrix(args) -> int:
    from geo.io.output import write_csv
    from geo.io.vector import read_vector
    from layers.access import travel_time_matrix

    _check_inputs(args.origins, args.destinations)
    origins = read_vector(args.origins, what="origins") if args.origins else None          # read (and checked) before the network
    destinations = read_vector(args.destinations, what="destinations") if args.destinations else None
    region, park_layer, net, _ = _analysis_inputs(args, with_rail=False)
    if origins is None:
        origins = park_layer
    if len(origins) == 0:
        source = args.origins or "the parks layer"
        raise InputError(source, "no origin to measure from (no park has a position: give --origins FILE or --parks FILE)"
                         if args.origins is None else "no origin in the file")
    destinations = region.destinations().rename(columns={"key": "name"}) if destinations is None else destinations
    table = travel_time_matrix(region, net, origins, destinations)
    write_csv(table, args.out / "matrix.csv")
    print(f"{len(table)} pairs, {table['minutes'].notna().sum()} with a time; wrote {args.out / 'matrix.csv'}")
    return 0


def cmd_scenario(args) -> int:
    from layers.scenario import run_scenario

    if args.batch:
        return cmd_scenario_batch(args)
    from layers.pipeline import run_steps, scenario_path
    from layers.region import load_region

    _check_inputs(args.scenario_file, args.interchanges)
    if args.sketch_from or args.sketch_to:       # a road through --from [--via …] --to, as sketched on the map
        args.scenario_file = _sketch_file(args)
    if args.scenario_file is None:  # the region's default comparison, on the network it names
        region = load_region(args.region, data_dir=args.data, boundaries=args.boundaries)
        cfg = run_steps(region)
        args.scenario_file = scenario_path(region, cfg["scenario"]) if cfg["scenario"] else None
        if args.scenario_file is None:
            raise InputError(None, "no scenario file given and the region's run: section names none")
        args.network = str(cfg["scenario_network"] or args.network)
    region, park_layer, net, pop = _analysis_inputs(args, with_rail=False)
    result = run_scenario(region, net, park_layer, args.scenario_file, population=pop, interchanges_path=args.interchanges)
    _write_scenario(result, args.out)
    print("\n".join(_scenario_lines(result.change)))
    sketch = f", {args.scenario_file}" if args.sketch_from else ""
    print(f"wrote {args.out / 'scenario.csv'}, {args.out / 'scenario.gpkg'}{sketch}")
    return 0


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


def _sketch_file(args) -> Path:
    """OUT/scenario_sketch.geojson for --from/--via/--to (checked as a sketch drawn on the map), the file to evaluate."""
    from geo.io.output import write_json
    from layers.region import load_region
    from maps.serve.engine import sketch_from_points
    from maps.serve.sketch import SketchError

    if not (args.sketch_from and args.sketch_to) or args.scenario_file is not None:
        raise InputError(None, "give both --from and --to (and no scenario FILE) for a road between two points")
    points = [_lonlat(text, option) for option, text in
              [("--from", args.sketch_from), *[("--via", v) for v in args.sketch_via], ("--to", args.sketch_to)]]
    region = load_region(args.region, data_dir=args.data, boundaries=args.boundaries)
    try:
        sketch = sketch_from_points(region, _network_options(args), points, road_class=args.road_class,
                                    design_speed_kmh=args.design_speed, name=args.name)
    except SketchError as exc:
        raise InputError("--from/--via/--to", str(exc)) from None
    path = args.out / "scenario_sketch.geojson"
    write_json(sketch.feature_collection(source="plan.py scenario --from/--to"), path)
    return path


def _lonlat(text: str, option: str) -> tuple[float, float]:
    try:
        lon, lat = (float(v) for v in str(text).split(","))
    except ValueError:
        raise InputError(option, f"'{text}' is not LON,LAT (e.g. 106.41024,21.29643)") from None
    return lon, lat


def _scenario_lines(change) -> list[str]:
    """What a scenario changed, in words: each planned road and its ends, parks faster by target, the largest gains,
    and the monotone check."""
    s = change.attrs["summary"]
    lines = []
    for road in s["roads"]:
        ends = "; ".join(f"{w}: {road[f'{w}_joins']}" for w in ("start", "end") if road.get(f"{w}_joins"))
        lines.append(f"planned: {road['name']} ({road['road_class']}) — {road['length_km']:g} km at "
                     f"{road['design_speed_kmh']:g} km/h, {road['access_points']} access point(s)" + (f"; {ends}" if ends else ""))
    faster = ", ".join(f"{n} to {k.removeprefix('minutes_to_')}" for k, n in s["parks_faster"].items() if n)
    lines.append(f"parks at least half a minute faster (of {len(change)}): "
                 + (faster or "none — no park gains half a minute to any target"))
    gains = []
    for column in [c for c in change.columns if c.startswith("minutes_to_") and c.endswith("_change")]:
        target = column.removeprefix("minutes_to_").removesuffix("_change")
        for name, saved in zip(change["name"], -change[column]):
            if saved >= 0.5:
                gains.append((saved, name, target))
    if gains:
        lines.append("largest gains: " + "; ".join(f"{n} −{v:.1f} min to {t}" for v, n, t in sorted(gains, key=lambda g: (-g[0], g[1], g[2]))[:5]))
    lines.append(f"trips made longer: {s['parks_slower']}, catchments made smaller: {s['catchments_smaller']} "
                 "(adding a road never does either)")
    return lines


def cmd_serve(args) -> int:
    """The live scenario editor (maps/serve): load the region once, answer sketches until stopped."""
    from maps.serve import serve
    from maps.serve.engine import EngineOptions

    _check_inputs(args.parks, args.osm)
    if args.osm is not None:
        raise InputError(args.osm, "serve does not read --osm extracts yet (it uses the data folder's network)")
    options = EngineOptions(region=args.region, data_dir=args.data, boundaries=args.boundaries,
                            network=_network_options(args), parks_file=args.parks)
    try:
        return serve(options, host=args.host, port=args.port, log_level="debug" if args.verbose else "warning")
    except Terminated:      # uvicorn shut down gracefully, then re-raised the signal: serve writes nothing, a clean stop
        return 0


def cmd_isochrones(args) -> int:
    from geo.io.output import write_geopackage
    from layers.access import isochrones_from
    from layers.pipeline import origin_points

    from layers.region import load_region

    origins = None
    if not args.all_parks:      # KEY or LON,LAT origins: degrees, inside the region's window — checked before the network
        from geo.io.extent import check_points

        region = load_region(args.region, data_dir=args.data, boundaries=args.boundaries)
        origins = origin_points(region, args.origins or region.run_section().get("isochrone_origins", ["kep_station"])[:1])
        check_points(origins.geometry.x.to_numpy(), origins.geometry.y.to_numpy(), "--from", what="origin(s)")
    region, park_layer, net, pop = _analysis_inputs(args, with_rail=False)
    origins = park_layer[["name", "geometry"]] if args.all_parks else origins
    iso = isochrones_from(region, net, origins, minutes=sorted(args.minutes), population=pop)
    write_geopackage({"isochrones": iso}, args.out / "isochrones.gpkg")
    for row in iso.itertuples():
        people = f", {row.people_within:,.0f} people within" if hasattr(row, "people_within") and row.people_within == row.people_within else ""
        print(f"{row.name}: {row.minutes:g} min → {row.area_km2:,.1f} km²{people}" if row.reason is None or row.reason != row.reason
              else f"{row.name}: {row.reason}")
    print(f"wrote {args.out / 'isochrones.gpkg'}")
    return 0


def cmd_bench(args) -> int:
    from scripts import bench_routing, bench_siting

    argv = ["--out", str(args.out), "--data", str(args.data)]
    if args.quick:
        argv += ["--grid-side", "150"]
    status = bench_routing.main(argv)
    status = status or bench_siting.main(["--out", str(args.out)])
    from scripts import bench_dask  # Monte Carlo sensitivity and scenario batch: in-process vs 1 and 2 Dask workers → OUT/bench_dask.json

    quick = ["--cell-size", "500", "--runs", "200", "--no-scenarios"] if args.quick else []
    return status or bench_dask.main(["--out", str(args.out), "--data", str(args.data), "--region", str(args.region), *quick])


def cmd_site(args) -> int:
    from layers.region import load_region
    from layers.siting import run_siting, summary_lines, write_siting

    region = load_region(args.region, data_dir=args.data, boundaries=args.boundaries)
    _check_inputs(args.osm, args.parks, args.scenario, args.interchanges, args.protected_forest, args.heritage, args.dem,
                  args.communes)
    layers = {"rice_land": args.rice_land, "settlements": args.settlements, "flood": args.flood}
    for item in args.layer:
        name, sep, file = item.partition("=")
        if not sep or not name or not file:
            raise InputError(None, f"--layer {item}: give NAME=FILE (e.g. substations=substations.gpkg)")
        layers[name.strip()] = Path(file.strip())
    result = run_siting(region, args.profile, cell_m=args.cell_size, scenario=args.scenario, interchanges=args.interchanges,
                        layers={k: v for k, v in layers.items() if v is not None},
                        parks_file=args.parks, protected_file=args.protected_forest, heritage_file=args.heritage,
                        dem_file=args.dem, use_dem=not args.no_dem, osm=args.osm, min_area_ha=args.min_area_ha,
                        max_area_ha=args.max_area_ha, top_n=args.top, top_share=args.top_share, min_score=args.min_score,
                        min_spacing_km=args.min_spacing_km, max_per_district=args.max_per_district,
                        max_per_commune=args.max_per_commune, district=args.district, commune=args.commune,
                        communes_file=args.communes, sensitivity=not args.no_sensitivity, workers=args.workers,
                        network=_network_options(args))
    paths = write_siting(result, args.out)
    print("\n".join(summary_lines(result)))
    print("wrote " + ", ".join(str(p) for p in paths.values()))
    return 0


# ---------------------------------------------------------------- sensitivity and scenario batches (Dask)

def _add_scheduler_options(p) -> None:
    p.add_argument("--scheduler", default="none", metavar="none|local|ADDRESS",
                   help="where the runs execute: none (this process), local (a Dask LocalCluster on this machine) or the "
                        "address of a Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: none)")
    p.add_argument("--dask-workers", type=int, default=2, metavar="N", help="worker processes for --scheduler local (default 2)")


def _add_sensitivity_parser(sub, common) -> None:
    from geo.siting.montecarlo import MonteCarloOptions

    d = MonteCarloOptions()
    p = sub.add_parser("sensitivity", parents=[common], help="Monte Carlo weight sensitivity of the siting → OUT/sensitivity.*",
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


def cmd_sensitivity(args) -> int:
    from geo.cluster import SchedulerOptions, open_session
    from geo.siting.montecarlo import MonteCarloOptions
    from layers.region import load_region
    from layers.sensitivity import run_sensitivity, summary_lines, write_sensitivity
    from layers.siting import load_profile, run_siting, write_siting

    options = MonteCarloOptions(runs=args.runs, seed=args.seed, concentration=args.concentration, chunk_runs=args.chunk_runs)
    region = load_region(args.region, data_dir=args.data)
    _check_inputs(args.osm, args.parks, args.scenario, args.interchanges)
    profile = load_profile(args.profile, region)
    locate = {"min_area_ha": args.min_area_ha, "max_area_ha": args.max_area_ha, "top_n": args.top,
              "top_share": args.top_share, "min_score": args.min_score}
    with open_session(SchedulerOptions(args.scheduler, args.dask_workers)) as session:   # fails fast if unreachable
        siting = run_siting(region, args.profile, cell_m=args.cell_size, scenario=args.scenario, interchanges=args.interchanges,
                            parks_file=args.parks, use_dem=not args.no_dem, osm=args.osm, sensitivity=False, **locate)
        result = run_sensitivity(siting, profile, options, session, locate_overrides=locate)
    write_siting(siting, args.out)
    paths = write_sensitivity(result, args.out)
    print("\n".join(summary_lines(result)))
    print("wrote " + ", ".join(str(p) for p in paths.values()) + f" and {args.out / 'sites.gpkg'}")
    return 0


def cmd_scenario_batch(args) -> int:
    from geo.cluster import SchedulerOptions, open_session
    from geo.io.output import write_csv
    from layers.scenario_batch import run_scenario_batch, scenario_files

    files = scenario_files(args.batch)
    with open_session(SchedulerOptions(args.scheduler, args.dask_workers)) as session:   # fails fast if unreachable
        region, park_layer, net, pop = _analysis_inputs(args, with_rail=False)
        table = run_scenario_batch(region, net, park_layer, files, population=pop, session=session)
    write_csv(table, args.out / "scenario_batch.csv")
    print(table[["rank", "scenario", "park_minutes_saved", "people_within_30_min_gained", "parks_faster"]].to_string(index=False))
    print(f"wrote {args.out / 'scenario_batch.csv'}")
    return 0


def cmd_map(args) -> int:
    from maps.planner import write_planner_map

    path = write_planner_map(args.out)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


def cmd_publish(args) -> int:
    from maps.publish import publish_site

    _check_inputs(args.config)
    result = publish_site(args.out, config=args.config, include_restricted=args.include_restricted)
    for name, size in result["pages"].items():
        print(f"  {name}: {size / 1e6:.2f} MB")
    if result["over_budget"]:
        print(f"warning: over the 5 MB page budget: {', '.join(result['over_budget'])}", file=sys.stderr)
    print(f"wrote {result['site'] / 'index.html'}")
    return 0


def cmd_run(args) -> int:
    """Everything in order (see maps.run); each step writes into OUT so a later one (or QGIS) can start from it."""
    from layers.pipeline import RunOptions
    from maps.run import run

    run(RunOptions(region=args.region, data_dir=args.data, boundaries=args.boundaries, osm=args.osm,
                   parks_file=args.parks, out=args.out, analyses=not args.no_analyses, network=_network_options(args)))
    return 0


def cmd_communes(args) -> int:
    from layers import networks, parks, population
    from layers.pipeline import write_communes
    from layers.region import load_region

    region = load_region(args.region, data_dir=args.data, boundaries=args.boundaries)
    _check_inputs(args.parks, args.communes)
    array, profile, _ = population.population_raster(region)          # access by commune (layers/commune_access.py)
    net = networks.build_networks(region, with_rail=False)
    park_layer = parks.industrial_parks(region, parks_file=args.parks)
    _report_unplaced(park_layer)
    report = write_communes(region, park_layer, args.out, args.communes, net=net, population=(array, profile))
    s = report.attrs["summary"]
    print(f"communes: {s['units']} units ({s['phuong']} phường, {s['xa']} xã), population 2019 {s['population_2019']:,.0f}; "
          f"{s['communes_2019_inferred']} of {s['communes_2019']} 2019 communes placed by inference (ranges given); "
          f"{s['units_without_location']} without a location; access by method {(s.get('access') or {}).get('units_by_access_method')} "
          f"→ {args.out / 'communes.csv'}")
    return 0


def cmd_fetch(args) -> int:
    from layers.sources import fetch

    dest = args.dest or settings.cache_folder / "data"
    from layers.region import BUNDLED_DATA_DIR

    report = fetch(dest, base_urls=args.mirror or None, only=args.only or None, progress=settings.progress,
                   bundle_dir=BUNDLED_DATA_DIR)
    print(report[["file", "status", "bytes"]].to_string(index=False))
    print(f"data folder ready: {dest} (use --data {dest})")
    return 0


#: Commands that write into OUT through a staging folder (geo.io.output.OutputSet); fetch writes into --dest.
STAGED = {"layers", "access", "matrix", "scenario", "isochrones", "site", "sensitivity", "map", "publish", "run",
          "communes", "validate", "calibrate"}
#: Commands that read no region data of their own (map, publish read OUT): no region window to check files against.
WITHOUT_REGION = {"map", "publish", "fetch", "bench"}


class Terminated(KeyboardInterrupt):
    """SIGTERM (or SIGHUP) received: unwinds like Ctrl-C, so that temporaries are removed."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def main(argv=None) -> int:
    """Run one subcommand; bad input or an unusable OUT is one line on stderr and exit status 2.

    Outputs go to a staging folder inside OUT and are moved in together at the end (geo.io.output.OutputSet):
    an error, Ctrl-C or SIGTERM leaves OUT as it was.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup(args)
    with _signals_raise():
        try:
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
        if getattr(args, "speeds", None) is not None:         # a bad speed model fails now, not after the network is read
            from geo.routing.speeds import load_speed_model

            load_speed_model(args.speeds)
        window = None if args.command in WITHOUT_REGION else _window_of(args)
        with region_window(window):
            _precheck(args)
        args.out = staging
        pairs = _path_pairs(staging, final)
        try:
            with _shown_as(pairs), region_window(window):
                status = args.func(args)
        except InputError as exc:       # name OUT, not the staging folder
            raise type(exc)(_replace_all(exc.path, pairs), _replace_all(exc.problem, pairs)) from exc
        except OSError as exc:
            exc.filename = _replace_all(exc.filename, pairs)
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


def _window_of(args):
    """The region's window (geo.io.extent.Window) that user files must overlap; None when the region cannot say."""
    from geo.io.extent import Window
    from layers.boundaries import region_window
    from layers.region import BUNDLED_DATA_DIR, load_region

    region = load_region(args.region, data_dir=args.data, boundaries=args.boundaries)
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
    shipped = Path(__file__).resolve().parent.parent / "layers"          # shipped scenarios, roads opened since 2018
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


@contextlib.contextmanager
def _signals_raise():
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
        return self._stream.write(_replace_all(text, self._pairs))

    def __getattr__(self, name):
        return getattr(self._stream, name)


class _ShownPathsFilter(logging.Filter):
    def __init__(self, pairs):
        super().__init__()
        self._pairs = pairs

    def filter(self, record):
        message = record.getMessage()
        fixed = _replace_all(message, self._pairs)
        if fixed != message:
            record.msg, record.args = fixed, None
        return True


def _replace_all(text, pairs):
    if isinstance(text, str):
        for old, new in pairs:
            text = text.replace(old, new)
    return text


def _path_pairs(staging: Path, final: Path) -> list[tuple[str, str]]:
    return [(os.path.abspath(staging), os.path.abspath(final)), (str(staging), str(final))]


@contextlib.contextmanager
def _shown_as(pairs):
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


if __name__ == "__main__":
    sys.exit(main())
