"""Monte Carlo sensitivity of a real siting run (1 km grid), in-process and on a 2-worker Dask LocalCluster."""

import json

import numpy as np
import pytest

from geo.cluster import SchedulerOptions, open_session
from geo.siting.montecarlo import MonteCarloOptions, combine


@pytest.fixture(scope="module")
def siting(region):
    from geo import settings
    from layers.siting import load_profile, run_siting

    settings.progress = False
    return run_siting(region, "logistics-heavy", cell_m=1000, sensitivity=False), load_profile("logistics-heavy", region)


def test_adapter_reproduces_the_siting_score(siting):
    from layers.sensitivity import problem_from_siting

    result, profile = siting
    problem = problem_from_siting(result, profile)
    score, _, _ = combine(problem.components, problem.weights, problem.min_known_weight)
    e = problem.eligible
    assert np.allclose(score[e], result.score[e], rtol=0, atol=1e-12)
    assert problem.top_share == 0.1 and problem.min_area_ha == 100 and problem.max_area_ha == result.summary["max_area_ha"] == 500
    assert problem.n_base == len(result.sites) == 10
    dropped = set(result.summary["criteria_dropped"])
    assert dropped and not dropped & set(problem.weights)               # dropped criteria stay dropped


def test_local_cluster_gives_the_same_csv_as_in_process(siting, tmp_path):
    from layers.sensitivity import run_sensitivity, write_sensitivity

    result, profile = siting
    opts = MonteCarloOptions(runs=40, seed=7, chunk_runs=5)
    plain = run_sensitivity(result, profile, opts)
    with open_session(SchedulerOptions("local", 2)) as session:
        assert session.workers == 2
        dask = run_sensitivity(result, profile, opts, session)
    a = write_sensitivity(plain, tmp_path / "none")
    b = write_sensitivity(dask, tmp_path / "local")
    assert a["csv"].read_bytes() == b["csv"].read_bytes()
    assert np.array_equal(plain.result.score_sd, dask.result.score_sd, equal_nan=True)
    meta = json.loads(b["json"].read_text(encoding="utf-8"))
    assert meta["runs"] == 40 and meta["seed"] == 7 and meta["scheduler"] == "local" and meta["workers"] == 2
    assert len(meta["per_run"]) == 40 and "scatter" in meta["timings_s"]
    # What the outputs say is plausible: suitable cells ⊂ eligible, base sites mostly stay.
    cells = plain.cells
    assert cells["p_suitable"].between(0, 1).all() and (cells.loc[cells["score_mean"].isna(), "p_suitable"] == 0).all()
    assert cells.loc[cells["base_suitable"], "p_suitable"].mean() > 0.7
    assert (plain.sites["p_top_n"] > 0.5).sum() >= 5 and plain.sites.crs.to_epsg() == 4326
    # Another seed gives another sample.
    other = run_sensitivity(result, profile, MonteCarloOptions(runs=40, seed=8, chunk_runs=5))
    assert not np.array_equal(other.result.p_suitable, plain.result.p_suitable)


def test_unreachable_scheduler_is_one_line_exit_2(shared_data, tmp_path, capsys, monkeypatch):
    import importlib.util
    from pathlib import Path

    import geo.cluster

    spec = importlib.util.spec_from_file_location("plan", Path(__file__).resolve().parent.parent / "scripts" / "plan.py")
    plan = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plan)
    main = plan.main

    monkeypatch.setattr(geo.cluster, "connect_timeout_s", 1.0)
    out = tmp_path / "out"
    status = main(["sensitivity", "--data", str(shared_data), "--out", str(out), "--runs", "5", "--quiet",
                   "--scheduler", "127.0.0.1:9"])
    err = capsys.readouterr().err.strip()
    assert status == 2 and err.startswith("error: cannot reach the Dask scheduler at 127.0.0.1:9") and "\n" not in err
    assert not out.exists()
    assert main(["sensitivity", "--data", str(shared_data), "--out", str(out), "--runs", "0", "--quiet"]) == 2
