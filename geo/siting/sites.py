"""Candidate sites from a suitability grid: merge, filter, rank, and test against weight changes.

Everything works on raster-shaped arrays (rows × cols), vectorised with
numpy and ``scipy.ndimage``:

* :func:`suitable_cells` — eligible cells (not excluded, score known) whose
  score reaches a threshold: an absolute ``min_score``, or the best
  ``top_share`` of the eligible cells;
* :func:`locate` — suitable cells joined through their sides
  (4-connectivity, so two cells meeting at a corner are not one site) into
  sites with ``scipy.ndimage.label``; an area above ``max_area_ha`` split
  into several legal-size sites (:func:`split_zones`) or cut to its best
  core(s) (:func:`carve`); sites smaller than ``min_area_ha``
  dropped; the rest ranked by mean score (ties: larger first) and numbered
  1, 2, … by rank;
* :func:`site_means` — mean of any per-cell values over each site (NaN
  cells left out of the mean; NaN when a site has no known value);
* :func:`weight_sensitivity` — every weight changed by ±``change`` (20 %)
  in turn, the others renormalised; the score, threshold and sites
  recomputed; each base site followed to the run's site holding most of its
  cells; its rank range and the share of runs in which it stays in the top N.

>>> import numpy as np
>>> score = np.array([[0.9, 0.9, 0.1, 0.8],
...                   [0.9, 0.1, 0.1, 0.8],
...                   [0.1, 0.1, 0.7, 0.1]])
>>> labels, table = locate(score, score >= 0.5, cell_ha=6.25, min_area_ha=10)
>>> labels.tolist()
[[1, 1, 0, 2], [1, 0, 0, 2], [0, 0, 0, 0]]
>>> table[["site", "cells", "area_ha", "score_mean"]].values.round(2).tolist()
[[1.0, 3.0, 18.75, 0.9], [2.0, 2.0, 12.5, 0.8]]
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numba import njit
from scipy import ndimage

from geo.errors import InputError
from geo.siting.suitability import combine

log = logging.getLogger(__name__)

#: How suitable land becomes sites: "grow" (compact sites grown inside parcels, :func:`grow_sites`), "parts"
#: (zones split into legal-size blocks, :func:`split_zones`), "core" (zones carved to their best core, :func:`carve`).
SPLITS = ("grow", "parts", "core")

#: 4-connectivity: cells join through a shared side only.
ROOK = ndimage.generate_binary_structure(2, 1)


def threshold_of(score: np.ndarray, eligible: np.ndarray, min_score: float | None = None,
                 top_share: float | None = None) -> float:
    """The score a cell needs to be suitable: ``min_score``, or the (1 − ``top_share``) quantile of eligible cells."""
    if min_score is not None:
        return float(min_score)
    if top_share is None or not 0 < float(top_share) <= 1:
        raise InputError(None, f"top_share must be in (0, 1], not {top_share!r}")
    values = score[eligible]
    if values.size == 0:
        return np.inf
    return float(np.quantile(values, 1.0 - float(top_share)))


def suitable_cells(score: np.ndarray, eligible: np.ndarray, min_score: float | None = None,
                   top_share: float | None = None) -> tuple[np.ndarray, float]:
    """Boolean array of suitable cells and the threshold used."""
    eligible = np.asarray(eligible, bool) & np.isfinite(score)
    threshold = threshold_of(score, eligible, min_score, top_share)
    with np.errstate(invalid="ignore"):
        return eligible & (score >= threshold), threshold


def carve(score: np.ndarray, suitable: np.ndarray, *, cell_ha: float, max_area_ha: float, drop_share: float = 0.3,
          max_rounds: int = 40) -> np.ndarray:
    """Suitable cells with every connected area cut down to at most ``max_area_ha``.

    A suitable area larger than ``max_area_ha`` is a *zone*, not one site:
    its lowest-scoring ``drop_share`` of cells are dropped, and again, until
    every remaining part is small enough (one cell at least, when cells are
    larger than ``max_area_ha``). What is left of a zone is its best
    contiguous core(s). Vectorised: one ``ndimage.label`` and one sort per round.

    >>> s = np.array([[0.9, 0.8, 0.7, 0.95]])
    >>> carve(s, s > 0, cell_ha=1, max_area_ha=2).astype(int).tolist()
    [[1, 1, 0, 1]]
    """
    keep = np.asarray(suitable, bool).copy()
    score = np.asarray(score, dtype=np.float64)
    max_cells = max(1, int(np.floor(float(max_area_ha) / float(cell_ha) + 1e-9)))  # a cell is never split
    for _ in range(max_rounds):
        raw, n = ndimage.label(keep, structure=ROOK)
        cells = np.bincount(raw.ravel(), minlength=n + 1)
        big = cells > max_cells
        big[0] = False
        if not big.any():
            break
        idx = np.flatnonzero(big[raw.ravel()])
        lab = raw.ravel()[idx]
        order = np.lexsort((score.ravel()[idx], lab))            # by zone, worst first
        idx, lab = idx[order], lab[order]
        start = np.searchsorted(lab, lab, side="left")
        rank = np.arange(len(lab)) - start
        drop = rank < np.maximum(1, np.floor(drop_share * cells[lab])).astype(np.int64)
        flat = keep.ravel()
        flat[idx[drop]] = False
        keep = flat.reshape(keep.shape)
    return keep


def _bisect(rows: np.ndarray, cols: np.ndarray, max_cells: int) -> list[np.ndarray]:
    """Index groups of at most ``max_cells`` cells: recursive halving across the longer side (compact blocks)."""
    out, stack = [], [np.arange(len(rows))]
    while stack:
        idx = stack.pop()
        n = len(idx)
        if n <= max_cells:
            out.append(idx)
            continue
        k = -(-n // max_cells)                                    # parts needed
        r, c = rows[idx], cols[idx]
        along, other = (r, c) if np.ptp(r) >= np.ptp(c) else (c, r)
        order = idx[np.lexsort((other, along))]
        cut = (k + 1) // 2 * n // k                               # both halves stay divisible into ≤ max_cells parts
        stack.extend([order[:cut], order[cut:]])
    return out


def split_zones(suitable: np.ndarray, *, cell_ha: float, max_area_ha: float) -> np.ndarray:
    """Sites as labels: each suitable area larger than ``max_area_ha`` split into several legal-size parts.

    A *zone* (side-connected suitable cells) of ``n`` cells larger than
    ``max_cells = floor(max_area_ha / cell_ha)`` is cut into
    ``ceil(n / max_cells)`` compact blocks by recursive halving across its
    longer side (sorted by row or column); a block that falls apart is
    split into its side-connected pieces. Every cell of a zone keeps a site
    (unlike :func:`carve`, nothing is dropped), so a large suitable area
    gives several sites or phases. Returns int32 labels (0 = none, 1… in
    no particular order).

    >>> lab = split_zones(np.ones((1, 5), bool), cell_ha=1, max_area_ha=2)
    >>> sorted(np.bincount(lab.ravel())[1:].tolist())     # 5 cells → parts of 1, 2 and 2 cells
    [1, 2, 2]
    """
    suitable = np.asarray(suitable, bool)
    max_cells = max(1, int(np.floor(float(max_area_ha) / float(cell_ha) + 1e-9)))
    zones, _ = ndimage.label(suitable, structure=ROOK)
    out = np.zeros(suitable.shape, dtype=np.int32)
    next_label = 1
    for z, sl in enumerate(ndimage.find_objects(zones), start=1):
        if sl is None:
            continue
        local = zones[sl] == z
        rows, cols = np.nonzero(local)
        groups = [np.arange(len(rows))] if len(rows) <= max_cells else _bisect(rows, cols, max_cells)
        view = out[sl]
        for g in groups:
            mask = np.zeros(local.shape, bool)
            mask[rows[g], cols[g]] = True
            pieces, m = ndimage.label(mask, structure=ROOK) if len(groups) > 1 else (mask.astype(np.int32), 1)
            sel = pieces > 0
            view[sel] = pieces[sel] + next_label - 1
            next_label += m
    return out


def parcels(land: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parcels: side-connected pieces of ``land`` (True = neither excluded nor outside); ``(labels, cells per label)``.

    Barriers rasterised with ``all_touched`` leave side-connected strips of
    excluded cells, so two cells on either side of a road or railway are in
    different parcels. Labels count from 1 (0 = not land); ``cells[k]`` is
    the size of parcel ``k`` (``cells[0]`` = 0).

    >>> lab, cells = parcels(np.array([[1, 0, 1], [1, 0, 1]], bool))
    >>> lab.tolist(), cells.tolist()
    ([[1, 0, 2], [1, 0, 2]], [0, 2, 2])
    """
    lab, n = ndimage.label(np.asarray(land, bool), structure=ROOK)
    cells = np.bincount(lab.ravel(), minlength=n + 1)
    cells[0] = 0
    return lab.astype(np.int32), cells


def disc_offsets(max_cells: int, radius_factor: float = 1.5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cell offsets ``(drow, dcol, distance)`` within ``radius_factor`` × the radius of a disc of ``max_cells`` cells
    (+ 1 cell), nearest first (ties: row, then column), the seed itself first.

    Distances are compared as whole squared numbers of cells, so the order
    is the same in any language (maps/assets/explorer.js grows the same sites).
    """
    radius = radius_factor * np.sqrt(max(int(max_cells), 1) / np.pi) + 1.0
    r = int(np.ceil(radius))
    dr, dc = np.mgrid[-r:r + 1, -r:r + 1]
    d2 = (dr * dr + dc * dc).ravel()
    keep = d2 <= radius * radius
    dr, dc, d2 = dr.ravel()[keep], dc.ravel()[keep], d2[keep]
    order = np.lexsort((dc, dr, d2))
    return dr[order].astype(np.int64), dc[order].astype(np.int64), np.sqrt(d2[order].astype(np.float64))


@njit(cache=True)
def _wide_enough(members, n, labels, nrows, ncols, width, covered):  # pragma: no cover - numba
    """True when at least 90 % of the n cells being grown (labels −1) lie in width × width squares of such cells."""
    if width <= 1:
        return True
    for j in range(n):
        covered[members[j]] = False
    for j in range(n):
        i = members[j]
        r0 = i // ncols
        c0 = i % ncols
        if r0 + width > nrows or c0 + width > ncols:
            continue
        full = True
        for a in range(width):
            for b in range(width):
                if labels[(r0 + a) * ncols + c0 + b] != -1:
                    full = False
                    break
            if not full:
                break
        if full:
            for a in range(width):
                for b in range(width):
                    covered[(r0 + a) * ncols + c0 + b] = True
    count = 0
    for j in range(n):
        if covered[members[j]]:
            count += 1
    return 10 * count >= 9 * n


@njit(cache=True)
def _grow(seeds, grow_ok, parcel, nrows, ncols, off_r, off_c, off_d, max_cells, min_cells, width, labels):  # pragma: no cover
    """Numba kernel of :func:`grow_sites` (labels: 0 free, k site k, -1 in the site being grown)."""
    site = 0
    members = np.empty(max_cells, np.int64)
    covered = np.zeros(nrows * ncols, np.bool_)
    for s in seeds:
        if labels[s] != 0 or not grow_ok[s]:
            continue
        r0 = s // ncols
        c0 = s % ncols
        p = parcel[s]
        n = 0
        last = 0.0
        for k in range(off_r.shape[0]):
            if off_d[k] > last + 1.5:
                break                       # nothing was added in the last ring: the site cannot reach farther
            r = r0 + off_r[k]
            c = c0 + off_c[k]
            if r < 0 or r >= nrows or c < 0 or c >= ncols:
                continue
            i = r * ncols + c
            if labels[i] != 0 or not grow_ok[i] or parcel[i] != p:
                continue
            if k > 0:
                ok = False
                if r > 0 and labels[i - ncols] == -1:
                    ok = True
                elif r < nrows - 1 and labels[i + ncols] == -1:
                    ok = True
                elif c > 0 and labels[i - 1] == -1:
                    ok = True
                elif c < ncols - 1 and labels[i + 1] == -1:
                    ok = True
                if not ok:
                    continue
            labels[i] = -1
            members[n] = i
            n += 1
            last = off_d[k]
            if n == max_cells:
                break
        if n >= min_cells and _wide_enough(members, n, labels, nrows, ncols, width, covered):
            site += 1
            for j in range(n):
                labels[members[j]] = site
        else:
            for j in range(n):
                labels[members[j]] = 0
    return site


def seed_order(score: np.ndarray, suitable: np.ndarray, window: int) -> np.ndarray:
    """Flat indexes of the suitable cells, best first by the summed score of the suitable land around them.

    The sum is over a ``window`` × ``window`` square (rows and columns from
    ``i - window // 2``; unsuitable cells and cells off the grid count 0),
    so a seed sits inside a good stretch of land rather than on a lone good
    cell at its edge; ties by the cell's own score, then position. Sums come
    from a summed-area table built by sequential sums (column, then row), so
    the browser's explorer gets the same order to the last bit.

    >>> seed_order(np.array([[0.9, 0.5, 0.5, 0.5]]), np.ones((1, 4), bool), 3).tolist()
    [1, 2, 0, 3]
    """
    suitable = np.asarray(suitable, bool)
    score = np.where(suitable & np.isfinite(score), score, 0.0)
    nrows, ncols = score.shape
    table = np.zeros((nrows + 1, ncols + 1))
    table[1:, 1:] = np.cumsum(np.cumsum(score, axis=0), axis=1)
    w = max(1, int(window))
    r = np.arange(nrows)
    c = np.arange(ncols)
    r0, r1 = np.clip(r - w // 2, 0, nrows), np.clip(r - w // 2 + w, 0, nrows)
    c0, c1 = np.clip(c - w // 2, 0, ncols), np.clip(c - w // 2 + w, 0, ncols)
    support = (table[r1][:, c1] - table[r0][:, c1]) - (table[r1][:, c0] - table[r0][:, c0])
    idx = np.flatnonzero(suitable.ravel())
    return idx[np.lexsort((idx, -score.ravel()[idx], -support.ravel()[idx]))]


def width_cells(min_width_m: float, cell_m: float) -> int:
    """Cells a site's body must be wide: ``min_width_m`` over the cell side, rounded up, at least 1.

    >>> width_cells(200, 100), width_cells(200, 250), width_cells(0, 100)
    (2, 1, 1)
    """
    return max(1, int(np.ceil(float(min_width_m) / float(cell_m) - 1e-9)))


def grow_sites(score: np.ndarray, suitable: np.ndarray, parcel_labels: np.ndarray, *, cell_ha: float, min_area_ha: float,
               max_area_ha: float | None, radius_factor: float = 1.5, min_width_cells: int = 1) -> np.ndarray:
    """Compact sites grown inside parcels: int32 labels (0 = none, 1… in the order grown).

    From the best seed (:func:`seed_order`), a site takes the suitable cells
    of the seed's parcel nearest to the seed, ring by ring, each joined by a
    side to the cells already taken, until it holds ``max_area_ha`` or the
    parcel's suitable land within ``radius_factor`` × the radius of a disc of
    ``max_area_ha`` runs out. So a site is as large as the land offers, up to
    the legal maximum, and compact (inside that disc); it never crosses a
    barrier. A site below ``min_area_ha``, or too thin to build on (less
    than 90 % of its cells in ``min_width_cells`` × ``min_width_cells``
    squares of its own cells: a sliver left along a road), is given back
    (its cells may join a later seed's site) and the next seed is tried.

    >>> suit = np.ones((3, 8), bool); suit[:, 3] = False          # a road cuts the land at column 3
    >>> parcel, _ = parcels(suit)
    >>> grow_sites(np.ones((3, 8)), suit, parcel, cell_ha=1, min_area_ha=4, max_area_ha=9).tolist()   # 3 cells left: < 4 ha
    [[1, 1, 1, 0, 2, 2, 2, 0], [1, 1, 1, 0, 2, 2, 2, 0], [1, 1, 1, 0, 2, 2, 2, 0]]
    """
    suitable = np.asarray(suitable, bool) & (np.asarray(parcel_labels) > 0)
    nrows, ncols = suitable.shape
    max_cells = int(np.floor(float(max_area_ha) / cell_ha + 1e-9)) if max_area_ha is not None else int(suitable.sum())
    max_cells = max(max_cells, 1)
    min_cells = max(1, int(np.ceil(float(min_area_ha) / cell_ha - 1e-9)))
    off_r, off_c, off_d = disc_offsets(max_cells, radius_factor)
    window = max(1, int(round(np.sqrt(max_cells))))
    seeds = seed_order(score, suitable, window)
    labels = np.zeros(nrows * ncols, np.int64)
    _grow(seeds, suitable.ravel(), np.asarray(parcel_labels, np.int64).ravel(), nrows, ncols, off_r, off_c, off_d,
          max_cells, min_cells, max(1, int(min_width_cells)), labels)
    return labels.reshape(nrows, ncols).astype(np.int32)


def locate(score: np.ndarray, suitable: np.ndarray, *, cell_ha: float, min_area_ha: float = 0.0,
           max_area_ha: float | None = None, max_sites: int | None = None,
           split: str = "parts", parcel_labels: np.ndarray | None = None,
           radius_factor: float = 1.5, min_width_cells: int = 1) -> tuple[np.ndarray, pd.DataFrame]:
    """Sites = side-connected suitable cells of at least ``min_area_ha``, ranked by mean score.

    With ``max_area_ha``, a larger suitable area (a *zone*) is split into
    several sites of legal size (``split="parts"``, :func:`split_zones`,
    the default) or cut to its best core(s) (``split="core"``,
    :func:`carve`); ``zone_area_ha`` then gives the area of the zone each
    site was cut from. Returns ``(labels, table)``: ``labels`` is
    an int32 array (0 = no site, k = the site ranked k), ``table`` has one
    row per site (``site`` = rank, ``cells``, ``area_ha``, ``score_mean``,
    ``score_max``, ``zone_area_ha``, ``row``, ``col`` of its best cell).
    ``max_sites`` keeps only the best ones.
    """
    score = np.asarray(score, dtype=np.float64)
    suitable = np.asarray(suitable, bool)
    if split not in SPLITS:
        raise InputError(None, f"split must be one of {', '.join(SPLITS)}, not {split!r}")
    if split == "grow":
        if parcel_labels is None:
            raise InputError(None, "split 'grow' needs the parcels (barriers cut the land into parcels)")
        raw = grow_sites(score, suitable, parcel_labels, cell_ha=cell_ha, min_area_ha=min_area_ha, max_area_ha=max_area_ha,
                         radius_factor=radius_factor, min_width_cells=min_width_cells)
        n = int(raw.max())
        zones = np.asarray(parcel_labels, dtype=np.int64)
        zone_cells = np.bincount(zones.ravel(), minlength=int(zones.max()) + 1)
    else:
        zones, n_zones = ndimage.label(suitable, structure=ROOK)
        zone_cells = np.bincount(zones.ravel(), minlength=n_zones + 1)
        if max_area_ha is not None and split == "parts":
            raw = split_zones(suitable, cell_ha=cell_ha, max_area_ha=max_area_ha)
            n = int(raw.max())
        else:
            if max_area_ha is not None:
                suitable = carve(score, suitable, cell_ha=cell_ha, max_area_ha=max_area_ha)
            raw, n = ndimage.label(suitable, structure=ROOK)
    flat = raw.ravel()
    cells = np.bincount(flat, minlength=n + 1)[1:]
    safe = np.where(np.isfinite(score), score, 0.0).ravel()
    total = np.bincount(flat, weights=safe, minlength=n + 1)[1:]
    mean = np.divide(total, cells, out=np.full(n, np.nan), where=cells > 0)
    area = cells * float(cell_ha)
    keep = np.flatnonzero(area >= float(min_area_ha) - 1e-9)
    order = keep[np.lexsort((-area[keep], -mean[keep]))]
    if max_sites is not None:
        order = order[:int(max_sites)]
    relabel = np.zeros(n + 1, dtype=np.int32)
    relabel[order + 1] = np.arange(1, len(order) + 1, dtype=np.int32)
    labels = relabel[raw]
    # Best cell of each site (its score is the site's maximum; its position labels maps).
    best = np.full(len(order), -1, dtype=np.int64)
    if len(order):
        lab = labels.ravel()
        idx = np.flatnonzero(lab > 0)
        o = np.lexsort((-safe[idx], lab[idx]))
        first = np.r_[True, lab[idx][o][1:] != lab[idx][o][:-1]]
        best[lab[idx][o][first] - 1] = idx[o][first]
    table = pd.DataFrame({
        "site": np.arange(1, len(order) + 1), "cells": cells[order], "area_ha": area[order],
        "score_mean": mean[order], "score_max": safe[best] if len(order) else np.empty(0),
        "zone_area_ha": zone_cells[zones.ravel()[best]] * float(cell_ha) if len(order) else np.empty(0),
        "zone": zones.ravel()[best] if len(order) else np.empty(0, np.int64),
        "row": best // score.shape[1], "col": best % score.shape[1],
    })
    return labels, table


def site_means(labels: np.ndarray, n_sites: int, values: dict) -> pd.DataFrame:
    """Mean of each array in ``values`` over each site 1…n_sites (NaN cells ignored), plus ``<name>_known_share``.

    >>> lab = np.array([[1, 1, 2]])
    >>> site_means(lab, 2, {"x": np.array([[1.0, np.nan, 4.0]])}).values.tolist()
    [[1.0, 0.5], [4.0, 1.0]]
    """
    lab = np.asarray(labels).ravel()
    sel = lab > 0
    cells = np.bincount(lab[sel], minlength=n_sites + 1)[1:]
    out = {}
    for name, arr in values.items():
        v = np.asarray(arr, dtype=np.float64).ravel()[sel]
        known = np.isfinite(v)
        count = np.bincount(lab[sel][known], minlength=n_sites + 1)[1:]
        total = np.bincount(lab[sel][known], weights=v[known], minlength=n_sites + 1)[1:]
        out[name] = np.divide(total, count, out=np.full(n_sites, np.nan), where=count > 0)
        out[f"{name}_known_share"] = np.divide(count, cells, out=np.full(n_sites, np.nan), where=cells > 0)
    return pd.DataFrame(out, index=pd.RangeIndex(1, n_sites + 1, name="site"))


def site_mode(labels: np.ndarray, n_sites: int, codes: np.ndarray) -> np.ndarray:
    """Most frequent non-negative code (e.g. district number) over each site; −1 when none."""
    lab = np.asarray(labels).ravel()
    c = np.asarray(codes).ravel()
    sel = (lab > 0) & (c >= 0)
    out = np.full(n_sites, -1, dtype=np.int64)
    if not sel.any():
        return out
    ncodes = int(c[sel].max()) + 1
    counts = np.bincount((lab[sel] - 1) * ncodes + c[sel], minlength=n_sites * ncodes).reshape(n_sites, ncodes)
    has = counts.sum(axis=1) > 0
    out[has] = counts[has].argmax(axis=1)
    return out


def follow_sites(base_labels: np.ndarray, run_labels: np.ndarray, n_base: int) -> np.ndarray:
    """For base sites 1…n_base, the run label holding most of their cells (0 when none)."""
    b = np.asarray(base_labels).ravel()
    r = np.asarray(run_labels).ravel()
    sel = (b > 0) & (b <= n_base) & (r > 0)
    out = np.zeros(n_base, dtype=np.int64)
    if not sel.any():
        return out
    pairs = pd.DataFrame({"b": b[sel], "r": r[sel]}).value_counts().reset_index(name="n")
    pairs = pairs.sort_values(["b", "n", "r"], ascending=[True, False, True]).drop_duplicates("b")
    out[pairs["b"].to_numpy() - 1] = pairs["r"].to_numpy()
    return out


def weight_sensitivity(components: dict, weights: dict, eligible: np.ndarray, base_labels: np.ndarray, n_base: int, *,
                       cell_ha: float, min_area_ha: float, top_n: int, min_known_weight: float,
                       max_area_ha: float | None = None, split: str = "parts",
                       min_score: float | None = None, top_share: float | None = None,
                       change: float = 0.2, parcel_labels: np.ndarray | None = None,
                       radius_factor: float = 1.5, min_width_cells: int = 1,
                       shortlist_rule: "ShortlistRule | None" = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rank stability of the base sites when each weight changes by ±``change``.

    With ``shortlist_rule`` a run's sites are shortlisted as the base run's
    were (spacing, district cap) and a rank is a place on that shortlist; a
    site passed over counts as lost from the list. Without it, ranks are
    among all sites found.

    Returns ``(per_site, runs)``: ``per_site`` (index = base site 1…n_base)
    with ``rank_min``, ``rank_max`` (NaN when the site disappears in some
    run), ``runs``, ``runs_lost`` (runs where none of its cells is in a
    site) and ``top_n_share`` (share of runs in which it ranks ≤ ``top_n``);
    ``runs`` lists each run (criterion, factor, weights, threshold, number of
    sites, top site's overlap with the base top site).
    """
    names = list(weights)
    ranks, rows = [], []
    eligible = np.asarray(eligible, bool)
    cells = np.flatnonzero(eligible.ravel())            # only eligible cells can be suitable: score those
    flat = {k: np.asarray(v, dtype=np.float64).ravel()[cells] for k, v in components.items() if k in weights}
    for name in names:
        for factor in (1.0 - change, 1.0 + change):
            w = dict(weights)
            w[name] = w[name] * factor
            total = sum(w.values())
            w = {k: v / total for k, v in w.items()}
            score = np.full(eligible.shape, np.nan)
            score.ravel()[cells] = combine(flat, w, min_known_weight)[0]
            suitable, threshold = suitable_cells(score, eligible, min_score, top_share)
            labels, table = locate(score, suitable, cell_ha=cell_ha, min_area_ha=min_area_ha, max_area_ha=max_area_ha,
                                   split=split, parcel_labels=parcel_labels, radius_factor=radius_factor,
                                   min_width_cells=min_width_cells)
            if shortlist_rule is not None:
                labels = shortlist_rule.apply(labels, len(table))
            matched = follow_sites(base_labels, labels, n_base)
            ranks.append(np.where(matched > 0, matched, np.nan))
            rows.append({"criterion": name, "factor": factor, "weights": {k: round(v, 4) for k, v in w.items()},
                         "threshold": threshold, "sites": len(table),
                         "base_top_site_rank": float(ranks[-1][0]) if n_base else np.nan})
    r = np.array(ranks).reshape(len(rows), n_base) if rows else np.empty((0, n_base))
    lost = np.isnan(r).sum(axis=0)
    with np.errstate(invalid="ignore"):
        per_site = pd.DataFrame({
            "rank_min": np.nanmin(np.where(np.isnan(r), np.inf, r), axis=0) if len(r) else np.nan,
            "rank_max": np.where(lost > 0, np.nan, np.nanmax(r, axis=0)) if len(r) else np.nan,
            "runs": len(r),
            "runs_lost": lost,
            "top_n_share": ((r <= top_n).sum(axis=0) / len(r)) if len(r) else np.nan,
        }, index=pd.RangeIndex(1, n_base + 1, name="site"))
    per_site["rank_min"] = per_site["rank_min"].replace(np.inf, np.nan)
    return per_site, pd.DataFrame(rows)


# ---------------------------------------------------------------------- shape and shortlist

def site_shapes(labels: np.ndarray, n_sites: int, cell_m: float, core_share: float = 0.9) -> pd.DataFrame:
    """Shape of sites 1…n_sites: ``perimeter_m``, ``compactness`` and ``min_width_m``.

    ``compactness`` is Polsby–Popper, 4πA / P², on the cell outline (1 for a
    circle; a square of cells gives 0.785, a 1 × 4 strip 0.50).
    ``min_width_m`` is the width of its body: the largest k such that at
    least ``core_share`` (90 %) of its cells lie in k × k squares of site
    cells (a morphological opening; single cells sticking out of the body do
    not count), times the cell side.

    >>> lab = np.zeros((6, 6), int); lab[1:5, 1:5] = 1; lab[0, 0:4] = 2
    >>> site_shapes(lab, 2, 100).round(3).values.tolist()
    [[1600.0, 0.785, 400.0], [1000.0, 0.503, 100.0]]
    >>> lab[5, 1] = 1                                  # a cell sticking out does not narrow the body
    >>> site_shapes(lab, 2, 100)["min_width_m"].tolist()
    [400.0, 100.0]
    """
    lab = np.pad(np.asarray(labels), 1)
    edges = np.zeros(n_sites + 1)
    for axis in (0, 1):
        for shift in (1, -1):
            other = np.roll(lab, shift, axis=axis)
            diff = (lab > 0) & (lab != other)
            edges += np.bincount(lab[diff], minlength=n_sites + 1)[: n_sites + 1]
    cells = np.bincount(lab.ravel(), minlength=n_sites + 1)[: n_sites + 1]
    perimeter = edges[1:] * cell_m
    area = cells[1:] * cell_m * cell_m
    with np.errstate(invalid="ignore", divide="ignore"):
        compact = np.where(perimeter > 0, 4 * np.pi * area / perimeter ** 2, np.nan)
    width = np.full(n_sites, np.nan)
    for k, sl in enumerate(ndimage.find_objects(lab, max_label=n_sites), start=1):
        if sl is None:
            continue
        site = lab[sl] == k
        best = 1
        for size in range(2, min(site.shape) + 1):
            opened = ndimage.binary_opening(np.pad(site, size), structure=np.ones((size, size), bool))[size:-size, size:-size]
            if opened.sum() < core_share * site.sum():
                break
            best = size
        width[k - 1] = best * cell_m
    return pd.DataFrame({"perimeter_m": perimeter, "compactness": compact, "min_width_m": width},
                        index=pd.RangeIndex(1, n_sites + 1, name="site"))


def _boundary_cells(labels: np.ndarray, n_sites: int) -> list[np.ndarray]:
    """(row, col) of the cells of each site 1…n_sites that touch a cell outside it (k × 2 arrays)."""
    lab = np.asarray(labels)
    pad = np.pad(lab, 1)
    inner = np.ones(lab.shape, bool)
    for dr, dc in ((0, 1), (0, -1), (1, 0), (-1, 0)):
        inner &= pad[1 + dr:1 + dr + lab.shape[0], 1 + dc:1 + dc + lab.shape[1]] == lab
    rows, cols = np.nonzero((lab > 0) & ~inner)
    site = lab[rows, cols]
    order = np.argsort(site, kind="stable")
    rows, cols, site = rows[order], cols[order], site[order]
    bounds = np.searchsorted(site, np.arange(1, n_sites + 2))
    return [np.column_stack([rows[a:b], cols[a:b]]) for a, b in zip(bounds[:-1], bounds[1:])]


def edge_distance_m(a: np.ndarray, b: np.ndarray, cell_m: float) -> float:
    """Shortest distance (m) between two sets of square cells given by (row, col): 0 when they touch.

    >>> edge_distance_m(np.array([[0, 0]]), np.array([[0, 3], [5, 5]]), 100)
    200.0
    """
    if not len(a) or not len(b):
        return np.inf
    dr = np.maximum(np.abs(a[:, None, 0] - b[None, :, 0]) - 1, 0)
    dc = np.maximum(np.abs(a[:, None, 1] - b[None, :, 1]) - 1, 0)
    return float(np.sqrt((dr * dr + dc * dc).min()) * cell_m)


def shortlist(labels: np.ndarray, n_sites: int, *, cell_m: float, min_spacing_m: float = 0.0, top_n: int | None = None,
              caps: dict | None = None, candidates=None) -> tuple[list[int], dict[int, str]]:
    """A shortlist from ranked sites 1…n_sites: ``(chosen sites in rank order, why others were passed over)``.

    Going down the ranking, a site is taken unless it lies closer than
    ``min_spacing_m`` (edge to edge) to a site already taken, or a group it
    belongs to is full: ``caps`` maps a group name (e.g. "district") to
    ``(group of each site 1…n_sites, at most this many)``; a site whose group
    is unknown (None) is not capped. ``candidates`` (site numbers) limits the
    sites considered (e.g. one district's); ``top_n`` stops the list.

    >>> lab = np.array([[1, 1, 0, 2, 0, 0, 0, 3]])
    >>> shortlist(lab, 3, cell_m=100, min_spacing_m=150)
    ([1, 3], {2: 'within 150 m of site 1 (100 m)'})
    """
    caps = caps or {}
    boundary = _boundary_cells(labels, n_sites)
    boxes = [(b[:, 0].min(), b[:, 0].max(), b[:, 1].min(), b[:, 1].max()) if len(b) else None for b in boundary]
    pool = range(1, n_sites + 1) if candidates is None else sorted(int(c) for c in candidates)
    chosen, why = [], {}
    counts = {name: {} for name in caps}
    reach = min_spacing_m / cell_m + 1
    for site in pool:
        if top_n is not None and len(chosen) >= top_n:
            break
        full = next((name for name, (groups, cap) in caps.items() if groups[site - 1] is not None
                     and counts[name].get(groups[site - 1], 0) >= cap), None)
        if full is not None:
            groups, cap = caps[full]
            why[site] = f"{full} {groups[site - 1]} already has {cap} sites on the list"
            continue
        near = None
        if min_spacing_m > 0 and boxes[site - 1] is not None:
            r0, r1, c0, c1 = boxes[site - 1]
            for other in chosen:
                q0, q1, p0, p1 = boxes[other - 1]
                if q0 - r1 > reach or r0 - q1 > reach or p0 - c1 > reach or c0 - p1 > reach:
                    continue
                d = edge_distance_m(boundary[site - 1], boundary[other - 1], cell_m)
                if d < min_spacing_m:
                    near = (other, d)
                    break
        if near is not None:
            why[site] = f"within {min_spacing_m:,.0f} m of site {near[0]} ({near[1]:,.0f} m)"
            continue
        chosen.append(site)
        for name, (groups, _) in caps.items():
            g = groups[site - 1]
            if g is not None:
                counts[name][g] = counts[name].get(g, 0) + 1
    return chosen, why


@dataclass(frozen=True, eq=False)
class ShortlistRule:
    """How the sites of a re-scored run are shortlisted, as in the base run: ``min_spacing_m`` edge to edge and at
    most ``max_per_district`` sites per district (``district_codes``: the district of every cell, −1 = none).

    >>> lab = np.array([[1, 1, 0, 2, 0, 0, 0, 3]])
    >>> ShortlistRule(cell_m=100, min_spacing_m=150).apply(lab, 3).tolist()    # site 2 is too close to site 1
    [[1, 1, 0, 0, 0, 0, 0, 2]]
    """

    cell_m: float
    min_spacing_m: float = 0.0
    district_codes: np.ndarray | None = None
    max_per_district: int | None = None

    def apply(self, labels: np.ndarray, n_sites: int) -> np.ndarray:
        """``labels`` renumbered in shortlist order (1 = first on the list); sites passed over become 0."""
        caps = {}
        if self.district_codes is not None and self.max_per_district:
            mode = site_mode(labels, n_sites, self.district_codes)
            caps["district"] = ([int(m) if m >= 0 else None for m in mode], int(self.max_per_district))
        chosen, _ = shortlist(labels, n_sites, cell_m=self.cell_m, min_spacing_m=self.min_spacing_m, caps=caps)
        relabel = np.zeros(n_sites + 1, dtype=np.int32)
        relabel[np.asarray(chosen, dtype=np.int64)] = np.arange(1, len(chosen) + 1, dtype=np.int32)
        return relabel[np.asarray(labels)]
