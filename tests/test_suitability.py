"""Transforms, weights, AHP consistency and the rules for unknown values."""

import numpy as np
import pytest
import yaml

from geo.errors import InputError
from geo.siting.suitability import ahp_weights, check_ahp, parse_transform, profile_from_dict, read_profile, weighted_score


def test_linear_transform_both_ways_clipped_and_nan_kept():
    fewer_is_better = parse_transform({"type": "linear", "best": 5, "worst": 30}, "minutes")
    assert fewer_is_better([0, 5, 17.5, 30, 99, np.nan]).tolist()[:5] == [1.0, 1.0, 0.5, 0.0, 0.0]
    assert np.isnan(fewer_is_better([np.nan]))[0]
    more_is_better = parse_transform({"type": "linear", "best": 500_000, "worst": 100_000}, "people")
    assert more_is_better([50_000, 200_000, 600_000]).tolist() == [0.0, 0.25, 1.0]


def test_piecewise_threshold_and_classes():
    sweet = parse_transform({"type": "piecewise", "points": [[0, 0], [1.5, 1], [10, 1], [25, 0.4]]}, "km")
    assert sweet([-1, 0.75, 5, 17.5, 40]).round(3).tolist() == [0.0, 0.5, 1.0, 0.7, 0.4]
    steep = parse_transform({"type": "threshold", "at": 8, "below": 1, "above": 0.2}, "slope")
    assert steep([0, 8, 8.01, 30]).tolist() == [1.0, 1.0, 0.2, 0.2]
    classes = parse_transform({"type": "classes", "breaks": [3, 8, 15], "scores": [1, 0.7, 0.4, 0.2]}, "km")
    assert classes([0, 2.99, 3, 7.9, 8, 14, 15, 100]).tolist() == [1, 1, 0.7, 0.7, 0.4, 0.4, 0.2, 0.2]


@pytest.mark.parametrize("spec, words", [
    ({"best": 1, "worst": 2}, "needs a 'type'"),
    ({"type": "linear", "best": 1}, "needs 'best' and 'worst'"),
    ({"type": "linear", "best": 3, "worst": 3}, "must differ"),
    ({"type": "piecewise", "points": [[0, 0], [0, 1]]}, "must increase"),
    ({"type": "piecewise", "points": [[0, 0], [1, 2]]}, "between 0 and 1"),
    ({"type": "classes", "breaks": [1, 2], "scores": [1, 0]}, "n + 1 scores"),
    ({"type": "sigmoid"}, "unknown transform type 'sigmoid'"),
    ({"type": "linear", "best": "ten", "worst": 2}, "'ten' is not a number"),
])
def test_bad_transforms_are_refused(spec, words):
    with pytest.raises(InputError) as err:
        parse_transform(spec, "criterion 'x'", "p.yaml")
    assert words in str(err.value) and str(err.value).startswith("p.yaml: ")


# Saaty, T. L. (2008), "Decision making with the analytic hierarchy process", Int. J. Services Sciences
# 1(1), 83–98: relative consumption of drinks in the United States. Published eigenvector
# (coffee .177, wine .019, tea .042, beer .116, sodas .190, milk .129, water .327), C.R. = .022.
DRINKS = ["coffee", "wine", "tea", "beer", "sodas", "milk", "water"]
DRINKS_MATRIX = [
    [1, 9, 5, 2, 1, 1, "1/2"],
    ["1/9", 1, "1/3", "1/9", "1/9", "1/9", "1/9"],
    ["1/5", 3, 1, "1/3", "1/4", "1/3", "1/9"],
    ["1/2", 9, 3, 1, "1/2", 1, "1/3"],
    [1, 9, 4, 2, 1, 2, "1/2"],
    [1, 9, 3, 1, "1/2", 1, "1/3"],
    [2, 9, 9, 3, 2, 3, 1],
]
DRINKS_WEIGHTS = {"coffee": 0.177, "wine": 0.019, "tea": 0.042, "beer": 0.116, "sodas": 0.190, "milk": 0.129, "water": 0.327}


def test_ahp_on_saatys_textbook_matrix():
    weights, consistency = check_ahp(DRINKS_MATRIX, DRINKS)
    for name, expected in DRINKS_WEIGHTS.items():
        assert weights[name] == pytest.approx(expected, abs=0.0015)
    # Published C.R. 0.022 (the random index for n = 7 differs slightly between Saaty's tables: 1.32–1.35).
    assert consistency["cr"] == pytest.approx(0.022, abs=0.002)
    assert consistency["ri"] == 1.32 and consistency["lambda_max"] > 7


def test_ahp_fills_the_lower_triangle_and_refuses_bad_matrices():
    full, _ = ahp_weights([[1, 3, 5], ["1/3", 1, 3], ["1/5", "1/3", 1]])
    half, _ = ahp_weights([[1, 3, 5], [None, 1, 3], [None, None, 1]])
    assert np.allclose(full, half)
    # A consistent matrix: weights proportional to 4 : 2 : 1, CR = 0.
    w, c = ahp_weights([[1, 2, 4], [0.5, 1, 2], [0.25, 0.5, 1]])
    assert np.allclose(w, [4 / 7, 2 / 7, 1 / 7]) and c["cr"] == pytest.approx(0, abs=1e-9)
    with pytest.raises(InputError, match="inconsistent: consistency ratio"):
        check_ahp([[1, 9, "1/9"], ["1/9", 1, 9], [9, "1/9", 1]], ["a", "b", "c"], "p.yaml")
    with pytest.raises(InputError, match="not reciprocal"):
        ahp_weights([[1, 3], [3, 1]])
    with pytest.raises(InputError, match="square"):
        ahp_weights([[1, 3], [1]])
    with pytest.raises(InputError, match="positive"):
        ahp_weights([[1, -3], ["-1/3", 1]])


def _profile(criteria, **extra):
    return profile_from_dict({"criteria": criteria, **extra}, source="p.yaml")


LIN = {"type": "linear", "best": 0, "worst": 10}


def test_profile_errors_are_one_line_and_name_the_file(tmp_path):
    with pytest.raises(InputError, match="unknown criterion 'minutes_to_moon'"):
        profile_from_dict({"criteria": {"minutes_to_moon": {"weight": 1, "transform": LIN}}}, "p.yaml", known={"a": ""})
    with pytest.raises(InputError, match="must sum to a positive number"):
        _profile({"a": {"weight": 0, "transform": LIN}, "b": {"weight": 0, "transform": LIN}})
    with pytest.raises(InputError, match="negative weight"):
        _profile({"a": {"weight": -1, "transform": LIN}, "b": {"weight": 3, "transform": LIN}})
    with pytest.raises(InputError, match="has no weight"):
        _profile({"a": {"transform": LIN}})
    with pytest.raises(InputError, match="give one or the other"):
        _profile({"a": {"weight": 1, "transform": LIN}, "b": {"transform": LIN}}, ahp={"matrix": [[1, 2], [0.5, 1]]})
    with pytest.raises(InputError, match="inconsistent"):
        _profile({k: {"transform": LIN} for k in "abc"}, ahp={"matrix": [[1, 9, "1/9"], ["1/9", 1, 9], [9, "1/9", 1]]})
    bad = tmp_path / "bad.yaml"
    bad.write_text("criteria: [unclosed", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_profile(bad)
    assert str(err.value).startswith(str(bad)) and "\n" not in str(err.value)
    with pytest.raises(InputError, match="profile file not found"):
        read_profile(tmp_path / "missing.yaml")


def test_ahp_profile_weights():
    p = _profile({k: {"transform": LIN} for k in ("a", "b", "c")},
                 ahp={"criteria": ["c", "b", "a"], "matrix": [[1, 2, 4], ["1/2", 1, 2], ["1/4", "1/2", 1]]})
    assert p.weights_from == "ahp"
    assert p.weights == pytest.approx({"c": 4 / 7, "b": 2 / 7, "a": 1 / 7})
    assert p.ahp["cr"] == pytest.approx(0, abs=1e-9)


def test_missing_partial_and_unknown_cells_rule():
    """Dropped layer → weights renormalised; partial layer → left out; NaN cell → known criteria only, or NaN."""
    p = _profile({
        "a": {"weight": 2, "transform": LIN},
        "b": {"weight": 1, "transform": LIN},
        "c": {"weight": 1, "transform": LIN},     # missing everywhere
        "d": {"weight": 4, "transform": LIN},     # known on 1 of 10 cells only
    }, scoring={"min_known_weight": 0.6, "min_coverage": 0.5})
    a = np.array([0, 10, 5, np.nan, 2, 2, 2, 2, 2, 2], float)
    b = np.array([10, 10, 5, 0, np.nan, 2, 2, 2, 2, 2], float)
    c = np.full(10, np.nan)
    d = np.r_[0.0, np.full(9, np.nan)]
    s = weighted_score(p, {"a": a, "b": b, "c": c, "d": d}, reasons={"c": "no layer c given"})
    assert s.weights == pytest.approx({"a": 2 / 3, "b": 1 / 3})
    assert s.dropped["c"] == "no layer c given"
    assert s.partial == {"d": 0.1} and "left out of the score" in s.dropped["d"]
    assert s.coverage["a"] == 0.9
    # cell 0: a → 1, b → 0: 2/3 (d known there but not scored: partial criteria never count)
    assert s.score[0] == pytest.approx(2 / 3)
    assert s.score[1] == 0.0 and s.score[2] == pytest.approx(0.5)
    # cell 3: only b known (weight 1/3 < 0.6): too little known → NaN, never 0
    assert np.isnan(s.score[3]) and s.weight_known[3] == pytest.approx(1 / 3) and s.criteria_known[3] == 1
    # cell 4: only a known (2/3 ≥ 0.6): scored over a alone
    assert s.score[4] == pytest.approx(0.8) and s.criteria_known[4] == 1
    assert np.isnan(s.components["c"]).all() and s.components["d"][0] == 1.0
    with pytest.raises(InputError, match="no weighted criterion is left"):
        weighted_score(_profile({"c": {"weight": 1, "transform": LIN}}), {"c": c})


def test_weights_change_the_score():
    p = _profile({"a": {"weight": 1, "transform": LIN}, "b": {"weight": 1, "transform": LIN}})
    values = {"a": np.array([0.0, 10.0]), "b": np.array([10.0, 0.0])}
    assert weighted_score(p, values).score.tolist() == [0.5, 0.5]
    s = weighted_score(p.with_weights({"a": 3}), values).score
    assert s[0] > s[1]
    with pytest.raises(InputError):
        p.with_weights({"a": 0, "b": 0})


@pytest.mark.parametrize("name", ["logistics-heavy", "labour-intensive"])
def test_shipped_profiles_read(name):
    from layers.siting import PROFILES_DIR

    path = PROFILES_DIR / f"{name}.yaml"
    p = read_profile(path)
    assert p.name == name and sum(p.weights.values()) == pytest.approx(1)
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["locate"]["min_area_ha"] in (30, 100)
    if p.weights_from == "ahp":
        assert 0 <= p.ahp["cr"] <= 0.1


def test_correlation_warning_names_pairs_above_the_limit_and_saturation():
    from geo.siting.suitability import correlated_pairs, correlation_matrix, saturation

    rng = np.random.default_rng(1)
    a = rng.normal(size=500)
    values = {"minutes_to_ct01": a, "minutes_to_ql1a": a + rng.normal(scale=0.1, size=500), "km_to_park": rng.normal(size=500)}
    m = correlation_matrix(values, np.ones(500, bool))
    pairs = correlated_pairs(m, 0.8)
    assert [(p[0], p[1]) for p in pairs] == [("minutes_to_ct01", "minutes_to_ql1a")] and pairs[0][2] > 0.95
    assert correlated_pairs(m, 0.999) == []
    sat = saturation({"x": np.array([1.0, 1.0, 0.2, 0.9]), "y": np.array([np.nan] * 4)}, np.array([True, True, True, False]))
    assert sat == {"x": 0.6667, "y": None}


def test_scoring_settings_are_checked(tmp_path):
    from geo.siting.suitability import profile_from_dict

    crit = {"a": {"weight": 1, "transform": {"type": "linear", "best": 0, "worst": 1}}}
    assert profile_from_dict({"criteria": crit}).scoring["max_abs_correlation"] == 0.8
    with pytest.raises(InputError, match="unknown setting 'max_corr'"):
        profile_from_dict({"criteria": crit, "scoring": {"max_corr": 0.5}}, source="p.yaml")
    with pytest.raises(InputError, match="between 0 and 1"):
        profile_from_dict({"criteria": crit, "scoring": {"max_saturation": 2}}, source="p.yaml")
