"""Popups and tooltips: formatted, bilingual, and escaped.

Every value from data goes through :func:`html.escape` here, before it is
placed in any HTML; the map code never inserts data text any other way.
(Folium's own ``GeoJsonTooltip``/``GeoJsonPopup`` put property values into
``innerHTML`` unescaped, so they are not used.) Links are made only from
``http``/``https`` addresses.

A popup is a title, an optional subtitle and rows of *label: value*, where
a label is a "Vietnamese / English" literal shown in the language the texts
are built in (:mod:`maps.lang`; both sides outside one) and a value is
formatted by :mod:`maps.style` (hectares, minutes, thousands separators;
"không rõ / unknown" for missing values, never 0).

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

from maps import style
from maps.lang import tr
from maps.style import fmt_text, is_missing, unknown

_URL = re.compile(r"https?://[^\s;|<>\"']+")


@dataclass(frozen=True)
class Field:
    """One popup row: ``column`` shown as "label: fmt(value)".

    ``label`` is a bilingual literal or a (vi, en) pair. ``value``: row → the value, for a row that reads several
    columns (shown when ``column`` is present; built in the popup's language). ``link=True`` turns the http(s)
    addresses in the value into links.
    """

    column: str
    label: str | tuple
    fmt: Callable = fmt_text
    link: bool = False
    value: Callable | None = None


def links_html(value) -> str:
    """The http(s) addresses in ``value`` as escaped links (host as text); :data:`UNKNOWN` when none."""
    if is_missing(value):
        return escape(unknown())
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
    """A popup: escaped title and subtitle, rows of (label, value) — values escaped unless ``rows_are_html``.

    Labels and the subtitle are bilingual literals or (vi, en) pairs (shown in the current language,
    :func:`maps.lang.tr`); the title is data (a name), shown as it is."""
    head = f"<h4>{escape(fmt_text(title))}</h4>"
    if subtitle:
        head += f'<div class="bg-sub">{escape(tr(subtitle))}</div>'
    body = "".join(f"<tr><th>{escape(tr(label))}</th><td>{value if rows_are_html else escape(str(value))}</td></tr>"
                   for label, value in rows)
    return f'<div class="bg-pop">{head}<table>{body}</table></div>'


def tooltip_html(title, detail=None) -> str:
    """A one- or two-line tooltip, escaped."""
    text = f"<b>{escape(fmt_text(title))}</b>"
    if detail:
        text += f"<br>{escape(str(detail))}"
    return text


class Row(dict):
    """One row of a frame: column → value, the values ``iterrows`` gives (the frame's ``values``), and ``name``, the
    row's index label. Read it as a Series row: ``row["name"]``, ``row.get("area_ha")``, ``"kind" in row``."""

    __slots__ = ("name",)

    def __init__(self, items, name=None):
        super().__init__(items)
        self.name = name


def rows_of(frame: pd.DataFrame) -> list[Row]:
    """The rows of ``frame`` (:class:`Row`), with the values ``iterrows`` gives, without making a Series per row
    (pandas builds one and deep-copies the frame's ``attrs`` into it: the most of the time a map spent on rows).

    >>> f = pd.DataFrame({"a": [1, 2]}, index=[5, 6]); f.attrs["summary"] = {"n": 2}
    >>> [(int(r.name), int(r["a"]), r.get("b")) for r in rows_of(f)]
    [(5, 1, None), (6, 2, None)]
    """
    columns = list(frame.columns)
    return [Row(zip(columns, values), name) for name, values in zip(frame.index, frame.values)]


def feature_popups(gdf: pd.DataFrame, title: Callable | str, fields: Iterable[Field],
                   subtitle: Callable | None = None) -> list[str]:
    """One popup per row; fields whose column is absent (e.g. not public) are left out."""
    fields = [f for f in fields if f.column in gdf.columns]
    out = []
    for row in rows_of(gdf):
        head = title(row) if callable(title) else row.get(title)
        rows = [(f.label, value_html(f, f.value(row) if f.value is not None else row[f.column])) for f in fields]
        out.append(popup_html(head, rows, subtitle=subtitle(row) if subtitle else None, rows_are_html=True))
    return out


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
