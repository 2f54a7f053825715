"""Siting on the real Bắc Giang data (coarse 1 km / 500 m grids to stay fast; the 250 m run is the CLI's)."""

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
import yaml

from geo.errors import InputError

SCENARIO = "layers/scenarios/ct01-bac-giang-lang-son-indicative.geojson"
DISTRICTS = {"Bắc Giang", "Hiệp Hòa", "Lạng Giang", "Lục Nam", "Lục Ngạn", "Sơn Động", "Tân Yên", "Việt Yên", "Yên Dũng", "Yên Thế"}


@pytest.fixture(scope="module")
def inputs(region):
    from geo import settings
    from layers import networks
    from layers.population import population_raster

    settings.progress = False
    net = networks.build_networks(region, with_rail=False)
    array, profile, _ = population_raster(region)
    return net, (array, profile)


@pytest.fixture(scope="module")
def logistics(region, inputs):
    from layers.siting import run_siting

    net, pop = inputs
    return run_siting(region, "logistics-heavy", cell_m=1000, net=net, population=pop)


def _repo_path(name):
    from pathlib import Path

    return Path(__file__).resolve().parent.parent / name


def _write_profile(tmp_path, name, data):
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_logistics_sites_are_ranked_and_sized(logistics):
    s, sites = logistics.summary, logistics.sites
    # The province is 3,892.5 km² (GADM 4.1, SOURCES.md): 1 km cells by centre.
    assert s["cells_in_region"] == pytest.approx(3892.5, rel=0.01)
    assert len(sites) == 10 and sites["site"].tolist() == list(range(1, 11))
    assert sites["score_mean"].is_monotonic_decreasing
    assert (sites["area_ha"] >= 100).all() and (sites["area_ha"] <= 500).all()      # Decree 35 phase limit (rules file)
    assert set(sites["district"]) <= DISTRICTS
    assert sites.crs.to_epsg() == 4326 and sites.geometry.is_valid.all()
    # CT.01 (opened 2020) is in today's network as an indicative line: measured, and weighted through the trunk group
    # (the nearest of CT.01 and QL1A: one criterion for one kind of access).
    assert "minutes_to_trunk" in s["weights_used"] and "minutes_to_ct01" not in s["weights_used"]
    assert sites["minutes_to_ct01"].notna().all()
    # The DEM covers the western 4.3 % of the province (SOURCES.md): slope is partial, not scored.
    assert s["criteria_partial"]["slope_deg"] == pytest.approx(0.043, abs=0.01)
    assert sum(s["weights_used"].values()) == pytest.approx(1, abs=1e-3)     # rounded to 4 decimals
    # Sensitivity: each used weight ±20 %.
    assert s["sensitivity"]["runs"] == 2 * len(s["weights_used"])
    assert sites["top_n_share"].between(0, 1).all() and (sites["rank_min"] >= 1).all()


def test_no_site_overlaps_an_excluded_area(region, logistics):
    crs = region.metric_crs
    sites = logistics.sites.to_crs(crs)
    union = shapely.union_all(np.asarray(sites.geometry.values))
    for name, geoms in logistics.arrays["exclusion_geoms"].items():
        for geom in geoms:
            assert shapely.intersection(union, geom).area < 1.0, name
    # ... and every site lies inside the region
    from layers.boundaries import region_polygon

    outline = gpd.GeoSeries([region_polygon(region)], crs=4326).to_crs(crs).iloc[0]
    assert union.difference(outline).area < 1.0
    ex = logistics.summary["exclusions"]
    assert ex["protected_forest"]["given"] is False and "not given" in ex["protected_forest"]["note"]
    from layers.parks import industrial_parks     # every placed park (open positions, portal points filling gaps)

    assert ex["parks"]["features"] == len(industrial_parks(region))
    assert ex["water_areas"]["cells"] > 0 and ex["rivers"]["cells"] > 0


def test_grid_layer_is_consistent(logistics):
    g = logistics.grid
    s = logistics.summary
    assert len(g) == s["cells_in_region"]
    assert not (g["excluded"] & g["suitable"]).any()
    assert (g.loc[g["site"] > 0, "suitable"]).all()
    assert g.loc[g["weight_known"] < 0.75, "score"].isna().all()
    # cells more than 2 km from the 2018 roads: no minutes, no people (unknown, not 0)
    far = g["snap_m"].isna()
    assert far.sum() == s["network"]["cells_not_connected"] > 0
    assert g.loc[far, "minutes_to_ql1a"].isna().all() and g.loc[far, "people_within_45_min"].isna().all()
    assert (g.loc[~far, "people_within_45_min"] >= g.loc[~far, "people_within_30_min"]).all()
    assert set(g["district"].dropna()) <= DISTRICTS
    assert g.loc[g["excluded_by"].notna(), "excluded"].all()


def test_result_pickles_back_to_the_same_tables(logistics):
    """The forked siting step of plan.py run sends its result back pickled: the grid's points travel as coordinates."""
    import pickle

    import pandas as pd

    back = pickle.loads(pickle.dumps(logistics))
    g, h = logistics.grid, back.grid
    assert type(h) is type(g) and list(h.columns) == list(g.columns) and h.crs == g.crs and h.index.equals(g.index)
    pd.testing.assert_frame_equal(pd.DataFrame(h.drop(columns="geometry")), pd.DataFrame(g.drop(columns="geometry")))
    assert (shapely.to_wkb(np.asarray(h.geometry.values)) == shapely.to_wkb(np.asarray(g.geometry.values))).all()
    assert h.attrs == g.attrs and back.sites.equals(logistics.sites) and back.summary == logistics.summary
    assert np.array_equal(back.score, logistics.score, equal_nan=True)


def test_sites_move_with_the_criteria(region, inputs, tmp_path):
    """Only Kép access → the top site is by Kép; only labour within 30 min → in the dense south-west."""
    from layers.siting import run_siting

    net, pop = inputs
    base = {"locate": {"min_area_ha": 100, "top_n": 3, "top_share": 0.03}}
    kep = _write_profile(tmp_path, "kep", {**base, "criteria": {
        "minutes_to_kep_station": {"weight": 1, "transform": {"type": "linear", "best": 0, "worst": 60}}}})
    people = _write_profile(tmp_path, "people", {**base, "criteria": {
        "people_within_30_min": {"weight": 1, "transform": {"type": "linear", "best": 800000, "worst": 0}}}})
    a = run_siting(region, kep, cell_m=1000, net=net, population=pop, sensitivity=False)
    b = run_siting(region, people, cell_m=1000, net=net, population=pop, sensitivity=False)
    top_a, top_b = a.sites.iloc[0], b.sites.iloc[0]
    # Kép station: 106.29039 E, 21.41673 N (region destinations)
    assert abs(top_a["lon"] - 106.29) < 0.05 and abs(top_a["lat"] - 21.417) < 0.05
    # a linear transform of one criterion: the best site has the fewest mean minutes
    assert top_a["minutes_to_kep_station"] == a.sites["minutes_to_kep_station"].min() < 20
    assert top_b["people_within_30_min"] > 1.5 * top_a["people_within_30_min"]
    assert top_b["district"] in {"Bắc Giang", "Việt Yên", "Yên Dũng", "Hiệp Hòa"}


def test_labour_profile_with_ahp_on_a_500m_grid(region, inputs):
    from layers.siting import run_siting

    net, pop = inputs
    r = run_siting(region, "labour-intensive", cell_m=500, net=net, population=pop)
    s = r.summary
    assert s["profile"]["weights_from"] == "ahp" and s["profile"]["ahp"]["cr"] <= 0.1
    assert len(r.sites) == 10 and (r.sites["area_ha"] >= 30).all() and (r.sites["area_ha"] <= 75).all()
    assert (r.sites["zone_area_ha"] >= r.sites["area_ha"]).all()
    assert s["weights_used"]["people_within_30_min"] == max(s["weights_used"].values())


def test_scenario_adds_ct01_and_optional_layers(region, inputs, logistics, tmp_path):
    """After adding the indicative CT.01: minutes to its interchanges known; a protected area excludes cells;
    layers missing from the data folder (water, places) and a DEM not used are reported, not zero."""
    import copy
    import dataclasses

    from layers.siting import run_siting

    net, pop = inputs
    config = copy.deepcopy(region.config)
    config["water"]["file"] = "no_such_water.gpkg"
    config["places"]["file"] = "no_such_places.geojson"
    region = dataclasses.replace(region, config=config)
    top = logistics.sites.iloc[0]
    forest = gpd.GeoDataFrame({"name": ["test forest"]}, geometry=[shapely.Point(top["lon"], top["lat"]).buffer(0.02)], crs=4326)
    forest_file = tmp_path / "forest.geojson"
    forest.to_file(forest_file, driver="GeoJSON")
    r = run_siting(region, "logistics-heavy", cell_m=1000, net=net, population=pop, scenario=_repo_path(SCENARIO),
                   protected_file=forest_file, use_dem=False, sensitivity=False)
    s = r.summary
    assert s["scenario"]["roads"][0]["corridor_id"] == "ct01"
    assert "minutes_to_trunk" in s["weights_used"]
    assert r.grid["minutes_to_ct01"].notna().mean() == pytest.approx(r.grid["minutes_to_ql1a"].notna().mean())
    both = r.grid[["minutes_to_ct01", "minutes_to_ql1a"]].min(axis=1)           # trunk = the nearest of the group
    assert np.allclose(r.grid["minutes_to_trunk"], both, equal_nan=True, atol=1e-9)
    # Interchange Vôi (106.25787 E, 21.35280 N) lies on the line: its cell is minutes from an interchange.
    g = r.grid
    voi = gpd.GeoSeries([shapely.Point(106.25787, 21.3528)], crs=4326).to_crs(32648).iloc[0]
    near = g.loc[g.geometry.to_crs(32648).distance(voi).idxmin()]       # the cell holding it: the nearest centre
    assert near["minutes_to_ct01"] < 10
    # A new road never lengthens a trip (same grid as the base run).
    before = logistics.grid.set_index("cell_id")["minutes_to_ql1a"]
    after = g.set_index("cell_id")["minutes_to_ql1a"]
    assert ((after - before).dropna() <= 1e-6).all()
    # No DEM: slope is a missing layer (dropped, reported), not 0.
    assert s["criteria_coverage"]["slope_deg"] == 0 and "no DEM given" in s["criteria_dropped"]["slope_deg"]
    ex = s["exclusions"]["protected_forest"]
    assert ex["given"] and ex["cells"] > 0
    assert set(s["layers_not_given"]) == {"water", "urban places"}
    for name in ("water_areas", "rivers", "urban"):
        assert s["exclusions"][name]["given"] is False and "not given" in s["exclusions"][name]["note"]
    assert "no_such_places.geojson" in s["criteria_dropped"]["km_to_urban"] and "km_to_urban" not in s["weights_used"]
    assert g["km_to_urban"].isna().all() and g["minutes_to_town"].isna().all()
    sites = r.sites.to_crs(region.metric_crs)
    forest_m = forest.to_crs(region.metric_crs).geometry.iloc[0]
    assert shapely.intersection(shapely.union_all(np.asarray(sites.geometry.values)), forest_m).area < 1.0


def test_bad_inputs_stop_early_with_one_line(region, tmp_path):
    from layers.siting import run_siting

    lin = {"type": "linear", "best": 0, "worst": 10}
    cases = [
        ({"criteria": {"minutes_to_moon": {"weight": 1, "transform": lin}}}, "unknown criterion 'minutes_to_moon'"),
        ({"criteria": {"minutes_to_ql1a": {"weight": 0, "transform": lin}}}, "sum to a positive number"),
        ({"criteria": {k: {"transform": lin} for k in ("minutes_to_ql1a", "km_to_park", "km_to_urban")},
          "ahp": {"matrix": [[1, 9, "1/9"], ["1/9", 1, 9], [9, "1/9", 1]]}}, "inconsistent"),
        ({"criteria": {"minutes_to_ql1a": {"weight": 1, "transform": lin}}, "exclusions": {"lava_buffer_m": 5}},
         "unknown exclusion setting 'lava_buffer_m'"),
        ({"criteria": {"minutes_to_ql1a": {"weight": 1, "transform": lin}}, "locate": {"min_area_ha": 50, "max_area_ha": 10}},
         "max_area_ha"),
    ]
    for i, (data, words) in enumerate(cases):
        path = _write_profile(tmp_path, f"bad{i}", data)
        with pytest.raises(InputError) as err:
            run_siting(region, path, cell_m=1000)
        assert words in str(err.value) and str(path) in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(InputError, match="unknown siting profile 'nope'.*logistics-heavy"):
        run_siting(region, "nope")
    with pytest.raises(InputError, match=r"would need about [\d,.]+ GB"):
        run_siting(region, "logistics-heavy", cell_m=5)
    with pytest.raises(InputError, match="file not found"):
        run_siting(region, "logistics-heavy", cell_m=1000, protected_file=tmp_path / "missing.gpkg")
    empty = tmp_path / "empty.geojson"
    empty.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    with pytest.raises(InputError):
        run_siting(region, "logistics-heavy", cell_m=1000, heritage_file=empty)


def pd_numeric(series) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)


def test_outputs_are_written_whole(logistics, tmp_path):
    import pyogrio

    from layers.siting import write_siting

    paths = write_siting(logistics, tmp_path / "out")
    layers = {name for name, _ in pyogrio.list_layers(paths["sites_gpkg"])}
    assert layers == {"sites"}
    # the grid: one band per column of the grid table, read back as the same table (float32: 7 digits)
    from layers.siting import read_grid

    back = read_grid(paths["grid_tif"])
    want = logistics.grid.sort_values(["row", "col"]).reset_index(drop=True)
    assert len(back) == len(want) == int(logistics.arrays["grid"].inside.sum())
    assert back["cell_id"].tolist() == want["cell_id"].tolist()
    for column in want.columns.drop("geometry"):
        got, expected = back[column], want[column]
        if pd_numeric(expected):
            assert np.allclose(got.to_numpy(float), expected.to_numpy(float), rtol=1e-6, atol=1e-6, equal_nan=True), column
        else:
            assert got.fillna("-").astype(str).tolist() == expected.fillna("-").astype(str).tolist(), column
    assert back.geometry.to_crs(32648).distance(want.geometry.to_crs(32648)).max() < 0.01      # cell centres, metres
    sites = gpd.read_file(paths["sites_gpkg"], layer="sites")
    assert len(sites) == 10 and sites.crs.to_epsg() == 4326
    import pandas as pd

    table = pd.read_csv(paths["sites_csv"])
    assert table["site"].tolist() == list(range(1, 11)) and "geometry" not in table
    summary = json.loads(paths["summary"].read_text(encoding="utf-8"))
    assert summary["sites_reported"] == 10 and len(summary["sensitivity_runs"]) == summary["sensitivity"]["runs"]
    import rasterio

    with rasterio.open(paths["score_tif"]) as src:
        assert src.crs.to_epsg() == 32648 and src.res == (1000.0, 1000.0)
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]


def test_reverse_catchment_on_the_real_network(region, inputs):
    """At 1 km on the 2018 network: people within 30/45 min per cell equal one Catchment search per cell."""
    from geo.routing.access import Catchment, attach_points
    from geo.crs import to_metric
    from geo.siting.grid import attachment_links, make_grid, people_within_cells
    from layers.boundaries import region_polygon

    net, (array, profile) = inputs
    outline = to_metric(gpd.GeoSeries([region_polygon(region)], crs=4326), region.metric_crs).iloc[0]
    g = make_grid(outline, cell_m=1000, crs=region.metric_crs)
    cx, cy = g.centres()
    x, y = cx[g.inside], cy[g.inside]
    e = net.road_edges
    r2, idx, snap, _ = attach_points(net.road, net.road_lines, e["u"].to_numpy(), e["v"].to_numpy(),
                                     e["travel_time_s"].to_numpy(), x, y, max_snap_m=2000, access_speed_kmh=20)
    rows, cols = np.nonzero(np.isfinite(array) & (array > 0))
    lon, lat = profile["transform"] * (cols + 0.5, rows + 0.5)
    pts = to_metric(gpd.GeoSeries.from_xy(lon, lat, crs=4326), region.metric_crs)
    catch = Catchment(net.road, pts.x.to_numpy(), pts.y.to_numpy(), array[rows, cols], max_snap_m=2000, access_speed_kmh=20)
    got = people_within_cells(net.road, catch, attachment_links(net.road, r2), len(x), minutes=(30, 45))
    per_cell = Catchment(r2, pts.x.to_numpy(), pts.y.to_numpy(), array[rows, cols], max_snap_m=2000, access_speed_kmh=20,
                         within=np.arange(r2.n) < net.road.n)
    sample = np.random.default_rng(0).choice(np.flatnonzero(~np.isnan(snap)), 25, replace=False)
    assert np.allclose(got[sample], per_cell.people_within(idx[sample], minutes=(30, 45)), rtol=1e-6)
    # The cell holding Bắc Giang city centre reaches at least the city's 2019 census population (174,229) in 30 min.
    from pyproj import Transformer

    xm, ym = Transformer.from_crs(4326, region.metric_crs, always_xy=True).transform(106.19388, 21.27793)
    flat = int((g.y0 - ym) // 1000) * g.ncols + int((xm - g.x0) // 1000)
    k = int(np.searchsorted(np.flatnonzero(g.inside.ravel()), flat))
    assert got[k, 0] > 174_229
    assert np.array_equal(np.isnan(got[:, 0]), np.isnan(snap))


def test_a_new_criterion_is_one_function_and_one_registry_entry(region, inputs, tmp_path):
    """Register a criterion in a few lines, weight it from a profile: measured, scored, written; and the
    scoring/locate settings actually used (here a --top-share override) reach sites_summary.json and the explorer."""
    from layers.siting import CRITERIA, run_siting, write_siting
    from maps.explorer import rules_from_summary

    kep = region.destinations().set_index("key").to_crs(region.metric_crs).geometry["kep_station"]

    @CRITERIA.register("km_to_kep_crow", "straight-line km to Kép station")
    def km_to_kep_crow(context, grid):
        cx, cy = grid.centres()
        return np.hypot(cx - kep.x, cy - kep.y) / 1000.0, None

    try:
        assert "km_to_kep_crow" in CRITERIA.known(region)
        prof = yaml.safe_load((_repo_path("layers/profiles/ccn.yaml")).read_text(encoding="utf-8"))
        prof["criteria"] = {"km_to_kep_crow": {"weight": 1, "transform": {"type": "linear", "best": 0, "worst": 40}}}
        prof["ahp"] = None
        prof = {k: v for k, v in prof.items() if v is not None}
        path = _write_profile(tmp_path, "kep-crow", prof)
        net, pop = inputs
        r = run_siting(region, path, cell_m=1000, net=net, population=pop, sensitivity=False, top_share=0.15)
    finally:
        CRITERIA.unregister("km_to_kep_crow")
    s = r.summary
    assert s["weights_used"] == {"km_to_kep_crow": 1.0}
    values = r.arrays["values"]["km_to_kep_crow"]
    inside = r.arrays["grid"].inside
    assert np.isfinite(values[inside]).all() and np.isnan(values[~inside]).all()
    assert 0 <= np.nanmin(values) < 2 and np.nanmax(values) > 40          # the province spans more than 40 km from Kép
    assert "km_to_kep_crow" in r.grid and "km_to_kep_crow" in r.sites
    # Scored by that criterion alone (linear, best 0 km): the best site is the one nearest Kép.
    assert r.sites["km_to_kep_crow"].iloc[0] == pytest.approx(r.sites["km_to_kep_crow"].min(), abs=1.0)
    assert s["locate"]["top_share"] == 0.15 and s["threshold_rule"] == "best 15% of the eligible cells"
    assert s["scoring"] == {"min_known_weight": 0.75, "min_coverage": 0.5}
    write_siting(r, tmp_path / "out")
    written = json.loads((tmp_path / "out" / "sites_summary.json").read_text(encoding="utf-8"))
    rules = rules_from_summary(written)
    assert rules.top_share == 0.15 and rules.max_area_ha == s["max_area_ha"] and rules.min_area_ha == s["min_area_ha"]
    # Unregistered, the name is unknown again: a profile naming it is refused before any work.
    with pytest.raises(InputError, match="unknown criterion 'km_to_kep_crow'"):
        run_siting(region, path, cell_m=1000)


def test_registry_resolves_families_and_user_layers(region):
    from layers.siting import CRITERIA

    def name_of(name, layers=()):
        hit = CRITERIA.resolve(name, region, layers)
        return None if hit is None else (hit[0].pattern, hit[1])

    assert name_of("km_to_park") == ("km_to_park", {})                           # a single name wins over the layer family
    assert name_of("minutes_to_ql1a") == ("minutes_to_{corridor}", {"corridor": "ql1a"})
    assert name_of("minutes_to_kep_station") == ("minutes_to_{destination}", {"destination": "kep_station"})
    assert name_of("people_within_75_min") == ("people_within_{minutes}_min", {"minutes": "75"})   # any minutes ≤ 180
    assert name_of("people_within_500_min") is None
    assert name_of("km_to_substations") is None                                   # --layer substations=FILE not given
    assert name_of("km_to_substations", ("substations",)) == ("{kind}_{layer}", {"kind": "km_to", "layer": "substations"})
    assert name_of("in_rice_land") == ("{kind}_{layer}", {"kind": "in", "layer": "rice_land"})
    assert name_of("minutes_to_moon") is None
    standard = CRITERIA.standard(region)
    assert standard[:2] == ["minutes_to_town", "people_within_30_min"] and "slope_deg" in standard


def test_siting_options_are_checked_once_with_one_line(region, tmp_path):
    from layers.siting import SitingOptions, run_siting

    cases = [({"top_share": 0}, "top_share must be in (0, 1]"), ({"top_n": 0}, "top_n must be a whole number"),
             ({"cell_m": -5}, "--cell-size must be > 0"), ({"min_area_ha": "lots"}, "min_area_ha must be a number"),
             ({"workers": 0}, "workers must be"), ({"layers": {"Sub Stations": tmp_path}}, "layer name 'Sub Stations'"),
             ({"dem_file": tmp_path / "no.tif"}, "file not found (dem)")]
    for kwargs, words in cases:
        with pytest.raises(InputError) as err:
            SitingOptions(**kwargs)
        assert words in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(TypeError, match="unknown option 'top'"):
        run_siting(region, "ccn", top=5)
    opts = SitingOptions(profile="ccn", top_n=5, min_score=0.6, protected_file=tmp_path)
    assert opts.locate_overrides == {"top_n": 5, "min_score": 0.6} and opts.layer_files == {"protected_forest": tmp_path}


# ---------------------------------------------------------------------- barriers, parcels, shortlist (real data)

@pytest.fixture(scope="module")
def ccn_fine(region, inputs):
    """The CCN profile on 200 m cells (the CLI default is 100 m; the rules are the same, the run 4× smaller)."""
    from layers.siting import run_siting

    net, pop = inputs
    return run_siting(region, "ccn", cell_m=200, net=net, population=pop, sensitivity=False)


def _metric_lines(frame, crs):
    """Metric lines of ``frame``, without zero-length ones (a ramp joined where two roads cross has both ends at the
    crossing: geo.routing.network.link_crossings)."""
    lines = frame.to_crs(crs).geometry.values
    return list(lines[shapely.length(lines) > 0])


def test_barriers_cut_the_land_into_parcels_on_real_data(region, inputs, ccn_fine):
    """Every expressway, national and provincial road and every railway runs through excluded cells, so the land on
    either side is in another parcel; the summary says which roads have no class."""
    from layers.logistics import railways

    net = inputs[0]
    a, s = ccn_fine.arrays, ccn_fine.summary
    grid, parcels = a["grid"], a["parcels"]
    crs = region.metric_crs
    e = net.road_edges
    classified = e[e["road_class"].isin(["expressway", "national", "provincial"])]

    def cells_on(lines):        # the cells holding points every 10 m along the lines (inside the region)
        xy = shapely.get_coordinates(shapely.segmentize(np.asarray(lines, dtype=object), 10.0))
        col = np.floor((xy[:, 0] - grid.x0) / grid.cell_m).astype(int)
        row = np.floor((grid.y0 - xy[:, 1]) / grid.cell_m).astype(int)
        ok = (row >= 0) & (row < grid.nrows) & (col >= 0) & (col < grid.ncols)
        out = np.zeros(grid.shape, bool)
        out[row[ok], col[ok]] = True
        return out & grid.inside

    on_roads = cells_on(_metric_lines(classified, crs))
    on_rail = cells_on(_metric_lines(railways(region), crs))
    assert on_roads.sum() > 300 and on_rail.sum() > 100
    assert (parcels[on_roads] == 0).all() and (parcels[on_rail] == 0).all()
    assert s["parcels"]["count"] > 50
    roads = s["barriers"]["roads"]
    # QL31, QL17, QL279 are labelled from sourced waypoints (layers/road_waypoints.py) and so are barriers; the ring
    # roads are not built: the summary names them
    assert roads["km_unclassified"] > 10_000 and {"ql31", "ql17", "ql279"}.isdisjoint(roads["corridors_not_in_network"])
    assert "ring5" in roads["corridors_not_in_network"]
    assert {"settlements_osm", "cemeteries_osm", "military_osm"} <= set(s["barriers"]["proxies"])
    ex = s["exclusions"]
    assert ex["corridor_roads"]["barrier"] and ex["railways"]["cells"] > 0 and ex["stations"]["cells"] > 0
    assert "Decree 11/2010" in ex["corridor_roads"]["note"] and "Decree 56/2018" in ex["railways"]["note"]


def test_ccn_shortlist_respects_barriers_spacing_districts_and_the_law(region, inputs, ccn_fine):
    from layers.logistics import railways, stations

    net = inputs[0]
    crs = region.metric_crs
    sites = ccn_fine.sites.to_crs(crs)
    geoms = list(sites.geometry.values)
    assert len(sites) == 10
    # every CCN site is 10–75 ha (Decree 32/2024/NĐ-CP) and lies in one parcel
    assert sites["area_ha"].between(10, 75).all()
    a = ccn_fine.arrays
    for k in sites["site"]:
        assert len(np.unique(a["parcels"][a["labels"] == k])) == 1
    # no site touches a corridor road or railway (10 m), nor holds a station or an OSM place point
    e = net.road_edges
    roads = shapely.union_all(_metric_lines(e[e["road_class"].isin(["expressway", "national", "provincial"])], crs))
    rail = shapely.union_all(_metric_lines(railways(region), crs))
    assert min(shapely.distance(g, roads) for g in geoms) >= 10
    assert min(shapely.distance(g, rail) for g in geoms) >= 10
    places = gpd.read_file(region.path("places")).to_crs(crs)
    points = list(places.geometry.values) + list(stations(region).to_crs(crs).geometry.values)
    assert not any(shapely.contains(g, p) or shapely.touches(g, p) for g in geoms for p in points)
    # a shortlist, not a cluster: ≥ 2 km apart pairwise, ≥ 3 districts, at most 3 per district
    for i in range(len(geoms)):
        for j in range(i + 1, len(geoms)):
            assert shapely.distance(geoms[i], geoms[j]) >= 2000 - 1e-6
    assert sites["district"].nunique() >= 3 and sites["district"].value_counts().max() <= 3
    # the explanation: parcel, shape, distances; the verdict never eligible while a rule is unknown
    for col in ("parcel", "parcel_area_ha", "compactness", "min_width_m", "m_to_corridor_road", "m_to_settlement",
                "nearest_settlement", "verdict", "verdict_reasons", "missing_facts"):
        assert col in sites.columns
    assert (sites["parcel_area_ha"] >= sites["area_ha"]).all() and sites["compactness"].between(0, 1).all()
    assert not ((sites["verdict"] == "eligible") & sites["rules_unknown"].notna()).any()
    # the per-district table: each district's best sites, some of them on the shortlist
    table = ccn_fine.by_district
    assert table.groupby("district")["rank_in_district"].max().max() <= 3
    assert set(sites["district"]) <= set(table["district"]) and table["shortlist_site"].notna().any()
    # criteria hygiene: the matrix is in the summary, no pair above |r| 0.8 and no saturated value function
    s = ccn_fine.summary
    assert set(s["criteria_correlation"]["criteria"]) == set(s["weights_used"]) and s["warnings"] == []


def test_district_filter_and_a_correlated_profile_warns(region, inputs, tmp_path):
    from layers.siting import run_siting

    net, pop = inputs
    r = run_siting(region, "ccn", cell_m=500, net=net, population=pop, sensitivity=False, district=["luc nam"],
                   min_area_ha=25)
    assert len(r.sites) and set(r.sites["district"]) == {"Lục Nam"} and r.summary["district_filter"] == ["luc nam"]
    assert r.summary["cells_suitable"] > 0                 # the best share of the district's own land
    with pytest.raises(InputError, match="no such district.*Lục Nam"):
        run_siting(region, "ccn", cell_m=500, net=net, population=pop, district=["Atlantis"])
    prof = _write_profile(tmp_path, "twins", {"locate": {"min_area_ha": 100, "top_n": 3}, "criteria": {
        "minutes_to_ct01": {"weight": 1, "transform": {"type": "linear", "best": 0, "worst": 60}},
        "minutes_to_ql1a": {"weight": 1, "transform": {"type": "linear", "best": 0, "worst": 60}}}})
    t = run_siting(region, prof, cell_m=1000, net=net, population=pop, sensitivity=False)
    pairs = t.summary["criteria_correlation"]["pairs_above"]
    assert [(p["a"], p["b"]) for p in pairs] == [("minutes_to_ct01", "minutes_to_ql1a")] and pairs[0]["r"] > 0.8
    assert any("minutes_to_ct01 and minutes_to_ql1a correlate" in w for w in t.summary["warnings"])
