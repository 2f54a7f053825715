"""Industrial parks: open positions (precision, source, licence per park) joined with the sourced facts and statuses."""

import unicodedata

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geo.errors import InputError
from layers.parks import industrial_parks
from layers.region import BUNDLED_DATA_DIR, load_region


@pytest.fixture(scope="module")
def bundle_region():
    """The region as a fresh clone has it: the open-data bundle only."""
    return load_region("bac-giang", data_dir=BUNDLED_DATA_DIR)


@pytest.fixture(scope="module")
def open_parks(bundle_region):
    return industrial_parks(bundle_region)


@pytest.fixture(scope="module")
def full_parks(region):
    """With ../shared/data, which also holds the (unlicensed) portal points."""
    return industrial_parks(region)


def test_fresh_clone_places_parks_from_open_data_with_precision(open_parks, bundle_region):
    from layers.park_positions import precision_classes

    assert len(open_parks) >= 25 and open_parks.crs.to_epsg() == 4326
    for column in ("position_precision", "position_source", "position_licence", "position_error_m"):
        assert open_parks[column].notna().all(), column
    assert set(open_parks["position_precision"]) <= set(precision_classes(bundle_region))
    assert "portal_marker" not in set(open_parks["position_precision"])
    # every licence is an open one
    assert open_parks["position_licence"].str.contains("ODbL|CC0|CC BY|Wikipedia").all()
    assert open_parks["district"].notna().all()
    assert all(unicodedata.is_normalized("NFC", n) for n in open_parks["name"])


def test_no_shipped_position_lies_on_a_portal_point(open_parks, shared_data):
    """Nothing the repository ships may copy a coordinate of the iipvietnam.vn portal (read here only)."""
    portal = gpd.read_file(shared_data / "bacgiang_industrial_zones_bbox03.geojson").to_crs("EPSG:32648")
    shipped = [open_parks.to_crs("EPSG:32648")]
    for name in ("industrial_parks_positions_open.csv", "communes_2025_points_open.csv", "observed_travel_times.csv"):
        table = pd.read_csv(BUNDLED_DATA_DIR / name)
        lon, lat = (("lon", "lat") if "lon" in table else ("origin_lon", "origin_lat"))
        shipped.append(gpd.GeoDataFrame(geometry=gpd.points_from_xy(table[lon], table[lat]), crs="EPSG:4326").to_crs("EPSG:32648"))
    sample = pd.read_csv(BUNDLED_DATA_DIR / "examples" / "parks.csv")
    shipped.append(gpd.GeoDataFrame(geometry=gpd.points_from_xy(sample["lon"], sample["lat"]), crs="EPSG:4326").to_crs("EPSG:32648"))
    for points in shipped:
        nearest = gpd.sjoin_nearest(points[["geometry"]], portal[["geometry"]], distance_col="d")
        assert (nearest["d"] > 1.0).all(), nearest["d"].min()


def test_parks_without_position_are_listed_with_a_reason(open_parks):
    s = open_parks.attrs["summary"]
    missing = {w["name"]: w for w in s["without_position"]}
    assert "KCN Đình Trám" in missing and missing["KCN Đình Trám"]["reason"]
    assert "CCN Vũ Xá" in missing and "2025 commune" in missing["CCN Vũ Xá"]["reason"]
    # placed + unplaced = every sourced park
    placed_sourced = open_parks["listed_in"].astype(str).str.contains("facts|status").sum()
    assert placed_sourced + len(missing) == s["sourced_parks"]
    assert s["by_position_precision"]["commune_2025_unit"] >= 1


def test_known_parks_and_facts(open_parks):
    p = open_parks.set_index("name")
    assert p.loc["KCN Quang Châu", "position_precision"] == "commune"
    assert "Wikipedia" in p.loc["KCN Quang Châu", "position_source"]
    assert p.loc["KCN Hòa Phú", "occupancy_pct"] == pytest.approx(95.0) and p.loc["KCN Hòa Phú", "district"] == "Hiệp Hòa"
    # Both area figures of Vân Trung are kept; placed at its 2025 commune (Nếnh) from the communes a page names
    assert set(p.loc["KCN Vân Trung", "area_ha_facts"].split("; ")) == {"350.3", "433.28"}
    assert p.loc["KCN Vân Trung", "position_precision"] == "commune_2025_unit"
    assert "nguyengiap.vn" in p.loc["KCN Vân Trung", "position_source"]
    assert p.loc["KCN Vân Trung", "position_error_m"] > p.loc["KCN Quang Châu", "position_error_m"] > 0
    assert p["wastewater_treatment"].isna().all()


def test_portal_points_only_fill_gaps_and_say_so(open_parks, full_parks):
    """With a data folder holding the portal file, open positions stay; the portal places only the rest, flagged."""
    opened = open_parks.set_index("name")
    full = full_parks.set_index("name")
    for name in opened.index:
        assert full.loc[name, "position_precision"] == opened.loc[name, "position_precision"], name
    portal = full[full["position_precision"] == "portal_marker"]
    assert len(portal) > 0 and portal["position_licence"].str.contains("may not be redistributed").all()
    assert "KCN Đình Trám" in portal.index
    assert set(full["position_precision"]) - {"portal_marker"} <= set(opened["position_precision"])


def test_landuse_match_rule_is_strict(bundle_region, tmp_path):
    """A commune-level park takes an unnamed OSM landuse=industrial polygon only when exactly one fits the rule."""
    from shapely.geometry import Point, box

    from layers import park_positions as pp
    from layers.boundaries import districts

    units = districts(bundle_region)
    home = units[units["district"] == "Lạng Giang"].geometry.iloc[0].representative_point()
    x, y = home.x, home.y
    side = 0.0095   # ~1 km × 0.99 km ≈ 97 ha at 21.3° N
    polys = gpd.GeoDataFrame({"osm_id": ["1", "2", "3"], "fclass": ["industrial"] * 3, "name": [None, None, "Nhà máy X"]},
                             geometry=[box(x + 0.005, y, x + 0.005 + side, y + side),           # near, right size
                                       box(x + 0.2, y, x + 0.2 + side, y + side),               # too far
                                       box(x - 0.02, y, x - 0.02 + side, y + side)],            # named otherwise
                             crs="EPSG:4326")
    path = tmp_path / "landuse.gpkg"
    polys.to_file(path, layer="landuse")
    parks = gpd.GeoDataFrame({"key": ["KCN a", "KCN b"], "name": ["KCN A", "KCN B"], "area_ha": [100.0, 1000.0],
                              "district": ["Lạng Giang", "Lạng Giang"], "position_precision": ["commune", "commune"]},
                             geometry=[Point(x, y), Point(x, y)], crs="EPSG:4326")
    rule = pp.LanduseMatchRule(file=str(path))
    got = pp.match_osm_landuse(parks, bundle_region, rule)
    assert list(got["key"]) == ["KCN a"] and list(got["osm_id"]) == ["1"]   # B: 1,000 ha is 10× the polygon
    with pytest.raises(ValueError):
        pp.LanduseMatchRule(file="x", area_ratio=(1.5, 2.0))


def test_planner_file_in_vn2000_with_polygons(region, tmp_path):
    """A planner's own outlines in VN-2000 replace the open positions; area computed from the polygon."""
    from shapely.geometry import box

    outline = gpd.GeoDataFrame({"name": ["KCN Thử nghiệm", "CCN Đồi Ngô"]},
                               geometry=[box(106.20, 21.30, 106.21, 21.31), box(106.38, 21.295, 106.39, 21.305)],
                               crs="EPSG:4326").to_crs("EPSG:9214")
    path = tmp_path / "my_parks.gpkg"
    outline.to_file(path)
    got = industrial_parks(region, parks_file=path)
    assert (got["position_precision"] == "user_file").all()
    got = got.set_index("name")
    assert list(got["kind"].sort_values()) == ["CCN", "KCN"]
    # 0.01° × 0.01° at 21.3°N ≈ 1.037 km × 1.107 km ≈ 114.8 ha.
    assert got.loc["KCN Thử nghiệm", "area_ha"] == pytest.approx(114.8, rel=0.01)
    assert got.loc["CCN Đồi Ngô", "matched_facts"] and got.loc["CCN Đồi Ngô", "status_class"] == "operating"
    assert not got.loc["KCN Thử nghiệm", "matched_facts"] and np.isnan(got.loc["KCN Thử nghiệm", "occupancy_pct"])


def test_sample_parks_file_runs(bundle_region):
    """The repository's sample --parks file (data/examples/parks.csv) is read as a planner's file."""
    got = industrial_parks(bundle_region, parks_file=BUNDLED_DATA_DIR / "examples" / "parks.csv")
    assert len(got) == 2 and set(got["kind"]) == {"KCN", "CCN"}
    assert len(got.attrs["summary"]["without_position"]) == got.attrs["summary"]["sourced_parks"] - 2


def test_planner_file_without_names(region, tmp_path):
    path = tmp_path / "parks.csv"
    path.write_text("lon,lat\n106.2,21.3\n", encoding="utf-8")
    with pytest.raises(InputError, match="no 'name' column"):
        industrial_parks(region, parks_file=path)
