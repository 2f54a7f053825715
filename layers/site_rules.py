"""Judging candidate sites against the legal rules their profile names (rule files in ``layers/rules/``).

:func:`judge_sites` gives every site the facts the rules read, then the
verdicts of :mod:`geo.siting.rules`. Facts per site (NaN/None = unknown, never a
guess):

``kind`` : the profile's ``scale`` (``CCN`` or ``KCN``).
``area_ha`` : the site's area.
``mountainous_district`` : True/False when the region YAML's
    ``siting.district_types.mountainous`` list is confirmed; None (unknown)
    otherwise.
``in_class1_urban`` : whether the site touches a district listed in
    ``siting.district_types.class1_urban``; None when it does and that class
    is not confirmed, False when it touches none of them.
``rice_land_ha`` : overlap of the site with the ``--rice-land`` layer (ha);
    NaN when no rice-land layer was given.
``ccn_district_occupancy_pct``, ``ccn_district_unleased_ha`` :
    area-weighted occupancy and unleased hectares of the existing clusters
    (CCN) of the site's district, from the parks layer; NaN unless every
    CCN of the district has a known area and occupancy.

Columns added to the ``sites`` layer
------------------------------------
``verdict`` : "eligible" (every rule of the legal basis known and passed),
    "ineligible" (a rule fails) or "unknown" (a fact is missing — or rests
    only on a proxy layer); ``verdict_reasons``; ``missing_facts`` (per
    undecided rule: why, and what to give to settle it, from the rule's
    ``settle_by``).
``eligible`` : the verdict as "true" / "false" / "unknown" (the maps' key).
``preconditions_met`` : the same over the rules of scope ``precondition``
    (conditions on the district or the time of establishment, e.g. the
    occupancy of existing clusters); they do not change ``eligible``.
``rule_failures`` : the rules the site fails, readable ("a CCN covers at
    most 75 ha (Decree 32/2024/NĐ-CP, Article 2)"), " | "-separated; None
    when none.
``rules_unknown`` : the rules that could not be decided, with why.
``rule_files`` : the rule files applied.
The facts above are kept as columns too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from geo.crs import to_metric
from geo.siting.rules import evaluate, listing, verdict, verdicts
from layers.region import Region


def _district_types(region: Region) -> dict:
    return ((region.config.get("siting") or {}).get("district_types")) or {}


def _tri(value) -> str:
    return "unknown" if value is None else ("true" if value else "false")


def site_facts(sites, prof, region: Region, *, user_layers: dict, parks, crs: str, cell_districts) -> tuple[pd.DataFrame, dict]:
    """The facts the rules read, one row per site, and why some are unknown (``{fact: reason}``)."""
    types = _district_types(region)
    labels, codes, names = cell_districts
    n = len(sites)
    facts = pd.DataFrame(index=sites.index)
    facts["kind"] = prof.scale
    facts["area_ha"] = sites["area_ha"].astype(float)
    why: dict[str, str] = {}

    mountain = types.get("mountainous") or {}
    listed = set(mountain.get("districts") or [])
    if mountain.get("confirmed") is True:
        facts["mountainous_district"] = [d in listed for d in sites["district"]]
    else:
        facts["mountainous_district"] = None
        why["mountainous_district"] = ("mountainous-district list not confirmed in the region YAML"
                                       if mountain else "no mountainous-district list in the region YAML")

    urban = types.get("class1_urban") or {}
    urban_districts = set(urban.get("districts") or [])
    touched = []
    lab = np.asarray(labels).ravel()
    code = np.asarray(codes).ravel()
    for site in sites["site"]:
        in_site = code[(lab == int(site)) & (code >= 0)]
        touched.append(bool({names[c] for c in np.unique(in_site)} & urban_districts))
    if not urban:
        facts["in_class1_urban"] = None
        why["in_class1_urban"] = "no class-I urban areas in the region YAML"
    else:
        confirmed = urban.get("confirmed") is True
        facts["in_class1_urban"] = [(True if confirmed else None) if t else False for t in touched]
        if not confirmed:
            why["in_class1_urban"] = f"class-I status of {', '.join(sorted(urban_districts))} not confirmed"

    rice = user_layers.get("rice_land")
    if rice is None:
        facts["rice_land_ha"] = np.nan
        why["rice_land_ha"] = "no rice-land layer given (--rice-land)"
    elif n:
        union = shapely.union_all(np.asarray(to_metric(rice, crs).geometry.values))
        geoms = np.asarray(sites.to_crs(crs).geometry.values)
        facts["rice_land_ha"] = np.round(shapely.area(shapely.intersection(geoms, union)) / 1e4, 2)

    occ, unleased = np.full(n, np.nan), np.full(n, np.nan)
    if parks is not None and len(parks) and "occupancy_pct" in parks:
        ccn = parks[parks["kind"] == "CCN"]
        for i, d in enumerate(sites["district"]):
            group = ccn[ccn["district"] == d]
            area = pd.to_numeric(group["area_ha"], errors="coerce")
            pct = pd.to_numeric(group["occupancy_pct"], errors="coerce")
            if len(group) and area.notna().all() and pct.notna().all() and area.sum() > 0:
                occ[i] = float((area * pct).sum() / area.sum())
                unleased[i] = float((area * (100 - pct) / 100).sum())
    facts["ccn_district_occupancy_pct"] = np.round(occ, 1)
    facts["ccn_district_unleased_ha"] = np.round(unleased, 1)
    if np.isnan(occ).any():
        why["ccn_district_occupancy_pct"] = "occupancy of some existing CCN of the district not on file"
        why["ccn_district_unleased_ha"] = why["ccn_district_occupancy_pct"]
    return facts, why


def _fields(cond) -> set:
    if "all" in cond or "any" in cond:
        return set().union(*(_fields(c) for c in cond.get("all", cond.get("any"))))
    if "not" in cond:
        return _fields(cond["not"])
    return {cond["field"]}


def _per_row_why(sites, facts: pd.DataFrame, why: dict, fields: set) -> pd.Series:
    """Why the facts of ``fields`` are unknown, per row: the run-wide reasons and the sites' own ``<fact>_why``."""
    texts = []
    for i in facts.index:
        parts = [why[f] for f in sorted(fields) if f in why]
        for f in sorted(fields):
            col = f"{f}_why"
            if col in sites.columns and isinstance(sites.at[i, col], str) and sites.at[i, col]:
                parts.append(sites.at[i, col])
        texts.append("; ".join(dict.fromkeys(parts)) or None)
    return pd.Series(texts, index=facts.index, dtype=object)


def missing_facts(rules: list, results: pd.DataFrame, reasons: dict) -> pd.Series:
    """Per row, for each rule that could not be decided: the rule, why its facts are unknown, and what to give."""
    out = []
    for i, row in results.iterrows():
        parts = []
        for r in rules:
            if row[r.id] != "unknown":
                continue
            why = reasons[r.id].get(i) if r.id in reasons else None
            text = f"{r.id}: {why or 'a fact is unknown'}"
            if r.settle_by:
                text += f" — give: {r.settle_by}"
            parts.append(text)
        out.append(" | ".join(parts) or None)
    return pd.Series(out, index=results.index, dtype=object)


def judge_sites(sites, rule_sets: list, prof, region: Region, *, user_layers: dict, parks, crs: str,
                cell_districts, proxies: dict | None = None) -> tuple:
    """``sites`` judged against the profile's rules (see the module docstring) and a summary.

    Columns: ``verdict`` ("eligible" only when every rule — site and
    precondition — is known and passed; "ineligible" when one fails;
    "unknown" otherwise), ``verdict_reasons`` (the failures, or the rules
    that could not be decided), ``missing_facts`` (per undecided rule: why,
    and what to give to settle it), ``eligible`` (the verdict as
    "true"/"false"/"unknown"), ``preconditions_met``, ``rule_failures``,
    ``rules_unknown``, ``rule_files`` and the facts. A fact that rests on a
    proxy layer (``proxies``: fact → what the proxy is) is unknown, never a
    pass: the proxy's value is kept in ``<fact>_proxy``.
    """
    rules = [r for s in rule_sets for r in s.rules if not s.applies_to or prof.scale in s.applies_to]
    out = sites.copy()
    summary = {"files": [s.file for s in rule_sets], "scale": prof.scale,
               "rules": [{"id": r.id, "text": r.text, "legal_basis": r.legal_basis, "article": r.article, "source": r.source,
                          "date": r.date, "scope": r.scope, "settle_by": r.settle_by} for r in rules],
               "not_applied": [s.file for s in rule_sets if s.applies_to and prof.scale not in s.applies_to]}
    if not rules:
        out["verdict"] = "unknown"
        out["verdict_reasons"] = "no legal rules apply to this profile (no 'rules:' or 'scale:')"
        out["missing_facts"] = out["verdict_reasons"]
        for col in ("eligible", "preconditions_met"):
            out[col] = "unknown"
        out["rule_failures"] = None
        out["rules_unknown"] = "no legal rules apply to this profile (no 'rules:' or 'scale:')"
        out["rule_files"] = None
        summary["note"] = "no rules applied: eligibility unknown"
        return out, summary
    facts, why = site_facts(out, prof, region, user_layers=user_layers, parks=parks, crs=crs, cell_districts=cell_districts)
    needed = set().union(*(_fields(r.check) | (_fields(r.when) if r.when else set()) for r in rules))
    for f in sorted(needed - set(facts.columns)):
        if f in out.columns:
            facts[f] = out[f].to_numpy()
    for f, what in (proxies or {}).items():
        if f in facts.columns:
            facts[f"{f}_proxy"] = facts[f]
            facts[f] = None
            why[f] = f"only a proxy is given ({what}): a proxy never decides a rule"
    results = evaluate(rules, facts)
    reasons = {}
    for r in rules:
        fields = _fields(r.check) | (_fields(r.when) if r.when else set())
        reasons[r.id] = _per_row_why(out, facts, why, fields)
    for col in facts.columns:
        if col not in out.columns:
            out[col] = facts[col]
    out["verdict"] = verdict(rules, results)
    failures = listing(rules, results, "fail")
    unknown = listing(rules, results, "unknown", reasons)
    out["verdict_reasons"] = [f"fails: {f}" if v == "ineligible" else (f"undecided: {u}" if v == "unknown" else
                              "every rule known and passed") for v, f, u in zip(out["verdict"], failures, unknown)]
    out["missing_facts"] = missing_facts(rules, results, reasons)
    out["eligible"] = out["verdict"].map({"eligible": "true", "ineligible": "false", "unknown": "unknown"})
    pre = [r for r in rules if r.scope == "precondition"]
    out["preconditions_met"] = verdicts(rules, results, "precondition").map(_tri) if pre else "true"
    out["rule_failures"] = failures
    out["rules_unknown"] = unknown
    out["rule_files"] = "; ".join(s.file.rsplit("/", 1)[-1] for s in rule_sets)
    summary["verdicts"] = {k: int(v) for k, v in out["verdict"].value_counts().items()}
    summary["preconditions"] = {k: int(v) for k, v in out["preconditions_met"].value_counts().items()}
    summary["unknown_facts"] = why
    summary["verdict_rule"] = ("eligible only when every rule (site and precondition) is known and passed; a fact "
                               "resting on a proxy layer (OSM 2018 land use, WorldCover) is unknown")
    return out, summary
