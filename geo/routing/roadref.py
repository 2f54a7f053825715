"""Recognising Vietnamese road numbers in OSM ``ref``/``name`` tags and names.

Road numbers are written many ways: "QL1A", "QL.1A", "QL 1A", "Quốc lộ 1A",
"1A", "CT.01", "ĐT.295", "AH1", "Vành đai 4". :func:`parse_refs` turns any
of them into canonical codes — a class prefix and a number:

=======  =======================================  ==============
prefix   written as                                example
=======  =======================================  ==============
``QL``   Quốc lộ, QL, national road/highway, NR    ``QL1A``
``CT``   cao tốc, CT, expressway                   ``CT1``
``DT``   đường tỉnh, tỉnh lộ, ĐT, TL               ``DT295``
``DH``   đường huyện, huyện lộ, ĐH                 ``DH12``
``AH``   Asian Highway                             ``AH1``
``VD``   vành đai, VĐ, ring road                   ``VD4``
``?``    a bare number, class unknown              ``?37``
=======  =======================================  ==============

:func:`match_corridor` then finds which configured corridor a way belongs to.
"""

from __future__ import annotations

import re
from typing import Iterable, Mapping

from geo.text import fold

_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6"}

# (folded spelling, canonical prefix); longer spellings first.
_PREFIXES = [
    ("national highway", "QL"), ("national road", "QL"), ("quoc lo", "QL"), ("ql", "QL"), ("nr", "QL"),
    ("expressway", "CT"), ("cao toc", "CT"), ("ct", "CT"),
    ("duong tinh", "DT"), ("tinh lo", "DT"), ("provincial road", "DT"), ("dt", "DT"), ("tl", "DT"),
    ("duong huyen", "DH"), ("huyen lo", "DH"), ("dh", "DH"),
    ("asian highway", "AH"), ("ah", "AH"),
    ("vanh dai", "VD"), ("ring road", "VD"), ("beltway", "VD"), ("vd", "VD"),
]
_PREFIX_RE = "|".join(re.escape(p) for p, _ in _PREFIXES)
_CODE = re.compile(rf"\b({_PREFIX_RE})\s*(\d+|iii|ii|iv|vi|v|i)\s*([a-z])?\b")
_BARE = re.compile(r"^(\d+)\s*([a-z])?$")
_PREFIX_OF = dict(_PREFIXES)


def _canonical(prefix: str, number: str, letter: str | None) -> str:
    number = _ROMAN.get(number, number).lstrip("0") or "0"
    return f"{prefix}{number}{(letter or '').upper()}"


def parse_refs(text) -> list[str]:
    """Canonical road codes found in an OSM ``ref``/``name`` value or a name.

    >>> parse_refs("QL.1A;AH1")
    ['QL1A', 'AH1']
    >>> parse_refs("Quốc lộ 37")
    ['QL37']
    >>> parse_refs("CT.01")
    ['CT1']
    >>> parse_refs("ĐT.295B")
    ['DT295B']
    >>> parse_refs("1A")
    ['?1A']
    >>> parse_refs("Đường Vành đai IV")
    ['VD4']
    >>> parse_refs(None)
    []
    """
    if not isinstance(text, str) or not text.strip():
        return []
    codes: list[str] = []
    for part in re.split(r"[;,/|]", text):
        key = fold(part)
        if not key:
            continue
        bare = _BARE.match(key)
        if bare:
            codes.append(_canonical("?", bare.group(1), bare.group(2)))
            continue
        for prefix, number, letter in _CODE.findall(key):
            codes.append(_canonical(_PREFIX_OF[prefix], number, letter))
    return list(dict.fromkeys(codes))


def match_corridor(ref, name, corridors: Mapping[str, Mapping]) -> str | None:
    """Id of the first corridor (in config order) that ``ref``/``name`` belong to.

    Each corridor has ``refs`` (codes in any spelling, parsed with
    :func:`parse_refs`) and ``names`` (phrases matched as whole words,
    ignoring case and accents). A bare number in the data ("37") matches only
    where the config lists that bare form. Put expressways first: a way
    tagged "CT.01;AH1" then belongs to the expressway, not to QL1A.

    >>> spec = {"ct01": {"refs": ["CT.01"], "names": ["cao toc ha noi lang son"]},
    ...         "ql1a": {"refs": ["QL1A", "QL1", "AH1"]},
    ...         "ql279": {"refs": ["QL279"]}}
    >>> match_corridor("CT.01;AH1", None, spec)
    'ct01'
    >>> match_corridor(None, "Quốc lộ 1A", spec)
    'ql1a'
    >>> match_corridor("QL1B", None, spec) is None
    True
    >>> match_corridor(None, "Tỉnh lộ 279", spec) is None
    True
    >>> match_corridor(None, "Cao tốc Hà Nội - Lạng Sơn", spec)
    'ct01'
    """
    found = set(parse_refs(ref)) | set(parse_refs(name))
    folded_name = f" {fold(name)} " if isinstance(name, str) else ""
    for corridor_id, spec in corridors.items():
        wanted = set(_codes(spec.get("refs") or []))
        if found & wanted:
            return corridor_id
        for phrase in spec.get("names") or []:
            if folded_name and f" {fold(phrase)} " in folded_name:
                return corridor_id
    return None


def _codes(values: Iterable[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        out.extend(parse_refs(str(value)))
    return out
