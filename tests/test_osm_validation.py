"""The online path on real tags: OSM extract → access network → validate (Liechtenstein 2013).

The observations (tests/fixtures/liechtenstein/observed_drive_distances.csv) are road
distances measured independently with pyrosm + networkx on the same extract
(make_observations.py there). They test that one-way streets are respected (against the
flow is longer, also where a point sits on a one-way edge) and that link roads are used.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from shapely.geometry import LineString

from geo.routing.access import attach_points
from geo.routing.router import Router
from bgplan.cli import main

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "liechtenstein"


def test_a_point_on_a_one_way_edge_cannot_drive_against_the_flow():
    # one-way 1 → 2 (100 s), and a slow way back 2 → 3 → 1 (1000 s)
    r = Router.from_arrays([1, 2, 3], x=[0, 1000, 500], y=[0, 0, 500], u=[1, 2, 3], v=[2, 3, 1],
                           weight=[100.0, 500.0, 500.0], directed=True)
    lines = [LineString([(0, 0), (1000, 0)]), LineString([(1000, 0), (500, 500)]), LineString([(500, 500), (0, 0)])]
    r2, idx, _, _ = attach_points(r, lines, [1, 2, 3], [2, 3, 1], [100.0, 500.0, 500.0], [250, 750], [0, 250],
                                  access_speed_kmh=20)    # a on 1 → 2, b on 2 → 3 (both on the line)
    a, b = idx
    forward = r2.travel_times([a], [b])[0][0]
    backward = r2.travel_times([b], [a])[0][0]
    assert np.isclose(forward, 75 + 250)             # rest of 1 → 2, then half of 2 → 3
    assert np.isclose(backward, 250 + 500 + 25)      # on to 3, round to 1, then a quarter of 1 → 2; never back along it


def test_validate_on_the_liechtenstein_extract(liechtenstein_pbf, tmp_path):
    common = ["--region", str(FIXTURE / "region.yaml"), "--data", str(FIXTURE), "--osm", str(liechtenstein_pbf),
              "--quiet", "--out", str(tmp_path)]
    assert main(["validate", *common]) == 0
    table = pd.read_csv(tmp_path / "validation.csv")
    observed = pd.read_csv(FIXTURE / "observed_drive_distances.csv")
    assert table["origin"].tolist() == observed["origin"].tolist()          # one row per observation, same order
    assert table["network"].str.contains("OSM extract").all()
    assert table["model_km"].notna().all() and table["minutes_error"].isna().all()   # distance-only rows
    # one-way streets: with the flow equals the independent distance; against it the route is longer
    for street in ("Poststrasse", "Fabrikweg"):
        mine = table[table["route"].str.contains(street)]
        with_flow = mine[mine["route"].str.contains("with the flow")].iloc[0]
        against = mine[mine["route"].str.contains("against the flow")].iloc[0]
        assert abs(with_flow["km_error"]) < 0.01, street
        assert against["model_km"] > with_flow["model_km"] * 1.1, street
    # routes the independent graph sends over the slip road also use it in the model
    links = table[observed["uses_link"].to_numpy()]
    assert len(links) == 4 and links["route_km_by_class"].str.contains(" link ").all()
    assert links["km_error"].abs().max() < 0.01
    summary = json.loads((tmp_path / "validation.json").read_text(encoding="utf-8"))
    assert summary["observations"] == len(observed) and summary["median_abs_km_error"] <= 0.15
    assert summary["observed_file"].endswith("observed_drive_distances.csv")
