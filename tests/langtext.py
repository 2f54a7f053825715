"""Test helper: the text a reader sees in one language of a page or fragment built by maps/ (maps.lang).

Texts come in both languages (``<span class="bg-vi">…</span><span class="bg-en">…</span>``, or divs); a reader
sees one. :func:`seen` drops the other language's elements and the tags, and unescapes what the page's scripts
carry (``\\u003c`` …), so a test can say ``"Diện tích" in seen(popup, "vi")``.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser


class _Seen(HTMLParser):
    def __init__(self, lang: str):
        super().__init__(convert_charrefs=True)
        self.hide = "bg-en" if lang == "vi" else "bg-vi"
        self.depth = 0            # > 0 inside an element of the other language
        self.stack = []
        self.out = []

    def handle_starttag(self, tag, attrs):
        if tag in ("br", "img", "input", "meta", "link", "hr"):
            if tag == "br" and self.depth == 0:
                self.out.append(" ")
            return
        classes = (dict(attrs).get("class") or "").split()
        hidden = self.depth > 0 or self.hide in classes
        self.stack.append(hidden)
        if hidden:
            self.depth += 1
        if tag in ("tr", "div", "li", "h4", "p", "section") and not hidden:
            self.out.append(" ")

    def handle_endtag(self, tag):
        if tag in ("br", "img", "input", "meta", "link", "hr") or not self.stack:
            return
        if self.stack.pop():
            self.depth -= 1
        if tag in ("td", "th"):
            self.out.append(" ")

    def handle_data(self, data):
        if self.depth == 0:
            self.out.append(data)


def unjson(html: str) -> str:
    """The page with the JSON escapes of maps.elements.safe_json undone (popups live inside the script)."""
    return html.replace("\\u003c", "<").replace("\\u003e", ">").replace("\\u0026", "&").replace('\\"', '"')


def seen(html: str, lang: str = "vi") -> str:
    """The text of ``html`` a reader of ``lang`` sees (spaces collapsed)."""
    parser = _Seen(lang)
    parser.feed(unjson(html))
    return re.sub(r"\s+", " ", unescape("".join(parser.out))).strip()


def popup_of(m, feature) -> str:
    """A feature's popup HTML (an index into the page's shared texts, or the text itself)."""
    from maps.elements import SharedTexts

    p = feature["properties"].get("p")
    if isinstance(p, int):
        shared = next(c for c in m._children.values() if isinstance(c, SharedTexts))
        return shared.texts[p]
    return p


def legend_texts(m, lang: str = "vi") -> list[str]:
    """The sections of the map's legend panel as the reader of ``lang`` sees them."""
    return [seen(lg.html, lang) for lg in m.bgplan_legends]


