"""Settings of a siting run: the defaults, and :class:`SitingOptions` (checked once, one-line errors).

Two levels, as r5py's ``RegionalTask`` validates its settings when they are
set: :class:`SitingOptions` holds what the caller gives (profile, cell size,
files, locate overrides) and checks it on construction; :func:`plan_siting`
then reads the profile and merges defaults → profile → options into a
:class:`SitingPlan` (exclusion settings, constraint layers, locate rules,
rule files), refusing anything unknown before the long work starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from pathlib import Path

from geo.errors import InputError
from geo.siting.suitability import Profile

PROFILES_DIR = Path(__file__).resolve().parent.parent / "profiles"
RULES_DIR = Path(__file__).resolve().parent.parent / "rules"

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
    # barriers (layers/siting/barriers.py): they cut the land into parcels; widths of roads, railways and water from
    # the rule file named here (article, source, date), the rest planning assumptions stated here
    "corridor_rules": "protection-corridors",
    "corridor_roads": True,            # expressway, national, provincial roads + road land + safety corridor
    "railways": True,                  # + track half-width + protection zone + safety corridor
    "stations": True,
    "station_yard_radius_m": 300.0,    # around a station point: its yard is not mapped (assumption)
    "station_area_buffer_m": 50.0,     # around an OSM 2018 station area
    "settlements_osm": True,           # OSM 2018 places and landuse=residential (2018 proxy)
    "settlement_radius_m": {"city": 2000.0, "town": 800.0, "suburb": 800.0, "village": 300.0, "hamlet": 150.0,
                            "locality": 150.0},   # around each OSM place point by class (assumption)
    "residential_buffer_m": 50.0,
    "cemeteries_osm": True,            # OSM 2018 landuse=cemetery and grave yards (2018 proxy)
    "cemetery_buffer_m": 50.0,
    "military_osm": True,              # OSM 2018 landuse=military (2018 proxy)
    "military_buffer_m": 100.0,
    "industrial_osm": True,            # OSM 2018 landuse=industrial: land already built on (2018 proxy)
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

#: Locating defaults; a profile's ``locate:`` and the options override them. ``split``: "grow" (compact sites grown
#: inside parcels, up to ``max_area_ha`` within ``radius_factor`` × the radius of an equal-area disc, at least
#: ``min_width_m`` wide over 90 % of its cells — no slivers along roads; geo.siting.sites.grow_sites),
#: "parts" or "core" (older rules). The shortlist: sites at least ``min_spacing_km`` apart (edge to edge), at most
#: ``max_per_district`` per district (None = no cap), the best ``top_n``; ``district_table_n`` best sites per district
#: go to OUT/sites_by_district.csv.
LOCATE_DEFAULTS = {"min_area_ha": 30.0, "max_area_ha": None, "top_n": 10, "top_share": 0.10, "min_score": None,
                   "sensitivity_change": 0.2, "split": "grow", "radius_factor": 1.5, "min_width_m": 200.0,
                   "min_spacing_km": 2.0, "max_per_district": 3, "max_per_commune": None, "district_table_n": 3}

#: Grid defaults; the region's optional ``siting:`` section overrides them. ``cell_m``: cell side (m);
#: ``labour_cell_m``: side of the blocks the labour catchments are measured on (None = every cell, exact; a multiple of
#: the cell gives each cell its block's value, for very fine grids); ``always_measure``:
#: criteria measured (and written to the grid) whatever the profile, besides the registry's standard ones;
#: ``corridor_groups``: name → corridor ids, measured as ``minutes_to_<name>`` (the nearest of them).
SITING_DEFAULTS = {"cell_m": 100.0, "labour_cell_m": None, "town_classes": ["city", "town"], "always_measure": [],
                   "corridor_groups": {}}

#: The locate settings a caller may override (:class:`SitingOptions`).
LOCATE_OVERRIDES = ("min_area_ha", "max_area_ha", "top_n", "top_share", "min_score", "min_spacing_km", "max_per_district",
                    "max_per_commune")


@dataclass
class SitingOptions:
    """What a siting run is asked to do; validated on construction (:class:`geo.errors.InputError`, one line).

    ``profile``: a shipped profile name or a YAML path. ``cell_m``: cell side
    (m; None = the region's, default 250). ``scenario`` / ``interchanges``:
    planned-road file (+ its interchange points) added to the network first.
    ``parks_file``: parks instead of the region's. ``protected_file`` /
    ``heritage_file``: the same as ``layers={"protected_forest": …,
    "heritage": …}``. ``layers``: layer name → vector file (any format and
    CRS): land constraints (``rice_land``, ``protected_forest``,
    ``heritage``, ``settlements``, ``flood``) and user layers for
    ``km_to_<name>`` / ``in_<name>`` criteria. ``dem_file`` / ``use_dem``:
    elevation. ``osm``: an OSM extract for the road network.
    ``min_area_ha``, ``max_area_ha`` (ha), ``top_n``, ``top_share`` (0–1),
    ``min_score`` (0–1): locate overrides (None = the profile's).
    ``sensitivity``: ±change weight runs. ``workers``: processes for the
    labour catchments. ``max_bytes``: memory ceiling of the grid.
    """

    profile: str | Path = "logistics-heavy"
    cell_m: float | None = None
    scenario: Path | None = None
    interchanges: Path | None = None
    parks_file: Path | None = None
    protected_file: Path | None = None
    heritage_file: Path | None = None
    dem_file: Path | None = None
    use_dem: bool = True
    osm: object = None
    network: object = None            # layers.networks.NetworkOptions (today's or 2018 network, --roads class overlays)
    layers: dict = field(default_factory=dict)
    min_area_ha: float | None = None
    max_area_ha: float | None = None
    top_n: int | None = None
    top_share: float | None = None
    min_score: float | None = None
    min_spacing_km: float | None = None
    max_per_district: int | None = None
    max_per_commune: int | None = None
    district: list | None = None
    commune: list | None = None
    communes_file: Path | None = None
    sensitivity: bool = True
    workers: int = 1
    max_bytes: int | None = None

    def __post_init__(self):
        self.layers = {str(k): v for k, v in (self.layers or {}).items() if v is not None}
        bad = [k for k in self.layer_files if not _LAYER_NAME.match(k)]
        if bad:
            raise InputError(None, f"layer name '{bad[0]}' must be lower-case letters, digits and _ (e.g. substations)")
        if self.cell_m is not None:
            self.cell_m = _number("cell_m", self.cell_m)
            if not self.cell_m > 0:
                raise InputError(None, f"--cell-size must be > 0 m, not {self.cell_m:g}")
        if isinstance(self.district, str):
            self.district = [self.district]
        if isinstance(self.commune, str):
            self.commune = [self.commune]
        if self.min_spacing_km is not None and not _number("min_spacing_km", self.min_spacing_km) >= 0:
            raise InputError(None, f"--min-spacing-km must be ≥ 0, not {self.min_spacing_km!r}")
        if self.max_per_district is not None and (not float(self.max_per_district).is_integer() or int(self.max_per_district) < 1):
            raise InputError(None, f"--max-per-district must be a whole number ≥ 1, not {self.max_per_district!r}")
        for key in ("min_area_ha", "max_area_ha", "top_share", "min_score"):
            if getattr(self, key) is not None:
                setattr(self, key, _number(key, getattr(self, key)))
        if self.top_n is not None and (not float(self.top_n).is_integer() or int(self.top_n) < 1):
            raise InputError(None, f"top_n must be a whole number ≥ 1, not {self.top_n!r}")
        if self.min_area_ha is not None and self.min_area_ha < 0:
            raise InputError(None, f"min_area_ha must be ≥ 0, not {self.min_area_ha:g}")
        if self.top_share is not None and not 0 < self.top_share <= 1:
            raise InputError(None, f"top_share must be in (0, 1], not {self.top_share:g}")
        if not isinstance(self.workers, int) or self.workers < 1:
            raise InputError(None, f"workers must be a whole number ≥ 1, not {self.workers!r}")
        files = {"scenario": self.scenario, "interchanges": self.interchanges, "parks": self.parks_file,
                 "communes": self.communes_file,
                 "dem": self.dem_file, **self.layer_files}
        for what, path in files.items():
            if path is not None and not Path(path).exists():
                raise InputError(path, f"file not found ({what})")

    @property
    def layer_files(self) -> dict:
        """Layer name → file: ``layers`` plus ``protected_file`` and ``heritage_file``."""
        out = dict(self.layers)
        for key, path in (("protected_forest", self.protected_file), ("heritage", self.heritage_file)):
            if path is not None:
                out[key] = path
        return out

    @property
    def locate_overrides(self) -> dict:
        """The locate settings given here (not None)."""
        return {k: getattr(self, k) for k in LOCATE_OVERRIDES if getattr(self, k) is not None}

    @classmethod
    def from_kwargs(cls, profile="logistics-heavy", **kwargs) -> SitingOptions:
        """Options from ``run_siting``'s keyword arguments; an unknown one is a one-line error."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(kwargs) - names)
        if unknown:
            raise TypeError(f"run_siting: unknown option '{unknown[0]}' (known: {', '.join(sorted(names))})")
        return cls(profile=profile, **kwargs)


def _number(key, value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InputError(None, f"{key} must be a number, not {value!r}") from None


@dataclass
class SitingPlan:
    """The settings of one run after merging defaults → profile → options (see :func:`plan_siting`)."""

    options: SitingOptions
    profile: Profile
    exclusions: dict          # EXCLUSION_DEFAULTS overridden by the profile's exclusions:
    constraints: dict         # constraint_settings()
    locate: dict              # LOCATE_DEFAULTS → profile locate: → options
    rule_sets: list
    grid: dict                # SITING_DEFAULTS → region siting:
    cell_m: float
    region_layers: dict = field(default_factory=dict)   # region_constraint_files(): defaults found in the data folder

    @property
    def max_area_ha(self) -> float | None:
        return None if self.locate["max_area_ha"] is None else float(self.locate["max_area_ha"])


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
    if loc["split"] not in ("grow", "parts", "core"):
        raise InputError(source, f"locate: split must be 'grow' (sites grown inside parcels), 'parts' or 'core', not {loc['split']!r}")
    for key in ("radius_factor", "min_spacing_km"):
        try:
            ok = float(loc[key]) >= (1.0 if key == "radius_factor" else 0.0)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise InputError(source, f"locate: {key} must be a number ≥ {1 if key == 'radius_factor' else 0}, not {loc[key]!r}")
    change = float(loc["sensitivity_change"])
    if not 0 < change < 1:
        raise InputError(source, f"locate: sensitivity_change must be in (0, 1), not {change:g}")

