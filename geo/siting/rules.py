"""Legal rules as configuration: read rule files and give each row (a candidate site) a three-valued verdict.

A rule file (YAML) holds the rules of one legal basis; every rule names its
article, source and date, so a planner can check it, and a new rule is a new
entry, never code::

    legal_basis: Decree 32/2024/NĐ-CP on the management and development of industrial clusters
    source: https://…
    date: "2024-03-15"
    applies_to: [CCN]                 # the site kinds (profile scales) it governs
    rules:
      - id: ccn_max_area
        text: a CCN covers at most 75 ha
        article: Article 2(1)
        source: https://…
        date: "2024-03-15"
        scope: site                   # site (the site itself) or precondition (its district, its time)
        when: {field: kind, op: "==", value: CCN}          # optional: where the rule applies
        check: {field: area_ha, op: "<=", value: 75}

Conditions are ``{field, op, value}`` (ops ``< <= > >= == != in not_in``),
``{all: [...]}``, ``{any: [...]}`` or ``{not: ...}``. A field that is
missing or NaN/None in a row is *unknown*, and unknowns propagate with
Kleene's three-valued logic (``any`` is true as soon as one part is true,
``all`` false as soon as one part is false).

A rule's result per row (:func:`evaluate`): ``"n/a"`` when ``when`` is
false; ``"pass"`` when the check is true (even if ``when`` is unknown);
``"fail"`` when ``when`` is true and the check false; ``"unknown"``
otherwise. :func:`verdicts` folds them: ``False`` when any rule fails,
``None`` (unknown) when none fails but one is unknown, ``True`` otherwise.

>>> import pandas as pd
>>> rule = parse_rule({"id": "max", "text": "at most 75 ha", "article": "Art. 2", "source": "s", "date": "2024",
...                    "check": {"field": "area_ha", "op": "<=", "value": 75}}, "x.yaml")
>>> evaluate([rule], pd.DataFrame({"area_ha": [50.0, 80.0, float("nan")]}))["max"].tolist()
['pass', 'fail', 'unknown']
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geo.config import read_yaml
from geo.errors import InputError

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq, "!=": operator.ne,
        "in": lambda a, b: a in b, "not_in": lambda a, b: a not in b}
SCOPES = ("site", "precondition")
_REQUIRED = ("id", "text", "article", "source", "date", "check")


@dataclass(frozen=True)
class Rule:
    """One legal rule (see the module docstring)."""

    id: str
    text: str
    article: str
    source: str
    date: str
    check: dict
    when: dict | None = None
    scope: str = "site"
    note: str = ""
    legal_basis: str = ""
    file: str = ""
    settle_by: str = ""            # what to give to decide the rule when a fact is unknown

    def label(self) -> str:
        """Readable reference: '<text> (<legal basis>, <article>)'."""
        basis = f"{self.legal_basis}, " if self.legal_basis else ""
        return f"{self.text} ({basis}{self.article})"


@dataclass
class RuleSet:
    """The rules of one file with its legal basis."""

    legal_basis: str
    source: str
    date: str
    applies_to: list[str]
    rules: list[Rule] = field(default_factory=list)
    file: str = ""
    notes: dict = field(default_factory=dict)


def _check_condition(cond, where: str, source) -> None:
    if not isinstance(cond, dict) or not cond:
        raise InputError(source, f"{where}: a condition must be a mapping ({{field, op, value}}, all, any or not)")
    if "all" in cond or "any" in cond:
        parts = cond.get("all", cond.get("any"))
        if not isinstance(parts, list) or not parts:
            raise InputError(source, f"{where}: 'all'/'any' needs a non-empty list of conditions")
        for part in parts:
            _check_condition(part, where, source)
        return
    if "not" in cond:
        _check_condition(cond["not"], where, source)
        return
    missing = [k for k in ("field", "op", "value") if k not in cond]
    if missing:
        raise InputError(source, f"{where}: condition needs '{missing[0]}'")
    if cond["op"] not in _OPS:
        raise InputError(source, f"{where}: unknown op '{cond['op']}' (use {' '.join(_OPS)})")
    if cond["op"] in ("in", "not_in") and not isinstance(cond["value"], list):
        raise InputError(source, f"{where}: op '{cond['op']}' needs a list value")


def parse_rule(data, source, legal_basis: str = "") -> Rule:
    """A :class:`Rule` from its YAML entry; refuses a rule without article, source or date."""
    if not isinstance(data, dict):
        raise InputError(source, "each rule must be a mapping")
    missing = [k for k in _REQUIRED if not data.get(k)]
    if missing:
        raise InputError(source, f"rule '{data.get('id', '?')}' has no '{missing[0]}' (every rule needs {', '.join(_REQUIRED)})")
    where = f"rule '{data['id']}'"
    _check_condition(data["check"], where, source)
    if data.get("when") is not None:
        _check_condition(data["when"], where, source)
    scope = str(data.get("scope", "site"))
    if scope not in SCOPES:
        raise InputError(source, f"{where}: scope must be one of {', '.join(SCOPES)}, not '{scope}'")
    return Rule(id=str(data["id"]), text=str(data["text"]), article=str(data["article"]), source=str(data["source"]),
                date=str(data["date"]), check=data["check"], when=data.get("when"), scope=scope,
                note=str(data.get("note") or ""), legal_basis=legal_basis, file=str(source or ""),
                settle_by=" ".join(str(data.get("settle_by") or "").split()))


def read_rules(path) -> RuleSet:
    """Read and check a rule file (see the module docstring)."""
    path = Path(path)
    data = read_yaml(path, "rule file")
    for key in ("legal_basis", "source", "date", "rules"):
        if not data.get(key):
            raise InputError(path, f"rule file has no '{key}'")
    if not isinstance(data["rules"], list):
        raise InputError(path, "'rules' must be a list")
    short = str(data.get("short_name") or data["legal_basis"])
    rules = [parse_rule(r, path, short) for r in data["rules"]]
    ids = [r.id for r in rules]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise InputError(path, f"rule id '{sorted(dup)[0]}' is used twice")
    applies = data.get("applies_to") or []
    return RuleSet(legal_basis=str(data["legal_basis"]), source=str(data["source"]), date=str(data["date"]),
                   applies_to=[str(a) for a in (applies if isinstance(applies, list) else [applies])], rules=rules,
                   file=str(path), notes=data.get("notes") or {})


def _unknown(value) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def truth(cond: dict, row: dict):
    """Three-valued truth of a condition for one row: True, False or None (unknown).

    >>> truth({"any": [{"field": "a", "op": ">", "value": 1}, {"field": "b", "op": "==", "value": True}]}, {"a": 2, "b": None})
    True
    >>> truth({"all": [{"field": "a", "op": ">", "value": 1}, {"field": "b", "op": "==", "value": True}]}, {"a": 2, "b": None}) is None
    True
    """
    if "all" in cond:
        parts = [truth(c, row) for c in cond["all"]]
        return False if any(p is False for p in parts) else (None if any(p is None for p in parts) else True)
    if "any" in cond:
        parts = [truth(c, row) for c in cond["any"]]
        return True if any(p is True for p in parts) else (None if any(p is None for p in parts) else False)
    if "not" in cond:
        inner = truth(cond["not"], row)
        return None if inner is None else not inner
    value = row.get(cond["field"])
    if _unknown(value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    return bool(_OPS[cond["op"]](value, cond["value"]))


def result_of(rule: Rule, row: dict) -> str:
    """``pass``, ``fail``, ``unknown`` or ``n/a`` for one row (see the module docstring)."""
    applies = True if rule.when is None else truth(rule.when, row)
    if applies is False:
        return "n/a"
    ok = truth(rule.check, row)
    if ok is True:
        return "pass"
    if ok is False and applies is True:
        return "fail"
    return "unknown"


def evaluate(rules: list[Rule], table: pd.DataFrame) -> pd.DataFrame:
    """One column per rule id with ``pass``/``fail``/``unknown``/``n/a`` per row of ``table``."""
    records = table.to_dict(orient="records")
    return pd.DataFrame({r.id: [result_of(r, row) for row in records] for r in rules}, index=table.index)


def verdicts(rules: list[Rule], results: pd.DataFrame, scope: str = "site") -> pd.Series:
    """Per row: False if a rule of ``scope`` fails, None if none fails but one is unknown, else True."""
    ids = [r.id for r in rules if r.scope == scope]
    out = []
    for _, row in results[ids].iterrows():
        values = set(row.tolist())
        out.append(False if "fail" in values else (None if "unknown" in values else True))
    return pd.Series(out, index=results.index, dtype=object)


def verdict(rules: list[Rule], results: pd.DataFrame) -> pd.Series:
    """Per row over every rule (site and precondition): "ineligible" if one fails, "unknown" if none fails but one is
    unknown, "eligible" only when every rule is known and passed (or does not apply).

    >>> r = [parse_rule({"id": i, "text": i, "article": "a", "source": "s", "date": "d",
    ...                  "check": {"field": i, "op": "==", "value": True}}, "x.yaml") for i in ("a", "b")]
    >>> verdict(r, evaluate(r, pd.DataFrame({"a": [True, True, False], "b": [True, None, None]}))).tolist()
    ['eligible', 'unknown', 'ineligible']
    """
    ids = [r.id for r in rules]
    out = []
    for _, row in results[ids].iterrows():
        values = set(row.tolist())
        out.append("ineligible" if "fail" in values else ("unknown" if "unknown" in values else "eligible"))
    return pd.Series(out, index=results.index, dtype=object)


def listing(rules: list[Rule], results: pd.DataFrame, outcome: str, reasons: dict | None = None) -> pd.Series:
    """Per row, the readable labels of the rules whose result is ``outcome`` joined by " | " (None when none).

    ``reasons`` maps a rule id to a per-row Series of extra text (e.g. why a
    fact is unknown), appended in brackets.
    """
    by_id = {r.id: r for r in rules}
    out = []
    for i, row in results.iterrows():
        parts = []
        for rid, value in row.items():
            if value != outcome:
                continue
            text = by_id[rid].label()
            extra = None if reasons is None or rid not in reasons else reasons[rid].get(i)
            parts.append(f"{text} [{extra}]" if extra else text)
        out.append(" | ".join(parts) or None)
    return pd.Series(out, index=results.index, dtype=object)
