"""The compact open-data bundle: build it from a source folder, check it, read its licences.

A bundle is a folder (the repository's ``data/``) with the file layout of a
``--data`` folder, holding only what the main job needs, in compact form, and
a ``catalogue.yaml`` that says for every file where it comes from, under which
licence, and whether it may be redistributed. Files that may *not* be
redistributed are listed under ``withheld:`` with what to do instead; the
region code reports them instead of failing obscurely.

Each catalogue entry::

    - file: bacgiang_roads_osm2018_bbox03.gpkg   # path inside the bundle = the --data layout
      from: bacgiang_roads_osm2018_bbox03.gpkg   # path inside the source folder (default: file)
      layers: {edges: [edge_id, u, v, length_m], nodes: [node_id]}   # GeoPackage: layers and columns kept
      layer_sources: {landuse: raw/…/gis.osm_landuse_a_free_1.shp}   # a layer read from another source file
      assume_crs: EPSG:4326     # for sources that declare no CRS (Geofabrik shapefiles without .prj)
      origin: project           # compiled by the project and kept in the bundle itself (no copy in the source folder)
      columns: [...]            # single-layer vector/CSV: columns kept (default: all)
      bbox: [minx, miny, maxx, maxy]   # vector: keep features intersecting it, clipped to it
      rows: {column: [values]}  # CSV/vector: keep rows whose column is one of the values
      source: ...; licence: ...; redistribution: allowed | not allowed | unknown; attribution: ...

:func:`build_bundle` writes every entry (GeoPackage without spatial index,
GeoJSON with 7 decimals at most, CSV in UTF-8, rasters byte-copied) and
``MANIFEST.json`` with a content digest per file; :func:`check_bundle`
compares a bundle with its manifest, so a test can rebuild into a temporary
folder and prove the committed bundle is what the script builds.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from geo.config import read_yaml
from geo.errors import InputError
from geo.io.output import atomic_path

#: Values ``redistribution`` may take, least to most restrictive.
REDISTRIBUTION = ("allowed", "unknown", "not allowed")

CATALOGUE_NAME = "catalogue.yaml"
MANIFEST_NAME = "MANIFEST.json"


@dataclass(frozen=True)
class BundleEntry:
    """One file of the bundle and where it comes from."""

    file: str
    source_file: str
    source: str
    licence: str
    redistribution: str
    attribution: str = ""
    layers: dict = field(default_factory=dict)
    columns: tuple = ()
    bbox: tuple = ()
    rows: dict = field(default_factory=dict)
    note: str = ""
    layer_sources: dict = field(default_factory=dict)
    assume_crs: str = ""
    origin: str = "source"      # "project": the bundle's own copy is the original (a file the project compiled)


@dataclass(frozen=True)
class Catalogue:
    """A bundle's catalogue: the files it carries and those it withholds (with why and what to do)."""

    entries: tuple[BundleEntry, ...]
    withheld: dict
    path: Path

    def entry(self, file: str) -> BundleEntry | None:
        return next((e for e in self.entries if e.file == file), None)

    def known(self) -> dict:
        """``{file: {source, licence, redistribution, attribution}}`` of carried files, and withheld ones as "not allowed"."""
        known = {e.file: {"source": e.source, "licence": e.licence, "redistribution": e.redistribution,
                          "attribution": e.attribution} for e in self.entries}
        for name, info in self.withheld.items():
            known[name] = {"source": info.get("what", name), "licence": info.get("why", ""),
                           "redistribution": "not allowed", "attribution": info.get("attribution", "")}
        return known


def most_restrictive(values) -> str:
    """The most restrictive of several ``redistribution`` values (unrecognised or none count as "unknown").

    >>> most_restrictive(["allowed", "unknown"]), most_restrictive(["allowed", "not allowed"]), most_restrictive([])
    ('unknown', 'not allowed', 'unknown')
    """
    ranks = [REDISTRIBUTION.index(v) if v in REDISTRIBUTION else 1 for v in values]
    return REDISTRIBUTION[max(ranks)] if ranks else "unknown"


def load_catalogue(path: str | os.PathLike) -> Catalogue:
    """Read and validate a bundle catalogue (``data/catalogue.yaml``)."""
    path = Path(path)
    raw = read_yaml(path, "bundle catalogue")
    entries = []
    for item in raw.get("files") or []:
        missing = [k for k in ("file", "source", "licence", "redistribution") if not item.get(k)]
        if missing:
            raise InputError(path, f"entry {item.get('file', '?')!r} lacks {', '.join(missing)}")
        if item["redistribution"] not in REDISTRIBUTION:
            raise InputError(path, f"entry {item['file']!r}: redistribution must be one of {', '.join(REDISTRIBUTION)}")
        if item["redistribution"] == "not allowed":
            raise InputError(path, f"entry {item['file']!r} may not be redistributed: list it under 'withheld', not 'files'")
        entries.append(BundleEntry(
            file=item["file"], source_file=item.get("from", item["file"]), source=item["source"],
            licence=item["licence"], redistribution=item["redistribution"], attribution=item.get("attribution", ""),
            layers=dict(item.get("layers") or {}), columns=tuple(item.get("columns") or ()),
            bbox=tuple(item.get("bbox") or ()), rows=dict(item.get("rows") or {}), note=item.get("note", ""),
            layer_sources=dict(item.get("layer_sources") or {}), assume_crs=item.get("assume_crs", ""),
            origin=str(item.get("origin", "source"))))
        if entries[-1].origin not in ("source", "project"):
            raise InputError(path, f"entry {item['file']!r}: origin must be 'source' or 'project'")
    files = [e.file for e in entries]
    if len(files) != len(set(files)):
        raise InputError(path, "a file is listed twice")
    withheld = {str(k): dict(v) for k, v in (raw.get("withheld") or {}).items()}
    for name, info in withheld.items():
        if not info.get("why") or not info.get("instead"):
            raise InputError(path, f"withheld file {name!r} needs 'why' and 'instead'")
    return Catalogue(entries=tuple(entries), withheld=withheld, path=path)


def _select(gdf, columns, rows, bbox, path):
    for column, values in rows.items():
        if column not in gdf:
            raise InputError(path, f"no column '{column}' to select rows by")
        gdf = gdf[gdf[column].isin(values)]
    if columns:
        absent = [c for c in columns if c not in gdf.columns]
        if absent:
            raise InputError(path, f"no column(s) {', '.join(absent)}")
        keep = list(columns) + ([gdf.geometry.name] if isinstance(gdf, gpd.GeoDataFrame) else [])
        gdf = gdf[keep]
    if bbox and isinstance(gdf, gpd.GeoDataFrame):
        box = shapely.box(*bbox)
        gdf = gdf[gdf.intersects(box)].copy()
        gdf["geometry"] = gdf.geometry.intersection(box)
    return gdf.reset_index(drop=True)


def _read_layer(entry: BundleEntry, source_dir: Path, layer: str) -> tuple[gpd.GeoDataFrame, Path]:
    """One layer of a GeoPackage entry: from ``layer_sources`` (a file of its own, read in the entry's bbox) or the entry's source."""
    if layer in entry.layer_sources:
        path = source_dir / entry.layer_sources[layer]
        if not path.exists():
            raise InputError(path, f"source of layer '{layer}' of bundle file '{entry.file}' not found")
        gdf = gpd.read_file(path, bbox=tuple(entry.bbox) or None)
    else:
        path = source_dir / entry.source_file
        gdf = gpd.read_file(path, layer=layer)
    if gdf.crs is None and entry.assume_crs:
        gdf = gdf.set_crs(entry.assume_crs)
    return gdf, path


def _build_one(entry: BundleEntry, source_dir: Path, target: Path, catalogue_dir: Path | None = None) -> None:
    src = source_dir / entry.source_file
    if entry.origin == "project" and catalogue_dir is not None:
        src = catalogue_dir / entry.file      # the project's own compilation, kept in the bundle
        if not src.exists():
            raise InputError(src, f"project-compiled bundle file '{entry.file}' not found")
        if src.resolve() == target.resolve():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target) as tmp:
            shutil.copyfile(src, tmp)
        return
    own_sources = entry.layers and set(entry.layers) <= set(entry.layer_sources)
    if not own_sources and not src.exists():
        raise InputError(src, f"source of bundle file '{entry.file}' not found")
    target.parent.mkdir(parents=True, exist_ok=True)
    suffix = target.suffix.lower()
    with atomic_path(target) as tmp:
        if suffix == ".gpkg":
            names = entry.layers or {name: [] for name, _ in pyogrio.list_layers(src)}
            for i, (layer, columns) in enumerate(names.items()):
                gdf, path = _read_layer(entry, source_dir, layer)
                gdf = _select(gdf, columns, entry.rows, entry.bbox, path)
                gdf.to_file(tmp, layer=layer, driver="GPKG", SPATIAL_INDEX="NO", mode="a" if i else "w")
        elif suffix in (".geojson", ".json"):
            gdf = _select(gpd.read_file(src), entry.columns, entry.rows, entry.bbox, src)
            gdf.to_file(tmp, driver="GeoJSON", layer=target.stem, COORDINATE_PRECISION=7, WRITE_BBOX="NO")
        elif suffix == ".csv":
            table = _select(pd.read_csv(src, dtype=str, keep_default_na=False), entry.columns, entry.rows, (), src)
            table.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
        else:  # rasters and anything else: byte copy
            shutil.copyfile(src, tmp)


def content_digest(path: str | os.PathLike) -> str:
    """SHA-256 of a file's *content*: features and values for vector files, bytes otherwise.

    GeoPackages carry write timestamps (and GeoJSON the temporary file's name),
    so two builds of the same data differ in bytes; the digest reads every layer back (column names, values, WKB)
    so that only a change of data changes it.
    """
    path = Path(path)
    h = hashlib.sha256()
    if path.suffix.lower() in (".gpkg", ".geojson"):
        for layer in sorted(str(name) for name, _ in pyogrio.list_layers(path)):
            gdf = gpd.read_file(path, layer=layer)
            h.update(layer.encode())
            h.update(",".join(map(str, gdf.columns)).encode())
            h.update(pd.util.hash_pandas_object(gdf.drop(columns=gdf.geometry.name), index=False).to_numpy().tobytes())
            for wkb in shapely.to_wkb(gdf.geometry.values, output_dimension=2):
                h.update(wkb or b"")
    else:
        h.update(path.read_bytes())
    return h.hexdigest()


def build_bundle(source_dir: str | os.PathLike, target_dir: str | os.PathLike, catalogue: Catalogue,
                 progress: bool = False) -> dict:
    """Build every catalogue entry from ``source_dir`` into ``target_dir``; write ``MANIFEST.json``.

    Returns the manifest: ``{file: {"bytes": int, "digest": str, "licence": str, "redistribution": str}}``.
    """
    from tqdm.auto import tqdm

    source_dir, target_dir = Path(source_dir), Path(target_dir)
    if not source_dir.is_dir():
        raise InputError(source_dir, "source data folder not found")
    # A fixed GeoPackage timestamp makes rebuilds byte-identical, so git stores the bundle once.
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2026-01-01T00:00:00.000Z"})
    manifest = {}
    for entry in tqdm(catalogue.entries, desc="bundle", unit="file", disable=not progress):
        target = target_dir / entry.file
        _build_one(entry, source_dir, target, catalogue_dir=catalogue.path.parent)
        manifest[entry.file] = {"bytes": target.stat().st_size, "digest": content_digest(target),
                                "licence": entry.licence, "redistribution": entry.redistribution}
    with atomic_path(target_dir / MANIFEST_NAME) as tmp:
        tmp.write_text(json.dumps(manifest, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    return manifest


def check_bundle(bundle_dir: str | os.PathLike) -> list[str]:
    """Differences between a bundle's files and its manifest (empty list: the bundle is intact)."""
    bundle_dir = Path(bundle_dir)
    manifest_path = bundle_dir / MANIFEST_NAME
    if not manifest_path.exists():
        return [f"{manifest_path}: missing"]
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    problems = []
    for file, info in manifest.items():
        path = bundle_dir / file
        if not path.exists():
            problems.append(f"{file}: missing")
        elif content_digest(path) != info["digest"]:
            problems.append(f"{file}: content differs from the manifest")
    return problems


def bundle_size_bytes(bundle_dir: str | os.PathLike) -> int:
    """Total size of the files of a bundle, in bytes."""
    return sum(p.stat().st_size for p in Path(bundle_dir).rglob("*") if p.is_file())
