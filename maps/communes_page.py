"""Published page of the 2025 communes: one table row per commune/ward (``communes.html``).

Reads ``OUT/communes.csv`` (written by ``plan.py communes`` / ``run``);
values are HTML-escaped. Populations are 2019 census persons mapped to the
2025 units; a range is shown where part of a commune's population was placed
by inference (see ``layers/communes.py``).
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

COLUMNS = [("code", "Mã / code"), ("name_vi", "Xã, phường / commune"), ("population", "Dân số 2019 / population"),
           ("range", "Khoảng / range"), ("urban_share", "Đô thị / urban"), ("parks", "KCN, CCN / parks"),
           ("parks_area_ha", "Diện tích / area (ha)"), ("former_districts", "Huyện cũ / former districts")]


def _cell(col: str, row) -> str:
    if col == "range":
        lo, hi = row["population_min"], row["population_max"]
        return "" if abs(hi - lo) < 0.5 else f"{lo:,.0f} – {hi:,.0f}"
    value = row[col]
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    if col == "population":
        return f"{value:,.0f}"
    if col == "urban_share":
        return f"{100 * value:.1f} %"
    if col == "parks_area_ha":
        return f"{value:,.1f}"
    if col in ("code", "parks"):
        return f"{int(value)}"
    return str(value)


def communes_html(csv_path: str | Path, generated: str, title: str = "Xã, phường 2025 / 2025 communes") -> str:
    """The whole page as a string (no external assets)."""
    table = pd.read_csv(csv_path)
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label in COLUMNS)
    body = "\n".join("<tr>" + "".join(f"<td>{html.escape(_cell(c, row))}</td>" for c, _ in COLUMNS) + "</tr>"
                     for _, row in table.iterrows())
    total = table["population"].sum()
    return f"""<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:1em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 6px}}td:nth-child(n+3){{text-align:right}}</style></head>
<body><p><a href="index.html">← trang chính / home</a></p><h1>{html.escape(title)}</h1>
<p>{len(table)} đơn vị / units; dân số 2019 / 2019 population {total:,.0f}. Nguồn / sources: GSO census 1/4/2019 (national ward table);
2025 units and codes: vietnam-provinces; 2019 → 2025: GSO ward change record and vietnam-address-converter. A range marks
communes part of whose 2019 population was placed by inference. Generated {html.escape(generated)}.</p>
<table><thead><tr>{head}</tr></thead><tbody>
{body}
</tbody></table></body></html>
"""


def communes_page(context) -> dict | None:
    """Page builder for :data:`maps.publish.EXTRA_PAGES`: ``communes.html`` when OUT has ``communes.csv``, else None."""
    csv = Path(context.out_dir) / "communes.csv"
    if not csv.is_file():
        return None
    return {"file": "communes.html", "title": "Xã, phường 2025 / 2025 communes",
            "description": "Dân số, KCN/CCN theo 99 xã, phường sau 01/07/2025 / population and parks by the 2025 communes",
            "html": communes_html(csv, context.generated)}
