"""Popups and tooltips: formatted, bilingual, and escaped.

Every value from data goes through :func:`html.escape` here, before it is
placed in any HTML; the map code never inserts data text any other way.
(Folium's own ``GeoJsonTooltip``/``GeoJsonPopup`` put property values into
``innerHTML`` unescaped, so they are not used.) Links are made only from
``http``/``https`` addresses.

A popup is a title, an optional subtitle and rows of *label: value*, where
a label is "Vietnamese / English" and a value is formatted by
:mod:`maps.style` (hectares, minutes, thousands separators; "không rõ /
unknown" for missing values, never 0).

>>> popup_html("<b>KCN</b>", [("Diện tích / area", "10 ha")])
'<div class="bg-pop"><h4>&lt;b&gt;KCN&lt;/b&gt;</h4><table><tr><th>Diện tích / area</th><td>10 ha</td></tr></table></div>'
>>> links_html("see https://example.org/a?b=1&c=<x> and javascript:alert(1)")
'<a href="https://example.org/a?b=1&amp;c=" target="_blank" rel="noopener noreferrer">example.org</a>'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from typing import Callable, Iterable
from urllib.parse import urlsplit

import pandas as pd

from geo.text import fold
from maps import style
from maps.style import UNKNOWN, fmt_text, is_missing

_URL = re.compile(r"https?://[^\s;|<>\"']+")


@dataclass(frozen=True)
class Field:
    """One popup row: ``column`` shown as "label: fmt(value)".

    ``link=True`` turns the http(s) addresses in the value into links.
    """

    column: str
    label: str
    fmt: Callable = fmt_text
    link: bool = False


def links_html(value) -> str:
    """The http(s) addresses in ``value`` as escaped links (host as text); :data:`UNKNOWN` when none."""
    if is_missing(value):
        return escape(UNKNOWN)
    urls = _URL.findall(str(value))
    if not urls:
        return escape(fmt_text(value))
    parts = []
    for url in dict.fromkeys(urls):
        host = urlsplit(url).hostname or url
        parts.append(f'<a href="{escape(url, quote=True)}" target="_blank" rel="noopener noreferrer">{escape(host)}</a>')
    return ", ".join(parts)


def value_html(field: Field, value) -> str:
    """The escaped, formatted value of one field."""
    if field.link:
        return links_html(value)
    return escape(str(field.fmt(value)))


def popup_html(title, rows: Iterable[tuple[str, str]], subtitle=None, rows_are_html: bool = False) -> str:
    """A popup: escaped title and subtitle, rows of (label, value) — values escaped unless ``rows_are_html``."""
    head = f"<h4>{escape(fmt_text(title))}</h4>"
    if subtitle:
        head += f'<div class="bg-sub">{escape(str(subtitle))}</div>'
    body = "".join(f"<tr><th>{escape(label)}</th><td>{value if rows_are_html else escape(str(value))}</td></tr>"
                   for label, value in rows)
    return f'<div class="bg-pop">{head}<table>{body}</table></div>'


def tooltip_html(title, detail=None) -> str:
    """A one- or two-line tooltip, escaped."""
    text = f"<b>{escape(fmt_text(title))}</b>"
    if detail:
        text += f"<br>{escape(str(detail))}"
    return text


def feature_popups(gdf: pd.DataFrame, title: Callable | str, fields: Iterable[Field],
                   subtitle: Callable | None = None) -> list[str]:
    """One popup per row; fields whose column is absent (e.g. not public) are left out."""
    fields = [f for f in fields if f.column in gdf.columns]
    out = []
    for _, row in gdf.iterrows():
        head = title(row) if callable(title) else row.get(title)
        rows = [(f.label, value_html(f, row[f.column])) for f in fields]
        out.append(popup_html(head, rows, subtitle=subtitle(row) if subtitle else None, rows_are_html=True))
    return out


# --------------------------------------------------------------------------- field lists per layer

def _kind_label(value) -> str:
    return style.PARK_KINDS.get(str(value), {}).get("label", fmt_text(value))


def _status_with_class(value) -> str:
    """Status class label, then the source's own words when they add something."""
    label = style.PARK_STATUS[style.park_status_class(value)]["label"]
    if is_missing(value) or str(value).startswith("unknown") or fold(str(value)) in fold(label):
        return label
    return f"{label} — {fmt_text(value)}"


def _ha_list(value) -> str:
    """"350.3; 433.28" → "350 ha; 433 ha"; missing → unknown."""
    if is_missing(value):
        return UNKNOWN
    parts = []
    for piece in str(value).split(";"):
        piece = piece.strip()
        try:
            parts.append(style.fmt_ha(float(piece)))
        except ValueError:
            parts.append(fmt_text(piece))
    return "; ".join(parts)


def _year(value) -> str:
    return UNKNOWN if is_missing(value) else str(int(float(value)))


PARK_FIELDS = (
    Field("kind", "Loại / kind", _kind_label),
    Field("area_ha", "Diện tích / area", style.fmt_ha),
    Field("area_ha_facts", "Diện tích theo nguồn khác / area in other sources", _ha_list),
    Field("occupancy_pct", "Tỷ lệ lấp đầy / occupancy", lambda v: style.fmt_pct100(v, 1)),
    Field("status", "Tình trạng / status", _status_with_class),
    Field("wastewater_treatment", "Xử lý nước thải tập trung / central wastewater treatment", style.fmt_yes_no),
    Field("district", "Huyện (trước 2025) / district (pre-2025)"),
    Field("address", "Địa chỉ / address"),
    Field("iip_year", "Năm trên iipvietnam.vn (ý nghĩa không rõ) / year on iipvietnam.vn (meaning unclear)", _year),
    Field("facts_match", "Ghép số liệu / facts joined"),
    Field("position_precision", "Độ chính xác vị trí / position precision"),
    Field("position_error_m", "Sai số dự kiến / expected error",
          lambda v: style.fmt_number(v / 1000 if isinstance(v, (int, float)) else None, 1, "km")),
    Field("position_source", "Nguồn vị trí / position source"),
    Field("position_licence", "Giấy phép vị trí / position licence"),
    Field("status_basis", "Căn cứ pháp lý / decision or certificate"),
    Field("source", "Nguồn vị trí / location source"),
    Field("facts_source", "Nguồn số liệu / facts source", link=True),
)

# road corridors, railways and stations: maps/registry.py


# districts: maps/registry.py


#: Labels of analysis columns the other modules produce; others are shown by their column name.
COLUMN_LABELS = {
    "origin": "Điểm xuất phát / origin",
    "minutes": "Thời gian / travel time",
    "population": "Dân số trong vùng / population reached",
    "score": "Điểm phù hợp / suitability score",
    "rank": "Thứ hạng / rank",
    "area_ha": "Diện tích / area",
    "name": "Tên / name",
    "district": "Huyện / district",
    "slope_deg": "Độ dốc / slope",
    "km_to_park": "Khoảng cách đến khu, cụm công nghiệp / distance to a park",
    "km_to_urban": "Khoảng cách đến đô thị / distance to an urban core",
    "elevation_m": "Độ cao / elevation",
    "reason": "Lý do / reason",
    "note": "Ghi chú / note",
    "excluded": "Bị loại trừ / excluded",
}


def auto_fmt(column: str) -> Callable:
    """A formatter guessed from an analysis column's name (minutes, population, ha, km, share …)."""
    c = column.lower()
    if "minutes" in c:
        return style.fmt_minutes
    if "population" in c or c.endswith("_people"):
        return style.fmt_people
    if c.endswith("_ha"):
        return style.fmt_ha
    if c.endswith("_km"):
        return style.fmt_km
    if c.endswith("_m"):
        return lambda v: style.fmt_number(v, 0, "m")
    if c.endswith("_deg"):
        return lambda v: style.fmt_number(v, 1, "°")
    if "share" in c:
        return lambda v: style.fmt_pct(v, 1)
    if c.endswith("_pct"):
        return lambda v: style.fmt_pct100(v, 1)

    def generic(v):
        if isinstance(v, (int, float)) and not isinstance(v, bool) and not is_missing(v):
            return style.fmt_number(v, 0 if abs(float(v)) >= 100 or float(v).is_integer() else 2)
        return fmt_text(v)

    return generic


def auto_fields(gdf: pd.DataFrame, skip: Iterable[str] = (), labels: dict | None = None) -> list[Field]:
    """Fields for every non-geometry column of an analysis frame, with known labels."""
    labels = {**COLUMN_LABELS, **(labels or {})}
    skip = set(skip) | {getattr(gdf, "_geometry_column_name", "geometry")}
    return [Field(c, labels.get(c, c.replace("_", " ")), auto_fmt(c)) for c in gdf.columns if c not in skip]
