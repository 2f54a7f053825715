"""A scenario before/after on two synchronised maps side by side (the published ``scenario.html``).

:func:`scenario_dual_map` draws the context layers twice, with
:func:`maps.planner.planner_map`, and puts the two maps on one page:

* left, "Trước / before": the parks coloured by ``<pair>_before`` and the
  existing corridors;
* right, "Sau / after": the parks coloured by ``<pair>_after`` on the same
  colour scale, the planned roads (dashed) and their interchanges; a thick
  outline marks the parks the scenario improves materially (at least
  :data:`IMPROVED_MINUTES` faster, or :data:`IMPROVED_SHARE` more people).

The "before" map shows the network the scenario starts from: a road the
scenario adds (CT.01 in "2018 vs today") is not drawn on it, although
today's corridors have it. A bar above both maps holds the title, the links
and the target selector (every ``<pair>`` of the scenario frame: travel time
to each destination or corridor, people within reach); the page has one
legend panel (``#legend-panel``, on the after map) whose first section is the
shared colour scale of the parks. Pan and zoom of each map follow the other
and the mouse position is echoed as a ring on the other map
(``maps/assets/bgdual.js``: no plugin, no CDN). On screens narrower than
760 px the maps are stacked.

The scenario frame is ``plan.py scenario``'s ``access_change`` layer: a park
``name`` and column pairs ``X_before`` / ``X_after`` (``X`` =
``minutes_to_<key>`` or ``people_within_<m>_min``); a ``X_change`` column is
not needed (the change is after − before of the shown, rounded values, so a
popup's numbers add up). Each park's popup is a table before | after | change
of every pair, "không rõ / unknown" for missing values, the selected pair
highlighted. Every text from data is escaped here (:func:`html.escape`);
the script only places it.

For tests the page exposes ``bgplan.maps.before`` / ``bgplan.maps.after``
(``{map, layers}``; the park layers are ``layers.scenario_before`` /
``layers.scenario_after``), ``bgplan.dual`` (``choose(i)``, ``current()``),
``window.bgMap`` (the after map) and ``window.bgDualReady``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from html import escape

import numpy as np
import pandas as pd
from branca.element import Element, Figure, MacroElement
from folium.template import Template

from geo.collector import fewer_collections
from maps import lang, popups, style, vendor
from maps.elements import MapTools, feature_collection, has_features, inline, safe_json, stable_ids
from maps.geometry import DEFAULT_CLIP_KM, prepare, to_storage, window_of
from maps.labels import target_label, target_names
from maps.lang import text_html, tr
from maps.legend import Legend, swatch_svg
from maps.map_options import MapOptions
from maps.planner import planner_map, print_options, print_sources
from maps.scenario_layers import main_pair, scenario_pairs

#: Extra files of the dual page in ``maps/assets/`` (after Leaflet and bgplan.js).
DUAL_CSS = "bgdual.css"
DUAL_JS = "bgdual.js"
#: Classes per colour scale (at most; fewer when the values allow fewer distinct rounded breaks).
N_CLASSES = 6
#: Park circle radius (px); the scenario frame has no areas.
RADIUS = 7
#: Stacking rank of the park layers: above the corridors and railways, below stations and interchanges.
Z_PARKS = 8.6
BEFORE_TITLE = "Trước / before"
AFTER_TITLE = "Sau / after"
BEFORE_NOTE = "Mạng đường trước kịch bản / road network before the scenario (see the network column of scenario.csv)"
SELECT_ID = "bg-target"
LEGEND_ID = "bg-dual-legend"

#: A park counts as improved (thick outline on the after map) from this many minutes faster …
IMPROVED_MINUTES = 5
#: … or this share more people within reach.
IMPROVED_SHARE = 0.05

_STROKE = "#333333"
_IMPROVED = {"color": "#000000", "weight": 3.5}


@dataclass
class Target:
    """One choice of the selector: a column pair of the scenario frame and its colour scale."""

    pair: str                  # column stem, e.g. "minutes_to_dong_dang_border"
    kind: str                  # "minutes", "people" or "value"
    name: tuple                # short (vi, en) name (selector, popup rows, tooltips)
    title: str                 # legend heading, with the unit (bilingual literal)
    unit: str                  # unit of the values ("phút / min", "người / persons", "")
    breaks: list               # ascending class breaks, shared by both maps
    palette: list              # len(breaks) + 1 colours for the ascending classes


@fewer_collections()
def scenario_dual_map(layers: dict, analyses: dict | None = None, *, summary: dict | None = None,
                      title=None, assets: str = "site", clip_km: float | None = DEFAULT_CLIP_KM,
                      simplify_m: dict | None = None, home: str | None = None,
                      extra_links: list[tuple[str, str]] | None = None, district_view: str = "outline",
                      hide=(), on=None, sources: list | None = None, generated: str | None = None) -> Figure:
    """The page of two synchronised maps: the context ``layers`` before and after the scenario.

    analyses : ``scenario`` (the per-park before/after frame), ``planned_roads``, ``interchanges``;
        each optional (without ``scenario`` the maps have no parks of their own and no selector).
    The other options are the fields of :class:`maps.map_options.MapOptions` (``home`` and
    ``extra_links`` go to the bar above the maps). Returns the branca ``Figure``
    (render it with ``fig.render()``), with ``fig.bgplan_maps`` = {"before": Map,
    "after": Map} and ``fig.bgplan_targets`` = the :class:`Target` list.
    """
    import datetime as _dt

    analyses = {k: v for k, v in (analyses or {}).items() if v is not None and len(v)}
    names = target_names(layers, summary)
    planned = {k: analyses[k] for k in ("planned_roads", "interchanges") if k in analyses}
    on = tuple(on) if on is not None else None
    common = MapOptions(assets=assets, clip_km=clip_km, simplify_m=simplify_m, district_view=district_view,
                        access_layers=False, hide=hide, tools={"panel": False})
    before = planner_map(before_layers(layers, planned.get("planned_roads")), analyses={}, summary=summary,
                         options=replace(common, title=BEFORE_TITLE, subtitle=BEFORE_NOTE, on=on))
    after = planner_map(layers, analyses=planned, summary=summary,
                        options=replace(common, title=AFTER_TITLE, subtitle=_after_note(planned.get("planned_roads")),
                                        on=None if on is None else (*on, "planned_roads", "interchanges")))

    scen = analyses.get("scenario")
    targets, data = [], {"features": [], "popups": [], "styles": {}, "targets": [], "initial": 0, "z": Z_PARKS}
    if has_features(scen):
        storage = {k: to_storage(v) for k, v in layers.items() if v is not None}
        scen = prepare("scenario", to_storage(scen), window_of(storage, clip_km), 0)
        targets = scenario_targets(scen, names)
        data = scenario_data(scen, targets)

    fig = before.get_root()
    page_title = title or "Kịch bản trước/sau / scenario before and after"
    fig.title = escape(tr(page_title, lang.DEFAULT))
    fig.header.add_child(Element(head_html(assets)), name="bgplan_dual_assets")
    fig.html.add_child(Element(bar_html(page_title, targets, data["initial"], home, extra_links)), name="bgplan_dual_bar")
    DualStash("before").add_to(before)
    fig.add_child(after)
    # one legend panel for the page (on the after map): the parks' shared scale first, then every layer of either map
    sections = [Legend("Khu, cụm công nghiệp tô màu theo mục chọn / parks coloured by the choice above",
                       note=("Một thang màu cho hai bản đồ / one colour scale for both maps"))] if targets else []
    seen = set()
    for lg in [*reversed(after.bgplan_legends), *reversed(before.bgplan_legends)]:
        if lang.tr(lg.title) not in seen:
            seen.add(lang.tr(lg.title))
            sections.append(lg)
    tools = {"search": True, "measure": True, "far": "destinations" if "destinations" in after.bgplan_layers else None,
             "print": print_options(page_title, sources if sources is not None else print_sources(summary, after.bgplan_layers),
                                    generated or _dt.date.today().isoformat())}
    MapTools(tools, sections, panel={"dual": LEGEND_ID if targets else None}).add_to(after)
    share_data(before, after)
    DualScenario(before, after, data).add_to(fig)
    stable_ids(fig)
    fig.bgplan_maps = {"before": before, "after": after}
    fig.bgplan_targets = targets
    return fig


def share_data(first, second) -> None:
    """The layers of ``second`` whose data equal those of ``first`` (same key) are drawn from ``first``'s data: the
    page carries the context once, not twice."""
    from maps.elements import DataLayer

    for key, layer in second.bgplan_layers.items():
        twin = first.bgplan_layers.get(key)
        if isinstance(layer, DataLayer) and isinstance(twin, DataLayer) and layer.data == twin.data:
            layer.data_ref = twin.get_name()


def before_layers(layers: dict, roads) -> dict:
    """The context of the "before" map: the corridors the scenario adds (same ``corridor_id``) left out, since the
    network before the scenario does not have them."""
    corridors = layers.get("corridors")
    if not has_features(roads) or "corridor_id" not in roads or not has_features(corridors) or "corridor_id" not in corridors:
        return layers
    added = {str(k) for k in roads["corridor_id"] if not style.is_missing(k)}
    return {**layers, "corridors": corridors[~corridors["corridor_id"].astype(str).isin(added)]}


# --------------------------------------------------------------------------- targets and colour scales

def scenario_targets(scen: pd.DataFrame, names: dict) -> list[Target]:
    """The selector's choices: every ``X_before``/``X_after`` pair of ``scen``, travel times first.

    Breaks come from the values of both columns together (:func:`shared_breaks`),
    so both maps use one scale.
    """
    out = []
    for pair in scenario_pairs(scen):
        values = pd.concat([_rounded(scen[f"{pair}_before"]), _rounded(scen[f"{pair}_after"])], ignore_index=True)
        breaks = shared_breaks(values, N_CLASSES)
        m = re.fullmatch(r"people_within_(\d+)_min", pair)
        if pair.startswith("minutes_to_"):
            out.append(Target(pair, "minutes", target_label(pair, names), "Thời gian đi (phút) / travel time (min)",
                              "phút / min", breaks, _palette(len(breaks) + 1, good_first=True)))
        elif m:
            out.append(Target(pair, "people", (f"trong {m.group(1)} phút", f"within {m.group(1)} min"),
                              "Dân số (người) / people (persons)", "người / persons", breaks,
                              _palette(len(breaks) + 1, good_first=False)))
        else:
            label = pair.replace("_", " ")
            blues = style.PALETTES["blues"]
            out.append(Target(pair, "value", (label, label), label, "", breaks,
                              [blues[i] for i in _spread(len(breaks) + 1, len(blues))]))
    order = {"minutes": 0, "people": 1, "value": 2}
    return sorted(out, key=lambda t: order[t.kind])


def shared_breaks(values, n: int = N_CLASSES) -> list[float]:
    """Up to ``n - 1`` class breaks: quantiles of the finite ``values`` rounded to a round step.

    The step is a 1-2-2.5-5 multiple near a twelfth of the range (for ``n`` = 6),
    so 102–212 minutes give breaks every 10 minutes; breaks at or below the
    minimum or above the maximum are dropped; [] when all values are equal or unknown.

    >>> shared_breaks(range(100, 221))
    [120, 140, 160, 180, 200]
    >>> shared_breaks([5, float("nan"), 5]), shared_breaks([])
    ([], [])
    """
    v = np.asarray([float(x) for x in values if not style.is_missing(x)], dtype=float)
    v = v[np.isfinite(v)]
    if len(v) == 0 or v.max() <= v.min():
        return []
    lo, hi = float(v.min()), float(v.max())
    step = _nice_step((hi - lo) / (2 * n))
    out = []
    for q in np.quantile(v, np.linspace(0, 1, n + 1)[1:-1]):
        b = round(q / step) * step
        b = int(round(b)) if step >= 1 else round(b, 6)
        if lo < b <= hi and (not out or b > out[-1]):
            out.append(b)
    return out


def _nice_step(x: float) -> float:
    """The 1-2-2.5-5 × 10^k step nearest to ``x`` (on a log scale).

    >>> _nice_step(9.2), _nice_step(11.8), _nice_step(16), _nice_step(130000)
    (10, 10, 20, 100000)
    """
    if not (x > 0 and math.isfinite(x)):
        return 1.0
    mag = 10 ** math.floor(math.log10(x))
    return min((m * mag for m in (1, 2, 2.5, 5, 10)), key=lambda s: abs(math.log(s / x)))


def _spread(k: int, n: int) -> list[int]:
    """``k`` indices spread evenly over ``range(n)``."""
    if k <= 1:
        return [0]
    return [int(round(i * (n - 1) / (k - 1))) for i in range(k)]


def _palette(k: int, good_first: bool) -> list[str]:
    """``k`` colours from green (good) to red (bad) for ascending classes; ``good_first`` when low values are good."""
    ramp = style.PALETTES["rdylgn"][::-1]        # green … red
    colours = [ramp[i] for i in _spread(k, len(ramp))]
    return colours if good_first else colours[::-1]


def _rounded(series) -> pd.Series:
    """Values as shown (whole numbers); NaN where unknown."""
    return pd.to_numeric(series, errors="coerce").round(0)


# --------------------------------------------------------------------------- the page data

def scenario_data(scen: pd.DataFrame, targets: list[Target]) -> dict:
    """The JSON-able data of the park layers: features with per-target style keys and tooltips, popups, styles, legends."""
    initial_pair = main_pair(scen, [t.pair for t in targets])
    initial = next((i for i, t in enumerate(targets) if t.pair == initial_pair), 0)
    styles = {"u": {"color": "#555555", "weight": 1.5, "opacity": 1, "fillColor": style.UNKNOWN_FILL,
                    "fillOpacity": 0.9, "dashArray": "3 3"}}
    names = scen["name"] if "name" in scen else pd.Series([None] * len(scen), index=scen.index)
    shown = {t.pair: (_rounded(scen[f"{t.pair}_before"]), _rounded(scen[f"{t.pair}_after"])) for t in targets}
    keys, tips = [], []
    for j in range(len(scen)):
        park_keys, park_tips = [], []
        for t in targets:
            b, a = shown[t.pair][0].iloc[j], shown[t.pair][1].iloc[j]
            kb, ka = _key(b, t, styles), _key(a, t, styles)
            change = None if (pd.isna(a) or pd.isna(b)) else a - b
            if is_improved(t, b, a):
                ka = _bold(ka, styles)
            park_keys.append([kb, ka])

            def detail(t=t, b=b, a=a, change=change):
                text = f"{tr(t.name)}: {_num(b)} → {_num(a)} {tr(t.unit)}".rstrip()
                return text + (f" ({fmt_change(change)})" if change is not None else "")

            park_tips.append(lang.pair_html(*lang.both(lambda: popups.tooltip_html(names.iloc[j], detail()))))
        keys.append(park_keys)
        tips.append(park_tips)
    pops = lang.pairs(lambda: [park_popup(names.iloc[j], [(t, shown[t.pair][0].iloc[j], shown[t.pair][1].iloc[j])
                                                          for t in targets]) for j in range(len(scen))], tag="div")
    fc = feature_collection(scen.geometry.values, ["u"] * len(scen), popups=list(range(len(scen))),
                            radii=[RADIUS] * len(scen))
    if len(fc["features"]) != len(scen):
        raise ValueError("scenario frame has empty geometries")      # prepare drops them first
    for f, k, tt in zip(fc["features"], keys, tips):
        f["properties"]["k"] = k
        f["properties"]["t"] = tt
    return {"features": fc["features"], "popups": pops, "styles": styles,
            "targets": [{"legend": legend_html(t)} for t in targets], "initial": initial, "z": Z_PARKS}


def is_improved(target: Target, before, after) -> bool:
    """True when the scenario makes a park materially better: at least :data:`IMPROVED_MINUTES` faster, or
    :data:`IMPROVED_SHARE` more people within reach.

    >>> t = Target("minutes_to_kep", "minutes", "", "", "", [], [])
    >>> is_improved(t, 40.0, 35.0), is_improved(t, 40.0, 36.0), is_improved(t, float("nan"), 20.0)
    (True, False, False)
    """
    if style.is_missing(before) or style.is_missing(after):
        return False
    if target.kind == "minutes":
        return float(before) - float(after) >= IMPROVED_MINUTES
    if target.kind == "people":
        return float(before) > 0 and float(after) >= float(before) * (1 + IMPROVED_SHARE)
    return False


def _key(value, target: Target, styles: dict) -> str:
    cls = style.class_of(value, target.breaks)
    if cls is None:
        return "u"
    colour = target.palette[min(cls, len(target.palette) - 1)]
    styles.setdefault(colour, {"color": _STROKE, "weight": 1.5, "opacity": 1, "fillColor": colour, "fillOpacity": 0.95,
                               "dashArray": None})
    return colour


def _bold(key: str, styles: dict) -> str:
    bold = f"{key}|b"
    styles.setdefault(bold, {**styles[key], **_IMPROVED})
    return bold


def _num(value) -> str:
    return style.fmt_number(value, 0)


def fmt_change(change) -> str:
    """A change of whole units with its sign: "+3", "−18" (minus sign), "0"; unknown when missing.

    >>> fmt_change(-18.0), fmt_change(2500), fmt_change(0.0), fmt_change(float("nan"))
    ('−18', '+2\u202f500', '0', 'không rõ / unknown')
    """
    if style.is_missing(change):
        return style.unknown()
    change = float(round(float(change)))
    if change == 0:
        return "0"
    return ("+" if change > 0 else "−") + style.fmt_number(abs(change), 0)


def park_popup(name, rows: list[tuple[Target, float, float]]) -> str:
    """A park's popup: a table before | after | change per target, grouped by kind, rows marked ``data-t`` = target index.

    >>> t = Target("minutes_to_kep", "minutes", ("Ga Kép", "Kép station"), "", "phút / min", [], ["#1a9850"])
    >>> html = park_popup("<b>KCN</b>", [(t, 40.0, 22.0)])
    >>> "&lt;b&gt;KCN&lt;/b&gt;" in html, '<td>40</td><td>22</td><td>−18</td>' in html
    (True, True)
    """
    groups = {"minutes": "Thời gian đi (phút) / travel time (min)",
              "people": "Dân số tiếp cận (người) / people within reach (persons)", "value": "Khác / other"}
    body, last = [], None
    for i, (t, b, a) in enumerate(rows):
        if t.kind != last:
            body.append(f'<tr class="bg-grp"><th colspan="4">{escape(tr(groups[t.kind]))}</th></tr>')
            last = t.kind
        change = fmt_change(a - b) if not (style.is_missing(a) or style.is_missing(b)) else style.unknown()
        body.append(f'<tr data-t="{i}"><th>{escape(tr(t.name))}</th><td>{escape(_num(b))}</td><td>{escape(_num(a))}</td>'
                    f"<td>{escape(change)}</td></tr>")
    # the page script copies the row of the selected target into the empty first body ("bg-now")
    head = (f"<thead><tr><th></th><th>{escape(tr(('Trước', 'before')))}</th><th>{escape(tr(('Sau', 'after')))}</th>"
            f"<th>{escape(tr(('Thay đổi', 'change')))}</th></tr></thead>"
            '<tbody class="bg-now"></tbody>')
    note = tr(("Mạng đường trước và sau kịch bản, mô hình tốc độ của công cụ; không rõ = không nối được mạng hoặc không có tuyến",
               "road network before and after the scenario, the tool's speed model; unknown = not on the network or no "
               "route"))
    return (f'<div class="bg-pop bg-dual-pop"><h4>{escape(style.fmt_text(name))}</h4>'
            f'<table class="bg-dual-table">{head}<tbody>{"".join(body)}</tbody></table>'
            f'<div class="bg-sub">{escape(note)}</div></div>')


def legend_html(target: Target) -> str:
    """The shared scale of one target (both languages): heading, one swatch per class, unknown, and the "improved"
    outline; the first section of the page's legend panel."""
    return lang.pair_html(*lang.both(_legend_html, target), tag="div")


def _legend_html(target: Target) -> str:
    base = {"color": _STROKE, "weight": 1.5, "radius": 6, "fillOpacity": 0.95}
    items = [(lab, {**base, "fillColor": col}) for lab, col in
             zip(style.class_labels(target.breaks, _num) if target.breaks else [tr("mọi giá trị / all values")],
                 target.palette)]
    items.append((style.unknown(), {**base, "color": "#555555", "fillColor": style.UNKNOWN_FILL, "dashArray": "3 3"}))
    improved = {"minutes": (f"viền đậm: nhanh hơn từ {IMPROVED_MINUTES} phút (bản đồ sau)",
                            f"thick outline: {IMPROVED_MINUTES} min or more faster (after map)"),
                "people": (f"viền đậm: tăng từ {IMPROVED_SHARE:.0%} (bản đồ sau)",
                           f"thick outline: {IMPROVED_SHARE:.0%} or more people (after map)")}.get(target.kind)
    if improved:
        items.append((tr(improved), {**base, "fillColor": "#ffffff", **_IMPROVED}))
    cells = "".join(f'<div class="bg-row">{swatch_svg("circle", s)}<span>{escape(lab)}</span></div>'
                    for lab, s in items)
    return f'<div class="bg-lg-sub">{escape(tr(target.title))}</div>{cells}'


# --------------------------------------------------------------------------- page parts

def head_html(assets: str = "site", prefix: str = "assets/") -> str:
    """``<link>``/``<script>`` of the dual page's own files, or their text inline (``assets="inline"``)."""
    if assets == "site":
        return f'<link rel="stylesheet" href="{prefix}{DUAL_CSS}"/>\n<script src="{prefix}{DUAL_JS}"></script>'
    if assets == "inline":
        css = (vendor.ASSET_DIR / DUAL_CSS).read_text(encoding="utf-8")
        js = (vendor.ASSET_DIR / DUAL_JS).read_text(encoding="utf-8")
        css = re.sub(r"</(style)", r"<\\/\1", css, flags=re.IGNORECASE)
        js = re.sub(r"</(script)", r"<\\/\1", js, flags=re.IGNORECASE)
        return f"<style>{css}</style>\n<script>{js}</script>"
    raise ValueError(f"assets mode must be 'site' or 'inline', not {assets!r}")


def bar_html(title, targets: list[Target], initial: int, home: str | None = None,
             extra_links: list[tuple[str, str]] | None = None) -> str:
    """The bar above the maps: title, links and the target selector (all escaped, both languages; the options carry
    both names, ``bgdual.js`` shows the page's language)."""
    nav = []
    if home:
        nav.append(f'<a href="{escape(home, quote=True)}">← {text_html("Trang chủ / home")}</a>')
    nav += [f'<a href="{escape(href, quote=True)}">{text_html(label)}</a>' for label, href in extra_links or []]
    parts = [f'<div class="bg-dual-head"><h1>{text_html(title)}</h1>{"<nav>" + " · ".join(nav) + "</nav>" if nav else ""}</div>']
    if targets:
        groups = {"minutes": "Thời gian đến / travel time to", "people": "Dân số tiếp cận / people within reach",
                  "value": "Khác / other"}
        options, last = [], None
        for i, t in enumerate(targets):
            if t.kind != last:
                if last is not None:
                    options.append("</optgroup>")
                vi, en = lang.split(groups[t.kind])
                options.append(f'<optgroup label="{escape(vi, quote=True)}" data-vi="{escape(vi, quote=True)}" '
                               f'data-en="{escape(en, quote=True)}">')
                last = t.kind
            selected = " selected" if i == initial else ""
            vi, en = t.name
            options.append(f'<option value="{i}"{selected} data-vi="{escape(vi, quote=True)}" data-en="{escape(en, quote=True)}">'
                           f'{escape(vi)}</option>')
        options.append("</optgroup>")
        parts.append(f'<label class="bg-dual-pick" for="{SELECT_ID}">{text_html("Tô màu khu, cụm công nghiệp theo / parks coloured by")}'
                     f'<select id="{SELECT_ID}">{"".join(options)}</select></label>')
        note = ("Kéo, thu phóng một bản đồ thì bản đồ kia đi theo / pan or zoom one map and the other follows")
    else:
        note = "Không có kết quả theo khu, cụm công nghiệp / no per-park results"
    parts.append(f'<div class="bg-dual-note">{text_html(note)}</div>')
    return f'<header class="bg-dual-bar">{"".join(parts)}</header>'


def _after_note(roads):
    if has_features(roads) and "name" in roads:
        listed = "; ".join(dict.fromkeys(style.fmt_text(n) for n in roads["name"] if not style.is_missing(n)))
        if listed:
            return f"Có thêm: {listed}", f"with: {listed}"
    return "Có thêm các tuyến của kịch bản / with the scenario's roads"


class DualStash(MacroElement):
    """Ends the first map's script: its layer registry is kept as ``bgplan.maps[name]`` (bgdual.js)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        bgplan.dualStash({{ this.name_json }}, {{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, name: str):
        super().__init__()
        self._name = "DualStash"
        self.name_json = safe_json(name)


class DualScenario(MacroElement):
    """Ends the page's script: park layers on both maps, the selector, the shared legend, the synchronisation."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        bgplan.scenarioDual({{ this.before.get_name() }}, {{ this.after.get_name() }}, {{ this.data_json }},
                            {{ this.spec_json }});
        {% endmacro %}
    """)

    def __init__(self, before, after, data: dict):
        super().__init__()
        self._name = "DualScenario"
        self.before = before
        self.after = after
        self.data = data
        self.spec_json = safe_json({"select": SELECT_ID, "legend": LEGEND_ID})

    @property
    def data_json(self) -> str:
        return inline(self, safe_json(self.data))
