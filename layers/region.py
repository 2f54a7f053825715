"""Region definitions: which boundaries, files, destinations and corridors.

A region is a YAML file in ``layers/regions/`` (or any path). It may
``extends:`` another region and override parts of it. Data files named in it
are looked up in the data folder: by default the compact open-data bundle
the repository carries (``data/``, see ``data/SOURCES.md``), or a ``--data``
folder with the layout of ``../shared/data`` (see README, "The --data folder").

>>> r = load_region("bac-giang", data_dir=".")
>>> r.id, r.metric_crs
('bac-giang', 'EPSG:32648')
>>> list(r.corridors)[:3]
['ct01', 'ql1a', 'ql37']
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd

from geo.config import read_yaml
from geo.errors import InputError, WithheldDataError

REGIONS_DIR = Path(__file__).resolve().parent / "regions"
REPO_ROOT = Path(__file__).resolve().parent.parent

def _bundle_dir() -> Path:
    """The open-data bundle: the repository's ``data/``, or the copy installed with the package."""
    in_repo = REPO_ROOT / "data"
    if (in_repo / "catalogue.yaml").exists():
        return in_repo
    import sys

    return Path(sys.prefix) / "share" / "bgplan" / "data"


#: The open-data bundle (built by ``scripts/build_data.py``; see ``data/SOURCES.md``).
BUNDLED_DATA_DIR = _bundle_dir()


def _bundle_derived(name: str) -> Path | None:
    """The bundle's copy of ``name`` when the bundle *derives* it (from other source files, e.g. a window of a
    national shapefile) or the project compiled it (``origin: project``), so that a full data folder such as
    ``../shared/data``, which holds only the sources, still finds it; None otherwise."""
    from geo.io.bundle import CATALOGUE_NAME, load_catalogue

    catalogue = BUNDLED_DATA_DIR / CATALOGUE_NAME
    entry = load_catalogue(catalogue).entry(name) if catalogue.exists() else None
    if entry is None or (entry.source_file == entry.file and not entry.layer_sources and entry.origin != "project"):
        return None
    path = BUNDLED_DATA_DIR / name
    return path if path.exists() else None


def _default_data_dir() -> Path:
    """$BGPLAN_DATA when set, else the open-data bundle."""
    return Path(os.environ["BGPLAN_DATA"]) if os.environ.get("BGPLAN_DATA") else BUNDLED_DATA_DIR


#: Where ``--data`` points by default.
DEFAULT_DATA_DIR = _default_data_dir()

#: Boundary sets a region may offer (``--boundaries``): the open default, and GADM from a --data folder.
BOUNDARY_SETS = ("open", "gadm")


def available_regions() -> list[str]:
    """Names of the shipped region definitions."""
    return sorted(p.stem for p in REGIONS_DIR.glob("*.yaml"))


@dataclass
class Region:
    """A loaded region definition plus the data folder it reads from."""

    id: str
    config: dict
    data_dir: Path
    source_file: Path
    overrides: dict = field(default_factory=dict)
    boundaries: str = "open"

    @property
    def name_vi(self) -> str:
        return self.config.get("name_vi", self.id)

    @property
    def name_en(self) -> str:
        return self.config.get("name_en", self.id)

    @property
    def metric_crs(self) -> str:
        return self.config.get("metric_crs", "EPSG:32648")

    @property
    def storage_crs(self) -> str:
        return self.config.get("storage_crs", "EPSG:4326")

    @property
    def corridors(self) -> dict:
        """Corridor specs by id, in config order (expressways first)."""
        return dict(self.config.get("corridors") or {})

    def section(self, name: str) -> dict:
        """A config section, or an error naming the region file when it is missing."""
        value = self.config.get(name)
        if value is None:
            raise InputError(self.source_file, f"region '{self.id}' has no '{name}' section")
        return value

    def path(self, section: str, key: str = "file") -> Path:
        """Path of a data file named in the config, checked to exist.

        A user override (``--parks``, ``--osm`` …) registered in
        ``overrides[(section, key)]`` wins over the config.
        """
        if (section, key) in self.overrides:
            return Path(self.overrides[(section, key)])
        name = self.section(section).get(key)
        if not name:
            raise InputError(self.source_file, f"region '{self.id}': section '{section}' has no '{key}'")
        return self.data_path(name)

    def data_path(self, name: str) -> Path:
        """Path of a file of the data folder, checked to exist (for names listed inside a section)."""
        path = self.data_dir / name
        if not path.exists() and (derived := _bundle_derived(name)) is not None:
            return derived   # made by the bundle from files a full data folder holds under other names
        if not path.exists():
            withheld = self.withheld().get(name)
            if withheld:
                raise WithheldDataError(path, f"{withheld.get('what', name)}: not carried by the open-data bundle "
                                              f"({withheld['why']}); {withheld['instead']}")
            raise InputError(path, f"file not found: the data folder (--data) must hold '{name}' "
                                   "(layout of ../shared/data; see README or run 'plan.py fetch')")
        return path

    def withheld(self) -> dict:
        """Files the data folder's bundle catalogue withholds (licence), ``{name: {what, why, instead}}``."""
        from geo.io.bundle import CATALOGUE_NAME, load_catalogue

        catalogue = self.data_dir / CATALOGUE_NAME
        return load_catalogue(catalogue).withheld if catalogue.exists() else {}

    def run_section(self) -> dict:
        """What ``plan.py run`` does by default for this region (the ``run:`` section; empty when absent)."""
        return dict(self.config.get("run") or {})

    def destinations(self) -> gpd.GeoDataFrame:
        """Key destinations as points (EPSG:4326) with name_vi, name_en, kind, source, note."""
        rows = []
        for key, d in (self.config.get("destinations") or {}).items():
            try:
                lon, lat = float(d["lon"]), float(d["lat"])
            except (KeyError, TypeError, ValueError) as exc:
                raise InputError(self.source_file, f"destination '{key}' needs numeric lon and lat") from exc
            if not d.get("source"):
                raise InputError(self.source_file, f"destination '{key}' has no source")
            rows.append({"key": key, "name_vi": d.get("name_vi", key), "name_en": d.get("name_en", key),
                         "kind": d.get("kind", ""), "source": d["source"], "note": d.get("note", ""),
                         "lon": lon, "lat": lat})
        frame = gpd.GeoDataFrame(rows, geometry=gpd.points_from_xy([r["lon"] for r in rows], [r["lat"] for r in rows]), crs="EPSG:4326")
        return frame.drop(columns=["lon", "lat"])


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _resolve(name_or_path: str | os.PathLike) -> Path:
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml"):
        return candidate
    path = REGIONS_DIR / f"{name_or_path}.yaml"
    if not path.exists():
        raise InputError(None, f"unknown region '{name_or_path}' (available: {', '.join(available_regions())}; or give a .yaml file)")
    return path


def load_region(name_or_path: str | os.PathLike = "bac-giang", data_dir: str | os.PathLike | None = None,
                boundaries: str = "open") -> Region:
    """Load a region by name (``bac-giang``, ``bac-ninh-2025``) or YAML path.

    ``boundaries``: ``open`` (the region's ``boundary:`` section, geoBoundaries,
    redistributable) or ``gadm`` (its ``boundary_gadm:`` section, which needs a
    data folder holding GADM).
    """
    if boundaries not in BOUNDARY_SETS:
        raise InputError(None, f"--boundaries must be one of {', '.join(BOUNDARY_SETS)}, not '{boundaries}'")
    path = _resolve(name_or_path)
    config = read_yaml(path, "region file")
    seen = {path.resolve()}
    while "extends" in config:
        parent = _resolve(config.pop("extends"))
        if parent.resolve() in seen:
            raise InputError(path, "region 'extends' loops back on itself")
        seen.add(parent.resolve())
        config = _merge(read_yaml(parent, "region file"), config)
    if boundaries == "gadm":
        if not config.get("boundary_gadm"):
            raise InputError(path, "region has no 'boundary_gadm' section, so --boundaries gadm cannot be used")
        config["boundary"] = config["boundary_gadm"]
    data = Path(data_dir) if data_dir is not None else DEFAULT_DATA_DIR
    if not data.is_dir():
        raise InputError(data, "data folder not found (give --data DIR laid out like ../shared/data, or run 'plan.py fetch')")
    return Region(id=config.get("id", path.stem), config=config, data_dir=data, source_file=path, boundaries=boundaries)
