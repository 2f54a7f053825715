"""A second region is a YAML file and data, not code: Liechtenstein from a real OSM extract.

The region file and the municipalities of ``tests/fixtures/liechtenstein/`` plus
the real 2013 OSM extract of ``../shared/data/osm_samples`` run ``layers`` →
``access`` → ``map`` through the command line, with no Bắc Giang fact leaking in.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd

from bgplan.cli import main

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "liechtenstein"


def test_liechtenstein_layers_access_map(liechtenstein_pbf, tmp_path):
    common = ["--region", str(FIXTURE / "region.yaml"), "--data", str(FIXTURE), "--osm", str(liechtenstein_pbf),
              "--quiet", "--out", str(tmp_path)]
    assert main(["layers", *common]) == 0
    summary = json.loads((tmp_path / "layers_summary.json").read_text(encoding="utf-8"))
    assert summary["region"] == "liechtenstein-test"
    assert set(summary["not_configured"]) == {"logistics", "water", "urban", "population"}
    districts = gpd.read_file(tmp_path / "layers.gpkg", layer="districts")
    assert len(districts) == 11 and "Vaduz" in set(districts["district"])
    parks = gpd.read_file(tmp_path / "layers.gpkg", layer="industrial_parks")
    assert len(parks) > 5 and (parks["source"] == "OpenStreetMap landuse=industrial").all()
    assert summary["licences"]["industrial_parks"]["redistribution"] == "allowed"

    assert main(["access", *common]) == 0
    access = pd.read_csv(tmp_path / "access.csv")
    assert len(access) == len(parks)
    assert access["minutes_to_vaduz"].between(0, 30).all() and access["minutes_to_schaan_station"].notna().all()
    assert access["network"].str.contains("OSM extract").all()
    assert set(access["district"].dropna()) <= set(districts["district"])

    assert main(["map", "--quiet", "--out", str(tmp_path)]) == 0        # map draws what OUT holds: no region options
    page = (tmp_path / "map.html").read_text(encoding="utf-8")
    assert "Liechtenstein" in page
    for foreign in ("Bắc Giang", "Kép", "OSM 2018"):
        assert foreign not in page, foreign
