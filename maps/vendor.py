"""The JavaScript and CSS the maps need, vendored in ``maps/assets/`` (no CDN).

Folium loads Leaflet, jQuery, Bootstrap, Awesome Markers and Font Awesome
from CDNs by default. The maps here need only Leaflet 1.9.4, two small
Leaflet plugins and this project's own helpers, all kept in
``maps/assets/`` (versions, hashes and licences in ``maps/assets/VENDORED.md``):

==========================  =============================================
``leaflet/``                Leaflet 1.9.4 (BSD-2-Clause)
``fullscreen/``             leaflet.fullscreen 3.0.0 (MIT)
``groupedlayercontrol/``    leaflet-groupedlayercontrol 0.6.1 (MIT)
``html-to-image/``          html-to-image 1.11.13 (MIT): the print layout's PNG export
``bgplan.js``, ``.css``     data layers, legend panel, search, measure, print layout, language (this project)
``explorer.js``             the suitability explorer (this project, :mod:`maps.explorer`)
==========================  =============================================

Two ways to include them:

* ``"site"``: ``<script src="assets/…">`` links; :func:`copy_assets` puts
  the files next to the pages (the published site).
* ``"inline"``: the files' text inside the page, images as data URIs, so a
  single HTML file (``OUT/map.html``) works offline and anywhere.

>>> html = head_html("site")
>>> "assets/leaflet/leaflet.js" in html and "http" not in html
True
>>> "L.Control.GroupedLayers" in head_html("inline")
True
"""

from __future__ import annotations

import base64
import re
import shutil
from pathlib import Path

ASSET_DIR = Path(__file__).resolve().parent / "assets"

#: Stylesheets and scripts in load order (paths relative to ASSET_DIR).
CSS = ("leaflet/leaflet.css", "fullscreen/Control.FullScreen.css",
       "groupedlayercontrol/leaflet.groupedlayercontrol.min.css", "bgplan.css")
JS = ("leaflet/leaflet.js", "fullscreen/Control.FullScreen.js",
      "groupedlayercontrol/leaflet.groupedlayercontrol.min.js", "html-to-image/html-to-image.js", "bgplan.js", "explorer.js")

_MIME = {".png": "image/png", ".svg": "image/svg+xml", ".gif": "image/gif"}


def head_html(mode: str = "site", prefix: str = "assets/") -> str:
    """``<link>``/``<script>`` tags (``mode="site"``) or inline ``<style>``/``<script>`` (``"inline"``)."""
    if mode == "site":
        tags = [f'<link rel="stylesheet" href="{prefix}{p}"/>' for p in CSS]
        tags += [f'<script src="{prefix}{p}"></script>' for p in JS]
    elif mode == "inline":
        tags = [f"<style>{_inline_css(p)}</style>" for p in CSS]
        tags += [f"<script>{_script_text(p)}</script>" for p in JS]
    else:
        raise ValueError(f"assets mode must be 'site' or 'inline', not {mode!r}")
    return "\n".join(tags)


def copy_assets(dest: str | Path) -> Path:
    """Copy every vendored file (with licences) into ``dest`` (e.g. ``OUT/site/assets``)."""
    dest = Path(dest)
    shutil.copytree(ASSET_DIR, dest, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("*.md", "__pycache__"))
    return dest


def asset_bytes() -> int:
    """Total size of the files a page loads (bytes)."""
    return sum((ASSET_DIR / p).stat().st_size for p in (*CSS, *JS))


def _script_text(rel: str) -> str:
    text = (ASSET_DIR / rel).read_text(encoding="utf-8")
    # A literal "</script" would end the inline element early.
    return re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE)


def _inline_css(rel: str) -> str:
    path = ASSET_DIR / rel
    text = path.read_text(encoding="utf-8")

    def data_uri(match: re.Match) -> str:
        target = match.group(2)
        if target.startswith(("data:", "#", "http:", "https:")):
            return match.group(0)
        file = (path.parent / target).resolve()
        if not file.is_file() or file.suffix not in _MIME:
            return match.group(0)
        encoded = base64.b64encode(file.read_bytes()).decode("ascii")
        return f"url({match.group(1)}data:{_MIME[file.suffix]};base64,{encoded}{match.group(1)})"

    text = re.sub(r"url\((['\"]?)([^)'\"]+)\1\)", data_uri, text)
    return re.sub(r"</(style)", r"<\\/\1", text, flags=re.IGNORECASE)
