"""The legend: one panel per map (``#legend-panel``) with a section per layer, shown while that layer is on.

Folium has no legend API. A :class:`Legend` is one section of the panel: a
title, swatches (circle, line, fill, colour ramp) with bilingual labels and a
note, bound to the layers it explains. ``bgplan.legendPanel``
(``maps/assets/bgplan.js``) puts every section of the page into one
collapsible panel, lists only the sections whose layers are on, gives each
an opacity slider, and starts closed on phones. The swatches are drawn from
the same style dictionaries the layers use, so legend and map cannot
disagree. All text is escaped here; labels are shown in the page's language
(:mod:`maps.lang`).

>>> lg = Legend("Khu công nghiệp / parks", [Swatch("KCN", "circle", {"fillColor": "#1a9850", "radius": 6})])
>>> "<svg" in lg.html and "KCN" in lg.html and '<span class="bg-en">parks</span>' in lg.html
True
>>> "&lt;script&gt;" in Legend("<script>", []).html
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from maps import lang
from maps.elements import safe_json
from maps.style import UNKNOWN, UNKNOWN_FILL, class_labels


@dataclass
class Swatch:
    """One legend row: ``label`` (a bilingual literal or a (vi, en) pair) beside a ``kind`` of symbol ("circle",
    "line", "fill" or "ramp").

    ``style`` uses Leaflet path options (``color``, ``weight``, ``fillColor``,
    ``fillOpacity``, ``dashArray``, ``radius``); a "ramp" takes ``colors``.
    """

    label: str | tuple
    kind: str = "fill"
    style: dict = field(default_factory=dict)


def swatch_svg(kind: str, s: dict) -> str:
    """Inline SVG of one symbol."""
    a = {k: escape(str(v), quote=True) for k, v in s.items() if not isinstance(v, (list, tuple)) and v is not None}
    stroke = a.get("color", "#333")
    weight = a.get("weight", "1")
    fill = a.get("fillColor", a.get("color", "#888"))
    opacity = a.get("fillOpacity", "0.8")
    if kind == "circle":
        r = min(float(s.get("radius", 6)), 11)
        size = int(2 * r + 2 * float(s.get("weight", 1)) + 2)
        size = max(size, 12)
        c = size / 2
        dash = f' stroke-dasharray="{a["dashArray"]}"' if "dashArray" in a else ""
        return (f'<svg width="{size}" height="{size}" aria-hidden="true"><circle cx="{c}" cy="{c}" r="{r}" '
                f'fill="{fill}" fill-opacity="{opacity}" stroke="{stroke}" stroke-width="{weight}"{dash}/></svg>')
    if kind == "line":
        dash = f' stroke-dasharray="{a["dashArray"]}"' if "dashArray" in a else ""
        return (f'<svg width="30" height="12" aria-hidden="true"><line x1="1" y1="6" x2="29" y2="6" stroke="{stroke}" '
                f'stroke-width="{weight}" stroke-opacity="{a.get("opacity", "1")}"{dash}/></svg>')
    if kind == "ramp":
        colors = [escape(str(c), quote=True) for c in s.get("colors", [])]
        w = 12
        rects = "".join(f'<rect x="{i * w}" y="0" width="{w}" height="12" fill="{c}"/>' for i, c in enumerate(colors))
        return f'<svg width="{w * max(len(colors), 1)}" height="12" aria-hidden="true">{rects}</svg>'
    dash = f' stroke-dasharray="{a["dashArray"]}"' if "dashArray" in a else ""
    return (f'<svg width="18" height="13" aria-hidden="true"><rect x="1" y="1" width="16" height="11" fill="{fill}" '
            f'fill-opacity="{opacity}" stroke="{stroke}" stroke-width="{min(float(s.get("weight", 1)), 2)}"{dash}/></svg>')


@dataclass
class Legend:
    """One section of the legend panel, bound to ``layers`` (shown while any of them is on the map; always when
    none given).

    title : heading; note : one line under the rows (sources, unknowns) — bilingual literals or (vi, en) pairs,
    escaped here.
    """

    title: str | tuple
    swatches: list = field(default_factory=list)
    layers: list = field(default_factory=list)
    note: str | tuple | None = None

    @property
    def html(self) -> str:
        rows = "".join(f'<div class="bg-row">{swatch_svg(s.kind, s.style)}{lang.text_html(s.label)}</div>'
                       for s in self.swatches)
        note = f'<div class="bg-note">{lang.text_html(self.note)}</div>' if self.note else ""
        return f'<div class="bg-lg-title">{lang.text_html(self.title)}</div>{rows}{note}'

    @property
    def html_json(self) -> str:
        return safe_json(self.html)

    @property
    def text(self) -> str:
        """The title and labels as plain text (both languages), for tests and logs."""
        parts = [lang.tr(self.title)] + [lang.tr(s.label) for s in self.swatches] + ([lang.tr(self.note)] if self.note else [])
        return " | ".join(parts)


def class_swatches(breaks, palette, fmt) -> list[Swatch]:
    """Fill swatches of a class map: one per class of ``breaks`` (labels via ``fmt``, in both languages) and one for
    unknown."""
    vi, en = lang.both(class_labels, breaks, fmt)
    sw = [Swatch((a, b), "fill", {"fillColor": col, "color": "#555", "weight": 1, "fillOpacity": 0.85})
          for a, b, col in zip(vi, en, palette)]
    sw.append(Swatch(UNKNOWN, "fill", {"fillColor": UNKNOWN_FILL, "color": "#555", "weight": 1, "fillOpacity": 0.85}))
    return sw
