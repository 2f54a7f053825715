"""Tests of geo/io/fetch.py and layers/sources.py: the source catalogue, downloads, derivation steps, failures.

A local http.server on 127.0.0.1 (random free port, in a thread) stands in for
the upstream hosts or an intranet mirror, serving ../shared/data in place.
Derived files are compared with the reference copies in ../shared/data, which
were made independently (see SOURCES.md).
"""

from __future__ import annotations

import functools
import hashlib
import io
import socket
import threading
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import yaml

from geo.io import fetch
from layers import sources
from geo.errors import InputError

REPO = Path(__file__).resolve().parent.parent


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files_in(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


class Server:
    """Serve ``root`` read-only on 127.0.0.1; ``allow(path)`` decides what exists; counts requests."""

    def __init__(self, root: Path, allow=lambda path: True, handler=None):
        self.requests: list[str] = []
        outer = self

        class Handler(SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802
                outer.requests.append(self.path)
                if handler is not None:
                    return handler(self)
                if not allow(self.path.lstrip("/")):
                    return self.send_error(404)
                return super().do_GET()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def mirror(shared_data):
    server = Server(shared_data)
    yield server
    server.close()


@pytest.fixture
def raw_only_mirror(shared_data):
    """A mirror holding only the raw downloads: everything else must be derived."""
    server = Server(shared_data, allow=lambda p: p.startswith("raw/"))
    yield server
    server.close()


@pytest.fixture(autouse=True)
def no_retry_pause(monkeypatch):
    monkeypatch.setattr(fetch, "RETRY_PAUSE_S", 0)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- catalogue

def test_catalogue_matches_reference_copies(shared_data):
    catalogue = sources.load_catalogue()
    by_file = {s.file: s for s in catalogue}
    checked = 0
    for s in catalogue:
        ref = shared_data / s.file
        if s.sha256 and ref.exists():
            assert ref.stat().st_size == s.bytes, s.file
            assert sha256(ref) == s.sha256, s.file
            checked += 1
    assert checked >= 20
    # every data file at the top of ../shared/data is in the catalogue
    top = [p.name for p in shared_data.iterdir() if p.is_file() and p.suffix in (".gpkg", ".geojson", ".csv", ".tif")]
    assert len(top) == 24 and not set(top) - set(by_file)
    # every file the region definitions name is in the catalogue
    named = set()
    for region_file in (REPO / "layers" / "regions").glob("*.yaml"):
        def walk(node):
            if isinstance(node, dict):
                for k, v in node.items():
                    if (k == "file" or k.endswith("_file")) and isinstance(v, str):
                        named.add(v)
                    walk(v)
        walk(yaml.safe_load(region_file.read_text(encoding="utf-8")))
    assert named and not named - set(by_file)
    # honest about hand-made files
    manual = {s.file for s in catalogue if s.kind == "manual"}
    assert {"bacgiang_roads_osm2018_bbox03.gpkg", "bacgiang_waterways_osm2018_bbox03.gpkg",
            "industrial_parks_facts.csv"} <= manual
    assert all(by_file[f].why and by_file[f].how for f in manual)
    layout = sources.data_layout()
    assert set(layout.file) == set(by_file) and layout["from"].str.len().min() > 0


def test_catalogue_errors(tmp_path):
    bad = tmp_path / "cat.yaml"
    bad.write_text("files:\n- {file: a.tif, kind: derived, step: clip_raster, inputs: [b.tif]}\n")
    with pytest.raises(InputError, match="inputs not in the catalogue: b.tif"):
        sources.load_catalogue(bad)
    bad.write_text("files:\n- {file: a.tif, kind: download}\n")
    with pytest.raises(InputError, match="a download needs urls"):
        sources.load_catalogue(bad)
    with pytest.raises(InputError, match="no file of the data catalogue matches"):
        sources.fetch(tmp_path / "d", only=["nothing-like-this.xyz"], progress=False)


# --------------------------------------------------------------------------- downloads

REAL_FILES = [
    "raw/gadm41_vnm_simplified/gadm41_VNM_1.json",
    "raw/worldpop_vnm_1km/vnm_ppp_2020_1km_Aggregated_UNadj.tif",
    "raw/vn_demographic_census2019/Population_by_Urban_Ward_census2019.xlsx",
    "osm_samples/liechtenstein-2013-08-03.osm.pbf",
    "bacgiang_roads_osm2018_bbox03.gpkg",          # manual upstream, but a mirror may hold it
    "industrial_parks_facts.csv",
]


def test_mirror_download_matches_originals(mirror, shared_data, tmp_path):
    dest = tmp_path / "data"
    report = sources.fetch(dest, base_urls=mirror.url, only=REAL_FILES, progress=False)
    assert list(report.columns) == fetch.REPORT_COLUMNS
    assert set(report.file) == set(REAL_FILES) and (report.status == "downloaded").all()
    for f in REAL_FILES:
        assert sha256(dest / f) == sha256(shared_data / f), f
    assert dict(zip(report.file, report.sha256)) == {f: sha256(shared_data / f) for f in REAL_FILES}
    assert not [p for p in files_in(dest) if Path(p).name.startswith(".")]  # no temp files left
    # second run: everything present with the right size, nothing requested
    n = len(mirror.requests)
    again = sources.fetch(dest, base_urls=[mirror.url], only=REAL_FILES, progress=False)
    assert (again.status == "present").all() and len(mirror.requests) == n
    # a file of the wrong size (an old or cut copy) is fetched again
    cut = dest / REAL_FILES[1]
    cut.write_bytes(cut.read_bytes()[:1000])
    third = sources.fetch(dest, base_urls=mirror.url, only=[REAL_FILES[1]], progress=False)
    assert third.status.tolist() == ["downloaded"] and sha256(cut) == sha256(shared_data / REAL_FILES[1])


def test_raw_only_mirror_derives_the_rest(raw_only_mirror, shared_data, tmp_path):
    dest = tmp_path / "data"
    wanted = ["bacgiang_admin.gpkg", "bacgiang_province.geojson", "bacgiang_districts.geojson",
              "region_provinces.geojson", "bacgiang_population_2019_*.csv", "worldpop_*_region.tif",
              "dem_srtm3_N21E105_bbox03.tif", "bacgiang_*_bbox03.geojson"]
    report = sources.fetch(dest, base_urls=raw_only_mirror.url, only=wanted, progress=False)
    status = dict(zip(report.file, report.status))
    assert status["bacgiang_admin.gpkg"] == "derived" and status["worldpop_vnm_ppp_2020_1km_region.tif"] == "derived"
    assert status["raw/gadm41_vnm_simplified/gadm41_VNM_2.json"] == "downloaded"
    assert status["bacgiang_rivers_wdbii_bbox03.geojson"] == "manual"  # not derivable, not on this mirror

    # rasters: same grid, same values as the reference clips
    import rasterio

    for f in ("worldpop_vnm_ppp_2020_1km_region.tif", "worldpop_vnm_ppp_2000_1km_region.tif", "dem_srtm3_N21E105_bbox03.tif"):
        with rasterio.open(dest / f) as a, rasterio.open(shared_data / f) as r:
            assert a.shape == r.shape and a.crs == r.crs and a.nodata == r.nodata, f
            assert a.transform.almost_equals(r.transform), f
            assert np.array_equal(a.read(1), r.read(1)), f
    with rasterio.open(dest / "worldpop_vnm_ppp_2020_1km_region.tif") as a:
        assert a.shape == (186, 264)
        band = a.read(1, masked=True)
        assert band.sum() == pytest.approx(20.70e6, rel=0.005)  # SOURCES.md: region sum 20.70 M

    # census tables identical to the reference ones
    for f in ("bacgiang_population_2019_district.csv", "bacgiang_population_2019_commune.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(dest / f), pd.read_csv(shared_data / f))
    districts = pd.read_csv(dest / "bacgiang_population_2019_district.csv")
    assert districts.total.sum() == 1_803_950 and len(districts) == 10  # census total in SOURCES.md
    assert len(pd.read_csv(dest / "bacgiang_population_2019_commune.csv")) == 230

    # vector layers: same rows, same attributes, same geometry (area of difference ~0)
    def same(a, r, name):
        assert len(a) == len(r) and list(a.columns) == list(r.columns), name
        pd.testing.assert_frame_equal(pd.DataFrame(a.drop(columns="geometry")), pd.DataFrame(r.drop(columns="geometry")),
                                      check_dtype=False, obj=name)
        diff = [x.symmetric_difference(y) for x, y in zip(a.geometry, r.geometry)]
        assert max(d.area if d.area > 0 else d.length for d in diff) < 1e-9, name

    import pyogrio

    for layer, _ in pyogrio.list_layers(shared_data / "bacgiang_admin.gpkg"):
        same(gpd.read_file(dest / "bacgiang_admin.gpkg", layer=layer), gpd.read_file(shared_data / "bacgiang_admin.gpkg", layer=layer), layer)
    for f in ("bacgiang_province.geojson", "bacgiang_districts.geojson", "region_provinces.geojson",
              "bacgiang_industrial_zones_bbox03.geojson", "bacgiang_national_transport_reference_bbox03.geojson",
              "bacgiang_railways_osm_bbox03.geojson", "bacgiang_railways_osm2018_bbox03.geojson",
              "bacgiang_places_osm2018_bbox03.geojson"):
        same(gpd.read_file(dest / f), gpd.read_file(shared_data / f), f)

    # the folder works as --data for the boundary layers
    from layers.boundaries import districts as district_layer
    from layers.boundaries import province
    from layers.region import load_region

    region = load_region("bac-giang", data_dir=dest, boundaries="gadm")
    assert province(region).area_km2.iloc[0] == pytest.approx(3892.5, abs=0.5)  # SOURCES.md
    d = district_layer(region)
    assert len(d) == 10 and "Hiệp Hòa" in set(d.district) and d.area_km2.sum() == pytest.approx(3892.9, abs=1)


def test_manual_files_come_from_the_bundle(tmp_path):
    from layers.region import BUNDLED_DATA_DIR

    dest = tmp_path / "data"
    report = sources.fetch(dest, base_urls="http://127.0.0.1:9/", only=["bacgiang_roads_osm2018_bbox03.gpkg", "observed_travel_times.csv"],
                         progress=False, bundle_dir=BUNDLED_DATA_DIR)
    status = dict(zip(report.file, report.status))
    assert status == {"bacgiang_roads_osm2018_bbox03.gpkg": "bundled", "observed_travel_times.csv": "bundled"}
    assert (dest / "observed_travel_times.csv").read_bytes() == (BUNDLED_DATA_DIR / "observed_travel_times.csv").read_bytes()
    # without a bundle the same files are reported as manual, with what to do
    report = sources.fetch(tmp_path / "other", base_urls="http://127.0.0.1:9/", only=["observed_travel_times.csv"], progress=False)
    assert list(report.status) == ["manual"] and "data/" in report.note.iloc[0]


def test_zip_download_unpacks_member(tmp_path, shared_data):
    member = "gadm41_VNM_1.json"
    site = tmp_path / "site"
    site.mkdir()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(shared_data / "raw/gadm41_vnm_simplified" / member, member)
    (site / "gadm41_VNM_1.json.zip").write_bytes(buf.getvalue())
    server = Server(site)
    try:
        s = sources.load_catalogue()[0]
        assert s.member == member
        target = tmp_path / "out" / s.file
        ok, url, note = fetch._download_any(s, [server.url + "/gadm41_VNM_1.json.zip"], target, {}, False)
    finally:
        server.close()
    assert ok and sha256(target) == s.sha256
    assert files_in(tmp_path / "out") == [s.file]  # the zip itself is not left behind


# --------------------------------------------------------------------------- failures

def test_404_says_what_to_put_where(mirror, tmp_path):
    dest = tmp_path / "data"
    with pytest.raises(fetch.FetchError) as err:
        sources.fetch(dest, base_urls=mirror.url, only=["osm/vietnam-latest.osm.pbf"], progress=False)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(str(dest))
    assert "HTTP 404" in msg and "osm/vietnam-latest.osm.pbf (from https://download.geofabrik.de/asia/vietnam-latest.osm.pbf)" in msg
    assert f"Put these into {dest} by hand" in msg
    assert err.value.report.status.tolist() == ["failed"]
    assert files_in(dest) == []


def test_connection_refused_leaves_nothing(tmp_path):
    dest = tmp_path / "data"
    with pytest.raises(fetch.FetchError) as err:
        sources.fetch(dest, base_urls=f"http://127.0.0.1:{closed_port()}", only=["worldpop_vnm_ppp_2020_1km_region.tif", "bacgiang_admin.gpkg"],
                    progress=False)
    msg = str(err.value)
    assert "\n" not in msg and "connection refused" in msg
    assert "raw/worldpop_vnm_1km/vnm_ppp_2020_1km_Aggregated_UNadj.tif (from https://raw.githubusercontent.com/kraemer-lab/geoglue/" in msg
    assert "Then run fetch again to build: " in msg and "worldpop_vnm_ppp_2020_1km_region.tif" in msg
    report = err.value.report
    assert set(report.status) == {"failed"} and "raw/gadm41_vnm_simplified/gadm41_VNM_1.json" in set(report.file)
    assert files_in(dest) == []


def test_offline_upstream_lists_the_layout(monkeypatch, tmp_path):
    def no_dns(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    dest = tmp_path / "data"
    with pytest.raises(fetch.FetchError) as err:
        sources.fetch(dest, progress=False)
    msg = str(err.value)
    assert "\n" not in msg and "could not download 25 file(s) and build 15 file(s) (no network: " in msg
    assert "raw.githubusercontent.com (host name not found)" in msg
    for expected in ("raw/gadm41_vnm_simplified/gadm41_VNM_2.json (from https://raw.githubusercontent.com/NhatDuongFV/",
                     "raw/vvnb_terragear_osm2018/data/SRTM-3/N21E105.hgt (from ",
                     "Then run fetch again to build: bacgiang_admin.gpkg",
                     "Not downloadable at all, copy from a colleague's data folder: industrial_parks_facts.csv, bacgiang_roads_osm2018_bbox03.gpkg"):
        assert expected in msg
    report = err.value.report
    assert set(report.status) == {"failed", "manual"}
    assert files_in(dest) == []
    # each host was tried (twice) and then given up, not once per file
    assert (report.kind == "download").sum() > 10


def test_cut_transfer_is_retried_then_reported(tmp_path, shared_data):
    calls = []

    def short_body(handler):
        calls.append(handler.path)
        handler.send_response(200)
        handler.send_header("Content-Length", "100000")
        handler.end_headers()
        handler.wfile.write(b"x" * 5000)  # then the connection closes

    server = Server(shared_data, handler=short_body)
    dest = tmp_path / "data"
    try:
        with pytest.raises(fetch.FetchError) as err:
            sources.fetch(dest, base_urls=server.url, only=["osm_samples/liechtenstein-2013-08-03.osm.pbf"], progress=False)
    finally:
        server.close()
    assert len(calls) == 2  # one retry
    assert "liechtenstein-2013-08-03.osm.pbf" in str(err.value)
    assert files_in(dest) == []


def test_lfs_pointer_is_refused(tmp_path):
    site = tmp_path / "site" / "osm_samples"
    site.mkdir(parents=True)
    (site / "liechtenstein-2013-08-03.osm.pbf").write_text("version https://git-lfs.github.com/spec/v1\noid sha256:e9b3\nsize 592630\n")
    server = Server(tmp_path / "site")
    dest = tmp_path / "data"
    try:
        with pytest.raises(fetch.FetchError, match="Git LFS pointer"):
            sources.fetch(dest, base_urls=server.url, only=["liechtenstein-*.pbf"], progress=False)
    finally:
        server.close()
    assert files_in(dest) == []


def test_bad_input_to_a_step_names_the_file(tmp_path):
    xlsx = tmp_path / "census.xlsx"
    xlsx.write_bytes(b"not a workbook")
    with pytest.raises(InputError, match=r"census\.xlsx: not a readable \.xlsx workbook"):
        sources.step_census_2019([xlsx], tmp_path / "out.csv", {"province": "Bắc Giang"})
    assert not (tmp_path / "out.csv").exists()


# --------------------------------------------------------------------------- land constraints for siting

WINDOW = (105.35, 20.60, 107.55, 22.15)          # the catalogue's region window


def _geofabrik_zip(path: Path, layers: dict[str, gpd.GeoDataFrame]) -> None:
    """A zip in the layout of Geofabrik's ``*-free.shp.zip``: one ``gis_osm_*_free_1`` shapefile per layer."""
    parts = path.parent / "parts"
    parts.mkdir()
    for name, frame in layers.items():
        frame.to_file(parts / f"{name}.shp", driver="ESRI Shapefile", engine="pyogrio")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("README", "OpenStreetMap data, ODbL (test copy)")
        for part in sorted(parts.iterdir()):
            zf.write(part, part.name)


def _osm_frame(rows, crs="EPSG:4326") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"osm_id": [str(i) for i in range(len(rows))], "code": [7201] * len(rows),
                             "fclass": [r[0] for r in rows], "name": [r[1] for r in rows]},
                            geometry=[r[2] for r in rows], crs=crs)


def test_zip_layer_selects_classes_in_the_window(tmp_path):
    """The zip is kept whole; the step keeps the named classes meeting the window, in EPSG:4326, with a proxy label."""
    import shapely

    inside, outside = shapely.box(106.2, 21.3, 106.21, 21.31), shapely.box(109.0, 12.0, 109.01, 12.01)
    landuse = _osm_frame([("forest", "Rừng Tây Yên Tử", inside), ("nature_reserve", "Khu bảo tồn", inside.buffer(0.01)),
                          ("farmland", "Cánh đồng", inside), ("forest", "far away", outside)])
    site = tmp_path / "site"
    (site / "osm").mkdir(parents=True)
    _geofabrik_zip(site / "osm/vietnam-latest-free.shp.zip", {"gis_osm_landuse_a_free_1": landuse,
                                                              "gis_osm_buildings_a_free_1": _osm_frame([("building", None, inside)])})
    server = Server(site)
    try:
        name = "osm/constraints/bacgiang_forest_reserves_osm.gpkg"
        report = sources.fetch(tmp_path / "data", base_urls=server.url, only=[name], progress=False)
    finally:
        server.close()
    status = dict(zip(report.file, report.status))
    assert status == {"osm/vietnam-latest-free.shp.zip": "downloaded", name: "derived"}
    assert zipfile.is_zipfile(tmp_path / "data/osm/vietnam-latest-free.shp.zip")       # kept, not unpacked
    forest = gpd.read_file(tmp_path / "data" / name)
    assert forest.crs.to_epsg() == 4326
    assert sorted(forest.fclass) == ["forest", "nature_reserve"]                      # no farmland, nothing outside
    assert set(forest.name) == {"Rừng Tây Yên Tử", "Khu bảo tồn"}
    assert forest.source.str.startswith("proxy:").all()
    with pytest.raises(InputError, match="gis_osm_water_a_free_1.shp' is not in the zip"):
        fetch.step_zip_layer([tmp_path / "data/osm/vietnam-latest-free.shp.zip"], tmp_path / "x.gpkg",
                             {"layer": "gis_osm_water_a_free_1", "bbox": list(WINDOW)})
    assert not (tmp_path / "x.gpkg").exists()


def _tiny_geotiff(path: Path, data: np.ndarray, west: float, north: float, cell_deg: float, nodata=None) -> None:
    """A small real GeoTIFF in EPSG:4326 (the layout of WorldCover tiles and the JRC flood maps)."""
    import rasterio
    from rasterio.transform import from_origin

    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[1], height=data.shape[0], count=1, dtype=data.dtype,
                       crs="EPSG:4326", transform=from_origin(west, north, cell_deg, cell_deg), nodata=nodata) as out:
        out.write(data, 1)


def test_raster_mask_makes_class_and_depth_polygons(tmp_path):
    """WorldCover-like classes at 10 m → cropland patches at 100 m (mode); flood depth > 0 → flood patches."""
    import shapely

    classes = np.full((40, 40), 10, dtype="uint8")            # tree cover
    classes[0:20, 0:20] = 40                                   # a 200 m × 200 m block of cropland (at ~10 m cells)
    classes[30:40, 30:40] = 40
    classes[35, 35] = 50                                       # one built-up cell inside: the mode keeps cropland
    cell = 0.0001                                              # ~10 m
    _tiny_geotiff(tmp_path / "wc.tif", classes, 106.2, 21.4, cell)
    target = tmp_path / "crop.gpkg"
    fetch.step_raster_mask([tmp_path / "wc.tif"], target, {"bounds": list(WINDOW), "values": [40], "factor": 10,
                                                         "label": "proxy: cropland"})
    crop = gpd.read_file(target)
    assert crop.crs.to_epsg() == 4326 and set(crop.value) == {40.0} and (crop.source == "proxy: cropland").all()
    assert sorted(round(a / cell ** 2) for a in shapely.area(np.asarray(crop.geometry.values))) == [100, 400]   # in 10 m cells: 10×10 and 20×20

    depth = np.zeros((6, 8), dtype="float32")
    depth[1:3, 1:4] = 1.5
    depth[5, 7] = -9999                                        # nodata
    _tiny_geotiff(tmp_path / "flood.tif", depth, 106.0, 21.5, 0.01, nodata=-9999)
    fetch.step_raster_mask([tmp_path / "flood.tif"], tmp_path / "flood.gpkg", {"bounds": list(WINDOW), "min_value": 0})
    flood = gpd.read_file(tmp_path / "flood.gpkg")
    assert len(flood) == 1 and round(shapely.area(flood.geometry.values[0]) / 0.0001) == 6
    with pytest.raises(InputError, match="does not overlap"):
        fetch.step_raster_mask([tmp_path / "flood.tif"], tmp_path / "x.gpkg", {"bounds": [0, 0, 1, 1], "min_value": 0})
    assert not (tmp_path / "x.gpkg").exists()


def test_wdpa_is_manual_for_its_licence():
    wdpa = next(s for s in sources.load_catalogue() if "wdpa" in s.file)
    assert wdpa.kind == "manual" and wdpa.optional and "non-commercial" in wdpa.why


def test_site_uses_fetched_constraints_without_options(region, tmp_path):
    """Fetched OSM forest and buildings and a JRC-like flood map (served on 127.0.0.1) are excluded by `site` with no constraint option;
    before the fetch the same run says how to fetch them."""
    import dataclasses

    import shapely

    from geo import settings
    from layers import networks
    from layers.siting import run_siting

    settings.progress = False
    data = tmp_path / "data"
    data.mkdir()
    for entry in region.data_dir.rglob("*"):       # the region's data folder: real folders, files linked,
        copy = data / entry.relative_to(region.data_dir)   # so what fetch adds never lands in the shared folder
        copy.mkdir(parents=True, exist_ok=True) if entry.is_dir() else copy.symlink_to(entry)
    local = dataclasses.replace(region, data_dir=data)
    net = networks.build_networks(local, with_rail=False)
    before = run_siting(local, "logistics-heavy", cell_m=1000, net=net, sensitivity=False)
    for name in ("settlements", "protected_forest", "flood"):
        note = before.summary["exclusions"][name]["note"]
        assert not before.summary["exclusions"][name]["given"] and "plan.py fetch --only " in note and "/constraints/" in note

    crs = region.metric_crs
    sites = before.sites.to_crs(crs)
    forest_m = sites.geometry.iloc[0].centroid.buffer(1500)
    house_m = shapely.box(*sites.geometry.iloc[1].centroid.buffer(20).bounds)
    to_lonlat = lambda g: gpd.GeoSeries([g], crs=crs).to_crs(4326).iloc[0]   # noqa: E731
    site = tmp_path / "site"
    (site / "osm").mkdir(parents=True)
    _geofabrik_zip(site / "osm/vietnam-latest-free.shp.zip", {
        "gis_osm_landuse_a_free_1": _osm_frame([("forest", "rừng", to_lonlat(forest_m))]),
        "gis_osm_buildings_a_free_1": _osm_frame([("building", "nhà", to_lonlat(house_m))])})
    # a JRC-like flood depth map (0.01° cells) flooded in the 0.03° × 0.03° block around the third site
    lon, lat = to_lonlat(sites.geometry.iloc[2].centroid).coords[0]
    west, north = round(lon, 2) - 0.05, round(lat, 2) + 0.05
    depth = np.zeros((10, 10), dtype="float32")
    depth[4:7, 4:7] = 2.0
    _tiny_geotiff(site / "raw/jrc_floods/floodMapGL_rp100y.tif", depth, west, north, 0.01, nodata=-9999)
    flood_m = gpd.GeoSeries([shapely.box(west + 0.04, north - 0.07, west + 0.07, north - 0.04)], crs=4326).to_crs(crs).iloc[0]
    server = Server(site)
    try:
        report = sources.fetch(data, base_urls=server.url, only=["osm/constraints/bacgiang_forest_reserves_osm.gpkg",
                                                                "osm/constraints/bacgiang_buildings_osm.gpkg",
                                                                "flood/constraints/bacgiang_flood_rp100_jrc.gpkg"], progress=False)
    finally:
        server.close()
    assert set(report.status) <= {"downloaded", "derived"} and len(report) == 5
    for written in ("osm", "flood", "raw/jrc_floods"):  # written into the copy, not the shared folder
        assert (data / written).is_dir() and not (region.data_dir / written).exists(), written

    after = run_siting(local, "logistics-heavy", cell_m=1000, net=net, sensitivity=False)
    ex = after.summary["exclusions"]
    union = shapely.union_all(np.asarray(after.sites.to_crs(crs).geometry.values))
    for name, land in (("protected_forest", forest_m), ("settlements", house_m.buffer(150)),  # the default 150 m
                       ("flood", flood_m)):
        assert ex[name]["given"] and ex[name]["cells"] > 0, name
        assert "region default" in ex[name]["note"], name
        assert shapely.intersection(union, land).area < 1.0, name
