"""A batch of planned-road scenarios ranked by what they change (three CT.01 test variants, real network)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geo.errors import InputError

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "scenarios"


def test_effects_count_existing_targets_only():
    from layers.scenario_batch import scenario_effects

    change = pd.DataFrame({
        "name": ["A", "B"],
        "minutes_to_ql1a_before": [20.0, np.nan], "minutes_to_ql1a_after": [12.0, 5.0], "minutes_to_ql1a_change": [-8.0, np.nan],
        "minutes_to_ct01_before": [np.nan, np.nan], "minutes_to_ct01_after": [7.0, np.nan], "minutes_to_ct01_change": [np.nan] * 2,
        "people_within_30_min_before": [100.0, 50.0], "people_within_30_min_after": [160.0, 50.0],
        "people_within_30_min_change": [60.0, 0.0]})
    row = scenario_effects(change, pd.DataFrame({"name": ["X"], "length_km": [3.5]}), "x.geojson")
    assert row["park_minutes_saved"] == 8.0 and row["minutes_saved_ql1a"] == 8.0    # unknown before: not counted
    assert "minutes_saved_ct01" not in row and row["new_targets"] == "ct01: 1 parks, median 7.0 min"
    assert row["people_within_30_min_gained"] == 60.0 and row["parks_faster"] == 1 and row["length_km"] == 3.5


def test_scenario_files_and_bad_paths(tmp_path):
    from layers.scenario_batch import scenario_files

    files = scenario_files([FIXTURES])
    assert [f.name for f in files] == ["ct01-full-100.geojson", "ct01-full-60.geojson", "ct01-south-100.geojson"]
    with pytest.raises(InputError, match="file not found"):
        scenario_files([tmp_path / "missing.geojson"])
    with pytest.raises(InputError, match="no scenario files"):
        scenario_files([tmp_path])


@pytest.fixture(scope="module")
def inputs_2018(region):
    """The 2018 network (the variants are of CT.01, which today's network already carries), parks, population."""
    from geo import settings
    from layers import networks
    from layers.networks import NetworkOptions
    from layers.parks import industrial_parks
    from layers.population import population_raster

    settings.progress = False
    net = networks.build_networks(region, with_rail=False, options=NetworkOptions(network="2018"))
    array, profile, _ = population_raster(region)
    return net, industrial_parks(region), (array, profile)


def test_batch_ranks_three_variants(region, inputs_2018):
    from layers.scenario_batch import run_scenario_batch, scenario_files

    net, parks, population = inputs_2018
    table = run_scenario_batch(region, parks, net, scenario_files([FIXTURES]), population=population)
    assert table["rank"].tolist() == [1, 2, 3] and table["park_minutes_saved"].is_monotonic_decreasing
    by = table.set_index("scenario")
    full, slow, south = (by.loc[f"ct01-{v}.geojson"] for v in ("full-100", "full-60", "south-100"))
    # Adding a road never lengthens a trip: the full line at 100 km/h beats its slower and shorter variants.
    assert full["rank"] == 1 and full["park_minutes_saved"] >= max(slow["park_minutes_saved"], south["park_minutes_saved"])
    assert full["people_within_30_min_gained"] >= max(slow["people_within_30_min_gained"], south["people_within_30_min_gained"])
    assert full["length_km"] > south["length_km"] and (table["park_minutes_saved"] > 0).all()
    assert all("ct01" in t for t in table["new_targets"])          # the new interchanges: reported, not summed


def test_cli_batch_of_missing_files_is_one_line_exit_2(tmp_path, capsys):
    import importlib.util

    spec = importlib.util.spec_from_file_location("plan", Path(__file__).resolve().parent.parent / "scripts" / "plan.py")
    plan = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plan)
    status = plan.main(["scenario", "--batch", str(tmp_path / "nope"), "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert status == 2 and "nope: file not found (scenario batch)" in err and "\n" not in err
    assert not (tmp_path / "out").exists()


def test_batch_on_dask_equals_in_process_to_the_last_bit(region, inputs_2018, monkeypatch):
    """Same table with --scheduler none and local, whatever the process ran before: a cold network and no
    hierarchy cache on disk, so without care the in-process loop builds a hierarchy after a few scenarios
    (and adds times in another order) while each worker keeps to plain searches."""
    from geo import settings
    from geo.cluster import SchedulerOptions, open_session
    from layers import networks
    from layers.networks import NetworkOptions
    from layers.scenario_batch import run_scenario_batch, scenario_files

    monkeypatch.setenv("BGPLAN_HIERARCHY_CACHE", "0")          # read by the workers when they start
    monkeypatch.setattr(settings, "hierarchy_cache", False)
    _, parks, _ = inputs_2018
    files = scenario_files([FIXTURES])
    cold = networks.build_networks(region, with_rail=False, options=NetworkOptions(network="2018"))
    in_process = run_scenario_batch(region, parks, cold, files)          # catchments left out: minutes suffice here
    with open_session(SchedulerOptions("local", 2)) as session:
        on_dask = run_scenario_batch(region, parks, cold, files, session=session)
    pd.testing.assert_frame_equal(in_process.drop(columns="path"), on_dask.drop(columns="path"), check_exact=True)
    assert in_process["park_minutes_saved"].gt(0).all()
