"""Roads labelled from sourced waypoints (layers/road_waypoints.py): file checks, and the freight roads east and
south on the real 2018 network (QL31, QL17, QL279, QL37 through Lục Nam, QL18, QL38, CT.04, Tân Vũ – Lạch Huyện)."""

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest

from geo.errors import InputError

ROADS = Path(__file__).resolve().parent.parent / "layers" / "roads"
WAYPOINT_FILES = sorted(ROADS.glob("*-waypoints.geojson"))


def _write(tmp_path, features, name="w.geojson"):
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


def _point(lon, lat, **props):
    return {"type": "Feature", "properties": props, "geometry": {"type": "Point", "coordinates": [lon, lat]}}


def test_waypoint_files_refuse_what_they_cannot_source(tmp_path):
    from layers.road_waypoints import read_waypoints

    ok = dict(road="ql31", seq=0, name="A", source="s", coordinate_source="OSM node 1")
    corridors = {"ql31": {}}
    assert len(read_waypoints(_write(tmp_path, [_point(106.0, 21.0, **ok)]), corridors)) == 1
    with pytest.raises(InputError, match="every waypoint needs 'coordinate_source'"):
        read_waypoints(_write(tmp_path, [_point(106.0, 21.0, **{**ok, "coordinate_source": ""})]), corridors)
    with pytest.raises(InputError, match="not corridors of the region"):
        read_waypoints(_write(tmp_path, [_point(106.0, 21.0, **{**ok, "road": "ql99"})]), corridors)
    with pytest.raises(InputError, match="unknown cost"):
        read_waypoints(_write(tmp_path, [_point(106.0, 21.0, **{**ok, "cost": "teleport"})]), corridors)
    with pytest.raises(InputError, match="share a seq"):
        read_waypoints(_write(tmp_path, [_point(106.0, 21.0, **ok), _point(106.1, 21.0, **ok)]), corridors)
    line = {"type": "Feature", "properties": ok, "geometry": {"type": "LineString", "coordinates": [[106, 21], [106.1, 21]]}}
    with pytest.raises(InputError, match="points only"):
        read_waypoints(_write(tmp_path, [line]), corridors)


@pytest.mark.parametrize("path", WAYPOINT_FILES, ids=lambda p: p.name)
def test_every_shipped_waypoint_is_an_open_point_with_its_source(shared_data, path):
    """Each point names its source (with a URL) and an open coordinate: an OSM node of the bundle (the point is exactly
    that node), a Wikidata P625 value, an OSM 2018 network node or a region destination."""
    from layers.road_waypoints import read_waypoints

    places = gpd.read_file(shared_data / "bacgiang_places_osm2018_bbox03.geojson")
    places = places.set_index(places["osm_id"].astype("int64"))
    points = read_waypoints(path)
    for _, p in points.iterrows():
        assert p["source_url"].startswith("http") and p["source_says"].strip(), (path.name, p["name"])
        text = p["coordinate_source"]
        if text.startswith("OSM place node "):
            node = places.loc[int(text.split()[3])].geometry
            assert node.distance(p.geometry) < 1e-6, (path.name, p["name"])
        else:
            assert text.startswith(("Wikidata Q", "OSM 2018 node", "OSM 2018 road network node", "region destination")), text


@pytest.fixture(scope="module")
def layer(region):
    from geo import settings
    from layers.corridors import corridors

    settings.progress = False
    return corridors(region)


def test_roads_without_a_reference_line_are_found_from_their_waypoints(layer):
    summary = layer.attrs["summary"]
    assert not {"ql31", "ql17", "ql279"} & {item["corridor_id"] for item in summary["not_found"]}
    reports = {r["road"]: r for r in summary["network"]["waypoints"]}
    # matched length against the published one: QL31 runs 154 km from TP Bắc Giang to Bản Chắt, all inside the window
    assert 0.9 < reports["ql31"]["ratio_to_published"] < 1.15
    # the Tân Vũ – Lạch Huyện road: its published 15.63 km counted back from the port gate
    assert reports["tan_vu_lach_huyen"]["matched_km"] == pytest.approx(15.63, abs=3.5)
    # a leg the network cannot carry is reported with its reason, never filled with a guess
    assert any("Đông Triều" in text and "straight line" in text for text in reports["ql18"]["not_matched"])
    assert any("Song Khê" in text for text in reports["ql17"]["not_matched"])
    rows = layer.set_index("corridor_id")
    assert rows.loc["ct04", "road_class"] == "expressway" and "waypoints" in rows.loc["ct04", "method"]
    assert "published length 154 km" in rows.loc["ql31", "note"]


def test_freight_to_the_port_runs_on_the_labelled_roads(region):
    """Bắc Giang city → Lạch Huyện port on today's network: over CT.04 (entered at the sourced QL38 interchange or its
    west end) and the Tân Vũ – Lạch Huyện road, much faster than before these roads had a class."""
    from geo.routing.paths import fastest_route
    from layers import networks

    net = networks.build_networks(region, with_rail=False)
    summary = net.road_edges.attrs["summary"]
    assert any(item["joins"] == "ql38" and item["ramps_added"] >= 1 for item in summary["interchanges_added"])
    dest = region.destinations().set_index("key").loc[["bac_giang_city", "lach_huyen_port"]]
    routed, idx, _, why = net.attach(net.road, dest, 6000, 20)
    e = net.road_edges
    route = fastest_route(routed, idx[0], idx[1], net.road.index_of(e["u"]), net.road.index_of(e["v"]), e["travel_time_s"])
    used = e.iloc[route.edges]
    km = used.groupby(used["corridor_id"].fillna("-"))["length_m"].sum() / 1000
    assert km.get("ct04", 0) > 60 and km.get("tan_vu_lach_huyen", 0) > 10
    # the sea bridge's posted limit for cars (region file, with its source) sets the speed of the whole road
    tvlh = used[used["corridor_id"].fillna("").str.contains("tan_vu_lach_huyen")]
    assert np.allclose(tvlh["speed_kmh"], 80 * net.model.maxspeed_factor)
    assert route.seconds / 60 < 180                      # 223 min before (issue 21); 1.75–2.5 h is usual
    # the truck takes longer on the same roads (legal limits of a tractor with semi-trailer)
    lorry = networks.vehicle_networks(region, net, "truck")
    routed_t, idx_t, _, _ = lorry.attach(lorry.road, dest, 6000, 20)
    assert routed_t.travel_times([idx_t[0]], [idx_t[1]])[0, 0] > route.seconds
    assert np.isfinite(route.seconds)


def test_every_posted_limit_of_a_corridor_names_its_source(region):
    """A corridor's ``maxspeed`` (a posted limit, used before any class speed) is a fact: it carries the source
    saying so, with a URL."""
    limits = {cid: spec for cid, spec in region.corridors.items() if spec.get("maxspeed") is not None}
    assert {"ct04", "tan_vu_lach_huyen"} <= set(limits)
    for cid, spec in limits.items():
        assert 5 <= float(spec["maxspeed"]) <= 130, cid
        assert "http" in str(spec.get("maxspeed_source", "")), cid


def test_the_bac_ninh_bypass_overlay_fills_the_expressway_gap_but_is_not_applied_by_default(region):
    """layers/roads/ql1-bac-ninh-bypass-expressway-classes.geojson joins the two parts of the Hà Nội – Bắc Giang
    expressway overlay where the reference line has a gap; it is a --roads file (its description says why: the
    validation's time error), never one of the region's default overlays."""
    import shapely

    from geo.crs import to_metric
    from layers.networks.classes import read_overlay

    assert "roads/ql1-bac-ninh-bypass-expressway-classes.geojson" not in region.config["road_classes"]["overlays"]
    bypass = to_metric(read_overlay(ROADS / "ql1-bac-ninh-bypass-expressway-classes.geojson"), region.metric_crs)
    main = to_metric(read_overlay(ROADS / "ql1-ha-noi-bac-giang-expressway-classes.geojson"), region.metric_crs)
    line = bypass.geometry.iloc[0]
    assert bypass["highway"].iloc[0] == "motorway" and "http" in bypass["source"].iloc[0]
    assert 10_000 < line.length < 12_500
    parts = shapely.get_parts(main.geometry.iloc[0])
    for end in (shapely.Point(line.coords[0]), shapely.Point(line.coords[-1])):
        assert min(part.distance(end) for part in parts) < 500      # each end meets a part of the expressway line
