"""Isochrones (areas reachable within a travel time) and the population inside them.

Method. For an origin and a threshold T (minutes; the router's weights must
be seconds) every edge is cut where the travel time runs out: from an end
reached at time t the edge is usable for the share ``(T − t) / weight`` of
its length (both ends count on an undirected network; on a directed one an
arc is entered only at its start). The reachable pieces — whole edges, cut
edges, and reached nodes from which no edge leaves — are buffered by
``buffer_m`` (default 150 m: how far a site may lie off a reachable road and
still count as reached) and unioned (two methods, below). This is the
"buffered network" isochrone of the accessibility literature: unlike a
concave hull of the reached nodes it does not fill valleys, rivers or roadless hills that the
network skirts. Thresholds are nested exactly — each polygon is unioned with
the one of the next smaller threshold — so areas never shrink.

Edge geometry. Without ``edge_geometry`` edges are straight lines between
their nodes; with it (LineStrings aligned with ``router.edge_u``; edges
past its end or with a missing geometry fall back to straight lines) cuts are
made along the real shape, at the same share of its length.

Columns of :func:`isochrones`: ``origin`` (node id), ``origin_index``,
``minutes``, ``nodes`` (nodes reached), ``area_km2`` (measured in the
router's metric CRS), ``reason`` (missing, or why there is no polygon), and
geometry (Polygon/MultiPolygon, EPSG:4326 by default).

Two ways to union the buffers (``method``):

* ``"vector"``: exact — ``shapely.union_all`` of the buffers (4 segments per
  quarter circle), simplified by ``buffer_m / 50`` (3 m, small enough to
  keep round ends round). About 70–90 µs per reachable edge piece: ≈ 0.1 s for
  1,000 pieces, 2–3 s for the ~35,000 pieces of a 30-minute isochrone in the
  dense Hà Nội side of the network window.
* ``"raster"``: pieces are sampled every half cell on a grid of
  ``buffer_m / 6`` (25 m) cells; a Euclidean distance transform finds the
  nearest sample of every cell, and cells whose centre lies within
  ``buffer_m`` of it are polygonised and simplified by half a cell. Cost
  grows with the area of the window, not the number of pieces: ≈ 0.4 s for
  the 30-minute case above. Against the exact
  union: area within 1 %, symmetric difference ≈ 3 % (the edge is within
  about one cell of the exact buffer).
* ``"auto"`` (default) takes whichever a cost model (constants below)
  expects to be faster, per polygon.

Larger thresholds reuse the smaller ones (edges already wholly inside are not
buffered again), so a set of thresholds costs little more than the largest.

>>> from geo.routing import Router
>>> r = Router.from_arrays([1, 2, 3], [0, 1000, 2000], [0, 0, 0], [1, 2], [2, 3], [100.0, 100.0])
>>> iso = isochrones(r, [0], thresholds_min=(2.5,), buffer_m=100, crs=None)
>>> iso.origin.tolist(), iso.minutes.tolist(), iso.nodes.tolist()   # 150 s: node 3 (200 s) is not reached
([1], [2.5], [2])
>>> round(float(iso.area_km2.iloc[0]), 2)   # 1.5 km of road buffered by 100 m
0.33
"""

from __future__ import annotations

import logging
from typing import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import settings

log = logging.getLogger(__name__)

#: Segments per quarter circle of the buffer ends (GEOS default 8; 4 is within 0.2 % in area and faster).
QUAD_SEGS = 4
#: Raster method: cell size = buffer_m / this (150 m → 25 m cells).
RASTER_CELL_FRACTION = 6
#: Raster method: largest grid (cells); coarser cells beyond.
RASTER_MAX_CELLS = 12_000_000
#: Cost model of ``method="auto"`` (measured on Bắc Giang isochrones, 2 GHz core).
VECTOR_S_PER_PIECE = 9e-5
RASTER_S_PER_CELL = 1.6e-7
RASTER_OVERHEAD_S = 0.03


def isochrones(router, origin_idx: Sequence[int], thresholds_min: Sequence[float] = (15, 30, 45, 60), *,
               buffer_m: float = 150.0, edge_geometry=None, crs=settings.storage_crs,
               method: str = "auto") -> gpd.GeoDataFrame:
    """Polygons reachable from each origin within each threshold (minutes).

    ``origin_idx`` are node indexes of ``router`` (−1, e.g. a point that
    :meth:`~geo.routing.Router.snap` could not place, gives rows without
    geometry and a reason). ``crs=None`` keeps the router's CRS.
    ``method`` is ``"vector"`` (exact union of buffers), ``"raster"``
    (distance transform on a grid of ``buffer_m / 6`` cells) or ``"auto"``
    (whichever is estimated cheaper). See the module docstring.
    """
    origins = np.atleast_1d(np.asarray(origin_idx, dtype=np.int64))
    thresholds = np.unique(np.asarray(thresholds_min, dtype=np.float64))
    if thresholds.size == 0 or (thresholds <= 0).any() or not np.isfinite(thresholds).all():
        raise ValueError("thresholds_min must be positive numbers of minutes")
    if buffer_m <= 0:
        raise ValueError("buffer_m must be > 0")
    if method not in ("auto", "vector", "raster"):
        raise ValueError("method must be 'auto', 'vector' or 'raster'")
    geometry = _edge_geometry(router, edge_geometry)
    # Nodes from which no edge piece starts (no edge, or only incoming arcs) are added as points.
    starts = router.edge_u if router.directed else np.r_[router.edge_u, router.edge_v]
    degree = np.bincount(starts, minlength=router.n)
    rows = []
    valid = origins[(origins >= 0) & (origins < router.n)]
    unique = np.unique(valid)
    reached = dict(zip(unique.tolist(), router.reachable_within(unique, thresholds.max() * 60.0))) if unique.size else {}
    from tqdm.auto import tqdm

    for origin in tqdm(origins, desc="isochrones", unit="origin", disable=not settings.progress or len(origins) < 20):
        if origin < 0 or origin >= router.n:
            for minutes in thresholds:
                rows.append({"origin": None, "origin_index": int(origin), "minutes": float(minutes), "nodes": 0,
                             "area_km2": np.nan, "reason": "origin not on the network (not snapped)", "geometry": None})
            continue
        nodes, times = reached[int(origin)]
        time = np.full(router.n, np.inf)
        time[nodes] = times
        previous = None
        previous_full = np.zeros(len(router.edge_u), dtype=bool)
        for minutes in thresholds:
            limit = minutes * 60.0
            pieces, full = _pieces(router, time, limit, geometry, skip=previous_full)
            lonely = nodes[(times <= limit) & (degree[nodes] == 0)]
            parts = np.r_[pieces, shapely.points(router.x[lonely], router.y[lonely])]
            polygon = _buffer_union(parts, buffer_m, method)
            if previous is not None:
                polygon = shapely.union(polygon, previous)
            previous, previous_full = polygon, full
            rows.append({"origin": router.node_ids[origin], "origin_index": int(origin), "minutes": float(minutes),
                         "nodes": int((times <= limit).sum()), "area_km2": float(shapely.area(polygon)) / 1e6,
                         "reason": None, "geometry": polygon})
    frame = gpd.GeoDataFrame(pd.DataFrame(rows, columns=["origin", "origin_index", "minutes", "nodes", "area_km2",
                                                         "reason", "geometry"]),
                             geometry="geometry", crs=router.crs)
    if crs is not None and router.crs is not None:
        frame = frame.to_crs(crs)
    return frame


def population_within(isochrones_gdf: gpd.GeoDataFrame, array: np.ndarray, profile: dict,
                      column: str = "population") -> gpd.GeoDataFrame:
    """Add the raster sum inside each polygon (pixel centres inside count).

    ``array`` (2-D) and ``profile`` (rasterio profile: ``transform``, and
    ``crs``/``nodata`` when known) describe e.g. a WorldPop grid; polygons
    are reprojected to the raster's CRS. Pixels equal to ``nodata`` or NaN
    are skipped. Adds ``column`` (NaN for rows without geometry),
    ``{column}_added`` (the increase over the next smaller threshold of the
    same origin, when the frame has ``origin`` and ``minutes``) and
    ``raster_covers`` (False when a polygon reaches outside the raster, so
    its sum is a lower bound).
    """
    import rasterio.features
    import rasterio.transform

    array = np.asarray(array)
    if array.ndim != 2:
        raise ValueError("array must be 2-D (one band)")
    transform = profile["transform"]
    frame = isochrones_gdf.copy()
    geoms = frame.geometry
    if profile.get("crs") is not None and geoms.crs is not None:
        geoms = geoms.to_crs(profile["crs"])
    values = array.astype(np.float64)
    valid = np.isfinite(values)
    nodata = profile.get("nodata")
    if nodata is not None and np.isfinite(nodata):
        valid &= values != nodata
    height, width = array.shape
    extent = shapely.box(*rasterio.transform.array_bounds(height, width, transform))
    totals = np.full(len(frame), np.nan)
    covers = np.zeros(len(frame), dtype=bool)
    for i, geom in enumerate(geoms.values):
        if geom is None or shapely.is_missing(geom):
            continue
        covers[i] = bool(shapely.covers(extent, geom))
        if shapely.is_empty(geom):
            totals[i] = 0.0
            continue
        left, bottom, right, top = shapely.bounds(geom)
        rows, cols = rasterio.transform.rowcol(transform, [left, right, left, right], [bottom, bottom, top, top])
        r0, r1 = max(min(rows) - 1, 0), min(max(rows) + 2, height)
        c0, c1 = max(min(cols) - 1, 0), min(max(cols) + 2, width)
        if r0 >= r1 or c0 >= c1:
            totals[i] = 0.0
            continue
        window_transform = transform * transform.translation(c0, r0)
        inside = rasterio.features.geometry_mask([geom], out_shape=(r1 - r0, c1 - c0), transform=window_transform,
                                                 invert=True, all_touched=False)
        inside &= valid[r0:r1, c0:c1]
        totals[i] = float(values[r0:r1, c0:c1][inside].sum())
    frame[column] = totals
    if {"origin_index", "minutes"} <= set(frame.columns):
        order = frame.sort_values(["origin_index", "minutes"]).index
        added = frame.loc[order].groupby("origin_index", sort=False)[column].diff()
        frame[f"{column}_added"] = added.fillna(frame.loc[order, column]).reindex(frame.index)
    frame["raster_covers"] = covers
    return frame


# ---------------------------------------------------------------------- internals
def _buffer_union(parts: np.ndarray, buffer_m: float, method: str):
    """Union of the ``buffer_m`` buffers of ``parts`` (lines and points), simplified."""
    if len(parts) == 0:
        return shapely.Polygon()
    cell = buffer_m / RASTER_CELL_FRACTION
    if method == "auto":
        minx, miny, maxx, maxy = shapely.total_bounds(parts)
        cells = (maxx - minx + 2 * buffer_m) * (maxy - miny + 2 * buffer_m) / cell ** 2
        raster_s = RASTER_OVERHEAD_S + RASTER_S_PER_CELL * cells
        method = "raster" if raster_s < VECTOR_S_PER_PIECE * len(parts) else "vector"
    if method == "vector":
        polygon = shapely.union_all(shapely.buffer(parts, buffer_m, quad_segs=QUAD_SEGS))
        return shapely.simplify(polygon, buffer_m / 50.0)
    return _raster_buffer_union(parts, buffer_m, cell)


def _raster_buffer_union(parts: np.ndarray, buffer_m: float, cell: float):
    """Grid version: cells whose centre lies within ``buffer_m`` of a part, as polygons.

    Parts are sampled every half cell; a Euclidean distance transform finds
    for each cell the nearest cell holding a sample, and the cell counts when
    its centre lies within ``buffer_m`` of that sample. The cells inside are
    polygonised and simplified by half a cell. The edge is within about half
    a cell of the exact buffer.
    """
    import rasterio.features
    from affine import Affine
    from scipy.ndimage import distance_transform_edt

    lines = shapely.get_type_id(parts) == 1
    sampled = parts.copy()
    sampled[lines] = shapely.segmentize(parts[lines], cell / 2.0)
    xy = shapely.get_coordinates(sampled)
    minx, miny = xy.min(axis=0)
    maxx, maxy = xy.max(axis=0)
    pad = buffer_m + 2 * cell
    cells = (maxx - minx + 2 * pad) * (maxy - miny + 2 * pad) / cell ** 2
    if cells > RASTER_MAX_CELLS:
        cell *= float(np.sqrt(cells / RASTER_MAX_CELLS))
        log.info("isochrone grid coarsened to %.0f m cells to stay under %d cells", cell, RASTER_MAX_CELLS)
        pad = buffer_m + 2 * cell
    x0, y0 = minx - pad, maxy + pad
    width = int(np.ceil((maxx + pad - x0) / cell))
    height = int(np.ceil((y0 - (miny - pad)) / cell))
    rows = ((y0 - xy[:, 1]) / cell).astype(np.int64)
    cols = ((xy[:, 0] - x0) / cell).astype(np.int64)
    empty = np.ones((height, width), dtype=bool)
    empty[rows, cols] = False
    # One sample per occupied cell; every cell measures its exact distance to the
    # sample kept in the nearest occupied cell (sub-cell accuracy).
    sample_x = np.zeros((height, width), dtype=np.float32)
    sample_y = np.zeros((height, width), dtype=np.float32)
    sample_x[rows, cols] = xy[:, 0] - x0
    sample_y[rows, cols] = y0 - xy[:, 1]
    nearest = distance_transform_edt(empty, return_distances=False, return_indices=True)
    del empty
    centre_x = (np.arange(width, dtype=np.float32) + 0.5) * cell
    centre_y = (np.arange(height, dtype=np.float32) + 0.5) * cell
    dx = sample_x[nearest[0], nearest[1]] - centre_x[None, :]
    dy = sample_y[nearest[0], nearest[1]] - centre_y[:, None]
    del nearest
    inside = (dx * dx + dy * dy <= np.float32(buffer_m) ** 2).astype(np.uint8)
    del dx, dy
    transform = Affine(cell, 0.0, x0, 0.0, -cell, y0)
    polygons = [shapely.geometry.shape(shape) for shape, _ in
                rasterio.features.shapes(inside, mask=inside.astype(bool), transform=transform, connectivity=4)]
    polygon = shapely.simplify(shapely.multipolygons(polygons) if len(polygons) > 1 else polygons[0], cell / 2.0)
    return polygon if shapely.is_valid(polygon) else shapely.make_valid(polygon)


def _edge_geometry(router, edge_geometry):
    """LineStrings (router CRS) per router edge, oriented u → v; None where absent."""
    if edge_geometry is None:
        return None
    geoms = edge_geometry
    if hasattr(geoms, "to_crs") and getattr(geoms, "crs", None) is not None and router.crs is not None:
        geoms = geoms.to_crs(router.crs)
    geoms = np.asarray(getattr(geoms, "values", geoms), dtype=object)[:len(router.edge_u)]
    out = np.full(len(router.edge_u), None, dtype=object)
    out[:len(geoms)] = geoms
    usable = ~(shapely.is_missing(out) | shapely.is_empty(out))
    usable[usable] = shapely.get_type_id(out[usable]) == 1  # LineString only
    out[~usable] = None
    # Orient every geometry from u to v.
    idx = np.flatnonzero(usable)
    if idx.size:
        start = shapely.get_coordinates(shapely.get_point(out[idx], 0))
        u, v = router.edge_u[idx], router.edge_v[idx]
        du = np.hypot(start[:, 0] - router.x[u], start[:, 1] - router.y[u])
        dv = np.hypot(start[:, 0] - router.x[v], start[:, 1] - router.y[v])
        flip = idx[dv < du]
        out[flip] = shapely.reverse(out[flip])
    return out


def _pieces(router, time: np.ndarray, limit: float, geometry, skip: np.ndarray):
    """Reachable pieces of the edges within ``limit``; also the mask of edges fully reached.

    Edges in ``skip`` (fully reached at a smaller threshold, already in the
    polygon) are left out of the pieces.
    """
    u, v, w = router.edge_u, router.edge_v, router.edge_weight
    tu, tv = time[u], time[v]
    from_u = tu <= limit
    from_v = (tv <= limit) if not router.directed else np.zeros(len(u), dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(from_u, np.where(w > 0, np.clip((limit - tu) / w, 0.0, 1.0), 1.0), 0.0)
        b = np.where(from_v, np.where(w > 0, np.clip((limit - tv) / w, 0.0, 1.0), 1.0), 0.0)
    full = (from_u | from_v) & (a + b >= 1.0)
    use = ~skip
    e_full = np.flatnonzero(full & use)
    e_u = np.flatnonzero(from_u & ~full & use)
    e_v = np.flatnonzero(from_v & ~full & use)
    edge = np.r_[e_full, e_u, e_v]
    f0 = np.r_[np.zeros(len(e_full)), np.zeros(len(e_u)), 1.0 - b[e_v]]
    f1 = np.r_[np.ones(len(e_full)), a[e_u], np.ones(len(e_v))]
    pieces = _straight(router, edge, f0, f1)
    if geometry is not None and edge.size:
        has = np.flatnonzero(np.not_equal(geometry[edge], None))
        if has.size:
            whole = f0[has] <= 0.0
            whole &= f1[has] >= 1.0
            shaped = np.empty(has.size, dtype=object)
            shaped[whole] = geometry[edge[has[whole]]]
            if (~whole).any():
                shaped[~whole] = _substrings(geometry[edge[has[~whole]]], f0[has[~whole]], f1[has[~whole]])
            pieces[has] = shaped
    return pieces, full


def _straight(router, edge, f0, f1):
    """Straight pieces between the shares f0 and f1 of each edge (points when degenerate)."""
    u, v = router.edge_u[edge], router.edge_v[edge]
    x0, y0 = router.x[u], router.y[u]
    dx, dy = router.x[v] - x0, router.y[v] - y0
    start = np.column_stack([x0 + f0 * dx, y0 + f0 * dy])
    end = np.column_stack([x0 + f1 * dx, y0 + f1 * dy])
    lines = shapely.linestrings(np.stack([start, end], axis=1)) if len(edge) else np.empty(0, dtype=object)
    degenerate = np.all(start == end, axis=1)
    if degenerate.any():
        lines[degenerate] = shapely.points(start[degenerate])
    return np.asarray(lines, dtype=object)


def _substrings(geoms: np.ndarray, f0: np.ndarray, f1: np.ndarray) -> np.ndarray:
    """Vectorised ``shapely.ops.substring`` by share of length (0 ≤ f0 ≤ f1 ≤ 1)."""
    lengths = shapely.length(geoms)
    s0, s1 = f0 * lengths, f1 * lengths
    p0 = shapely.get_coordinates(shapely.line_interpolate_point(geoms, s0))
    p1 = shapely.get_coordinates(shapely.line_interpolate_point(geoms, s1))
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    step = np.hypot(np.diff(coords[:, 0]), np.diff(coords[:, 1]))
    step[owner[1:] != owner[:-1]] = 0.0
    cumulative = np.r_[0.0, np.cumsum(step)]
    first = np.searchsorted(owner, np.arange(len(geoms)))
    along = cumulative - cumulative[first[owner]]
    inner = (along > s0[owner]) & (along < s1[owner])
    n = len(geoms)
    all_xy = np.vstack([p0, coords[inner], p1])
    key_geom = np.r_[np.arange(n), owner[inner], np.arange(n)]
    key_order = np.r_[np.full(n, -1.0), along[inner], np.full(n, np.inf)]
    order = np.lexsort((key_order, key_geom))
    lines = shapely.linestrings(all_xy[order], indices=key_geom[order])
    degenerate = s1 <= s0
    if degenerate.any():
        lines[degenerate] = shapely.points(p0[degenerate])
    return lines
