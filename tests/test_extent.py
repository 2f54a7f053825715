"""geo.io.extent: CRS usable, coordinates sane, features inside the region's window — through geo.io.vector.read_vector."""

import json

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, Point, box

from geo.errors import InputError
from geo.io.extent import Window, check_points, region_window
from geo.io.raster import read_raster
from geo.io.vector import read_vector

#: Bắc Giang's window, roughly (the command line takes it from the region: outline + 30 km).
BAC_GIANG = Window(105.59, 20.85, 107.32, 21.90, "bac-giang")
LOCAL_CS = 'LOCAL_CS["Site grid",LOCAL_DATUM["Site",0],UNIT["metre",1],AXIS["X",EAST],AXIS["Y",NORTH]]'


def _rice(crs="EPSG:4326"):
    return gpd.GeoDataFrame({"name": ["lúa"]}, geometry=[box(106.15, 21.25, 106.25, 21.32)], crs="EPSG:4326").to_crs(crs)


def _geojson(path, frame, crs_member=None):
    data = json.loads(frame.to_json(to_wgs84=False))
    data.pop("crs", None)
    if crs_member:
        data["crs"] = {"type": "name", "properties": {"name": crs_member}}
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _fails(path, *fragments, window=BAC_GIANG, **kwargs):
    with region_window(window):
        with pytest.raises(InputError) as info:
            read_vector(path, **kwargs)
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(path))
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_vn2000_layer_is_reprojected_not_refused(tmp_path):
    path = tmp_path / "rice_vn2000.gpkg"
    _rice("EPSG:9214").to_file(path)
    with region_window(BAC_GIANG):
        got = read_vector(path)
    assert got.crs.to_epsg() == 9214 and got.attrs["outside_window"] == 0


def test_metres_without_crs_are_refused(tmp_path):
    """A GeoJSON without a CRS is WGS 84 by definition: UTM metres in it are not degrees."""
    path = _geojson(tmp_path / "rice_m.geojson", _rice("EPSG:32648"))
    _fails(path, "are not degrees", "metres", window=None)


def test_unknown_epsg_is_refused_not_read_as_wgs84(tmp_path):
    path = _geojson(tmp_path / "rice.geojson", _rice(), crs_member="urn:ogc:def:crs:EPSG::99999")
    _fails(path, "EPSG::99999", "not a known CRS")


def test_unknown_epsg_in_a_prj_file(tmp_path):
    path = tmp_path / "rice.shp"
    _rice("EPSG:32648").to_file(path)
    path.with_suffix(".prj").write_text(
        'PROJCS["x",GEOGCS["y",DATUM["D",SPHEROID["s",6378137,298.257]],PRIMEM["G",0],UNIT["degree",0.0174532925199433]],'
        'PROJECTION["Transverse_Mercator"],PARAMETER["central_meridian",105],PARAMETER["scale_factor",0.9996],'
        'PARAMETER["false_easting",500000],PARAMETER["false_northing",0],UNIT["metre",1],AUTHORITY["EPSG","99999"]]')
    _fails(path, "EPSG:99999", "not known")


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_engineering_crs_is_refused(tmp_path):
    path = tmp_path / "parks.shp"
    gpd.GeoDataFrame({"name": ["KCN A"]}, geometry=[Point(600000, 2350000)]).to_file(path)
    path.with_suffix(".prj").write_text(LOCAL_CS)
    _fails(path, "engineering (local) CRS", "Site grid")


@pytest.mark.parametrize("x, y, fragment", [("inf", "21.3", "infinite or NaN"), ("1e308", "21.3", "far beyond"),
                                             ("21.3", "106.2", "look swapped"), ("600000", "2350000", "not degrees")])
def test_coordinates_that_are_not_positions(tmp_path, x, y, fragment):
    path = tmp_path / "points.csv"
    path.write_text(f"name,lon,lat\na,{x},{y}\n", encoding="utf-8")
    _fails(path, fragment)


def test_huge_projected_coordinates_cannot_be_converted(tmp_path):
    path = tmp_path / "lines.gpkg"
    gpd.GeoDataFrame(geometry=[LineString([(1e300, 1e300), (2e300, 2e300)])], crs="EPSG:32648").to_file(path)
    _fails(path, "cannot be converted from EPSG:32648")


def test_a_layer_far_outside_the_region_is_refused(tmp_path):
    path = tmp_path / "roads_france.geojson"
    gpd.GeoDataFrame({"ref": ["QL1A"]}, geometry=[LineString([(2.3, 48.8), (2.4, 48.9)])], crs="EPSG:4326").to_file(path)
    message = _fails(path, "all 1 feature(s) lie outside the region's window", "2.3, 48.8", "bac-giang window 105.59")
    assert "wrong file or wrong CRS" in message


def test_swapped_columns_inside_degree_range_get_a_hint(tmp_path):
    """Where both axes stay within ±90 (a window near the equator), the window check says 'swapped'."""
    path = tmp_path / "points.csv"
    path.write_text("name,lon,lat\na,10.5,40.2\n", encoding="utf-8")
    _fails(path, "look swapped", window=Window(40, 10, 41, 11, "test"))


def test_partly_outside_is_kept_and_counted(tmp_path, caplog):
    path = tmp_path / "mixed.geojson"
    gpd.GeoDataFrame(geometry=[Point(106.2, 21.3), Point(2.3, 48.8)], crs="EPSG:4326").to_file(path)
    with region_window(BAC_GIANG):
        got = read_vector(path)
    assert len(got) == 2 and got.attrs["outside_window"] == 1
    assert "1 of 2 feature(s) lie outside the bac-giang window" in caplog.text


def test_a_stated_share_can_be_required(tmp_path):
    path = tmp_path / "mixed.geojson"
    gpd.GeoDataFrame(geometry=[Point(106.2, 21.3), Point(2.3, 48.8), Point(2.4, 48.8)], crs="EPSG:4326").to_file(path)
    _fails(path, "only 1 of 3", "fewer than the 50% required", min_share=0.5)


def test_without_a_region_window_only_crs_and_coordinates_are_checked(tmp_path):
    path = tmp_path / "roads_france.geojson"
    gpd.GeoDataFrame(geometry=[Point(2.3, 48.8)], crs="EPSG:4326").to_file(path)
    assert len(read_vector(path)) == 1


def test_observation_points_checked_like_layers():
    with region_window(BAC_GIANG):
        assert check_points([106.2, 105.85], [21.3, 21.03], "obs.csv").all()
        with pytest.raises(InputError, match="observation end points lie outside"):
            check_points([2.3], [48.8], "obs.csv", what="observation end points")


def test_a_dem_far_away_or_in_a_local_crs_is_refused(tmp_path):
    import rasterio
    from rasterio.transform import from_origin

    def dem(name, crs, west, north, res):
        path = tmp_path / name
        with rasterio.open(path, "w", driver="GTiff", width=4, height=4, count=1, dtype="float32", crs=crs,
                           transform=from_origin(west, north, res, res)) as dst:
            dst.write(np.ones((1, 4, 4), "float32"))
        return path

    with region_window(BAC_GIANG):
        assert read_raster(dem("ok.tif", "EPSG:4326", 106.0, 21.5, 0.01))[0].shape == (4, 4)
        with pytest.raises(InputError, match="outside the region's window"):
            read_raster(dem("alps.tif", "EPSG:4326", 9.5, 47.2, 0.01))
        with pytest.raises(InputError, match="engineering"):
            read_raster(dem("local.tif", LOCAL_CS, 0, 100, 1))


def test_a_property_called_crs_is_not_taken_for_the_files_crs(tmp_path):
    path = tmp_path / "survey.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {
        "type": "Point", "coordinates": [106.2, 21.3]}, "properties": {"crs": {"type": "name", "properties": {"name": "EPSG:99999"}}}}]}))
    with region_window(BAC_GIANG):
        assert len(read_vector(path)) == 1
