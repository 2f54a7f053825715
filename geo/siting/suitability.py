"""Suitability scoring: criterion transforms, weights (direct or AHP) and weighted sums with unknowns.

A *profile* (YAML, read by :func:`read_profile`) says which criteria count,
how each raw value (minutes, people, degrees, km) becomes a score between 0
(unsuitable) and 1 (best), and how much each weighs::

    name: logistics-heavy
    title: Logistics-heavy industry
    criteria:
      minutes_to_ql1a:
        weight: 3
        transform: {type: linear, best: 5, worst: 40}
      people_within_45_min:
        weight: 1
        transform: {type: piecewise, points: [[50000, 0], [400000, 1]]}
    scoring: {min_known_weight: 0.75, min_coverage: 0.5}
    # instead of weights, an AHP pairwise matrix (rows/columns in the order of `criteria:`):
    # ahp: {criteria: [minutes_to_ql1a, people_within_45_min], matrix: [[1, 3], ["1/3", 1]]}

Transforms (:func:`parse_transform`; NaN in → NaN out, never 0):

* ``linear`` — 1 at ``best``, 0 at ``worst``, straight line between,
  clipped (works both ways: fewer minutes or more people is better);
* ``piecewise`` — straight lines through ``points`` ``[[x, score], …]``
  (x increasing), flat beyond the ends (a "sweet spot" needs four points);
* ``threshold`` — ``below`` (default 1) where x ≤ ``at``, else ``above`` (default 0);
* ``classes`` — ``scores[i]`` for x in ``[breaks[i-1], breaks[i])`` (one
  more score than breaks).

Weights are normalised to sum to 1; they must be ≥ 0 and sum to a positive
number. An AHP matrix gives the weights as its principal eigenvector
(Saaty), with the consistency ratio CR = CI / RI, CI = (λmax − n)/(n − 1)
and Saaty's random index RI; a matrix with CR > 0.1 is refused.

Unknowns (:func:`weighted_score`):

* a criterion whose layer is missing (no value anywhere) is *dropped* and
  reported, and the other weights renormalised — never scored as 0;
* a criterion known on less than ``min_coverage`` of the cells (e.g. slope
  from a DEM covering 4 % of the province) is *partial*: left out of the
  sum (weighting it only where known would favour that 4 %), reported with
  its coverage, still usable for exclusions;
* a cell where a scored criterion is NaN (e.g. more than 2 km from any road)
  is scored over its known criteria with their weights renormalised, and
  keeps ``weight_known`` (share of the total weight known) and
  ``criteria_known``; when ``weight_known < min_known_weight`` its score is
  NaN (too little known to rank it) — it is then never suitable.

>>> t = parse_transform({"type": "linear", "best": 10, "worst": 40}, "minutes")
>>> t(np.array([5.0, 25.0, 60.0, np.nan])).tolist()
[1.0, 0.5, 0.0, nan]
>>> w, cr = ahp_weights([[1, 3, 5], ["1/3", 1, 3], ["1/5", "1/3", 1]])
>>> w.round(3).tolist(), round(cr["cr"], 3)
([0.637, 0.258, 0.105], 0.033)
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd

from geo.config import read_yaml
from geo.errors import InputError

log = logging.getLogger(__name__)

#: Saaty's random consistency index RI by matrix size n (Saaty 1980, The Analytic Hierarchy Process, Table 1.3).
RANDOM_INDEX = {1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41, 9: 1.45, 10: 1.49,
                11: 1.51, 12: 1.48, 13: 1.56, 14: 1.57, 15: 1.59}

#: Largest acceptable consistency ratio (Saaty's 10 % rule).
MAX_CR = 0.1

#: Scoring defaults (a profile's ``scoring:`` overrides them): ``max_abs_correlation`` — criteria pairs above it are
#: named in a warning (they measure much the same thing); ``max_saturation`` — a criterion whose top score is reached
#: by more than this share of the suitable cells is named in a warning (its breakpoints cannot tell the best apart).
SCORING_DEFAULTS = {"min_known_weight": 0.75, "min_coverage": 0.5, "max_abs_correlation": 0.8, "max_saturation": 0.05}


# ---------------------------------------------------------------------- transforms

@dataclass(frozen=True)
class Transform:
    """A raw value → score (0–1) function; call it on an array."""

    kind: str
    xs: tuple
    ys: tuple

    def __call__(self, values) -> np.ndarray:
        x = np.asarray(values, dtype=np.float64)
        if self.kind != "classes":  # linear, piecewise and threshold: interpolation on sorted points (NaN stays NaN)
            return np.interp(x, self.xs, self.ys)
        out = np.asarray(self.ys)[np.searchsorted(np.asarray(self.xs), x, side="right")]
        out[np.isnan(x)] = np.nan
        return out

    def describe(self) -> str:
        if self.kind == "classes":
            return f"classes: breaks {list(self.xs)} → scores {list(self.ys)}"
        return f"{self.kind}: " + ", ".join(f"{x:g}→{y:g}" for x, y in zip(self.xs, self.ys))


def _number(value, where: str, source) -> float:
    try:
        out = float(Fraction(str(value).strip())) if isinstance(value, str) else float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        raise InputError(source, f"{where}: {value!r} is not a number") from None
    if not np.isfinite(out):
        raise InputError(source, f"{where}: {value!r} is not a finite number")
    return out


def parse_transform(spec, where: str, source=None) -> Transform:
    """A :class:`Transform` from its profile entry (see the module docstring for the types).

    >>> parse_transform({"type": "classes", "breaks": [10, 20], "scores": [1, 0.5, 0]}, "x")([5, 10, 25]).tolist()
    [1.0, 0.5, 0.0]
    >>> parse_transform({"type": "threshold", "at": 15}, "slope")([3, 15, 16]).tolist()
    [1.0, 1.0, 0.0]
    """
    if not isinstance(spec, dict) or "type" not in spec:
        raise InputError(source, f"{where}: transform needs a 'type' (linear, piecewise, threshold or classes)")
    kind = str(spec["type"]).strip().lower()

    def score(value, name):
        s = _number(value, f"{where}: {name}", source)
        if not 0.0 <= s <= 1.0:
            raise InputError(source, f"{where}: {name} must be a score between 0 and 1, not {s:g}")
        return s

    if kind == "linear":
        for key in ("best", "worst"):
            if key not in spec:
                raise InputError(source, f"{where}: a linear transform needs 'best' and 'worst'")
        best, worst = _number(spec["best"], f"{where}: best", source), _number(spec["worst"], f"{where}: worst", source)
        if best == worst:
            raise InputError(source, f"{where}: 'best' and 'worst' must differ")
        pts = sorted([(best, 1.0), (worst, 0.0)])
        return Transform("linear", tuple(p[0] for p in pts), tuple(p[1] for p in pts))
    if kind == "piecewise":
        points = spec.get("points")
        if not isinstance(points, list) or len(points) < 2 or not all(isinstance(p, (list, tuple)) and len(p) == 2 for p in points):
            raise InputError(source, f"{where}: a piecewise transform needs 'points' as a list of at least two [value, score] pairs")
        xs = [_number(p[0], f"{where}: point value", source) for p in points]
        ys = [score(p[1], "point score") for p in points]
        if any(b <= a for a, b in itertools.pairwise(xs)):
            raise InputError(source, f"{where}: piecewise point values must increase")
        return Transform("piecewise", tuple(xs), tuple(ys))
    if kind == "threshold":
        if "at" not in spec:
            raise InputError(source, f"{where}: a threshold transform needs 'at'")
        at = _number(spec["at"], f"{where}: at", source)
        below, above = score(spec.get("below", 1), "below"), score(spec.get("above", 0), "above")
        return Transform("threshold", (at, np.nextafter(at, np.inf)), (below, above))
    if kind == "classes":
        breaks, scores = spec.get("breaks"), spec.get("scores")
        if not isinstance(breaks, list) or not isinstance(scores, list) or len(scores) != len(breaks) + 1 or not breaks:
            raise InputError(source, f"{where}: a classes transform needs 'breaks' (n values) and 'scores' (n + 1 scores)")
        xs = [_number(b, f"{where}: break", source) for b in breaks]
        if any(b <= a for a, b in itertools.pairwise(xs)):
            raise InputError(source, f"{where}: class breaks must increase")
        return Transform("classes", tuple(xs), tuple(score(s, "class score") for s in scores))
    raise InputError(source, f"{where}: unknown transform type '{spec['type']}' (use linear, piecewise, threshold or classes)")


# ---------------------------------------------------------------------- AHP

def ahp_weights(matrix, source=None) -> tuple[np.ndarray, dict]:
    """Weights (principal eigenvector, sum 1) and consistency of a pairwise comparison matrix.

    Entries may be numbers or fractions as text ("1/3"); ``None`` below the
    diagonal is filled with the reciprocal of its mirror. Returns
    ``(weights, {"lambda_max", "ci", "ri", "cr", "n"})``. Raises
    :class:`InputError` for a matrix that is not square, positive and
    reciprocal, or that is too large for the random-index table (n > 15).
    It does not refuse inconsistent matrices: :func:`check_ahp` does.
    """
    if not isinstance(matrix, (list, tuple, np.ndarray)) or len(matrix) == 0:
        raise InputError(source, "AHP matrix must be a list of rows")
    n = len(matrix)
    if any(not isinstance(row, (list, tuple, np.ndarray)) or len(row) != n for row in matrix):
        raise InputError(source, f"AHP matrix must be square: {n} rows of {n} values")
    if n > max(RANDOM_INDEX):
        raise InputError(source, f"AHP matrix of {n} criteria: the random index is known up to {max(RANDOM_INDEX)}")
    a = np.ones((n, n))
    for i in range(n):
        for j in range(n):
            value = matrix[i][j]
            if value is None:
                if j >= i:
                    raise InputError(source, f"AHP matrix row {i + 1}, column {j + 1}: only entries below the diagonal may be left empty")
                continue
            a[i, j] = _number(value, f"AHP matrix row {i + 1}, column {j + 1}", source)
    for i in range(n):
        for j in range(i):
            if matrix[i][j] is None:
                a[i, j] = 1.0 / a[j, i]
    if (a <= 0).any():
        raise InputError(source, "AHP matrix entries must be positive")
    if not np.allclose(np.diag(a), 1.0):
        raise InputError(source, "AHP matrix must have 1 on its diagonal")
    bad = np.argwhere(~np.isclose(a * a.T, 1.0, rtol=0.02))
    if bad.size:
        i, j = bad[0]
        raise InputError(source, f"AHP matrix is not reciprocal: row {i + 1}, column {j + 1} is {a[i, j]:g} "
                                 f"but row {j + 1}, column {i + 1} is {a[j, i]:g} (should be {1 / a[i, j]:.3g})")
    values, vectors = np.linalg.eig(a)
    k = int(np.argmax(values.real))
    lam = float(values[k].real)
    w = np.abs(vectors[:, k].real)
    w = w / w.sum()
    ci = (lam - n) / (n - 1) if n > 2 else 0.0
    ri = RANDOM_INDEX[n]
    cr = ci / ri if ri > 0 else 0.0
    return w, {"n": n, "lambda_max": lam, "ci": max(ci, 0.0), "ri": ri, "cr": max(cr, 0.0)}


def check_ahp(matrix, names, source=None) -> tuple[dict, dict]:
    """AHP weights by criterion name; refuses a matrix with CR > :data:`MAX_CR`.

    >>> check_ahp([[1, 9, "1/9"], ["1/9", 1, 9], [9, "1/9", 1]], ["a", "b", "c"])   # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    geo.errors.InputError: AHP matrix is inconsistent: consistency ratio 6.13 > 0.1 ...
    """
    if len(names) != len(matrix):
        raise InputError(source, f"AHP matrix has {len(matrix)} rows for {len(names)} criteria")
    weights, consistency = ahp_weights(matrix, source)
    if consistency["cr"] > MAX_CR:
        raise InputError(source, f"AHP matrix is inconsistent: consistency ratio {consistency['cr']:.2f} > {MAX_CR} "
                                 f"(λmax {consistency['lambda_max']:.2f} for {len(names)} criteria); revise the comparisons")
    return dict(zip(names, weights.tolist())), consistency


# ---------------------------------------------------------------------- profiles

@dataclass
class Criterion:
    name: str
    weight: float
    transform: Transform
    note: str = ""


@dataclass
class Profile:
    """A suitability profile (see the module docstring)."""

    name: str
    title: str
    criteria: dict[str, Criterion]
    source: str = ""
    description: str = ""
    weights_from: str = "weights"
    ahp: dict | None = None
    exclusions: dict = field(default_factory=dict)
    locate: dict = field(default_factory=dict)
    scoring: dict = field(default_factory=lambda: dict(SCORING_DEFAULTS))
    scale: str | None = None           # the kind of site it forms (e.g. "CCN", "KCN"), checked by the rules
    rules: list = field(default_factory=list)        # names of rule files the sites are judged against
    constraints: dict = field(default_factory=dict)  # constraint layer → {use: exclude|penalty|ignore, buffer_m}

    @property
    def weights(self) -> dict[str, float]:
        """Weights normalised to sum to 1."""
        total = sum(c.weight for c in self.criteria.values())
        return {k: c.weight / total for k, c in self.criteria.items()}

    def check_names(self, known) -> None:
        """Refuse criteria that are not in ``known`` (the names the caller can compute)."""
        unknown = [k for k in self.criteria if k not in known]
        if unknown:
            raise InputError(self.source, f"unknown criterion '{unknown[0]}' (known: {', '.join(sorted(known))})")

    def with_weights(self, weights: dict[str, float]) -> Profile:
        """A copy with other (raw, ≥ 0) weights for some criteria."""
        from copy import deepcopy

        out = deepcopy(self)
        for k, w in weights.items():
            out.criteria[k].weight = float(w)
        _check_weights(out.criteria, out.source)
        return out


def _check_weights(criteria: dict, source) -> None:
    negative = [k for k, c in criteria.items() if c.weight < 0]
    if negative:
        raise InputError(source, f"criterion '{negative[0]}' has a negative weight")
    total = sum(c.weight for c in criteria.values())
    if not total > 0:
        raise InputError(source, "the weights must sum to a positive number")


def read_profile(path, known=None) -> Profile:
    """Read and check a profile YAML file; ``known`` (criterion names) refuses unknown criteria."""
    path = Path(path)
    source = str(path)
    data = read_yaml(path, "profile file")
    return profile_from_dict(data, source=source, known=known, default_name=path.stem)


def profile_from_dict(data, source=None, known=None, default_name: str = "profile") -> Profile:
    """A :class:`Profile` from an already-parsed mapping (see :func:`read_profile`)."""
    if not isinstance(data, dict):
        raise InputError(source, "a profile must be a YAML mapping with a 'criteria' section")
    raw = data.get("criteria")
    if not isinstance(raw, dict) or not raw:
        raise InputError(source, "the profile has no 'criteria' (a mapping of criterion name → weight and transform)")
    ahp = data.get("ahp")
    criteria = {}
    for name, spec in raw.items():
        name = str(name)
        if not isinstance(spec, dict):
            raise InputError(source, f"criterion '{name}' must be a mapping with 'weight' and 'transform'")
        if "transform" not in spec:
            raise InputError(source, f"criterion '{name}' has no transform")
        if ahp is not None and "weight" in spec:
            raise InputError(source, f"criterion '{name}' has a weight but the profile has an AHP matrix: give one or the other")
        if ahp is None and "weight" not in spec:
            raise InputError(source, f"criterion '{name}' has no weight")
        weight = _number(spec["weight"], f"criterion '{name}': weight", source) if ahp is None else 0.0
        criteria[name] = Criterion(name, weight, parse_transform(spec["transform"], f"criterion '{name}'", source),
                                   str(spec.get("note", "") or ""))
    consistency = None
    weights_from = "weights"
    if ahp is not None:
        if not isinstance(ahp, dict) or "matrix" not in ahp:
            raise InputError(source, "'ahp' needs a 'matrix' (and optionally 'criteria', the row order)")
        order = [str(c) for c in (ahp.get("criteria") or list(criteria))]
        if sorted(order) != sorted(criteria):
            raise InputError(source, f"the AHP matrix rows ({', '.join(order)}) must name exactly the profile's criteria "
                                     f"({', '.join(criteria)})")
        weights, consistency = check_ahp(ahp["matrix"], order, source)
        for k, w in weights.items():
            criteria[k].weight = w
        consistency = {**consistency, "criteria": order}
        weights_from = "ahp"
    _check_weights(criteria, source)
    scoring = {**SCORING_DEFAULTS, **(data.get("scoring") or {})}
    unknown = sorted(set(scoring) - set(SCORING_DEFAULTS))
    if unknown:
        raise InputError(source, f"scoring: unknown setting '{unknown[0]}' (known: {', '.join(SCORING_DEFAULTS)})")
    for key in SCORING_DEFAULTS:
        value = _number(scoring[key], f"scoring: {key}", source)
        if not 0.0 <= value <= 1.0:
            raise InputError(source, f"scoring: {key} must be between 0 and 1, not {value:g}")
        scoring[key] = value
    for section in ("exclusions", "locate", "constraints"):
        if data.get(section) is not None and not isinstance(data[section], dict):
            raise InputError(source, f"'{section}' must be a mapping")
    profile = Profile(name=str(data.get("name") or default_name), title=str(data.get("title") or data.get("name") or default_name),
                      description=str(data.get("description") or "").strip(), criteria=criteria, source=str(source or ""),
                      weights_from=weights_from, ahp=consistency, exclusions=dict(data.get("exclusions") or {}),
                      locate=dict(data.get("locate") or {}), scoring=scoring,
                      scale=None if data.get("scale") is None else str(data["scale"]).upper(),
                      rules=[str(r) for r in (data.get("rules") or [])], constraints=dict(data.get("constraints") or {}))
    if data.get("rules") is not None and not isinstance(data["rules"], list):
        raise InputError(source, "'rules' must be a list of rule file names")
    if known is not None:
        profile.check_names(known)
    return profile


# ---------------------------------------------------------------------- scoring

@dataclass
class Scores:
    """Result of :func:`weighted_score` (arrays shaped like the inputs)."""

    score: np.ndarray
    components: dict[str, np.ndarray]
    weight_known: np.ndarray
    criteria_known: np.ndarray
    weights: dict[str, float]          # weights used (sum 1)
    dropped: dict[str, str]            # criterion → why it was left out
    partial: dict[str, float]          # criterion → coverage (0–1), left out of the sum
    coverage: dict[str, float]


def plan_criteria(profile: Profile, values: dict, within=None, reasons: dict | None = None) -> tuple[dict, dict, dict, dict]:
    """Which criteria are scored: ``(weights used, dropped, partial, coverage)``.

    ``values`` maps criterion → array (NaN = unknown); ``within`` (boolean
    array) is where coverage is measured (e.g. the cells inside the region);
    ``reasons`` explains missing layers. Weights are renormalised over the
    criteria kept. Raises :class:`InputError` when no weighted criterion is left.
    """
    reasons = reasons or {}
    min_cov = profile.scoring["min_coverage"]
    used, dropped, partial, coverage = {}, {}, {}, {}
    for name, crit in profile.criteria.items():
        v = np.asarray(values[name], dtype=np.float64)
        mask = np.ones(v.shape, bool) if within is None else np.asarray(within, bool)
        n = int(mask.sum())
        cov = float(np.isfinite(v[mask]).sum() / n) if n else 0.0
        coverage[name] = cov
        if cov == 0.0:
            dropped[name] = reasons.get(name) or "no value anywhere (layer not given)"
        elif cov < min_cov:
            partial[name] = cov
            dropped[name] = (f"known on {cov:.1%} of the cells only (< {min_cov:.0%}): left out of the score so that the "
                             "cells where it is known are not favoured" + (f" ({reasons[name]})" if reasons.get(name) else ""))
        elif crit.weight > 0:
            used[name] = crit.weight
    total = sum(used.values())
    if not total > 0:
        why = "; ".join(dropped.values()) if dropped else "every weight is 0"
        raise InputError(profile.source, f"no weighted criterion is left to score: {why}")
    return {k: w / total for k, w in used.items()}, dropped, partial, coverage


def weighted_score(profile: Profile, values: dict, within=None, reasons: dict | None = None) -> Scores:
    """Transformed components and their weighted sum, with the rules for unknowns (module docstring).

    >>> p = profile_from_dict({"scoring": {"min_coverage": 0}, "criteria": {
    ...     "a": {"weight": 3, "transform": {"type": "linear", "best": 0, "worst": 10}},
    ...     "b": {"weight": 1, "transform": {"type": "linear", "best": 0, "worst": 10}}}})
    >>> s = weighted_score(p, {"a": np.array([0.0, np.nan, np.nan]), "b": np.array([10.0, 0.0, np.nan])})
    >>> s.score.tolist(), s.weight_known.tolist(), s.criteria_known.tolist()
    ([0.75, nan, nan], [1.0, 0.25, 0.0], [2, 1, 0])
    """
    weights, dropped, partial, coverage = plan_criteria(profile, values, within, reasons)
    components = {name: profile.criteria[name].transform(values[name]) for name in profile.criteria}
    score, weight_known, known_count = combine(components, weights, profile.scoring["min_known_weight"])
    return Scores(score=score, components=components, weight_known=weight_known, criteria_known=known_count,
                  weights=weights, dropped=dropped, partial=partial, coverage=coverage)


def combine(components: dict, weights: dict, min_known_weight: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted mean of the known components: ``(score, weight_known, criteria_known)``.

    Vectorised over any array shape; ``weights`` (sum 1) name the components
    used. Score is NaN where the known weight is below ``min_known_weight``.
    """
    names = list(weights)
    first = np.asarray(components[names[0]])
    num = np.zeros(first.shape)
    den = np.zeros(first.shape)
    count = np.zeros(first.shape, dtype=np.int16)
    for name in names:
        c = np.asarray(components[name])
        known = ~np.isnan(c)
        w = weights[name]
        num += np.nan_to_num(c, nan=0.0) * w
        den += known * w
        count += known
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where((den >= min_known_weight - 1e-12) & (den > 0), num / den, np.nan)
    return score, den, count


# ---------------------------------------------------------------------- criteria hygiene

def correlation_matrix(values: dict, within: np.ndarray) -> pd.DataFrame:
    """Pearson correlation of the criteria's raw values over the cells of ``within`` where both are known
    (NaN for a pair known together on fewer than 30 cells).

    >>> x = np.tile([1.0, 2, 3, 4], 10); m = np.ones(40, bool)
    >>> correlation_matrix({"a": x, "b": 2 * x, "c": np.tile([1.0, -1, 1, -1], 10)}, m).round(2).values.tolist()
    [[1.0, 1.0, -0.45], [1.0, 1.0, -0.45], [-0.45, -0.45, 1.0]]
    """
    within = np.asarray(within, bool)
    frame = pd.DataFrame({k: np.asarray(v, dtype=np.float64)[within] for k, v in values.items()})
    return frame.corr(method="pearson", min_periods=30)


def correlated_pairs(matrix: pd.DataFrame, limit: float) -> list[tuple[str, str, float]]:
    """Pairs of criteria with |r| above ``limit``: ``(a, b, r)``, strongest first.

    >>> m = pd.DataFrame([[1, 0.9, 0.1], [0.9, 1, -0.85], [0.1, -0.85, 1]], index=list("abc"), columns=list("abc"))
    >>> correlated_pairs(m, 0.8)
    [('a', 'b', 0.9), ('b', 'c', -0.85)]
    """
    names = list(matrix.columns)
    out = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            r = matrix.loc[a, b]
            if np.isfinite(r) and abs(r) > limit:
                out.append((a, b, round(float(r), 3)))
    return sorted(out, key=lambda t: -abs(t[2]))


def saturation(components: dict, cells: np.ndarray, at: float = 0.999) -> dict[str, float]:
    """Share of ``cells`` (e.g. the suitable ones) whose component score is at its maximum (≥ ``at``), per criterion.

    A value function that gives most of the best cells the top score cannot
    tell them apart: the profile's breakpoints should put the maximum beyond
    all but a few percent of them.

    >>> saturation({"a": np.array([1.0, 0.5, 1.0, np.nan])}, np.array([True, True, True, True]))
    {'a': 0.6667}
    """
    cells = np.asarray(cells, bool)
    out = {}
    for name, comp in components.items():
        v = np.asarray(comp, dtype=np.float64)[cells]
        v = v[np.isfinite(v)]
        out[name] = round(float((v >= at).mean()), 4) if v.size else None
    return out
