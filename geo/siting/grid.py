"""Square analysis grids in a metric CRS, and labour catchments for every cell at once.

A :class:`Grid` covers the bounding box of an area with square cells of
``cell_m`` metres (rows from north to south, like a raster); ``inside`` marks
the cells whose *centre* lies in the area. Every per-cell quantity is a 2-D
array of the grid's shape (``NaN`` = unknown or outside), so whole-grid work
is numpy / ``scipy.ndimage`` / rasterio and never a Python loop over cells:

* :meth:`Grid.rasterize` — cells touched by (``all_touched=True``, the
  conservative rule used for exclusions: no cell overlapping a geometry is
  left out) or centred in vector geometries;
* :meth:`Grid.sample` — a raster (DEM, slope …) resampled onto the grid
  (average of the source pixels in each cell; cells without source data NaN);
* :meth:`Grid.distance_to` — straight-line distance from each cell centre to
  the nearest of some points or circles (exact, a numba loop that skips the
  circles a lower bound rules out);
* :meth:`Grid.outlines` — cells with the same label dissolved into polygons
  (``rasterio.features.shapes``).

:func:`make_grid` refuses a grid that would not fit in memory, with the
estimate (:func:`estimate_bytes`), before anything is allocated.

:func:`people_within_cells` counts the people reachable within N minutes of
every cell with one limited search per *population source node* instead of
one per cell (see its docstring for the method and what it equals).

>>> from shapely.geometry import box
>>> g = make_grid(box(0, 0, 1000, 750), cell_m=250, crs="EPSG:32648")
>>> g.shape, int(g.inside.sum()), g.cell_ha
((3, 4), 12, 6.25)
>>> g.rasterize([box(0, 0, 100, 100)]).astype(int).tolist()      # touches one corner cell
[[0, 0, 0, 0], [0, 0, 0, 0], [1, 0, 0, 0]]
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import rasterio.features
import rasterio.warp
import shapely
from affine import Affine
from rasterio.enums import Resampling
from numba import njit, prange
from scipy.spatial import cKDTree

from geo.errors import InputError

log = logging.getLogger(__name__)

#: Bytes a grid may need before :func:`make_grid` refuses it (change at run time if needed).
MAX_BYTES = 4 * 1024 ** 3

#: Fixed memory per grid cell besides the criteria arrays (bytes): its polygon and row in the output table,
#: masks, labels and working copies (cells are no longer nodes of the routing graph: :class:`CellLinks`).
#: Measured on Bắc Giang, logistics-heavy profile, 100 m (669,123 bounding-box cells): peak RSS 1,242 MB, of which
#: about 400 MB are the interpreter, libraries and network — about 1.3 kB per cell with 34 layers.
BYTES_PER_CELL_FIXED = 600


def estimate_bytes(n_cells: int, n_layers: int) -> int:
    """Rough peak memory (bytes) of a siting run on ``n_cells`` cells with ``n_layers`` per-cell arrays.

    Each layer is a float64 array kept with its transformed score and a
    working copy (3 × 8 bytes per cell), plus :data:`BYTES_PER_CELL_FIXED`.

    >>> estimate_bytes(1_000_000, 10)
    840000000
    """
    return int(n_cells) * (int(n_layers) * 3 * 8 + BYTES_PER_CELL_FIXED)


@dataclass(frozen=True)
class Grid:
    """Square cells over a bounding box (see the module docstring).

    ``x0``, ``y0``: top-left corner (metres, ``crs``); ``cell_m``: cell side;
    ``inside``: boolean array (rows × cols), True where the cell centre lies
    in the area the grid was made for.
    """

    x0: float
    y0: float
    cell_m: float
    nrows: int
    ncols: int
    crs: str
    inside: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return (self.nrows, self.ncols)

    @property
    def size(self) -> int:
        return self.nrows * self.ncols

    @property
    def cell_ha(self) -> float:
        """Area of one cell in hectares."""
        return self.cell_m * self.cell_m / 1e4

    @property
    def transform(self) -> Affine:
        return Affine(self.cell_m, 0.0, self.x0, 0.0, -self.cell_m, self.y0)

    @property
    def profile(self) -> dict:
        """A rasterio-style profile (for :func:`geo.io.raster.write_geotiff` and rasterising)."""
        return {"crs": self.crs, "transform": self.transform, "width": self.ncols, "height": self.nrows,
                "dtype": "float64", "nodata": np.nan, "count": 1}

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Cell-centre coordinates as two 2-D arrays (x, y)."""
        xs = self.x0 + (np.arange(self.ncols) + 0.5) * self.cell_m
        ys = self.y0 - (np.arange(self.nrows) + 0.5) * self.cell_m
        return np.meshgrid(xs, ys)

    def cell_boxes(self, flat_index) -> np.ndarray:
        """Square polygons of the cells at ``flat_index`` (row-major positions)."""
        flat_index = np.asarray(flat_index, dtype=np.int64)
        rows, cols = np.divmod(flat_index, self.ncols)
        left = self.x0 + cols * self.cell_m
        top = self.y0 - rows * self.cell_m
        return shapely.box(left, top - self.cell_m, left + self.cell_m, top)

    def rasterize(self, geometries, all_touched: bool = True) -> np.ndarray:
        """Boolean array: cells touched by (or, with ``all_touched=False``, centred in) any geometry.

        Geometries are shapely objects in the grid's CRS; empty or missing
        ones are skipped.
        """
        geoms = [g for g in np.atleast_1d(np.asarray(geometries, dtype=object)) if g is not None and not g.is_empty]
        if not geoms:
            return np.zeros(self.shape, dtype=bool)
        return rasterio.features.rasterize(((g, 1) for g in geoms), out_shape=self.shape, transform=self.transform,
                                           fill=0, all_touched=all_touched, dtype="uint8").astype(bool)

    def sample(self, array: np.ndarray, profile: dict, resampling: Resampling = Resampling.average) -> np.ndarray:
        """A raster (any CRS) resampled onto the grid; NaN where the source has no data.

        ``average`` (default) gives each cell the mean of the source pixels
        in it, ignoring pixels without data.
        """
        out = np.full(self.shape, np.nan)
        rasterio.warp.reproject(source=np.asarray(array, dtype="float64"), destination=out,
                                src_transform=profile["transform"], src_crs=profile["crs"], src_nodata=np.nan,
                                dst_transform=self.transform, dst_crs=self.crs, dst_nodata=np.nan, resampling=resampling)
        return out

    def distance_to(self, x, y, radius=None) -> np.ndarray:
        """Distance (m) from each cell centre to the nearest point, or circle edge (0 inside).

        ``radius`` (per point, metres) turns points into circles. With no
        point at all the result is NaN everywhere (unknown, not 0). Exact: each
        cell looks at the circles in the order of a lower bound of their
        distance to its row, until the bound passes the best found
        (:func:`_circle_edges`).

        >>> from shapely.geometry import box
        >>> g = make_grid(box(0, 0, 300, 100), cell_m=100, crs="EPSG:32648")
        >>> g.distance_to([50], [50], radius=[60]).round(1).tolist()
        [[0.0, 40.0, 140.0]]
        """
        x = np.atleast_1d(np.asarray(x, dtype=np.float64))
        y = np.atleast_1d(np.asarray(y, dtype=np.float64))
        if x.size == 0:
            return np.full(self.shape, np.nan)
        radius = np.zeros(x.shape) if radius is None else np.broadcast_to(np.asarray(radius, dtype=np.float64), x.shape).copy()
        xs = self.x0 + (np.arange(self.ncols) + 0.5) * self.cell_m
        ys = self.y0 - (np.arange(self.nrows) + 0.5) * self.cell_m
        dy = ys[:, None] - y
        bound = np.sqrt(dy * dy) - radius          # per row and circle: no cell of the row is nearer the circle's edge
        out = np.empty(self.shape)
        _circle_edges(xs, ys, x, y, radius, bound, np.argsort(bound, axis=1), out)
        return out

    def outlines(self, labels: np.ndarray, keep=None) -> dict[int, object]:
        """Polygons of the cells sharing a label (label > 0), dissolved; ``keep`` limits the labels.

        Cells are joined through their sides (4-connectivity), as
        :func:`geo.siting.sites.locate` labels them, so a connected label gives one
        polygon (with holes where cells inside it are left out).
        """
        labels = np.asarray(labels, dtype=np.int32)
        mask = labels > 0
        if keep is not None:
            mask &= np.isin(labels, np.asarray(list(keep), dtype=np.int32))
        parts: dict[int, list] = {}
        for geom, value in rasterio.features.shapes(labels, mask=mask, connectivity=4, transform=self.transform):
            parts.setdefault(int(value), []).append(shapely.geometry.shape(geom))
        return {k: (v[0] if len(v) == 1 else shapely.union_all(v)) for k, v in parts.items()}


def make_grid(area, cell_m: float = 250.0, crs: str = "EPSG:32648", *, n_layers: int = 16,
              max_bytes: int | None = None, source: str | None = None) -> Grid:
    """Grid of ``cell_m`` squares over ``area`` (a shapely polygon in ``crs``, metres).

    The grid is aligned on multiples of ``cell_m`` (so runs with the same
    cell size share cell edges). Refuses, with an :class:`InputError`, a
    cell size that is not a positive number, and a grid whose estimated
    memory (:func:`estimate_bytes` with ``n_layers`` per-cell arrays) exceeds
    ``max_bytes`` (default :data:`MAX_BYTES`) — before allocating anything.
    """
    try:
        cell_m = float(cell_m)
    except (TypeError, ValueError):
        raise InputError(source, f"cell size {cell_m!r} is not a number") from None
    if not (math.isfinite(cell_m) and cell_m > 0):
        raise InputError(source, f"cell size must be a positive number of metres, not {cell_m:g}")
    if area is None or area.is_empty:
        raise InputError(source, "the area to cover is empty")
    minx, miny, maxx, maxy = area.bounds
    x0 = math.floor(minx / cell_m) * cell_m
    y0 = math.ceil(maxy / cell_m) * cell_m
    ncols = max(1, math.ceil((maxx - x0) / cell_m))
    nrows = max(1, math.ceil((y0 - miny) / cell_m))
    limit = MAX_BYTES if max_bytes is None else int(max_bytes)
    need = estimate_bytes(nrows * ncols, n_layers)
    if need > limit:
        raise InputError(source, f"a {cell_m:g} m grid has {nrows * ncols:,} cells and would need about "
                                 f"{need / 1e9:,.1f} GB of memory (limit {limit / 1e9:,.1f} GB): use a larger cell size")
    xs = x0 + (np.arange(ncols) + 0.5) * cell_m
    ys = y0 - (np.arange(nrows) + 0.5) * cell_m
    cx, cy = np.meshgrid(xs, ys)
    inside = shapely.contains_xy(area, cx, cy)
    return Grid(x0=x0, y0=y0, cell_m=cell_m, nrows=nrows, ncols=ncols, crs=str(crs), inside=inside)


@njit(cache=True)
def _circle_edges(xs, ys, x, y, radius, bound, order, out):  # pragma: no cover - numba
    """``out[i, c]`` = max(0, min over circles j of |(xs[c], ys[i]) − (x[j], y[j])| − radius[j]) (metres).

    ``bound[i, j]`` = ``sqrt((ys[i] − y[j])²) − radius[j]`` is a lower bound of circle j's distance to every
    cell of row i, computed as the distance is (``sqrt`` of a sum of squares, which can only grow with the
    ``dx²`` term); ``order[i]`` sorts row i's bounds. A cell stops at the first circle whose bound is not
    below its best: exact, and the same numbers as a KD-tree's Euclidean distances.
    """
    for i in range(ys.shape[0]):
        qy = ys[i]
        for c in range(xs.shape[0]):
            qx = xs[c]
            best = np.inf
            for j in order[i]:
                if bound[i, j] >= best:
                    break
                dx = qx - x[j]
                dy = qy - y[j]
                d = math.sqrt(dx * dx + dy * dy) - radius[j]
                if d < best:
                    best = d
            out[i, c] = max(best, 0.0)


@dataclass(frozen=True)
class CellLinks:
    """Grid cells joined to the road network *without* adding them to the graph.

    Each connected cell ``cell[i]`` (position among the cells given) lies on
    the edge ``u[i]``–``v[i]`` (node indexes of the router) at ``snap_m[i]``
    metres from it; ``to_u`` / ``to_v`` are the seconds from the cell to each
    end (access leg at the access speed + the share of the edge). A cell's
    time to anything is then ``min(t[u] + to_u, t[v] + to_v)``, which equals
    what a search on the router with the cell attached as a node gives
    (:func:`geo.routing.access.attach_points`) — at a fraction of the cost, since the
    graph stays the same size whatever the number of cells.
    """

    n_cells: int
    cell: np.ndarray
    u: np.ndarray
    v: np.ndarray
    to_u: np.ndarray
    to_v: np.ndarray
    snap_m: np.ndarray          # per cell given (NaN = not connected)

    def links(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(cell, node, seconds)`` rows, as :func:`attachment_links` gives them (for :func:`people_within_cells`)."""
        return (np.r_[self.cell, self.cell], np.r_[self.u, self.v], np.r_[self.to_u, self.to_v])

    def seconds_from_nodes(self, node_seconds: np.ndarray) -> np.ndarray:
        """Per cell: ``min(t[u] + to_u, t[v] + to_v)`` for node times ``t`` (NaN = unreachable); NaN where not connected."""
        t = np.asarray(node_seconds, dtype=np.float64)
        out = np.full(self.n_cells, np.nan)
        with np.errstate(invalid="ignore"):
            best = np.fmin(t[self.u] + self.to_u, t[self.v] + self.to_v)
        out[self.cell] = best
        return out


def link_cells(router, lines, u_ids, v_ids, weights, x, y, *, max_snap_m: float = 2000.0,
               access_speed_kmh: float = 20.0, sample_m: float | None = 20.0) -> CellLinks:
    """Join points (cell centres, metres) to their nearest usable edge (largest component); see :class:`CellLinks`.

    The same snapping as :func:`geo.routing.access.attach_points` (nearest edge within
    ``max_snap_m``, access leg at ``access_speed_kmh``), without building a
    new router. Both ends of an edge are used, also on a one-way edge of a
    directed router (off by at most the edge's own length there; the 2018
    network is undirected). The cell joins the nearest of points every
    ``sample_m`` along the lines (:func:`snap_to_samples`): its edge, distance
    and position along the edge are then off by at most ``sample_m`` / 2
    (10 m: about a second at 30 km/h); ``None`` = exact (shapely).

    >>> from shapely.geometry import LineString
    >>> from geo.routing.router import Router
    >>> r = Router.from_arrays([1, 2], x=[0, 1000], y=[0, 0], u=[1], v=[2], weight=[100.0])
    >>> line = [LineString([(0, 0), (1000, 0)])]
    >>> exact = link_cells(r, line, [1], [2], [100.0], [250, 5000], [50, 0], max_snap_m=500, access_speed_kmh=18,
    ...                    sample_m=None)
    >>> exact.seconds_from_nodes(np.array([0.0, 100.0])).round(1).tolist()      # to node 1: 10 s leg + 25 s on the edge
    [35.0, nan]
    >>> link_cells(r, line, [1], [2], [100.0], [250], [50], max_snap_m=500, access_speed_kmh=18
    ...            ).seconds_from_nodes(np.array([0.0, 100.0])).round(1).tolist()   # joined 10 m off: within a second
    [34.2]
    """
    lines = np.asarray(getattr(lines, "values", lines), dtype=object)
    u_idx = router.index_of(np.asarray(u_ids))
    v_idx = router.index_of(np.asarray(v_ids))
    weights = np.asarray(weights, dtype=np.float64)
    ok = (u_idx >= 0) & (v_idx >= 0)
    largest = router.largest_component()
    ok &= largest[np.where(u_idx >= 0, u_idx, 0)]
    usable = np.flatnonzero(ok)
    x = np.atleast_1d(np.asarray(x, dtype=np.float64))
    y = np.atleast_1d(np.asarray(y, dtype=np.float64))
    snap_m = np.full(len(x), np.nan)
    if sample_m is None:
        p_i, e_pos = nearest_lines(lines[usable], x, y, max_snap_m, sample_m=None)
        e_i = usable[e_pos]
        pts = shapely.points(x[p_i], y[p_i])
        snap_m[p_i] = shapely.distance(pts, lines[e_i])
        frac = shapely.line_locate_point(lines[e_i], pts, normalized=True)
    else:
        p_i, e_pos, dist, frac = snap_to_samples(lines[usable], x, y, max_snap_m, sample_m)
        e_i = usable[e_pos]
        snap_m[p_i] = dist
    # whether each usable line starts at its edge's u end (once per line, not per point)
    sx, sy = _first_vertices(lines[usable])
    u_end, v_end = u_idx[usable], v_idx[usable]
    from_u = np.hypot(sx - router.x[u_end], sy - router.y[u_end]) <= np.hypot(sx - router.x[v_end], sy - router.y[v_end])
    frac = np.where(from_u[e_pos], frac, 1.0 - frac)
    leg = snap_m[p_i] / (access_speed_kmh / 3.6)
    to_u, to_v = leg + frac * weights[e_i], leg + (1 - frac) * weights[e_i]
    return CellLinks(n_cells=len(x), cell=p_i.astype(np.int64), u=u_idx[e_i].astype(np.int64),
                     v=v_idx[e_i].astype(np.int64), to_u=to_u, to_v=to_v, snap_m=snap_m)


def _first_vertices(lines) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` of each line's first vertex (NaN for an empty line), without making point geometries.

    >>> from shapely.geometry import LineString
    >>> _first_vertices(np.array([LineString([(1, 2), (3, 4)]), LineString(), LineString([(5, 6), (7, 8)])]))
    (array([ 1., nan,  5.]), array([ 2., nan,  6.]))
    """
    xy, owner = shapely.get_coordinates(lines, return_index=True)
    first = np.r_[True, owner[1:] != owner[:-1]] if len(owner) else np.zeros(0, bool)
    x, y = np.full(len(lines), np.nan), np.full(len(lines), np.nan)
    x[owner[first]], y[owner[first]] = xy[first, 0], xy[first, 1]
    return x, y


def labour_blocks(grid: Grid, factor: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Blocks of ``factor`` × ``factor`` cells for measures coarser than the grid: ``(block of each inside cell, x, y)``.

    ``x``, ``y`` are the centres of the blocks holding at least one inside
    cell; ``block`` gives, for every inside cell (row-major), the index of its
    block. With ``factor`` 1 every cell is its own block.

    >>> from shapely.geometry import box
    >>> g = make_grid(box(0, 0, 400, 200), cell_m=100, crs="EPSG:32648")
    >>> block, x, y = labour_blocks(g, 2)
    >>> block.tolist(), x.tolist(), y.tolist()
    ([0, 0, 1, 1, 0, 0, 1, 1], [100.0, 300.0], [100.0, 100.0])
    """
    rows, cols = np.nonzero(grid.inside)
    k = max(1, int(factor))
    key = (rows // k) * (-(-grid.ncols // k)) + cols // k
    uniq, block = np.unique(key, return_inverse=True)
    nbc = -(-grid.ncols // k)
    br, bc = np.divmod(uniq, nbc)
    x = grid.x0 + (bc * k + k / 2) * grid.cell_m
    y = grid.y0 - (br * k + k / 2) * grid.cell_m
    return block.ravel(), x.astype(float), y.astype(float)


def nearest_lines(lines, x, y, max_distance: float, *, sample_m: float | None = 20.0) -> tuple[np.ndarray, np.ndarray]:
    """For points ``(x, y)``: ``(point index, line index)`` of the nearest line within ``max_distance`` (metres).

    With ``sample_m`` the lines are cut into points at most ``sample_m``
    apart (``shapely.segmentize``) and a KD-tree finds the nearest of them:
    about 5× faster than an STRtree of the lines on 300,000 cells, and the
    line it picks is at most ``sample_m`` / 2 farther than the nearest one.
    ``sample_m=None`` asks shapely for the exact nearest line.

    >>> from shapely.geometry import LineString
    >>> nearest_lines([LineString([(0, 0), (100, 0)]), LineString([(0, 50), (100, 50)])], [10, 500], [40, 0], 100)
    (array([0]), array([1]))
    """
    lines = np.asarray(getattr(lines, "values", lines), dtype=object)
    x = np.atleast_1d(np.asarray(x, dtype=np.float64))
    y = np.atleast_1d(np.asarray(y, dtype=np.float64))
    if len(lines) == 0 or len(x) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if sample_m is None:
        tree = shapely.STRtree(lines)
        p_i, e_i = tree.query_nearest(shapely.points(x, y), max_distance=max_distance, all_matches=False)
        return _first_match(p_i, e_i)
    coords, owner = shapely.get_coordinates(shapely.segmentize(lines, float(sample_m)), return_index=True)
    dist, pos = cKDTree(coords).query(np.column_stack([x, y]), distance_upper_bound=float(max_distance) + sample_m / 2)
    hit = np.flatnonzero(np.isfinite(dist))
    p_i, e_i = hit, owner[pos[hit]]
    exact = shapely.distance(shapely.points(x[p_i], y[p_i]), lines[e_i])
    keep = exact <= max_distance
    return p_i[keep].astype(np.int64), e_i[keep].astype(np.int64)


def snap_to_samples(lines, x, y, max_distance: float, sample_m: float = 20.0):
    """Points snapped to the nearest of points every ``sample_m`` along the lines (a KD-tree).

    Returns ``(point index, line index, distance m, share of the line from
    its first vertex)`` for the points within ``max_distance``; each is off
    the exact snap by at most ``sample_m`` / 2.

    >>> from shapely.geometry import LineString
    >>> p, e, d, f = snap_to_samples([LineString([(0, 0), (100, 0)])], [40, 500], [30, 0], 100, sample_m=10)
    >>> p.tolist(), e.tolist(), d.round(1).tolist(), f.round(2).tolist()
    ([0], [0], [30.0], [0.4])
    """
    lines = np.asarray(getattr(lines, "values", lines), dtype=object)
    x = np.atleast_1d(np.asarray(x, dtype=np.float64))
    y = np.atleast_1d(np.asarray(y, dtype=np.float64))
    if len(lines) == 0 or len(x) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
    coords, owner = shapely.get_coordinates(shapely.segmentize(lines, float(sample_m)), return_index=True)
    step = np.r_[0.0, np.hypot(np.diff(coords[:, 0]), np.diff(coords[:, 1]))]
    first = np.r_[True, owner[1:] != owner[:-1]]
    step[first] = 0.0
    along = np.cumsum(step)
    along -= np.maximum.accumulate(np.where(first, along, 0.0))          # distance from the line's first vertex
    length = np.bincount(owner, weights=step, minlength=len(lines))
    dist, pos = cKDTree(coords).query(np.column_stack([x, y]), distance_upper_bound=float(max_distance))
    hit = np.flatnonzero(np.isfinite(dist))
    e_i = owner[pos[hit]]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(length[e_i] > 0, along[pos[hit]] / length[e_i], 0.0)
    return hit.astype(np.int64), e_i.astype(np.int64), dist[hit], np.clip(frac, 0.0, 1.0)


def _first_match(p_i: np.ndarray, e_i: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One edge per point (the first of equally near ones)."""
    keep = np.r_[True, p_i[1:] != p_i[:-1]] if len(p_i) else np.zeros(0, bool)
    return p_i[keep], e_i[keep]


def attachment_links(before, after) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The links that joined appended points to the network: ``(point, node, seconds)``.

    ``after`` is ``before`` with points appended as nodes and linked to
    existing nodes (as :func:`geo.routing.access.attach_points` builds it: new
    nodes at the end, new edges after the old ones). ``point`` counts from 0
    (the first appended node), ``node`` is an index in ``before``, ``seconds``
    the link's travel time (access leg + share of the edge).
    """
    k0 = len(before.edge_u)
    u, v, w = after.edge_u[k0:], after.edge_v[k0:], after.edge_weight[k0:]
    point_side = u >= before.n
    point = np.where(point_side, u, v) - before.n
    node = np.where(point_side, v, u)
    if (node >= before.n).any() or (point < 0).any():
        raise ValueError("'after' is not 'before' with points appended and linked to existing nodes")
    return point.astype(np.int64), node.astype(np.int64), w.astype(np.float64)


def people_within_cells(router, catchment, links, n_cells: int, minutes=(30, 45), *, block: int | None = None,
                        sub_block: int = 64, workers: int = 1, progress: bool = False) -> np.ndarray:
    """People reachable within each of ``minutes`` from every cell: array (cells × thresholds).

    ``router`` is the network *without* the cells; ``catchment`` a
    :class:`geo.routing.access.Catchment` on it (population cells attached to their
    nodes, with access legs); ``links`` = ``(cell, node, seconds)`` joins each
    cell to network nodes (:func:`attachment_links`). A cell without link
    (too far from the network) gets NaN; a connected cell reaching nobody, 0.

    Method (reverse search). The time between a population cell *p* and a
    grid cell *c* is ``leg(p) + t(node(p) → link node) + link(c)``. Instead of
    one search per grid cell (62,000 at 250 m) we run one limited search
    *from each distinct population node* (4,485 in Bắc Giang's window,
    whatever the grid size) to the link nodes only, in blocks, and add each
    population cell's people to every grid cell it reaches within the
    threshold (numpy, a block of sources at a time; times compared in
    float64, people summed in float32 per block of ~150 population cells and
    in float64 across blocks). The searches run from
    the people towards the cells — the commuting direction, so one-way
    streets would be respected. On an undirected network the result equals
    ``Catchment(...).people_within(cell_nodes, minutes)`` on the router with
    the cells attached (tested on the real network, to rounding).
    ``block``: sources searched at once (default: as many as keep the
    times matrix within :data:`TIMES_BLOCK_VALUES`; on Bắc Giang at 100 m all
    4,477 source nodes against 1,038 link nodes, one search).

    Measured by ``scripts/bench_siting.py --real`` (Bắc Giang, 250 m, one
    process): 47,906 connected cells, 4,485 source nodes — 6.7 s, against
    66 s for one search per cell (300 cells timed, scaled); largest
    difference 0.06 people.
    """
    minutes = np.atleast_1d(np.asarray(minutes, dtype=float))
    limits = minutes * 60.0
    out = np.full((int(n_cells), len(minutes)), np.nan)
    link_cell, link_node, link_s = (np.asarray(a) for a in links)
    if link_cell.size == 0:
        return out
    out[np.unique(link_cell)] = 0.0
    if len(catchment.node) == 0:
        return out
    cols, link_col = np.unique(link_node, return_inverse=True)
    # Link table (links per cell × cells), padded with a column of "never" (index len(cols)).
    cells, cell_pos = np.unique(link_cell, return_inverse=True)
    cell_pos = cell_pos.ravel()
    order = np.argsort(cell_pos, kind="stable")
    cell_pos, link_col, link_s = cell_pos[order], link_col.ravel()[order], link_s[order]
    start_of = np.r_[0, np.cumsum(np.bincount(cell_pos, minlength=len(cells)))]
    rank = np.arange(len(cell_pos)) - start_of[cell_pos]
    table_col = np.full((int(rank.max()) + 1, len(cells)), len(cols), dtype=np.int64)
    table_s = np.zeros(table_col.shape)
    table_col[rank, cell_pos] = link_col
    table_s[rank, cell_pos] = link_s

    # Cells sharing their link nodes (the same road edge) form a group: a source that reaches a group's every cell
    # within a threshold, whatever their legs, adds its people to the group once (most of the work), and only the
    # groups on the edge of a catchment are looked at cell by cell.
    groups, group_of = _unique_columns(table_col, len(cols) + 1)
    gorder = np.argsort(group_of, kind="stable")
    gstart = np.r_[0, np.cumsum(np.bincount(group_of, minlength=len(groups)))].astype(np.int64)
    cell_s = np.ascontiguousarray(table_s[:, gorder])
    gcols = np.ascontiguousarray(groups.T)
    sorted_group = group_of[gorder]
    gsmin = np.full(gcols.shape, np.inf)
    gsmax = np.full(gcols.shape, -np.inf)
    for k in range(gcols.shape[0]):
        np.minimum.at(gsmin[k], sorted_group, cell_s[k])
        np.maximum.at(gsmax[k], sorted_group, cell_s[k])

    src, pix_src = np.unique(catchment.node, return_inverse=True)
    pix_src = pix_src.ravel()
    order = np.argsort(pix_src, kind="stable")
    pix_src, legs, people = pix_src[order], catchment.access_s[order], catchment.people[order]
    pix_ptr = np.r_[0, np.cumsum(np.bincount(pix_src, minlength=len(src)))]
    lmin = np.full(len(src), np.inf)
    lmax = np.full(len(src), -np.inf)
    np.minimum.at(lmin, pix_src, legs)
    np.maximum.at(lmax, pix_src, legs)
    psum = np.bincount(pix_src, weights=people, minlength=len(src))
    totals = np.zeros((len(cells), len(minutes)))
    gacc = np.zeros((len(groups), len(minutes)))
    from tqdm.auto import tqdm

    block = int(block) if block else max(1, TIMES_BLOCK_VALUES // len(cols))
    for start in tqdm(range(0, len(src), block), desc="labour catchments", unit="block", disable=not progress):
        stop = min(start + block, len(src))
        times = router.travel_times(src[start:stop], cols, limit=limits.max(), workers=workers)
        np.nan_to_num(times, copy=False, nan=np.inf)
        _add_people(times, gcols, gsmin, gsmax, gstart, cell_s, pix_ptr[start:stop + 1] - pix_ptr[start],
                    legs[pix_ptr[start]:pix_ptr[stop]], people[pix_ptr[start]:pix_ptr[stop]], lmin[start:stop],
                    lmax[start:stop], psum[start:stop], limits, totals, gacc)
    totals += gacc[sorted_group]
    out[cells[gorder]] = totals
    return out


def _unique_columns(table: np.ndarray, base: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(table.T, axis=0, return_inverse=True)`` (the distinct columns in lexicographic order, and the
    position of each column among them) for values in ``[0, base)``, by one integer key per column when it fits
    in int64 (5× faster than sorting rows).

    >>> groups, of = _unique_columns(np.array([[2, 0, 2], [1, 3, 1]]), 4)
    >>> groups.tolist(), of.tolist()
    ([[0, 3], [2, 1]], [1, 0, 1])
    """
    if base ** table.shape[0] >= 2 ** 62:
        groups, inverse = np.unique(table.T, axis=0, return_inverse=True)
        return groups, inverse.ravel()
    key = np.zeros(table.shape[1], dtype=np.int64)
    for row in table:
        key = key * base + row
    keys, inverse = np.unique(key, return_inverse=True)
    groups = np.empty((len(keys), table.shape[0]), dtype=table.dtype)
    for r in range(table.shape[0] - 1, -1, -1):
        keys, groups[:, r] = np.divmod(keys, base)
    return groups, inverse.ravel()


#: Most values (sources × link nodes, float64) of one block of the labour searches: 8.4 million, 64 MB.
TIMES_BLOCK_VALUES = 1 << 23


@njit(parallel=True, cache=True)
def _add_people(times, gcols, gsmin, gsmax, gstart, cell_s, ptr, legs, people, lmin, lmax, psum, limits,
                totals, gacc):  # pragma: no cover - numba
    """Add the people of a block of sources (see :func:`people_within_cells`), parallel over groups of cells.

    For source s and group g (cells on the same links): ``lo``/``hi`` bound
    every cell's time (the smallest/largest link seconds of the group); a
    group no cell of which can be reached is skipped; where even the slowest
    cell with the longest leg is within a threshold, the source's people go
    to the group at once (``gacc``); otherwise cell by cell (``totals``, in
    group order).
    """
    n_src = times.shape[0]
    n_cols = times.shape[1]
    n_links = gcols.shape[0]
    n_lim = limits.shape[0]
    top = limits.max()
    for g in prange(gcols.shape[1]):
        for s in range(n_src):
            lo = np.inf
            hi = np.inf
            for k in range(n_links):
                col = gcols[k, g]
                if col < n_cols:
                    t = times[s, col]
                    if t + gsmin[k, g] < lo:
                        lo = t + gsmin[k, g]
                    if t + gsmax[k, g] < hi:
                        hi = t + gsmax[k, g]
            if not lo + lmin[s] <= top:
                continue
            need = -np.inf                              # the largest threshold not met by the whole group
            for j in range(n_lim):
                if hi + lmax[s] <= limits[j]:
                    gacc[g, j] += psum[s]
                elif limits[j] > need:
                    need = limits[j]
            if not lo + lmin[s] <= need:
                continue
            for c in range(gstart[g], gstart[g + 1]):
                best = np.inf
                for k in range(n_links):
                    col = gcols[k, g]
                    if col < n_cols:
                        t = times[s, col] + cell_s[k, c]
                        if t < best:
                            best = t
                if not best + lmin[s] <= need:            # no population cell of s reaches c within a threshold left
                    continue
                for p in range(ptr[s], ptr[s + 1]):
                    reach = best + legs[p]
                    for j in range(n_lim):
                        if hi + lmax[s] <= limits[j]:
                            continue                    # counted for the whole group
                        if reach <= limits[j]:
                            totals[c, j] += people[p]
