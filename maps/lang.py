"""Two languages on one page: Vietnamese and English, switched in the browser (no doubled "vi / en" labels).

Labels in the code are written once as "Vietnamese / English" literals (or ``(vi, en)`` pairs). A page is
rendered with every text built twice, once per language (:func:`both`), and the two renderings sit side by
side in the HTML as ``<span class="bg-vi">…</span><span class="bg-en">…</span>`` (:func:`pair_html`);
``maps/assets/bgplan.css`` shows the one of the language chosen with the page's toggle
(``html.bg-lang-en``). Texts that are the same in both languages are written once.

Without a language (the default, outside :func:`language`) every function here gives the combined
"vi / en" text, as tables, CSV files and the plain pages have it.

>>> tr("Diện tích / area"), split("Tỉnh / province")
('Diện tích / area', ('Tỉnh', 'province'))
>>> with language("en"):
...     tr("Diện tích / area"), tr(("Ga Kép", "Kép station")), tr("ha")
('area', 'Kép station', 'ha')
>>> split("vòng = sai số / ring = error; điểm / points")
('vòng = sai số; điểm', 'ring = error; points')
>>> text_html(("A & B", "A and B"))
'<span class="bg-vi">A &amp; B</span><span class="bg-en">A and B</span>'
"""

from __future__ import annotations

import contextvars
from contextlib import contextmanager
from html import escape
from typing import Callable

LANGS = ("vi", "en")
#: The page's language until the reader switches it.
DEFAULT = "vi"
_current: contextvars.ContextVar = contextvars.ContextVar("bgplan_language", default=None)


def current() -> str | None:
    """The language texts are being built in ("vi", "en"), or None for the combined "vi / en" texts."""
    return _current.get()


@contextmanager
def language(lang: str | None):
    """Build texts in ``lang`` ("vi", "en"; None = combined) inside the ``with`` block."""
    if lang not in (*LANGS, None):
        raise ValueError(f"language must be one of {LANGS} or None, not {lang!r}")
    token = _current.set(lang)
    try:
        yield
    finally:
        _current.reset(token)


def split(text) -> tuple[str, str] | None:
    """(vi, en) of a bilingual literal: "vi / en", or clauses "vi1 / en1; vi2 / en2" (a clause without " / " is
    shared); None when the text is not one (a name, a value, or more than one " / " in a clause)."""
    if isinstance(text, tuple) and len(text) == 2:
        return str(text[0]), str(text[1])
    text = str(text)
    parts = text.split(" / ")
    if len(parts) == 2:
        return parts[0], parts[1]
    clauses = [c.split(" / ") for c in text.split("; ")]
    if len(clauses) > 1 and all(len(c) in (1, 2) for c in clauses) and any(len(c) == 2 for c in clauses):
        return "; ".join(c[0] for c in clauses), "; ".join(c[-1] for c in clauses)
    return None


def tr(text, lang: str | None = None) -> str:
    """A bilingual literal (or ``(vi, en)`` pair) in ``lang`` (default: the current one); unchanged without one.

    Only for labels written in the code, never for data (a place may be called "A / B")."""
    lang = lang or current()
    pair = split(text) if (isinstance(text, tuple) or " / " in str(text)) else None
    if pair is None:
        return str(text) if not isinstance(text, tuple) else " / ".join(map(str, text))
    if lang is None:
        return str(text) if not isinstance(text, tuple) else f"{pair[0]} / {pair[1]}"
    return pair[LANGS.index(lang)]


def both(fn: Callable, *args, **kwargs) -> tuple:
    """``(fn(...) built in Vietnamese, fn(...) built in English)``."""
    out = []
    for lang in LANGS:
        with language(lang):
            out.append(fn(*args, **kwargs))
    return tuple(out)


def pair_html(vi: str, en: str, tag: str = "span") -> str:
    """Two renderings (HTML, already escaped) as one: written once when equal, else one element per language."""
    if vi == en:
        return vi
    return f'<{tag} class="bg-vi">{vi}</{tag}><{tag} class="bg-en">{en}</{tag}>'


def text_html(text, tag: str = "span") -> str:
    """A bilingual label (literal or pair) as escaped HTML with one element per language."""
    vi, en = (escape(tr(text, lang)) for lang in LANGS)
    return pair_html(vi, en, tag)


def pairs(fn: Callable, tag: str = "span") -> list[str]:
    """``fn()`` returns a list of HTML strings: the same list built in both languages, joined item by item."""
    vi, en = both(fn)
    return [None if a is None else pair_html(a, b, tag) for a, b in zip(vi, en)]
