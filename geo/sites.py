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

import numpy as np
import pandas as pd
from scipy import ndimage

from geo.errors import InputError
from geo.suitability import combine

log = logging.getLogger(__name__)

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


def locate(score: np.ndarray, suitable: np.ndarray, *, cell_ha: float, min_area_ha: float = 0.0,
           max_area_ha: float | None = None, max_sites: int | None = None,
           split: str = "parts") -> tuple[np.ndarray, pd.DataFrame]:
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
    zones, n_zones = ndimage.label(suitable, structure=ROOK)
    zone_cells = np.bincount(zones.ravel(), minlength=n_zones + 1)
    if split not in ("parts", "core"):
        raise InputError(None, f"split must be 'parts' or 'core', not {split!r}")
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
                       change: float = 0.2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rank stability of the base sites when each weight changes by ±``change``.

    Returns ``(per_site, runs)``: ``per_site`` (index = base site 1…n_base)
    with ``rank_min``, ``rank_max`` (NaN when the site disappears in some
    run), ``runs``, ``runs_lost`` (runs where none of its cells is in a
    site) and ``top_n_share`` (share of runs in which it ranks ≤ ``top_n``);
    ``runs`` lists each run (criterion, factor, weights, threshold, number of
    sites, top site's overlap with the base top site).
    """
    names = list(weights)
    ranks, rows = [], []
    for name in names:
        for factor in (1.0 - change, 1.0 + change):
            w = dict(weights)
            w[name] = w[name] * factor
            total = sum(w.values())
            w = {k: v / total for k, v in w.items()}
            score, _, _ = combine(components, w, min_known_weight)
            suitable, threshold = suitable_cells(score, eligible, min_score, top_share)
            labels, table = locate(score, suitable, cell_ha=cell_ha, min_area_ha=min_area_ha, max_area_ha=max_area_ha,
                                   split=split)
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
