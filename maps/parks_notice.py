"""The notice every map page carries when sourced parks have no position (count, names, reasons, what to do).

Read from the build summary (``layers_summary.json``: ``layers.industrial_parks.without_position``
and ``by_position_precision``, written by :func:`layers.parks.industrial_parks`). The banner has
``id="parks-banner"``, so a page gets it once (the planner map adds it; :mod:`maps.publish` adds it to
the pages that are not maps).
"""

from __future__ import annotations

from html import escape

from layers.park_positions import COMMUNE_LEVEL

BANNER_ID = "parks-banner"
#: Where the repository keeps a sample file for ``--parks`` (README, "Park positions").
SAMPLE_PARKS_FILE = "data/examples/parks.csv"


def without_position(summary: dict | None) -> list[dict]:
    """Sourced parks without a position: ``[{name, kind, status_class, reason}]`` (empty when all are placed)."""
    layer = ((summary or {}).get("layers") or {}).get("industrial_parks") or {}
    return list(layer.get("without_position") or [])


def commune_level_count(summary: dict | None) -> int:
    """Parks placed at commune level only (their rings show the expected error)."""
    layer = ((summary or {}).get("layers") or {}).get("industrial_parks") or {}
    return sum(int(n) for k, n in (layer.get("by_position_precision") or {}).items() if k in COMMUNE_LEVEL)


def banner_html(summary: dict | None, switched: bool = False) -> str:
    """A fixed banner: how many sourced parks have no position, which ones and why, and how to give them; '' when none.

    ``switched``: each text once per language (:func:`maps.lang.text_html`), for a map page with the language toggle;
    else "vi / en" in one line, as the plain pages write every label.
    """
    from maps.lang import text_html

    missing = without_position(summary)
    if not missing:
        return ""

    def say(text: str) -> str:
        return text_html(text) if switched else escape(text)

    items = "".join(f"<li>{escape(str(m.get('name')))} — {escape(str(m.get('reason', '')))}</li>" for m in missing)
    approx = commune_level_count(summary)
    approx_text = (" " + say(f"{approx} khu khác chỉ có vị trí cấp xã (vòng tròn = sai số) / {approx} others are placed at "
                             "commune level only (ring = expected error).")) if approx else ""
    return (f'<div id="{BANNER_ID}" role="status" style="position:fixed;top:0;left:50%;transform:translateX(-50%);'
            'z-index:1100;max-width:min(620px,70vw);background:#fff8e1;border:1px solid #e0a800;border-top:0;'
            'border-radius:0 0 6px 6px;padding:3px 10px;font:13px/1.35 system-ui,sans-serif;color:#3d2c00;'
            'box-shadow:0 1px 4px rgba(0,0,0,.25)"><details><summary>'
            f"<b>{len(missing)}</b> {say('khu, cụm chưa có vị trí / sourced parks without a position')}: "
            f"<code>--parks FILE</code></summary><div>"
            + say("Các khu này có số liệu nguồn nhưng không có trên bản đồ / these parks have sourced facts but are not "
                  "on this map.")
            + f"{approx_text} {say('Thêm vị trí / give positions')}: <code>plan.py run --parks FILE</code> "
            f"({say('ví dụ / sample')}: <code>{SAMPLE_PARKS_FILE}</code>).</div>"
            f"<ul style=\"margin:4px 0;max-height:30vh;overflow:auto\">{items}</ul></details></div>")


def add_to_page(html: str, summary: dict | None, switched: bool = False) -> str:
    """``html`` with the banner inserted after ``<body>`` (unchanged when it has one already or none is needed);
    ``switched``: a map page with the language toggle (:func:`banner_html`)."""
    banner = banner_html(summary, switched=switched)
    if not banner or f'id="{BANNER_ID}"' in html:
        return html
    at = html.find("<body")
    if at < 0:
        return banner + html
    end = html.find(">", at) + 1
    return html[:end] + banner + html[end:]
