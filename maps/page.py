"""The plain pages of the site (index, indicators, sources, validation, communes) made to read on a phone.

:func:`phone_ready` takes a finished page and puts every table in its own horizontal scroll box (so the page
never scrolls sideways at 390 px), lets long words and addresses wrap, and keeps the attribution line in view
(a sticky footer; a page without one gets one). The pages' own builders stay as they are.

>>> html = phone_ready("<html><head></head><body><table><tr><td>x</td></tr></table></body></html>", "© OSM")
>>> '<div class="bg-scroll"><table>' in html and "</table></div>" in html and 'class="bg-attrib"' in html
True
"""

from __future__ import annotations

import re
from html import escape

CSS = ("<style>.bg-scroll{overflow-x:auto;max-width:100%;-webkit-overflow-scrolling:touch}"
       "body{overflow-wrap:anywhere}img,svg{max-width:100%;height:auto}"
       # in a table, a word stays whole (the box scrolls): a column never shrinks to one letter per line
       ".bg-scroll th,.bg-scroll td{overflow-wrap:break-word;word-break:normal;min-width:4.5em}"
       ".bg-scroll td a{overflow-wrap:anywhere}"
       "footer,.bg-attrib{position:sticky;bottom:0;background:#fafaf7;padding:4px 8px;font-size:12px;color:#555;"
       "border-top:1px solid #ddd;z-index:5}"
       "a{overflow-wrap:anywhere}"
       "@media (max-width:600px){body{font-size:14px}main{padding:10px 12px 30px}h1{font-size:18px}"
       "a,button,summary{min-height:24px}"
       "#parks-banner{position:static!important;transform:none!important;max-width:none!important;border-radius:0!important}}"
       "</style>")


def phone_ready(html: str, attribution: str) -> str:
    """``html`` with its tables in scroll boxes, the phone CSS, and the attribution kept in view."""
    html = re.sub(r"<table\b", '<div class="bg-scroll"><table', html)
    html = html.replace("</table>", "</table></div>")
    at = html.find("</head>")
    html = html[:at] + CSS + html[at:] if at >= 0 else CSS + html
    if "<footer" not in html:
        bar = f'<footer class="bg-attrib">{escape(attribution)}</footer>'
        end = html.rfind("</body>")
        html = html[:end] + bar + html[end:] if end >= 0 else html + bar
    return html
