"""A catalogue of hostile inputs (issue 20): each exits with status 2 and ONE line naming the file and the problem.

Run in-process (``bgplan.cli.main``) so the suite stays fast; every case
fails before any network is built, except ``--roads`` (read with the network)
and the few end-to-end checks at the bottom (disk full, formula injection,
a parks file without ``kind``, and a killed ``site`` run in a subprocess).
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

from geo.io import output
from bgplan import cli as plan

REPO = Path(__file__).resolve().parent.parent
LOCAL_CS = 'LOCAL_CS["Site grid",LOCAL_DATUM["Site",0],UNIT["metre",1],AXIS["X",EAST],AXIS["Y",NORTH]]'
PARIS = [(2.30, 48.80), (2.40, 48.90)]


def run_cli(capsys, *args):
    """``plan.py ARGS --quiet`` in this process: (exit status, stdout, error lines)."""
    status = plan.main([*map(str, args), "--quiet"])
    captured = capsys.readouterr()
    return status, captured.out, [line for line in captured.err.splitlines() if line.startswith("error:")]


# ---------------------------------------------------------------------------------------------- file makers

def _points(path, rows, crs="EPSG:4326", **columns):
    gdf = gpd.GeoDataFrame({"name": [f"KCN {i}" for i in range(len(rows))], **columns},
                           geometry=[Point(x, y) for x, y in rows], crs=crs)
    gdf.to_file(path)
    return path


def _text(path, content, encoding="utf-8"):
    path.write_bytes(content.encode(encoding) if isinstance(content, str) else content)
    return path


def _geojson_without_crs(path, gdf, crs_member=None):
    data = json.loads(gdf.to_json(to_wgs84=False))
    data.pop("crs", None)
    if crs_member:
        data["crs"] = {"type": "name", "properties": {"name": crs_member}}
    return _text(path, json.dumps(data))


def _rice(crs="EPSG:4326"):
    return gpd.GeoDataFrame({"name": ["ruộng lúa"]}, geometry=[box(106.15, 21.25, 106.25, 21.32)], crs="EPSG:4326").to_crs(crs)


def _polygons(path, geometry, **columns):
    gpd.GeoDataFrame({"name": ["x"], **columns}, geometry=[geometry], crs="EPSG:4326").to_file(path)
    return path


def _local_shp(path):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)           # pyogrio: "'crs' was not provided"
        gpd.GeoDataFrame({"name": ["KCN A"]}, geometry=[Point(600000, 2350000)]).to_file(path)
    path.with_suffix(".prj").write_text(LOCAL_CS)
    return path


def _no_prj(path):
    _rice("EPSG:32648").to_file(path)
    path.with_suffix(".prj").unlink()
    return path


def _truncated_gpkg(path, tmp):
    full = tmp / "full.gpkg"
    _points(full, [(106.2, 21.3)] * 50)
    return _text(path, full.read_bytes()[:6000])


def _speeds(path, rail_speed):
    text = (REPO / "layers" / "regions" / "models" / "speeds-vn.yaml").read_text(encoding="utf-8")
    return _text(path, text.replace("\n  speed_kmh: 40\n", f"\n  speed_kmh: {rail_speed}\n", 1))


def _observations(path, lon_shift=0.0, route="QL1A"):
    table = pd.read_csv(REPO / "data" / "observed_travel_times.csv")
    table[["origin_lon", "destination_lon"]] += lon_shift
    table["route"] = route
    table.to_csv(path, index=False)
    return path


def _dem(path, crs, west, north, res=0.01):
    import numpy as np
    import rasterio
    from rasterio.transform import from_origin

    with rasterio.open(path, "w", driver="GTiff", width=4, height=4, count=1, dtype="float32", crs=crs,
                       transform=from_origin(west, north, res, res)) as dst:
        dst.write(np.ones((1, 4, 4), "float32"))
    return path


# ---------------------------------------------------------------------------------------------- the catalogue

@dataclass
class Case:
    """One hostile input: ``make(tmp)`` writes the file and returns it; ``args(file)`` the command line."""

    id: str
    make: Callable[[Path], Path]
    args: Callable[[Path], list]
    expected: tuple[str, ...]         # fragments of the one error line (besides the file's name)
    names_file: bool = True


def parks(f):
    return ["access", "--no-rail", "--parks", f]


def site(option):
    return lambda f: ["site", "--cell-size", "2000", "--no-sensitivity", option, f]


CASES = [
    # --- files that are not what they claim
    Case("empty file", lambda t: _text(t / "parks.geojson", b""), parks, ("file is empty",)),
    Case("truncated GeoJSON", lambda t: _text(t / "parks.geojson", '{"type": "FeatureCollection", "features": [{"type": "Fea'),
         parks, ("cannot be read as a vector file",)),
    Case("truncated GeoPackage", lambda t: _truncated_gpkg(t / "parks.gpkg", t), parks, ("cannot be read",)),
    Case("binary garbage", lambda t: _text(t / "parks.gpkg", os.urandom(4096)), parks, ("cannot be read",)),
    Case("UTF-16 CSV", lambda t: _text(t / "parks.csv", "name,lon,lat\nKCN Vân Trung,106.17,21.25\n", "utf-16"), parks,
         ("bad text encoding",)),
    Case("Windows-1258 CSV", lambda t: _text(t / "parks.csv", "name,lon,lat\nKCN Vân Trung,106.17,21.25\n", "cp1258"), parks,
         ("bad text encoding",)),
    Case("a folder", lambda t: (t / "parks.gpkg").mkdir() or t / "parks.gpkg", parks, ("is a folder",)),
    Case("unknown format", lambda t: _text(t / "parks.txt", "KCN A 106.2 21.3"), parks, ("unknown format",)),
    Case("CSV without lon/lat", lambda t: _text(t / "parks.csv", "name,easting,northing\nA,1,2\n"), parks,
         ("no longitude/latitude columns",)),
    Case("CSV with text coordinates", lambda t: _text(t / "parks.csv", "name,lon,lat\nA,106.2,north\n"), parks,
         ("without numeric lon/lat",)),
    Case("header only", lambda t: _text(t / "parks.csv", "name,lon,lat\n"), parks, ("contains no features",)),
    Case("no features", lambda t: _text(t / "parks.geojson", '{"type": "FeatureCollection", "features": []}'), parks,
         ("contains no features",)),
    Case("no geometry at all", lambda t: _text(t / "parks.geojson", '{"type": "FeatureCollection", "features": '
                                                '[{"type": "Feature", "properties": {"name": "A"}, "geometry": null}]}'),
         parks, ("no feature has a geometry",)),
    Case("no name column", lambda t: _points(t / "parks.gpkg", [(106.2, 21.3)]).with_name("parks.gpkg"),
         lambda f: parks(_rename_name(f)), ("no 'name' column",)),
    # --- coordinates and CRS
    Case("engineering CRS (LOCAL_CS)", lambda t: _local_shp(t / "parks.shp"), parks, ("engineering (local) CRS",)),
    Case("shapefile without .prj", lambda t: _no_prj(t / "parks.shp"), parks, ("has no CRS",)),
    Case("unknown EPSG code", lambda t: _geojson_without_crs(t / "parks.geojson", _rice(), "EPSG:99999"), parks,
         ("'EPSG:99999'", "not a known CRS")),
    Case("infinite coordinates", lambda t: _text(t / "parks.csv", "name,lon,lat\nA,inf,21.3\n"), parks, ("infinite or NaN",)),
    Case("1e308 coordinates", lambda t: _text(t / "parks.csv", "name,lon,lat\nA,1e308,21.3\n"), parks, ("far beyond",)),
    Case("swapped lon/lat", lambda t: _text(t / "parks.csv", "name,lon,lat\nA,21.27,106.19\n"), parks, ("look swapped",)),
    Case("a huge park area", lambda t: _text(t / "parks.csv", "name,kind,lon,lat,area_ha\nA,KCN,106.19,21.27,1e308\n"), parks,
         ("outside 0–100,000 ha",)),
    Case("VN-2000 metres declared as degrees", lambda t: _points(t / "parks.gpkg", [(106.19, 21.27)]),
         lambda f: parks(_relabel(f, "EPSG:9214")), ("are not degrees",)),
    Case("parks in France", lambda t: _points(t / "parks.gpkg", PARIS), parks, ("outside the region's window", "2.3, 48.8")),
    # --- the siting layers (issue: rice land in metres without CRS became "given", excluding nothing)
    Case("rice land in metres without CRS", lambda t: _geojson_without_crs(t / "rice.geojson", _rice("EPSG:32648")),
         site("--rice-land"), ("are not degrees", "metres")),
    Case("rice land in France", lambda t: _polygons(t / "rice.gpkg", box(2.3, 48.8, 2.4, 48.9)), site("--rice-land"),
         ("outside the region's window",)),
    Case("--layer in metres without CRS", lambda t: _text(t / "subs.csv", "name,x,y\nTBA 110kV,600000,2350000\n"),
         lambda f: ["site", "--cell-size", "2000", "--layer", f"substations={f}"], ("are not degrees",)),
    Case("--layer far away", lambda t: _points(t / "subs.gpkg", PARIS),
         lambda f: ["site", "--cell-size", "2000", "--layer", f"substations={f}"], ("outside the region's window",)),
    Case("settlements in a local grid", lambda t: _local_shp(t / "villages.shp"), site("--settlements"), ("engineering",)),
    Case("flood layer with an unknown EPSG", lambda t: _geojson_without_crs(t / "flood.geojson", _rice(), "EPSG:99999"),
         site("--flood"), ("not a known CRS",)),
    Case("DEM far away", lambda t: _dem(t / "dem.tif", "EPSG:4326", 9.5, 47.2), site("--dem"), ("outside the region's window",)),
    Case("DEM in a local grid", lambda t: _dem(t / "dem.tif", LOCAL_CS, 0, 100, 1), site("--dem"), ("engineering",)),
    Case("DEM of zero bytes", lambda t: _text(t / "dem.tif", b""), site("--dem"), ("cannot be read as a raster",)),
    Case("--layer without NAME=", lambda t: t / "subs.gpkg", lambda f: ["site", "--layer", str(f)], ("give NAME=FILE",),
         names_file=False),
    # --- planned roads, observations, origins
    Case("scenario in France", lambda t: _polygons(t / "ring.geojson", LineString(PARIS), road_class=["expressway"]),
         lambda f: ["layers", "--scenario", f], ("outside the region's window",)),
    Case("observations elsewhere", lambda t: _observations(t / "observed.csv", lon_shift=-100), lambda f: ["validate", "--observed", f],
         ("observation end points lie outside",)),
    Case("origins with swapped columns", lambda t: _text(t / "sites.csv", "name,lon,lat\nA,21.3,106.2\n"),
         lambda f: ["matrix", "--origins", f], ("look swapped",)),
    Case("destinations far away", lambda t: _points(t / "ports.gpkg", PARIS), lambda f: ["matrix", "--destinations", f],
         ("outside the region's window",)),
    # --- speed models (the line must name the file)
    Case("rail speed as text", lambda t: _speeds(t / "speeds.yaml", "fast"), lambda f: ["access", "--speeds", f],
         ("rail.speed_kmh: 'fast' is not a number",)),
    Case("rail speed -40", lambda t: _speeds(t / "speeds.yaml", -40), lambda f: ["access", "--speeds", f],
         ("rail.speed_kmh: -40 is outside",)),
    Case("rail speed 0", lambda t: _speeds(t / "speeds.yaml", 0), lambda f: ["access", "--speeds", f], ("rail.speed_kmh: 0 is outside",)),
    Case("speed model not YAML", lambda t: _text(t / "speeds.yaml", "classes: [unclosed\n"), lambda f: ["access", "--speeds", f],
         ("not a readable YAML file",)),
    Case("region file not YAML", lambda t: _text(t / "region.yaml", "id: x\n  bad: indent: here\n"), lambda f: ["layers", "--region", f],
         ("not a readable YAML file",)),
    # --- sizes that need --allow-large
    Case("10,001 parks", lambda t: _text(t / "parks.csv", "name,lon,lat\n" + "KCN A,106.2,21.3\n" * 10_001), parks,
         ("10,001 features", "--allow-large", "GB of memory")),
    Case("a million sensitivity runs", lambda t: t, lambda f: ["sensitivity", "--runs", "1000000"],
         ("--runs 1,000,000", "--allow-large", "4 hours"), names_file=False),
    Case("an origin in metres", lambda t: t, lambda f: ["isochrones", "--from", "600000,2350000"], ("--from", "are not degrees"),
         names_file=False),
    # --- the output folder
    Case("--out names an existing file", lambda t: _text(t / "out.txt", "not a folder"), lambda f: ["site", "--out", f],
         ("is a file, not a folder",)),
]


def _rename_name(path):
    gdf = gpd.read_file(path).rename(columns={"name": "label"})
    out = path.with_name("parks_no_name.gpkg")
    gdf.to_file(out)
    return out


def _relabel(path, true_crs):
    """The classic mistake: coordinates in ``true_crs`` (metres) saved with EPSG:4326 declared."""
    gdf = gpd.read_file(path).to_crs(true_crs).set_crs("EPSG:4326", allow_override=True)
    out = path.with_name("parks_vn2000_as_degrees.gpkg")
    gdf.to_file(out)
    return out


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input_gets_one_line_and_status_2(case, shared_data, tmp_path, capsys):
    file = case.make(tmp_path)
    args = case.args(file)
    out = tmp_path / "out"
    if "--out" not in args:
        args = [*args, "--out", out]
    status, _, errors = run_cli(capsys, *args, "--data", shared_data)
    assert status == 2, errors
    assert len(errors) == 1, errors
    line = errors[0]
    given = [Path(str(a).rpartition("=")[2]).name for a in args if str(tmp_path) in str(a) and Path(str(a)) != out]
    assert not case.names_file or any(name in line for name in given), line
    for fragment in case.expected:
        assert fragment in line, line
    assert not out.exists() or not any(out.iterdir())          # nothing written, no temporaries


def test_option_values_out_of_range_are_usage_errors(capsys):
    with pytest.raises(SystemExit) as info:
        plan.main(["isochrones", "--minutes", "-5"])
    assert info.value.code == 2 and "give a time above 0" in capsys.readouterr().err


def test_an_unanticipated_error_is_still_one_line(shared_data, tmp_path, capsys, monkeypatch):
    """A case no check knows yet: one line and status 1 (the traceback with --verbose), OUT left as it was."""
    def broken(args):
        output.write_csv(pd.DataFrame({"run": [2]}), args.out / "sites.csv")
        raise ValueError("buffer distance must be finite")

    monkeypatch.setattr(plan, "cmd_site", broken)
    monkeypatch.setattr(plan, "_window_of", lambda args: None)
    out = tmp_path / "out"
    status, _, errors = run_cli(capsys, "site", "--data", shared_data, "--out", out)
    assert status == 1 and len(errors) == 1 and "unexpected ValueError: buffer distance must be finite" in errors[0]
    assert not out.exists()
    with pytest.raises(ValueError):
        plan.main(["site", "--data", str(shared_data), "--out", str(out), "--verbose"])


def test_ctrl_c_leaves_out_as_it_was(shared_data, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "sites.csv").write_text("run 1")

    def interrupted(args):
        output.write_csv(pd.DataFrame({"run": [2]}), args.out / "sites.csv")
        raise KeyboardInterrupt

    monkeypatch.setattr(plan, "cmd_site", interrupted)
    monkeypatch.setattr(plan, "_window_of", lambda args: None)
    status, _, errors = run_cli(capsys, "site", "--data", shared_data, "--out", out)
    assert status == 130 and errors == ["error: interrupted; OUT was left as it was"]
    assert [(p.name, p.read_text()) for p in out.iterdir()] == [("sites.csv", "run 1")]


def test_roads_overlay_in_france_is_refused(shared_data, tmp_path, capsys):
    """Issue 20: an overlay in France gave exit 0 and a network_note saying it was used."""
    roads = tmp_path / "roads_fr.geojson"
    gpd.GeoDataFrame({"ref": ["QL1A"], "highway": ["trunk"]}, geometry=[LineString(PARIS)], crs="EPSG:4326").to_file(roads)
    status, _, errors = run_cli(capsys, "validate", "--roads", roads, "--data", shared_data, "--out", tmp_path / "out")
    assert status == 2 and len(errors) == 1
    assert "roads_fr.geojson" in errors[0] and "outside the region's window" in errors[0]


def test_read_only_out_is_refused_before_any_work(shared_data, tmp_path, capsys, monkeypatch):
    out = tmp_path / "readonly"
    out.mkdir()
    started = []
    monkeypatch.setattr(plan, "_window_of", lambda args: started.append(1))

    def refuse(*args, **kwargs):                  # as a read-only disk does (root ignores chmod, so simulate it)
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(output.tempfile, "mkstemp", refuse)
    status, _, errors = run_cli(capsys, "site", "--data", shared_data, "--out", out)
    assert status == 2 and len(errors) == 1 and "readonly: the output folder is not writable (Read-only" in errors[0]
    assert not started                            # refused before the region was even read


def test_stale_temporaries_are_removed_by_the_next_run(shared_data, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "sites.gpkg").write_text("a finished output")
    leftovers = [out / ".sites-3kx9a0b1.gpkg", out / ".sites-3kx9a0b1.gpkg-journal", out / ".site-q8w7e6r5",
                 out / ".bgplan-run-4242-abcdefgh"]
    leftovers[0].write_text("half")
    leftovers[1].write_text("journal")
    leftovers[2].mkdir()
    (leftovers[2] / "index.html").write_text("<html>unpublished</html>")
    leftovers[3].mkdir()
    (leftovers[3] / ".lock").write_text("4242")
    status, _, _ = run_cli(capsys, "site", "--rice-land", tmp_path / "missing.gpkg", "--data", shared_data, "--out", out)
    assert status == 2
    assert [p.name for p in out.iterdir()] == ["sites.gpkg"]


# ---------------------------------------------------------------------------------------------- end to end

def test_parks_without_kind_keep_their_names(shared_data, tmp_path, capsys):
    """Issue 20: a parks file without a 'kind' column renamed every park 'nan <name>'."""
    path = _points(tmp_path / "parks.geojson", [(106.17, 21.25), (106.12, 21.22)])
    gpd.read_file(path).assign(name=["Vân Trung", "Quang Châu"]).to_file(path)
    status, _, errors = run_cli(capsys, "layers", "--parks", path, "--data", shared_data, "--out", tmp_path / "out")
    assert status == 0, errors
    names = gpd.read_file(tmp_path / "out" / "layers.gpkg", layer="industrial_parks")["name"].tolist()
    assert sorted(names) == ["Quang Châu", "Vân Trung"]


@pytest.fixture(scope="module")
def validated(shared_data, tmp_path_factory):
    """One `validate` run (the module's only network build) whose observations carry spreadsheet formulas in text cells."""
    tmp = tmp_path_factory.mktemp("validate")
    observed = _observations(tmp / "observed.csv", route='=HYPERLINK("http://evil.example","click")')
    table = pd.read_csv(observed)
    table.loc[0, "origin"] = "@SUM(1+1)"
    table.to_csv(observed, index=False)
    out = tmp / "out"
    status = plan.main(["validate", "--observed", str(observed), "--data", str(shared_data), "--out", str(out), "--quiet"])
    return status, observed, out


def test_formulas_in_a_csv_for_spreadsheets_are_neutralised(validated):
    status, _, out = validated
    assert status == 0
    table = pd.read_csv(out / "validation.csv")
    assert table["route"].str.startswith("'=HYPERLINK(").all()
    assert table["origin"].iloc[0] == "'@SUM(1+1)"
    assert pd.api.types.is_numeric_dtype(table["km"]) and pd.api.types.is_numeric_dtype(table["model_minutes"])


def test_a_full_disk_leaves_the_previous_outputs(shared_data, tmp_path, capsys, monkeypatch):
    """Issue 20: a full disk left a new access.csv beside an old access.gpkg. Now: one line, the old set intact."""
    out = tmp_path / "out"
    out.mkdir()
    for name in ("layers.gpkg", "population.tif", "layers_summary.json"):
        (out / name).write_bytes(b"previous run")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real = Path.write_text

    def full_disk(self, *args, **kwargs):        # layers.gpkg and population.tif are written, then the disk fills up
        if self.suffix == ".json":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full_disk)
    status, _, errors = run_cli(capsys, "layers", "--data", shared_data, "--out", out)
    assert status == 2 and len(errors) == 1, errors
    assert f"{out / 'layers_summary.json'}: cannot be written: the disk is full" in errors[0]
    assert ".bgplan-run" not in errors[0]                          # OUT's path, not the staging folder's
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


KILLABLE = """
import sys, time
sys.path.insert(0, {repo!r})
from geo.io import output
real = output.write_csv
def slow(frame, path, **kw):                 # write the CSV, then stall with the set half-written
    real(frame, path, **kw)
    print("HALF-WRITTEN", flush=True)
    time.sleep(120)
output.write_csv = slow
from bgplan.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("moment", ["while working", "while writing"])
def test_a_killed_site_run_leaves_out_consistent(shared_data, tmp_path, moment):
    """SIGTERM in the middle of `site`: OUT keeps the previous set, no temporaries, status 143."""
    out = tmp_path / "out"
    out.mkdir()
    previous = {"sites.gpkg": b"run 1", "sites.csv": b"run 1", "sites_summary.json": b"run 1", "suitability.tif": b"run 1"}
    for name, content in previous.items():
        (out / name).write_bytes(content)
    args = ["site", "--cell-size", "2000", "--no-sensitivity", "--data", str(shared_data), "--out", str(out), "--quiet"]
    if moment == "while writing":
        command = [sys.executable, "-c", KILLABLE.format(repo=str(REPO)), *args]
    else:
        command = [sys.executable, str(REPO / "scripts" / "plan.py"), *args]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    try:
        if moment == "while writing":
            assert proc.stdout.readline().strip() == "HALF-WRITTEN"
            assert any(p.name.startswith(".bgplan-run-") for p in out.iterdir())   # the new CSV sits in the staging folder
        else:
            deadline = time.monotonic() + 120
            while not any(p.name.startswith(".bgplan-run-") for p in out.iterdir()):
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.05)
            time.sleep(1.0)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "stopped by SIGTERM; OUT was left as it was" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == previous


def test_a_layer_given_that_excludes_nothing_says_so(caplog):
    """Rice land beside the grid (inside the window, outside the area): given, yet it excludes no cell — reported."""
    from geo.siting.grid import make_grid
    from layers.siting.exclusions import exclusion_layers

    area = gpd.GeoSeries([box(106.10, 21.20, 106.20, 21.30)], crs="EPSG:4326").to_crs("EPSG:32648").iloc[0]
    grid = make_grid(area, 1000, "EPSG:32648")
    beside = gpd.GeoDataFrame(geometry=[box(106.03, 21.15, 106.06, 21.17)], crs="EPSG:4326")
    inside = gpd.GeoDataFrame(geometry=[box(106.12, 21.22, 106.14, 21.24)], crs="EPSG:4326")
    off = {"region_edge": False, "parks": False, "urban": False, "water_areas": False, "rivers": False}
    spec = {"use": "exclude", "buffer_m": 0}
    _, report = exclusion_layers(None, grid, off, water_layer=gpd.GeoDataFrame({"kind": []}, geometry=[], crs="EPSG:4326"),
                                 constraints={"rice_land": (beside, spec), "flood": (inside, spec)})
    assert report["rice_land"]["given"] and report["rice_land"]["cells"] == 0 and report["rice_land"]["excludes_nothing"]
    assert "excludes no cell of the region" in report["rice_land"]["note"]
    assert "rice_land: the layer given excludes no cell" in caplog.text
    assert report["flood"]["cells"] > 0 and not report["flood"]["excludes_nothing"]


def test_map_pages_disclose_third_party_tiles():
    """Every map page loads base-map tiles from tile.openstreetmap.org: the attribution line says so."""
    import folium

    from maps.elements import TILE_NOTICE, MapSetup, safe_json
    from maps.style import ATTRIBUTION

    m = folium.Map(tiles=None)
    MapSetup(ATTRIBUTION).add_to(m)
    html = m.get_root().render()
    assert "tile.openstreetmap.org" in TILE_NOTICE and safe_json(TILE_NOTICE)[1:-1] in html
