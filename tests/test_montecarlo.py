"""Monte Carlo weight draws and re-scoring on small synthetic grids (no data, no Dask)."""

import numpy as np
import pytest

from geo.errors import InputError
from geo.siting.montecarlo import GridProblem, MonteCarloOptions, aggregate, draw_weights, rank_distribution, rank_histogram, run_chunk
from geo.siting.sites import locate, suitable_cells
from geo.siting.suitability import combine


def _problem(seed=0, shape=(30, 40), **kw):
    """Three criteria on a random grid, plus a block every criterion likes (a dominant site)."""
    rng = np.random.default_rng(seed)
    comps = {k: rng.random(shape) for k in ("a", "b", "c")}
    for c in comps.values():
        c[5:10, 5:10] = 1.0
    comps["c"][0, :] = np.nan                       # unknown somewhere: the known-weight rule applies
    weights = {"a": 0.5, "b": 0.3, "c": 0.2}
    eligible = np.ones(shape, bool)
    eligible[:, -3:] = False                        # an excluded strip
    score, _, _ = combine(comps, weights, 0.75)
    eligible &= np.isfinite(score)
    suitable, _ = suitable_cells(score, eligible, None, 0.1)
    labels, table = locate(score, suitable, cell_ha=6.25, min_area_ha=12.5)
    n = min(5, len(table))
    labels = np.where(labels <= n, labels, 0)
    args = {"components": comps, "weights": weights, "eligible": eligible, "base_labels": labels, "n_base": n,
            "cell_ha": 6.25, "min_area_ha": 12.5, "min_known_weight": 0.75, "top_n": 5, "top_share": 0.1}
    args.update(kw)
    return GridProblem(**args), score, suitable


def test_draws_depend_on_seed_and_run_index_only():
    base = np.array([0.5, 0.3, 0.2, 0.0])
    all_runs = draw_weights(base, 20.0, seed=11, runs=range(50))
    again = np.vstack([draw_weights(base, 20.0, seed=11, runs=r) for r in (range(7), range(7, 30), range(30, 50))])
    assert np.array_equal(all_runs, again)                 # chunking does not change any run's weights
    assert np.array_equal(draw_weights(base, 20.0, seed=11, runs=[49, 3]), all_runs[[49, 3]])
    assert not np.array_equal(all_runs, draw_weights(base, 20.0, seed=12, runs=range(50)))
    assert np.allclose(all_runs.sum(axis=1), 1) and (all_runs[:, 3] == 0).all()
    many = draw_weights(base, 20.0, seed=1, runs=range(4000))
    assert np.allclose(many.mean(axis=0), base, atol=0.01)             # centred on the profile
    assert many[:, 0].std() == pytest.approx(np.sqrt(0.5 * 0.5 / 21), rel=0.05)   # documented spread


def test_tight_draws_reproduce_the_base_run():
    problem, score, suitable = _problem()
    opts = MonteCarloOptions(runs=6, seed=3, concentration=1e9, chunk_runs=4)
    res = aggregate([run_chunk(problem, r, opts) for r in opts.chunks()], opts.runs, problem.eligible)
    assert np.array_equal(res.p_suitable == 1, suitable) and set(np.unique(res.p_suitable)) <= {0.0, 1.0}
    assert np.allclose(res.score_mean[problem.eligible], score[problem.eligible], atol=1e-4)   # sd of a weight ~ 1e-5
    assert (res.ranks == np.arange(1, problem.n_base + 1)).all()       # every base site keeps its rank
    assert not res.p_suitable[~problem.eligible].any()                   # excluded cells never suitable


def test_wide_draws_move_the_margin_but_not_the_dominant_block():
    problem, _, suitable = _problem()
    opts = MonteCarloOptions(runs=40, seed=9, concentration=3.0, chunk_runs=7)
    res = aggregate([run_chunk(problem, r, opts) for r in opts.chunks()], opts.runs, problem.eligible)
    assert (res.p_suitable[5:10, 5:10] == 1).all()
    margin = (res.p_suitable > 0) & (res.p_suitable < 1)
    assert margin.sum() > 10
    assert res.p_suitable.sum() == pytest.approx(suitable.sum(), rel=0.1)  # ~10 % of eligible cells in every run
    ranks = rank_distribution(res.ranks, top_n=5)
    assert ranks.loc[1, "p_rank_1"] == 1.0 and ranks.loc[1, "rank_median"] == 1
    assert len(res.run_table) == 40 and res.run_table["run"].tolist() == list(range(40))


def test_aggregate_is_independent_of_completion_order():
    problem, _, _ = _problem(seed=4)
    opts = MonteCarloOptions(runs=12, seed=2, concentration=5.0, chunk_runs=5)
    parts = [run_chunk(problem, r, opts) for r in opts.chunks()]
    a, b = aggregate(parts, 12, problem.eligible), aggregate(parts[::-1], 12, problem.eligible)
    assert np.array_equal(a.p_suitable, b.p_suitable) and np.array_equal(a.ranks, b.ranks, equal_nan=True)
    assert np.array_equal(a.score_mean, b.score_mean, equal_nan=True)
    with pytest.raises(ValueError):
        aggregate(parts[:-1], 12, problem.eligible)


def test_rank_distribution_and_histogram():
    ranks = np.array([[1, 2, np.nan], [2, 1, np.nan], [1, 3, 4.0], [1, 2, 12.0]])
    d = rank_distribution(ranks, top_n=10)
    assert d.loc[1, "p_rank_1"] == 0.75 and d.loc[2, "p_rank_1"] == 0.25
    assert d.loc[3, "p_lost"] == 0.5 and d.loc[3, "p_top_n"] == 0.25 and d.loc[3, "rank_median"] == 4
    h = rank_histogram(ranks)
    assert h[h["site"] == 3]["runs"].sum() == 4 and h[(h["site"] == 3) & h["rank"].isna()]["runs"].item() == 2


@pytest.mark.parametrize("kw", [{"runs": 0}, {"seed": -1}, {"concentration": 0.0}, {"chunk_runs": 0}, {"chunk_runs": 70000}, {"runs": 2.5}])
def test_bad_options_are_one_line_errors(kw):
    with pytest.raises(InputError):
        MonteCarloOptions(**kw)


def test_problem_checks_shapes():
    problem, _, _ = _problem()
    with pytest.raises(InputError):
        GridProblem(**{**problem.__dict__, "eligible": problem.eligible[:-1]})
