"""Ring Roads IV and V: shipped indicative scenario files, sourced point by point, on the real 2018 network."""

import json

import numpy as np
import pytest

from geo import settings
from layers.scenario import SCENARIOS_DIR, read_scenario

RING_FILES = sorted(SCENARIOS_DIR.glob("ring[45]-*.geojson"))


def test_both_rings_are_shipped():
    assert {p.name.split("-")[0] for p in RING_FILES} == {"ring4", "ring5"}
    # Ring Road IV where the provincial plan means it: a section inside former Bắc Giang (Hiệp Hòa – CT.01).
    assert any(p.name == "ring4-bac-giang-indicative.geojson" for p in RING_FILES)


@pytest.mark.parametrize("path", RING_FILES, ids=lambda p: p.name)
def test_ring_file_loads_and_is_labelled_indicative(path):
    lines, points = read_scenario(path)
    assert len(lines) == 1 and len(points) >= 2
    line = lines.iloc[0]
    assert line["status"] == "indicative" and "indicative" in line["name"]
    assert line["road_class"] == "expressway" and line["road_class_source"].startswith("http")
    # Unknown design speed stays unknown, with the reason; never a typed-in number without a source.
    assert line["design_speed_kmh"] is None or np.isnan(line["design_speed_kmh"]) or line["design_speed_source"].startswith("http")
    assert line["design_speed_source"]
    assert "INDICATIVE" in json.loads(path.read_text(encoding="utf-8"))["description"]


@pytest.mark.parametrize("path", RING_FILES, ids=lambda p: p.name)
def test_every_point_has_a_source(path):
    lines, points = read_scenario(path)
    for _, p in points.iterrows():
        for key in ("source", "source_url", "source_says", "coordinate_source"):
            assert isinstance(p[key], str) and p[key].strip(), (p["name"], key)
        assert p["source_url"].startswith("https://")
        assert p["role"] == "interchange" and p["status"] == "indicative"
    # Every vertex of the line is one of the sourced points (nothing typed in between).
    sourced = {(round(g.x, 5), round(g.y, 5)) for g in points.geometry}
    vertices = {(round(x, 5), round(y, 5)) for x, y in lines.geometry.iloc[0].coords}
    assert vertices <= sourced


def test_coordinates_are_the_open_points_they_name(shared_data):
    """Each coordinate_source names an OSM node of the places file (the point is exactly that node) or a Wikidata
    item with its P625 value (the point is exactly that value)."""
    import re

    import geopandas as gpd

    places = gpd.read_file(shared_data / "bacgiang_places_osm2018_bbox03.geojson")
    places = places.set_index(places["osm_id"].astype("int64"))
    for path in RING_FILES:
        _, points = read_scenario(path)
        for _, p in points.iterrows():
            text = p["coordinate_source"]
            if text.startswith("Wikidata Q"):
                lat, lon = map(float, re.search(r"P625 ([\d.]+) N ([\d.]+) E", text).groups())
                assert abs(p.geometry.x - lon) < 1e-5 and abs(p.geometry.y - lat) < 1e-5, (path.name, p["name"])
                continue
            osm_id = int(text.split("OSM place node ")[1].split()[0])
            node = places.loc[osm_id].geometry
            assert node.distance(p.geometry) < 1e-5, (path.name, p["name"])
            assert f"'{places.loc[osm_id, 'name']}'" in text


_INPUTS = {}


def _scenario(region_id, shared_data, path):
    """run_scenario on the real data; region inputs built once per region for the module."""
    from layers import networks, parks, population
    from layers.region import load_region
    from layers.scenario import run_scenario

    settings.progress = False
    if region_id not in _INPUTS:
        region = load_region(region_id, data_dir=shared_data)
        array, profile, _ = population.population_raster(region)
        _INPUTS[region_id] = (region, networks.build_networks(region, with_rail=False), parks.industrial_parks(region), (array, profile))
    region, net, park_layer, pop = _INPUTS[region_id]
    return run_scenario(region, park_layer, net, path, population=pop)


CASES = [("bac-ninh-2025", "ring4-bac-ninh"), ("bac-ninh-2025", "ring5"), ("bac-giang", "ring5"), ("bac-giang", "ring4-bac-giang")]


@pytest.mark.parametrize("region_id,ring_file", CASES)
def test_ring_scenario_on_real_data(shared_data, region_id, ring_file):
    path = next(p for p in RING_FILES if p.name.startswith(ring_file + "-"))
    ring = ring_file.split("-")[0]
    result = _scenario(region_id, shared_data, path)
    change = result.change
    # The ring is recognised as the region's corridor, and reported: before unknown, after a time.
    assert result.roads.loc[0, "corridor_id"] == ring and result.roads.loc[0, "status"] == "indicative"
    assert result.roads.loc[0, "interchanges_used"] == len(result.interchanges)
    assert change[f"minutes_to_{ring}_before"].isna().all()
    assert change[f"minutes_to_{ring}_after"].notna().sum() == change["minutes_to_ha_noi_centre_before"].notna().sum()
    assert ring not in result.after.attrs["summary"]["missing_targets"]
    # Adding a road never lengthens a trip.
    minute_changes = change[[c for c in change.columns if c.startswith("minutes_to_") and c.endswith("_change")]]
    assert (minute_changes.fillna(0) <= 1e-9).all().all()
    assert result.change.attrs["summary"]["parks_slower"] == 0


def test_rings_are_reported_as_planned_corridors_with_ql18_labelled(shared_data):
    """`plan.py layers --region bac-ninh-2025 --scenario ring…`: the rings are planned corridors, not "not found"; QL18 is labelled."""
    from layers.corridors import corridor_edges, corridors
    from layers.region import load_region

    settings.progress = False
    region = load_region("bac-ninh-2025", data_dir=shared_data)
    layer = corridors(region, scenario_files=RING_FILES)
    planned = layer[layer["status"] != "existing"]
    assert {"ring4", "ring5"} <= set(planned["corridor_id"])
    assert not {"ring4", "ring5"} & {item["corridor_id"] for item in layer.attrs["summary"]["not_found"]}
    assert {"ql18", "ql1a", "ql3"} <= set(corridor_edges(layer).corridor_id)
