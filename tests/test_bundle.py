"""The open-data bundle (data/): complete for the main job, what the build script makes, licences respected."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest

from geo.io.bundle import build_bundle, check_bundle, content_digest, load_catalogue
from geo.errors import InputError, WithheldDataError
from layers.region import BUNDLED_DATA_DIR, load_region


def _named_files(config: dict) -> set[str]:
    named = set()

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if (key == "file" or key.endswith("_file")) and isinstance(value, str):
                    named.add(value)
                elif key == "merge_district_files":
                    named.update(value.values())
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({k: v for k, v in config.items() if k != "boundary_gadm"})
    return named


def test_committed_bundle_matches_its_manifest():
    assert check_bundle(BUNDLED_DATA_DIR) == []


def test_bundle_is_what_the_script_builds(shared_data, tmp_path):
    catalogue = load_catalogue(BUNDLED_DATA_DIR / "catalogue.yaml")
    manifest = build_bundle(shared_data, tmp_path / "b", catalogue)
    committed = json.loads((BUNDLED_DATA_DIR / "MANIFEST.json").read_text(encoding="utf-8"))
    assert {f: m["digest"] for f, m in manifest.items()} == {f: m["digest"] for f, m in committed.items()}


@pytest.mark.parametrize("region_name", ["bac-giang", "bac-ninh-2025"])
def test_bundle_holds_every_file_the_regions_name_or_withholds_it(region_name):
    region = load_region(region_name, data_dir=BUNDLED_DATA_DIR)
    catalogue = load_catalogue(BUNDLED_DATA_DIR / "catalogue.yaml")
    carried = {e.file for e in catalogue.entries}
    named = _named_files(region.config)
    assert named, "no file named by the region"
    # optional layers fetched on demand (land constraints: 'plan.py fetch --only …') are used only when present
    from layers.sources import load_catalogue as fetch_catalogue

    on_demand = {s.file for s in fetch_catalogue() if s.optional}
    assert named <= carried | set(catalogue.withheld) | on_demand, named - carried - set(catalogue.withheld) - on_demand


def test_nothing_restricted_is_carried():
    catalogue = load_catalogue(BUNDLED_DATA_DIR / "catalogue.yaml")
    files = {p.relative_to(BUNDLED_DATA_DIR).as_posix() for p in BUNDLED_DATA_DIR.rglob("*") if p.is_file()}
    assert not files & set(catalogue.withheld)
    assert {"bacgiang_industrial_zones_bbox03.geojson", "bacgiang_admin.gpkg"} <= set(catalogue.withheld)
    assert all(e.redistribution in ("allowed", "unknown") and e.source and e.licence for e in catalogue.entries)
    # every carried file is in the catalogue (nothing slips in without a licence)
    assert files - {"catalogue.yaml", "MANIFEST.json", "SOURCES.md"} == {e.file for e in catalogue.entries}


def test_bundle_is_compact():
    total = sum(p.stat().st_size for p in BUNDLED_DATA_DIR.rglob("*") if p.is_file())
    assert total < 40e6
    edges = gpd.read_file(BUNDLED_DATA_DIR / "bacgiang_roads_osm2018_bbox03.gpkg", layer="edges")
    assert list(edges.columns) == ["edge_id", "u", "v", "length_m", "in_province", "geometry"]
    assert len(edges) == 89739


def test_withheld_file_is_a_clear_error():
    region = load_region("bac-giang", data_dir=BUNDLED_DATA_DIR)
    with pytest.raises(WithheldDataError, match="not carried by the open-data bundle.*--parks FILE"):
        region.path("parks", "points_file")
    with pytest.raises(InputError, match="no 'boundary_gadm'|not carried"):
        load_region("bac-giang", data_dir=BUNDLED_DATA_DIR, boundaries="gadm").path("boundary")


def test_parks_come_from_open_positions_in_the_bundle():
    """The bundle carries open positions (no portal coordinate): parks are placed, each with its precision class."""
    from layers.parks import industrial_parks

    parks = industrial_parks(load_region("bac-giang", data_dir=BUNDLED_DATA_DIR))
    assert len(parks) >= 25 and parks.crs.to_epsg() == 4326
    summary = parks.attrs["summary"]
    assert "no portal coordinate" in summary["positions"]
    assert 0 < len(summary["without_position"]) < summary["sourced_parks"]


def test_project_compiled_files_are_copied_as_they_are(tmp_path):
    """Entries with origin: project have no copy in the source folder: the bundle's own file is the original."""
    catalogue = load_catalogue(BUNDLED_DATA_DIR / "catalogue.yaml")
    compiled = [e for e in catalogue.entries if e.origin == "project"]
    assert {e.file for e in compiled} >= {"communes_2025_points_open.csv", "industrial_parks_communes.csv"}
    from geo.io.bundle import _build_one

    for entry in compiled:
        _build_one(entry, tmp_path / "no-such-source", tmp_path / "b" / entry.file, catalogue_dir=BUNDLED_DATA_DIR)
        assert content_digest(tmp_path / "b" / entry.file) == content_digest(BUNDLED_DATA_DIR / entry.file)


def test_catalogue_refuses_a_restricted_file(tmp_path):
    bad = tmp_path / "catalogue.yaml"
    bad.write_text("files:\n- {file: a.gpkg, source: GADM, licence: GADM, redistribution: not allowed}\n", encoding="utf-8")
    with pytest.raises(InputError, match="may not be redistributed"):
        load_catalogue(bad)
    bad.write_text("files:\n- {file: a.gpkg, source: x}\n", encoding="utf-8")
    with pytest.raises(InputError, match="lacks licence, redistribution"):
        load_catalogue(bad)


def test_digest_sees_a_changed_value(tmp_path):
    src = tmp_path / "a.gpkg"
    gdf = gpd.GeoDataFrame({"v": [1, 2]}, geometry=gpd.points_from_xy([0, 1], [0, 1]), crs="EPSG:4326")
    gdf.to_file(src, layer="p")
    before = content_digest(src)
    gdf.to_file(src, layer="p")  # same data, new timestamps
    assert content_digest(src) == before
    gdf.assign(v=[1, 3]).to_file(src, layer="p")
    assert content_digest(src) != before
