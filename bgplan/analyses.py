"""bgplan's analyses as functions of one signature: ``fn(region_or_points, network=None, *, population=None, options=None)``.

``region_or_points``
    a :class:`~layers.region.Region` (:func:`load_region`; a region name is
    loaded for you), or — for the analyses of points (:func:`access`,
    :func:`isochrones`, :func:`matrix`) — a GeoDataFrame of points, whose
    region is the one ``network`` was built for.
``network``
    None (the region's today's network), a :class:`NetworkOptions` (which
    network, overlays, speeds, vehicle, OSM extract) or networks already built
    (:func:`network`). Whatever is asked for is built once per region object
    and shared by every later call (:mod:`layers.shared`): the road graph,
    class overlays, corridor matching, routing hierarchy.
``population``
    None (the region's population raster — WorldPop rescaled to the census —
    when it has one, read once), False (none: no catchment columns) or
    ``(array, profile)`` (people per cell and its rasterio profile).
``options``
    the analysis' options object (:mod:`bgplan.options`), checked when made.

Results are GeoDataFrames / DataFrames in EPSG:4326 (or a small result object
holding them), with the facts a planner needs in ``attrs["summary"]``.
Nothing is written to disk except by :func:`run`.
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.errors import InputError
from layers.networks import Networks, NetworkOptions
from layers.region import Region

from bgplan.options import (AccessOptions, CalibrationOptions, CommunesOptions, IsochroneOptions, MatrixOptions,
                            RunOptions, ScenarioBatchOptions, ScenarioOptions, SensitivityOptions, SitingOptions,
                            ValidationOptions)

log = logging.getLogger("bgplan")


# ---------------------------------------------------------------------------------------------- inputs

def load_region(name_or_path: str | os.PathLike = "bac-giang", *, data_dir: str | os.PathLike | None = None,
                boundaries: str = "open") -> Region:
    """A region definition with its data folder.

    Parameters
    ----------
    name_or_path : str or path-like
        A shipped region (``"bac-giang"``, ``"bac-ninh-2025"``) or a region YAML file.
    data_dir : path-like, optional
        Folder of the source files (laid out like ``../shared/data``); default ``$BGPLAN_DATA``, else the
        open-data bundle installed with bgplan.
    boundaries : {"open", "gadm"}
        Boundary set: open geoBoundaries (CC BY 3.0 IGO, carried in the bundle) or GADM 4.1 (needs a
        ``data_dir`` holding it; not redistributable).

    Returns
    -------
    layers.region.Region
    """
    from layers.region import load_region as _load

    return _load(name_or_path, data_dir=data_dir, boundaries=boundaries)


def network(region: Region | str, options: NetworkOptions | None = None, *, rail: bool = False) -> Networks:
    """The routable networks of ``region`` for ``options``, built once and shared by every analysis on it.

    Parameters
    ----------
    region : Region or str
    options : NetworkOptions, optional
        ``network`` ("today" or "2018"), ``roads`` (class overlay files), ``speeds`` (a speed model YAML),
        ``vehicle`` ("car" or "truck"), ``osm`` (an OSM extract). Default: today's network for a car.
    rail : bool
        Also build the road + rail router (rail entered at stations).

    Returns
    -------
    layers.networks.Networks
        ``road`` (router; weights in seconds, coordinates in metres, EPSG:32648), ``road_nodes``,
        ``road_edges`` (``speed_kmh``, ``travel_time_s``, ``road_class`` … EPSG:4326), ``network_name``.
    """
    from layers.networks import shared_networks

    return shared_networks(_region(region), _network_options(network=options), rail=rail)


def _region(value) -> Region:
    if isinstance(value, Region):
        return value
    if isinstance(value, (str, os.PathLike)):
        return load_region(value)
    raise TypeError(f"expected a Region (bgplan.load_region) or a region name, not {type(value).__name__}")


def _region_and_points(region_or_points, network, what: str) -> tuple[Region, gpd.GeoDataFrame | None]:
    """The region, and the points when points were given (their region: the one ``network`` was built for)."""
    if isinstance(region_or_points, (gpd.GeoDataFrame, gpd.GeoSeries)):
        region = network.region if isinstance(network, Networks) else None
        if region is None:
            raise TypeError(f"bgplan.{what}(points, network): with points, give the networks they lie in "
                            "(network=bgplan.network(region))")
        points = region_or_points
        if isinstance(points, gpd.GeoSeries):
            points = gpd.GeoDataFrame(geometry=points)
        if points.crs is None:
            raise InputError(None, f"bgplan.{what}: the points have no CRS (set one, e.g. points.set_crs(4326))")
        return region, points.to_crs("EPSG:4326")
    return _region(region_or_points), None


def _network_options(network=None) -> NetworkOptions:
    if network is None:
        return NetworkOptions()
    if isinstance(network, NetworkOptions):
        return network
    if isinstance(network, Networks):
        return network.options or NetworkOptions()
    raise TypeError(f"network must be None, a NetworkOptions or networks from bgplan.network(), not {type(network).__name__}")


def _networks(region: Region, network, *, rail: bool = False) -> Networks:
    """The networks to route on: those given, else the shared ones for the options given."""
    from layers.networks import add_rail, shared_networks

    if isinstance(network, Networks):
        if network.region is not None and network.region is not region:
            log.debug("networks built for another Region object of %s", getattr(network.region, "id", "?"))
        return add_rail(region, network) if rail else network
    return shared_networks(region, _network_options(network), rail=rail)


def _population(region: Region, population):
    """``(array, profile)`` of people per cell, or None (see the module docstring)."""
    if population is False:
        return None
    if population is not None:
        if not (isinstance(population, tuple) and len(population) == 2):
            raise TypeError("population must be None, False or (array, profile)")
        return population
    if "population_raster" not in region.config:
        return None
    from layers.population import population_raster
    from layers.shared import POPULATION, shared

    return shared(region, POPULATION, lambda: population_raster(region)[:2])


def _parks(region: Region, parks_file=None, osm=None) -> gpd.GeoDataFrame:
    """The region's placed parks (or those of ``parks_file``), read once; the unplaced ones are named in a warning."""
    from layers.parks import region_parks
    from layers.shared import parks_key, shared

    key = parks_key(parks_file, osm)
    fresh = []
    parks = shared(region, key, lambda: fresh.append(1) or region_parks(region, parks_file=parks_file, osm=osm))
    without = (parks.attrs.get("summary") or {}).get("without_position") or []
    if fresh and without:
        log.warning("%d sourced park(s) have no position and are left out of per-park figures: %s (reasons in "
                    "layers_summary.json; give positions with --parks FILE)", len(without),
                    ", ".join(w["name"] for w in without))
    return parks


# ---------------------------------------------------------------------------------------------- analyses

def access(region_or_points, network=None, *, population=None, options: AccessOptions | None = None) -> gpd.GeoDataFrame:
    """Corridor access of every placed park (or of the points given): minutes to corridors and destinations.

    Parameters
    ----------
    region_or_points : Region, str or GeoDataFrame
        A region (its placed parks, or ``options.parks``), or points (any CRS) in ``network``'s region.
    network : None, NetworkOptions or Networks
        See :mod:`bgplan.analyses`.
    population : None, False or (array, profile)
        People per cell for the catchment columns ``people_within_<m>_min`` (people).
    options : AccessOptions, optional

    Returns
    -------
    geopandas.GeoDataFrame
        One row per park / point (EPSG:4326 points): ``minutes_to_<target>`` (minutes by road to the nearest
        corridor node or destination, access leg included; NaN with ``reason_<target>`` when unknown),
        ``minutes_low_to_<target>`` / ``minutes_high_to_<target>`` (minutes with every assumed speed at its
        bound), ``minutes_to_<dest>_road_rail``, ``minutes_by_truck_to_<dest>``, ``people_within_<m>_min``
        (people), ``snap_m`` (access leg, metres), ``network``; ``attrs["summary"]``. Columns:
        :mod:`layers.access`.
    """
    from layers.access import access_report

    options = options or AccessOptions()
    region, points = _region_and_points(region_or_points, network, "access")
    net_options = _network_options(network)
    parks = points if points is not None else _parks(region, options.parks, net_options.osm)
    net = _networks(region, network, rail=options.rail)
    return access_report(region, parks, net, population=_population(region, population), ranges=options.ranges,
                         rail=options.rail)


def isochrones(region_or_points, network=None, *, population=None,
               options: IsochroneOptions | None = None) -> gpd.GeoDataFrame:
    """Areas reachable by road within each time from each origin, with the people inside.

    Parameters
    ----------
    region_or_points : Region, str or GeoDataFrame
        A region (origins: ``options.origins``, the placed parks with ``options.all_parks``, else the region's
        ``run: isochrone_origins``), or origin points (column ``name`` if any) in ``network``'s region.
    network : None, NetworkOptions or Networks
    population : None, False or (array, profile)
    options : IsochroneOptions, optional
        ``minutes`` (thresholds, minutes).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per origin and threshold (EPSG:4326 polygons): ``name``, ``minutes``, ``area_km2`` (km²),
        ``reason`` (why an origin has no polygon), and with a population ``population``, ``people_within``
        (people); see :func:`layers.access.isochrones_from`.
    """
    from layers.access import isochrones_from

    options = options or IsochroneOptions()
    region, points = _region_and_points(region_or_points, network, "isochrones")
    if points is None:
        points = isochrone_origins(region, options, _network_options(network).osm)
    net = _networks(region, network)
    return isochrones_from(region, points, net, minutes=options.minutes, population=_population(region, population))


def isochrone_origins(region: Region, options: IsochroneOptions, osm=None) -> gpd.GeoDataFrame:
    """The origins :func:`isochrones` starts from for a region (points with ``name``, EPSG:4326)."""
    from layers.pipeline import origin_points

    if options.all_parks:
        parks = _parks(region, options.parks, osm)
        if not len(parks):
            raise InputError(options.parks or region.source_file, "no park has a position: no origin for --all-parks")
        return parks[["name", "geometry"]]
    specs = options.origins or region.run_section().get("isochrone_origins", ["kep_station"])[:1]
    return origin_points(region, specs)


def matrix(region_or_points, network=None, *, population=None, options: MatrixOptions | None = None) -> pd.DataFrame:
    """Minutes by road from many origins to many destinations, as a tidy table.

    Parameters
    ----------
    region_or_points : Region, str or GeoDataFrame
        A region (origins: ``options.origins``, else its placed parks) or origin points in ``network``'s region.
    network : None, NetworkOptions or Networks
    population : unused (the uniform signature)
    options : MatrixOptions, optional
        ``destinations`` (default: the region's key destinations).

    Returns
    -------
    pandas.DataFrame
        ``origin``, ``destination``, ``minutes`` (minutes by road, access legs included; NaN when unknown),
        ``origin_snap_m`` (metres), ``reason``.
    """
    from geo.io.vector import read_vector
    from layers.access import travel_time_matrix

    options = options or MatrixOptions()
    region, origins = _region_and_points(region_or_points, network, "matrix")
    destinations = options.destinations
    if destinations is not None and not isinstance(destinations, gpd.GeoDataFrame):
        destinations = read_vector(destinations, what="destinations")     # read (and checked) before the network
    if origins is None and options.origins is not None:
        origins = read_vector(options.origins, what="origins")
        if not len(origins):
            raise InputError(options.origins, "no origin in the file")
    if origins is None:
        origins = _parks(region, options.parks, _network_options(network).osm)
        if not len(origins):
            raise InputError(options.parks or "the parks layer", "no origin to measure from (no park has a position: "
                                                                 "give --origins FILE or --parks FILE)")
    net = _networks(region, network)
    return travel_time_matrix(region, origins, net, destinations=destinations)


def scenario(region, network=None, *, population=None, options: ScenarioOptions | None = None):
    """What a planned road changes: access of every placed park before and after adding it.

    Parameters
    ----------
    region : Region or str
    network : None, NetworkOptions or Networks
        The network the planned roads are added to. None with no ``options.file``: the region's default
        comparison on the network it names (``run: scenario``, ``run: scenario_network``; "2018 vs today").
    population : None, False or (array, profile)
    options : ScenarioOptions, optional
        ``file`` (planned roads), ``interchanges``, ``parks``.

    Returns
    -------
    layers.scenario.ScenarioResult
        ``change`` (one row per park: ``<measure>_before``, ``_after``, ``_change`` in minutes or people),
        ``before``, ``after``, ``roads`` (the planned roads as added: ``length_km``, ``design_speed_kmh``,
        ``access_points``), ``interchanges``; ``change.attrs["summary"]``.
    """
    from layers.pipeline import run_steps, scenario_path
    from layers.scenario import run_scenario

    options = options or ScenarioOptions()
    region = _region(region)
    file = options.file
    if file is None:
        cfg = run_steps(region)
        file = scenario_path(region, cfg["scenario"]) if cfg["scenario"] else None
        if file is None:
            raise InputError(None, "no scenario file given and the region's run: section names none")
        if network is None and cfg["scenario_network"]:
            network = NetworkOptions(network=str(cfg["scenario_network"]))
    parks = _parks(region, options.parks, _network_options(network).osm)
    net = _networks(region, network)
    return run_scenario(region, parks, net, file, population=_population(region, population),
                        interchanges_path=options.interchanges)


def scenario_batch(region, network=None, *, population=None, options: ScenarioBatchOptions | None = None) -> pd.DataFrame:
    """Many scenario files evaluated and ranked by what they change for the parks (in this process or on Dask).

    Parameters
    ----------
    region : Region or str
    network : None, NetworkOptions or Networks
        The road network (see :mod:`bgplan.analyses`).
    population : None, False or (array, profile)
        People per cell for the catchment gains (people).
    options : ScenarioBatchOptions
        ``files`` (required), ``scheduler`` (where the runs execute), ``parks``.

    Returns
    -------
    pandas.DataFrame
        One row per scenario, ranked: ``rank``, ``scenario``, ``park_minutes_saved`` (minutes, summed over
        parks and existing targets), ``people_within_<m>_min_gained`` (people), ``parks_faster`` …
        (:mod:`layers.scenario_batch`).
    """
    from geo.cluster import open_session
    from layers.scenario_batch import run_scenario_batch

    if options is None or not options.files:
        raise InputError(None, "scenario_batch: give ScenarioBatchOptions(files=...)")
    region = _region(region)
    with open_session(options.scheduler) as session:      # fails fast if unreachable
        parks = _parks(region, options.parks, _network_options(network).osm)
        net = _networks(region, network)
        return run_scenario_batch(region, parks, net, options.files, population=_population(region, population),
                                  session=session)


def site(region, network=None, *, population=None, options: SitingOptions | None = None):
    """Suitability grid and ranked candidate sites (a shortlist with three-valued legal verdicts).

    Parameters
    ----------
    region : Region or str
    network : None, NetworkOptions or Networks
        The road network the criteria's minutes are measured on (``options.scenario`` adds planned roads).
    population : None, False or (array, profile)
        People per cell for the labour catchments.
    options : SitingOptions, optional
        Profile, cell size (metres), files, locate overrides (hectares, shares) … (:class:`SitingOptions`).

    Returns
    -------
    layers.siting.SitingResult
        ``sites`` (shortlisted sites, EPSG:4326 polygons: ``area_ha``, ``score_mean``, ``verdict`` …), ``grid``
        (one row per cell inside the region, cell centres: every criterion, component score and ``score``),
        ``by_district``, ``summary``.
    """
    from layers.siting import run_siting

    options = options or SitingOptions()
    region = _region(region)
    if network is None and options.network is not None:       # the network named in the siting options
        network = options.network
    elif network is None and options.osm is not None:
        network = NetworkOptions(osm=options.osm)
    net_options = _network_options(network)
    options = replace(options, network=net_options, osm=net_options.osm)
    # the profile, files and grid are checked before the network is asked for (run_siting takes the shared one)
    return run_siting(region, options.profile, net=network if isinstance(network, Networks) else None,
                      population=_population(region, population), options=options)


def sensitivity(region, network=None, *, population=None, options: SensitivityOptions | None = None):
    """Monte Carlo weight sensitivity of a siting run: how robust each cell and each site is to the weights.

    Parameters
    ----------
    region : Region or str
    network : None, NetworkOptions or Networks
        The road network (see :mod:`bgplan.analyses`).
    population : None, False or (array, profile)
        People per cell for the labour catchments (people).
    options : SensitivityOptions, optional
        ``siting`` (the run re-scored: profile, cell size in metres …), ``montecarlo`` (runs, seed, concentration),
        ``scheduler``.

    Returns
    -------
    layers.sensitivity.SensitivityResult
        ``cells`` (per cell ``p_suitable``, ``p_in_site``: shares of runs, 0–1), ``sites`` (per site
        ``p_top_n``, ``p_rank_1``, ``p_lost``, rank percentiles), ``site_ranks``, ``summary``, and ``siting``
        (the siting run re-scored).
    """
    from geo.cluster import open_session
    from layers.sensitivity import run_sensitivity
    from layers.siting import load_profile

    options = options or SensitivityOptions()
    region = _region(region)
    siting_options = replace(options.siting, sensitivity=False)
    profile = load_profile(siting_options.profile, region)
    with open_session(options.scheduler) as session:      # fails fast if unreachable, before the siting run
        siting = site(region, network, population=population, options=siting_options)
        return run_sensitivity(siting, profile, options.montecarlo, session,
                               locate_overrides=siting_options.locate_overrides)


def communes(region, network=None, *, population=None, options: CommunesOptions | None = None):
    """The 2025 communes of a region with a ``communes:`` section (e.g. ``bac-ninh-2025``): population, parks and
    access by commune.

    Parameters
    ----------
    region : Region or str
    network : None, NetworkOptions or Networks
        The road network (see :mod:`bgplan.analyses`).
    population : None, False or (array, profile)
        People per cell; with none, no access columns (the network is then not built).
    options : CommunesOptions, optional
        ``polygons`` (commune polygons instead of points), ``parks``.

    Returns
    -------
    layers.pipeline.CommuneTables
        ``report`` (one row per 2025 unit: ``population`` with ``population_min``/``_max`` (people),
        ``parks``, ``access_method``, minutes to the corridors and people within reach of a park),
        ``mapping`` (each 2019 commune → its 2025 unit).
    """
    from layers.pipeline import commune_tables

    options = options or CommunesOptions()
    region = _region(region)
    if "communes" not in region.config:
        raise InputError(region.source_file, "the region has no 'communes:' section (try --region bac-ninh-2025)")
    parks = _parks(region, options.parks, _network_options(network).osm)
    pop = _population(region, population)
    net = _networks(region, network) if pop is not None else None
    return commune_tables(region, parks, net, population=pop, polygons_file=options.polygons)


def validate(region, network=None, *, population=None, options: ValidationOptions | None = None) -> pd.DataFrame:
    """Modelled against observed travel times (distance and time errors), one row per observation.

    Parameters
    ----------
    region : Region or str
    network : None, NetworkOptions or Networks
        The road network (see :mod:`bgplan.analyses`).
    population : unused (the uniform signature)
    options : ValidationOptions, optional
        ``observed``: the observations CSV (default: the region's ``validation.observed_file``).

    Returns
    -------
    pandas.DataFrame
        ``model_km`` (km), ``model_minutes`` (minutes), ``km_error`` and ``minutes_error`` (relative; the time
        error counts only outside the observed range), ``route_km_by_class`` …; ``attrs["summary"]``
        (medians); see :mod:`layers.validation`.
    """
    from layers.validation import validate as _validate

    region = _region(region)
    observations = _observations(region, (options or ValidationOptions()).observed)
    return _validate(region, observations, _networks(region, network))


def calibrate(region, network=None, *, population=None, options: CalibrationOptions | None = None):
    """Fit the speeds the speed model marks as assumptions (within their bounds) to the observed drive times.

    Parameters
    ----------
    region : Region or str
    network : None, NetworkOptions or Networks
        The road network (see :mod:`bgplan.analyses`).
        Its speed model is the one fitted.
    population : unused (the uniform signature)
    options : CalibrationOptions, optional
        ``observed`` (CSV), ``leave_one_out``, ``iterations``.

    Returns
    -------
    layers.calibration.CalibrationResult
        ``model`` (the fitted speed model), ``parameters`` (start, bounds and fitted value, km/h or factor),
        ``rows`` (minutes before / after / leave-one-out per observation), ``summary``.
    """
    from layers.calibration import calibrate as _calibrate

    options = options or CalibrationOptions()
    region = _region(region)
    observations = _observations(region, options.observed)
    return _calibrate(region, observations, _networks(region, network), iterations=options.iterations,
                      leave_one_out=options.leave_one_out)


def _observations(region: Region, path=None) -> pd.DataFrame:
    """The observations of ``path`` (default: the region's ``validation.observed_file``), end points checked
    against the active region window."""
    from geo.io.extent import check_points
    from layers.validation import observations_file, read_observations

    path = Path(path) if path else observations_file(region)
    table = read_observations(path)
    check_points(table[["origin_lon", "destination_lon"]].to_numpy().ravel(),
                 table[["origin_lat", "destination_lat"]].to_numpy().ravel(), path, what="observation end points")
    return table


def run(region, network=None, *, population=None, options: RunOptions | None = None):
    """The main job: layers, access, the region's scenario, isochrones, siting, validation, communes, the planner
    map and the published site, every step written into ``options.out``, on one network built once.

    Parameters
    ----------
    region : Region or str
    network : None, NetworkOptions or Networks
        The road network (see :mod:`bgplan.analyses`).
        Every step routes on it (the region's scenario may name its own base, e.g. the 2018 network).
    population : None, False or (array, profile)
        None: the region's raster, read once by the layers step.
    options : RunOptions, optional
        ``out`` (the output folder), ``analyses``, ``parks_file``, ``verbose``.

    Returns
    -------
    layers.pipeline.RunResult
        ``layers`` (the layer set), ``networks``, ``analyses`` (each step's result by name), ``written`` (paths)
        and ``timings`` (seconds by step; also in ``OUT/run_timings.json``).
    """
    from maps.run import run as run_all

    return run_all(_region(region), options or RunOptions(), network, population=population)
