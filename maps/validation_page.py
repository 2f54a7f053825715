"""The published "how good are these travel times" page: modelled vs observed, with sources.

:func:`render_validation_page` turns the table of :func:`layers.validation.validate`
(``OUT/validation.csv``) and its summary (``OUT/validation.json``) into one
plain HTML page (no script), escaped, in the site's style.
:func:`validation_page` is the site's page builder (one entry of
``maps.publish.EXTRA_PAGES``): the page when OUT has a validation, else None.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

import pandas as pd

from maps import indicators, style

PAGE = {"file": "validation.html", "title": "Thời gian di chuyển tin cậy đến đâu / how good are these travel times",
        "description": "Thời gian, quãng đường mô hình so với số liệu công bố, kèm nguồn / modelled times and distances "
                       "beside published observations, with sources"}


def _pct(value) -> str:
    return style.UNKNOWN if style.is_missing(value) else f"{100 * float(value):+.0f} %"


def _link(url) -> str:
    if style.is_missing(url):
        return style.UNKNOWN
    text = str(url)
    if text.startswith(("http://", "https://")):
        return f'<a href="{escape(text, quote=True)}" rel="noopener">{escape(text.split("/")[2])}</a>'
    return escape(text)


def render_validation_page(table: pd.DataFrame, summary: dict, generated: str = "") -> str:
    """HTML of the validation page (every value escaped; missing values shown as unknown, never 0)."""
    rows = []
    for r in table.itertuples(index=False):
        observed_time = (style.UNKNOWN if style.is_missing(r.minutes_min) else
                         f"{r.minutes_min:.0f}" if r.minutes_min == r.minutes_max else f"{r.minutes_min:.0f}–{r.minutes_max:.0f}")
        note = "; ".join(escape(str(x)) for x in (getattr(r, "missing_road", None), getattr(r, "reason", None))
                         if not style.is_missing(x))
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in (
            escape(style.fmt_text(r.origin)), escape(style.fmt_text(r.destination)), escape(style.fmt_text(r.route)),
            escape(style.fmt_number(r.km, 1)), escape(style.fmt_number(r.model_km, 1)), _pct(r.km_error),
            escape(observed_time), escape(style.fmt_number(r.model_minutes, 0)), _pct(r.minutes_error),
            escape(style.fmt_pct(getattr(r, "assumed_share", None))), note, _link(r.source))) + "</tr>")
    head = "".join(f"<th>{escape(h)}</th>" for h in (
        "Từ / from", "Đến / to", "Tuyến công bố / stated route", "km công bố / published", "km mô hình / model",
        "sai số km / distance error", "phút công bố / published min", "phút mô hình / model min",
        "sai số ngoài khoảng / time error outside range", "phần giả định / share on assumed speeds", "ghi chú / note",
        "nguồn / source"))

    def med(key):
        return _pct(summary.get(key)).lstrip("+")

    return ("<!DOCTYPE html><html lang=\"vi\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
            "content=\"width=device-width,initial-scale=1\"><link rel=\"icon\" href=\"data:,\">"
            f"<title>{escape(PAGE['title'])}</title><style>{indicators.PAGE_CSS} table{{border-collapse:collapse;font-size:13px}}"
            " td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top} th{background:#f3f3f3}</style></head><body>"
            f"<header><h1>{escape(PAGE['title'])}</h1><div><a href=\"index.html\">← trang chủ / home</a></div></header><main>"
            f"<p>Mạng đường dùng / network used: {escape(str(summary.get('network') or style.UNKNOWN))}</p>"
            f"<p>Trung vị sai số quãng đường / median distance error: <b>{med('median_abs_km_error')}</b> "
            f"({summary.get('rows_with_distance', 0)} quan sát / observations); trung vị sai số thời gian ngoài khoảng công bố / "
            f"median time error outside the published range: <b>{med('median_abs_minutes_error')}</b> "
            f"({summary.get('rows_with_time', 0)} quan sát / observations).</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            "<p class='d'>Sai số thời gian = 0 khi thời gian mô hình nằm trong khoảng công bố; ngoài khoảng: chênh lệch tương đối "
            "với cận gần nhất. / Time error is 0 when the model lies inside the published range, else the relative distance to "
            "the nearer end. Số liệu công bố là ước tính điển hình (tài liệu quảng bá, bài báo), không phải đo đạc. / Published "
            "figures are typical statements (brochures, news), not measurements.</p>"
            f"<footer>{escape(style.ATTRIBUTION_TEXT)}{' · tạo ngày / generated ' + escape(generated) if generated else ''}</footer>"
            "</main></body></html>")


def validation_page(context) -> dict | None:
    """Page builder for :data:`maps.publish.EXTRA_PAGES`: the page from ``OUT/validation.csv`` (+ .json); None when absent."""
    out_dir = Path(context.out_dir)
    csv = out_dir / "validation.csv"
    if not csv.is_file():
        return None
    table = pd.read_csv(csv)
    js = out_dir / "validation.json"
    summary = json.loads(js.read_text(encoding="utf-8")) if js.is_file() else {}
    return {**PAGE, "html": render_validation_page(table, summary, context.generated)}
