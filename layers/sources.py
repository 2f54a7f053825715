"""The region's data sources: where every file of the ``--data`` folder comes from, and the region's own derivations.

The catalogue ``layers/sources.yaml`` (the layout of ``../shared/data``) is read
by the generic fetcher :mod:`geo.io.fetch`; this module adds the two steps that
know the region's sources (GADM 4.1 boundaries of Bắc Giang with its neighbours,
and the GSO 2019 census workbook) and wraps :func:`geo.io.fetch.fetch` with them.

>>> [s.file for s in load_catalogue() if s.kind == "manual"][:2]
['industrial_parks_facts.csv', 'bacgiang_roads_osm2018_bbox03.gpkg']
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from geo import settings
from geo.errors import InputError
from geo.io import fetch as fetcher
from geo.io.output import write_csv, write_geopackage

#: The region's source catalogue (every file of the ``--data`` layout).
CATALOGUE = Path(__file__).with_name("sources.yaml")


def load_catalogue(path=None) -> list[fetcher.Source]:
    """The region's catalogue (``layers/sources.yaml``, or ``path``), checked against :data:`STEPS`."""
    return fetcher.load_catalogue(path or CATALOGUE, STEPS)


def data_layout() -> pd.DataFrame:
    """Table of the region's ``--data`` folder (see :func:`geo.io.fetch.data_layout`)."""
    return fetcher.data_layout(load_catalogue())


def fetch(dest_dir, *, base_urls=None, only=None, progress: bool = True, bundle_dir=None) -> pd.DataFrame:
    """Fetch the region's ``--data`` files into ``dest_dir`` (see :func:`geo.io.fetch.fetch` for the report and errors)."""
    return fetcher.fetch(dest_dir, CATALOGUE, STEPS, base_urls=base_urls, only=only, progress=progress,
                         bundle_dir=bundle_dir)


def step_boundaries(inputs: list[Path], target: Path, params: dict) -> None:
    """Build ``bacgiang_admin.gpkg`` from GADM 4.1 levels 1–2 (+ names, + legacy districts).

    Layers: ``province`` (GID_1, NAME_1, area_km2, source); ``districts`` (GID_2,
    NAME_2, type_vi, name_full_vi, GID_1, NAME_1, area_km2, label_lon/label_lat =
    representative point computed in the metric CRS, source);
    ``districts_legacy_detailed`` (kcjpop: ID_3, NAME_3, name_vi_fixed, TYPE_3,
    ENGTYPE_3, NAME_2, area_km2); ``region_provinces_clipped`` (provinces meeting
    the window, clipped; touches_bac_giang; area_km2_in_window);
    ``neighbour_provinces`` (full polygons of the provinces touching the
    province); ``region_districts_clipped`` (district units clipped to the window).
    Areas in km² (0.01) in ``metric_crs``.
    """
    import geopandas as gpd
    import shapely

    from geo.text import nfc

    l1_path, l2_path, names_path, legacy_path = inputs
    crs = params.get("metric_crs", settings.metric_crs)
    name = nfc(params["province"])
    window = shapely.box(*[float(v) for v in params["window"]])

    def read(p):
        try:
            g = gpd.read_file(p, engine="pyogrio")
        except Exception as exc:
            raise InputError(p, f"not a readable vector file ({exc})") from None
        for col in g.columns:
            if col != g.geometry.name and (g[col].dtype == object or pd.api.types.is_string_dtype(g[col])):
                g[col] = g[col].map(nfc)
        g["geometry"] = shapely.make_valid(g.geometry.values)
        return g.to_crs("EPSG:4326")

    def km2(g):
        return (g.geometry.to_crs(crs).area / 1e6).round(2)

    l1, l2, legacy = read(l1_path), read(l2_path), read(legacy_path)
    for g, p, cols in ((l1, l1_path, ("GID_1", "NAME_1")), (l2, l2_path, ("GID_2", "NAME_2", "GID_1", "NAME_1"))):
        missing = [c for c in cols if c not in g]
        if missing:
            raise InputError(p, f"missing GADM columns {', '.join(missing)}")
    prov = l1[l1.NAME_1 == name][["GID_1", "NAME_1", "geometry"]].reset_index(drop=True)
    if len(prov) != 1:
        raise InputError(l1_path, f"province '{name}' found {len(prov)} times (expected once)")
    prov["area_km2"] = km2(prov)
    prov["source"] = params.get("source_l1", "GADM 4.1 level 1")
    outline = prov.geometry.iloc[0]

    table = _read_xlsx(names_path)
    header = table[0] if table else {}
    col = {v: k for k, v in header.items()}
    if "GID_2" not in col or "district_name" not in col:
        raise InputError(names_path, "expected columns GID_2 and district_name")
    full_names = {r.get(col["GID_2"]): nfc(r.get(col["district_name"])) for r in table[1:] if r.get(col["GID_2"])}

    dist = l2[l2.NAME_1 == name].reset_index(drop=True)
    dist["name_full_vi"] = dist.GID_2.map(full_names)
    dist["type_vi"] = [f[: -len(n)].strip() if isinstance(f, str) and f.endswith(n) else None
                       for f, n in zip(dist.name_full_vi, dist.NAME_2)]
    dist["area_km2"] = km2(dist)
    labels = dist.geometry.to_crs(crs).representative_point().to_crs("EPSG:4326")
    dist["label_lon"], dist["label_lat"] = labels.x.round(5), labels.y.round(5)
    dist["source"] = params.get("source_l2", "GADM 4.1 level 2")
    dist = dist[["GID_2", "NAME_2", "type_vi", "name_full_vi", "GID_1", "NAME_1", "area_km2",
                 "label_lon", "label_lat", "source", "geometry"]]

    fixes = {nfc(k): nfc(v) for k, v in (params.get("legacy_name_fixes") or {}).items()}
    legacy["name_vi_fixed"] = legacy.NAME_3.map(lambda n: fixes.get(n, n))
    legacy["area_km2"] = km2(legacy)
    legacy = legacy[["ID_3", "NAME_3", "name_vi_fixed", "TYPE_3", "ENGTYPE_3", "NAME_2", "area_km2", "geometry"]]

    region = l1[l1.intersects(window)].reset_index(drop=True)
    region["touches_bac_giang"] = region.intersects(outline) & (region.NAME_1 != name)
    neighbours = region[region.touches_bac_giang][["GID_1", "NAME_1", "touches_bac_giang", "geometry"]]
    clipped = region.copy()
    clipped["geometry"] = shapely.make_valid(clipped.intersection(window).values)
    clipped["area_km2_in_window"] = km2(clipped)
    clipped = clipped[["GID_1", "NAME_1", "touches_bac_giang", "area_km2_in_window", "geometry"]]
    rdist = l2[l2.intersects(window)].reset_index(drop=True)
    rdist["name_full_vi"] = rdist.GID_2.map(full_names)
    rdist["geometry"] = shapely.make_valid(rdist.intersection(window).values)
    rdist = rdist[["GID_2", "NAME_2", "GID_1", "NAME_1", "name_full_vi", "geometry"]]

    write_geopackage({
        "province": prov[["GID_1", "NAME_1", "area_km2", "source", "geometry"]],
        "districts": dist,
        "districts_legacy_detailed": legacy,
        "region_provinces_clipped": clipped,
        "neighbour_provinces": neighbours.reset_index(drop=True),
        "region_districts_clipped": rdist,
    }, target)


_DISTRICT_TYPES = ("Thành phố", "Thị xã", "Quận", "Huyện")
_COMMUNE_TYPES = ("Phường", "Thị trấn", "Xã")


def _split_type(full: str, types) -> tuple[str | None, str]:
    for t in types:  # case-insensitive: the sheet also has "Thị Trấn Đồi Ngô"
        if full.casefold().startswith(t.casefold() + " "):
            return t, full[len(t):].strip()
    return None, full


def step_census_2019(inputs: list[Path], target: Path, params: dict) -> None:
    """District or commune table of one province from the GSO 2019 census workbook.

    The sheet lists, per province, a "(Tổng số)" total row, then per district a
    total row (column B) followed by its communes (column C); columns D/E/F hold
    total/urban/rural. Output columns: district, district_type, [commune,
    commune_type,] total, urban, rural, urban_share (0.0001), census_date, source.
    District totals must add up to the province total.
    """
    from geo.text import nfc

    path = inputs[0]
    rows = _read_xlsx(path)
    province = nfc(params["province"])

    def num(v):
        v = (v or "").strip()
        return int(float(v)) if v else 0

    start = next((i for i, r in enumerate(rows)
                  if nfc(r.get("A") or "").endswith("(Tổng số)") and nfc(r.get("A")).removesuffix("(Tổng số)").strip().endswith(province)), None)
    if start is None:
        raise InputError(path, f"province '{province}' not found in the census sheet")
    prov_total = num(rows[start].get("D"))
    districts, communes, current = [], [], None
    for r in rows[start + 1:]:
        a = nfc(r.get("A") or "")
        if a.endswith("(Tổng số)"):
            break  # next province
        b, c = nfc(r.get("B") or ""), nfc(r.get("C") or "")
        if b.endswith("(Tổng số)"):
            dtype, dname = _split_type(b.removesuffix("(Tổng số)").strip(), _DISTRICT_TYPES)
            current = {"district": dname, "district_type": dtype}
            districts.append({**current, "total": num(r.get("D")), "urban": num(r.get("E")), "rural": num(r.get("F"))})
        elif c and current is not None:
            ctype, cname = _split_type(c, _COMMUNE_TYPES)
            communes.append({**current, "commune": cname, "commune_type": ctype,
                             "total": num(r.get("D")), "urban": num(r.get("E")), "rural": num(r.get("F"))})
    if not districts or sum(d["total"] for d in districts) != prov_total:
        raise InputError(path, f"district totals of '{province}' do not add up to the province total {prov_total:,}")
    table = pd.DataFrame(districts if params.get("level", "district") == "district" else communes)
    table["urban_share"] = (table.urban / table.total).round(4)
    table["census_date"] = params.get("date", "")
    table["source"] = params.get("source", "")
    write_csv(table, target)


def _read_xlsx(path: Path) -> list[dict]:
    """Cells of the first sheet of an .xlsx workbook: one dict per row, column letter → text."""
    import openpyxl
    from openpyxl.utils import get_column_letter

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException …
        raise InputError(path, f"not a readable .xlsx workbook ({exc})") from None
    try:
        sheet = book.worksheets[0]
        return [{get_column_letter(i + 1): str(v) for i, v in enumerate(row) if v is not None}
                for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


#: Derivation steps of the region's catalogue: the generic ones and the region's own.
STEPS = {**fetcher.GENERIC_STEPS, "boundaries": step_boundaries, "census_2019": step_census_2019}
