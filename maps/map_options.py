"""The options of the planner map (:func:`maps.planner.planner_map`): one validated, immutable object.

A page's look — title, assets, clipping, which layers are on, which tools are
offered — is one :class:`MapOptions`; callers that draw several variants of a
page (the scenario's two maps, the published pages) derive them with
``dataclasses.replace``.
"""

from __future__ import annotations

from dataclasses import dataclass

from maps.geometry import DEFAULT_CLIP_KM

#: Values of :attr:`MapOptions.assets`.
ASSETS = ("inline", "site")
#: Values of :attr:`MapOptions.district_view` (the district entries of :mod:`maps.context_layers`).
DISTRICT_VIEWS = ("outline", "density", "urban")
#: Keys of :attr:`MapOptions.tools`.
TOOLS = ("search", "measure", "print", "panel")


@dataclass(frozen=True)
class MapOptions:
    """How the planner map is drawn (every field optional; the defaults give the self-contained ``OUT/map.html``).

    title, subtitle : a bilingual literal or a (vi, en) pair (default: the province's name and "planning map").
    assets : "inline" (one self-contained file) or "site" (links to ``assets/``).
    clip_km : margin around the province envelope (km, ≥ 0); None = no clipping.
    simplify_m : per-layer tolerance (m) overriding :data:`maps.planner.DEFAULT_SIMPLIFY_M`.
    home : link target of the title box (e.g. "index.html" on the site).
    extra_links : further (label, href) links in the title box.
    collapsed : layer control folded into its button.
    district_view : district layer shown first: "outline" (default), "density" or "urban".
    access_layers : with an ``access`` table, also one park layer per target coloured by minutes
        (else the minutes are only in the park popups).
    hide : keys off when the page opens.
    explorer_open : unfold the suitability explorer's weight panel at the start on wide screens.
    map_config : the region's ``map:`` section (:func:`maps.planner.region_map_config`; read from the region
        named in the build summary when not given).
    on : shell patterns of the layer keys on when the page opens (None: each entry's ``show``: the context and
        the parks, no analysis).
    sources : lines of the print layout's "sources and licences" (default: the layers' licences in the summary).
    generated : the date the data were produced (ISO; default today).
    tools : switch tools off: {"search": False, "measure": False, "print": False}; "panel": False leaves out
        the legend panel and every tool (the scenario page's two maps share one, :mod:`maps.dualmap`).

    >>> from dataclasses import replace
    >>> site = MapOptions(assets="site", home="index.html", clip_km=10)
    >>> replace(site, district_view="density").district_view
    'density'
    >>> MapOptions(tools={"zoom": False})
    Traceback (most recent call last):
    ...
    ValueError: MapOptions.tools: unknown tool 'zoom' (known: search, measure, print, panel)
    """

    title: str | tuple | None = None
    subtitle: str | tuple | None = None
    assets: str = "inline"
    clip_km: float | None = DEFAULT_CLIP_KM
    simplify_m: dict | None = None
    home: str | None = None
    extra_links: list[tuple[str, str]] | None = None
    collapsed: bool = True
    district_view: str = "outline"
    access_layers: bool = True
    hide: tuple | list = ()
    explorer_open: bool = False
    map_config: dict | None = None
    on: tuple | list | None = None
    sources: list | None = None
    generated: str | None = None
    tools: dict | None = None

    def __post_init__(self):
        if self.assets not in ASSETS:
            raise ValueError(f"MapOptions.assets must be one of {', '.join(ASSETS)}, not {self.assets!r}")
        if self.district_view not in DISTRICT_VIEWS:
            raise ValueError(f"MapOptions.district_view must be one of {', '.join(DISTRICT_VIEWS)}, "
                             f"not {self.district_view!r}")
        if self.clip_km is not None and not (isinstance(self.clip_km, (int, float)) and self.clip_km >= 0):
            raise ValueError(f"MapOptions.clip_km must be None or a number ≥ 0 (km), not {self.clip_km!r}")
        unknown = [k for k in (self.tools or {}) if k not in TOOLS]
        if unknown:
            raise ValueError(f"MapOptions.tools: unknown tool {unknown[0]!r} (known: {', '.join(TOOLS)})")
