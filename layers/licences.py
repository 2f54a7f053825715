"""Which data files each planning layer is built from, and so its sources and licence.

The licence of every known data file is written once, in the bundle catalogue
``data/catalogue.yaml`` (files the repository carries, with their licence and
``redistribution``; files it withholds, such as GADM and the iipvietnam.vn
points, as "not allowed"). The catalogue is read by file name whichever data
folder is in use, so ``--data ../shared/data`` gets the same answers. A file
the catalogue does not know (a planner's ``--parks`` file) is "unknown".

A layer built from several files takes the most restrictive redistribution of
them: "not allowed" over "unknown" over "allowed".

>>> most_restrictive(["allowed", "not allowed", "unknown"])
'not allowed'
"""

from __future__ import annotations

from pathlib import Path

from geo.io.bundle import load_catalogue, most_restrictive
from layers.region import BUNDLED_DATA_DIR, Region

#: The catalogue holding every known file's licence.
CATALOGUE = BUNDLED_DATA_DIR / "catalogue.yaml"

#: Layer → the region config entries (section, key) it is built from.
LAYER_INPUTS = {
    "province": [("boundary", "districts_file"), ("boundary", "file")],
    "districts": [("boundary", "districts_file"), ("boundary", "file")],
    "neighbours": [("boundary", "neighbours_file"), ("boundary", "file")],
    "industrial_parks": [("parks", "positions_file"), ("parks", "communes_file"), ("parks", "commune_points_file"),
                         ("parks", "points_file"), ("parks", "facts_file"), ("parks", "status_file")],
    "corridors": [("road_network", "file"), ("reference_roads", "file")],
    "railways": [("railways", "lines_file"), ("railways", "named_lines_file")],
    "stations": [("railways", "stations_file")],
    "water": [("water", "file")],
    "urban_areas": [("places", "file"), ("census", "district_file"), ("census", "commune_file")],
    "district_population": [("census", "district_file"), ("population_raster", "file")],
    "population": [("population_raster", "file"), ("census", "district_file")],
    # analyses that publish park points and names inherit the parks' licence
    "access": [("parks", "positions_file"), ("parks", "communes_file"), ("parks", "commune_points_file"),
               ("parks", "points_file"), ("parks", "facts_file"), ("road_network", "file")],
    "scenario": [("parks", "positions_file"), ("parks", "communes_file"), ("parks", "commune_points_file"),
                 ("parks", "points_file"), ("parks", "facts_file"), ("road_network", "file")],
}

_OSM = {"source": "OpenStreetMap extract given with --osm", "licence": "ODbL 1.0", "redistribution": "allowed",
        "attribution": "© OpenStreetMap contributors (ODbL)"}
_REGION_FILE = {"source": "region definition (coordinates with their sources)", "licence": "CC BY 4.0 (project)",
                "redistribution": "allowed", "attribution": "bgplan contributors"}


def known_files(catalogue_path: Path = CATALOGUE) -> dict:
    """``{file name: {source, licence, redistribution, attribution}}`` of carried and withheld files."""
    return load_catalogue(catalogue_path).known() if catalogue_path.exists() else {}


def file_licence(name: str, known: dict) -> dict:
    """Licence record of one data file (unknown when the catalogue does not list it)."""
    return known.get(name) or {"source": name, "licence": "not stated", "redistribution": "unknown", "attribution": ""}


def layer_licences(region: Region, parks_file=None, osm=None, layer_names=None) -> dict:
    """``{layer: {source, licence, redistribution, files}}`` for the layers of a build.

    ``parks_file`` (a planner's own list, licence unknown) replaces the
    registry points; ``osm`` adds OSM (ODbL) to the corridors and parks.
    """
    known = known_files()
    out = {}
    for layer in layer_names or list(LAYER_INPUTS) + ["destinations"]:
        if layer == "destinations":
            out[layer] = {**_REGION_FILE, "files": [region.source_file.name]}
            continue
        records, files = [], []
        for section, key in LAYER_INPUTS.get(layer, []):
            name = (region.config.get(section) or {}).get(key)
            if not name:
                continue
            if parks_file is not None and key in ("positions_file", "communes_file", "commune_points_file"):
                continue  # a planner's file replaces the open positions
            if key == "points_file":
                if parks_file is not None:
                    files.append(Path(parks_file).name)
                    records.append({"source": f"planner's file {Path(parks_file).name}", "licence": "not stated",
                                    "redistribution": "unknown", "attribution": ""})
                    continue
                if not (region.data_dir / name).exists():
                    continue  # withheld from the bundle: the layer holds no positions from it
            files.append(name)
            records.append(file_licence(name, known))
        for name in (region.config.get("boundary") or {}).get("merge_district_files", {}).values():
            if layer in ("province", "districts"):
                files.append(name)
                records.append(file_licence(name, known))
        if osm is not None and layer in ("corridors", "industrial_parks", "urban_areas", "access", "scenario"):
            files.append(Path(osm).name)
            records.append(_OSM)
        out[layer] = {
            "source": "; ".join(dict.fromkeys(r["source"] for r in records)) or "not stated",
            "licence": "; ".join(dict.fromkeys(r["licence"] for r in records)) or "not stated",
            "redistribution": most_restrictive(r["redistribution"] for r in records),
            "attribution": "; ".join(dict.fromkeys(r["attribution"] for r in records if r.get("attribution"))),
            "files": files,
        }
    return out
