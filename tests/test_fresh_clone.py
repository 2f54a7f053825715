"""A new user's first steps: clone, run the main job with no --data, install as a tool.

The clone is made from this repository's committed HEAD into a temporary
folder with no ``../shared`` beside it, an empty HOME and ``BGPLAN_DATA``
unset, so the main job can only use the open-data bundle the repository
carries. CI runs this on every submission (it takes 1–2 minutes).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _clean_env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("BGPLAN_DATA", "BGPLAN_CACHE", "PYTHONPATH")}
    env.update(HOME=str(home), PYTHONDONTWRITEBYTECODE="1")
    return env


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    if not (REPO / ".git").exists():
        pytest.fail("tests/test_fresh_clone.py needs the repository's git history")
    root = tmp_path_factory.mktemp("fresh")
    target = root / "bgplan"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(REPO), str(target)], check=True)
    assert not (root / "shared").exists()
    return target


def test_main_job_runs_on_a_fresh_clone_with_the_bundled_data(clone, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "scripts/plan.py", "run", "--quiet", "--out", str(out)], cwd=clone,
                          env=_clean_env(home), capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    for name in ("layers.gpkg", "layers_summary.json", "access.csv", "scenario.csv", "isochrones.gpkg", "sites.gpkg",
                 "map.html", "site/index.html"):
        assert (out / name).exists(), name
    summary = json.loads((out / "layers_summary.json").read_text(encoding="utf-8"))
    assert Path(summary["data_dir"]).resolve() == (clone / "data").resolve()
    assert summary["boundaries"] == "open" and summary["layers"]["districts"]["features"] == 10
    _check_parks(out, summary)
    # siting beside the other analyses, the site beside the planner map: each in a forked child
    timings = json.loads((out / "run_timings.json").read_text(encoding="utf-8"))
    assert timings["in_background"] == {"siting": ["siting", "write siting"], "site": ["site"]}
    # nothing in HOME but the tool's own cache folder (~/.cache/bgplan: routing hierarchies)
    assert {p.relative_to(home).as_posix() for p in home.rglob("*") if p.is_dir() and p.parent == home / ".cache"} <= {".cache/bgplan"}
    assert {p.name for p in home.iterdir()} <= {".cache"}


def test_the_main_job_in_one_process_writes_the_same_answers(clone, tmp_path):
    """BGPLAN_OVERLAP=0 (every step in this process, one after the other) against the default (siting and the site
    in forked children): the same tables, sites, grids and published data."""
    import pandas as pd
    import rasterio

    outs = {}
    for overlap in ("1", "0"):
        home = tmp_path / f"home{overlap}"
        home.mkdir()
        outs[overlap] = out = tmp_path / f"out{overlap}"
        env = {**_clean_env(home), "BGPLAN_OVERLAP": overlap}
        done = subprocess.run([sys.executable, "scripts/plan.py", "run", "--quiet", "--out", str(out)], cwd=clone,
                              env=env, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr[-3000:]
    timings = json.loads((outs["0"] / "run_timings.json").read_text(encoding="utf-8"))
    assert timings["in_background"] == {} and "wait for siting" not in timings["steps_s"]
    for name in ("access.csv", "scenario.csv", "sites.csv", "sites_by_district.csv", "validation.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(outs["1"] / name), pd.read_csv(outs["0"] / name), obj=name)
    for name in ("sites_grid.tif", "suitability.tif"):
        with rasterio.open(outs["1"] / name) as a, rasterio.open(outs["0"] / name) as b:
            assert (a.read() == b.read()).all() and a.transform == b.transform, name
    data = sorted(p.name for p in (outs["1"] / "site" / "data").glob("*.geojson"))
    assert data == sorted(p.name for p in (outs["0"] / "site" / "data").glob("*.geojson")) and len(data) > 10
    for name in data:
        a = json.loads((outs["1"] / "site" / "data" / name).read_text(encoding="utf-8"))
        b = json.loads((outs["0"] / "site" / "data" / name).read_text(encoding="utf-8"))
        assert a == b, name


def _check_parks(out: Path, summary: dict) -> None:
    """Parks from open data only: ≥ 25 placed with precision and source, minutes to Kép, named on the map; the
    banner on every map page names the unplaced ones; no position within 1 m of a portal point."""
    import geopandas as gpd
    import pandas as pd

    parks_summary = summary["layers"]["industrial_parks"]
    assert "no portal coordinate" in parks_summary["positions"]
    parks = gpd.read_file(out / "layers.gpkg", layer="industrial_parks")
    assert len(parks) >= 25
    assert parks["position_precision"].notna().all() and parks["position_source"].notna().all()
    assert "portal_marker" not in set(parks["position_precision"])
    access = pd.read_csv(out / "access.csv")
    assert access["minutes_to_kep_station"].notna().sum() >= 25
    assert access["position_precision"].notna().all()
    html = (out / "map.html").read_text(encoding="utf-8")
    assert all(name in html for name in parks["name"])
    missing = parks_summary["without_position"]
    assert missing and f"<b>{len(missing)}</b>" in html and "--parks FILE" in html
    for page in (out / "site").glob("*.html"):
        assert page.read_text(encoding="utf-8").count('id="parks-banner"') == 1, page.name
    portal_file = REPO.parent / "shared" / "data" / "bacgiang_industrial_zones_bbox03.geojson"
    if portal_file.exists():    # the unlicensed portal points, read here only to prove none was copied
        portal = gpd.read_file(portal_file).to_crs("EPSG:32648")
        near = gpd.sjoin_nearest(parks.to_crs("EPSG:32648")[["geometry"]], portal[["geometry"]], distance_col="d")
        assert (near["d"] > 1.0).all()


def test_communes_of_the_merged_province_get_a_location(clone, tmp_path):
    """'communes --region bac-ninh-2025' on a fresh clone: ≥ 90 of the 99 units have a location, each with its source."""
    import pandas as pd

    home = tmp_path / "home"
    home.mkdir()
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "scripts/plan.py", "communes", "--region", "bac-ninh-2025", "--quiet",
                           "--out", str(out)], cwd=clone, env=_clean_env(home), capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    table = pd.read_csv(out / "communes.csv")
    assert len(table) == 99
    located = table["location"].str.startswith("point") | table["location"].str.startswith("polygon")
    assert located.sum() >= 90
    assert table.loc[located, "location"].str.contains("OSM|OpenStreetMap").all()    # every location names its source
    assert (table["access_method"].str.startswith("nearest cells")).sum() >= 90


def _venv_seeing_this_environment(venv: Path) -> Path:
    """A new virtualenv whose own site-packages come first, then the packages of the interpreter running the tests
    (a .pth file naming its site-packages): works from a plain virtualenv, where ``--system-site-packages`` would
    show the base interpreter's packages instead of the virtualenv's. Returns the venv's python."""
    import site
    import sysconfig

    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    ours = [*site.getsitepackages(), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"],
            *(p for p in sys.path if Path(p).name in ("site-packages", "dist-packages"))]      # and those of .pth files
    if site.ENABLE_USER_SITE and Path(site.getusersitepackages()).is_dir():
        ours.append(site.getusersitepackages())
    lines = dict.fromkeys(str(Path(p).resolve()) for p in ours if Path(p).is_dir() and Path(p).resolve() != REPO)
    (Path(purelib) / "_running_interpreter.pth").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return python


@pytest.fixture(scope="module")
def installed(clone, tmp_path_factory) -> Path:
    """``pip install .`` of the clone (no dependencies: those of the running interpreter are seen) into a new
    virtualenv; returns the venv."""
    venv = tmp_path_factory.mktemp("install") / "venv"
    python = _venv_seeing_this_environment(venv)
    done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps",
                           "--disable-pip-version-check", str(clone)], capture_output=True, text=True, timeout=600,
                          cwd=venv.parent)
    assert done.returncode == 0, done.stderr[-3000:]
    return venv


def test_pip_install_gives_a_working_bgplan_command(installed, tmp_path):
    venv, python = installed, installed / "bin" / "python"
    env = _clean_env(tmp_path)
    helped = subprocess.run([str(venv / "bin" / "bgplan"), "--help"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert helped.returncode == 0 and helped.stdout.startswith("usage: bgplan") and "SUBCOMMAND" in helped.stdout
    # the installed package finds the bundle installed beside it, not the clone's
    where = subprocess.run([str(python), "-c", "from layers.region import DEFAULT_DATA_DIR as d; print(d, (d / 'catalogue.yaml').exists())"],
                           capture_output=True, text=True, env=env, cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    path, exists = where.stdout.split()
    assert exists == "True" and Path(path).is_relative_to(venv)


def test_import_bgplan_from_the_installed_package(installed, tmp_path):
    """Issue 22: from a folder outside the checkout, with the package installed: ``bgplan.access(r)`` gives a row
    per placed park with minutes to Kép; ``bgplan.__all__`` is the public API."""
    python = installed / "bin" / "python"
    code = """
import json, sys
import bgplan
r = bgplan.load_region("bac-giang", data_dir=sys.argv[1])
t = bgplan.access(r, options=bgplan.AccessOptions(rail=False, ranges=False))
from layers.parks import region_parks
print(json.dumps({"file": bgplan.__file__, "all": bgplan.__all__, "type": type(t).__name__, "rows": len(t),
                  "placed": len(region_parks(r)), "names": t["name"].tolist(),
                  "kep": int(t["minutes_to_kep_station"].notna().sum()), "crs": t.crs.to_epsg()}))
"""
    bundle = next((installed / "share" / "bgplan").glob("data"))
    done = subprocess.run([str(python), "-c", code, str(bundle)], capture_output=True, text=True, env=_clean_env(tmp_path),
                          cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(got["file"]).is_relative_to(installed)           # the installed package, not the checkout
    assert {"load_region", "access", "isochrones", "matrix", "scenario", "site", "sensitivity", "communes", "validate",
            "run"} <= set(got["all"])
    assert got["type"] == "GeoDataFrame" and got["crs"] == 4326
    assert got["rows"] == got["placed"] >= 25 and len(set(got["names"])) == got["rows"]
    assert got["kep"] >= 25
