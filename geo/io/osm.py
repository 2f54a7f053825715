"""OpenStreetMap data as users get it: a local file or the Overpass API.

Sources
-------
* ``.osm`` / ``.osm.bz2`` — OSM XML (JOSM, the openstreetmap.org export, Overpass
  ``out xml``), parsed with osmnx's XML reader.
* ``.osm.pbf`` — OSM PBF (Geofabrik and BBBike extracts), read with pyrosm. The file's
  block structure is checked first, so a truncated download is reported instead of
  crashing deep inside the decoder.
* ``None`` plus a ``polygon`` — the Overpass API through osmnx, answers cached under
  ``geo.settings.cache_folder / "overpass"`` (``osmnx.settings.overpass_url`` chooses
  the server).

All three go through the same steps for road networks: the ways are filtered with
osmnx's network filter for ``network_type`` (``"drive"`` keeps motorway … residential
and their links, drops footways, tracks, parking aisles, ``access=private`` …), the
graph is built by osmnx, cut to ``polygon`` and simplified (one edge per road stretch
between junctions). So a region read from an extract matches the same region read
from Overpass.

Returned columns
----------------
edges (:func:`read_osm_roads`): ``u``, ``v``, ``key`` (node ids, parallel-edge key),
    ``osmid`` (way id, or ids joined with ";" when several ways were merged),
    ``highway``, ``ref``, ``int_ref``, ``name``, ``maxspeed``, ``lanes``, ``oneway``
    (bool), ``bridge``, ``tunnel``, ``junction``, ``access``, ``service``,
    ``length_m`` (metres along the line, great-circle), ``geometry`` (LineString).
    A one-way road is one edge, a two-way road two (u→v and v→u), as in osmnx.
nodes: ``osmid``, ``x``, ``y`` (lon/lat), ``street_count``, ``highway``, ``ref``,
    ``geometry`` (Point).
features (:func:`read_osm_features`): ``element`` (node/way/relation), ``osmid``,
    one column per OSM tag found (``name``, ``landuse``, ``place``…), ``geometry``.

Text is Unicode NFC and otherwise exactly as tagged (``ref="QL.1A;AH1"`` stays so);
values of several merged ways are joined with ";" (unique, sorted). Missing tags
are None. Everything is in EPSG:4326; ``attrs["summary"]`` holds counts a planner
wants.

>>> import pathlib
>>> xml = pathlib.Path(__file__).parents[2] / "tests" / "fixtures" / "bac_giang_tagging.osm"
>>> nodes, edges = read_osm_roads(xml)
>>> sorted(edges.highway.unique())
['motorway_link', 'primary', 'tertiary', 'trunk']
>>> edges.loc[edges.highway == "trunk", "ref"].iloc[0]
'QL.1A;AH1'
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import unicodedata
import xml.sax
from xml.etree import ElementTree
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from geo import settings
from geo.errors import DataGapError, InputError

log = logging.getLogger(__name__)

#: File endings understood, and the reader behind each.
OSM_SUFFIXES = {".osm": "xml", ".osm.bz2": "xml", ".osm.pbf": "pbf", ".pbf": "pbf"}

#: Network types (osmnx names) accepted by the road readers.
NETWORK_TYPES = ("drive", "drive_service", "walk", "bike", "all", "all_public")

#: Way tags carried onto graph edges (osmnx defaults plus the international road number).
EDGE_TAGS = ["highway", "ref", "int_ref", "name", "maxspeed", "lanes", "oneway", "bridge",
             "tunnel", "junction", "access", "service", "area", "landuse", "width", "est_width"]

#: Edge columns always present in :func:`read_osm_roads` output (None when untagged).
EDGE_COLUMNS = ["u", "v", "key", "osmid", "highway", "ref", "int_ref", "name", "maxspeed", "lanes",
                "oneway", "bridge", "tunnel", "junction", "access", "service", "length_m", "geometry"]
NODE_COLUMNS = ["osmid", "x", "y", "street_count", "highway", "ref", "geometry"]

_META_COLUMNS = {"visible", "version", "timestamp", "changeset", "tags", "lon", "lat", "nodes",
                 "ways", "members", "uid", "user"}


# --------------------------------------------------------------------------- public API

def read_osm_roads(path_or_none, polygon=None, network_type: str = "drive"):
    """Road network as two GeoDataFrames ``(nodes, edges)`` in EPSG:4326.

    Parameters
    ----------
    path_or_none : an ``.osm``, ``.osm.bz2`` or ``.osm.pbf`` file, or None to ask the
        Overpass API for ``polygon``.
    polygon : shapely (Multi)Polygon in EPSG:4326, or a GeoSeries/GeoDataFrame (any
        CRS). Ways are kept when they touch it (osmnx ``truncate_by_edge``). Required
        without a file.
    network_type : osmnx network type: "drive" (default), "drive_service", "walk",
        "bike", "all", "all_public".

    Columns are listed in the module docstring; ``edges.attrs["summary"]`` gives
    edge/node counts, road length in km (a two-way road counted once; also
    ``length_km_directed``) and the road length per highway class.
    Raises :class:`~geo.errors.InputError` on unreadable input and
    :class:`~geo.errors.DataGapError` when no road of that type is in the area.
    """
    G = osm_graph(path_or_none, polygon=polygon, network_type=network_type)
    return graph_to_frames(G)


def osm_graph(path_or_none, polygon=None, network_type: str = "drive") -> nx.MultiDiGraph:
    """Simplified osmnx-style road graph (``MultiDiGraph``, node ``x``/``y`` in lon/lat).

    Same inputs as :func:`read_osm_roads`. Edge attributes are those of the
    ``edges`` frame (strings NFC, merged values joined with ";", ``length`` and
    ``length_m`` in metres); ``G.graph["crs"]`` is EPSG:4326 and
    ``G.graph["source"]`` names the file or the Overpass URL.
    """
    if network_type not in NETWORK_TYPES:
        raise InputError(None, f"unknown network type '{network_type}' (expected one of {', '.join(NETWORK_TYPES)})")
    area = _as_polygon(polygon)
    if path_or_none is None:
        if area is None:
            raise InputError(None, "no OSM file given and no polygon to ask the Overpass API for")
        G = _graph_from_overpass(area, network_type)
        source = _overpass_url()
    else:
        path, kind = check_osm_file(path_or_none)
        raw = _xml_json(path) if kind == "xml" else _pbf_road_json(path, area)
        G = _graph_from_json(raw, network_type, path, in_area=area is not None)
        if area is not None:
            G = _truncate(G, area, path, network_type)
        source = str(path)
    G = _clean_graph(_simplify(G))
    if G.number_of_edges() == 0:
        raise DataGapError(source, f"no '{network_type}' roads {'in the requested area' if area is not None else 'in the file'}")
    G.graph["crs"] = "EPSG:4326"
    G.graph["source"] = source
    G.graph["network_type"] = network_type
    return G


def graph_to_frames(G: nx.MultiDiGraph):
    """``(nodes, edges)`` GeoDataFrames of a graph made by :func:`osm_graph`."""
    import osmnx as ox

    nodes, edges = ox.graph_to_gdfs(G, nodes=True, edges=True, fill_edge_geometry=True)
    nodes = nodes.reset_index().rename(columns={"index": "osmid"})
    edges = edges.reset_index()
    for col in NODE_COLUMNS:
        if col not in nodes:
            nodes[col] = None
    for col in EDGE_COLUMNS:
        if col not in edges:
            edges[col] = None
    nodes = gpd.GeoDataFrame(nodes[NODE_COLUMNS], geometry="geometry", crs="EPSG:4326")
    edges = gpd.GeoDataFrame(edges[EDGE_COLUMNS], geometry="geometry", crs="EPSG:4326")
    for frame, cols in ((nodes, ("highway", "ref")), (edges, EDGE_COLUMNS[3:16])):
        for col in cols:
            if col != "oneway":
                frame[col] = _none_for_missing(frame[col])
    edges["oneway"] = edges["oneway"].astype(bool)
    edges["length_m"] = edges["length_m"].astype(float)
    # road length counts a two-way road once (osmnx stores it as u->v and v->u)
    pair = pd.DataFrame({"a": np.minimum(edges["u"], edges["v"]), "b": np.maximum(edges["u"], edges["v"]),
                         "osmid": edges["osmid"].map(lambda s: ";".join(sorted(str(s).split(";")))),
                         "len": edges["length_m"].round(1)})
    once = ~pair.duplicated()
    per_class = edges[once].groupby("highway")["length_m"].sum().div(1000).round(1)
    summary = {
        "source": G.graph.get("source"),
        "network_type": G.graph.get("network_type"),
        "nodes": int(len(nodes)),
        "edges": int(len(edges)),
        "length_km": round(float(edges.loc[once, "length_m"].sum()) / 1000, 1),
        "length_km_directed": round(float(edges["length_m"].sum()) / 1000, 1),
        "length_km_by_highway": {str(k): float(v) for k, v in per_class.sort_values(ascending=False).items()},
        "edges_with_ref": int(edges["ref"].notna().sum()),
        "edges_with_name": int(edges["name"].notna().sum()),
    }
    edges.attrs["summary"] = summary
    nodes.attrs["summary"] = {k: summary[k] for k in ("source", "network_type", "nodes")}
    return nodes, edges


def read_osm_features(path_or_none, tags: dict, polygon=None) -> gpd.GeoDataFrame:
    """OSM elements matching ``tags``, as a GeoDataFrame in EPSG:4326.

    Parameters
    ----------
    path_or_none : OSM file (``.osm``, ``.osm.bz2``, ``.osm.pbf``) or None for Overpass.
    tags : osmnx-style selection: ``{"landuse": ["industrial"]}`` (industrial-park
        outlines), ``{"place": ["city", "town", "village"]}``, ``{"railway":
        ["station", "halt"]}``, ``{"building": True}`` (any value). An element matches
        when any of the keys matches.
    polygon : keep elements intersecting it (required without a file).

    Ways and relations come as (Multi)Polygons when closed areas (landuse…), else
    lines; nodes as Points. An empty result is returned as an empty frame (with
    ``attrs["summary"]["features"] == 0``), not an error: "none mapped" is a finding.
    """
    if not isinstance(tags, dict) or not tags:
        raise InputError(None, "tags must be a non-empty dict such as {'landuse': ['industrial']}")
    tags = {k: (v if isinstance(v, bool) else [v] if isinstance(v, str) else list(v)) for k, v in tags.items()}
    area = _as_polygon(polygon)
    if path_or_none is None:
        if area is None:
            raise InputError(None, "no OSM file given and no polygon to ask the Overpass API for")
        source = _overpass_url()
        gdf = _features_from_overpass(area, tags)
    else:
        path, kind = check_osm_file(path_or_none)
        source = str(path)
        gdf = _features_from_xml(path, tags) if kind == "xml" else _features_from_pbf(path, tags, area)
    gdf = _normalise_features(gdf)
    if area is not None and len(gdf):
        gdf = gdf[gdf.intersects(area)].reset_index(drop=True)
    counts = {}
    for key, wanted in tags.items():
        if key in gdf:
            counts[key] = {str(k): int(v) for k, v in gdf[key].value_counts().items()}
    gdf.attrs["summary"] = {
        "source": source,
        "tags": {k: (v if isinstance(v, bool) else list(v)) for k, v in tags.items()},
        "features": int(len(gdf)),
        "by_element": {str(k): int(v) for k, v in gdf["element"].value_counts().items()},
        "by_tag": counts,
    }
    if len(gdf) == 0:
        log.info("%s: no OSM elements match %s", source, tags)
    return gdf


def check_osm_file(path) -> tuple[Path, str]:
    """Check an OSM file before reading; return ``(path, "xml" | "pbf")``.

    Raises :class:`~geo.errors.InputError` (one line, naming the file) when it is
    missing, a folder, empty, of an unknown kind, a Git-LFS pointer instead of the
    data, or (``.pbf``) truncated/corrupt.

    >>> check_osm_file("roads.shp")
    Traceback (most recent call last):
    ...
    geo.errors.InputError: roads.shp: file not found
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file not found")
    if path.is_dir():
        raise InputError(path, "is a folder, expected an OSM file (.osm, .osm.bz2 or .osm.pbf)")
    name = path.name.lower()
    kind = next((k for suffix, k in sorted(OSM_SUFFIXES.items(), key=lambda kv: -len(kv[0]))
                 if name.endswith(suffix)), None)
    if kind is None:
        raise InputError(path, f"unknown OSM format '{''.join(path.suffixes) or path.name}' (expected .osm, .osm.bz2 or .osm.pbf)")
    size = path.stat().st_size
    if size == 0:
        raise InputError(path, "file is empty")
    with path.open("rb") as fh:
        head = fh.read(64)
    if head.startswith(b"version https://git-lfs"):
        raise InputError(path, "is a Git LFS pointer, not the OSM data (run 'git lfs pull' or download the file again)")
    if kind == "pbf":
        check_pbf_structure(path)
    elif name.endswith(".bz2") and not head.startswith(b"BZh"):
        raise InputError(path, "is not a bzip2 file (expected a compressed .osm.bz2)")
    return path, kind


def check_pbf_structure(path) -> int:
    """Walk the blocks of an OSM PBF file; return their number.

    Each block is a 4-byte length, a small header naming the block type and the
    size of its data. A file cut short (an interrupted download) ends inside a
    block; a file that is not PBF has no "OSMHeader" first. Only headers are
    read, so this takes well under a second even for a country extract.
    """
    path = Path(path)
    size = path.stat().st_size
    blocks = 0
    with path.open("rb") as fh:
        pos = 0
        while pos < size:
            raw = fh.read(4)
            if len(raw) < 4:
                raise InputError(path, f"truncated OSM PBF file (ends inside block {blocks + 1}, at byte {pos:,} of {size:,}); download it again")
            header_len = int.from_bytes(raw, "big")
            if header_len == 0 or header_len > 64 * 1024:
                raise InputError(path, f"not a valid OSM PBF file (bad block header at byte {pos:,})")
            header = fh.read(header_len)
            if len(header) < header_len:
                raise InputError(path, f"truncated OSM PBF file (ends inside block {blocks + 1}, at byte {size:,}); download it again")
            block_type, data_size = _parse_blob_header(header)
            if block_type is None or data_size is None:
                raise InputError(path, f"not a valid OSM PBF file (unreadable block header at byte {pos:,})")
            if blocks == 0 and block_type != "OSMHeader":
                raise InputError(path, f"not a valid OSM PBF file (first block is '{block_type}', expected 'OSMHeader')")
            end = pos + 4 + header_len + data_size
            if end > size:
                raise InputError(path, f"truncated OSM PBF file ({size:,} bytes, block {blocks + 1} needs {end:,}); download it again")
            fh.seek(end)
            pos = end
            blocks += 1
    if blocks < 2:
        raise InputError(path, "OSM PBF file holds no data blocks")
    return blocks


# --------------------------------------------------------------------------- helpers: input

def _parse_blob_header(buf: bytes):
    """(type, datasize) from a protobuf-encoded OSMPBF BlobHeader, or (None, None)."""
    i, n = 0, len(buf)
    block_type = data_size = None

    def varint(i):
        shift = value = 0
        while i < n:
            b = buf[i]
            value |= (b & 0x7F) << shift
            i += 1
            if not b & 0x80:
                return value, i
            shift += 7
        raise ValueError

    try:
        while i < n:
            key, i = varint(i)
            field, wire = key >> 3, key & 7
            if wire == 0:
                value, i = varint(i)
                if field == 3:
                    data_size = value
            elif wire == 2:
                length, i = varint(i)
                if field == 1:
                    block_type = buf[i:i + length].decode("ascii", "replace")
                i += length
            else:
                return None, None
    except ValueError:
        return None, None
    return block_type, data_size


def _as_polygon(polygon):
    """shapely geometry in EPSG:4326 from shapely / GeoSeries / GeoDataFrame / None."""
    if polygon is None:
        return None
    if isinstance(polygon, (gpd.GeoDataFrame, gpd.GeoSeries)):
        geo = polygon.geometry if isinstance(polygon, gpd.GeoDataFrame) else polygon
        if geo.crs is not None:
            geo = geo.to_crs("EPSG:4326")
        polygon = shapely.union_all(geo.values)
    if not isinstance(polygon, shapely.Geometry) or polygon.is_empty:
        raise InputError(None, "polygon must be a non-empty shapely geometry or GeoSeries")
    if polygon.geom_type not in ("Polygon", "MultiPolygon"):
        raise InputError(None, f"polygon must be a Polygon or MultiPolygon, got {polygon.geom_type}")
    minx, miny, maxx, maxy = polygon.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise InputError(None, "polygon is not in longitude/latitude (EPSG:4326)")
    return shapely.make_valid(polygon)


@contextlib.contextmanager
def _osmnx_settings():
    """osmnx settings for one call: our cache folder, user agent, timeout, edge tags."""
    import osmnx as ox

    s = ox.settings
    saved = {k: getattr(s, k) for k in ("use_cache", "cache_folder", "http_user_agent", "requests_timeout",
                                        "useful_tags_way", "log_console")}
    s.use_cache = True
    s.cache_folder = Path(settings.cache_folder) / "overpass"
    s.http_user_agent = settings.user_agent
    s.requests_timeout = settings.http_timeout_s
    s.useful_tags_way = list(dict.fromkeys(list(saved["useful_tags_way"]) + EDGE_TAGS))
    s.log_console = False
    try:
        yield ox
    finally:
        for k, v in saved.items():
            setattr(s, k, v)


def _overpass_url() -> str:
    import osmnx as ox

    return ox.settings.overpass_url


def _xml_json(path: Path) -> dict:
    """Overpass-style JSON of a whole OSM XML file (plain or bz2)."""
    from osmnx import _osm_xml

    try:
        return _osm_xml._overpass_json_from_xml(path, "utf-8")
    except xml.sax.SAXParseException as exc:
        raise InputError(path, f"not valid OSM XML (line {exc.getLineNumber()}: {exc.getMessage()})") from None
    except ElementTree.ParseError as exc:
        raise InputError(path, f"not valid OSM XML ({exc})") from None
    except (OSError, EOFError, ValueError) as exc:  # bz2 stream / text decoding errors
        raise InputError(path, f"not readable as OSM XML ({type(exc).__name__}: {exc})") from None


def _pbf_osm(path: Path, area):
    import pyrosm

    bbox = list(area.bounds) if area is not None else None
    return pyrosm.OSM(str(path), bounding_box=bbox, progress=False)


def _pbf_call(path: Path, fn):
    """Run a pyrosm call; decoder errors become one-line InputErrors."""
    try:
        return fn()
    except InputError:
        raise
    except Exception as exc:
        name = type(exc).__name__
        if (name in ("DecodeError", "InvalidOSMFileError", "error")
                or isinstance(exc, (OSError, EOFError, ValueError, KeyError, IndexError, RuntimeError))):
            detail = str(exc).replace(str(path), "").strip(" '\"")
            detail = detail[:200] + ("…" if len(detail) > 200 else "")
            raise InputError(path, f"cannot decode OSM PBF ({name}: {detail}); the file is corrupt, download it again") from None
        raise


def _pbf_road_json(path: Path, area) -> dict:
    """Overpass-style JSON (nodes and highway ways, full tags) from an OSM PBF file."""
    import warnings

    def read():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _pbf_osm(path, area).get_network(network_type="all", nodes=True)

    got = _pbf_call(path, read)
    if got is None or got[1] is None or len(got[1]) == 0:
        return {"elements": []}
    nodes, edges = got
    if edges["u"].isna().any() or nodes["id"].isna().any():
        raise InputError(path, "OSM PBF decoded to incomplete ways (missing node ids); the file may be corrupt")
    elements = []
    lon = nodes["lon"].to_numpy(float) if "lon" in nodes else nodes.geometry.x.to_numpy()
    lat = nodes["lat"].to_numpy(float) if "lat" in nodes else nodes.geometry.y.to_numpy()
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()
            and (np.abs(lon) <= 180).all() and (np.abs(lat) <= 90).all()):
        raise InputError(path, "OSM PBF decoded to invalid coordinates; the file may be corrupt")
    node_tags = nodes["tags"] if "tags" in nodes else pd.Series([None] * len(nodes))
    for nid, x, y, t in zip(nodes["id"].to_numpy(np.int64), lon, lat, node_tags):
        el = {"type": "node", "id": int(nid), "lon": float(x), "lat": float(y)}
        tg = _json_tags(t)
        if tg:
            el["tags"] = tg
        elements.append(el)
    edges = edges.reset_index(drop=True)
    ids = edges["id"].to_numpy(np.int64)
    order = np.argsort(ids, kind="stable")
    ids = ids[order]
    u = edges["u"].to_numpy(np.int64)[order]
    v = edges["v"].to_numpy(np.int64)[order]
    starts = np.r_[0, np.flatnonzero(np.diff(ids)) + 1]
    ends = np.r_[starts[1:], len(ids)]
    tag_cols = [c for c in edges.columns if c not in _META_COLUMNS | {"id", "osm_type", "geometry", "u", "v", "length"}]
    first = edges.iloc[order[starts]]
    col_values = first[tag_cols].to_dict("records")
    extra = first["tags"].tolist() if "tags" in first else [None] * len(first)
    for s, e, cols, ext in zip(starts, ends, col_values, extra):
        path_nodes = [int(u[s])] + [int(x) for x in v[s:e]]
        tags = _json_tags(ext)
        tags.update({k: str(val) for k, val in cols.items() if val is not None and not (isinstance(val, float) and np.isnan(val))})
        elements.append({"type": "way", "id": int(ids[s]), "nodes": path_nodes, "tags": tags})
    return {"elements": elements}


def _json_tags(value) -> dict:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return {}
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    try:
        got = json.loads(value)
    except (TypeError, ValueError):
        return {}
    return {str(k): str(v) for k, v in got.items()} if isinstance(got, dict) else {}


# --------------------------------------------------------------------------- helpers: graph

_FILTER_PART = re.compile(r'\["([^"]+)"(?:(!?~)"([^"]*)")?\]')


def network_filter(network_type: str):
    """osmnx's Overpass way filter for ``network_type`` as a Python predicate on tags.

    ``["highway"]`` needs the key; ``["k"~"re"]`` needs a matching value;
    ``["k"!~"re"]`` rejects a matching value (an absent key passes), as in Overpass.

    >>> keep = network_filter("drive")
    >>> keep({"highway": "primary"}), keep({"highway": "footway"}), keep({"highway": "residential", "access": "private"})
    (True, False, False)
    """
    from osmnx import _overpass

    rules = [(k, op, re.compile(rx) if op else None)
             for k, op, rx in _FILTER_PART.findall(_overpass._get_network_filter(network_type))]

    def keep(tags: dict) -> bool:
        for key, op, rx in rules:
            value = tags.get(key)
            if not op:
                if value is None:
                    return False
            elif op == "~":
                if value is None or not rx.search(value):
                    return False
            elif value is not None and rx.search(value):
                return False
        return True

    return keep


def _graph_from_json(raw: dict, network_type: str, path: Path, in_area: bool = False) -> nx.MultiDiGraph:
    """Unsimplified osmnx graph of the ways of ``raw`` that pass the network filter."""
    keep = network_filter(network_type)
    coords = {}
    ways = []
    for el in raw.get("elements", []):
        if el.get("type") == "node":
            coords[el["id"]] = el
        elif el.get("type") == "way" and keep(el.get("tags") or {}):
            ways.append(el)
    used, kept, cut = set(), [], 0
    for way in ways:
        run = _longest_run_with_coords(way.get("nodes") or [], coords)
        if len(run) < len(way.get("nodes") or []):
            cut += 1
        if len(run) >= 2:
            kept.append({**way, "nodes": run})
            used.update(run)
    if cut:
        log.warning("%s: %d ways reference nodes missing from the file; kept their longest complete stretch", path, cut)
    if not kept:
        raise DataGapError(path, f"no '{network_type}' roads {'in the requested area' if in_area else 'in the file'}")
    elements = [coords[n] for n in used] + kept
    import osmnx as ox
    from osmnx import graph as ox_graph

    with _osmnx_settings():
        return ox_graph._create_graph([{"elements": elements}], network_type in ox.settings.bidirectional_network_types)


def _longest_run_with_coords(node_ids, coords) -> list:
    best, cur = [], []
    for n in node_ids:
        if n in coords:
            cur.append(n)
        else:
            best, cur = (cur if len(cur) > len(best) else best), []
    return cur if len(cur) > len(best) else best


def _truncate(G, area, path, network_type):
    import osmnx as ox

    try:
        G = ox.truncate.truncate_graph_polygon(G, area, truncate_by_edge=True)
    except ValueError:
        raise DataGapError(path, f"no '{network_type}' roads in the requested area") from None
    if G.number_of_edges() == 0:
        raise DataGapError(path, f"no '{network_type}' roads in the requested area")
    return G


def _simplify(G: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """One edge per stretch between junctions; a change of ``highway`` or ``ref`` also ends a stretch."""
    with _osmnx_settings() as ox:
        G = ox.simplify_graph(G, edge_attrs_differ=["highway", "ref"])
        nx.set_node_attributes(G, ox.stats.count_streets_per_node(G), name="street_count")
    return G


def _graph_from_overpass(area, network_type: str) -> nx.MultiDiGraph:
    with _osmnx_settings() as ox:
        try:
            return ox.graph_from_polygon(area, network_type=network_type, simplify=False,
                                         retain_all=True, truncate_by_edge=True)
        except Exception as exc:
            raise _overpass_error(exc, "roads") from None


def _features_from_overpass(area, tags):
    with _osmnx_settings() as ox:
        try:
            return ox.features_from_polygon(area, tags=tags)
        except Exception as exc:
            if type(exc).__name__ == "InsufficientResponseError":
                return _empty_features()
            raise _overpass_error(exc, "features") from None


def _overpass_error(exc: Exception, what: str) -> Exception:
    name = type(exc).__name__
    if name == "InsufficientResponseError":
        return DataGapError(_overpass_url(), f"Overpass returned no {what} for the requested area")
    if name in ("ConnectionError", "Timeout", "ReadTimeout", "ConnectTimeout", "HTTPError", "ResponseStatusCodeError", "SSLError", "gaierror"):
        return InputError(_overpass_url(), f"Overpass API unreachable or failing ({name}); without network, download an extract "
                          f"(e.g. https://download.geofabrik.de/asia/vietnam-latest.osm.pbf) and pass it as a file")
    return exc


def _none_for_missing(series: pd.Series) -> pd.Series:
    """Object column with None (not NaN) where a tag is absent."""
    return pd.Series([None if v is None or (isinstance(v, float) and np.isnan(v)) else v for v in series],
                     index=series.index, dtype=object)


def _clean_value(value, key=None):
    if isinstance(value, (list, tuple, set)):
        items = [_clean_value(v) for v in value]
        if key == "oneway":
            return all(bool(v) for v in items)
        if key in ("length", "length_m"):
            return float(sum(items))
        # osmnx merges through sets, so order carries no meaning: sort (numbers numerically)
        uniq = sorted({str(v) for v in items if v is not None},
                      key=lambda t: (not t.isdigit(), int(t) if t.isdigit() else 0, t))
        return ";".join(uniq) if uniq else None
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    return value


def _clean_graph(G: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """NFC strings, ";"-joined merged values, ``length_m``, ``osmid`` as text."""
    for _, _, data in G.edges(data=True):
        for k in list(data):
            if k != "geometry":
                data[k] = _clean_value(data[k], k)
        if "osmid" in data:
            data["osmid"] = str(data["osmid"])
        data["oneway"] = bool(data.get("oneway", False))
        data["length_m"] = float(data.get("length", np.nan))
    for _, data in G.nodes(data=True):
        for k in list(data):
            if isinstance(data[k], (str, list)):
                data[k] = _clean_value(data[k], k)
    return G


# --------------------------------------------------------------------------- helpers: features

def _empty_features() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"element": [], "osmid": []}, geometry=[], crs="EPSG:4326")


def _features_from_xml(path: Path, tags) -> gpd.GeoDataFrame:
    raw = _xml_json(path)  # validates the XML with one-line errors
    if not any(el.get("type") in ("way", "relation", "node") for el in raw.get("elements", [])):
        return _empty_features()
    import osmnx as ox

    with _osmnx_settings():
        try:
            return ox.features_from_xml(path, tags=tags)
        except Exception as exc:
            if type(exc).__name__ == "InsufficientResponseError":
                return _empty_features()
            raise


def _features_from_pbf(path: Path, tags, area) -> gpd.GeoDataFrame:
    import warnings

    def read():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _pbf_osm(path, area).get_data_by_custom_criteria(
                custom_filter=tags, osm_keys_to_keep=list(tags), filter_type="keep",
                keep_nodes=True, keep_ways=True, keep_relations=True)

    gdf = _pbf_call(path, read)
    if gdf is None or len(gdf) == 0:
        return _empty_features()
    gdf = gdf.reset_index(drop=True)
    if "tags" in gdf:
        extra = pd.DataFrame([_json_tags(t) for t in gdf["tags"]], index=gdf.index)
        extra = extra[[c for c in extra.columns if c not in gdf.columns]]
        gdf = pd.concat([gdf, extra], axis=1)
    gdf = gdf.rename(columns={"osm_type": "element", "id": "osmid"})
    return gpd.GeoDataFrame(gdf, geometry="geometry", crs=gdf.crs or "EPSG:4326")


def _normalise_features(gdf) -> gpd.GeoDataFrame:
    gdf = gdf.copy()
    if isinstance(gdf.index, pd.MultiIndex) or "element" not in gdf.columns:
        gdf = gdf.reset_index()
        gdf = gdf.rename(columns={"element_type": "element", "id": "osmid"})
    if gdf.crs is None:
        gdf = gdf.set_crs("EPSG:4326")
    gdf = gdf.to_crs("EPSG:4326")
    geom = gdf.geometry.name
    drop = [c for c in gdf.columns if c in _META_COLUMNS and c != geom]
    gdf = gdf.drop(columns=drop)
    for col in gdf.columns:
        if col == geom:
            continue
        if gdf[col].dtype == object or pd.api.types.is_string_dtype(gdf[col]):
            gdf[col] = _none_for_missing(gdf[col].map(_clean_value))
    gdf["osmid"] = pd.to_numeric(gdf["osmid"], errors="coerce").astype("Int64")
    gdf["element"] = gdf["element"].astype(object)
    tag_cols = sorted(c for c in gdf.columns if c not in ("element", "osmid", geom))
    gdf = gdf[["element", "osmid"] + tag_cols + [geom]]
    if geom != "geometry":
        gdf = gdf.rename_geometry("geometry")
    gdf = gdf[~gdf.geometry.isna() & ~gdf.geometry.is_empty].reset_index(drop=True)
    return gpd.GeoDataFrame(gdf, geometry="geometry", crs="EPSG:4326")
