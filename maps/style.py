"""Colours, classes, bilingual labels and number formats shared by every map and page.

One place decides how a value looks, so the map, its legend and the
indicators page always agree.

Numbers
-------
One format per language: Vietnamese writes ``1.803.950`` and ``93,2``,
English ``1,803,950`` and ``93.2`` (texts built in a language, see
:mod:`maps.lang`; the browser's ``Intl.NumberFormat("vi-VN" / "en-GB")``
writes the same). Texts built without a language (tables, CSV notes, the
plain pages that show both languages at once) group thousands with a narrow
no-break space (U+202F, the SI/ISO 80000 separator) and use a decimal comma:
``1 803 950``, ``93,2 %``. Units follow the language ("phút" / "min"). A
missing value is written :data:`UNKNOWN` ("không rõ / unknown", or one side of
it), never 0.

>>> fmt_number(1803950)
'1\u202f803\u202f950'
>>> fmt_ha(4650.4)
'4\u202f650 ha'
>>> fmt_ha(9.1)
'9,1 ha'
>>> fmt_pct(0.114, decimals=1)
'11,4 %'
>>> fmt_minutes(float("nan"))
'không rõ / unknown'
>>> from maps.lang import language
>>> with language("vi"):
...     fmt_number(1803950.4), fmt_number(0.956, 3), fmt_minutes(42.4), fmt_minutes(None)
('1.803.950', '0,956', '42 phút', 'không rõ')
>>> with language("en"):
...     fmt_number(1803950.4), fmt_number(0.956, 3), fmt_minutes(42.4), fmt_minutes(None)
('1,803,950', '0.956', '42 min', 'unknown')
>>> park_status_class("operating; 93.2% filled")
'operating'
>>> park_status_class("unknown (listed on iipvietnam.vn)")
'unknown'
"""

from __future__ import annotations

import math
import re

import pandas as pd

from geo.text import fold, nfc
from maps.lang import current as _language
from maps.lang import tr

#: How a missing value is written everywhere (never 0).
UNKNOWN = "không rõ / unknown"
#: Narrow no-break space: the thousands separator.
THOUSANDS = "\u202f"
DECIMAL = ","

#: Attribution required on every map (data/SOURCES.md): the carried open sources and their licences.
#: Layers from a --data folder (GADM, iipvietnam.vn …) are credited on the sources page (licences.json).
ATTRIBUTION = ('© <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors (ODbL) · '
               '<a href="https://www.geoboundaries.org">geoBoundaries</a> / OCHA ROAP (CC BY 3.0 IGO) · '
               '<a href="https://www.worldpop.org">WorldPop</a> (CC BY 4.0) · '
               'GSO census 2019 · CTU-SematX (CC BY-SA 4.0)')
#: The same as plain text (for pages and tests).
ATTRIBUTION_TEXT = ("© OpenStreetMap contributors (ODbL) · geoBoundaries / OCHA ROAP (CC BY 3.0 IGO) · "
                    "WorldPop (CC BY 4.0) · GSO census 2019 · CTU-SematX (CC BY-SA 4.0)")


def is_missing(value) -> bool:
    """True for None, NaN, pandas NA and empty strings.

    >>> [is_missing(v) for v in (None, float("nan"), "", " ", 0, "0")]
    [True, True, True, True, False, False]
    """
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def unknown() -> str:
    """:data:`UNKNOWN` in the language texts are built in."""
    return tr(UNKNOWN)


def fmt_number(value, decimals: int = 0, unit: str = "") -> str:
    """``value`` with grouped thousands in the format of the language (see the module docstring); the ``unit``
    (a bilingual literal such as "phút / min", or "ha") after it; :data:`UNKNOWN` when missing.

    >>> fmt_number(1234.56, 1, "km")
    '1\u202f234,6 km'
    >>> fmt_number(None)
    'không rõ / unknown'
    """
    if is_missing(value):
        return unknown()
    value = float(value)
    if not math.isfinite(value):
        return unknown()
    separators = {"vi": (".", ","), "en": (",", "."), None: (THOUSANDS, DECIMAL)}[_language()]
    text = f"{value:,.{decimals}f}".replace(",", "\x00").replace(".", separators[1]).replace("\x00", separators[0])
    if text.lstrip("-").strip("0.,\u202f") == "" and text.startswith("-"):
        text = text[1:]                      # -0.0 → 0
    return f"{text} {tr(unit)}" if unit else text


def fmt_ha(value) -> str:
    """Hectares: whole numbers from 100 ha (and whole values), one decimal below."""
    if is_missing(value):
        return unknown()
    value = float(value)
    return fmt_number(value, 0 if abs(value) >= 100 or value.is_integer() else 1, "ha")


def fmt_km(value) -> str:
    """Kilometres, one decimal."""
    return fmt_number(value, 1, "km")


def fmt_minutes(value) -> str:
    """Minutes, whole."""
    return fmt_number(value, 0, "phút / min")


def fmt_minutes_range(value, low=None, high=None) -> str:
    """Minutes with the range the assumed speeds allow: "34 (28–41) phút / min"; the value alone without a range.

    >>> fmt_minutes_range(34.2, 27.6, 41.4)
    '34 (28–41) phút / min'
    >>> fmt_minutes_range(34.2, None, 41)
    '34 phút / min'
    >>> fmt_minutes_range(None, 28, 41)
    'không rõ / unknown'
    """
    if is_missing(value) or not math.isfinite(float(value)):
        return unknown()
    if is_missing(low) or is_missing(high) or not (math.isfinite(float(low)) and math.isfinite(float(high))):
        return fmt_minutes(value)
    return f"{fmt_number(value, 0)} ({fmt_number(low, 0)}–{fmt_number(high, 0)}) {tr('phút / min')}"


def fmt_people(value) -> str:
    """Persons, whole, grouped."""
    return fmt_number(value, 0, "người / persons")


def fmt_density(value) -> str:
    return fmt_number(value, 0, "người/km² / persons/km²")


def fmt_pct(value, decimals: int = 0) -> str:
    """A share 0–1 as a percentage."""
    if is_missing(value):
        return unknown()
    return fmt_number(float(value) * 100, decimals, "%")


def fmt_pct100(value, decimals: int = 1) -> str:
    """A value already in percent (0–100)."""
    return fmt_number(value, decimals, "%")


def fmt_text(value) -> str:
    """Text as NFC; :data:`UNKNOWN` when missing. (Not escaped: escaping is done where HTML is built.)"""
    if is_missing(value):
        return unknown()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return nfc(str(value))


def fmt_yes_no(value) -> str:
    if is_missing(value):
        return unknown()
    key = fold(str(value))
    if key in ("yes", "true", "1", "co"):
        return tr("có / yes")
    if key in ("no", "false", "0", "khong"):
        return tr("không / no")
    return nfc(str(value))


# --------------------------------------------------------------------------- classes

#: Park kinds: label and outline.
PARK_KINDS = {
    "KCN": {"label": "Khu công nghiệp (KCN) / industrial park", "color": "#111111", "weight": 2.5},
    "CCN": {"label": "Cụm công nghiệp (CCN) / industrial cluster", "color": "#ffffff", "weight": 1.2},
}

#: Park status classes in the order of the legend: label and fill colour.
PARK_STATUS = {
    "operating": {"label": "Đang hoạt động / operating", "color": "#1a9850"},
    "construction": {"label": "Giải phóng mặt bằng, xây dựng / site clearance, construction", "color": "#f46d43"},
    "established": {"label": "Đã thành lập / established", "color": "#4575b4"},
    "planned": {"label": "Quy hoạch, phê duyệt chủ trương / planned, approved", "color": "#9e6ac8"},
    "unknown": {"label": "Không rõ / unknown", "color": "#a0a0a0"},
}

_STATUS_RULES = (
    ("operating", ("operating", "filled", "occupied", "dang hoat dong")),
    ("construction", ("site clearance", "construction", "levelling", "giai phong mat bang", "xay dung")),
    ("established", ("established", "thanh lap")),
    ("planned", ("zoning plan", "detailed plan", "approved", "certificate", "investment", "quy hoach", "chu truong")),
)


def park_status_class(status) -> str:
    """Class of a free-text park status (see :data:`PARK_STATUS`); 'unknown' when nothing says.

    "established; filled" is operating; "established; site clearance under
    way" is construction; "listed" is unknown.
    """
    if is_missing(status):
        return "unknown"
    text = fold(str(status))
    if text.startswith("unknown"):
        return "unknown"
    for key, words in _STATUS_RULES:
        if any(w in text for w in words):
            return key
    return "unknown"


def park_radius(area_ha) -> float:
    """Circle radius (px) for a park of ``area_ha``: area-true (radius ∝ √ha), 3–24 px; 4 px when unknown.

    >>> park_radius(100), park_radius(None)
    (10.0, 4.0)
    """
    if is_missing(area_ha) or not math.isfinite(float(area_ha)) or float(area_ha) <= 0:
        return 4.0
    return round(min(24.0, max(3.0, math.sqrt(float(area_ha)))), 1)


#: Road classes of corridors: label, colour, width (planned lines are dashed).
ROAD_CLASSES = {
    "expressway": {"label": "Cao tốc / expressway", "color": "#d7191c", "weight": 5},
    "national": {"label": "Quốc lộ / national road", "color": "#f07c00", "weight": 4},
    "ring": {"label": "Vành đai / ring road", "color": "#7b3294", "weight": 4},
    "provincial": {"label": "Tỉnh lộ / provincial road", "color": "#c9a400", "weight": 3},
    "other": {"label": "Khác, không rõ / other, unknown", "color": "#555555", "weight": 3},
}
PLANNED_DASH = "8 6"

#: Station and logistics point kinds.
STATION_KINDS = {
    "rail_station": {"label": "Ga đường sắt / railway station", "color": "#222222", "radius": 5},
    "rail_halt": {"label": "Điểm dừng / railway halt", "color": "#777777", "radius": 4},
    "dry_port": {"label": "Cảng cạn / dry port", "color": "#00838f", "radius": 7},
    "icd": {"label": "ICD / inland container depot", "color": "#00838f", "radius": 7},
    "logistics_centre": {"label": "Trung tâm logistics / logistics centre", "color": "#26a69a", "radius": 7},
}

#: Urban place classes.
URBAN_CLASSES = {
    "programme": {"label": "Đô thị trong chương trình phát triển / programme town", "color": "#b2182b", "radius": 7},
    "city": {"label": "Thành phố / city", "color": "#d6604d", "radius": 6},
    "town": {"label": "Thị trấn / town", "color": "#f4a582", "radius": 4},
    "suburb": {"label": "Phường, khu phố / suburb", "color": "#fddbc7", "radius": 3},
    "builtup": {"label": "Khu dân cư (OSM) / built-up area", "color": "#d6604d", "radius": 0},
}

WATER = {
    "waterway": {"label": "Sông, suối, kênh / river, stream, canal", "color": "#3a7bd5", "weight": 1.2},
    "water_area": {"label": "Mặt nước / water area", "color": "#3a7bd5", "weight": 0.5},
}

DESTINATION_COLOR = "#000000"


# --------------------------------------------------------------------------- choropleths

#: Sequential palettes (light → dark), ColorBrewer.
PALETTES = {
    "purples": ["#f2f0f7", "#cbc9e2", "#9e9ac8", "#756bb1", "#54278f"],
    "oranges": ["#feedde", "#fdbe85", "#fd8d3c", "#e6550d", "#a63603"],
    "greens": ["#edf8e9", "#bae4b3", "#74c476", "#31a354", "#006d2c"],
    "blues": ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"],
    "reds": ["#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"],
    "ylorrd": ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026"],
    "rdylgn": ["#d73027", "#fc8d59", "#fee08b", "#d9ef8b", "#91cf60", "#1a9850"],
}
UNKNOWN_FILL = "#d9d9d9"


def class_of(value, breaks) -> int | None:
    """Index of the class of ``value`` for ascending upper ``breaks`` (len(breaks)+1 classes); None when missing.

    >>> class_of(5, [10, 20]), class_of(15, [10, 20]), class_of(25, [10, 20]), class_of(None, [10])
    (0, 1, 2, None)
    """
    if is_missing(value):
        return None
    v = float(value)
    if not math.isfinite(v):
        return None
    for i, b in enumerate(breaks):
        if v < b:
            return i
    return len(breaks)


def choropleth(values, breaks, palette, weight: float = 1, opacity: float = 0.7):
    """Style keys ("0", "1" … or "u" for unknown) and the style table of a class map.

    >>> keys, styles = choropleth([5, 15, None], [10], ["#eee", "#333"])
    >>> keys, styles["1"]["fillColor"], styles["u"]["fillColor"]
    (['0', '1', 'u'], '#333', '#d9d9d9')
    """
    keys = []
    for v in values:
        c = class_of(v, breaks)
        keys.append("u" if c is None else str(min(c, len(palette) - 1)))
    styles = {str(i): {"color": "#555555", "weight": weight, "fillColor": col, "fillOpacity": opacity}
              for i, col in enumerate(palette)}
    styles["u"] = {"color": "#555555", "weight": weight, "fillColor": UNKNOWN_FILL, "fillOpacity": opacity,
                   "dashArray": "3 3"}
    return keys, styles


def class_labels(breaks, fmt) -> list[str]:
    """Legend labels "< a", "a – b", "≥ c" for ``breaks`` formatted with ``fmt``."""
    labels = [f"< {fmt(breaks[0])}"]
    labels += [f"{fmt(a)} – {fmt(b)}" for a, b in zip(breaks[:-1], breaks[1:])]
    labels.append(f"≥ {fmt(breaks[-1])}")
    return labels


def nice_breaks(values, n: int = 5) -> list[float]:
    """Up to ``n - 1`` rounded quantile breaks of the finite ``values`` (for unknown analysis scales).

    >>> nice_breaks(range(0, 101), 5)
    [20, 40, 60, 80]
    """
    import numpy as np

    arr = values.to_numpy() if isinstance(values, pd.Series) else values
    if isinstance(arr, np.ndarray) and arr.dtype.kind in "fiub":   # numbers: no missing value but NaN
        v = arr.astype(float).ravel()
    else:
        v = np.asarray([float(x) for x in values if not is_missing(x)], dtype=float)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return [1.0]
    qs = np.quantile(v, np.linspace(0, 1, n + 1)[1:-1])
    out = []
    for q in qs:
        if q == 0:
            r = 0
        else:
            mag = 10 ** math.floor(math.log10(abs(q)))
            r = round(q / mag * 2) / 2 * mag
            r = int(r) if float(r).is_integer() else round(r, 6)
        if not out or r > out[-1]:
            out.append(r)
    if len(out) > 1 and out[0] <= v.min():
        out = out[1:]
    return out or [float(np.median(v))]


def slug(text: str) -> str:
    """ASCII identifier from a name (for ids and file names).

    >>> slug("Khu công nghiệp / Parks")
    'khu_cong_nghiep_parks'
    """
    return re.sub(r"[^a-z0-9]+", "_", fold(str(text))).strip("_")
