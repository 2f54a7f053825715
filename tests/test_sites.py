"""Locating, ranking and the weight sensitivity of candidate sites, against brute force."""

from collections import deque

import numpy as np
import pytest
from scipy import ndimage

from geo.sites import carve, follow_sites, locate, site_means, site_mode, suitable_cells, weight_sensitivity
from geo.suitability import combine


def flood_fill_sites(suitable, score, cell_ha, min_area_ha):
    """Plain-Python sites: breadth-first search through cell sides, then filter and rank."""
    rows, cols = suitable.shape
    seen = np.zeros_like(suitable)
    sites = []
    for r in range(rows):
        for c in range(cols):
            if suitable[r, c] and not seen[r, c]:
                cells, queue = [], deque([(r, c)])
                seen[r, c] = True
                while queue:
                    i, j = queue.popleft()
                    cells.append((i, j))
                    for a, b in ((i + 1, j), (i - 1, j), (i, j + 1), (i, j - 1)):
                        if 0 <= a < rows and 0 <= b < cols and suitable[a, b] and not seen[a, b]:
                            seen[a, b] = True
                            queue.append((a, b))
                if len(cells) * cell_ha >= min_area_ha:
                    sites.append((sum(score[i, j] for i, j in cells) / len(cells), len(cells), frozenset(cells)))
    sites.sort(key=lambda s: (-s[0], -s[1]))
    return sites


def smooth_field(shape, seed, sigma=3):
    rng = np.random.default_rng(seed)
    f = ndimage.gaussian_filter(rng.normal(size=shape), sigma)
    return (f - f.min()) / (f.max() - f.min())


def test_locate_matches_flood_fill_and_ranks_by_mean_score():
    score = smooth_field((80, 90), seed=2)
    suitable = score > 0.6
    labels, table = locate(score, suitable, cell_ha=6.25, min_area_ha=30)
    expected = flood_fill_sites(suitable, score, 6.25, 30)
    assert len(table) == len(expected) > 3
    for k, (mean, n, cells) in enumerate(expected, start=1):
        assert table.loc[k - 1, "site"] == k
        assert table.loc[k - 1, "cells"] == n and table.loc[k - 1, "score_mean"] == pytest.approx(mean)
        assert set(zip(*np.nonzero(labels == k))) == cells
    assert (table["area_ha"] >= 30).all() and table["score_mean"].is_monotonic_decreasing
    # cells below the minimum area are in no site
    assert not labels[suitable & (labels == 0)].any()


def test_corner_contacts_do_not_join_and_min_area_filters():
    suitable = np.array([[1, 0, 0],
                         [0, 1, 1],
                         [0, 1, 0]], bool)
    score = np.where(suitable, 0.8, 0.0)
    labels, table = locate(score, suitable, cell_ha=10, min_area_ha=0)
    assert len(table) == 2 and sorted(table["cells"]) == [1, 3]
    labels, table = locate(score, suitable, cell_ha=10, min_area_ha=25)
    assert len(table) == 1 and table.loc[0, "area_ha"] == 30 and labels[0, 0] == 0


def test_ties_rank_larger_sites_first_and_best_cell_is_reported():
    score = np.array([[0.7, 0.7, 0.0, 0.7],
                      [0.0, 0.0, 0.0, 0.9]])
    _, table = locate(score, score > 0.5, cell_ha=1)
    assert table["site"].tolist() == [1, 2]
    assert table.loc[0, "score_mean"] == pytest.approx(0.8) and (table.loc[0, "row"], table.loc[0, "col"]) == (1, 3)
    assert table.loc[1, "cells"] == 2


def test_carve_cuts_large_zones_to_their_best_cores():
    score = smooth_field((60, 60), seed=4, sigma=6)
    suitable = score > 0.3
    kept = carve(score, suitable, cell_ha=1, max_area_ha=40)
    lab, n = ndimage.label(kept, structure=ndimage.generate_binary_structure(2, 1))
    assert n >= 1 and np.bincount(lab.ravel())[1:].max() <= 40
    assert not (kept & ~suitable).any()
    assert kept.any() and score[kept].mean() > score[suitable].mean()
    # the best cell of every zone survives
    zones, nz = ndimage.label(suitable, structure=ndimage.generate_binary_structure(2, 1))
    for z in range(1, nz + 1):
        cells = np.flatnonzero(zones.ravel() == z)
        assert kept.ravel()[cells[np.argmax(score.ravel()[cells])]]
    _, table = locate(score, suitable, cell_ha=1, min_area_ha=10, max_area_ha=40)
    assert (table["area_ha"] <= 40).all() and (table["zone_area_ha"] >= table["area_ha"]).all()


def test_threshold_top_share_and_min_score():
    score = np.arange(100, dtype=float).reshape(10, 10) / 100
    eligible = np.ones_like(score, bool)
    eligible[0] = False
    mask, t = suitable_cells(score, eligible, top_share=0.1)
    assert mask.sum() == 9 and t == pytest.approx(np.quantile(score[1:], 0.9))
    mask, t = suitable_cells(score, eligible, min_score=0.95)
    assert t == 0.95 and mask.sum() == 5
    score[9, 9] = np.nan
    mask, _ = suitable_cells(score, eligible, min_score=0.0)
    assert not mask[9, 9] and mask.sum() == 89


def test_site_means_and_modes_ignore_unknowns():
    labels = np.array([[1, 1, 2, 0]])
    values = {"x": np.array([[1.0, np.nan, np.nan, 9.0]])}
    m = site_means(labels, 2, values)
    assert m.loc[1, "x"] == 1.0 and m.loc[1, "x_known_share"] == 0.5
    assert np.isnan(m.loc[2, "x"]) and m.loc[2, "x_known_share"] == 0.0
    assert site_mode(labels, 2, np.array([[3, 3, -1, 0]])).tolist() == [3, -1]


def two_hills(shape=(60, 60)):
    """Criterion a is best in the west hill, b in the east hill; both known everywhere."""
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    west = np.exp(-((xx - 15) ** 2 + (yy - 30) ** 2) / 60)
    east = np.exp(-((xx - 45) ** 2 + (yy - 30) ** 2) / 60)
    return {"a": 0.2 + 0.8 * west, "b": 0.2 + 0.8 * east}


def test_sites_move_when_weights_change():
    comp = two_hills()
    eligible = np.ones((60, 60), bool)
    tops = {}
    for name, weights in (("a", {"a": 0.7, "b": 0.3}), ("b", {"a": 0.3, "b": 0.7})):
        score, _, _ = combine(comp, weights, 0.5)
        suitable, _ = suitable_cells(score, eligible, top_share=0.05)
        _, table = locate(score, suitable, cell_ha=1, min_area_ha=5)
        tops[name] = table.loc[0, "col"]
    assert tops["a"] < 30 < tops["b"]


def test_sensitivity_of_a_dominant_and_a_fragile_site():
    comp = two_hills()
    weights = {"a": 0.52, "b": 0.48}              # nearly tied: the order flips with ±20 %
    eligible = np.ones((60, 60), bool)
    score, _, _ = combine(comp, weights, 0.5)
    suitable, _ = suitable_cells(score, eligible, top_share=0.05)
    labels, table = locate(score, suitable, cell_ha=1, min_area_ha=5)
    assert len(table) == 2
    per_site, runs = weight_sensitivity(comp, weights, eligible, labels, 2, cell_ha=1, min_area_ha=5, top_n=1,
                                        min_known_weight=0.5, top_share=0.05)
    assert len(runs) == 4 and set(runs["criterion"]) == {"a", "b"}
    assert per_site["rank_min"].tolist() == [1, 1] and per_site["rank_max"].tolist() == [2, 2]
    assert 0 < per_site.loc[1, "top_n_share"] < 1 and per_site["runs_lost"].tolist() == [0, 0]
    # a clear winner stays first in every run
    weights = {"a": 0.8, "b": 0.2}
    score, _, _ = combine(comp, weights, 0.5)
    suitable, _ = suitable_cells(score, eligible, top_share=0.05)
    labels, table = locate(score, suitable, cell_ha=1, min_area_ha=5)
    per_site, _ = weight_sensitivity(comp, weights, eligible, labels, 1, cell_ha=1, min_area_ha=5, top_n=1,
                                     min_known_weight=0.5, top_share=0.05)
    assert per_site.loc[1, "top_n_share"] == 1.0 and per_site.loc[1, "rank_max"] == 1


def test_follow_sites_picks_the_run_site_holding_most_cells():
    base = np.array([[1, 1, 1, 2, 2, 0]])
    run = np.array([[3, 3, 1, 0, 0, 4]])
    assert follow_sites(base, run, 2).tolist() == [3, 0]
