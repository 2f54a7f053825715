"""Reading user vector files: formats, CRS, repairs and clear errors for bad input."""

import geopandas as gpd
import pytest
from shapely.geometry import Point, Polygon, box

from geo.errors import InputError
from geo.io.vector import keep_in_area, read_vector

KEP = (106.29039, 21.41673)


@pytest.fixture
def parks_gdf():
    return gpd.GeoDataFrame({"name": ["KCN Đình Trám", "CCN Đồi Ngô"], "area_ha": [127.35, 9.1]},
                            geometry=[Point(106.128, 21.249), Point(106.386, 21.300)], crs="EPSG:4326")


@pytest.mark.parametrize("suffix, driver", [(".geojson", "GeoJSON"), (".gpkg", "GPKG"), (".shp", "ESRI Shapefile"), (".fgb", "FlatGeobuf")])
def test_formats_round_trip(tmp_path, parks_gdf, suffix, driver):
    path = tmp_path / f"parks{suffix}"
    parks_gdf.to_file(path, driver=driver)
    got = read_vector(path)
    assert sorted(got["name"]) == ["CCN Đồi Ngô", "KCN Đình Trám"]  # FlatGeobuf reorders by its spatial index
    assert got.crs.to_epsg() == 4326


def test_vn2000_file_lands_in_the_right_place(tmp_path, parks_gdf):
    """A file delivered in the provincial grid VN-2000 / TM-3 107-00 comes back to within a metre."""
    path = tmp_path / "parks_vn2000.gpkg"
    parks_gdf.to_crs("EPSG:9214").to_file(path)
    got = read_vector(path)
    assert got.crs.to_epsg() == 9214
    error_m = got.to_crs("EPSG:32648").distance(parks_gdf.to_crs("EPSG:32648"))
    assert error_m.max() < 1.0


def test_csv_with_lon_lat(tmp_path):
    path = tmp_path / "icd.csv"
    path.write_text("name,kind,lon,lat\nICD Kép,icd,106.2904,21.4167\n", encoding="utf-8")
    got = read_vector(path)
    assert got.geometry.iloc[0].x == pytest.approx(106.2904)
    assert got["name"].iloc[0] == "ICD Kép"


def test_csv_in_vn2000_metres_with_crs(tmp_path):
    x, y = gpd.GeoSeries([Point(*KEP)], crs="EPSG:4326").to_crs("EPSG:9214").iloc[0].coords[0]
    path = tmp_path / "pts.csv"
    path.write_text(f"name,x,y\nKép,{x},{y}\n", encoding="utf-8")
    got = read_vector(path, crs="EPSG:9214").to_crs("EPSG:4326")
    assert got.geometry.iloc[0].distance(Point(*KEP)) < 1e-5


def test_invalid_geometries_are_repaired_and_counted(tmp_path):
    bowtie = Polygon([(106.0, 21.0), (106.1, 21.1), (106.1, 21.0), (106.0, 21.1)])
    path = tmp_path / "outlines.geojson"
    gpd.GeoDataFrame({"name": ["bowtie", "ok"]}, geometry=[bowtie, box(106.2, 21.2, 106.3, 21.3)], crs="EPSG:4326").to_file(path)
    got = read_vector(path)
    assert got.is_valid.all()
    assert got.attrs["repaired"] == 1
    assert got.to_crs("EPSG:32648").area.iloc[0] > 1e7  # make_valid keeps both triangles of the bow-tie (~58 km²)


def _error(path, **kw):
    with pytest.raises(InputError) as info:
        read_vector(path, **kw)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    return message


def test_missing_file(tmp_path):
    assert "file not found" in _error(tmp_path / "nope.geojson")


def test_unknown_format(tmp_path):
    path = tmp_path / "parks.xyz"
    path.write_text("hello")
    assert "unknown format" in _error(path)


def test_empty_file(tmp_path):
    path = tmp_path / "parks.geojson"
    path.write_bytes(b"")
    assert "empty" in _error(path)


def test_truncated_geojson(tmp_path, parks_gdf):
    path = tmp_path / "parks.geojson"
    parks_gdf.to_file(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert "cannot be read" in _error(path)


def test_no_crs(tmp_path, parks_gdf):
    path = tmp_path / "parks.shp"
    parks_gdf.to_file(path)
    path.with_suffix(".prj").unlink()
    assert "no CRS" in _error(path)
    assert read_vector(path, crs="EPSG:4326").crs.to_epsg() == 4326


def test_feature_collection_without_features(tmp_path):
    path = tmp_path / "parks.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}')
    assert "no features" in _error(path)


def test_bad_encoding_csv(tmp_path):
    path = tmp_path / "parks.csv"
    path.write_bytes("name,lon,lat\nKCN Đình Trám,106.1,21.2\n".encode("utf-16"))
    assert "encoding" in _error(path)


def test_csv_without_coordinates(tmp_path):
    path = tmp_path / "parks.csv"
    path.write_text("name,area\nKCN A,10\n", encoding="utf-8")
    assert "longitude/latitude" in _error(path)


def test_missing_layer(tmp_path, parks_gdf):
    path = tmp_path / "parks.gpkg"
    parks_gdf.to_file(path, layer="parks")
    assert "no layer 'outlines'" in _error(path, layer="outlines")


def test_features_far_outside_region(tmp_path, parks_gdf):
    region = box(105.8, 21.1, 107.1, 21.7)
    # Metres declared as degrees: everything lands far away.
    wrong = parks_gdf.to_crs("EPSG:9214").set_crs("EPSG:4326", allow_override=True)
    with pytest.raises(InputError, match="outside the region"):
        keep_in_area(wrong, region, "parks.gpkg")
    mixed = parks_gdf.copy()
    mixed.loc[2] = ["KCN far away", 1.0, Point(100.0, 10.0)]
    kept = keep_in_area(mixed, region, "parks.gpkg")
    assert len(kept) == 2 and kept.attrs["outside_region"] == 1
