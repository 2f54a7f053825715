"""The suitability explorer: move the criterion weights in the browser and watch the sites re-rank, offline.

The siting run (``plan.py site`` → ``OUT/sites.gpkg`` layer ``grid`` and
``OUT/sites_summary.json``) gives, per grid cell, the component score of
every criterion (``s_<criterion>``, 0–1, NaN unknown), whether the cell is
excluded, and its district. :func:`explorer_payload` packs them into the
page and ``maps/assets/explorer.js`` redoes the last steps of
:mod:`geo.siting.suitability` and :mod:`geo.siting.sites` in the browser, with the rules
shipped as data (:class:`ExplorerRules`), never as constants in JavaScript:

* criteria known on fewer than ``min_coverage`` of the cells are left out
  (as :func:`geo.siting.suitability.plan_criteria`); the others' weights are
  renormalised to sum 1;
* score = weighted mean of the known components, NaN where the known
  weight is below ``min_known_weight`` (:func:`geo.siting.suitability.combine`);
* eligible = not excluded and scored; suitable = score ≥ ``min_score``, or
  ≥ the (1 − ``top_share``) quantile of the eligible scores (numpy's linear
  interpolation, :func:`geo.siting.sites.threshold_of`);
* sites = compact sites grown inside parcels (``split: grow``,
  :func:`geo.siting.sites.grow_sites`: seeds by the summed score around them, the
  suitable cells of the seed's parcel nearest the seed up to ``max_area_ha``
  — the parcels come with the data, weights do not move barriers), or the
  older rules (``parts``: :func:`geo.siting.sites.split_zones`; ``core``:
  :func:`geo.siting.sites.carve`); kept from ``min_area_ha``; ranked by mean score,
  then area (:func:`geo.siting.sites.locate`); then the shortlist
  (:func:`geo.siting.sites.shortlist`): sites at least ``min_spacing_km`` apart
  edge to edge, at most ``max_per_district`` per district (the district
  holding most of a site's cells, :func:`geo.siting.sites.site_mode`), the best
  ``top_n``.

Packing (inside the page budget; 62,277 cells of 250 m ≈ 0.7 MB): each
component quantised to uint16 (``round(v × 65534)``, 65535 = unknown:
error ≤ 7.7e-6), row/column of each cell (uint16), flags (bit 0 =
excluded), district code (uint8, 255 = none), and the index of the cell
under each pixel of the drawn image (int32, −1 = none, delta-coded); each
array zlib-compressed and base64-encoded, decoded in the browser by
``DecompressionStream`` (no library, works from ``file://``).
"""

from __future__ import annotations

import base64
import zlib
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from maps import style
from maps.elements import inline, safe_json

#: Quantisation of the component scores: 0–1 → 0…QMAX; QMAX + 1 = unknown.
QMAX = 65534
UNKNOWN_CODE = 65535
NO_DISTRICT = 255


@dataclass(frozen=True)
class ExplorerRules:
    """The siting rules the browser applies (see the module docstring); validated on creation.

    weights : the profile's raw weights (≥ 0) by criterion, in the profile's order.
    cell_ha : area of one grid cell (ha).
    """

    weights: dict
    cell_ha: float
    min_known_weight: float = 0.75
    min_coverage: float = 0.5
    top_share: float | None = 0.10
    min_score: float | None = None
    min_area_ha: float = 30.0
    max_area_ha: float | None = None
    top_n: int = 10
    drop_share: float = 0.3
    max_rounds: int = 40
    split: str = "grow"           # "grow": sites grown in parcels (geo.siting.sites.grow_sites); "parts": zones split; "core": carved
    radius_factor: float = 1.5
    min_width_m: float = 0.0      # a grown site's body at least this wide (geo.siting.sites.width_cells)
    min_spacing_km: float = 0.0   # the shortlist (geo.siting.sites.shortlist): sites at least this far apart, edge to edge
    max_per_district: int | None = None
    district_filter: list = field(default_factory=list)   # only sites of these districts (plan.py site --district)
    cell_m: float | None = None
    sites: tuple = ()             # the run's shortlist with its explanation (sites_summary.json "shortlist")
    grid: dict = field(default_factory=dict)       # the siting grid (crs, x0, y0, cell_m): pixels → cells
    labels: dict = field(default_factory=dict)      # criterion → bilingual label
    profile: str = ""

    def __post_init__(self):
        if not self.weights:
            raise ValueError("explorer rules need at least one criterion weight")
        if any(not np.isfinite(w) or w < 0 for w in self.weights.values()):
            raise ValueError("criterion weights must be finite and ≥ 0")
        if not self.cell_ha > 0:
            raise ValueError(f"cell_ha must be > 0, not {self.cell_ha!r}")
        for name in ("min_known_weight", "min_coverage", "drop_share"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be between 0 and 1, not {getattr(self, name)!r}")
        if self.min_score is None and (self.top_share is None or not 0 < self.top_share <= 1):
            raise ValueError(f"top_share must be in (0, 1] when no min_score is given, not {self.top_share!r}")
        if self.min_area_ha < 0 or self.top_n < 1:
            raise ValueError("min_area_ha must be ≥ 0 and top_n ≥ 1")
        if self.max_area_ha is not None and self.max_area_ha < self.min_area_ha:
            raise ValueError("max_area_ha must be at least min_area_ha")
        if self.split not in ("grow", "parts", "core"):
            raise ValueError(f"split must be 'grow', 'parts' or 'core', not {self.split!r}")
        if self.min_spacing_km < 0 or self.radius_factor < 1:
            raise ValueError("min_spacing_km must be ≥ 0 and radius_factor ≥ 1")


def rules_from_summary(summary: dict) -> ExplorerRules | None:
    """The rules of a siting run from its ``sites_summary.json``; None when it has no profile weights.

    Read from the summary: the weights given, ``cell_m``, ``min_area_ha``,
    ``max_area_ha``, ``sites_reported``; the scoring and locate settings
    (``min_known_weight``, ``min_coverage``, ``top_share``, ``min_score``,
    ``top_n``) from the summary's ``scoring``/``locate`` sections when it has
    them, else from the profile file it names, else from the siting defaults.
    """
    weights = ((summary or {}).get("profile") or {}).get("weights_given")
    if not weights or not summary.get("cell_m"):
        return None
    from layers.siting import LOCATE_DEFAULTS

    from geo.siting.suitability import SCORING_DEFAULTS

    scoring, locate = dict(SCORING_DEFAULTS), dict(LOCATE_DEFAULTS)
    source = (summary.get("profile") or {}).get("source")
    if source:
        try:
            from geo.siting.suitability import read_profile

            prof = read_profile(source)
            scoring.update(prof.scoring)
            locate.update(prof.locate)
        except Exception:           # the profile file moved: the summary and the defaults still hold
            pass
    scoring.update(summary.get("scoring") or {})
    locate.update(summary.get("locate") or {})
    for key in ("min_area_ha", "max_area_ha"):
        if key in summary:
            locate[key] = summary[key]
    rule = str(summary.get("threshold_rule") or "")
    if rule.startswith("score ≥") and locate.get("min_score") is None:
        locate["min_score"] = float(rule.split("≥", 1)[1])
    cell_m = float(summary["cell_m"])
    return ExplorerRules(
        weights={str(k): float(v) for k, v in weights.items()}, cell_ha=cell_m * cell_m / 1e4,
        min_known_weight=float(scoring["min_known_weight"]), min_coverage=float(scoring["min_coverage"]),
        top_share=None if locate.get("top_share") is None else float(locate["top_share"]),
        min_score=None if locate.get("min_score") is None else float(locate["min_score"]),
        min_area_ha=float(locate["min_area_ha"]),
        max_area_ha=None if locate.get("max_area_ha") is None else float(locate["max_area_ha"]),
        top_n=int(locate["top_n"]), split=str(locate.get("split") or "parts"),
        radius_factor=float(locate.get("radius_factor") or 1.5), min_spacing_km=float(locate.get("min_spacing_km") or 0.0),
        min_width_m=float(locate.get("min_width_m") or 0.0),
        max_per_district=None if not locate.get("max_per_district") else int(locate["max_per_district"]),
        district_filter=list(summary.get("district_filter") or []), cell_m=cell_m,
        sites=tuple(summary.get("shortlist") or ()), grid=dict(summary.get("grid") or {}),
        profile=str((summary.get("profile") or {}).get("title") or (summary.get("profile") or {}).get("name") or ""))


def can_explore(grid) -> bool:
    """True when ``grid`` (the ``grid`` layer of sites.gpkg) carries what the explorer needs."""
    rules = getattr(grid, "attrs", {}).get("explorer_rules")
    if rules is None or not {"row", "col", "excluded"} <= set(grid.columns):
        return False
    return all(f"s_{name}" in grid.columns for name in rules.weights)


def pack(array: np.ndarray) -> str:
    """zlib-compressed, base64-encoded bytes of ``array`` (little-endian)."""
    a = np.ascontiguousarray(array)
    a = a.astype(a.dtype.newbyteorder("<"), copy=False)
    return base64.b64encode(zlib.compress(a.tobytes(), 9)).decode("ascii")


def quantise(values) -> np.ndarray:
    """Component scores (0–1, NaN unknown) as uint16 codes: ``round(v × QMAX)``, :data:`UNKNOWN_CODE` for NaN.

    >>> quantise([0.0, 0.5, 1.0, float("nan")]).tolist()
    [0, 32767, 65534, 65535]
    """
    v = np.asarray(values, dtype=np.float64)
    out = np.full(v.shape, UNKNOWN_CODE, dtype=np.uint16)
    known = np.isfinite(v)
    out[known] = np.round(np.clip(v[known], 0.0, 1.0) * QMAX).astype(np.uint16)
    return out


def pixel_cells(grid, frame: dict | None = None) -> tuple[np.ndarray, list]:
    """Which cell (row of ``grid``, −1 = none) lies under each pixel of a lon/lat image at half the cell size.

    Rows are resampled to Web Mercator spacing (as :func:`maps.images.classed_png`).
    Returns ``(index, [[south, west], [north, east]])``. With ``frame`` (the
    siting grid: ``crs``, ``x0``, ``y0``, ``cell_m``, from
    ``sites_summary.json``) each pixel centre is projected into the grid and
    its cell looked up — only the pixels near a cell (:func:`_near_cells`:
    60 % of the 2.8 M pixels for the 388,985 cells of 100 m); without it the
    cell polygons are rasterised.
    """
    from maps.images import mercator_rows

    cells = grid.to_crs("EPSG:4326") if grid.crs is not None and grid.crs.to_epsg() != 4326 else grid
    b = _cell_bounds(cells, frame)
    west, south, east, north = float(b["minx"].min()), float(b["miny"].min()), float(b["maxx"].max()), float(b["maxy"].max())
    size = float(np.median(np.minimum(b["maxx"] - b["minx"], b["maxy"] - b["miny"]))) / 2
    width = max(1, int(np.ceil((east - west) / size)))
    height = max(1, int(np.ceil((north - south) / size)))
    if frame and {"crs", "x0", "y0", "cell_m"} <= set(frame) and {"row", "col"} <= set(grid.columns):
        from pyproj import Transformer

        lon = west + (np.arange(width) + 0.5) * size
        lat = north - (np.arange(height) + 0.5) * size
        lon2, lat2 = np.meshgrid(lon, lat)
        near = _near_cells(b, west, north, size, (height, width))      # the others lie in no cell: not projected
        x, y = Transformer.from_crs("EPSG:4326", frame["crs"], always_xy=True).transform(lon2[near], lat2[near])
        cell = float(frame["cell_m"])
        col = np.floor((np.asarray(x) - float(frame["x0"])) / cell).astype(np.int64)
        row = np.floor((float(frame["y0"]) - np.asarray(y)) / cell).astype(np.int64)
        rows, cols = grid["row"].to_numpy(np.int64), grid["col"].to_numpy(np.int64)
        lookup = np.full((int(rows.max()) + 2, int(cols.max()) + 2), -1, dtype=np.int32)
        lookup[rows, cols] = np.arange(len(grid), dtype=np.int32)
        ok = (row >= 0) & (col >= 0) & (row < lookup.shape[0]) & (col < lookup.shape[1])
        found = np.full(row.shape, -1, dtype=np.int32)
        found[ok] = lookup[row[ok], col[ok]]
        index = np.full((height, width), -1, dtype=np.int32)
        index[near] = found
    else:
        from rasterio.features import rasterize
        from rasterio.transform import from_origin

        index = rasterize(zip(cells.geometry.values, np.arange(len(cells), dtype=np.int32)), out_shape=(height, width),
                          transform=from_origin(west, north, size, size), fill=-1, dtype="int32")
    south = north - height * size
    index = mercator_rows(index, south, north)
    return index, [[float(south), float(west)], [float(north), float(west + width * size)]]


#: Pixels per side of the blocks :func:`_near_cells` marks.
NEAR_BLOCK = 8


def _near_cells(bounds: pd.DataFrame, west: float, north: float, size: float, shape: tuple[int, int]) -> np.ndarray:
    """Which pixels (bool, ``shape``) of the image may lie in a cell: those of the blocks of :data:`NEAR_BLOCK` ×
    :data:`NEAR_BLOCK` pixels that a cell's ``bounds`` (degrees), grown by one pixel (``size``), touch.

    A pixel centre inside a cell's square lies inside the bounds of its corners give or take 1e-8° (the square's
    edges are curves of ~100 m in degrees): every pixel of another block lies in no cell. Everything is near when a
    cell is larger than a block (not a grid at half the cell size)."""
    height, width = shape
    nby, nbx = -(-height // NEAR_BLOCK), -(-width // NEAR_BLOCK)

    def block(offset, limit):
        return np.clip(np.floor(np.asarray(offset) / size / NEAR_BLOCK).astype(np.int64), 0, limit - 1)

    x0, x1 = block(bounds["minx"] - size - west, nbx), block(bounds["maxx"] + size - west, nbx)
    y0, y1 = block(north - bounds["maxy"] - size, nby), block(north - bounds["miny"] + size, nby)
    if len(x0) == 0 or (x1 - x0).max() > 1 or (y1 - y0).max() > 1:
        return np.ones(shape, dtype=bool)
    blocks = np.zeros((nby, nbx), dtype=bool)
    for by in (y0, y1):
        for bx in (x0, x1):
            blocks[by, bx] = True
    return blocks.repeat(NEAR_BLOCK, axis=0).repeat(NEAR_BLOCK, axis=1)[:height, :width]


def _cell_bounds(cells, frame: dict | None) -> pd.DataFrame:
    """Each cell's bounds in degrees (minx, miny, maxx, maxy): its polygon's, or — for a grid of cell centres
    (``sites_grid.tif`` read back) — its square's corners in the grid frame, projected."""
    if not (cells.geom_type == "Point").all() or not frame or not {"row", "col"} <= set(cells.columns):
        return cells.geometry.bounds
    from pyproj import Transformer

    cell, x0, y0 = float(frame["cell_m"]), float(frame["x0"]), float(frame["y0"])
    rows, cols = cells["row"].to_numpy(np.int64), cells["col"].to_numpy(np.int64)
    # the corners (top left, top right, bottom left, bottom right) are points of the grid's lattice, most shared by
    # four cells: each is projected once
    width = int(cols.max()) + 2
    corners = np.stack([(rows + dr) * width + cols + dc for dr, dc in ((0, 0), (0, 1), (1, 0), (1, 1))])
    points, at = np.unique(corners, return_inverse=True)
    at = at.reshape(corners.shape)
    x = x0 + (points % width).astype(float) * cell
    y = y0 - (points // width).astype(float) * cell
    lon, lat = Transformer.from_crs(frame["crs"], "EPSG:4326", always_xy=True).transform(x, y)
    lon, lat = np.asarray(lon)[at], np.asarray(lat)[at]
    return pd.DataFrame({"minx": lon.min(axis=0), "miny": lat.min(axis=0), "maxx": lon.max(axis=0), "maxy": lat.max(axis=0)})


def explorer_payload(grid, rules: ExplorerRules | None = None, labels: dict | None = None) -> dict:
    """Everything the browser needs, as a JSON-able dict (see the module docstring for the packing).

    ``grid`` is the ``grid`` layer of sites.gpkg (one row per cell: ``row``,
    ``col``, ``excluded``, ``district``, ``s_<criterion>``, ``score``), shipped
    in raster order (sorted by row, then column);
    ``rules`` default to ``grid.attrs["explorer_rules"]``; ``labels`` maps a
    criterion to its (Vietnamese, English) label. The unit of each criterion's
    raw value (:func:`maps.labels.criterion_unit`) and, when the grid has an
    ``excluded_by`` column, why each excluded cell is excluded (uint8 codes
    into ``excluded_by``) travel with it, for the site list and the cell popups.
    """
    rules = rules or grid.attrs.get("explorer_rules")
    if rules is None:
        raise ValueError("the grid has no explorer rules (attrs['explorer_rules'])")
    names = list(rules.weights)
    missing = [n for n in names if f"s_{n}" not in grid.columns]
    if missing:
        raise ValueError(f"the grid has no component score column s_{missing[0]}")
    key = _payload_key(grid, rules, labels, names)
    if key in _PAYLOADS:            # the planner map and the published site pack the same grid: once
        return _PAYLOADS[key]
    payload = _payload(grid, rules, labels, names)
    _PAYLOADS.clear()
    _PAYLOADS[key] = payload
    return payload


#: The last payload packed, by a key of its content (:func:`_payload_key`).
_PAYLOADS: dict = {}


def _payload_key(grid, rules, labels, names) -> tuple:
    """What a payload depends on: the rules, the labels, and a checksum of the grid's columns it packs."""
    columns = [c for c in ("row", "col", "score", "excluded", "parcel", *(f"s_{n}" for n in names)) if c in grid]
    sums = tuple(float(np.nansum(grid[c].to_numpy(float) * (1.0 + np.arange(len(grid)) % 7))) for c in columns)
    district = tuple(grid["district"].astype(str).value_counts().sort_index().items()) if "district" in grid else ()
    return (repr(rules), tuple(sorted((labels or {}).items())), len(grid), tuple(columns), sums, district)


def raster_order(grid):
    """``grid`` sorted by row, then column (stable); the frame itself when it already is (a grid read back from
    ``sites_grid.tif`` is), without copying its columns."""
    rows, cols = grid["row"].to_numpy(np.int64), grid["col"].to_numpy(np.int64)
    if len(grid) < 2 or bool(np.all((rows[1:] > rows[:-1]) | ((rows[1:] == rows[:-1]) & (cols[1:] >= cols[:-1])))):
        return grid
    return grid.sort_values(["row", "col"], kind="stable")


def _district_codes(district: pd.Series, code_of: dict) -> np.ndarray:
    """Each cell's district code (uint8; :data:`NO_DISTRICT` when missing), looked up once per distinct name."""
    uniques_at, uniques = pd.factorize(district.to_numpy(object), use_na_sentinel=True)
    lookup = np.array([code_of.get(str(d), NO_DISTRICT) if not style.is_missing(d) else NO_DISTRICT for d in uniques]
                      + [NO_DISTRICT], dtype=np.uint8)   # the last: the missing ones (code −1)
    return lookup[uniques_at]


def _payload(grid, rules: ExplorerRules, labels, names) -> dict:
    grid = raster_order(grid)
    rows = grid["row"].to_numpy(np.int64)
    cols = grid["col"].to_numpy(np.int64)
    if rows.max(initial=0) > 65535 or cols.max(initial=0) > 65535:
        raise ValueError("grid too large for the explorer (more than 65,536 rows or columns)")
    district = grid["district"] if "district" in grid else None
    district_names = sorted({str(d) for d in pd.unique(district.dropna().to_numpy(object))}) if district is not None else []
    code_of = {d: i for i, d in enumerate(district_names)}
    codes = _district_codes(district, code_of) if district is not None else np.full(len(grid), NO_DISTRICT, np.uint8)
    flags = grid["excluded"].fillna(True).astype(bool).to_numpy().astype(np.uint8)
    if rules.split == "grow" and "parcel" not in grid:
        raise ValueError("the grid has no parcel column (sites are grown inside parcels)")
    parcel = grid["parcel"].fillna(0).to_numpy(np.int64).astype(np.int32) if "parcel" in grid else np.zeros(len(grid), np.int32)
    pixels, bounds = pixel_cells(grid, rules.grid)
    delta = np.diff(pixels.ravel().astype(np.int64), prepend=0).astype(np.int32)
    score = grid["score"].to_numpy(float) if "score" in grid else np.full(len(grid), np.nan)
    breaks = style.nice_breaks(score, 5)
    palette = style.PALETTES["rdylgn"][-(len(breaks) + 1):] if len(breaks) + 1 <= 6 else style.PALETTES["rdylgn"]
    labels = labels or {}
    from maps.labels import criterion_unit

    excluded = {}
    if "excluded_by" in grid:
        at, reasons = pd.factorize(grid["excluded_by"].fillna("").to_numpy(object))   # each distinct reason once
        reasons = [str(r) for r in reasons]
        names_by = [""] + sorted({r for r in reasons if r})[:254]
        code = {r: i for i, r in enumerate(names_by)}
        excluded = {"excluded_by": names_by,
                    "excluded_codes": pack(np.array([code.get(r, 0) for r in reasons], dtype=np.uint8)[at])}
    return {**excluded,
            "units": {n: list(criterion_unit(n)) for n in names},
        "rules": {**{k: v for k, v in asdict(rules).items() if k != "labels"},
                  "labels": {n: list(labels.get(n) or rules.labels.get(n) or (n, n)) for n in names}},
        "criteria": names,
        "n": int(len(grid)), "nrows": int(rows.max(initial=0)) + 1, "ncols": int(cols.max(initial=0)) + 1,
        "rows": pack(rows.astype(np.uint16)), "cols": pack(cols.astype(np.uint16)),
        "components": {n: pack(quantise(grid[f"s_{n}"].to_numpy(float))) for n in names},
        "qmax": QMAX, "unknown": UNKNOWN_CODE,
        "flags": pack(flags), "district": pack(codes), "parcel": pack(parcel), "districts": district_names, "no_district": NO_DISTRICT,
        "image": {"width": int(pixels.shape[1]), "height": int(pixels.shape[0]), "bounds": bounds, "cells": pack(delta)},
        "breaks": [float(b) for b in breaks], "palette": list(palette),
    }


# ---------------------------------------------------------------------- map elements

from folium.map import Layer  # noqa: E402  (the elements below need folium; the packing above does not)
from folium.template import Template  # noqa: E402


class ExplorerLayer(Layer):
    """The suitability grid re-scored in the browser, with the weight panel and the ranked site list.

    ``payload`` from :func:`explorer_payload`; ``open`` unfolds the panel at
    the start. The page exposes ``bgplan.layers["suitability"]`` and
    ``window.bgExplorer`` (``ready``, ``result``, ``compute(weights)``,
    ``setWeights(weights)``) for tests. Pair with :class:`ExplorerSites`.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = bgplan.explorer({{ this._parent.get_name() }}, {{ this.payload_json }}, {{ this.options_json }});
        bgplan.layers["suitability"] = {{ this.get_name() }};
        {% endmacro %}
    """)

    def __init__(self, payload: dict, name: str, open: bool = False, show: bool = True):
        super().__init__(name=name, overlay=True, control=False, show=show)
        self._name = "ExplorerLayer"
        self.payload = payload
        self.open = open

    @property
    def payload_json(self) -> str:
        return inline(self, safe_json(self.payload))

    @property
    def options_json(self) -> str:
        return safe_json({"open": self.open, "position": "topleft"})


class ExplorerSites(Layer):
    """The explorer's ranked sites (numbered markers), a layer of their own in the layer control."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = {{ this.explorer.get_name() }}.sites;
        bgplan.layers["candidates"] = {{ this.get_name() }};
        {% endmacro %}
    """)

    def __init__(self, explorer: ExplorerLayer, name: str, show: bool = True):
        super().__init__(name=name, overlay=True, control=False, show=show)
        self._name = "ExplorerSites"
        self.explorer = explorer
