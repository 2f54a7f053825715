"""The main job's analyses, in order, each writing into OUT (``plan.py run`` without the maps).

What runs by default comes from the region's ``run:`` section (the scenario
compared, the isochrone origins, the siting profile), so a new region needs
a YAML file and data, not code. :func:`run_analyses` is called by
:func:`maps.run.run`, which adds the planner map and the published site.

Every step writes its output into ``OUT`` (``layers.gpkg``, ``access.csv`` …),
so a later step — or a planner in QGIS — can start from it.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from geo.errors import InputError
from geo.io.output import write_csv, write_geopackage
from layers.build import LayerSet, build_layers, summary_lines, write_layers
from layers.region import Region, load_region

if TYPE_CHECKING:
    from layers.networks import NetworkOptions

log = logging.getLogger(__name__)

#: Steps of :func:`run_analyses`, in order; a region's ``run: steps:`` may name a subset.
STEPS = ("access", "scenario", "isochrones", "siting", "validation")


@dataclass
class RunOptions:
    """What ``plan.py run`` does: validated once, when created.

    region : a region name or YAML path; data_dir : data folder (None: the
    bundle or $BGPLAN_DATA); boundaries : ``open`` or ``gadm``; osm, parks_file :
    optional user inputs; out : output folder; analyses : False for layers,
    map and site only.
    """

    region: str | os.PathLike = "bac-giang"
    data_dir: Path | None = None
    boundaries: str = "open"
    osm: Path | None = None
    parks_file: Path | None = None
    out: Path = Path("out")
    analyses: bool = True
    network: NetworkOptions | None = None   # today's network (default), 2018, overlays, speeds
    echo: callable = field(default=print, repr=False)

    def __post_init__(self):
        self.out = Path(self.out)
        for path in (self.osm, self.parks_file):
            if path is not None and not Path(path).exists():
                raise InputError(path, "file not found")


@dataclass
class RunResult:
    """What the analyses produced: the layer set, the networks and the written paths."""

    region: Region
    layers: LayerSet
    written: dict[str, Path] = field(default_factory=dict)


def run_steps(region: Region) -> dict:
    """The region's ``run:`` section with defaults: steps, scenario, isochrone origins, siting profile."""
    cfg = {"steps": list(STEPS), "scenario": None, "scenario_network": None, "isochrone_origins": [],
           "siting_profile": "logistics-heavy", **region.run_section()}
    unknown = set(cfg["steps"]) - set(STEPS)
    if unknown:
        raise InputError(region.source_file, f"run: unknown step(s) {', '.join(sorted(unknown))} (known: {', '.join(STEPS)})")
    return cfg


def scenario_path(region: Region, name: str | None) -> Path | None:
    """A ``run: scenario:`` entry as a path: relative to ``layers/`` (``roads/…``), a name in ``layers/scenarios/``, or a path."""
    if not name:
        return None
    from layers.scenario import SCENARIOS_DIR

    for path in (Path(name), SCENARIOS_DIR.parent / name, SCENARIOS_DIR / name):
        if path.is_file():
            return path
    raise InputError(region.source_file, f"run: scenario file '{name}' not found (looked in {SCENARIOS_DIR.parent} and {SCENARIOS_DIR})")


def run_analyses(options: RunOptions) -> RunResult:
    """Build the layers and run the region's analyses into ``options.out``; returns what was made."""
    from layers import access, networks

    say = options.echo
    region = load_region(options.region, data_dir=options.data_dir, boundaries=options.boundaries)
    cfg = run_steps(region)
    result = build_layers(region, osm=options.osm, parks_file=options.parks_file,
                          network=options.network.network if options.network else "today")
    out = options.out
    written = write_layers(result, out)
    say("\n".join(summary_lines(result.summary)))
    run = RunResult(region=region, layers=result, written=dict(written))
    if not options.analyses:
        return run
    from layers.networks import NetworkOptions

    park_layer = result.layers["industrial_parks"]
    pop = result.population
    net_options = options.network or NetworkOptions()
    net = networks.build_networks(region, osm=options.osm, options=net_options)
    if "access" in cfg["steps"]:
        report = access.access_report(region, park_layer, net, population=pop)
        run.written["access"] = write_csv(report, out / "access.csv")
        write_geopackage({"access": report}, out / "access.gpkg")
        say(f"access: {len(report)} parks → {out / 'access.csv'}")
    scenario_file = scenario_path(region, cfg["scenario"])
    if "scenario" in cfg["steps"] and scenario_file is not None:
        from layers.scenario import run_scenario

        # e.g. "2018 vs today": the scenario adds the roads opened since 2018 to the bare 2018 network
        base = net
        if cfg["scenario_network"] and cfg["scenario_network"] != net_options.network:
            from dataclasses import replace

            base = networks.build_networks(region, osm=options.osm, with_rail=False,
                                         options=replace(net_options, network=str(cfg["scenario_network"])))
        scenario = run_scenario(region, base, park_layer, scenario_file, population=pop)
        run.written["scenario"] = write_csv(scenario.change, out / "scenario.csv")
        write_geopackage({"access_change": scenario.change, "planned_roads": scenario.roads,
                          "interchanges": scenario.interchanges}, out / "scenario.gpkg")
        say(f"scenario ({scenario_file.name}) → {out / 'scenario.csv'}")
    if "isochrones" in cfg["steps"] and cfg["isochrone_origins"]:
        origins = origin_points(region, cfg["isochrone_origins"])
        iso = access.isochrones_from(region, net, origins, population=pop)
        run.written["isochrones"] = write_geopackage({"isochrones": iso}, out / "isochrones.gpkg")
        say(f"isochrones from {', '.join(cfg['isochrone_origins'])} → {out / 'isochrones.gpkg'}")
    if "siting" in cfg["steps"]:
        from layers.siting import run_siting, write_siting

        siting = run_siting(region, cfg["siting_profile"], parks_file=options.parks_file, osm=options.osm, net=net,
                            population=pop)
        run.written.update(write_siting(siting, out))
        say(f"candidate sites ({cfg['siting_profile']} profile): {len(siting.sites)} → {out / 'sites.gpkg'}")
    if "validation" in cfg["steps"] and (region.config.get("validation") or {}).get("observed_file"):
        from layers.validation import observations_file, read_observations, validate, write_validation

        table = validate(region, net, read_observations(observations_file(region)))
        run.written["validation"] = write_validation(table, out)["csv"]
        s = table.attrs["summary"]
        say(f"validation: {s['observations']} observations, median |time error| {s['median_abs_minutes_error']} → {out / 'validation.csv'}")
    if "communes" in region.config:  # 2025 communes (merged province): OUT/communes.csv
        write_communes(region, park_layer, out, net=net, population=pop)
        run.written["communes"] = out / "communes.csv"
        say(f"communes (2025) → {out / 'communes.csv'}")
    return run


def write_communes(region, park_layer, out: Path, communes_file=None, net=None, population=None):
    """OUT/communes.csv, communes_mapping.csv, communes_summary.json and communes.gpkg for a region with a 'communes:' section.

    With ``net`` and ``population`` ((array, profile)) the access columns by commune are added
    (:mod:`layers.commune_access`)."""
    from geo.io.output import write_csv, write_geopackage
    from geo.io.vector import read_vector
    from layers.communes import CommuneOptions, commune_mapping, commune_report

    options = CommuneOptions.from_region(region)
    places = read_vector(region.path("places"))
    polygons = read_vector(communes_file) if communes_file is not None else None
    if polygons is not None and not {"code", "name"} & set(polygons.columns):
        raise InputError(communes_file, "commune polygons need a 'code' (GSO 2025) or 'name' column")
    report = commune_report(region, parks=park_layer, places=places, polygons=polygons, options=options,
                            net=net, population=population)
    write_csv(report.drop(columns="geometry"), out / "communes.csv")
    write_csv(commune_mapping(region, options), out / "communes_mapping.csv")
    from geo.io.output import write_json
    write_json(report.attrs["summary"], out / "communes_summary.json")
    located = report[report.geometry.notna()]
    if len(located):
        write_geopackage({"communes": located}, out / "communes.gpkg")
    return report


def origin_points(region: Region, specs):
    """Origins given as destination keys or ``'LON,LAT'`` strings → GeoDataFrame with ``name`` (EPSG:4326)."""
    import geopandas as gpd
    from shapely.geometry import Point

    dest = region.destinations().set_index("key")
    rows = []
    for spec in specs:
        if spec in dest.index:
            rows.append((spec, dest.geometry[spec]))
            continue
        try:
            lon, lat = (float(v) for v in str(spec).split(","))
        except ValueError:
            raise InputError(None, f"origin '{spec}' is neither a destination key ({', '.join(dest.index)}) nor LON,LAT") from None
        rows.append((str(spec), Point(lon, lat)))
    return gpd.GeoDataFrame({"name": [r[0] for r in rows]}, geometry=[r[1] for r in rows], crs="EPSG:4326")


def elapsed_since(started: float) -> str:
    """Seconds since ``started`` (a ``time.perf_counter()`` value), for the closing line."""
    return f"{time.perf_counter() - started:.0f} s"
