"""The command line end to end: `plan.py layers` on the real data, and bad input."""

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest

REPO = Path(__file__).resolve().parent.parent

PLAN = [sys.executable, str(REPO / "scripts" / "plan.py")]
EXPECTED_LAYERS = {"province", "districts", "industrial_parks", "corridors", "railways", "stations", "water", "urban_areas"}


def run(*args, timeout=300):
    return subprocess.run([*PLAN, *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=REPO)


@pytest.fixture(scope="module")
def layers_out(shared_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    result = run("layers", "--data", shared_data, "--out", out, "--quiet")
    assert result.returncode == 0, result.stderr
    return out, result


def test_layers_writes_a_geopackage_for_qgis(layers_out):
    out, result = layers_out
    names = {row[0] for row in pyogrio.list_layers(out / "layers.gpkg")}
    assert EXPECTED_LAYERS <= names
    for name in EXPECTED_LAYERS:
        info = pyogrio.read_info(out / "layers.gpkg", layer=name)
        assert info["crs"] == "EPSG:4326", name
        assert info["features"] > 0, name
    assert "wrote" in result.stdout


def test_layers_content(layers_out):
    out, _ = layers_out
    parks = gpd.read_file(out / "layers.gpkg", layer="industrial_parks")
    # open positions first, the portal points (in ../shared/data) only for parks without one, flagged
    assert len(parks) >= 51 and parks["position_precision"].notna().all()
    assert set(parks.loc[parks["listed_in"] == "portal", "position_precision"]) <= {"portal_marker"}
    districts = gpd.read_file(out / "layers.gpkg", layer="districts")
    assert len(districts) == 10
    summary = json.loads((out / "layers_summary.json").read_text(encoding="utf-8"))
    assert summary["region"] == "bac-giang"
    assert summary["layers"]["industrial_parks"]["features"] == len(parks)
    inventory = pyogrio.read_dataframe(out / "layers.gpkg", layer="industrial_parks_inventory", read_geometry=False)
    assert len(inventory) == summary["layers"]["industrial_parks"]["sourced_parks"]
    assert (out / "population.tif").exists()
    # No temporary files left behind.
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_help_explains_options():
    result = run("layers", "--help")
    assert result.returncode == 0
    for option in ("--region", "--data", "--osm", "--parks", "--out", "--quiet"):
        assert option in result.stdout


def _fails_cleanly(result, out, *fragments):
    assert result.returncode == 2
    lines = [line for line in result.stderr.strip().splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    assert not (out / "layers.gpkg").exists()
    assert not out.exists() or not any(out.iterdir())


def test_missing_parks_file(shared_data, tmp_path):
    out = tmp_path / "out"
    result = run("layers", "--data", shared_data, "--parks", tmp_path / "nope.gpkg", "--out", out, "--quiet")
    _fails_cleanly(result, out, "nope.gpkg", "file not found")


def test_truncated_parks_file(shared_data, tmp_path):
    src = shared_data / "bacgiang_industrial_zones_bbox03.geojson"
    bad = tmp_path / "parks.geojson"
    bad.write_bytes(src.read_bytes()[:5000])
    out = tmp_path / "out"
    result = run("layers", "--data", shared_data, "--parks", bad, "--out", out, "--quiet")
    _fails_cleanly(result, out, "parks.geojson", "cannot be read")


def test_parks_in_the_wrong_crs(shared_data, tmp_path):
    """VN-2000 metres declared as degrees: every park lies outside the region."""
    parks = gpd.read_file(shared_data / "bacgiang_industrial_zones_bbox03.geojson").head(5)[["name", "geometry"]]
    wrong = parks.to_crs("EPSG:9214").set_crs("EPSG:4326", allow_override=True)
    path = tmp_path / "parks.gpkg"
    wrong.to_file(path)
    out = tmp_path / "out"
    result = run("layers", "--data", shared_data, "--parks", path, "--out", out, "--quiet")
    _fails_cleanly(result, out, "parks.gpkg", "are not degrees")


def test_unknown_osm_format(shared_data, tmp_path):
    path = tmp_path / "extract.o5m"
    path.write_bytes(b"\xff\xe0o5m2")
    out = tmp_path / "out"
    result = run("layers", "--data", shared_data, "--osm", path, "--out", out, "--quiet")
    _fails_cleanly(result, out, "extract.o5m")


def test_unknown_region(tmp_path):
    out = tmp_path / "out"
    result = run("layers", "--region", "atlantis", "--out", out)
    _fails_cleanly(result, out, "unknown region")


def test_missing_data_folder(tmp_path):
    out = tmp_path / "out"
    result = run("layers", "--data", tmp_path / "nodata", "--out", out)
    _fails_cleanly(result, out, "nodata", "data folder not found")


def test_layers_with_an_osm_extract(shared_data, tmp_path):
    """With --osm, corridors come from OSM ref/name tags (hand-written extract near Bắc Giang city)."""
    out = tmp_path / "out"
    result = run("layers", "--data", shared_data, "--osm", REPO / "tests" / "fixtures" / "bac_giang_tagging.osm", "--out", out, "--quiet")
    assert result.returncode == 0, result.stderr
    corridors = gpd.read_file(out / "layers.gpkg", layer="corridors")
    assert set(corridors["method"]) == {"osm_tags"}
    assert {"ql1a", "ql37", "ct01"} <= set(corridors["corridor_id"])
    assert "ql279" not in set(corridors["corridor_id"])
    urban = gpd.read_file(out / "layers.gpkg", layer="urban_areas")
    assert (urban["kind"] == "builtup_area").sum() == 1  # the fixture's landuse=residential polygon


def test_fetch_from_a_local_mirror(shared_data, tmp_path):
    """`plan.py fetch --mirror` fills a --data folder that `layers` can then read from."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(shared_data)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        dest = tmp_path / "data"
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        result = run("fetch", "--mirror", url, "--dest", dest, "--only", "bacgiang_admin.gpkg", "--quiet")
        assert result.returncode == 0, result.stderr
        assert (dest / "bacgiang_admin.gpkg").read_bytes() == (shared_data / "bacgiang_admin.gpkg").read_bytes()
    finally:
        server.shutdown()
        server.server_close()


def test_fetch_offline_says_where_files_go(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dest = tmp_path / "data"
    result = run("fetch", "--mirror", f"http://127.0.0.1:{port}/", "--dest", dest, "--only", "bacgiang_admin.gpkg", "--quiet")
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "bacgiang_admin.gpkg" in errors[0]
    assert not dest.exists() or not [p for p in dest.rglob("*") if p.is_file()]


def test_layers_with_a_scenario_and_dry_ports(shared_data, tmp_path):
    """A planned corridor file and a planner's dry ports (VN-2000 metres) go into the layers."""
    from shapely.geometry import LineString, Point

    scenario = tmp_path / "ring5.geojson"
    gpd.GeoDataFrame({"name": ["Vành đai 5 (indicative)"], "road_class": ["expressway"], "design_speed_kmh": [100]},
                     geometry=[LineString([(105.95, 21.30), (106.10, 21.35), (106.30, 21.40)])], crs="EPSG:4326").to_file(scenario)
    icd = tmp_path / "icd.csv"
    x, y = gpd.GeoSeries([Point(106.2950, 21.4180)], crs="EPSG:4326").to_crs("EPSG:9214").iloc[0].coords[0]
    icd.write_text(f"name,kind,x,y\nICD Kép (planned),icd,{x:.2f},{y:.2f}\n", encoding="utf-8")
    # CSV coordinates are read as lon/lat: metres must be refused, not misplaced.
    out = tmp_path / "out"
    bad = run("layers", "--data", shared_data, "--scenario", scenario, "--logistics", icd, "--out", out, "--quiet")
    assert bad.returncode == 2 and "icd.csv" in bad.stderr and not (out / "layers.gpkg").exists()

    icd.write_text("name,kind,lon,lat\nICD Kép (planned),icd,106.2950,21.4180\n", encoding="utf-8")
    result = run("layers", "--data", shared_data, "--scenario", scenario, "--logistics", icd, "--out", out, "--quiet")
    assert result.returncode == 0, result.stderr
    corridors = gpd.read_file(out / "layers.gpkg", layer="corridors").set_index("corridor_id")
    assert corridors.loc["ring5", "status"] == "planned"
    assert corridors.loc["ql1a", "status"] == "existing"
    stations = gpd.read_file(out / "layers.gpkg", layer="stations")
    assert "ICD Kép (planned)" in set(stations["name"])


def test_access_writes_csv_and_geopackage(shared_data, tmp_path):
    import pandas as pd

    out = tmp_path / "out"
    result = run("access", "--data", shared_data, "--out", out, "--quiet")
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(out / "access.csv")
    assert len(table) >= 51 and table["position_precision"].notna().all()
    assert "no position" in result.stderr and "--parks FILE" in result.stderr    # the CLI names the dropped parks
    for column in ("minutes_to_ql1a", "minutes_to_kep_station", "minutes_to_dong_dang_border_road_rail",
                   "people_within_30_min", "people_within_45_min", "reason_ct01"):
        assert column in table.columns
    assert pyogrio.read_info(out / "access.gpkg", layer="access")["crs"] == "EPSG:4326"
    # today's network carries CT.01 (opened 2020, indicative alignment): every connected park has a time to it
    assert "no time to ct01" not in result.stdout and "ct01" in result.stdout
    assert table["minutes_to_ct01"].notna().sum() >= 50 and table["network"].str.contains("CT.01").all()


def test_isochrones_grow_with_the_threshold(shared_data, tmp_path):
    out = tmp_path / "out"
    result = run("isochrones", "--data", shared_data, "--from", "kep_station", "--from", "106.19,21.27",
                 "--minutes", "15", "30", "--out", out, "--quiet")
    assert result.returncode == 0, result.stderr
    iso = gpd.read_file(out / "isochrones.gpkg", layer="isochrones")
    assert len(iso) == 4
    for _, group in iso.groupby("name"):
        group = group.sort_values("minutes")
        assert group["area_km2"].is_monotonic_increasing and group["area_km2"].iloc[0] > 1
        assert group["people_within"].is_monotonic_increasing
        small, big = group.geometry.iloc[0], group.geometry.iloc[1]
        # nested up to storage rounding: vertices of the smaller polygon lying on long straight edges of the larger
        # (the buffered CT.01 line) move by ~1e-7° when stored in EPSG:4326
        assert small.difference(big).area < 1e-4 * small.area


def test_isochrones_bad_origin(shared_data, tmp_path):
    out = tmp_path / "out"
    result = run("isochrones", "--data", shared_data, "--from", "atlantis", "--out", out, "--quiet")
    _fails_cleanly(result, out, "atlantis")


def test_scenario_with_the_indicative_ct01(shared_data, tmp_path):
    import pandas as pd

    out = tmp_path / "out"
    indicative = REPO / "layers" / "scenarios" / "ct01-bac-giang-lang-son-indicative.geojson"
    result = run("scenario", indicative, "--network", "2018", "--data", shared_data, "--out", out, "--quiet")
    assert result.returncode == 0, result.stderr
    change = pd.read_csv(out / "scenario.csv")
    assert {"minutes_to_ct01_before", "minutes_to_ct01_after", "minutes_to_ct01_change"} <= set(change.columns)
    assert change["minutes_to_ct01_after"].notna().sum() > 40
    roads = gpd.read_file(out / "scenario.gpkg", layer="planned_roads")
    assert roads.loc[0, "status"] == "indicative"
    assert "trips made longer: 0" in result.stdout


def test_scenario_line_touching_no_road(shared_data, tmp_path):
    from shapely.geometry import LineString

    path = tmp_path / "nowhere.geojson"
    # in the forest of Sơn Động, 11 km from the nearest 2018 road (a line off the region's window is refused earlier)
    gpd.GeoDataFrame({"name": ["Đường trong rừng"], "road_class": ["national"], "design_speed_kmh": [60]},
                     geometry=[LineString([(106.925, 21.556), (106.940, 21.564)])], crs="EPSG:4326").to_file(path)
    out = tmp_path / "out"
    result = run("scenario", path, "--data", shared_data, "--out", out, "--quiet")
    _fails_cleanly(result, out, "nowhere.geojson", "touches no road")


def test_matrix_from_a_csv_of_sites(shared_data, tmp_path):
    import pandas as pd

    sites = tmp_path / "sites.csv"
    sites.write_text("name,lon,lat\nSite A,106.20,21.30\nSite B,106.45,21.35\n", encoding="utf-8")
    out = tmp_path / "out"
    result = run("matrix", "--data", shared_data, "--origins", sites, "--out", out, "--quiet")
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(out / "matrix.csv")
    assert len(table) == 2 * 6 and set(table["origin"]) == {"Site A", "Site B"}
    assert table["minutes"].notna().all()


def test_run_does_everything_in_order(shared_data, tmp_path, monkeypatch):
    """The README's main job: layers, analyses, planner map and published site, all from the real data — on one
    network: each network asked for is built once, and today's and the 2018 network (the scenario's base) share one
    classified base (corridor labels, overlays, interchanges); the seconds of every step in OUT/run_timings.json."""
    from bgplan.cli import main
    from layers.networks import roads, routers

    calls = {"networks": [], "classified": 0}
    build, classify = routers.build_networks, roads.classified_roads

    def counted_build(region, *args, **kwargs):
        calls["networks"].append(kwargs["options"].key)
        return build(region, *args, **kwargs)

    def counted_classify(*args, **kwargs):
        calls["classified"] += 1
        return classify(*args, **kwargs)

    monkeypatch.setattr(routers, "build_networks", counted_build)
    monkeypatch.setattr(roads, "classified_roads", counted_classify)
    out = tmp_path / "out"
    assert main(["run", "--data", str(shared_data), "--out", str(out), "--quiet"]) == 0
    for name in ("layers.gpkg", "access.csv", "access.gpkg", "scenario.csv", "scenario.gpkg", "isochrones.gpkg",
                 "sites.gpkg", "sites_grid.tif", "map.html", "site/index.html", "site/planning.html",
                 "site/indicators.html", "run_timings.json"):
        assert (out / name).is_file(), name
    html = (out / "map.html").read_text(encoding="utf-8")
    assert "OpenStreetMap" in html and "geoBoundaries" in html and "WorldPop" in html
    assert "KCN Vân Trung" in html
    assert len(calls["networks"]) == len(set(calls["networks"])) == 2       # today's, and the scenario's 2018 base
    assert calls["classified"] == 1
    timings = json.loads((out / "run_timings.json").read_text(encoding="utf-8"))
    assert {"layers", "networks", "access", "scenario", "isochrones", "siting", "validation", "planner map",
            "site"} <= set(timings["steps_s"])
    assert all(v >= 0 for v in timings["steps_s"].values())
    forked = {step for steps in timings["in_background"].values() for step in steps}
    assert sum(v for k, v in timings["steps_s"].items() if k not in forked) <= timings["total_s"] + 0.01


def test_matrix_refuses_an_empty_origin_set(tmp_path):
    """No placed park (a region whose open positions are switched off, no portal in the bundle): one line, exit 2."""
    region = tmp_path / "no-positions.yaml"
    region.write_text("extends: bac-giang\nid: no-positions\nparks:\n  positions_file: ''\n  communes_file: ''\n",
                      encoding="utf-8")
    out = tmp_path / "out"
    result = run("matrix", "--region", region, "--out", out, "--quiet", timeout=600)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "no origin" in lines[0] and "--parks FILE" in lines[0]
    assert not (out / "matrix.csv").exists()
    empty = tmp_path / "origins.csv"
    empty.write_text("name,lon,lat\n", encoding="utf-8")
    result = run("matrix", "--origins", empty, "--out", out, "--quiet", timeout=600)
    last = result.stderr.strip().splitlines()[-1]
    assert result.returncode == 2 and last.startswith("error:") and str(empty) in last
