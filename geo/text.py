"""Vietnamese names: Unicode normalisation and matching keys.

Names are kept as given, in NFC with their diacritics. For *matching* only,
:func:`fold` makes a key without case, tone marks or the letter đ, so that
"KHU CÔNG NGHIỆP VÂN TRUNG – BẮC NINH" and "KCN Vân Trung" meet.
"""

from __future__ import annotations

import re
import unicodedata

_DASHES = dict.fromkeys(map(ord, "‐‑‒–—―−"), "-")


def nfc(text):
    """Return ``text`` in Unicode NFC with dashes unified and spaces collapsed.

    Non-strings (None, NaN) are returned unchanged.

    >>> nfc("Hie\u0323\u0302p Ho\u0300a") == "Hiệp Hòa"
    True
    """
    if not isinstance(text, str):
        return text
    text = unicodedata.normalize("NFC", text).translate(_DASHES)
    return " ".join(text.split())


def fold(text: str) -> str:
    """Lower-case ASCII key: no tone marks, đ → d, punctuation → spaces.

    >>> fold("Khu công nghiệp Đình Trám")
    'khu cong nghiep dinh tram'
    >>> fold("Hòa Phú") == fold("Hoà Phú")   # old and new tone placement
    True
    """
    text = unicodedata.normalize("NFD", nfc(text).replace("Đ", "D").replace("đ", "d"))
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn").lower()
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return " ".join(text.split())


_PARK_PREFIXES = (
    "khu cong nghiep", "cum cong nghiep", "kcn", "ccn", "cum cn", "khu cn",
    "industrial park", "industrial cluster", "industrial zone",
)
_PARK_SUFFIXES = ("tinh bac ninh", "tinh bac giang", "bac ninh", "bac giang")


def park_key(name: str) -> str:
    """Matching key of an industrial park name.

    Drops the kind prefix (KCN, Khu công nghiệp, CCN, Cụm công nghiệp …), a
    trailing province ("- Bắc Giang", "- Bắc Ninh"), phase words are kept
    ("giai đoạn 1" → "gd 1", "mở rộng" → "mo rong") because phases are
    different parks.

    >>> park_key("KHU CÔNG NGHIỆP VÂN TRUNG – BẮC NINH")
    'van trung'
    >>> park_key("KCN Vân Trung")
    'van trung'
    >>> park_key("KHU CÔNG NGHIỆP YÊN LƯ MỞ RỘNG - BẮC NINH")
    'yen lu mo rong'
    >>> park_key("KCN Yên Lư (mở rộng)")
    'yen lu mo rong'
    >>> park_key("KCN Tiên Sơn - Ninh Sơn GĐ 1") == park_key("KHU CÔNG NGHIỆP TIÊN SƠN - NINH SƠN GIAI ĐOẠN 1")
    True
    """
    key = fold(name)
    for prefix in _PARK_PREFIXES:
        if key.startswith(prefix + " "):
            key = key[len(prefix) + 1:]
            break
    for suffix in _PARK_SUFFIXES:
        if key.endswith(" " + suffix):
            key = key[: -len(suffix) - 1]
            break
    key = re.sub(r"\bgiai doan\b", "gd", key)
    key = re.sub(r"\b(i)\b", "1", key)
    key = re.sub(r"\b(ii)\b", "2", key)
    key = re.sub(r"\b(iii)\b", "3", key)
    return " ".join(key.split())
