"""The main job's analyses, in order, each writing into OUT (``plan.py run`` without the maps).

What runs by default comes from the region's ``run:`` section (the scenario
compared, the isochrone origins, the siting profile), so a new region needs
a YAML file and data, not code. :func:`run_analyses` is called by
:func:`maps.run.run`, which adds the planner map and the published site.

Every step writes its output into ``OUT`` (``layers.gpkg``, ``access.csv`` …),
so a later step — or a planner in QGIS — can start from it.

Siting needs nothing the other analyses make, so once the networks are built
it runs in a forked child (:mod:`geo.background`) while this process does
access, the scenario, isochrones, validation and communes: two cores, the same
outputs (``RunOptions(overlap=False)`` or ``BGPLAN_OVERLAP=0`` runs it here).
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from geo import background
from geo.errors import InputError
from geo.io.output import write_csv, write_geopackage
from layers.build import LayerSet, build_layers, summary_lines, write_layers
from layers.region import Region

log = logging.getLogger(__name__)

#: Steps of :func:`run_analyses`, in order; a region's ``run: steps:`` may name a subset.
STEPS = ("access", "scenario", "isochrones", "siting", "validation")


@dataclass
class RunOptions:
    """What ``plan.py run`` does besides the region and the network (validated once, when created).

    out : output folder; analyses : False for layers, map and site only; parks_file : a park list or outlines
    instead of the region's; echo : where progress lines go (``print``); verbose : also print the seconds of
    every step (they are always written to ``OUT/run_timings.json``); overlap : run independent steps in a forked
    child beside the others (:mod:`geo.background`; None: ``geo.settings.overlap_steps``, on by default).
    """

    out: Path = Path("out")
    analyses: bool = True
    parks_file: Path | None = None
    echo: callable = field(default=print, repr=False)
    verbose: bool = False
    overlap: bool | None = None

    def __post_init__(self):
        self.out = Path(self.out)
        if self.parks_file is not None:
            self.parks_file = Path(self.parks_file)
            if not self.parks_file.exists():
                raise InputError(self.parks_file, "file not found")


class Timings:
    """Wall-clock seconds of each step of a run, in order (``with timings.step("access"): ...``)."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.started = time.perf_counter()
        self.background: dict[str, list[str]] = {}      # job → its steps, timed in a forked child beside the others

    def add_background(self, job, seconds: dict[str, float]):
        """The steps a :class:`geo.background.Job` timed (in its child, or here), and this process's wait for it."""
        self.seconds.update(seconds)
        if job.forked:
            self.background[job.name] = list(seconds)
            self.seconds[f"wait for {job.name}"] = job.waited_s

    @contextlib.contextmanager
    def step(self, name: str):
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - t0, 3)
            log.debug("step %s: %.2f s", name, time.perf_counter() - t0)

    def total(self) -> float:
        return round(time.perf_counter() - self.started, 3)

    def lines(self) -> list[str]:
        """One line per step, for ``--verbose``."""
        forked = {step for steps in self.background.values() for step in steps}
        width = max((len(k) for k in self.seconds), default=4)
        return ([f"  {k:<{width}}  {v:6.2f} s" + ("  (forked, beside the others)" if k in forked else "")
                 for k, v in self.seconds.items()] + [f"  {'total':<{width}}  {self.total():6.2f} s"])


@dataclass
class RunResult:
    """What a run produced: the region, the layer set, the networks used, each analysis' result (``access``,
    ``scenario``, ``isochrones``, ``siting``, ``validation``, ``communes``), the written paths and the
    seconds of each step."""

    region: Region
    layers: LayerSet
    networks: object = None
    analyses: dict = field(default_factory=dict)
    written: dict[str, Path] = field(default_factory=dict)
    timings: Timings = field(default_factory=Timings)


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


def run_analyses(region: Region, options: RunOptions, network=None, *, population=None,
                 timings: Timings | None = None) -> RunResult:
    """Build the layers and run the region's analyses into ``options.out``; returns what was made.

    ``network`` : :class:`layers.networks.NetworkOptions` (default today's network) — or networks already
    built (:class:`layers.networks.Networks`) — used by every step; the networks, their class overlays,
    corridor matching and routing hierarchy are built once (:func:`layers.networks.shared_networks`) and
    shared by access, isochrones, siting, validation and communes; the scenario's own base network (e.g. the
    bare 2018 network of "2018 vs today") shares the same classified base. ``population`` :
    ``(array, profile)`` instead of the region's raster. The seconds of every step are in ``result.timings``.
    """
    from layers import networks
    from layers.networks import Networks, NetworkOptions
    from layers.shared import POPULATION, parks_key, seed

    say = options.echo
    t = timings or Timings()
    built = network if isinstance(network, Networks) else None
    net_options = (built.options if built is not None else network) or NetworkOptions()
    cfg = run_steps(region)
    with t.step("layers"):
        result = build_layers(region, osm=net_options.osm, parks_file=options.parks_file, network=net_options.network)
    out = options.out
    with t.step("write layers"):
        written = write_layers(result, out)
    say("\n".join(summary_lines(result.summary)))
    run = RunResult(region=region, layers=result, written=dict(written), timings=t)
    if not options.analyses:
        return run
    park_layer = result.layers["industrial_parks"]
    pop = None if population is False else population if population is not None else result.population
    seed(region, parks_key(options.parks_file, net_options.osm), park_layer)       # later requests share them
    if result.population is not None:
        seed(region, POPULATION, result.population)
    # the corridors were matched onto the road file by the layers: the networks reuse them
    corridor_layer = result.layers.get("corridors") if net_options.osm is None else None
    with t.step("networks"):
        net = built or networks.shared_networks(region, net_options, rail=True, corridor_layer=corridor_layer)
        net.road.hierarchy()           # the routing hierarchy, customised once: every step's searches use it
    run.networks = net
    with contextlib.ExitStack() as jobs:
        siting_job = None
        if "siting" in cfg["steps"]:      # in a forked child, beside the steps below (geo.background)
            siting_job = jobs.enter_context(background.start(
                "siting", _siting_step, region, cfg["siting_profile"], options, net, pop, net_options,
                overlap=options.overlap))
        _other_analyses(run, cfg, options, net, net_options, pop, corridor_layer)
        if siting_job is not None:
            siting, written, seconds = siting_job.result()
            t.add_background(siting_job, seconds)
            run.written.update(written)
            run.analyses["siting"] = siting
            say(f"candidate sites ({cfg['siting_profile']} profile): {len(siting.sites)} → {out / 'sites.csv'}")
    return run


def _siting_step(region: Region, profile: str, options: RunOptions, net, pop, net_options):
    """Candidate sites (:func:`layers.siting.run_siting`) written into OUT → (result, written paths, seconds by step)."""
    from layers.siting import run_siting, write_siting

    t = Timings()
    with t.step("siting"):
        siting = run_siting(region, profile, parks_file=options.parks_file, net=net, population=pop,
                            network=net_options, osm=net_options.osm)
    with t.step("write siting"):
        written = write_siting(siting, options.out)
    return siting, written, t.seconds


def _other_analyses(run: RunResult, cfg: dict, options: RunOptions, net, net_options, pop, corridor_layer):
    """Access, the scenario, isochrones, validation and communes, in this process, into ``run``."""
    from layers import access, networks

    region, park_layer, out, say, t = run.region, run.layers.layers["industrial_parks"], options.out, options.echo, run.timings
    if "access" in cfg["steps"]:
        with t.step("access"):
            report = access.access_report(region, park_layer, net, population=pop)
            run.written["access"] = write_csv(report, out / "access.csv")
            write_geopackage({"access": report}, out / "access.gpkg")
        run.analyses["access"] = report
        say(f"access: {len(report)} parks → {out / 'access.csv'}")
    scenario_file = scenario_path(region, cfg["scenario"])
    if "scenario" in cfg["steps"] and scenario_file is not None:
        from layers.scenario import run_scenario

        # e.g. "2018 vs today": the scenario adds the roads opened since 2018 to the bare 2018 network
        base = net
        if cfg["scenario_network"] and cfg["scenario_network"] != net_options.network and net_options.osm is None:
            with t.step("scenario network"):
                base = networks.shared_networks(region, replace(net_options, network=str(cfg["scenario_network"])),
                                                corridor_layer=corridor_layer)
        with t.step("scenario"):
            scenario = run_scenario(region, park_layer, base, scenario_file, population=pop)
            run.written["scenario"] = write_csv(scenario.change, out / "scenario.csv")
            write_geopackage({"access_change": scenario.change, "planned_roads": scenario.roads,
                              "interchanges": scenario.interchanges}, out / "scenario.gpkg")
        run.analyses["scenario"] = scenario
        say(f"scenario ({scenario_file.name}) → {out / 'scenario.csv'}")
    if "isochrones" in cfg["steps"] and cfg["isochrone_origins"]:
        with t.step("isochrones"):
            origins = origin_points(region, cfg["isochrone_origins"])
            iso = access.isochrones_from(region, origins, net, population=pop)
            run.written["isochrones"] = write_geopackage({"isochrones": iso}, out / "isochrones.gpkg")
        run.analyses["isochrones"] = iso
        say(f"isochrones from {', '.join(cfg['isochrone_origins'])} → {out / 'isochrones.gpkg'}")
    if "validation" in cfg["steps"] and (region.config.get("validation") or {}).get("observed_file"):
        from layers.validation import observations_file, read_observations, validate, write_validation

        with t.step("validation"):
            table = validate(region, read_observations(observations_file(region)), net)
            run.written["validation"] = write_validation(table, out)["csv"]
        run.analyses["validation"] = table
        s = table.attrs["summary"]
        say(f"validation: {s['observations']} observations, median |time error| {s['median_abs_minutes_error']} → {out / 'validation.csv'}")
    if "communes" in region.config:  # 2025 communes (merged province): OUT/communes.csv
        with t.step("communes"):
            tables = commune_tables(region, park_layer, net, population=pop)
            write_communes(tables, out)
        run.analyses["communes"] = tables
        run.written["communes"] = out / "communes.csv"
        say(f"communes (2025) → {out / 'communes.csv'}")


@dataclass
class CommuneTables:
    """The 2025 communes of a region: ``report`` (one row per unit, with access columns when computed),
    ``mapping`` (each 2019 commune → its 2025 unit and how it was found)."""

    report: object
    mapping: object


def commune_tables(region: Region, parks, net=None, *, population=None, polygons_file=None) -> CommuneTables:
    """The 2025 communes of a region with a ``communes:`` section (:func:`layers.communes.commune_report`).

    Arguments in the order of every analysis: region, features (the parks), networks. With ``net`` and
    ``population`` (``(array, profile)``) the access columns by commune are added (:mod:`layers.commune_access`).
    ``polygons_file``: commune polygons with a ``code`` (GSO 2025) or ``name`` column (default: points)."""
    from geo.io.vector import read_vector
    from layers.communes import CommuneOptions, commune_mapping, commune_report

    options = CommuneOptions.from_region(region)
    places = read_vector(region.path("places"))
    polygons = read_vector(polygons_file) if polygons_file is not None else None
    if polygons is not None and not {"code", "name"} & set(polygons.columns):
        raise InputError(polygons_file, "commune polygons need a 'code' (GSO 2025) or 'name' column")
    report = commune_report(region, parks=parks, places=places, polygons=polygons, options=options,
                            net=net, population=population)
    return CommuneTables(report=report, mapping=commune_mapping(region, options))


def write_communes(tables: CommuneTables, out: Path) -> dict[str, Path]:
    """OUT/communes.csv, communes_mapping.csv, communes_summary.json and communes.gpkg (the located units)."""
    from geo.io.output import write_json

    report = tables.report
    paths = {"csv": write_csv(report.drop(columns="geometry"), out / "communes.csv"),
             "mapping": write_csv(tables.mapping, out / "communes_mapping.csv"),
             "summary": write_json(report.attrs["summary"], out / "communes_summary.json")}
    located = report[report.geometry.notna()]
    if len(located):
        paths["gpkg"] = write_geopackage({"communes": located}, out / "communes.gpkg")
    return paths


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
