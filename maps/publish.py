"""The published site: ``OUT/site/`` with an index, one page per map and the indicators page.

:func:`publish_site` writes

* ``index.html`` — what each page shows, data sources and dates, licences;
* ``planning.html`` — the planning layers (parks with access times in their
  popups when an ``access`` table is given);
* ``access.html``, ``suitability.html``, ``scenario.html`` — only when the
  matching analyses are given (access report or isochrones; suitability
  grid / candidate sites; scenario before/after with its planned roads);
  ``scenario.html`` shows the before and the after side by side on two
  synchronised maps with one legend and a target selector (:mod:`maps.dualmap`);
* ``indicators.html`` — 2030 targets beside today's values
  (:mod:`maps.indicators`);
* ``assets/`` — the vendored Leaflet files (:mod:`maps.vendor`);
* ``licences.json`` and ``sources.html`` — source, licence and redistribution
  of every layer (:mod:`maps.licences`); layers whose redistribution is
  "not allowed" are left out unless ``include_restricted`` (then every page
  says so);
* ``data/`` — every published layer as a download (GeoJSON, or CSV for a
  table; the population grid as GeoTIFF) cut to its public columns, with its
  source and licence inside the file and beside its ``<a download>`` link on
  the index page (:mod:`maps.downloads`);
* any extra page of :data:`EXTRA_PAGES` (see there: one line to add a page).

The pages open from the file system or any static web server: no server
code, no CDN; map tiles are the only external requests and the maps work
without them. Only public attributes go out: every layer is cut to the
columns allowed in ``maps/publish.yaml`` (or the ``config`` given) before
anything is drawn, and layers not listed there are not published.
Geometry is clipped to the province window, simplified and rounded
(5 decimals). The site is built in a temporary folder and swapped into
place, so a failed run leaves the previous site untouched.
"""

from __future__ import annotations

import datetime as _dt
import fnmatch
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from html import escape
from pathlib import Path

import pandas as pd

from geo.collector import fewer_collections
from geo.config import read_yaml
from geo.errors import InputError
from maps import downloads, dualmap, indicators, lang, licences, page, parks_notice, registry, style, vendor
from maps.map_options import MapOptions
from maps.planner import planner_map, read_analyses, read_layers, source_lines

log = logging.getLogger(__name__)

CONFIG_FILE = Path(__file__).resolve().parent / "publish.yaml"

#: Context layers of the analysis pages.
CONTEXT = ("province", "neighbours", "districts", "district_population", "industrial_parks", "corridors", "railways",
           "stations", "destinations", "water", "urban_areas")

#: The layers on when a map page opens: the context (the light base map is on too); each page adds its subject.
CONTEXT_ON = ("neighbours", "province", "district_names", "districts_outline", "corridors", "railways", "stations",
              "destinations", "urban_areas")

#: The map pages: file, title, description, layers (None = all), analyses, pages shown only when one of `needs` is given,
#: and the layers on when the page opens (`on`, shell patterns; the others are in the layer control).
PAGES = (
    {"file": "planning.html", "title": "Bản đồ quy hoạch / planning map",
     "description": "Khu, cụm công nghiệp, hành lang giao thông, logistics Kép, đô thị, dân số, sông hồ, ranh giới / "
                    "industrial parks and clusters, corridors, Kép logistics, towns, population, water, boundaries",
     "layers": None, "analyses": ("access",), "needs": (), "population": True, "access_layers": False,
     "on": (*CONTEXT_ON, "parks_*")},
    {"file": "access.html", "title": "Khả năng tiếp cận / access",
     "description": "Thời gian từ mỗi khu, cụm công nghiệp đến hành lang, ga Kép, cảng, cửa khẩu; vùng đẳng thời / "
                    "travel time from each park to the corridors, Kép, ports and the border; isochrones",
     "layers": CONTEXT, "analyses": ("access",), "needs": ("isochrones", "access"), "population": False,
     "access_layers": True, "on": (*CONTEXT_ON, "access_*")},
    {"file": "suitability.html", "title": "Mức phù hợp và địa điểm đề xuất / suitability and candidate sites",
     "description": "Lưới điểm phù hợp cho khu, cụm công nghiệp mới và các địa điểm đề xuất / "
                    "suitability grid for new parks and candidate sites",
     "layers": CONTEXT, "analyses": ("suitability", "candidates"), "needs": ("suitability", "candidates"),
     "population": False, "access_layers": False, "explorer_open": True,
     "on": (*CONTEXT_ON, "parks_*", "suitability", "candidates", "site_verdicts")},
    {"file": "scenario.html", "title": "Kịch bản trước/sau / scenario before and after",
     "description": "Thay đổi khi có tuyến đường của kịch bản / what changes with the scenario's roads",
     "layers": CONTEXT, "analyses": ("scenario", "planned_roads", "interchanges"), "needs": ("scenario", "planned_roads"),
     "population": False, "access_layers": False, "dual": True, "on": CONTEXT_ON},
)


#: Extra pages built by other modules, as "module:function" (imported when publishing, so no import cycle).
#: The function gets a :class:`SiteContext` and returns None (nothing to show) or a dict
#: ``{"file": "x.html", "title": …, "description": …, "html": …}``; the page is written and listed on the index.
#: Adding a page is one line here, e.g. ``"maps.communes:communes_page",``.
EXTRA_PAGES: tuple[str, ...] = (
    "maps.validation_page:validation_page",   # how good are these travel times (OUT/validation.csv)
    "maps.communes_page:communes_page",       # the 2025 communes (OUT/communes.csv)
)


@dataclass(frozen=True)
class SiteContext:
    """What an extra page builder may use: only public layers and analyses (already cut to the allow-list)."""

    layers: dict
    analyses: dict
    summary: dict
    generated: str
    region_name: str
    site_dir: Path
    out_dir: Path


def _builders(extra) -> list:
    """The page builder functions of :data:`EXTRA_PAGES` plus ``extra`` (callables or "module:function")."""
    import importlib

    out = []
    for spec in (*EXTRA_PAGES, *(extra or ())):
        if callable(spec):
            out.append(spec)
            continue
        module, _, name = str(spec).partition(":")
        out.append(getattr(importlib.import_module(module), name))
    return out


def load_config(config=None) -> dict:
    """The publishing config: a dict, a YAML path, or None for ``maps/publish.yaml``."""
    if isinstance(config, dict):
        return config
    path = Path(config) if config else CONFIG_FILE
    if not path.is_file():
        raise InputError(path, "publishing config not found")
    data = read_yaml(path, "publishing config")
    if not isinstance(data.get("layers"), dict):
        raise InputError(path, "needs a 'layers:' mapping of layer name → allowed columns")
    return data


def public_columns(columns, allowed) -> list[str]:
    """The ``columns`` matching the allow-list (names or shell patterns), in their original order.

    >>> public_columns(["name", "secret", "minutes_to_kep", "geometry"], ["name", "minutes_to_*"])
    ['name', 'minutes_to_kep']
    """
    allowed = [str(a) for a in allowed or []]
    return [c for c in columns if any(fnmatch.fnmatchcase(str(c), a) for a in allowed)]


def public_layers(layers: dict | None, allow: dict | None) -> dict:
    """Only the allowed layers, each cut to its allowed columns (plus geometry)."""
    out = {}
    for name, frame in (layers or {}).items():
        if frame is None or name not in (allow or {}):
            continue
        geom = [frame.geometry.name] if hasattr(frame, "geometry") and frame.geometry.name in frame else []
        cols = public_columns([c for c in frame.columns if c not in geom], allow[name])
        sub = frame[cols + geom].copy()
        # only the siting rules and the Monte Carlo run count (numbers and labels, no paths) travel with a layer
        sub.attrs = {k: v for k, v in getattr(frame, "attrs", {}).items() if k in ("explorer_rules", "montecarlo")}
        out[name] = sub
    return out


@fewer_collections()
def publish_site(out_dir, layers: dict | None = None, population=None, analyses: dict | None = None,
                 summary: dict | None = None, config=None, site_dir=None, include_restricted: bool = False,
                 pages=()) -> dict:
    """Write the published site into ``OUT/site`` (or ``site_dir``); layers read from ``OUT/layers.gpkg`` when not given.

    ``include_restricted`` publishes layers whose redistribution is "not allowed" too (every page
    then says so); ``pages`` adds page builders to :data:`EXTRA_PAGES` for this call.

    Returns ``{"site": Path, "pages": {file: bytes}, "over_budget": [files]}``.
    """
    out_dir = Path(out_dir)
    site = Path(site_dir) if site_dir else out_dir / "site"
    if layers is None:
        layers, file_population, file_summary = read_layers(out_dir)
        population = population if population is not None else file_population
        summary = summary if summary is not None else file_summary
        analyses = analyses if analyses is not None else read_analyses(out_dir)
    cfg = load_config(config)
    # the declared layers (maps/registry.py) bring their own allow-lists; publish.yaml may override one
    pub = public_layers(layers, {**registry.allow_list("layers"), **cfg["layers"]})
    pub_analyses = public_layers({k: v for k, v in (analyses or {}).items() if v is not None and len(v)},
                                 {**registry.allow_list("analyses"), **(cfg.get("analyses") or {})})
    if not cfg.get("population", True):
        population = None
    public_summary = _public_summary(summary or {})
    generated = _dt.date.today().isoformat()
    names = list(pub) + (["population"] if population is not None else [])
    known = (summary or {}).get("licences") or {}
    inherited = {k: known[v] for k, v in registry.licence_keys().items() if v in known and k not in known}
    rows = licences.licence_table(names, list(pub_analyses), {**(summary or {}), "licences": {**known, **inherited}})
    blocked = licences.restricted(rows)
    if blocked and not include_restricted:
        log.warning("not published (redistribution not allowed): %s; use --include-restricted to publish them", ", ".join(blocked))
        pub = {k: v for k, v in pub.items() if k not in blocked}
        pub_analyses = {k: v for k, v in pub_analyses.items() if k not in blocked}
        population = None if "population" in blocked else population
    for r in rows:
        r["published"] = include_restricted or r["layer"] not in blocked
    notice = licences.banner_html(blocked) if (blocked and include_restricted) else ""

    site.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{site.name}-", dir=site.parent))
    os.chmod(tmp, 0o755)   # mkdtemp makes it private; a published folder must be readable by the web server
    try:
        vendor.copy_assets(tmp / "assets")
        written = []
        region = _region_name(pub)
        sources = source_lines((r["source"], r["licence"]) for r in rows if r["published"])
        for spec in PAGES:
            if spec["needs"] and not any(n in pub_analyses for n in spec["needs"]):
                continue
            chosen = pub if spec["layers"] is None else {k: v for k, v in pub.items() if k in spec["layers"]}
            shown = (*spec["analyses"], *registry.page_layers(spec["file"]))
            vi, en = lang.split(spec["title"])
            shown_analyses = {k: v for k, v in pub_analyses.items() if k in shown}
            options = MapOptions(title=(f"{region} — {vi}", f"{region} — {en}"), assets="site",
                                 clip_km=cfg.get("clip_km", 10), simplify_m=cfg.get("simplify_m"), home="index.html",
                                 extra_links=[("Chỉ tiêu 2030 / 2030 indicators", "indicators.html"),
                                              ("Tải dữ liệu / downloads", "index.html#downloads")],
                                 on=spec["on"], sources=sources, generated=generated,
                                 access_layers=spec["access_layers"], explorer_open=spec.get("explorer_open", False))
            if spec.get("dual"):
                m = dualmap.scenario_dual_map(chosen, shown_analyses, summary=public_summary, title=options.title,
                                              assets=options.assets, clip_km=options.clip_km,
                                              simplify_m=options.simplify_m, home=options.home,
                                              extra_links=options.extra_links, on=options.on,
                                              sources=options.sources, generated=options.generated)
            else:
                m = planner_map(chosen, population=population if spec["population"] else None,
                                analyses=shown_analyses, summary=public_summary, options=options)
            (tmp / spec["file"]).write_text(m.get_root().render(), encoding="utf-8")
            written.append(spec)
        offered = downloads.write_downloads(tmp / "data", {**pub, **pub_analyses}, rows, generated,
                                            population=population)
        context = SiteContext(pub, pub_analyses, public_summary, generated, _region_name(pub), tmp, out_dir)
        for builder in _builders(pages):
            extra = builder(context)
            if extra:
                (tmp / extra["file"]).write_text(extra["html"], encoding="utf-8")
                written.append(extra)
        inventory = (layers or {}).get("industrial_parks_inventory")
        if inventory is None:
            inventory = indicators.read_inventory(out_dir)
        if inventory is not None:   # every sourced park (no coordinates): the indicator counts
            inventory = inventory[public_columns(inventory.columns, (cfg.get("layers") or {}).get("industrial_parks_inventory"))]
        page_html = indicators.indicators_html({**pub, "industrial_parks_inventory": inventory} if inventory is not None else pub,
                                               generated=generated, region_id=(summary or {}).get("region"))
        (tmp / "indicators.html").write_text(page_html, encoding="utf-8")
        (tmp / "index.html").write_text(index_html(pub, written, public_summary, generated,
                                                   sources=[r for r in rows if r["published"]], offered=offered),
                                        encoding="utf-8")
        (tmp / "licences.json").write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
        (tmp / "sources.html").write_text(licences.sources_html(rows, generated, indicators.PAGE_CSS, style.ATTRIBUTION_TEXT), encoding="utf-8")
        maps_written = {p["file"] for p in written if p in PAGES}
        for page_file in tmp.glob("*.html"):   # the plain pages: tables in scroll boxes, attribution in view
            if page_file.name not in maps_written:
                page_file.write_text(page.phone_ready(page_file.read_text(encoding="utf-8"), style.ATTRIBUTION_TEXT),
                                     encoding="utf-8")
        for page_file in tmp.glob("*.html"):   # sourced parks without a position: the banner on every page (once)
            text = page_file.read_text(encoding="utf-8")
            marked = parks_notice.add_to_page(text, summary, switched=page_file.name in maps_written)
            if marked != text:
                page_file.write_text(marked, encoding="utf-8")
        if notice:
            for page_file in tmp.glob("*.html"):
                text = page_file.read_text(encoding="utf-8")
                at = text.rfind("</body>")
                page_file.write_text(text[:at] + notice + text[at:] if at >= 0 else text + notice, encoding="utf-8")
        _swap_into_place(tmp, site)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    sizes = page_sizes(site)
    budget = float(cfg.get("max_page_mb", 5)) * 1e6
    over = [f for f, b in sizes.items() if b > budget]
    for f in over:
        log.warning("%s is %.1f MB, over the %.0f MB budget", f, sizes[f] / 1e6, budget / 1e6)
    return {"site": site, "pages": sizes, "over_budget": over}


def page_sizes(site) -> dict[str, int]:
    """Bytes of each HTML page of the site (pages carry their data inline)."""
    return {p.name: p.stat().st_size for p in sorted(Path(site).glob("*.html"))}


def index_html(layers: dict, pages: list[dict], summary: dict, generated: str, sources: list[dict] | None = None,
               offered: list[dict] | None = None) -> str:
    """The site's front page: the maps, the indicators, the downloads, sources and licences.

    ``sources``: the published rows of the licence table (one per layer), listed
    by source and licence; without them, the static :data:`SOURCES`.
    ``offered``: the files of :func:`maps.downloads.write_downloads` (one ``<a download>`` each, with its licence).
    """
    region = _region_name(layers)
    cards = []
    for p in pages:
        cards.append(f'<li><a href="{escape(p["file"], quote=True)}">{escape(p["title"])}</a>'
                     f'<div class="d">{escape(p["description"])}</div></li>')
    cards.append('<li><a href="sources.html">Nguồn và giấy phép / sources and licences</a><div class="d">Nguồn, giấy phép và '
                 'quyền phân phối lại của từng lớp / source, licence and redistribution of every layer</div></li>')
    cards.append('<li><a href="indicators.html">Chỉ tiêu 2030 / 2030 indicators</a><div class="d">Mục tiêu 2030 bên cạnh giá trị '
                 'hiện nay tính từ dữ liệu / 2030 targets beside today\'s values computed from the data</div></li>')
    counts = []
    for name, label in (("industrial_parks", "khu, cụm công nghiệp / industrial parks and clusters"),
                        ("corridors", "hành lang giao thông / road corridors"), ("stations", "ga / stations"),
                        ("urban_areas", "đô thị / urban places")):
        if name in layers:
            counts.append(f"<li>{len(layers[name])} {escape(label)}</li>")
    positions = summary.get("parks_positions")
    if positions:  # e.g. no park positions: the only point source has no licence
        counts.append(f"<li class='d'>{escape(positions)}</li>")
    missing = [n.get("name_vi") or n.get("corridor_id") for n in summary.get("layers", {}).get("corridors", {}).get("not_found", [])]
    gaps = ""
    if missing:
        gaps = ("<p class='d'>Hành lang chưa có trong dữ liệu / corridors not in the data: " + escape(", ".join(map(str, missing)))
                + "</p>")
    if sources:
        by_source = {}
        for r in sources:
            by_source.setdefault((str(r["source"]), str(r["licence"])), []).append(r["layer"])
        sources = "".join(f"<li>{escape(src)} — {escape(lic)} <span class='d'>({escape(', '.join(names))})</span></li>"
                          for (src, lic), names in by_source.items())
    else:
        sources = "".join(f"<li>{escape(s)}</li>" for s in SOURCES)
    return ("<!DOCTYPE html><html lang=\"vi\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
            "content=\"width=device-width,initial-scale=1\"><link rel=\"icon\" href=\"data:,\">"
            f"<title>{escape(region)} — bản đồ quy hoạch công nghiệp / industrial planning maps</title>"
            f"<style>{indicators.PAGE_CSS} ul.pages li{{margin:10px 0}} .d{{color:#555;font-size:13px}}</style></head><body>"
            f"<header><h1>{escape(region)} — quy hoạch công nghiệp đến 2030 / industrial planning to 2030</h1>"
            "<div>Bản đồ tương tác, mở được không cần máy chủ / interactive maps, no server needed</div></header><main>"
            f"<h2>Bản đồ / maps</h2><ul class='pages'>{''.join(cards)}</ul>"
            f"<h2>Nội dung / contents</h2><ul>{''.join(counts)}</ul>{gaps}"
            + (downloads.downloads_html(offered) if offered else "") +
            f"<h2>Nguồn dữ liệu / data sources</h2><ul>{sources}</ul>"
            "<p class='d'>Giá trị thiếu được ghi \"không rõ / unknown\", không bao giờ là 0. / Missing values are shown as "
            "\"không rõ / unknown\", never 0. Vị trí khu, cụm công nghiệp (nếu có) là điểm đánh dấu, không phải ranh "
            "giới đo đạc / park locations, where shown, are markers, not surveyed boundaries.</p>"
            f"<footer>{escape(style.ATTRIBUTION_TEXT)} · tạo ngày / generated {escape(generated)}</footer>"
            "</main></body></html>")


#: Sources listed on the index page (SOURCES.md of the data folder).
SOURCES = (
    "© OpenStreetMap contributors (ODbL 1.0): đường, đường sắt, sông hồ, đô thị / roads, railways, water, places — "
    "Geofabrik 2018-01-03; ga / stations: HOT export 2025",
    "GADM 4.1: ranh giới tỉnh, huyện trước 2025 / province and district boundaries before 2025 (non-commercial use)",
    "WorldPop 2020, 1 km, UN-adjusted (CC BY 4.0), hiệu chỉnh theo điều tra 2019 / rescaled to the 2019 census",
    "GSO, Tổng điều tra dân số và nhà ở 01/04/2019 / Population and Housing Census, 1 April 2019",
    "IIP Vietnam (iipvietnam.vn) via phu20032k1/chatiip, cập nhật 2025 / updated 2025: vị trí, diện tích khu, cụm công nghiệp / "
    "park locations and areas (no licence stated)",
    "CTU-SematX/LegoCity giaothong (CC BY-SA 4.0): tên quốc lộ để khớp hành lang / national road names used to label corridors",
)


def _public_summary(summary: dict) -> dict:
    """The corridors not found, the region id and the sources' dates of the build summary (names, no paths)."""
    layers = summary.get("layers", {})
    not_found = layers.get("corridors", {}).get("not_found", [])
    out = {"layers": {"corridors": {"not_found": [{"corridor_id": n.get("corridor_id"), "name_vi": n.get("name_vi")}
                                                  for n in not_found]}}}
    # the region id (its map settings) and the sources' dates (provenance labels on the maps)
    if summary.get("region"):
        out["region"] = summary["region"]
    if "map" in summary:
        out["map"] = summary["map"]
    positions = layers.get("industrial_parks", {}).get("positions")
    if positions and layers.get("industrial_parks", {}).get("features", 1) == 0:
        out["parks_positions"] = ("Vị trí khu, cụm công nghiệp không được phân phối lại (nguồn không có giấy phép) / park positions "
                                  "are not redistributed (their only source has no licence): "
                                  f"{len(layers['industrial_parks'].get('facts_without_location', []))} khu, cụm chỉ có số liệu / "
                                  "parks known from sourced facts only")
    for name, key in (("water", "source"), ("railways", "source"), ("urban_areas", "census_date")):
        if layers.get(name, {}).get(key):
            out["layers"].setdefault(name, {})[key] = layers[name][key]
    return out


def _region_name(layers: dict) -> str:
    prov = layers.get("province")
    if isinstance(prov, pd.DataFrame) and len(prov) and "name_vi" in prov:
        return style.fmt_text(prov["name_vi"].iloc[0])
    return "bgplan"


def _swap_into_place(new: Path, site: Path) -> None:
    """Replace ``site`` by the finished folder ``new`` (old one removed only after the rename)."""
    old = None
    if site.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{site.name}-old-", dir=site.parent))
        os.replace(site, old / site.name)
    os.replace(new, site)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
