"""Planning a siting run: merge defaults → profile → options into a :class:`SitingPlan`, refusing anything unknown.

Kept apart from :mod:`layers.siting.options` (settings only) so that the
imports run one way: ``options`` ← ``criteria`` ← ``profiles`` ← ``planning``.
"""

from __future__ import annotations

from pathlib import Path

from geo.errors import InputError
from geo.siting.suitability import Profile
from layers.siting.options import (
    _LAYER_NAME,
    CONSTRAINT_DEFAULTS,
    CONSTRAINT_USES,
    EXCLUSION_DEFAULTS,
    LOCATE_DEFAULTS,
    SITING_DEFAULTS,
    USER_LAYER_DEFAULT,
    SitingOptions,
    SitingPlan,
    _check_locate,
)
from layers.siting.profiles import load_profile, load_rules


def plan_siting(region, options: SitingOptions) -> SitingPlan:
    """Read the profile and its rule files and merge every setting; raises :class:`InputError` on anything unknown."""
    region_files, missing = region_constraint_files(region, options.layer_files)
    user_files = {**region_files, **options.layer_files}
    prof = load_profile(options.profile, region, layer_names=list(user_files))
    constraints = constraint_settings(prof, user_files)
    for name, note in missing.items():
        if name in constraints:
            constraints[name]["missing_note"] = note
    grid_cfg = {**SITING_DEFAULTS, **(region.config.get("siting") or {})}
    rules = {**EXCLUSION_DEFAULTS, **prof.exclusions}
    for key in ("urban_radius_m", "settlement_radius_m"):
        rules[key] = {**EXCLUSION_DEFAULTS[key], **(prof.exclusions.get(key) or {})}
    unknown_rules = sorted(set(prof.exclusions) - set(EXCLUSION_DEFAULTS))
    if unknown_rules:
        raise InputError(prof.source, f"unknown exclusion setting '{unknown_rules[0]}' (known: {', '.join(EXCLUSION_DEFAULTS)})")
    loc = {**LOCATE_DEFAULTS, **prof.locate}
    unknown_loc = sorted(set(prof.locate) - set(LOCATE_DEFAULTS))
    if unknown_loc:
        raise InputError(prof.source, f"unknown locate setting '{unknown_loc[0]}' (known: {', '.join(LOCATE_DEFAULTS)})")
    loc.update(options.locate_overrides)
    if options.min_score is not None and options.top_share is None:
        loc["top_share"] = None
    _check_locate(loc, prof.source)
    rule_sets = load_rules(prof)
    cell_m = float(grid_cfg["cell_m"] if options.cell_m is None else options.cell_m)
    return SitingPlan(options=options, profile=prof, exclusions=rules, constraints=constraints, locate=loc,
                      rule_sets=rule_sets, grid=grid_cfg, cell_m=cell_m, region_layers=region_files)


def region_constraint_files(region, given: dict) -> tuple[dict[str, Path], dict[str, str]]:
    """Default constraint files named by the region's ``constraints:`` section (``<name>_file: path in the data folder``).

    Returns ``(files, notes)``: the files present in the data folder for the
    constraints the caller did not give, and for the absent ones a "not given"
    note saying how to fetch them (``plan.py fetch --only …``). An absent file
    is never an error: the constraint is then reported as not given.
    """
    section = (getattr(region, "config", {}) or {}).get("constraints") or {}
    if not isinstance(section, dict):
        raise InputError(region.source_file, "constraints: must be a mapping of <constraint>_file: path")
    files, notes = {}, {}
    for key, name in section.items():
        if not str(key).endswith("_file"):
            raise InputError(region.source_file, f"constraints: '{key}' must be <constraint>_file (e.g. settlements_file)")
        layer = str(key)[: -len("_file")]
        if not _LAYER_NAME.match(layer):
            raise InputError(region.source_file, f"constraints: '{key}': the layer name must be lower-case letters, digits and _")
        if layer in given or not name:
            continue
        path = Path(region.data_dir) / str(name)
        option = "--" + layer.replace("_", "-") if layer in CONSTRAINT_DEFAULTS else f"--layer {layer}=FILE"
        if path.is_file():
            files[layer] = path
        else:
            notes[layer] = f"not given (run 'plan.py fetch --only {name} --dest {region.data_dir}' or pass {option})"
    return files, notes


def constraint_settings(prof: Profile, user_files: dict) -> dict[str, dict]:
    """Use and buffer of every constraint layer and user layer: defaults, then the profile's ``constraints:``."""
    out = {}
    for name in dict.fromkeys([*CONSTRAINT_DEFAULTS, *user_files, *prof.constraints]):
        spec = dict(CONSTRAINT_DEFAULTS.get(name, USER_LAYER_DEFAULT))
        given = prof.constraints.get(name, {})
        if isinstance(given, str):
            given = {"use": given}
        if not isinstance(given, dict):
            raise InputError(prof.source, f"constraints: {name} must be exclude, penalty, ignore or a mapping with 'use'")
        unknown = sorted(set(given) - {"use", "buffer_m", "what"})
        if unknown:
            raise InputError(prof.source, f"constraints: {name}: unknown setting '{unknown[0]}' (use, buffer_m)")
        spec.update(given)
        if spec["use"] not in CONSTRAINT_USES:
            raise InputError(prof.source, f"constraints: {name}: use must be one of {', '.join(CONSTRAINT_USES)}, not '{spec['use']}'")
        try:
            spec["buffer_m"] = float(spec["buffer_m"])
        except (TypeError, ValueError):
            raise InputError(prof.source, f"constraints: {name}: buffer_m must be a number") from None
        if spec["buffer_m"] < 0:
            raise InputError(prof.source, f"constraints: {name}: buffer_m must be ≥ 0")
        spec["given"] = name in user_files
        out[name] = spec
    return out
