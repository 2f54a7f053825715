#!/usr/bin/env python
"""Command line of the planning tool: ``python scripts/plan.py SUBCOMMAND``.

Only wiring lives here: parse options, call ``layers``/``geo``, report.
Errors about inputs are printed as one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

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
                        help=f"folder with the source files, laid out like ../shared/data (default: {DEFAULT_DATA_DIR})")
    common.add_argument("--osm", type=Path, default=None,
                        help="an OpenStreetMap extract (.osm, .osm.bz2 or .osm.pbf); adds OSM-tagged corridors, park outlines, built-up areas")
    common.add_argument("--parks", type=Path, default=None,
                        help="your own park list or outlines (GeoJSON, GeoPackage, Shapefile or CSV with lon/lat; any CRS), used instead of the shipped registry")
    common.add_argument("--out", type=Path, default=Path("out"), help="output folder (default: ./out)")
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
    return parser


def _setup(args) -> None:
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("pyogrio", "fiona", "rasterio", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    settings.progress = not args.quiet


def cmd_layers(args) -> int:
    from layers.build import build_layers, summary_lines, write_layers
    from layers.region import load_region

    region = load_region(args.region, data_dir=args.data)
    for path in [args.osm, args.parks, args.logistics, *args.scenario]:
        if path is not None and not Path(path).exists():
            raise InputError(path, "file not found")
    result = build_layers(region, osm=args.osm, parks_file=args.parks, scenario_files=args.scenario,
                          logistics_file=args.logistics)
    paths = write_layers(result, args.out)
    counts = ", ".join(f"{k} {v['features']}" for k, v in result.summary["layers"].items())
    print("\n".join(summary_lines(result.summary)))
    print(f"wrote {paths['layers']} ({counts}), {paths.get('population', '')}, {paths['summary']}")
    return 0


def cmd_fetch(args) -> int:
    from geo.fetch import fetch

    dest = args.dest or settings.cache_folder / "data"
    report = fetch(dest, base_urls=args.mirror or None, only=args.only or None, progress=settings.progress)
    print(report[["file", "status", "bytes"]].to_string(index=False))
    print(f"data folder ready: {dest} (use --data {dest})")
    return 0


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup(args)
    try:
        return args.func(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; no output was half-written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
