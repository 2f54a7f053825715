"""The corridor access report and scenarios on the real parks and the real 2018 network."""

import pytest

from geo import settings


@pytest.fixture(scope="module")
def inputs(region):
    from layers import networks, parks, population

    settings.progress = False
    from layers.networks import NetworkOptions

    net = networks.build_networks(region, options=NetworkOptions(network="2018"))   # CT.01 as a scenario on the 2018 network
    array, profile, _ = population.population_raster(region)
    return parks.industrial_parks(region), net, (array, profile)


@pytest.fixture(scope="module")
def report(region, inputs):
    from layers.access import access_report

    parks, net, pop = inputs
    return access_report(region, parks, net, population=pop)


def test_every_park_has_a_row_and_unknowns_have_reasons(report):
    assert len(report) >= 51
    assert report["position_precision"].notna().all()
    commune = report["position_commune_level"]
    assert commune.any() and report.loc[commune, "position_note"].str.contains("commune-level").all()
    assert (report.loc[~commune, "position_note"] == "").all()
    for column in [c for c in report.columns if c.startswith("minutes_to_") and not c.endswith("_road_rail")]:
        reason = report[f"reason_{column.removeprefix('minutes_to_')}"]
        assert (report[column].notna() | reason.notna()).all(), column
        assert (report[column].dropna() > 0).all(), column  # never a silent 0


def test_ct01_is_not_in_the_2018_network(report):
    assert report["minutes_to_ct01"].isna().all()
    connected = report["snap_m"].notna()
    assert report.loc[connected, "reason_ct01"].str.contains("not in the road network").all()
    assert report.loc[~connected, "reason_ct01"].str.contains("from the road network").all()


def test_plausible_times_from_known_parks(report):
    r = report.set_index("name")
    # KCN Đình Trám and Quang Châu lie on QL1A (Việt Yên): minutes, not hours.
    assert r.loc["KCN Quang Châu", "minutes_to_ql1a"] < 10
    assert r.loc["KCN Đình Trám", "minutes_to_ql1a"] < 10
    # Quang Châu → Hà Nội centre is ~35 km by road: between 40 and 120 minutes at the model's speeds.
    assert 40 < r.loc["KCN Quang Châu", "minutes_to_ha_noi_centre"] < 120
    # Kép is closer to KCN Tân Hưng (Lạng Giang) than to KCN Quang Châu (Việt Yên).
    assert r.loc["KCN Tân Hưng", "minutes_to_kep_station"] < r.loc["KCN Quang Châu", "minutes_to_kep_station"]


def test_catchments_grow_with_time_and_stay_below_the_region_total(report):
    assert (report["people_within_45_min"].dropna() >= report["people_within_30_min"].dropna()).all()
    assert report["people_within_45_min"].max() < 21e6  # WorldPop region window total ~20.7 M
    r = report.set_index("name")
    assert r.loc["KCN Quang Châu", "people_within_30_min"] > 100_000


def test_access_legs_are_explicit_and_far_points_flagged(report):
    """Each park joins its nearest suitable edge by a straight leg of stated length and speed; a long leg is flagged."""
    connected = report["snap_m"].notna()
    assert (report.loc[connected, "access_leg_kmh"] == 20).all() and report.loc[~connected, "access_leg_kmh"].isna().all()
    far = report["far_from_road"].to_numpy(bool)
    assert (report.loc[far, "snap_m"] > 500).all() and (report.loc[connected & ~far, "snap_m"] <= 500).all()
    assert set(report.attrs["summary"]["far_from_road"]) == set(report.loc[far, "name"])


def test_logistics_destinations_also_by_truck(report):
    for key in ("kep_station", "lach_huyen_port", "dong_dang_border"):
        both = report[[f"minutes_to_{key}", f"minutes_by_truck_to_{key}"]].dropna()
        car, truck = both[f"minutes_to_{key}"], both[f"minutes_by_truck_to_{key}"]
        # never faster; slower wherever the trip uses roads (a park next to Kép may be all access leg)
        assert len(both) > 40 and (truck >= car - 1e-9).all() and (truck > car).mean() > 0.9, key
    assert "minutes_by_truck_to_ha_noi_centre" not in report


def test_road_rail_never_slower_than_road(report):
    for key in ("dong_dang_border", "ha_noi_centre"):
        both = report[[f"minutes_to_{key}", f"minutes_to_{key}_road_rail"]].dropna()
        assert (both[f"minutes_to_{key}_road_rail"] <= both[f"minutes_to_{key}"] + 1e-9).all()


def test_indicative_ct01_scenario(region, inputs):
    from layers.scenario import SCENARIOS_DIR, run_scenario

    parks, net, pop = inputs
    result = run_scenario(region, parks, net, SCENARIOS_DIR / "ct01-bac-giang-lang-son-indicative.geojson", population=pop)
    change = result.change
    assert result.roads.loc[0, "status"] == "indicative" and result.roads.loc[0, "corridor_id"] == "ct01"
    # Before: unknown; after: a time for every connected park.
    assert change["minutes_to_ct01_before"].isna().all()
    assert change["minutes_to_ct01_after"].notna().sum() == change["minutes_to_dong_dang_border_before"].notna().sum()
    # Nothing gets slower; trips to the border get faster for many parks.
    minute_changes = change[[c for c in change.columns if c.startswith("minutes_to_") and c.endswith("_change")]]
    assert (minute_changes.fillna(0) <= 1e-9).all().all()
    assert (change["minutes_to_dong_dang_border_change"] < -5).sum() >= 20
    assert (change["people_within_45_min_change"].fillna(0) >= 0).all()


def test_matrix_is_tidy(region, inputs):
    from layers.access import travel_time_matrix

    parks, net, _ = inputs
    dest = region.destinations().rename(columns={"key": "name"})
    table = travel_time_matrix(region, parks.head(5), net, destinations=dest)
    assert len(table) == 5 * len(dest)
    assert list(table.columns) == ["origin", "destination", "minutes", "origin_snap_m", "reason"]
    assert (table["minutes"].notna() | table["reason"].notna()).all()
