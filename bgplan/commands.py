"""The subcommands of the command line: each turns its parsed options into options objects, calls one function of
:mod:`bgplan.analyses` (the library API), writes the outputs into OUT and prints a few lines.

``args`` carries the parsed options, with the shared ones resolved by :mod:`bgplan.cli` (``args.region_obj``: the
loaded region; ``args.network_options``: the :class:`NetworkOptions` every command that routes passes on).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from geo import settings
from geo.errors import InputError

from bgplan import analyses as api
from bgplan.options import (AccessOptions, CalibrationOptions, CommunesOptions, IsochroneOptions, MatrixOptions,
                            MonteCarloOptions, RunOptions, ScenarioBatchOptions, ScenarioOptions, SchedulerOptions,
                            SensitivityOptions, SitingOptions, ValidationOptions)


def cmd_layers(args) -> int:
    from layers.build import build_layers, summary_lines, write_layers

    result = build_layers(args.region_obj, osm=args.osm, parks_file=args.parks, scenario_files=args.scenario,
                          logistics_file=args.logistics, network=args.network or "today")
    paths = write_layers(result, args.out)
    counts = ", ".join(f"{k} {v['features']}" for k, v in result.summary["layers"].items())
    print("\n".join(summary_lines(result.summary)))
    print(f"wrote {paths['layers']} ({counts}), {paths.get('population', '')}, {paths['summary']}")
    return 0


def cmd_access(args) -> int:
    from geo.io.output import write_csv, write_geopackage

    report = api.access(args.region_obj, args.network_options,
                        options=AccessOptions(parks=args.parks, rail=not args.no_rail))
    write_csv(report, args.out / "access.csv")
    write_geopackage({"access": report}, args.out / "access.gpkg")
    s = report.attrs["summary"]
    print(f"access for {s['origins']} parks ({s['not_connected']} not connected to the network); median minutes: "
          + ", ".join(f"{k} {v}" for k, v in s["median_minutes"].items()))
    for key, why in s["missing_targets"].items():
        print(f"  no time to {key}: {why}")
    print(f"wrote {args.out / 'access.csv'}, {args.out / 'access.gpkg'}")
    return 0


def cmd_matrix(args) -> int:
    from geo.io.output import write_csv

    table = api.matrix(args.region_obj, args.network_options,
                       options=MatrixOptions(origins=args.origins, destinations=args.destinations, parks=args.parks))
    write_csv(table, args.out / "matrix.csv")
    print(f"{len(table)} pairs, {table['minutes'].notna().sum()} with a time; wrote {args.out / 'matrix.csv'}")
    return 0


def cmd_scenario(args) -> int:
    from geo.io.output import write_csv, write_geopackage

    if args.batch:
        return cmd_scenario_batch(args)
    if args.sketch_from or args.sketch_to:       # a road through --from [--via …] --to, as sketched on the map
        args.scenario_file = _sketch_file(args)
    # without a file: the region's default comparison, on the network it names unless --network says otherwise
    network = None if (args.scenario_file is None and args.network is None) else args.network_options
    result = api.scenario(args.region_obj, network, options=ScenarioOptions(file=args.scenario_file,
                                                                             interchanges=args.interchanges,
                                                                             parks=args.parks))
    write_csv(result.change, args.out / "scenario.csv")
    write_geopackage({"access_change": result.change, "planned_roads": result.roads, "interchanges": result.interchanges},
                     args.out / "scenario.gpkg")
    print("\n".join(scenario_lines(result.change)))
    sketch = f", {args.scenario_file}" if args.sketch_from else ""
    print(f"wrote {args.out / 'scenario.csv'}, {args.out / 'scenario.gpkg'}{sketch}")
    return 0


def _sketch_file(args) -> Path:
    """OUT/scenario_sketch.geojson for --from/--via/--to (checked as a sketch drawn on the map), the file to evaluate."""
    from geo.io.output import write_json
    from maps.serve.engine import sketch_from_points
    from maps.serve.sketch import SketchError

    if not (args.sketch_from and args.sketch_to) or args.scenario_file is not None:
        raise InputError(None, "give both --from and --to (and no scenario FILE) for a road between two points")
    points = [_lonlat(text, option) for option, text in
              [("--from", args.sketch_from), *[("--via", v) for v in args.sketch_via], ("--to", args.sketch_to)]]
    try:
        sketch = sketch_from_points(args.region_obj, args.network_options, points, road_class=args.road_class,
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


def scenario_lines(change) -> list[str]:
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

    from bgplan.staging import Terminated

    options = EngineOptions(region=args.region, data_dir=args.data, boundaries=args.boundaries,
                            network=args.network_options, parks_file=args.parks)
    try:
        return serve(options, host=args.host, port=args.port, log_level="debug" if args.verbose else "warning")
    except Terminated:      # uvicorn shut down gracefully, then re-raised the signal: serve writes nothing, a clean stop
        return 0


def cmd_scenario_batch(args) -> int:
    from geo.io.output import write_csv

    options = ScenarioBatchOptions(files=tuple(args.batch), scheduler=SchedulerOptions(args.scheduler, args.dask_workers),
                                   parks=args.parks)
    table = api.scenario_batch(args.region_obj, args.network_options, options=options)
    write_csv(table, args.out / "scenario_batch.csv")
    print(table[["rank", "scenario", "park_minutes_saved", "people_within_30_min_gained", "parks_faster"]].to_string(index=False))
    print(f"wrote {args.out / 'scenario_batch.csv'}")
    return 0


def isochrone_options(args) -> IsochroneOptions:
    return IsochroneOptions(origins=args.origins, all_parks=args.all_parks, parks=args.parks, minutes=args.minutes)


def cmd_isochrones(args) -> int:
    from geo.io.output import write_geopackage

    iso = api.isochrones(args.region_obj, args.network_options, options=isochrone_options(args))
    write_geopackage({"isochrones": iso}, args.out / "isochrones.gpkg")
    for row in iso.itertuples():
        people = f", {row.people_within:,.0f} people within" if hasattr(row, "people_within") and row.people_within == row.people_within else ""
        print(f"{row.name}: {row.minutes:g} min → {row.area_km2:,.1f} km²{people}" if row.reason is None or row.reason != row.reason
              else f"{row.name}: {row.reason}")
    print(f"wrote {args.out / 'isochrones.gpkg'}")
    return 0


def siting_options(args, **overrides) -> SitingOptions:
    """The siting options of ``site`` and ``sensitivity`` (what each parser has)."""
    layers = {"rice_land": getattr(args, "rice_land", None), "settlements": getattr(args, "settlements", None),
              "flood": getattr(args, "flood", None)}
    for item in getattr(args, "layer", None) or []:
        name, sep, file = item.partition("=")
        if not sep or not name or not file:
            raise InputError(None, f"--layer {item}: give NAME=FILE (e.g. substations=substations.gpkg)")
        layers[name.strip()] = Path(file.strip())
    given = {k: getattr(args, k, None) for k in ("district", "commune", "min_spacing_km", "max_per_district",
                                                  "max_per_commune")}
    return SitingOptions(
        profile=args.profile, cell_m=args.cell_size, scenario=args.scenario, interchanges=args.interchanges,
        parks_file=args.parks, protected_file=getattr(args, "protected_forest", None),
        heritage_file=getattr(args, "heritage", None), dem_file=getattr(args, "dem", None), use_dem=not args.no_dem,
        layers={k: v for k, v in layers.items() if v is not None}, min_area_ha=args.min_area_ha,
        max_area_ha=args.max_area_ha, top_n=args.top, top_share=args.top_share, min_score=args.min_score,
        communes_file=getattr(args, "communes", None), workers=getattr(args, "workers", 1),
        network=args.network_options, osm=args.osm, **{k: v for k, v in given.items() if v is not None}, **overrides)


def cmd_site(args) -> int:
    from layers.siting import summary_lines, write_siting

    result = api.site(args.region_obj, args.network_options,
                      options=siting_options(args, sensitivity=not args.no_sensitivity))
    paths = write_siting(result, args.out)
    print("\n".join(summary_lines(result)))
    print("wrote " + ", ".join(str(p) for p in paths.values()))
    return 0


def cmd_sensitivity(args) -> int:
    from layers.sensitivity import summary_lines, write_sensitivity
    from layers.siting import write_siting

    options = SensitivityOptions(
        siting=siting_options(args, sensitivity=False),
        montecarlo=MonteCarloOptions(runs=args.runs, seed=args.seed, concentration=args.concentration,
                                     chunk_runs=args.chunk_runs),
        scheduler=SchedulerOptions(args.scheduler, args.dask_workers))
    result = api.sensitivity(args.region_obj, args.network_options, options=options)
    siting_paths = write_siting(result.siting, args.out)
    paths = write_sensitivity(result, args.out)
    print("\n".join(summary_lines(result)))
    print("wrote " + ", ".join(str(p) for p in paths.values()) + " and " + ", ".join(str(p) for p in siting_paths.values()))
    return 0


def cmd_communes(args) -> int:
    from layers.pipeline import write_communes

    tables = api.communes(args.region_obj, args.network_options, options=CommunesOptions(polygons=args.communes,
                                                                                          parks=args.parks))
    write_communes(tables, args.out)
    s = tables.report.attrs["summary"]
    print(f"communes: {s['units']} units ({s['phuong']} phường, {s['xa']} xã), population 2019 {s['population_2019']:,.0f}; "
          f"{s['communes_2019_inferred']} of {s['communes_2019']} 2019 communes placed by inference (ranges given); "
          f"{s['units_without_location']} without a location; access by method {(s.get('access') or {}).get('units_by_access_method')} "
          f"→ {args.out / 'communes.csv'}")
    return 0


def _observed_file(args):
    from layers.validation import observations_file

    return args.observed if args.observed else observations_file(args.region_obj)


def cmd_validate(args) -> int:
    from layers.validation import write_validation

    table = api.validate(args.region_obj, args.network_options, options=ValidationOptions(observed=args.observed))
    paths = write_validation(table, args.out, extra={"observed_file": str(_observed_file(args))})
    s = table.attrs["summary"]
    print(f"{s['observations']} observations on {s['network']}")
    print(f"median |distance error| {s['median_abs_km_error']}, median |time error outside the observed range| "
          f"{s['median_abs_minutes_error']} ({s['rows_inside_time_range']} of {s['rows_with_time']} times inside their range)")
    print(f"wrote {paths['csv']}, {paths['json']}")
    return 0


def cmd_calibrate(args) -> int:
    from geo.io.output import write_json
    from layers.calibration import write_calibrated_model

    result = api.calibrate(args.region_obj, args.network_options,
                           options=CalibrationOptions(observed=args.observed, leave_one_out=not args.no_leave_one_out))
    model_path = write_calibrated_model(result, args.out / "speeds-calibrated.yaml", observed_file=str(_observed_file(args)))
    write_json({**result.summary, "rows": result.rows.to_dict(orient="records")}, args.out / "calibration.json")
    print(result.parameters.drop(columns="basis").to_string(index=False))
    s = result.summary
    print(f"median |time error|: before {s['median_abs_minutes_error_before']}, after {s['median_abs_minutes_error_after']}, "
          f"leave-one-out {s['median_abs_minutes_error_leave_one_out']}")
    print(f"wrote {model_path} (use it with --speeds) and {args.out / 'calibration.json'}")
    return 0


def cmd_run(args) -> int:
    """Everything in order (see maps.run); each step writes into OUT so a later one (or QGIS) can start from it."""
    api.run(args.region_obj, args.network_options,
            options=RunOptions(out=args.out, analyses=not args.no_analyses, parks_file=args.parks, verbose=args.verbose))
    return 0


def cmd_map(args) -> int:
    from maps.planner import write_planner_map

    path = write_planner_map(args.out)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


def cmd_publish(args) -> int:
    from maps.publish import publish_site

    if args.config is not None and not Path(args.config).exists():
        raise InputError(args.config, "file not found")
    result = publish_site(args.out, config=args.config, include_restricted=args.include_restricted)
    for name, size in result["pages"].items():
        print(f"  {name}: {size / 1e6:.2f} MB")
    if result["over_budget"]:
        print(f"warning: over the 5 MB page budget: {', '.join(result['over_budget'])}", file=sys.stderr)
    print(f"wrote {result['site'] / 'index.html'}")
    return 0


def cmd_fetch(args) -> int:
    from layers.region import BUNDLED_DATA_DIR
    from layers.sources import fetch

    dest = args.dest or settings.cache_folder / "data"
    report = fetch(dest, base_urls=args.mirror or None, only=args.only or None, progress=settings.progress,
                   bundle_dir=BUNDLED_DATA_DIR)
    print(report[["file", "status", "bytes"]].to_string(index=False))
    print(f"data folder ready: {dest} (use --data {dest})")
    return 0


def cmd_bench(args) -> int:
    """The benchmark scripts of a checkout (scripts/bench_*.py), one after the other, each in its own process."""
    scripts = Path(__file__).resolve().parent.parent / "scripts"
    if not (scripts / "bench_routing.py").is_file():
        raise InputError(scripts, "the benchmarks are scripts of the repository: run 'python scripts/plan.py bench' in a checkout")

    def bench(name, argv):
        return subprocess.run([sys.executable, str(scripts / name), *argv]).returncode

    argv = ["--out", str(args.out), "--data", str(args.data)]
    if args.quick:
        argv += ["--grid-side", "150"]
    status = bench("bench_routing.py", argv)
    status = status or bench("bench_siting.py", ["--out", str(args.out)])
    # Monte Carlo sensitivity and scenario batch: in-process vs 1 and 2 Dask workers → OUT/bench_dask.json
    quick = ["--cell-size", "500", "--runs", "200", "--no-scenarios"] if args.quick else []
    return status or bench("bench_dask.py", ["--out", str(args.out), "--data", str(args.data), "--region", str(args.region), *quick])
