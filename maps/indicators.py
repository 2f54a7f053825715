"""Indicators page: 2030 targets beside today's values computed from the layers.

Today's values are computed here from the planning layers — never typed in:

* industrial parks (KCN) and clusters (CCN): count and hectares of the
  ``industrial_parks`` layer (every registry point, all statuses), then by
  legal status (``status_class``: operating / established / planned /
  listed / unknown, each from a sourced row) — the established-or-operating
  figure is the one compared with a plan's target, like with like;
* urban share: urban / total population of ``district_population`` (2019
  census);
* occupancy of operating parks (status class "operating"): area-weighted
  mean of the parks whose occupancy a source states, and how many operating
  parks have none — for KCN and CCN apart (never mixed) and per district;
* central wastewater treatment: parks a source says have it, against
  parks for which it is unknown ("0 known / 53 unknown", never "0 %").

The targets and other stated figures, each with its source page and date,
are in ``maps/indicators.yaml``. Charts are inline SVG drawn here (no chart
library, no network). Every text is escaped.

>>> svg = hbar_svg([("A", [10.0, 5.0]), ("<B>", [float("nan"), 2.0])], ["x", "y"], ["#111", "#999"], str)
>>> svg.startswith("<svg") and "&lt;B&gt;" in svg
True
"""

from __future__ import annotations

import datetime as _dt
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from maps import style
from maps.style import UNKNOWN, fmt_ha, fmt_number, fmt_pct, is_missing

TARGETS_FILE = Path(__file__).resolve().parent / "indicators.yaml"
KCN_COLOR = "#4575b4"
CCN_COLOR = "#91bfdb"


def read_inventory(out_dir) -> pd.DataFrame | None:
    """The sourced park inventory (table ``industrial_parks_inventory`` of ``OUT/layers.gpkg``); None when absent."""
    import pyogrio

    gpkg = Path(out_dir) / "layers.gpkg"
    if not gpkg.is_file() or "industrial_parks_inventory" not in {str(n) for n, _ in pyogrio.list_layers(gpkg)}:
        return None
    return pd.DataFrame(pyogrio.read_dataframe(gpkg, layer="industrial_parks_inventory", read_geometry=False))


def load_targets(path=None) -> dict:
    """The targets file (default ``maps/indicators.yaml``)."""
    return yaml.safe_load(Path(path or TARGETS_FILE).read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- figures from the layers

def park_figures(parks: pd.DataFrame | None, kind: str) -> dict:
    """Count and hectares of the parks of ``kind`` ("KCN"/"CCN"); area of parks without one is unknown, not 0.

    >>> df = pd.DataFrame({"kind": ["KCN", "KCN", "CCN"], "area_ha": [100.0, None, 20.0]})
    >>> park_figures(df, "KCN")
    {'count': 2, 'area_ha': 100.0, 'area_unknown': 1}
    """
    if parks is None or "kind" not in parks:
        return {"count": None, "area_ha": None, "area_unknown": None}
    sel = parks[parks["kind"].astype(str) == kind]
    if "area_ha" not in sel:
        return {"count": int(len(sel)), "area_ha": None, "area_unknown": int(len(sel))}
    area = pd.to_numeric(sel["area_ha"], errors="coerce")
    known = area.notna()
    return {"count": int(len(sel)), "area_ha": float(area[known].sum()) if known.any() else None,
            "area_unknown": int((~known).sum())}


def urban_figures(districts: pd.DataFrame | None) -> dict:
    """Urban share of the region from the census (sum of urban / sum of total), and districts without a census.

    >>> urban_figures(pd.DataFrame({"district": ["a", "b"], "total": [100.0, None], "urban": [20.0, None]}))
    {'share': 0.2, 'urban': 20.0, 'total': 100.0, 'districts_unknown': ['b']}
    """
    empty = {"share": None, "urban": None, "total": None, "districts_unknown": []}
    if districts is None or "total" not in districts:
        return empty
    total = pd.to_numeric(districts["total"], errors="coerce")
    if "urban" in districts:
        urban = pd.to_numeric(districts["urban"], errors="coerce")
    elif "urban_share" in districts:
        urban = pd.to_numeric(districts["urban_share"], errors="coerce") * total
    else:
        return empty
    known = total.notna() & urban.notna()
    names = districts["district"] if "district" in districts else pd.Series(range(len(districts)), index=districts.index)
    unknown = [str(n) for n in names[~known]]
    if not known.any() or total[known].sum() <= 0:
        return {**empty, "districts_unknown": unknown}
    return {"share": float(urban[known].sum() / total[known].sum()), "urban": float(urban[known].sum()),
            "total": float(total[known].sum()), "districts_unknown": unknown}


def occupancy_figures(parks: pd.DataFrame | None) -> dict:
    """Occupancy of operating parks: how many operate, how many have a stated occupancy, area-weighted mean (%)."""
    out = {"operating": None, "known": None, "unknown": None, "mean_pct": None, "names_unknown": []}
    if parks is None or "status" not in parks:
        return out
    if "status_class" in parks:       # the sourced legal status (layers/parks.py)
        operating = parks[parks["status_class"].astype(str) == "operating"]
    else:
        operating = parks[[style.park_status_class(s) == "operating" for s in parks["status"]]]
    occ = pd.to_numeric(operating["occupancy_pct"], errors="coerce") if "occupancy_pct" in operating \
        else pd.Series(np.nan, index=operating.index)
    known = occ.notna()
    out.update(operating=int(len(operating)), known=int(known.sum()), unknown=int((~known).sum()),
               names_unknown=[str(n) for n in operating.get("name", pd.Series(dtype=str))[~known]])
    if known.any():
        area = pd.to_numeric(operating["area_ha"], errors="coerce") if "area_ha" in operating else pd.Series(1.0, index=operating.index)
        w = area[known].fillna(0)
        out["mean_pct"] = float((occ[known] * w).sum() / w.sum()) if w.sum() > 0 else float(occ[known].mean())
    return out


def wastewater_figures(parks: pd.DataFrame | None) -> dict:
    """Parks with central wastewater treatment stated yes / no / unknown.

    >>> wastewater_figures(pd.DataFrame({"wastewater_treatment": [None, "yes", None]}))
    {'total': 3, 'yes': 1, 'no': 0, 'unknown': 2}
    """
    if parks is None:
        return {"total": None, "yes": None, "no": None, "unknown": None}
    col = parks["wastewater_treatment"] if "wastewater_treatment" in parks else pd.Series([None] * len(parks))
    text = [None if is_missing(v) else style.fmt_yes_no(v) for v in col]
    yes = sum(t == "có / yes" for t in text)
    no = sum(t == "không / no" for t in text)
    return {"total": int(len(parks)), "yes": int(yes), "no": int(no), "unknown": int(len(parks) - yes - no)}


STATUS_ORDER = ("operating", "established", "planned", "listed", "unknown")
STATUS_LABELS = {"operating": "đang hoạt động / operating", "established": "đã thành lập / established",
                 "planned": "quy hoạch / planned", "listed": "chỉ có trong danh sách / listed only",
                 "unknown": "không rõ / unknown"}


def status_figures(parks: pd.DataFrame | None) -> pd.DataFrame | None:
    """Count and known hectares of parks by kind and legal status (``status_class``), with parks of unknown area.

    >>> df = pd.DataFrame({"kind": ["KCN", "KCN", "CCN"], "status_class": ["operating", "operating", "planned"],
    ...                    "area_ha": [100.0, None, 20.0]})
    >>> status_figures(df).to_dict(orient="records")[0]
    {'kind': 'KCN', 'status_class': 'operating', 'count': 2, 'area_ha': 100.0, 'area_unknown': 1}
    """
    if parks is None or "status_class" not in parks or "kind" not in parks:
        return None
    df = pd.DataFrame({"kind": parks["kind"].astype(str), "status_class": parks["status_class"].astype(str),
                       "area_ha": pd.to_numeric(parks.get("area_ha"), errors="coerce")})
    out = df.groupby(["kind", "status_class"]).agg(count=("area_ha", "size"), area_ha=("area_ha", "sum"),
                                                   area_unknown=("area_ha", lambda a: int(a.isna().sum()))).reset_index()
    out["order"] = out["status_class"].map(lambda s: STATUS_ORDER.index(s) if s in STATUS_ORDER else len(STATUS_ORDER))
    out = out.sort_values(["kind", "order"], ascending=[False, True]).drop(columns="order").reset_index(drop=True)
    out["count"] = out["count"].astype(int)
    out["area_ha"] = out["area_ha"].astype(float)
    return out


def occupancy_by(parks: pd.DataFrame | None, by: str | None = None) -> list[dict]:
    """Occupancy of operating parks per kind (and per ``by``, e.g. "district"), never mixing KCN and CCN."""
    if parks is None or "kind" not in parks:
        return []
    rows = []
    keys = ["kind"] + ([by] if by else [])
    for key, group in parks.groupby(keys, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        f = occupancy_figures(group)
        if not f["operating"]:
            continue
        rows.append({**dict(zip(keys, key)), **{k: f[k] for k in ("operating", "known", "unknown", "mean_pct")}})
    return rows


INVENTORY_SOURCE = ("industrial_parks_facts.csv + industrial_parks_status_sourced.csv: every sourced park, placed on the "
                    "map or not (status_source per park)")
#: What each park row compares (like with like).
_LIKE = {
    "plan": ("trong danh sách có nguồn, mọi tình trạng / in the sourced list, any status",
             "So với số khu trong quy hoạch 2030 (kế hoạch với kế hoạch); giai đoạn và phần mở rộng là dòng riêng "
             "trong danh sách / compared with the number of parks in the 2030 plan (planned with planned); phases and "
             "expansions are separate rows of the list"),
    "approved": ("đã thành lập, chấp thuận đầu tư hoặc đang hoạt động / established, approved for investment or "
                 "operating",
                 "So với số khu đã được chấp thuận đã công bố (chấp thuận với chấp thuận), không so với mục tiêu "
                 "2030 / compared with the reported number approved (approved with approved), not with the 2030 target"),
    "operating": ("đang hoạt động / operating",
                  "So với số khu đang hoạt động đã công bố / compared with the reported number operating"),
}


def _park_rows(parks, kind: str, key: str, title: str, targets: dict, parks_source: str, from_inventory: bool) -> list[dict]:
    """Three rows per kind, each compared like with like: the sourced list against the plan's count, the approved
    (established or operating) against the reported approved, and the operating against the reported operating."""
    rows = []
    f = park_figures(parks, kind)
    st = status_figures(parks)
    for what in ("plan", "approved", "operating"):
        if what == "plan":
            n, ha, unknown_area = f["count"], f["area_ha"], f["area_unknown"]
        elif st is None:
            continue
        else:
            classes = ["operating", "established"] if what == "approved" else ["operating"]
            sel = st[(st["kind"] == kind) & st["status_class"].isin(classes)]
            n, ha, unknown_area = int(sel["count"].sum()), float(sel["area_ha"].sum()), int(sel["area_unknown"].sum())
        today = f"{fmt_number(n)} khu / parks · {fmt_ha(ha)}"
        if unknown_area:
            today += f" (+{unknown_area} không rõ diện tích / with unknown area)"
        tgt = []
        if what == "plan":
            for t in targets.get(key, {}).get("targets", []):
                area = ("> " if t.get("area_is_minimum") else "") + fmt_ha(t.get("area_ha"))
                progress = [_ratio(n, t.get("count"), "số lượng / count")]
                tgt.append({**_target_meta(t), "text": f"{fmt_number(t.get('count'))} khu / parks · {area} ({t.get('year')})",
                            "progress": [p for p in progress if p]})
        label, compared = _LIKE[what]
        note = compared
        if what != "plan" and st is not None:
            by_status = st[st["kind"] == kind]
            note += " — " + "; ".join(f"{STATUS_LABELS.get(r.status_class, r.status_class)}: {r.count}" for r in by_status.itertuples())
        if not from_inventory and what == "plan":
            note += (" — chỉ các điểm trên bản đồ (không có danh sách có nguồn) / placed points only (no sourced list in the "
                     "build)")
        reported = targets.get(key, {}).get("reported", []) if what == "plan" else targets.get(key, {}).get("reported_status", [])
        rows.append({"id": key if what == "plan" else f"{key}_{'established' if what == 'approved' else 'operating'}",
                     "title": f"{title} — {label}", "today": today, "count": n, "area_ha": ha,
                     "today_source": parks_source, "targets": tgt, "reported": reported, "note": note})
    return rows


def compute_indicators(layers: dict, targets: dict | None = None) -> list[dict]:
    """The indicator rows: title, today's value and its source, targets with sources, progress (0–1 or None)."""
    targets = targets if targets is not None else load_targets()
    inventory = layers.get("industrial_parks_inventory")    # every sourced park, placed or not (layers/parks.py)
    parks = inventory if inventory is not None and len(inventory) else layers.get("industrial_parks")
    inventory = inventory if inventory is not None and len(inventory) else None
    districts = layers.get("district_population")
    parks_source = (INVENTORY_SOURCE if inventory is not None else _sources(parks))
    census_source = "Tổng điều tra dân số 2019 (GSO), 01/04/2019 / Population and Housing Census, 1 April 2019"
    rows = []

    for kind, key, title in (("KCN", "industrial_parks", "Khu công nghiệp (KCN) / industrial parks"),
                             ("CCN", "industrial_clusters", "Cụm công nghiệp (CCN) / industrial clusters")):
        rows += _park_rows(parks, kind, key, title, targets, parks_source, inventory is not None)

    u = urban_figures(districts)
    today = fmt_pct(u["share"], 1)
    if u["share"] is not None:
        today += f" ({fmt_number(u['urban'])} / {fmt_number(u['total'])} người / persons)"
    if u["districts_unknown"]:
        today += f"; {len(u['districts_unknown'])} huyện không có số liệu / districts without census: " + ", ".join(u["districts_unknown"])
    tgt = []
    for t in targets.get("urban_share", {}).get("targets", []):
        tgt.append({**_target_meta(t), "text": f"{fmt_pct(t.get('low'))} – {fmt_pct(t.get('high'))} ({t.get('year')})",
                    "progress": [p for p in [_ratio(u["share"], t.get("low"), "so với mức thấp / against the lower bound")] if p]})
    rows.append({"id": "urban_share", "title": "Tỷ lệ dân số đô thị / urban population share", "today": today,
                 "today_source": census_source, "targets": tgt, "reported": targets.get("urban_share", {}).get("reported", []),
                 "note": None})

    o = occupancy_figures(parks)
    if o["operating"] is None:
        today = UNKNOWN
    else:
        parts = []
        for k in occupancy_by(parks):
            mean = style.fmt_pct100(k["mean_pct"], 1) if k["mean_pct"] is not None else UNKNOWN
            parts.append(f"{k['kind']}: {mean} ({k['known']} / {k['operating']} khu đang hoạt động có số liệu / "
                         f"operating parks with data)")
        today = "; ".join(parts) or UNKNOWN
    rows.append({"id": "occupancy", "title": "Tỷ lệ lấp đầy các khu đang hoạt động / occupancy of operating parks", "today": today,
                 "today_source": parks_source + " + industrial_parks_facts.csv", "targets": [],
                 "reported": targets.get("occupancy", {}).get("reported", []),
                 "note": ("Không rõ / unknown: " + ", ".join(o["names_unknown"])) if o["names_unknown"] else None})

    w = wastewater_figures(parks)
    if w["total"] is None:
        today = UNKNOWN
    else:
        known = w["yes"] + w["no"]
        today = f"{known} biết / known, {w['unknown']} không rõ / unknown"
        if known:
            today += f" ({w['yes']} có / with, {w['no']} không / without)"
    tgt = []
    for t in targets.get("wastewater", {}).get("targets", []):
        known = (w["yes"] or 0) + (w["no"] or 0)
        prog = [_ratio(w["yes"] / known if known else None, t.get("share"), "trong số khu đã biết / of parks known")]
        tgt.append({**_target_meta(t), "text": f"{fmt_pct(t.get('share'))} ({t.get('year')})", "progress": [p for p in prog if p]})
    rows.append({"id": "wastewater", "title": "Khu, cụm có xử lý nước thải tập trung / parks with central wastewater treatment",
                 "today": today, "today_source": parks_source + " + industrial_parks_facts.csv", "targets": tgt,
                 "reported": [], "note": "Chưa nguồn nào nêu cho khu nào; không rõ không có nghĩa là không có / no source read so far "
                                         "states it for any park; unknown does not mean none"})
    return rows


def occupancy_table(parks) -> str | None:
    """HTML table: occupancy of operating parks per kind and district, with how many parks are known."""
    rows = occupancy_by(parks, "district")
    if not rows:
        return None
    body = "".join(
        f"<tr><td>{escape(str(r['kind']))}</td><td>{escape(style.fmt_text(r['district']) if not is_missing(r['district']) else UNKNOWN)}</td>"
        f"<td>{escape(style.fmt_pct100(r['mean_pct'], 1) if r['mean_pct'] is not None else UNKNOWN)}</td>"
        f"<td>{r['known']} / {r['operating']}</td></tr>" for r in rows)
    return ("<table><thead><tr><th>Loại / kind</th><th>Huyện / district</th><th>Lấp đầy (theo diện tích) / occupancy "
            "(area-weighted)</th><th>Khu có số liệu / parks known</th></tr></thead><tbody>" + body + "</tbody></table>")


def status_table(parks) -> str | None:
    """HTML table: parks by kind and legal status (count, known hectares)."""
    st = status_figures(parks)
    if st is None or st.empty:
        return None
    body = "".join(
        f"<tr><td>{escape(r.kind)}</td><td>{escape(STATUS_LABELS.get(r.status_class, r.status_class))}</td>"
        f"<td>{r.count}</td><td>{escape(fmt_ha(r.area_ha))}" + (f" (+{r.area_unknown} không rõ / unknown)" if r.area_unknown else "")
        + "</td></tr>" for r in st.itertuples())
    return ("<table><thead><tr><th>Loại / kind</th><th>Tình trạng / status</th><th>Số khu / parks</th><th>Diện tích / area"
            "</th></tr></thead><tbody>" + body + "</tbody></table>")


def _ratio(value, target, label) -> dict | None:
    if is_missing(value) or is_missing(target) or not float(target):
        return None
    return {"value": float(value) / float(target), "label": label}


def _target_meta(t: dict) -> dict:
    return {"source": t.get("source"), "date": t.get("date"), "url": t.get("url"), "note": t.get("note")}


def _sources(parks) -> str:
    if parks is None or "source" not in parks:
        return "industrial_parks layer"
    values = sorted({str(v) for v in parks["source"] if not is_missing(v)})
    return "; ".join(values) or "industrial_parks layer"


# --------------------------------------------------------------------------- charts

def hbar_svg(rows, series, colors, fmt, title: str | None = None, markers=(), width: int = 680,
             label_width: int = 130, bar_height: int = 18, gap: int = 6, max_value: float | None = None) -> str:
    """A horizontal (stacked) bar chart as inline SVG.

    rows : (label, [value per series]) — NaN/None values draw nothing and the
        row says "không rõ / unknown" when all its values are unknown.
    markers : (value, label, colour) vertical reference lines (e.g. a target).
    """
    vals = [[(None if is_missing(v) else float(v)) for v in values] for _, values in rows]
    totals = [sum(v for v in row if v is not None) if any(v is not None for v in row) else None for row in vals]
    top = max([t for t in totals if t is not None] + [m[0] for m in markers] + [max_value or 0] + [1e-9])
    value_width = 90
    plot = width - label_width - value_width
    legend_h = 22 if len(series) > 1 else 0
    height = legend_h + len(rows) * (bar_height + gap) + gap + (16 if markers else 0)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'viewBox="0 0 {width} {height}" font-family="system-ui, sans-serif" font-size="12">']
    if title:
        parts.append(f"<title>{escape(title)}</title>")
    x = label_width
    for name, color in zip(series, colors) if len(series) > 1 else []:
        parts.append(f'<rect x="{x}" y="4" width="12" height="12" fill="{escape(color, quote=True)}"/>'
                     f'<text x="{x + 16}" y="14">{escape(name)}</text>')
        x += 24 + 7 * len(name)
    for i, ((label, _), row, total) in enumerate(zip(rows, vals, totals)):
        y = legend_h + gap + i * (bar_height + gap)
        parts.append(f'<text x="{label_width - 6}" y="{y + bar_height * 0.72:.1f}" text-anchor="end">{escape(str(label))}</text>')
        x = label_width
        for v, color in zip(row, colors):
            if v is None or v <= 0:
                continue
            w = plot * v / top
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_height}" fill="{escape(color, quote=True)}"/>')
            x += w
        text = escape(fmt(total)) if total is not None else escape(UNKNOWN)
        parts.append(f'<text x="{x + 4:.1f}" y="{y + bar_height * 0.72:.1f}" fill="#333">{text}</text>')
    bottom = legend_h + gap + len(rows) * (bar_height + gap)
    for value, label, color in markers:
        mx = label_width + plot * float(value) / top
        parts.append(f'<line x1="{mx:.1f}" y1="{legend_h}" x2="{mx:.1f}" y2="{bottom}" stroke="{escape(color, quote=True)}" '
                     f'stroke-width="2" stroke-dasharray="5 3"/>'
                     f'<text x="{mx:.1f}" y="{bottom + 12}" text-anchor="middle" fill="{escape(color, quote=True)}">{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def progress_svg(fraction: float, width: int = 160) -> str:
    """A small progress bar (0–1, capped at 1 in the drawing, the label tells the real value)."""
    f = max(0.0, min(1.0, float(fraction)))
    return (f'<svg width="{width}" height="14" role="img" aria-label="{fmt_pct(fraction)}">'
            f'<rect width="{width}" height="14" fill="#e6e6e6"/>'
            f'<rect width="{width * f:.1f}" height="14" fill="#1a9850"/></svg>')


def district_park_chart(parks) -> str | None:
    """Hectares of KCN and CCN per district (stacked bars)."""
    if parks is None or not {"district", "kind", "area_ha"} <= set(parks.columns):
        return None
    df = pd.DataFrame({"district": parks["district"].fillna(UNKNOWN), "kind": parks["kind"].astype(str),
                       "area": pd.to_numeric(parks["area_ha"], errors="coerce")})
    table = df.pivot_table(index="district", columns="kind", values="area", aggfunc="sum").reindex(columns=["KCN", "CCN"])
    table = table.loc[table.fillna(0).sum(axis=1).sort_values(ascending=False).index]
    rows = [(d, [r["KCN"], r["CCN"]]) for d, r in table.iterrows()]
    return hbar_svg(rows, ["KCN", "CCN"], [KCN_COLOR, CCN_COLOR], fmt_ha,
                    title="Diện tích KCN, CCN theo huyện (ha) / park area by district (ha)")


def district_urban_chart(districts, province_share=None, target_low=None) -> str | None:
    """Urban share per district (2019 census), with the province value and the 2030 target as lines."""
    if districts is None or "urban_share" not in districts or "district" not in districts:
        return None
    df = districts[["district", "urban_share"]].copy()
    df["urban_share"] = pd.to_numeric(df["urban_share"], errors="coerce")
    df = df.sort_values("urban_share", ascending=False, na_position="last")
    rows = [(d, [v * 100 if not is_missing(v) else None]) for d, v in zip(df["district"], df["urban_share"])]
    markers = []
    if province_share is not None:
        markers.append((province_share * 100, f"tỉnh / province {fmt_pct(province_share, 1)}", "#333333"))
    if target_low is not None:
        markers.append((target_low * 100, f"mục tiêu / target {fmt_pct(target_low)}", "#d73027"))
    return hbar_svg(rows, ["%"], ["#fd8d3c"], lambda v: style.fmt_pct100(v, 1),
                    title="Tỷ lệ dân số đô thị theo huyện, 2019 / urban share by district, 2019", markers=markers)


# --------------------------------------------------------------------------- page

PAGE_CSS = """
body{font:15px/1.45 system-ui,"Segoe UI",Roboto,"Noto Sans",Arial,sans-serif;margin:0;color:#222;background:#fafaf7}
main{max-width:1100px;margin:0 auto;padding:16px 20px 40px}
header{background:#1f3b57;color:#fff;padding:14px 20px}header a{color:#cfe3ff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px}
table{border-collapse:collapse;width:100%;background:#fff}th,td{border:1px solid #ddd;padding:6px 8px;vertical-align:top;text-align:left}
th{background:#eef2f6}.src{color:#555;font-size:12px}.note{color:#555;font-size:13px}
.prog{display:flex;align-items:center;gap:6px;font-size:13px;margin-top:3px}
footer{color:#555;font-size:12px;border-top:1px solid #ddd;margin-top:30px;padding-top:8px}
svg{max-width:100%;height:auto}
"""


def indicators_html(layers: dict, targets: dict | None = None, home: str | None = "index.html",
                    title: str | None = None, generated: str | None = None, region_id: str | None = None) -> str:
    """The indicators page as one HTML string (no scripts, no external resources).

    region_id : id of the region the layers cover (``LayerSet.summary["region"]``);
        when it differs from the targets' region the page says so.
    """
    targets = targets if targets is not None else load_targets()
    rows = compute_indicators(layers, targets)
    region = _region_name(layers, region_id or targets.get("region"))
    title = title or f"{region} — chỉ tiêu 2030 / 2030 indicators"
    body = []
    if region_id and targets.get("region") and region_id != targets["region"]:
        of = escape(str(targets["region"]))
        body.append(f"<p class='note'><b>Lưu ý / note:</b> mục tiêu là của vùng {of}; giá trị hiện nay tính cho vùng "
                    f"{escape(region_id)} / the targets are those of {of}; today's values cover {escape(region_id)}.</p>")
    body.append("<table><thead><tr><th>Chỉ tiêu / indicator</th><th>Hiện nay (tính từ các lớp dữ liệu) / today "
                "(computed from the layers)</th><th>Mục tiêu 2030 và nguồn / 2030 target and source</th></tr></thead><tbody>")
    for r in rows:
        today = f"<div>{escape(r['today'])}</div><div class='src'>Nguồn / source: {escape(r['today_source'])}</div>"
        if r.get("note"):
            today += f"<div class='note'>{escape(r['note'])}</div>"
        cells = []
        for t in r["targets"]:
            cell = f"<div><b>{escape(t['text'])}</b></div>{_source_html(t)}"
            for p in t["progress"]:
                cell += (f"<div class='prog'>{progress_svg(p['value'])}<span>{escape(fmt_pct(p['value']))} "
                         f"{escape(p['label'])}</span></div>")
            cells.append(cell)
        for rep in r.get("reported", []):
            cells.append(f"<div class='note'>Số liệu khác đã công bố / other reported figure: {escape(rep['text'])}</div>"
                         + _source_html(rep))
        none = "<span class='note'>Không có mục tiêu định lượng / no quantified target</span>"
        target_html = "<hr>".join(cells) if cells else none
        body.append(f"<tr><td>{escape(r['title'])}</td><td>{today}</td><td>{target_html}</td></tr>")
    body.append("</tbody></table>")

    parks = layers.get("industrial_parks")
    table = status_table(parks)
    if table:
        body.append("<h2>Khu, cụm công nghiệp theo tình trạng pháp lý / parks by legal status</h2>"
                    "<p class='note'>Mỗi khu một tình trạng có nguồn (cột status_source của lớp industrial_parks); "
                    "\"chỉ có trong danh sách\" = có trên iipvietnam.vn nhưng chưa nguồn nào nêu tình trạng / one sourced status a "
                    "park; \"listed only\" = on the iipvietnam.vn list, no source states its status.</p>" + table)
    table = occupancy_table(parks)
    if table:
        body.append("<h2>Tỷ lệ lấp đầy theo loại và huyện / occupancy by kind and district</h2>" + table)
    chart = district_park_chart(parks)
    if chart:
        body.append("<h2>Diện tích khu, cụm công nghiệp theo huyện / park area by district</h2>" + chart)
    u = urban_figures(layers.get("district_population"))
    low = next((t.get("low") for t in targets.get("urban_share", {}).get("targets", []) if t.get("low") is not None), None)
    chart = district_urban_chart(layers.get("district_population"), u["share"], low)
    if chart:
        body.append("<h2>Tỷ lệ dân số đô thị theo huyện / urban share by district</h2>" + chart)

    nav = f'<a href="{escape(home, quote=True)}">← Trang chủ / home</a>' if home else ""
    generated = generated or _dt.date.today().isoformat()
    return ("<!DOCTYPE html><html lang=\"vi\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
            "content=\"width=device-width,initial-scale=1\"><link rel=\"icon\" href=\"data:,\">"
            f"<title>{escape(title)}</title><style>{PAGE_CSS}</style></head><body>"
            f"<header><h1>{escape(title)}</h1><div>{nav}</div></header><main>"
            "<p class='note'>Giá trị hiện nay được tính từ các lớp dữ liệu của công cụ này; ô \"không rõ / unknown\" nghĩa là "
            "chưa có nguồn, không phải bằng 0. / Today's values are computed from this tool's layers; \"unknown\" means no "
            "source states it, not zero.</p>"
            + "".join(body)
            + f"<footer>{escape(style.ATTRIBUTION_TEXT)} · tạo ngày / generated {escape(generated)}</footer>"
            "</main></body></html>")


def _source_html(t: dict) -> str:
    src = escape(str(t.get("source") or UNKNOWN))
    url = t.get("url")
    if url and str(url).startswith(("http://", "https://")):
        src = f'<a href="{escape(url, quote=True)}" rel="noopener noreferrer">{src}</a>'
    if not url:
        src += " — không có văn bản nguồn trong hồ sơ / no source document on file"
    date = escape(str(t.get("date"))) if t.get("date") else "không ghi ngày / undated"
    note = f" — {escape(t['note'])}" if t.get("note") else ""
    return f"<div class='src'>{src}, {date}{note}</div>"


def _region_name(layers: dict, region_id: str | None = None) -> str:
    """The region's name: the province layer's, else the region config's ``name_vi``, else its id."""
    prov = layers.get("province")
    if prov is not None and len(prov) and "name_vi" in prov:
        return style.fmt_text(prov["name_vi"].iloc[0])
    if region_id:
        from geo.config import read_yaml
        from geo.errors import InputError
        from layers.region import REGIONS_DIR

        try:
            return style.fmt_text(read_yaml(REGIONS_DIR / f"{region_id}.yaml", "region file").get("name_vi") or region_id)
        except InputError:
            return str(region_id)
    return "—"
