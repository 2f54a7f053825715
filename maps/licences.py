"""Licences of the published layers: ``OUT/site/licences.json``, the sources page, and what may not go out.

The build summary (``OUT/layers_summary.json``) carries
``"licences": {layer: {"source": …, "licence": …, "redistribution": …}}``
with ``redistribution`` one of "allowed", "not allowed", "unknown". A layer
missing there is "unknown". An analysis (access, isochrones, sites …) takes
its entry from the same mapping when it is there (its most restrictive
input, worked out by the build); otherwise it is listed as a derived
product of this tool, "allowed".

:func:`licence_table` lists one row per published layer;
:func:`restricted` names the layers whose redistribution is "not allowed"
(``publish`` leaves them out unless told ``include_restricted``);
:func:`sources_html` is the sources page.

>>> rows = licence_table(["parks"], ["access"], {"licences": {"parks": {"source": "IIP", "licence": "none stated",
...                                                                      "redistribution": "not allowed"}}})
>>> [(r["layer"], r["redistribution"]) for r in rows]
[('parks', 'not allowed'), ('access', 'allowed')]
>>> restricted(rows)
['parks']
>>> most_restrictive(["allowed", "unknown", "not allowed"])
'not allowed'
"""

from __future__ import annotations

from html import escape

from geo.io.bundle import most_restrictive

DERIVED = {"source": "bgplan (phân tích của công cụ / analysis by this tool)", "licence": "derived from the inputs",
           "redistribution": "allowed"}


def licence_table(layers, analyses, summary: dict | None) -> list[dict]:
    """One ``{layer, source, licence, redistribution}`` per layer name in ``layers`` then ``analyses``."""
    known = (summary or {}).get("licences") or {}
    rows = []
    for name in layers:
        entry = known.get(name) or {}
        rows.append({"layer": name, "source": entry.get("source") or "không rõ / unknown",
                     "licence": entry.get("licence") or "không rõ / unknown",
                     "redistribution": most_restrictive([entry.get("redistribution", "unknown")])})
    for name in analyses:
        entry = known.get(name) or DERIVED
        rows.append({"layer": name, "source": entry.get("source") or DERIVED["source"],
                     "licence": entry.get("licence") or DERIVED["licence"],
                     "redistribution": most_restrictive([entry.get("redistribution", "allowed")])})
    return rows


def restricted(rows) -> list[str]:
    """Layers whose redistribution is "not allowed"."""
    return [r["layer"] for r in rows if r["redistribution"] == "not allowed"]


RESTRICTED_BANNER = ("<div class=\"bg-restricted\" role=\"alert\" style=\"position:fixed;left:0;right:0;bottom:0;z-index:2000;"
                     "background:#b71c1c;color:#fff;font:12px system-ui,sans-serif;padding:3px 8px;text-align:center\">"
                     "Có lớp dữ liệu không được phép phân phối lại / includes layers whose redistribution is not allowed: {names}"
                     " — không công bố ra ngoài / not for publication (xem / see sources.html)</div>")


def banner_html(names) -> str:
    """The notice every page carries when restricted layers were published on purpose (names escaped)."""
    return RESTRICTED_BANNER.format(names=escape(", ".join(names)))


def sources_html(rows, generated: str, page_css: str = "", attribution: str = "") -> str:
    """The sources page: one table row per published layer with its source, licence and redistribution."""
    label = {"allowed": "được phép / allowed", "not allowed": "không được phép / not allowed", "unknown": "không rõ / unknown"}
    body = "".join(f"<tr><td>{escape(r['layer'])}</td><td>{escape(str(r['source']))}</td><td>{escape(str(r['licence']))}</td>"
                   f"<td class=\"r-{escape(r['redistribution'].replace(' ', '-'))}\">{escape(label[r['redistribution']])}</td></tr>"
                   for r in rows)
    return ("<!DOCTYPE html><html lang=\"vi\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
            "content=\"width=device-width,initial-scale=1\"><link rel=\"icon\" href=\"data:,\">"
            "<title>Nguồn và giấy phép / sources and licences</title>"
            f"<style>{page_css} table{{border-collapse:collapse}} td,th{{border-bottom:1px solid #ddd;padding:3px 8px;"
            "text-align:left;vertical-align:top}} .r-not-allowed{{color:#b71c1c;font-weight:600}} .r-unknown{{color:#8a6d00}}"
            "</style></head><body>"
            "<header><h1>Nguồn dữ liệu và giấy phép / data sources and licences</h1>"
            "<div><a href=\"index.html\">← Trang chủ / home</a> · <a href=\"licences.json\">licences.json</a></div></header><main>"
            "<table><thead><tr><th>Lớp / layer</th><th>Nguồn / source</th><th>Giấy phép / licence</th>"
            f"<th>Phân phối lại / redistribution</th></tr></thead><tbody>{body}</tbody></table>"
            "<p>Lớp \"không được phép\" không được công bố trừ khi chạy với <code>--include-restricted</code> / layers marked "
            "\"not allowed\" are left out unless published with <code>--include-restricted</code>.</p>"
            f"<footer>{escape(attribution)} · tạo ngày / generated {escape(generated)}</footer></main></body></html>")


def short_source(source, licence, limit: int = 60) -> str:
    """One short line of a print layout's "sources and licences": the source's name (up to its first "(", ";" or
    ",") and each licence's name (the part before its parenthesis), the full texts staying in licences.json and
    sources.html.

    >>> short_source("OpenStreetMap 2018-01-03 (Geofabrik), rebuilt from …", "ODbL 1.0; CC BY-SA 4.0")
    'OpenStreetMap 2018-01-03 — ODbL 1.0, CC BY-SA 4.0'
    >>> short_source("WorldPop Global 2000–2020, 2020 (worldpop.org); GSO census", "CC BY 4.0; official statistics, republished")
    'WorldPop Global 2000–2020 — CC BY 4.0, official statistics'
    """
    import re

    name = re.split(r"\s*[(;,]", str(source or "unknown"), maxsplit=1)[0].strip() or str(source)
    if len(name) > limit:
        name = name[: limit - 1].rstrip() + "…"
    names = []
    for piece in str(licence or "unknown").split(";"):
        piece = re.split(r"\s*[(,]", piece.strip(), maxsplit=1)[0].strip()
        if piece and piece not in names:
            names.append(piece[:limit])
    return f"{name} — {', '.join(names)}"
