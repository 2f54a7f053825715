"""Line networks (roads, rails, rivers) as node and edge tables.

A network is two GeoDataFrames in EPSG:4326:

nodes
    ``node_id`` (int, unique), ``x``, ``y`` (longitude, latitude in degrees),
    geometry (Point), plus whatever the file carried.
edges
    ``edge_id`` (int, unique), ``u``, ``v`` (node ids of the two ends),
    ``length_m`` (metres, measured in the metric CRS when the file gives
    none), geometry (LineString from ``u`` to ``v``), plus whatever the file
    carried. Edges are undirected; parallel edges and loops are allowed.

:func:`read_line_network` reads the GeoPackage layout of
``bacgiang_roads_osm2018_bbox03.gpkg`` (layers ``edges`` and ``nodes``) or any
plain line file; :func:`lines_to_network` builds the node table of plain lines
from their end points and shared vertices; :func:`to_networkx` gives a :class:`networkx.MultiGraph`;
:func:`components_report` tells how connected the network is.

Reading speed (bacgiang_roads_osm2018_bbox03.gpkg, 89,739 edges and 57,548
nodes): about 0.6 s + 0.25 s through :func:`geo.io.vector.read_vector`. The
Arrow reader of pyogrio (``use_arrow=True``) would need pyarrow, which is not a
dependency; it is not worth adding for well under a second.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyogrio
import shapely
import shapely.ops
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geo import settings
from geo.errors import InputError
from geo.io.vector import read_vector

log = logging.getLogger(__name__)

#: Decimal degrees to which end points are rounded to become shared nodes (≈ 1 cm).
NODE_PRECISION_DEG = 1e-7


def read_line_network(path: str | os.PathLike, edges_layer: str = "edges",
                      nodes_layer: str = "nodes") -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Read a line network file into ``(nodes, edges)`` (both EPSG:4326).

    Two layouts are understood:

    * a file with an edge layer carrying ``u`` and ``v`` (node ids) and a node
      layer carrying ``node_id`` (coordinates from ``x``/``y`` or the point
      geometry) — the layout of ``bacgiang_roads_osm2018_bbox03.gpkg``.
      ``edge_id`` defaults to the row number, ``length_m`` is measured when
      absent.
    * any plain line file (GeoJSON, Shapefile, one-layer GeoPackage …) without
      ``u``/``v``: nodes are built from the line end points and shared
      vertices by :func:`lines_to_network`. ``edges_layer`` is then used only
      if the file has a layer of that name.

    Raises :class:`~geo.errors.InputError` naming the file when it cannot be
    read, has no lines, or its ``u``/``v`` refer to missing nodes.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file not found")
    layer_names = _layer_names(path)
    edge_layer = edges_layer if edges_layer in layer_names else None
    if edge_layer is None and len(layer_names) > 1:
        raise InputError(path, f"has no layer '{edges_layer}' (layers: {', '.join(layer_names)})")
    edges = read_vector(path, layer=edge_layer)
    _require_lines(edges, path)
    if not {"u", "v"} <= set(edges.columns):
        return lines_to_network(edges)
    if nodes_layer not in layer_names:
        raise InputError(path, f"edges have u/v but there is no node layer '{nodes_layer}' (layers: {', '.join(layer_names)})")
    nodes = read_vector(path, layer=nodes_layer)
    return _tidy(nodes, edges, path)


def lines_to_network(lines: gpd.GeoDataFrame, precision_deg: float = NODE_PRECISION_DEG,
                     split_at_shared_vertices: bool = True) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Build ``(nodes, edges)`` from plain lines.

    Multi-part lines are split into their parts. Coordinates are rounded to
    ``precision_deg`` degrees (default 1e-7°, about 1 cm) in EPSG:4326; end
    points that round to the same position become one node. With
    ``split_at_shared_vertices`` (default) a line is also cut at every vertex
    it shares with another line (or with itself), as OSM ways meet at shared
    nodes; lines that merely cross without a shared vertex stay unconnected
    (bridges, tunnels). The attribute columns of ``lines`` are kept on every
    piece; ``length_m`` is measured in the metric CRS unless given.

    >>> from shapely.geometry import LineString
    >>> g = gpd.GeoDataFrame({"name": ["a", "b"]}, geometry=[
    ...     LineString([(106.0, 21.0), (106.01, 21.0), (106.02, 21.0)]),
    ...     LineString([(106.01, 21.0), (106.01, 21.01)])], crs="EPSG:4326")
    >>> nodes, edges = lines_to_network(g)
    >>> len(nodes), edges[["name", "u", "v"]].values.tolist()
    (4, [['a', 0, 1], ['a', 1, 3], ['b', 1, 2]])
    >>> round(edges.length_m.sum())
    3186
    """
    if lines.crs is None:
        raise InputError(lines.attrs.get("source"), "lines have no CRS")
    lines = lines.to_crs(settings.storage_crs)
    keep = lines.geometry.notna() & ~lines.geometry.is_empty
    lines = lines.loc[keep].explode(index_parts=False).reset_index(drop=True)
    _require_lines(lines, lines.attrs.get("source"))
    coords, owner = shapely.get_coordinates(np.asarray(lines.geometry.values), return_index=True)
    keys = np.round(coords / precision_deg).astype(np.int64)
    _, key_id, key_count = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    key_id = key_id.ravel()
    first_of_line = np.r_[True, owner[1:] != owner[:-1]]
    last_of_line = np.r_[owner[1:] != owner[:-1], True]
    cut = first_of_line | last_of_line
    if split_at_shared_vertices:
        cut |= key_count[key_id] > 1
    # piece number of every vertex; a cut vertex inside a line also ends the previous piece
    piece = np.cumsum(cut & ~last_of_line) - 1
    inner = np.flatnonzero(cut & ~first_of_line & ~last_of_line)
    vertex = np.r_[np.arange(len(coords)), inner]
    piece_of_vertex = np.r_[piece, piece[inner] - 1]
    order = np.lexsort((vertex, piece_of_vertex))
    vertex, piece_of_vertex = vertex[order], piece_of_vertex[order]
    geometry = shapely.linestrings(coords[vertex], indices=piece_of_vertex)
    starts = np.r_[0, np.flatnonzero(np.diff(piece_of_vertex)) + 1]
    ends = np.r_[starts[1:] - 1, len(vertex) - 1]
    piece_line = owner[vertex[starts]]

    used, node_of_key = np.unique(key_id[np.r_[vertex[starts], vertex[ends]]], return_inverse=True)
    node_of_key = node_of_key.ravel()
    first_vertex = np.full(key_id.max() + 1, -1, dtype=np.int64)
    reverse = np.arange(len(key_id))[::-1]
    first_vertex[key_id[reverse]] = reverse
    xy = coords[first_vertex[used]]
    nodes = gpd.GeoDataFrame({"node_id": np.arange(len(used)), "x": xy[:, 0], "y": xy[:, 1]},
                             geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=settings.storage_crs)
    n = len(geometry)
    attributes = lines.drop(columns=[c for c in ("edge_id", "u", "v", lines.geometry.name) if c in lines.columns])
    attributes = attributes.iloc[piece_line].reset_index(drop=True)
    attributes.insert(0, "edge_id", np.arange(n))
    attributes.insert(1, "u", node_of_key[:n])
    attributes.insert(2, "v", node_of_key[n:])
    edges = gpd.GeoDataFrame(attributes, geometry=geometry, crs=settings.storage_crs)
    if "length_m" not in edges.columns or len(edges) != len(lines):
        edges["length_m"] = edges.geometry.to_crs(settings.metric_crs).length.values
    return nodes, edges


def to_networkx(nodes: pd.DataFrame, edges: pd.DataFrame) -> nx.MultiGraph:
    """Undirected :class:`networkx.MultiGraph` of the network.

    Node attributes ``x``, ``y`` (degrees); edge attributes ``edge_id`` and
    ``length`` (metres); the edge key is the ``edge_id``. Geometries are left
    out (look them up in ``edges`` by ``edge_id``) to keep the graph light.

    >>> from shapely.geometry import LineString
    >>> g = gpd.GeoDataFrame(geometry=[LineString([(106.0, 21.0), (106.01, 21.0)])], crs="EPSG:4326")
    >>> G = to_networkx(*lines_to_network(g))
    >>> G.number_of_nodes(), G.number_of_edges(), round(G[0][1][0]["length"])
    (2, 1, 1039)
    """
    graph = nx.MultiGraph()
    graph.add_nodes_from((int(i), {"x": float(x), "y": float(y)})
                         for i, x, y in zip(nodes["node_id"], nodes["x"], nodes["y"]))
    graph.add_edges_from((int(u), int(v), int(k), {"edge_id": int(k), "length": float(length)})
                         for u, v, k, length in zip(edges["u"], edges["v"], edges["edge_id"], edges["length_m"]))
    return graph


def component_labels(nodes: pd.DataFrame, edges: pd.DataFrame) -> pd.Series:
    """Connected component of each node (Series indexed by ``node_id``).

    Components are numbered by total edge length, 0 = the longest.
    """
    node_ids = nodes["node_id"].to_numpy()
    position = pd.Index(node_ids)
    u = position.get_indexer(edges["u"].to_numpy())
    v = position.get_indexer(edges["v"].to_numpy())
    if (u < 0).any() or (v < 0).any():
        raise InputError(None, "edges refer to node ids missing from the node table")
    n = len(node_ids)
    matrix = coo_matrix((np.ones(len(u)), (u, v)), shape=(n, n))
    _, labels = connected_components(matrix, directed=False)
    length = np.bincount(labels[u], weights=edges["length_m"].to_numpy(float), minlength=labels.max() + 1)
    rank = np.empty_like(length, dtype=np.int64)
    rank[np.lexsort((np.arange(len(length)), -length))] = np.arange(len(length))
    return pd.Series(rank[labels], index=node_ids, name="component")


def components_report(nodes: pd.DataFrame, edges: pd.DataFrame) -> pd.DataFrame:
    """One row per connected component, longest first.

    Columns: ``component`` (0 = longest), ``nodes``, ``edges`` (counts),
    ``length_km`` (total edge length), ``share`` (of the network length,
    0–1). Isolated nodes without edges count as components of length 0.

    >>> from shapely.geometry import LineString
    >>> g = gpd.GeoDataFrame(geometry=[LineString([(106.0, 21.0), (106.02, 21.0)]),
    ...                                LineString([(106.1, 21.0), (106.11, 21.0)])], crs="EPSG:4326")
    >>> components_report(*lines_to_network(g))[["component", "nodes", "length_km", "share"]].round(3).values.tolist()
    [[0.0, 2.0, 2.079, 0.667], [1.0, 2.0, 1.039, 0.333]]
    """
    labels = component_labels(nodes, edges)
    edge_comp = labels.loc[edges["u"].to_numpy()].to_numpy()
    count = int(labels.max()) + 1 if len(labels) else 0
    lengths = np.bincount(edge_comp, weights=edges["length_m"].to_numpy(float), minlength=count) / 1000.0
    total = lengths.sum()
    report = pd.DataFrame({
        "component": np.arange(count),
        "nodes": np.bincount(labels.to_numpy(), minlength=count),
        "edges": np.bincount(edge_comp, minlength=count),
        "length_km": lengths,
        "share": lengths / total if total > 0 else np.nan,
    })
    return report


def link_crossings(nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame, first, second, near, *, radius_m: float,
                   ramp_m: float, crs: str | None = None) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, list[dict]]:
    """Join two roads where they cross without a shared node: an interchange the geometry lost.

    ``first`` / ``second`` are boolean masks over ``edges`` (the two roads);
    ``near`` a point (EPSG:4326 shapely Point) where a source places the
    junction. Every crossing of a ``first`` edge with a ``second`` edge
    within ``radius_m`` of ``near`` becomes a node on each road (both edges
    are split there, keeping their attributes and lengths in proportion) and
    the two nodes are joined by an edge of ``ramp_m`` metres (the ramp; its
    attributes are copied from the ``first`` edge with ``link`` True when
    that column exists). Returns new ``(nodes, edges, added)``; ``added``
    lists each link (lon, lat, edge ids); nothing is added when the roads do
    not cross there. New node and edge ids follow the largest existing ones.

    >>> from shapely.geometry import LineString, Point
    >>> g = gpd.GeoDataFrame({"road": ["a", "b"]}, geometry=[LineString([(106.0, 21.0), (106.02, 21.0)]),
    ...                                                    LineString([(106.01, 20.99), (106.01, 21.01)])], crs="EPSG:4326")
    >>> nodes, edges = lines_to_network(g)
    >>> n2, e2, added = link_crossings(nodes, edges, (edges.road == "a").to_numpy(), (edges.road == "b").to_numpy(),
    ...                                Point(106.01, 21.0), radius_m=500, ramp_m=300)
    >>> len(e2), len(added), sorted(e2.loc[e2.edge_id.isin(added[0]["edges"]), "length_m"].round().tolist())
    (5, 1, [300.0])
    """
    crs = crs or settings.metric_crs
    edges = edges.reset_index(drop=True).assign(_road=np.where(np.asarray(first, bool), "a",
                                                                np.where(np.asarray(second, bool), "b", "")))
    centre = gpd.GeoSeries([near], crs=settings.storage_crs).to_crs(crs).iloc[0]
    added = []
    next_node = int(nodes["node_id"].max()) + 1
    for _ in range(16):                 # each round joins one crossing; a dual carriageway gives two
        found = _next_crossing(edges, centre, radius_m, crs)
        if found is None:
            break
        a_id, b_id, pt = found
        nodes, edges, on_a, next_node = _split_at(nodes, edges, a_id, pt, next_node, crs)
        nodes, edges, on_b, next_node = _split_at(nodes, edges, b_id, pt, next_node, crs)
        link = edges.loc[edges["edge_id"] == a_id].iloc[[0]].copy()
        link_id = int(edges["edge_id"].max()) + 1
        here = gpd.GeoSeries([pt], crs=crs).to_crs(settings.storage_crs).iloc[0]
        link = link.assign(edge_id=link_id, u=on_a, v=on_b, length_m=float(ramp_m), _road="",
                           geometry=[shapely.LineString([here, here])])
        if "link" in link:
            link["link"] = True
        edges = gpd.GeoDataFrame(pd.concat([edges, link], ignore_index=True), geometry=edges.geometry.name, crs=edges.crs)
        added.append({"lon": round(here.x, 6), "lat": round(here.y, 6), "edges": [link_id], "first": a_id, "second": b_id})
    return nodes, edges.drop(columns="_road"), added


def _next_crossing(edges, centre, radius_m: float, crs: str):
    """A crossing of a road-'a' edge with a road-'b' edge within the radius that is not yet a shared node."""
    near = edges.loc[edges["_road"] != ""]
    metric = np.asarray(near.geometry.to_crs(crs).values, dtype=object)
    inside = shapely.distance(metric, centre) <= radius_m
    road, u, v, ids = (near[c].to_numpy() for c in ("_road", "u", "v", "edge_id"))   # arrays: no frame access per pair
    a_rows = np.flatnonzero((road == "a") & inside)
    b_rows = np.flatnonzero((road == "b") & inside)
    for i in a_rows:
        for j in b_rows:
            if {u[i], v[i]} & {u[j], v[j]}:
                continue
            for pt in shapely.get_parts(metric[i].intersection(metric[j])):
                at_end = min(shapely.distance(pt, shapely.get_point(g, k)) for g in (metric[i], metric[j]) for k in (0, -1))
                if pt.geom_type == "Point" and pt.distance(centre) <= radius_m and at_end > 1.0:
                    return int(ids[i]), int(ids[j]), pt
    return None


def _split_at(nodes, edges, edge_id: int, point, next_node: int, crs: str):
    """Split edge ``edge_id`` at ``point`` (metric): ``(nodes, edges, node id there, next free node id)``."""
    row = int(np.flatnonzero(edges["edge_id"].to_numpy() == edge_id)[0])
    line = edges.geometry.iloc[[row]].to_crs(crs).iloc[0]
    at = line.project(point)
    if at <= 1.0 or at >= line.length - 1.0:
        end = edges["u"].iloc[row] if at <= 1.0 else edges["v"].iloc[row]
        return nodes, edges, int(end), next_node
    share = at / line.length
    here = gpd.GeoSeries([line.interpolate(at)], crs=crs).to_crs(settings.storage_crs).iloc[0]
    node = nodes.iloc[[0]].copy().assign(node_id=next_node, geometry=[here])
    for col in ("x", "y"):
        if col in node:
            node[col] = here.x if col == "x" else here.y
    nodes = gpd.GeoDataFrame(pd.concat([nodes, node], ignore_index=True), geometry=nodes.geometry.name, crs=nodes.crs)
    old = edges.iloc[[row]]
    first = gpd.GeoSeries([shapely.ops.substring(line, 0, at)], crs=crs).to_crs(settings.storage_crs).iloc[0]
    second = gpd.GeoSeries([shapely.ops.substring(line, at, line.length)], crs=crs).to_crs(settings.storage_crs).iloc[0]
    length = float(old["length_m"].iloc[0])
    piece_a = old.assign(v=next_node, length_m=length * share, geometry=[first])
    piece_b = old.assign(u=next_node, length_m=length * (1 - share), geometry=[second],
                         edge_id=int(edges["edge_id"].max()) + 1)
    edges = gpd.GeoDataFrame(pd.concat([edges.drop(index=edges.index[row]), piece_a, piece_b], ignore_index=True),
                             geometry=edges.geometry.name, crs=edges.crs)
    return nodes, edges, next_node, next_node + 1


def _layer_names(path: Path) -> list[str]:
    try:
        return [str(row[0]) for row in pyogrio.list_layers(path)]
    except Exception as exc:  # GDAL cannot open it at all
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(path, f"cannot be read as a vector file ({message.replace(str(path), '').strip(' :')})") from exc


def _require_lines(gdf: gpd.GeoDataFrame, path) -> None:
    kinds = set(gdf.geometry.geom_type.dropna().unique())
    if not kinds or not kinds <= {"LineString", "MultiLineString"}:
        raise InputError(path, f"expected line geometries, found {', '.join(sorted(kinds)) or 'none'}")


def _tidy(nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame, path: Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    if "node_id" not in nodes.columns:
        raise InputError(path, "node layer has no 'node_id' column")
    nodes = nodes.to_crs(settings.storage_crs)
    if not nodes["node_id"].is_unique:
        raise InputError(path, "node layer has repeated node_id values")
    if not {"x", "y"} <= set(nodes.columns):
        nodes["x"] = nodes.geometry.x
        nodes["y"] = nodes.geometry.y
    edges = edges.to_crs(settings.storage_crs)
    if "edge_id" not in edges.columns:
        edges.insert(0, "edge_id", np.arange(len(edges)))
    elif not edges["edge_id"].is_unique:
        raise InputError(path, "edge layer has repeated edge_id values")
    known = pd.Index(nodes["node_id"])
    unknown = ~(edges["u"].isin(known) & edges["v"].isin(known))
    if unknown.any():
        raise InputError(path, f"{int(unknown.sum())} edge(s) refer to node ids missing from the node layer")
    if "length_m" not in edges.columns:
        edges["length_m"] = edges.geometry.to_crs(settings.metric_crs).length.values
    return nodes.reset_index(drop=True), edges.reset_index(drop=True)
