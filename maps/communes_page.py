"""Published page of the 2025 communes: per-unit indicator tables by commune/ward (``communes.html``).

Reads ``OUT/communes.csv`` (written by ``plan.py communes`` / ``run``, see
``layers/communes.py`` and ``layers/commune_access.py``); values are
HTML-escaped. Two tables, one row per 2025 unit:

* population and parks: 2019 census population mapped to the 2025 units
  (a range where part of it was placed by inference), urban share, KCN and
  CCN by legal status, known area;
* access: people within N minutes of a park (with its range), the
  population-weighted median minutes to the corridors, and how each row was
  computed (polygon / nearest cells to a point / unknown with the reason).

The page carries the same indicator columns as a CSV download (a ``data:``
link, so the page stays one file). The district tables of the indicators
page stay for the programme's own pre-2025 geography.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import quote

import pandas as pd

POPULATION_COLUMNS = [("code", "Mã / code"), ("name_vi", "Xã, phường / commune"), ("population", "Dân số 2019 / population"),
                      ("range", "Khoảng / range"), ("urban_share", "Đô thị / urban"), ("parks_kcn", "KCN"),
                      ("parks_ccn", "CCN"), ("parks_by_status", "Tình trạng / status"),
                      ("parks_area_ha", "Diện tích / area (ha)"), ("former_districts", "Huyện cũ / former districts")]


def access_columns(table: pd.DataFrame) -> list[tuple[str, str]]:
    """The access columns present in ``table`` with their headers (threshold and corridors read from the names)."""
    cols = [("code", "Mã / code"), ("name_vi", "Xã, phường / commune")]
    for c in table.columns:
        m = re.fullmatch(r"people_within_(\d+(?:\.\d+)?)_min_of_park", c)
        if m:
            cols += [(c, f"Người trong {m.group(1)} phút tới KCN/CCN / people within {m.group(1)} min of a park"),
                     (c + "_range", "Khoảng / range")]
    for c in table.columns:
        m = re.fullmatch(r"median_minutes_to_(\w+)", c)
        if m:
            cols.append((c, f"Trung vị phút tới / median minutes to {m.group(1).upper()}"))
            if f"median_minutes_low_to_{m.group(1)}" in table:
                cols.append((c + "_range", "Khoảng / range"))
    if "access_method" in table:
        cols += [("access_method", "Cách tính / method"), ("access_note", "Ghi chú / note")]
    return cols


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value))


def _cell(col: str, row) -> str:
    if col == "range":
        lo, hi = row["population_min"], row["population_max"]
        return "" if abs(hi - lo) < 0.5 else f"{lo:,.0f} – {hi:,.0f}"
    if col.startswith("median_minutes_to_") and col.endswith("_range"):
        corridor = col.removeprefix("median_minutes_to_").removesuffix("_range")
        lo, hi = row.get(f"median_minutes_low_to_{corridor}"), row.get(f"median_minutes_high_to_{corridor}")
        return "" if _missing(lo) or _missing(hi) else f"{lo:.1f} – {hi:.1f}"
    if col.endswith("_range"):
        base = col.removesuffix("_range")
        lo, hi = row.get(base + "_min"), row.get(base + "_max")
        return "" if _missing(lo) or _missing(hi) or abs(hi - lo) < 0.5 else f"{lo:,.0f} – {hi:,.0f}"
    value = row.get(col)
    if _missing(value):
        return "" if col in ("access_note", "parks_by_status") else "—"
    if col in ("population",) or col.startswith("people_within"):
        return f"{value:,.0f}"
    if col == "urban_share":
        return f"{100 * value:.1f} %"
    if col == "parks_area_ha":
        return f"{value:,.1f}"
    if col.startswith("median_minutes"):
        return f"{value:.1f}"
    if col in ("code", "parks", "parks_kcn", "parks_ccn"):
        return f"{int(value)}"
    if col == "access_method":
        return str(value).split(":")[0]
    return str(value)


def _table(table: pd.DataFrame, columns) -> str:
    columns = [(c, label) for c, label in columns
               if c in table or c == "range" or (c.endswith("_range") and c.removesuffix("_range") in table)]
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label in columns)
    body = "\n".join("<tr>" + "".join(f"<td>{html.escape(_cell(c, row))}</td>" for c, _ in columns) + "</tr>"
                     for _, row in table.iterrows())
    return f"<table><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>"


def indicator_csv(table: pd.DataFrame) -> str:
    """The page's indicator columns as CSV text (what the download link carries)."""
    keep = [c for c, _ in POPULATION_COLUMNS + access_columns(table) if c in table]
    keep += [c for c in ("population_min", "population_max") if c in table]
    keep += [c for c in table.columns if c.startswith(("people_within", "median_minutes")) and c not in keep]
    keep += [c for c in ("share_within_30_min_of_park", "access_coverage", "access_cells") if c in table and c not in keep]
    return table[list(dict.fromkeys(keep))].to_csv(index=False)


def _parks_note(summary: dict | None) -> str:
    """How many parks could not be placed in a commune (from ``communes_summary.json``), or ""."""
    if not summary or summary.get("parks_not_placed") is None:
        return ""
    return (f" {summary['parks_not_placed']} of {summary.get('parks_total')} parks name no commune of the province in their "
            "address and are not counted in any row.")


#: Columns derived from the parks layer: withheld with it when it may not be published.
PARK_PREFIXES = ("parks", "people_within", "share_within")


def communes_html(csv_path: str | Path, generated: str, title: str = "Xã, phường 2025 / 2025 communes",
                  summary: dict | None = None, parks_public: bool = True) -> str:
    """The whole page as a string (no external assets).

    ``summary`` : ``communes_summary.json`` when written. ``parks_public`` :
    False when the parks layer is not published (its data may not be
    redistributed): every park-derived column (:data:`PARK_PREFIXES`) is left
    out of the tables and the CSV, and the page says so.
    """
    table = pd.read_csv(csv_path)
    withheld = ""
    if not parks_public:
        table = table.drop(columns=[c for c in table.columns if c.startswith(PARK_PREFIXES)])
        summary = None
        withheld = (" Park figures (counts, status, people within reach of a park) are withheld: they derive from park data "
                    "that may not be redistributed (publish with --include-restricted to show them).")
    total = table["population"].sum()
    access = access_columns(table)
    access_part = ""
    if len(access) > 2:
        method = table["access_method"].fillna("none").str.split(":").str[0].value_counts()
        counts = ", ".join(f"{html.escape(str(k))}: {v}" for k, v in method.items())
        access_part = f"""<h2>Tiếp cận / access</h2>
<p>Computed on the WorldPop 1-km cells (rescaled to the 2019 census) with today's road network; units by method: {counts}.
"polygon" = the cells inside the commune polygon (given with --communes); "nearest cells to point" = the cells of the former
district(s) nearest the unit's point — its open point (OpenStreetMap data geocoded by Nominatim, compiled by
open-admin-data, checked to lie in the former district(s)) or an OSM place of the same name — up to the unit's
population (approximate: no commune outline offline); "none" = no polygon and no point: unknown (—), never 0. A median is
unknown (—) when fewer than half of the unit's people have a road time (cells more than 2 km from the 2018 roads). Ranges: every assumed speed at the lower / upper bound of the
speed model, and people with no road time counted as not within / within.</p>
{_table(table, access)}"""
    csv_link = "data:text/csv;charset=utf-8," + quote(indicator_csv(table))
    return f"""<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:1em}}table{{border-collapse:collapse;margin-bottom:1.5em}}td,th{{border:1px solid #ccc;padding:2px 6px}}td:nth-child(n+3){{text-align:right}}</style></head>
<body><p><a href="index.html">← trang chính / home</a></p><h1>{html.escape(title)}</h1>
<p>{len(table)} đơn vị / units; dân số 2019 / 2019 population {total:,.0f}. Nguồn / sources: GSO census 1/4/2019 (national ward table);
2025 units and codes: vietnam-provinces; 2019 → 2025: GSO ward change record and vietnam-address-converter. A range marks
communes part of whose 2019 population was placed by inference. Parks are placed by the commune named in their address.{html.escape(_parks_note(summary) + withheld)}
District tables (pre-2025 geography) stay on the indicators page. Generated {html.escape(generated)}.
<a download="communes_indicators.csv" href="{html.escape(csv_link)}">CSV</a></p>
<h2>Dân số và KCN/CCN / population and parks</h2>
{_table(table, POPULATION_COLUMNS)}
{access_part}
</body></html>
"""


def communes_page(context) -> dict | None:
    """Page builder for :data:`maps.publish.EXTRA_PAGES`: ``communes.html`` when OUT has ``communes.csv``, else None."""
    csv = Path(context.out_dir) / "communes.csv"
    if not csv.is_file():
        return None
    return {"file": "communes.html", "title": "Xã, phường 2025 / 2025 communes",
            "description": "Dân số, KCN/CCN và tiếp cận theo 99 xã, phường sau 01/07/2025 / population, parks and access by the 2025 communes",
            "html": communes_html(csv, context.generated, summary=_read_summary(csv.with_name("communes_summary.json")),
                                  parks_public="industrial_parks" in context.layers)}


def _read_summary(path: Path) -> dict | None:
    import json

    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
