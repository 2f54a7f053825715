"""Region definitions and the data folder."""

import pytest

from geo.errors import InputError
from layers.region import available_regions, load_region


def test_shipped_regions():
    assert {"bac-giang", "bac-ninh-2025"} <= set(available_regions())


def test_every_destination_has_coordinates_and_a_source():
    dest = load_region("bac-giang", data_dir=".").destinations()
    assert {"kep_station", "bac_giang_city", "ha_noi_centre", "noi_bai_airport", "lach_huyen_port", "dong_dang_border"} <= set(dest["key"])
    assert dest.crs.to_epsg() == 4326
    assert dest["source"].str.len().min() > 10
    # All destinations lie in northern Vietnam.
    assert dest.geometry.x.between(105.5, 107.5).all() and dest.geometry.y.between(20.7, 22.1).all()


def test_kep_destination_is_the_osm_station(shared_data):
    import geopandas as gpd

    stations = gpd.read_file(shared_data / "raw/hotosm_vnm_railway_stations/hotosm_vnm_railways_points_bbox_105.55_20.80_107.35_21.95.geojson")
    kep = stations[stations["name"] == "Kép"].geometry.iloc[0]
    dest = load_region("bac-giang", data_dir=shared_data).destinations().set_index("key")
    assert dest.geometry["kep_station"].distance(kep) < 1e-5


def test_corridors_listed_with_expressways_first():
    corridors = load_region("bac-giang", data_dir=".").corridors
    assert {"ql1a", "ct01", "ql37", "ql31", "ql17", "ql279", "ring4", "ring5"} <= set(corridors)
    assert list(corridors)[0] == "ct01"


def test_merged_region_extends_bac_giang():
    r = load_region("bac-ninh-2025", data_dir=".")
    assert r.id == "bac-ninh-2025"
    assert r.config["boundary"]["merge_provinces"] == ["Bắc Ninh"]
    assert r.corridors == load_region("bac-giang", data_dir=".").corridors


def test_unknown_region():
    with pytest.raises(InputError, match="unknown region 'atlantis'.*bac-giang"):
        load_region("atlantis", data_dir=".")


def test_broken_region_yaml(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("id: x\ncorridors: [unclosed\n", encoding="utf-8")
    with pytest.raises(InputError, match="not a readable YAML file"):
        load_region(path, data_dir=".")


def test_missing_data_folder(tmp_path):
    with pytest.raises(InputError, match="data folder not found"):
        load_region("bac-giang", data_dir=tmp_path / "nowhere")


def test_missing_data_file_names_the_layout(tmp_path):
    r = load_region("bac-giang", data_dir=tmp_path)
    with pytest.raises(InputError) as info:
        r.path("parks", "points_file")
    assert "bacgiang_industrial_zones_bbox03.geojson" in str(info.value) and "--data" in str(info.value)


def test_bundle_derived_files_are_found_from_a_full_data_folder(shared_data):
    """A file the bundle derives (a window of a national shapefile) is read from the bundle when --data lacks it."""
    from layers.region import BUNDLED_DATA_DIR, load_region

    region = load_region("bac-giang", data_dir=shared_data)
    assert not (shared_data / "osm2018_landuse_bbox03.gpkg").exists()
    assert region.data_path("osm2018_landuse_bbox03.gpkg") == BUNDLED_DATA_DIR / "osm2018_landuse_bbox03.gpkg"
    # a file the bundle copies under its own name is not substituted: a data folder lacking it is an error
    import pytest
    from geo.errors import InputError

    with pytest.raises(InputError, match="file not found"):
        load_region("bac-giang", data_dir=shared_data / "osm_samples").data_path("industrial_parks_facts.csv")
