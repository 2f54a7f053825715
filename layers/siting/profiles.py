"""Siting profiles (``layers/profiles/*.yaml``) and the rule files they name (``layers/rules/*.yaml``)."""

from __future__ import annotations

from pathlib import Path

from geo.errors import InputError
from geo.siting.suitability import Profile, read_profile
from layers.region import Region
from layers.siting.criteria import CRITERIA
from layers.siting.options import PROFILES_DIR, RULES_DIR


def profile_path(name_or_path) -> Path:
    """Path of a shipped profile name (``logistics-heavy``, ``labour-intensive``) or of a YAML file."""
    candidate = Path(str(name_or_path))
    if candidate.suffix in (".yaml", ".yml") or candidate.exists():
        return candidate
    path = PROFILES_DIR / f"{name_or_path}.yaml"
    if not path.exists():
        shipped = ", ".join(sorted(p.stem for p in PROFILES_DIR.glob("*.yaml")))
        raise InputError(None, f"unknown siting profile '{name_or_path}' (shipped: {shipped}; or give a .yaml file)")
    return path


def load_profile(name_or_path, region: Region, layer_names=()) -> Profile:
    """Read a profile and check its criteria against what the region can measure (the criteria registry)."""
    path = profile_path(name_or_path)
    profile = read_profile(path)
    known = CRITERIA.known(region, layer_names)
    for name in profile.criteria:          # family members outside the listed ones (e.g. any "people within N minutes")
        if name not in known and CRITERIA.resolve(name, region, layer_names) is not None:
            known[name] = CRITERIA.describe(name, region, layer_names)
    profile.check_names(known)
    return profile


def load_rules(prof: Profile) -> list:
    """The rule sets a profile names (``rules: [decree-32-2024-ccn]``: files in ``layers/rules/`` or paths)."""
    from geo.siting.rules import read_rules

    sets = []
    for name in prof.rules:
        path = Path(name)
        if path.suffix not in (".yaml", ".yml"):
            path = RULES_DIR / f"{name}.yaml"
        if not path.exists():
            shipped = ", ".join(sorted(p.stem for p in RULES_DIR.glob("*.yaml")))
            raise InputError(prof.source, f"rule file '{name}' not found (shipped: {shipped})")
        sets.append(read_rules(path))
    return sets

