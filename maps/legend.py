"""A legend for any styled layer: a small reusable branca ``MacroElement``.

Folium has no legend API. :class:`Legend` draws a box of swatches (circle,
line, fill, colour ramp) with bilingual labels in a map corner and shows it
only while one of its layers is on the map, so switching a layer off in the
layer control also removes its legend. The swatches are drawn from the same
style dictionaries the layers use, so legend and map cannot disagree.

All text is escaped here; the box is built in Python and placed by
``bgplan.legend`` (``maps/assets/bgplan.js``).

>>> lg = Legend("Khu công nghiệp / parks", [Swatch("KCN", "circle", {"fillColor": "#1a9850", "radius": 6})])
>>> "<svg" in lg.html and "KCN" in lg.html
True
>>> "&lt;script&gt;" in Legend("<script>", []).html
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from branca.element import MacroElement
from folium.template import Template

from maps.elements import safe_json
from maps.style import UNKNOWN, UNKNOWN_FILL, class_labels


@dataclass
class Swatch:
    """One legend row: ``label`` beside a ``kind`` of symbol ("circle", "line", "fill" or "ramp").

    ``style`` uses Leaflet path options (``color``, ``weight``, ``fillColor``,
    ``fillOpacity``, ``dashArray``, ``radius``); a "ramp" takes ``colors``.
    """

    label: str
    kind: str = "fill"
    style: dict = field(default_factory=dict)


def swatch_svg(kind: str, s: dict) -> str:
    """Inline SVG of one symbol."""
    a = {k: escape(str(v), quote=True) for k, v in s.items() if not isinstance(v, (list, tuple))}
    stroke = a.get("color", "#333")
    weight = a.get("weight", "1")
    fill = a.get("fillColor", a.get("color", "#888"))
    opacity = a.get("fillOpacity", "0.8")
    if kind == "circle":
        r = min(float(s.get("radius", 6)), 11)
        size = int(2 * r + 2 * float(s.get("weight", 1)) + 2)
        size = max(size, 12)
        c = size / 2
        return (f'<svg width="{size}" height="{size}" aria-hidden="true"><circle cx="{c}" cy="{c}" r="{r}" '
                f'fill="{fill}" fill-opacity="{opacity}" stroke="{stroke}" stroke-width="{weight}"/></svg>')
    if kind == "line":
        dash = f' stroke-dasharray="{a["dashArray"]}"' if "dashArray" in a else ""
        return (f'<svg width="30" height="12" aria-hidden="true"><line x1="1" y1="6" x2="29" y2="6" stroke="{stroke}" '
                f'stroke-width="{weight}" stroke-opacity="{a.get("opacity", "1")}"{dash}/></svg>')
    if kind == "ramp":
        colors = [escape(str(c), quote=True) for c in s.get("colors", [])]
        w = 12
        rects = "".join(f'<rect x="{i * w}" y="0" width="{w}" height="12" fill="{c}"/>' for i, c in enumerate(colors))
        return f'<svg width="{w * max(len(colors), 1)}" height="12" aria-hidden="true">{rects}</svg>'
    return (f'<svg width="18" height="13" aria-hidden="true"><rect x="1" y="1" width="16" height="11" fill="{fill}" '
            f'fill-opacity="{opacity}" stroke="{stroke}" stroke-width="{min(float(s.get("weight", 1)), 2)}"/></svg>')


class Legend(MacroElement):
    """A legend box bound to ``layers`` (shown while any of them is on the map; always when none given).

    Parameters
    ----------
    title : heading (escaped).
    swatches : the rows, in order.
    layers : folium layers the legend belongs to.
    note : one line under the rows (sources, unknowns), escaped.
    position : Leaflet corner, default "bottomright".
    open : start expanded (the heading folds it).
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        bgplan.legend({{ this._parent.get_name() }}, {{ this.html_json }},
                      [{% for l in this.layers %}{{ l.get_name() }}{% if not loop.last %}, {% endif %}{% endfor %}],
                      {{ this.position_json }});
        {% endmacro %}
    """)

    def __init__(self, title: str, swatches: list[Swatch], layers=(), note: str | None = None,
                 position: str = "bottomright", open: bool = False):
        super().__init__()
        self._name = "Legend"
        self.title = title
        self.swatches = list(swatches)
        self.layers = list(layers)
        self.note = note
        self.position = position
        self.open = open

    @property
    def html(self) -> str:
        rows = "".join(f'<div class="bg-row">{swatch_svg(s.kind, s.style)}<span>{escape(s.label)}</span></div>'
                       for s in self.swatches)
        note = f'<div class="bg-note">{escape(self.note)}</div>' if self.note else ""
        return (f'<details{" open" if self.open else ""}><summary>{escape(self.title)}</summary>'
                f"{rows}{note}</details>")

    @property
    def html_json(self) -> str:
        return safe_json(self.html)

    @property
    def position_json(self) -> str:
        return safe_json(self.position)


def class_swatches(breaks, palette, fmt) -> list[Swatch]:
    """Fill swatches of a class map: one per class of ``breaks`` (labels via ``fmt``) and one for unknown."""
    labels = class_labels(breaks, fmt)
    sw = [Swatch(lab, "fill", {"fillColor": col, "color": "#555", "weight": 1, "fillOpacity": 0.85})
          for lab, col in zip(labels, palette)]
    sw.append(Swatch(UNKNOWN, "fill", {"fillColor": UNKNOWN_FILL, "color": "#555", "weight": 1, "fillOpacity": 0.85}))
    return sw
