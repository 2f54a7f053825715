"""Monte Carlo weight sensitivity of a suitability grid: weight draws and re-scoring, on arrays.

A siting run gives, for every cell, the score of each criterion (0–1,
NaN = unknown) and the profile's weights. Here thousands of plausible
weightings are drawn and the grid is re-scored with each, with the same
rules as the siting run (reused, not re-implemented):

* score = weighted mean of the known components (:func:`geo.siting.suitability.combine`,
  NaN where the known weight is below ``min_known_weight``);
* suitable = :func:`geo.siting.sites.suitable_cells` (best ``top_share`` of the
  eligible cells, or ``score ≥ min_score``);
* sites = :func:`geo.siting.sites.locate` (side-connected suitable cells, cut to
  ``max_area_ha``, at least ``min_area_ha``, ranked by mean score);
* each base site followed to the run's site holding most of its cells
  (:func:`geo.siting.sites.follow_sites`) → its rank in that run (NaN = gone).

Weight draws
------------
Dirichlet around the profile's weights ``w`` (sum 1): ``α = K·w`` with
concentration ``K``. Each weight's mean is its profile value and its
standard deviation ``sqrt(w (1 − w) / (K + 1))``: with the default
``K = 20`` a weight of 0.25 varies with sd 0.094 (about ±38 %), a weight of
0.10 with sd 0.065; larger ``K`` = draws closer to the profile. This is a
planning assumption about how far reasonable people would disagree, not a
fact; change it with ``--concentration``.

Reproducibility
---------------
Run ``i`` draws its weights from its own stream,
``numpy.random.SeedSequence(seed, spawn_key=(i,))`` — the ``i``-th child of
``SeedSequence(seed).spawn`` — so a run's weights depend on ``(seed, i)``
only, never on which worker or chunk computes it. Runs are grouped into
fixed chunks of ``chunk_runs`` (independent of the number of workers);
per-cell counts are integers and per-chunk float sums are added in chunk
order, so the result is bit-identical whatever executes the chunks.

>>> w = draw_weights(np.array([0.5, 0.3, 0.2]), 20.0, seed=7, runs=range(3))
>>> w.shape, bool(np.allclose(w.sum(axis=1), 1))
((3, 3), True)
>>> bool((draw_weights(np.array([0.5, 0.3, 0.2]), 20.0, seed=7, runs=[2]) == w[2]).all())
True
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geo.errors import InputError
from geo.siting.sites import ShortlistRule, follow_sites, locate, suitable_cells
from geo.siting.suitability import combine


@dataclass(frozen=True)
class MonteCarloOptions:
    """How many weightings to draw and how: ``runs`` ≥ 1, ``seed`` ≥ 0, ``concentration`` K > 0, ``chunk_runs`` ≥ 1.

    ``chunk_runs`` is the number of runs in one task: large enough that a
    task costs far more than its scheduling (about 1 ms on Dask), small
    enough to keep every worker busy. It also fixes the order of the float
    sums, so keep it the same to compare results.
    """

    runs: int = 1000
    seed: int = 0
    concentration: float = 20.0
    chunk_runs: int = 25

    def __post_init__(self):
        if not isinstance(self.runs, (int, np.integer)) or self.runs < 1:
            raise InputError(None, f"--runs must be a whole number ≥ 1, not {self.runs!r}")
        if not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise InputError(None, f"--seed must be a whole number ≥ 0, not {self.seed!r}")
        if not (np.isfinite(self.concentration) and self.concentration > 0):
            raise InputError(None, f"--concentration must be > 0, not {self.concentration!r}")
        if not isinstance(self.chunk_runs, (int, np.integer)) or not 1 <= self.chunk_runs <= 65535:
            raise InputError(None, f"--chunk-runs must be a whole number from 1 to 65,535, not {self.chunk_runs!r}")

    def chunks(self) -> list[range]:
        """Run indices grouped into tasks, in run order."""
        return [range(start, min(start + self.chunk_runs, self.runs)) for start in range(0, self.runs, self.chunk_runs)]


@dataclass
class GridProblem:
    """Everything a re-scoring task needs, sent to each worker once (arrays rows × cols).

    ``components``: criterion → score 0–1 (NaN unknown); ``weights``: the
    profile's weights used (sum 1, same keys); ``eligible``: inside the
    region, not excluded, base score known; ``base_labels``: the base run's
    sites (0 none, k = rank k) for the first ``n_base`` sites; the locating
    rules (``cell_ha`` in hectares, ``min_area_ha``, ``max_area_ha``,
    ``top_share`` or ``min_score``) and ``top_n`` as in the siting run.
    """

    components: dict[str, np.ndarray]
    weights: dict[str, float]
    eligible: np.ndarray
    base_labels: np.ndarray
    n_base: int
    cell_ha: float
    min_area_ha: float
    min_known_weight: float
    top_n: int
    max_area_ha: float | None = None
    top_share: float | None = None
    min_score: float | None = None
    split: str = "parts"                    # how sites are formed (geo.siting.sites.locate); "grow" needs the parcels
    parcels: np.ndarray | None = None       # parcel of every cell (geo.siting.sites.parcels), shaped like the grid
    radius_factor: float = 1.5
    min_width_cells: int = 1
    shortlist_rule: ShortlistRule | None = None   # a run's sites shortlisted as the base run's (ranks = places on the list)

    def __post_init__(self):
        if set(self.components) < set(self.weights) or not self.weights:
            raise InputError(None, "every weighted criterion needs a component array")
        shape = np.asarray(self.eligible).shape
        for name in self.weights:
            if np.asarray(self.components[name]).shape != shape:
                raise InputError(None, f"component {name} is not shaped like the grid {shape}")
        if np.asarray(self.base_labels).shape != shape:
            raise InputError(None, "base_labels is not shaped like the grid")
        if self.split == "grow" and (self.parcels is None or np.asarray(self.parcels).shape != shape):
            raise InputError(None, "split 'grow' needs the parcels, shaped like the grid")

    @property
    def nbytes(self) -> int:
        """Bytes of array data a worker receives (what is scattered)."""
        arrays = [*(np.asarray(self.components[k]) for k in self.weights), np.asarray(self.eligible),
                  np.asarray(self.base_labels)] + ([np.asarray(self.parcels)] if self.parcels is not None else [])
        return int(sum(a.nbytes for a in arrays))


@dataclass
class ChunkResult:
    """What one task returns for its runs: per-cell counts and sums over the *eligible* cells only (flat order).

    Only eligible cells can be suitable or scored, so the arrays are 1-D over
    ``problem.eligible`` (22 bytes a cell, whatever the number of runs), not
    grids: this is what a worker sends back per task.
    """

    runs: range
    suitable_count: np.ndarray       # uint16, per eligible cell: runs in which it is suitable
    site_count: np.ndarray           # uint16, runs in which it is in a located site
    score_sum: np.ndarray            # float64, sum of the run scores (runs where unknown add 0)
    score_sq_sum: np.ndarray
    score_known: np.ndarray          # uint16, runs with a known score
    ranks: np.ndarray                # float64 (runs × n_base): rank of each base site, NaN = gone
    table: list = field(default_factory=list)   # one dict per run (weights, threshold, sites)
    wall_s: float = 0.0              # time the task took where it ran (wall clock)
    cpu_s: float = 0.0               # CPU time of the task's thread (unaffected by other processes)


def draw_weights(base: np.ndarray, concentration: float, *, seed: int, runs) -> np.ndarray:
    """Dirichlet weights (one row per run index in ``runs``) around ``base`` (normalised), α = concentration × base.

    Criteria whose base weight is 0 stay 0. Row ``i`` depends on ``(seed, i)`` only.
    """
    base = np.asarray(base, dtype=np.float64)
    base = base / base.sum()
    positive = base > 0
    out = np.zeros((len(runs), base.size))
    for row, i in enumerate(runs):
        rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(int(i),)))
        out[row, positive] = rng.dirichlet(concentration * base[positive])
    return out


def run_chunk(problem: GridProblem, runs: range, options: MonteCarloOptions) -> ChunkResult:
    """Re-score the grid with the weights of ``runs`` and count, per cell and per base site, what happened."""
    wall0, cpu0 = time.perf_counter(), time.thread_time()
    names = list(problem.weights)
    draws = draw_weights(np.array([problem.weights[k] for k in names]), options.concentration, seed=options.seed, runs=runs)
    cells = np.flatnonzero(problem.eligible.ravel())
    n = len(cells)
    suitable_count = np.zeros(n, np.uint16)
    site_count = np.zeros(n, np.uint16)
    score_sum = np.zeros(n)
    score_sq_sum = np.zeros(n)
    score_known = np.zeros(n, np.uint16)
    ranks = np.full((len(runs), problem.n_base), np.nan)
    table = []
    for row, (i, w) in enumerate(zip(runs, draws)):
        weights = dict(zip(names, w))
        score, _, _ = combine(problem.components, weights, problem.min_known_weight)
        sc = score.ravel()[cells]
        known = np.isfinite(sc)
        s = np.where(known, sc, 0.0)
        score_sum += s
        score_sq_sum += s * s
        score_known += known
        suitable, threshold = suitable_cells(score, problem.eligible, problem.min_score, problem.top_share)
        labels, sites = locate(score, suitable, cell_ha=problem.cell_ha, min_area_ha=problem.min_area_ha,
                               max_area_ha=problem.max_area_ha, split=problem.split, parcel_labels=problem.parcels,
                               radius_factor=problem.radius_factor, min_width_cells=problem.min_width_cells)
        suitable_count += suitable.ravel()[cells]
        site_count += labels.ravel()[cells] > 0
        if problem.shortlist_rule is not None:
            labels = problem.shortlist_rule.apply(labels, len(sites))
        matched = follow_sites(problem.base_labels, labels, problem.n_base)
        ranks[row] = np.where(matched > 0, matched, np.nan)
        table.append({"run": int(i), **{f"w_{k}": float(v) for k, v in weights.items()},
                      "threshold": float(threshold), "sites": len(sites)})
    return ChunkResult(runs=runs, suitable_count=suitable_count, site_count=site_count, score_sum=score_sum,
                       score_sq_sum=score_sq_sum, score_known=score_known, ranks=ranks, table=table,
                       wall_s=time.perf_counter() - wall0, cpu_s=time.thread_time() - cpu0)


@dataclass
class MonteCarloResult:
    """Aggregated runs: per-cell arrays (rows × cols), per-site rank table, per-run table."""

    runs: int
    p_suitable: np.ndarray           # share of runs in which the cell is suitable (0–1)
    p_in_site: np.ndarray            # share of runs in which it lies in a site ≥ min_area_ha
    score_mean: np.ndarray           # mean score over runs (NaN where never known)
    score_sd: np.ndarray
    ranks: np.ndarray                # runs × n_base, in run order
    run_table: pd.DataFrame
    task_wall_s: list = field(default_factory=list)   # per task, in task order
    task_cpu_s: list = field(default_factory=list)


def aggregate(chunks: list[ChunkResult], runs: int, eligible: np.ndarray) -> MonteCarloResult:
    """Add the chunks in run order (integers exact; float sums in fixed chunk order) and lay them on the grid of ``eligible``."""
    chunks = sorted(chunks, key=lambda c: c.runs.start)
    covered = [i for c in chunks for i in c.runs]
    if covered != list(range(runs)):
        raise ValueError(f"chunks cover runs {covered[:3]}… not 0…{runs - 1}")
    eligible = np.asarray(eligible, bool)
    n = int(eligible.sum())
    suitable = np.zeros(n, dtype=np.int64)
    in_site = np.zeros_like(suitable)
    known = np.zeros_like(suitable)
    total = np.zeros(n)
    total_sq = np.zeros(n)
    for c in chunks:
        suitable += c.suitable_count
        in_site += c.site_count
        known += c.score_known
        total += c.score_sum
        total_sq += c.score_sq_sum
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(known > 0, total / known, np.nan)
        var = np.where(known > 1, (total_sq - known * mean * mean) / np.maximum(known - 1, 1), np.nan)

    def grid(values, fill):
        out = np.full(eligible.shape, fill, dtype=np.float64)
        out[eligible] = values
        return out

    return MonteCarloResult(
        runs=runs, p_suitable=grid(suitable / runs, 0.0), p_in_site=grid(in_site / runs, 0.0), score_mean=grid(mean, np.nan),
        score_sd=grid(np.sqrt(np.clip(var, 0, None)), np.nan), ranks=np.concatenate([c.ranks for c in chunks], axis=0),
        run_table=pd.DataFrame([row for c in chunks for row in c.table]),
        task_wall_s=[c.wall_s for c in chunks], task_cpu_s=[c.cpu_s for c in chunks])


def rank_distribution(ranks: np.ndarray, top_n: int) -> pd.DataFrame:
    """Per base site (index 1…n): ``p_rank_1``, ``p_top_n``, ``p_lost`` (shares of runs), rank quantiles among runs where it survives.

    ``rank_p05``/``rank_median``/``rank_p95`` are NaN for a site gone in every run.
    """
    runs, n = ranks.shape
    alive = np.isfinite(ranks)
    with np.errstate(invalid="ignore"):
        top = (ranks <= top_n).sum(axis=0)
    out = {"p_rank_1": (ranks == 1).sum(axis=0) / runs, "p_top_n": top / runs, "p_lost": (~alive).sum(axis=0) / runs}
    for name, q in (("rank_p05", 0.05), ("rank_median", 0.5), ("rank_p95", 0.95)):
        col = np.full(n, np.nan)
        for j in range(n):
            if alive[:, j].any():
                col[j] = np.quantile(ranks[alive[:, j], j], q, method="inverted_cdf")
        out[name] = col
    return pd.DataFrame(out, index=pd.RangeIndex(1, n + 1, name="site"))


def rank_histogram(ranks: np.ndarray) -> pd.DataFrame:
    """Tidy counts: one row per (base site, rank) seen, ``rank`` NaN = gone; columns ``site``, ``rank``, ``runs``."""
    rows = []
    for j in range(ranks.shape[1]):
        values, counts = np.unique(np.nan_to_num(ranks[:, j], nan=0).astype(np.int64), return_counts=True)
        for v, c in zip(values, counts):
            rows.append({"site": j + 1, "rank": float(v) if v > 0 else np.nan, "runs": int(c)})
    return pd.DataFrame(rows, columns=["site", "rank", "runs"])
