"""Locating, ranking and the weight sensitivity of candidate sites, against brute force."""

from collections import deque

import numpy as np
import pytest
from scipy import ndimage

from geo.siting.sites import carve, follow_sites, locate, site_means, site_mode, suitable_cells, weight_sensitivity
from geo.siting.suitability import combine


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


# ---------------------------------------------------------------------- parcels, grown sites, shortlist

def test_barriers_cut_parcels_and_sites_never_cross_them():
    """A road (a column of excluded cells) and a river (a row) cut a field into four parcels; every site grown lies in
    one parcel, holds 4–9 cells and stays within the growth disc of its seed."""
    from geo.siting.sites import grow_sites, parcels

    land = np.ones((20, 30), bool)
    land[:, 12] = False        # road
    land[9, :] = False         # river
    lab, cells = parcels(land)
    assert lab.max() == 4 and sorted(cells[1:].tolist()) == sorted([9 * 12, 9 * 17, 10 * 12, 10 * 17])
    score = smooth_field(land.shape, 3)
    suitable = land & (score > 0.3)
    sites = grow_sites(score, suitable, lab, cell_ha=1.0, min_area_ha=4, max_area_ha=9)
    assert sites.max() > 4
    for k in range(1, sites.max() + 1):
        mask = sites == k
        assert len(np.unique(lab[mask])) == 1                       # inside one parcel
        assert 4 <= mask.sum() <= 9                                 # the legal range
        assert suitable[mask].all()
        assert ndimage.label(mask, structure=ndimage.generate_binary_structure(2, 1))[1] == 1   # contiguous
        r, c = np.nonzero(mask)
        assert np.hypot(r - r.mean(), c - c.mean()).max() <= 1.5 * np.sqrt(9 / np.pi) + 2    # compact


def test_grown_sites_are_sized_by_the_land_not_tiles_of_the_maximum():
    """A large field gives sites of the maximum; a small parcel its whole land; a parcel below the minimum nothing —
    never a zone sliced into maximum-size strips."""
    from geo.siting.sites import grow_sites, parcels, site_shapes

    land = np.zeros((40, 40), bool)
    land[:30, :30] = True                  # 900 cells
    land[35:38, 32:38] = True              # 18 cells
    land[33:35, 0:2] = True                # 4 cells: below the minimum
    lab, _ = parcels(land)
    sites = grow_sites(np.ones(land.shape), land, lab, cell_ha=1.0, min_area_ha=5, max_area_ha=75)
    sizes = np.bincount(sites.ravel())[1:]
    assert (sizes <= 75).all() and (sizes >= 5).all()
    assert 18 in sizes and not sites[33:35, 0:2].any()
    shapes = site_shapes(sites, int(sites.max()), 100.0)
    big = sizes == 75
    assert big.sum() >= 6 and (shapes["compactness"].to_numpy() > 0.25).all()        # blobs, not strips
    assert (shapes["min_width_m"].to_numpy()[big] >= 200).all() and np.median(shapes["min_width_m"].to_numpy()[big]) >= 300
    # a 1-cell-wide strip of land gives a site 100 m wide, compactness far below
    strip = np.zeros((3, 40), bool)
    strip[1, :] = True
    s2 = grow_sites(np.ones(strip.shape), strip, parcels(strip)[0], cell_ha=1.0, min_area_ha=5, max_area_ha=10)
    sh = site_shapes(s2, int(s2.max()), 100.0)
    assert (sh["min_width_m"] == 100).all() and (sh["compactness"] < 0.5).all()


def test_locate_grow_needs_parcels_and_ranks_by_mean_score():
    from geo.errors import InputError
    from geo.siting.sites import parcels

    score = smooth_field((30, 30), 5)
    suitable = score > 0.5
    with pytest.raises(InputError, match="needs the parcels"):
        locate(score, suitable, cell_ha=1, min_area_ha=3, max_area_ha=20, split="grow")
    lab, _ = parcels(np.ones(score.shape, bool))
    labels, table = locate(score, suitable, cell_ha=1, min_area_ha=3, max_area_ha=20, split="grow", parcel_labels=lab)
    assert table["score_mean"].is_monotonic_decreasing and (table["cells"] <= 20).all() and (table["cells"] >= 3).all()
    for row in table.itertuples():
        assert (labels == row.site).sum() == row.cells


def test_shortlist_keeps_spacing_and_district_caps():
    from geo.siting.sites import edge_distance_m, shortlist

    labels = np.zeros((10, 60), int)
    starts = [0, 4, 12, 25, 31, 45, 52]                 # seven 2-cell-wide sites along a row, ranked left to right
    for k, c in enumerate(starts, start=1):
        labels[2:4, c:c + 2] = k
    district = ["A", "A", "A", "B", "A", "B", None]
    chosen, why = shortlist(labels, 7, cell_m=100, min_spacing_m=500, caps={"district": (district, 2)})
    # 2 is 200 m from 1 (too close); 3 is in A; 5 would be A's third; 7 has no district (not capped)
    assert chosen == [1, 3, 4, 6, 7]
    assert "within 500 m of site 1" in why[2] and "district A already has 2" in why[5]
    cells = {k: np.argwhere(labels == k) for k in chosen}
    for i, a in enumerate(chosen):
        for b in chosen[i + 1:]:
            assert edge_distance_m(cells[a], cells[b], 100) >= 500
    only_b, _ = shortlist(labels, 7, cell_m=100, min_spacing_m=0, candidates=[4, 6])
    assert only_b == [4, 6]
    top2, _ = shortlist(labels, 7, cell_m=100, top_n=2)
    assert top2 == [1, 2]


def test_rerun_ranks_are_places_on_the_shortlist():
    """A re-scored run is shortlisted like the base run: a site that only ranks behind a too-close neighbour among
    all sites is still 2nd on the list (without the rule it would be 3rd)."""
    from geo.siting.sites import ShortlistRule

    score = np.array([[0.9, 0.9, 0.0, 0.85, 0.0, 0.0, 0.0, 0.8]])
    comp = {"a": score}
    eligible = score > 0
    labels = np.array([[1, 1, 0, 0, 0, 0, 0, 2]])            # the base shortlist: sites at columns 0–1 and 7
    args = dict(cell_ha=1, min_area_ha=0.5, top_n=2, min_known_weight=0.0, top_share=1.0, split="parts")
    plain, _ = weight_sensitivity(comp, {"a": 1.0}, eligible, labels, 2, **args)
    rule = ShortlistRule(cell_m=100, min_spacing_m=150)
    listed, _ = weight_sensitivity(comp, {"a": 1.0}, eligible, labels, 2, shortlist_rule=rule, **args)
    assert plain.loc[2, "rank_max"] == 3 and listed.loc[2, "rank_max"] == 2
    assert listed.loc[2, "top_n_share"] == 1.0 and plain.loc[2, "top_n_share"] == 0.0
