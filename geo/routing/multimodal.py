"""Networks that may be entered only at declared points: rail at stations, expressways at interchanges.

Two graphs drawn on the same map may cross or even share coordinates without
being connected: a train cannot be boarded between stations, and a road
passing under an expressway gives no access to it. Here the second graph (the
*layer*: rail, an expressway) keeps node ids of its own and is joined to the
*base* graph (roads) only by explicit *link* edges at its access points:

* :func:`insert_points` — put points (stations, interchanges) onto the
  nearest edge of a network within a tolerance, splitting that edge, and
  report how far each point was moved (or why it was not attached);
* :func:`controlled_access` — which nodes of an expressway may connect to
  other roads (its interchanges), as a table: the rule as data;
* :func:`connect_layers` — the combined node and edge tables, with a link
  edge from each access node to the nearest base node, costing a fixed
  penalty plus the access leg at a slow speed;
* :func:`multimodal_edges` — road + rail joined at stations (``mode`` road /
  rail / transfer), the transfer costing the configured transshipment time;
* :func:`router_arrays`, :func:`to_graph` — the combined tables as arrays for
  :meth:`geo.routing.router.Router.from_arrays` or as a networkx graph.

Table conventions (plain DataFrames, metric CRS, metres and seconds):

nodes
    ``node_id`` (unique), ``x``, ``y`` (metres, e.g. EPSG:32648).
edges
    ``u``, ``v`` (node ids), ``length_m``, ``travel_time_s``; optional ``edge_id``.

Combined output: nodes ``node_id``, ``x``, ``y``, ``mode``, ``source_node_id``
(id in the input table it came from) and ``access_name`` (station or
interchange name at access nodes); edges ``edge_id`` (0 … m−1), ``u``, ``v``,
``mode``, ``length_m``, ``travel_time_s``, ``source_edge_id`` and
``access_name``. Layer node ids are made unique by adding an integer offset
(integer ids) or a ``"<mode>:"`` prefix (other ids); the mapping is the pair
(``node_id``, ``source_node_id``) and ``attrs["summary"]["offsets"]``.

A road → rail → road trip pays the transfer twice (loading and unloading).

>>> road_nodes = pd.DataFrame({"node_id": [0, 1], "x": [0.0, 10_000.0], "y": [0.0, 0.0]})
>>> road_edges = pd.DataFrame({"u": [0], "v": [1], "length_m": [10_000.0], "travel_time_s": [1200.0]})
>>> rail_nodes = pd.DataFrame({"node_id": [0, 1], "x": [0.0, 10_000.0], "y": [50.0, 50.0]})
>>> rail_edges = pd.DataFrame({"u": [0], "v": [1], "length_m": [10_000.0], "travel_time_s": [300.0]})
>>> stations = pd.DataFrame({"node_id": [0, 1], "name": ["A", "B"]})
>>> nodes, edges = multimodal_edges(road_nodes, road_edges, rail_nodes, rail_edges, stations, transfer_min=5)
>>> nodes[["node_id", "mode", "source_node_id"]].values.tolist()
[[0, 'road', 0], [1, 'road', 1], [10, 'rail', 0], [11, 'rail', 1]]
>>> edges[["u", "v", "mode", "travel_time_s"]].values.tolist()
[[0, 1, 'road', 1200.0], [10, 11, 'rail', 300.0], [10, 0, 'transfer', 318.0], [11, 1, 'transfer', 318.0]]
"""

from __future__ import annotations

import logging
import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
import shapely.ops
from scipy.spatial import cKDTree

from geo import settings
from geo.errors import InputError
from geo.routing.network import lines_to_network

log = logging.getLogger(__name__)

NODE_COLUMNS = ["node_id", "x", "y", "mode", "source_node_id", "access_name"]
EDGE_COLUMNS = ["edge_id", "u", "v", "mode", "length_m", "travel_time_s", "source_edge_id", "access_name"]


# --------------------------------------------------------------------------- points onto a network


def insert_points(nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame, points: gpd.GeoDataFrame,
                  max_distance_m: float, crs=settings.metric_crs, name_column: str = "name",
                  reuse_node_m: float = 1.0, metric_lines=None) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, pd.DataFrame]:
    """Attach points to the nearest edge of a network, splitting the edge there.

    Parameters
    ----------
    nodes, edges : GeoDataFrames of a network (``node_id``; ``edge_id``, ``u``,
        ``v``, ``length_m``, LineString geometry from ``u`` to ``v``), any CRS
        (the same for both).
    points : GeoDataFrame of points (any CRS), e.g. stations or interchanges.
    max_distance_m : points farther than this from every edge are not attached.
    crs : metric CRS in which distances are measured.
    reuse_node_m : a projection this close to an edge's end uses that end node.
    metric_lines : the edges' lines already in ``crs`` (aligned with ``edges``), when the caller has them.

    Returns ``(nodes, edges, attached)``. New nodes get the next free integer
    ids (other columns missing: recompute coordinates from the geometry); a
    split edge is replaced by pieces with new ``edge_id`` values, its other
    columns copied, ``length_m`` (and ``travel_time_s`` if present) shared
    in proportion to the piece lengths, and ``split_from`` = the old
    ``edge_id`` (missing on edges not split). ``attached`` has one row per
    point (index of ``points``): ``name``, ``node_id`` (missing when not
    attached), ``distance_m`` (point → line), ``reason`` (None when attached).

    >>> from shapely.geometry import LineString, Point
    >>> n = gpd.GeoDataFrame({"node_id": [0, 1]}, geometry=[Point(0, 0), Point(1000, 0)], crs="EPSG:32648")
    >>> e = gpd.GeoDataFrame({"edge_id": [0], "u": [0], "v": [1], "length_m": [1000.0]},
    ...                      geometry=[LineString([(0, 0), (1000, 0)])], crs="EPSG:32648")
    >>> p = gpd.GeoDataFrame({"name": ["S", "far"]}, geometry=[Point(400, 30), Point(400, 900)], crs="EPSG:32648")
    >>> n2, e2, att = insert_points(n, e, p, max_distance_m=100)
    >>> e2[["edge_id", "u", "v", "length_m", "split_from"]].values.tolist()
    [[1, 0, 2, 400.0, 0], [2, 2, 1, 600.0, 0]]
    >>> att[["name", "node_id", "distance_m"]].values.tolist()
    [['S', 2, 30.0], ['far', <NA>, nan]]
    """
    if edges.crs is None or points.crs is None:
        raise InputError(None, "network edges and points need a CRS to be joined")
    lines = np.asarray(edges.geometry.to_crs(crs).values if metric_lines is None else metric_lines, dtype=object)
    pts = np.asarray(points.geometry.to_crs(crs).values)
    names = points[name_column].tolist() if name_column in points else [None] * len(points)
    attached = pd.DataFrame({"name": pd.Series(names, dtype=object, index=points.index),
                             "node_id": pd.array([pd.NA] * len(points), dtype="Int64"),
                             "distance_m": np.nan, "reason": pd.Series([None] * len(points), dtype=object, index=points.index)},
                            index=points.index)
    if len(points) == 0:
        return nodes, edges, attached
    tree = shapely.STRtree(lines)
    which, dist = tree.query_nearest(pts, max_distance=float(max_distance_m), return_distance=True, all_matches=False)
    point_pos, edge_pos = which
    missing = np.setdiff1d(np.arange(len(pts)), point_pos)
    for k in missing:
        attached.iloc[k, attached.columns.get_loc("reason")] = f"farther than {max_distance_m:g} m from the network"
    if len(point_pos) == 0:
        return nodes, edges, attached

    next_node = int(nodes["node_id"].max()) + 1 if len(nodes) else 0
    next_edge = int(edges["edge_id"].max()) + 1 if len(edges) else 0
    u_all = edges["u"].to_numpy()
    v_all = edges["v"].to_numpy()
    cuts: dict[int, list[tuple[float, int]]] = {}      # edge position -> [(distance along, node id)]
    new_nodes, new_node_ids = [], []
    for k, e, d in zip(point_pos, edge_pos, dist):
        line = lines[e]
        along = float(line.project(pts[k]))
        if along <= reuse_node_m:
            node = u_all[e]
        elif along >= line.length - reuse_node_m:
            node = v_all[e]
        else:
            node = next((nid for a, nid in cuts.get(e, []) if abs(a - along) <= reuse_node_m), None)
            if node is None:
                node = next_node
                next_node += 1
                cuts.setdefault(e, []).append((along, node))
                new_nodes.append(line.interpolate(along))
                new_node_ids.append(node)
        attached.iloc[k, attached.columns.get_loc("node_id")] = int(node)
        attached.iloc[k, attached.columns.get_loc("distance_m")] = round(float(d), 1)

    if new_nodes:
        added = gpd.GeoDataFrame({"node_id": new_node_ids},
                                 geometry=gpd.GeoSeries(new_nodes, crs=crs).to_crs(nodes.crs).values, crs=nodes.crs)
        nodes = gpd.GeoDataFrame(pd.concat([nodes, added], ignore_index=True), geometry=nodes.geometry.name, crs=nodes.crs)
    if cuts:
        pieces, piece_lines = [], []
        rows_of = pd.DataFrame(edges, copy=False)
        rows_of.attrs = {}                  # rows without the frame's attrs: pandas deep-copies them on every row taken
        length, edge_ids = edges["length_m"].to_numpy(float), edges["edge_id"].to_numpy()
        times = edges["travel_time_s"].to_numpy(float) if "travel_time_s" in edges else None
        for e, marks in cuts.items():
            line = lines[e]
            marks = sorted(marks)
            stops = [0.0] + [a for a, _ in marks] + [line.length]
            ends = [u_all[e]] + [nid for _, nid in marks] + [v_all[e]]
            total = line.length
            for i in range(len(stops) - 1):
                piece = shapely.ops.substring(line, stops[i], stops[i + 1])
                share = (stops[i + 1] - stops[i]) / total if total > 0 else 0.0
                row = rows_of.iloc[e].copy()
                row["edge_id"] = next_edge
                next_edge += 1
                row["u"], row["v"] = ends[i], ends[i + 1]
                row["length_m"] = float(length[e]) * share
                if times is not None:
                    row["travel_time_s"] = float(times[e]) * share
                row["split_from"] = edge_ids[e]
                pieces.append(row)
                piece_lines.append(piece)
        kept = edges.drop(edges.index[list(cuts)])
        split = pd.DataFrame(pieces)
        split[edges.geometry.name] = gpd.GeoSeries(piece_lines, crs=crs).to_crs(edges.crs).values   # one reprojection
        edges = gpd.GeoDataFrame(pd.concat([kept, split], ignore_index=True), geometry=edges.geometry.name, crs=edges.crs)
        edges["split_from"] = edges["split_from"].astype("Int64")
        for col in ("edge_id", "u", "v"):
            if _all_int(edges[col].to_numpy()):
                edges[col] = edges[col].astype(np.int64)
        edges["length_m"] = edges["length_m"].astype(float)
    return nodes, edges, attached


def controlled_access(expressway_edges: gpd.GeoDataFrame, interchanges: gpd.GeoDataFrame, *,
                      nodes: gpd.GeoDataFrame | None = None, max_snap_m: float = 300.0, crs=settings.metric_crs,
                      name_column: str = "name") -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, pd.DataFrame]:
    """Which nodes of an expressway may connect to other roads: its interchanges only.

    Parameters
    ----------
    expressway_edges : the expressway as a network (``edge_id``, ``u``,
        ``v``, ``length_m``, LineStrings) or as plain lines (e.g. a scenario
        file), which are turned into one with :func:`geo.routing.network.lines_to_network`.
    interchanges : points (any CRS) with an optional ``name_column``.
    nodes : the expressway's node table (``node_id``, Point geometry); by
        default taken from the end points of the edges.
    max_snap_m : interchanges farther than this from the expressway are not attached.

    The interchange points are put onto the expressway with
    :func:`insert_points`. Returns ``(nodes, edges, access)``: the expressway
    network with the interchange nodes inserted (node ``x``, ``y`` in metres
    of ``crs``, ready for :func:`connect_layers`), and ``access``, one row per
    expressway node: ``node_id``, ``access`` (bool: True only at an
    interchange), ``interchange`` (name, None elsewhere), ``snap_m``
    (interchange point → expressway line, m). Give ``access[access.access]``
    to :func:`connect_layers`: every other node — including where a road
    crosses the expressway, even at the same coordinates — stays closed.
    Interchanges that could not be attached are in
    ``access.attrs["not_attached"]`` (name and reason).

    >>> from shapely.geometry import LineString, Point
    >>> line = gpd.GeoDataFrame({"name": ["CT.01"]}, geometry=[LineString([(0, 0), (9000, 0)])], crs="EPSG:32648")
    >>> ic = gpd.GeoDataFrame({"name": ["IC Kép"]}, geometry=[Point(3000, 120)], crs="EPSG:32648")
    >>> _, edges, access = controlled_access(line, ic)
    >>> access.values.tolist()
    [[0, False, None, nan], [1, False, None, nan], [2, True, 'IC Kép', 120.0]]
    >>> edges["length_m"].round().tolist()
    [3000.0, 6000.0]
    """
    edges = expressway_edges
    if not {"u", "v"} <= set(edges.columns):
        nodes, edges = lines_to_network(edges)
    elif nodes is None:
        nodes = _end_nodes(edges)
    if "edge_id" not in edges:
        edges = edges.assign(edge_id=np.arange(len(edges)))
    if "length_m" not in edges:
        edges = edges.assign(length_m=edges.geometry.to_crs(crs).length.to_numpy())
    nodes, edges, attached = insert_points(nodes, edges, interchanges, max_snap_m, crs=crs, name_column=name_column)
    xy = nodes.geometry.to_crs(crs)
    nodes = nodes.assign(x=xy.x.to_numpy(), y=xy.y.to_numpy())      # metres, as connect_layers wants
    ok = attached[attached["node_id"].notna()]
    first = ok.drop_duplicates("node_id")
    names = dict(zip(first["node_id"].astype(int), first["name"]))
    snaps = dict(zip(first["node_id"].astype(int), first["distance_m"]))
    ids = nodes["node_id"].to_numpy()
    access = pd.DataFrame({
        "node_id": ids,
        "access": np.isin(ids, list(names)),
        "interchange": pd.Series([names.get(int(i)) for i in ids], dtype=object),
        "snap_m": [snaps.get(int(i), np.nan) for i in ids],
    })
    bad = attached[attached["node_id"].isna()]
    access.attrs["not_attached"] = [{"name": n, "reason": r} for n, r in zip(bad["name"], bad["reason"])]
    return nodes, edges, access


def _end_nodes(edges: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Node table (``node_id``, Point) from the end points of edges with ``u``/``v``."""
    geoms = np.asarray(edges.geometry.values)
    first = shapely.get_point(geoms, 0)
    last = shapely.get_point(geoms, -1)
    table = pd.DataFrame({"node_id": np.r_[edges["u"].to_numpy(), edges["v"].to_numpy()],
                          "geometry": np.r_[first, last]}).drop_duplicates("node_id")
    return gpd.GeoDataFrame({"node_id": table["node_id"].to_numpy()}, geometry=table["geometry"].to_numpy(), crs=edges.crs)


# --------------------------------------------------------------------------- joining graphs


def connect_layers(base_nodes: pd.DataFrame, base_edges: pd.DataFrame, layer_nodes: pd.DataFrame,
                   layer_edges: pd.DataFrame, access: pd.DataFrame, *, penalty_s: float, access_kmh: float,
                   max_link_m: float, base_mode: str = "road", layer_mode: str = "rail", link_mode: str = "transfer",
                   name_column: str = "name", directed: bool = False, offset: int | None = None
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One graph of a base network and a layer joined only at the layer's access nodes.

    Parameters
    ----------
    base_nodes, base_edges, layer_nodes, layer_edges : tables as in the module
        docstring (x, y in metres of one metric CRS; ``travel_time_s``).
    access : layer nodes open to the base: column ``node_id`` (layer ids; or
        ``rail_node_id``) and optionally ``name_column`` (station/interchange name).
    penalty_s : fixed cost of each link edge (transfer time, 0 for a ramp), s.
    access_kmh : speed of the link leg from the access node to the nearest base node.
    max_link_m : an access node with no base node this close gets no link (reported).
    directed : base edges are one-way rows (osmnx style); layer and link edges
        are then written in both directions.
    offset : added to layer node ids (integer ids); default the smallest
        power of ten above every base id. Non-integer ids get a ``"<mode>:"`` prefix.

    Returns ``(nodes, edges)`` (columns in the module docstring) with
    ``edges.attrs["summary"]``: edges and km per mode, access nodes linked /
    not linked (with the reason), link length statistics, offset.
    """
    for table, what in ((base_nodes, "base nodes"), (layer_nodes, "layer nodes")):
        _require(table, ("node_id", "x", "y"), what)
    for table, what in ((base_edges, "base edges"), (layer_edges, "layer edges")):
        _require(table, ("u", "v", "length_m", "travel_time_s"), what)
    id_col = "node_id" if "node_id" in access else "rail_node_id" if "rail_node_id" in access else None
    if id_col is None:
        raise InputError(None, "access points need a 'node_id' (or 'rail_node_id') column of layer node ids")
    if access_kmh <= 0 or not math.isfinite(access_kmh):
        raise InputError(None, f"access speed must be > 0 km/h, got {access_kmh}")

    base_ids = base_nodes["node_id"].to_numpy()
    layer_ids = layer_nodes["node_id"].to_numpy()
    integer = _all_int(base_ids) and _all_int(layer_ids)
    if integer:
        if offset is None:
            top = int(base_ids.max()) + 1 if len(base_ids) else 1
            offset = 10 ** max(1, math.ceil(math.log10(top + 1)))
            if len(base_ids) and len(layer_ids) and int(layer_ids.min()) + offset <= int(base_ids.max()):
                offset = int(base_ids.max()) - int(layer_ids.min()) + 1
        new_layer = lambda ids: np.asarray(ids).astype(np.int64) + offset          # noqa: E731
    else:
        offset = None
        new_layer = lambda ids: np.array([f"{layer_mode}:{i}" for i in ids], dtype=object)  # noqa: E731

    nodes = pd.concat([
        pd.DataFrame({"node_id": base_ids, "x": base_nodes["x"].to_numpy(float), "y": base_nodes["y"].to_numpy(float),
                      "mode": base_mode, "source_node_id": base_ids}),
        pd.DataFrame({"node_id": new_layer(layer_ids), "x": layer_nodes["x"].to_numpy(float),
                      "y": layer_nodes["y"].to_numpy(float), "mode": layer_mode, "source_node_id": layer_ids}),
    ], ignore_index=True)
    if not nodes["node_id"].is_unique:
        raise InputError(None, "node ids of the two networks overlap even after the offset; give another offset")
    names = access[name_column].tolist() if name_column in access else [None] * len(access)
    name_of = {}
    for i, n in zip(access[id_col], names):
        name_of.setdefault(i, n)
    nodes["access_name"] = pd.Series([name_of.get(i) if m == layer_mode else None
                                      for i, m in zip(nodes["source_node_id"], nodes["mode"])], dtype=object)

    # link edges: each access node to its nearest base node
    layer_pos = pd.Index(layer_ids)
    acc_ids = pd.unique(access[id_col].to_numpy())
    pos = layer_pos.get_indexer(acc_ids)
    unknown = acc_ids[pos < 0]
    acc_ids, pos = acc_ids[pos >= 0], pos[pos >= 0]
    not_linked = [{"node_id": _plain(i), "name": name_of.get(i), "reason": "not a node of the layer"} for i in unknown]
    links = pd.DataFrame(columns=["u", "v", "length_m", "travel_time_s", "access_name"])
    if len(acc_ids) and len(base_ids):
        tree = cKDTree(np.column_stack([base_nodes["x"].to_numpy(float), base_nodes["y"].to_numpy(float)]))
        ax = layer_nodes["x"].to_numpy(float)[pos]
        ay = layer_nodes["y"].to_numpy(float)[pos]
        dist, near = tree.query(np.column_stack([ax, ay]), distance_upper_bound=np.nextafter(max_link_m, np.inf))
        ok = np.isfinite(dist)
        for i, d in zip(acc_ids[~ok], dist[~ok]):
            not_linked.append({"node_id": _plain(i), "name": name_of.get(i),
                               "reason": f"no {base_mode} node within {max_link_m:g} m"})
        links = pd.DataFrame({
            "u": new_layer(acc_ids[ok]), "v": base_ids[near[ok]], "length_m": dist[ok],
            "travel_time_s": penalty_s + dist[ok] / (access_kmh / 3.6),
            "access_name": pd.Series([name_of.get(i) for i in acc_ids[ok]], dtype=object),
        })
    elif len(acc_ids):
        not_linked.extend({"node_id": _plain(i), "name": name_of.get(i), "reason": f"no {base_mode} nodes"} for i in acc_ids)

    def frame(u, v, mode, length, time, source, names_):
        return pd.DataFrame({"u": u, "v": v, "mode": mode, "length_m": np.asarray(length, float),
                             "travel_time_s": np.asarray(time, float), "source_edge_id": source,
                             "access_name": pd.Series(names_, dtype=object)})

    base_src = base_edges["edge_id"].to_numpy() if "edge_id" in base_edges else np.arange(len(base_edges))
    layer_src = layer_edges["edge_id"].to_numpy() if "edge_id" in layer_edges else np.arange(len(layer_edges))
    parts = [
        frame(base_edges["u"].to_numpy(), base_edges["v"].to_numpy(), base_mode, base_edges["length_m"],
              base_edges["travel_time_s"], base_src, [None] * len(base_edges)),
        frame(new_layer(layer_edges["u"].to_numpy()), new_layer(layer_edges["v"].to_numpy()), layer_mode,
              layer_edges["length_m"], layer_edges["travel_time_s"], layer_src, [None] * len(layer_edges)),
        frame(links["u"].to_numpy(), links["v"].to_numpy(), link_mode, links["length_m"], links["travel_time_s"],
              [None] * len(links), links["access_name"].tolist()),
    ]
    if directed:
        for k in (1, 2):
            back = parts[k].rename(columns={"u": "v", "v": "u"})[parts[k].columns]
            parts[k] = pd.concat([parts[k], back], ignore_index=True)
    edges = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else parts[0]
    edges["source_edge_id"] = edges["source_edge_id"].astype(object)
    edges.insert(0, "edge_id", np.arange(len(edges)))
    bad = ~np.isfinite(edges["travel_time_s"].to_numpy(float)) | (edges["travel_time_s"].to_numpy(float) < 0)
    if bad.any():
        raise InputError(None, f"{int(bad.sum())} edge(s) have a missing or negative travel time")

    link_len = links["length_m"].to_numpy(float) if len(links) else np.array([])
    summary = {
        "modes": {m: {"edges": int((edges["mode"] == m).sum()),
                      "km": round(float(edges.loc[edges["mode"] == m, "length_m"].sum()) / 1000, 1)}
                  for m in (base_mode, layer_mode, link_mode)},
        "access_nodes": int(len(acc_ids) + len(unknown)),
        "linked": int(len(links)),
        "not_linked": not_linked,
        "link_m": {"median": _round(np.median(link_len)) if len(link_len) else None,
                   "max": _round(link_len.max()) if len(link_len) else None},
        "penalty_s": float(penalty_s), "access_kmh": float(access_kmh), "max_link_m": float(max_link_m),
        "directed": bool(directed), "offsets": {layer_mode: offset if offset is None else int(offset)},
    }
    edges.attrs["summary"] = summary
    for item in not_linked:
        log.warning("%s access %s (%s) not linked: %s", layer_mode, item["name"], item["node_id"], item["reason"])
    return nodes[NODE_COLUMNS], edges[EDGE_COLUMNS]


def multimodal_edges(road_nodes: pd.DataFrame, road_edges: pd.DataFrame, rail_nodes: pd.DataFrame,
                     rail_edges: pd.DataFrame, stations: pd.DataFrame, transfer_min: float,
                     access_kmh: float = 10.0, max_access_m: float = 2000.0, directed: bool = False,
                     rail_offset: int | None = None, name_column: str = "name") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Road and rail in one graph; rail is entered and left only at stations.

    ``stations`` names the rail nodes of the stations (``node_id`` or
    ``rail_node_id`` column, optional ``name``). Each station gets a
    ``transfer`` edge to its nearest road node (within ``max_access_m``):
    ``transfer_min`` × 60 s plus the access leg at ``access_kmh``. Columns
    ``mode`` = road / rail / transfer; see :func:`connect_layers` for the
    rest (``edges.attrs["summary"]`` lists stations without a road node).
    """
    if not (transfer_min >= 0 and math.isfinite(transfer_min)):
        raise InputError(None, f"transfer time must be ≥ 0 min, got {transfer_min}")
    return connect_layers(road_nodes, road_edges, rail_nodes, rail_edges, stations, penalty_s=float(transfer_min) * 60.0,
                          access_kmh=access_kmh, max_link_m=max_access_m, base_mode="road", layer_mode="rail",
                          link_mode="transfer", name_column=name_column, directed=directed, offset=rail_offset)


# --------------------------------------------------------------------------- hand-over


def router_arrays(nodes: pd.DataFrame, edges: pd.DataFrame, weight: str = "travel_time_s") -> dict:
    """Keyword arguments for :meth:`geo.routing.router.Router.from_arrays`: ``node_ids``, ``x``, ``y``, ``u``, ``v``, ``weight``.

    >>> n = pd.DataFrame({"node_id": [5, 6], "x": [0.0, 1.0], "y": [0.0, 0.0]})
    >>> e = pd.DataFrame({"u": [5], "v": [6], "travel_time_s": [3.0]})
    >>> {k: v.tolist() for k, v in router_arrays(n, e).items()}
    {'node_ids': [5, 6], 'x': [0.0, 1.0], 'y': [0.0, 0.0], 'u': [5], 'v': [6], 'weight': [3.0]}
    """
    _require(nodes, ("node_id", "x", "y"), "nodes")
    _require(edges, ("u", "v", weight), "edges")
    return {"node_ids": nodes["node_id"].to_numpy(), "x": nodes["x"].to_numpy(float), "y": nodes["y"].to_numpy(float),
            "u": edges["u"].to_numpy(), "v": edges["v"].to_numpy(), "weight": edges[weight].to_numpy(float)}


def to_graph(nodes: pd.DataFrame, edges: pd.DataFrame, directed: bool = False, crs=settings.metric_crs) -> nx.MultiGraph:
    """networkx multigraph of the tables (for checks and small networks).

    Node attributes ``x``, ``y`` (and ``mode`` when present); edge key =
    ``edge_id``, attributes ``travel_time`` (s), ``length`` (m), ``mode``.
    ``G.graph["crs"]`` is the metric CRS, so
    :meth:`geo.routing.router.Router.from_networkx` takes it as it is.
    """
    G = nx.MultiDiGraph() if directed else nx.MultiGraph()
    G.graph["crs"] = crs
    modes = nodes["mode"] if "mode" in nodes else [None] * len(nodes)
    G.add_nodes_from((_plain(i), {"x": float(x), "y": float(y), "mode": m})
                     for i, x, y, m in zip(nodes["node_id"], nodes["x"], nodes["y"], modes))
    keys = edges["edge_id"] if "edge_id" in edges else range(len(edges))
    emodes = edges["mode"] if "mode" in edges else [None] * len(edges)
    G.add_edges_from((_plain(u), _plain(v), _plain(k), {"travel_time": float(t), "length": float(l), "mode": m})
                     for u, v, k, t, l, m in zip(edges["u"], edges["v"], keys, edges["travel_time_s"],
                                                 edges["length_m"], emodes))
    return G


# --------------------------------------------------------------------------- helpers


def _require(table: pd.DataFrame, columns, what: str) -> None:
    missing = [c for c in columns if c not in table]
    if missing:
        raise InputError(None, f"{what} lack column(s) {', '.join(missing)}")


def _all_int(values: np.ndarray) -> bool:
    return values.dtype.kind in "iu" or (len(values) > 0 and all(isinstance(v, (int, np.integer)) for v in values))


def _plain(value):
    return int(value) if isinstance(value, (np.integer,)) else value


def _round(value) -> float:
    return round(float(value), 1)
