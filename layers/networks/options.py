"""Network options a planner chooses (which network, overlays, speeds, vehicle) and the speed model they select."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from geo.errors import InputError
from geo.routing.speeds import SpeedModel, load_speed_model
from layers.region import REGIONS_DIR, Region
from layers.shared import file_stamp, shared

log = logging.getLogger(__name__)


#: Speed model used when the region has no ``speed_model`` key.
DEFAULT_SPEED_MODEL = REGIONS_DIR / "models" / "speeds-vn.yaml"


#: Networks a planner can choose: the network as it is today (the 2018 file plus the roads opened
#: since, named in the region's ``today_network.additions``) or the bare 2018 file.
NETWORKS = ("today", "2018")


#: Vehicles a speed model can be chosen for: ``car`` (the region's ``speed_model``) or a key of its
#: ``vehicle_speed_models`` (``truck``: a tractor with semi-trailer).
VEHICLES = ("car", "truck")


@dataclass(frozen=True)
class NetworkOptions:
    """Which road network and speeds to build (checked on creation): the options every analysis that routes
    carries, so that the network chosen on the command line (``--network``, ``--roads``, ``--speeds``,
    ``--vehicle``, ``--osm``) is the one every step uses.

    network : ``"today"`` (default: the region's road file plus the roads opened since,
        ``today_network.additions`` of the region YAML) or ``"2018"`` (the file alone).
        Ignored with an OSM extract, which is today's network by itself.
    osm : an OpenStreetMap extract (``.osm``, ``.osm.bz2``, ``.osm.pbf``) whose roads (with their
        tags: classes, names, one-way, ``maxspeed``) replace the region's road file.
    roads : road-class overlay files (``ref``/``name``/``highway``/``maxspeed`` lines, any CRS),
        map-matched onto the network in order (a later file wins).
    speeds : a speed model YAML used instead of the region's (e.g. from ``plan.py calibrate``).
    reference_classes : label every named road of the region's reference layer (not only corridors)
        and apply the region's shipped class overlays (``road_classes.overlays``).
    vehicle : ``"car"`` (default: the region's ``speed_model``) or ``"truck"`` (its
        ``vehicle_speed_models.truck``: legal limits by vehicle type, a tractor with semi-trailer).
    """

    network: str = "today"
    roads: tuple = ()
    speeds: Path | None = None
    reference_classes: bool = True
    vehicle: str = "car"
    osm: Path | None = None

    def __post_init__(self):
        if self.network not in NETWORKS:
            raise InputError(None, f"network must be one of {', '.join(NETWORKS)}, not '{self.network}'")
        if self.vehicle not in VEHICLES:
            raise InputError(None, f"vehicle must be one of {', '.join(VEHICLES)}, not '{self.vehicle}'")
        if isinstance(self.roads, (str, Path)):
            object.__setattr__(self, "roads", (self.roads,))
        object.__setattr__(self, "roads", tuple(Path(p) for p in self.roads))
        for name in ("speeds", "osm"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, Path(getattr(self, name)))
        for path in (*self.roads, *([self.osm] if self.osm else [])):
            if not Path(path).exists():
                raise InputError(path, "file not found")
        if self.speeds is not None:        # read now: a bad speed model fails before any network is read
            load_speed_model(self.speeds)

    @property
    def key(self) -> tuple:
        """What a network built with these options depends on, files included by size and modification time:
        two options with the same key give the same network (the key of the shared networks, see
        :mod:`layers.shared`)."""
        return (self.network, tuple(file_stamp(p) for p in self.roads), file_stamp(self.speeds), self.reference_classes,
                self.vehicle, file_stamp(self.osm))

    @property
    def base_key(self) -> tuple:
        """:attr:`key` without the network's vintage: today's network and the 2018 one share their classified base."""
        return self.key[1:]

    def speed_model(self, region: Region) -> SpeedModel:
        """The speed model: ``speeds`` when given, else the region's for the vehicle."""
        return load_speed_model(self.speeds) if self.speeds else speed_model(region, self.vehicle)


def speed_model(region: Region, vehicle: str = "car") -> SpeedModel:
    """The region's speed model for ``vehicle``: its ``speed_model:`` file (car; default
    :data:`DEFAULT_SPEED_MODEL`) or ``vehicle_speed_models.<vehicle>``.

    A relative path is looked up next to the region file, then in ``layers/regions/``.

    >>> from layers.region import load_region
    >>> bg = load_region("bac-giang", data_dir=".")
    >>> m, t = speed_model(bg), speed_model(bg, "truck")
    >>> m.speed("national", "rural").kmh > t.speed("national", "rural").kmh, t.vehicle_max_kmh
    (True, 80.0)
    """
    if vehicle != "car":
        name = (region.config.get("vehicle_speed_models") or {}).get(vehicle)
        if not name:
            raise InputError(region.source_file, f"no speed model for the vehicle '{vehicle}' (vehicle_speed_models.{vehicle})")
        return _model_file(region, name)
    name = region.config.get("speed_model")
    if not name:
        return load_speed_model(DEFAULT_SPEED_MODEL)
    return _model_file(region, name)


def _model_file(region: Region, name: str) -> SpeedModel:
    """The speed model file ``name`` of the region, read once per region and file (:mod:`layers.shared`; a
    :class:`SpeedModel` is frozen)."""
    for folder in (Path(region.source_file).parent, REGIONS_DIR):
        path = Path(name) if Path(name).is_absolute() else folder / name
        if path.exists():
            return shared(region, ("speed model", file_stamp(path)), lambda: load_speed_model(path))
    raise InputError(region.source_file, f"speed_model '{name}' not found next to the region file or in {REGIONS_DIR}")


def planned_road_speeds(model: SpeedModel) -> dict[str, tuple[float, str]]:
    """Design speed (km/h) and its basis by road class for planned roads that give none: the speed model's
    ``planned_roads: design_speed_kmh`` section (empty when it has none: such a road must give its speed).

    >>> from layers.region import load_region
    >>> planned_road_speeds(speed_model(load_region("bac-giang", data_dir=".")))["expressway"][0]
    100.0
    """
    section = (model.raw.get("planned_roads") or {}).get("design_speed_kmh") or {}
    if not isinstance(section, dict):
        raise InputError(model.source, "planned_roads.design_speed_kmh must map road classes to {kmh, basis, note}")
    out = {}
    for road_class, spec in section.items():
        spec = spec if isinstance(spec, dict) else {"kmh": spec}
        try:
            kmh = float(spec.get("kmh"))
        except (TypeError, ValueError):
            kmh = float("nan")
        if not 5 <= kmh <= 130:
            raise InputError(model.source, f"planned_roads.design_speed_kmh.{road_class}: give kmh between 5 and 130")
        basis = "; ".join(str(spec[k]) for k in ("basis", "note") if spec.get(k))
        out[str(road_class).strip().lower()] = (kmh, basis or "speed model planned_roads")
    return out
