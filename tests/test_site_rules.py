"""Legal rules as configuration, the CCN profile, land-constraint layers and user-layer criteria (real data)."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import yaml

from geo.errors import InputError
from geo.siting.rules import evaluate, parse_rule, read_rules, verdicts

RULE = {"id": "r", "text": "t", "article": "Art. 1", "source": "s", "date": "2024"}


# ---------------------------------------------------------------------- the evaluator

def test_three_valued_rules_and_verdicts():
    size = parse_rule({**RULE, "id": "size", "check": {"any": [{"field": "area_ha", "op": ">=", "value": 10},
                                                               {"all": [{"field": "area_ha", "op": ">=", "value": 5},
                                                                        {"field": "mountain", "op": "==", "value": True}]}]}}, "x")
    urban = parse_rule({**RULE, "id": "urban", "when": {"field": "kind", "op": "==", "value": "KCN"},
                        "check": {"field": "in_urban", "op": "==", "value": False}}, "x")
    table = pd.DataFrame({"area_ha": [12.0, 7.0, 7.0, 3.0, 12.0], "mountain": [None, True, None, True, None],
                          "kind": ["CCN", "CCN", "KCN", "KCN", "KCN"], "in_urban": [True, None, None, False, True]})
    res = evaluate([size, urban], table)
    assert res["size"].tolist() == ["pass", "pass", "unknown", "fail", "pass"]
    assert res["urban"].tolist() == ["n/a", "n/a", "unknown", "pass", "fail"]
    assert verdicts([size, urban], res).tolist() == [True, True, None, False, False]


def test_a_rule_needs_article_source_and_date(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump({"legal_basis": "x", "source": "s", "date": "2024", "rules": [
        {"id": "a", "text": "t", "source": "s", "date": "2024", "check": {"field": "a", "op": "<", "value": 1}}]}))
    with pytest.raises(InputError, match="has no 'article'"):
        read_rules(path)
    with pytest.raises(InputError, match="unknown op"):
        parse_rule({**RULE, "check": {"field": "a", "op": "≤", "value": 1}}, "x")


def test_shipped_rule_files_cite_every_rule():
    from layers.siting import RULES_DIR

    files = sorted(RULES_DIR.glob("*.yaml"))
    assert {f.stem for f in files} >= {"decree-32-2024-ccn", "decree-35-2022-kcn"}
    for f in files:
        rs = read_rules(f)   # refuses a rule without article, source or date
        assert rs.rules and all(r.source.startswith("http") for r in rs.rules)
    kcn = {r.id: r for r in read_rules(RULES_DIR / "decree-35-2022-kcn.yaml").rules}
    res = evaluate([kcn["kcn_phase_area"]], pd.DataFrame({"area_ha": [500.0, 500.1]}))
    assert res["kcn_phase_area"].tolist() == ["pass", "fail"]


# ---------------------------------------------------------------------- real runs

@pytest.fixture(scope="module")
def net(region):
    from geo import settings
    from layers import networks

    settings.progress = False
    return networks.build_networks(region, with_rail=False)


@pytest.fixture(scope="module")
def ccn(region, net):
    from layers.siting import run_siting

    return run_siting(region, "ccn", cell_m=250, net=net, sensitivity=False)


def test_ccn_profile_gives_legal_sites_and_three_valued_verdicts(ccn, tmp_path):
    from layers.siting import write_siting

    sites = ccn.sites
    assert sites["area_ha"].between(10, 75).all()
    assert sites["rule_failures"].isna().all()
    assert set(sites["verdict"]) <= {"eligible", "ineligible", "unknown"}
    # eligible needs every rule known: never while a rule is unknown, and the map key agrees
    assert not ((sites["verdict"] == "eligible") & sites["rules_unknown"].notna()).any()
    assert (sites["eligible"] == sites["verdict"].map({"eligible": "true", "ineligible": "false", "unknown": "unknown"})).all()
    # The district precondition (occupancy of existing clusters) is unknown where occupancy is not on file, and the
    # missing facts say what to give.
    assert set(sites["preconditions_met"]) <= {"true", "false", "unknown"}
    assert sites["rules_unknown"].fillna("").str.contains("not on file").any()
    unknown = sites[sites["verdict"] == "unknown"]
    assert len(unknown) and unknown["missing_facts"].str.contains("give: ").all()
    assert ccn.summary["rules"]["scale"] == "CCN" and len(ccn.summary["rules"]["rules"]) == 6
    paths = write_siting(ccn, tmp_path)
    written = gpd.read_file(paths["sites_gpkg"], layer="sites")
    assert {"verdict", "missing_facts", "eligible", "rule_failures", "rules_unknown", "preconditions_met"} <= set(written.columns)
    assert {"verdict", "verdict_reasons", "eligible", "rule_failures"} <= set(pd.read_csv(paths["sites_csv"]).columns)


def test_a_new_rule_is_a_config_entry(region, ccn, tmp_path):
    """A stricter rule (≤ 70 ha) in a new rule file, named by a profile, fails the larger sites without code changes."""
    from layers.site_rules import judge_sites
    from layers.siting import PROFILES_DIR, _district_codes, load_profile, load_rules

    rule_file = tmp_path / "draft-decree.yaml"
    rule_file.write_text(yaml.safe_dump({"legal_basis": "Draft decree (test)", "source": "https://example.org/draft", "date": "2026",
                                         "applies_to": ["CCN"], "rules": [{**RULE, "id": "draft_max", "text": "at most 70 ha",
                                                                          "check": {"field": "area_ha", "op": "<=", "value": 70}}]},
                                        allow_unicode=True), encoding="utf-8")
    prof = yaml.safe_load((PROFILES_DIR / "ccn.yaml").read_text(encoding="utf-8"))
    prof["rules"] = ["decree-32-2024-ccn", str(rule_file)]
    path = tmp_path / "ccn-draft.yaml"
    path.write_text(yaml.safe_dump(prof, allow_unicode=True), encoding="utf-8")
    profile = load_profile(path, region)
    names, codes = _district_codes(region, ccn.arrays["grid"])
    sites, summary = judge_sites(ccn.sites, load_rules(profile), profile, region, user_layers={}, parks=None,
                                 crs=region.metric_crs, cell_districts=(ccn.arrays["labels"], codes, names))
    big = sites["area_ha"] > 70
    assert big.any() and (~big).any()
    assert (sites.loc[big, "eligible"] == "false").all()
    assert sites.loc[big, "rule_failures"].str.contains("at most 70 ha").all()
    assert (sites.loc[~big, "eligible"] == ccn.sites.loc[~big, "eligible"]).all()
    assert len(summary["rules"]) == 4


def test_each_constraint_layer_excludes_its_land_in_any_crs(region, net, ccn, tmp_path):
    """Rice land (VN-2000), protected forest, heritage, flood polygons and settlement points: no site touches them;
    a user layer (substations) feeds a km_to_ criterion from a profile, without code."""
    from layers.siting import PROFILES_DIR, run_siting

    crs = region.metric_crs
    tops = ccn.sites.to_crs(crs)
    centres = [tops.geometry.iloc[i].centroid for i in range(5)]
    files, shapes = {}, {}
    for i, name in enumerate(["rice_land", "protected_forest", "heritage", "flood"]):
        geom = centres[i].buffer(900)
        frame = gpd.GeoDataFrame({"name": [name]}, geometry=[geom], crs=crs)
        if name == "rice_land":
            frame = frame.to_crs("EPSG:9214")       # VN-2000 / TM-3 107-00
            files[name] = tmp_path / "rice.gpkg"
            frame.to_file(files[name], driver="GPKG")
        else:
            files[name] = tmp_path / f"{name}.geojson"
            frame.to_crs(4326).to_file(files[name], driver="GeoJSON")
        shapes[name] = geom
    village = gpd.GeoDataFrame({"name": ["thôn"]}, geometry=[centres[4]], crs=crs).to_crs(4326)
    files["settlements"] = tmp_path / "villages.geojson"
    village.to_file(files["settlements"], driver="GeoJSON")
    shapes["settlements"] = centres[4].buffer(150)             # the profile's buffer around a village point
    substations = gpd.GeoDataFrame({"name": ["TBA 110 kV"]}, geometry=[centres[0]], crs=crs).to_crs(4326)
    files["substations"] = tmp_path / "substations.geojson"
    substations.to_file(files["substations"], driver="GeoJSON")

    prof = yaml.safe_load((PROFILES_DIR / "ccn.yaml").read_text(encoding="utf-8"))
    prof["criteria"]["km_to_substations"] = {"weight": 1, "transform": {"type": "linear", "best": 1, "worst": 15}}
    path = tmp_path / "ccn-power.yaml"
    path.write_text(yaml.safe_dump(prof, allow_unicode=True), encoding="utf-8")
    r = run_siting(region, path, cell_m=500, net=net, sensitivity=False, layers=files)
    s = r.summary
    union = shapely.union_all(np.asarray(r.sites.to_crs(crs).geometry.values))
    for name, geom in shapes.items():
        assert s["exclusions"][name]["given"] and s["exclusions"][name]["cells"] > 0, name
        assert shapely.intersection(union, geom).area < 1.0, name
    assert "km_to_substations" in s["weights_used"]
    g = r.grid
    assert g["km_to_substations"].min() < 0.36 and g["km_to_substations"].max() > 20
    assert r.sites["rice_land_ha"].eq(0).all()          # known now (the layer is given), and excluded


def test_constraints_not_given_are_reported_and_bad_layers_refused(region, ccn, tmp_path):
    from layers.siting import run_siting

    ex = ccn.summary["exclusions"]
    for name in ("rice_land", "protected_forest", "heritage", "settlements", "flood"):
        assert ex[name]["given"] is False and "not given" in ex[name]["note"]
    assert ccn.sites["rice_land_ha"].isna().all()       # unknown, not 0
    with pytest.raises(InputError, match="file not found"):
        run_siting(region, "ccn", cell_m=1000, layers={"flood": tmp_path / "missing.gpkg"})
    with pytest.raises(InputError, match="layer name"):
        run_siting(region, "ccn", cell_m=1000, layers={"Bad Name": tmp_path / "x.gpkg"})


def test_merged_province_knows_both_class1_cities(shared_data):
    """In bac-ninh-2025 a KCN site in TP Bắc Ninh is "unknown" on the class-I rule (listed, not confirmed), never passed;
    a site in a former Bắc Ninh district that is no city is not in a class-I urban area."""
    import geopandas as gpd

    from layers.region import load_region
    from layers.site_rules import site_facts
    from layers.siting import load_profile

    region = load_region("bac-ninh-2025", data_dir=shared_data)
    prof = load_profile("logistics-heavy", region)
    names = ["Bắc Giang", "Bắc Ninh", "Quế Võ", "Lạng Giang"]
    labels = np.array([[1, 1, 2, 3], [1, 2, 2, 3]])
    codes = np.array([[1, 1, 2, 3], [1, 2, 2, 0]])        # site 1 in Bắc Ninh, 2 in Quế Võ, 3 touches Bắc Giang
    sites = gpd.GeoDataFrame({"site": [1, 2, 3], "area_ha": [300.0, 300.0, 300.0], "district": ["Bắc Ninh", "Quế Võ", "Lạng Giang"]},
                             geometry=[None, None, None], crs="EPSG:4326")
    facts, why = site_facts(sites, prof, region, user_layers={}, parks=None, crs=region.metric_crs,
                            cell_districts=(labels, codes, names))
    assert facts["in_class1_urban"].tolist() == [None, False, None]
    assert "Bắc Ninh" in why["in_class1_urban"] and "not confirmed" in why["in_class1_urban"]
