"""The published site's downloads: every published layer as a file in ``site/data/``, with its licence.

:func:`write_downloads` writes the layers the site publishes — already cut to
their public columns (``maps/publish.yaml`` and the registry's allow-lists),
and without the layers whose redistribution is "not allowed" unless the site
was published with ``--include-restricted`` — as GeoJSON (EPSG:4326,
coordinates to 6 decimals, about 0.1 m), tables without geometry as CSV, and
the population grid as GeoTIFF. Each GeoJSON carries its source, licence,
redistribution and date in a ``bgplan`` member; ``data/LICENCES.txt`` lists
every file with the same facts. :func:`downloads_html` is the index page's
list of ``<a download>`` links. A layer of more than :data:`MAX_FEATURES`
features (the 100 m suitability grid) is not offered: the page says where it
is (OUT/sites.gpkg) instead of shipping hundreds of megabytes.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd

from maps.licences import DERIVED

#: Above this many features a layer is not offered as a download (it stays in OUT for QGIS).
MAX_FEATURES = 50_000
DECIMALS = 6


def write_downloads(dest, frames: dict, rows: list[dict], generated: str, population=None) -> list[dict]:
    """Write each frame of ``frames`` (layer → GeoDataFrame / DataFrame) into ``dest``; returns one dict per layer:
    ``layer``, ``file`` (None when not offered), ``format``, ``features``, ``bytes``, ``source``, ``licence``,
    ``redistribution``, ``note``."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    licences = {r["layer"]: r for r in rows}
    offered = []
    for name, frame in frames.items():
        if frame is None or not len(frame):
            continue
        lic = licences.get(name) or {**DERIVED, "layer": name}
        item = {"layer": name, "features": int(len(frame)), "source": str(lic.get("source")),
                "licence": str(lic.get("licence")), "redistribution": str(lic.get("redistribution")), "note": None}
        if len(frame) > MAX_FEATURES:
            item.update(file=None, format=None, bytes=0,
                        note=f"{len(frame):,} features: not offered here (see OUT/ of the run, e.g. sites.gpkg)")
        elif hasattr(frame, "geometry") and frame.geometry.name in frame:
            item.update(_geojson(dest / f"{name}.geojson", frame, item, generated), format="GeoJSON")
        else:
            path = dest / f"{name}.csv"
            pd.DataFrame(frame).to_csv(path, index=False)
            item.update(file=f"data/{path.name}", bytes=path.stat().st_size, format="CSV")
        offered.append(item)
    if population is not None:
        item = _population(dest, population, licences.get("population"))
        if item:
            offered.append(item)
    lines = [f"bgplan downloads, generated {generated}", ""]
    for item in offered:
        where = item["file"] or "(not offered)"
        lines.append(f"{where}: layer {item['layer']}, {item['features']} features; source: {item['source']}; "
                     f"licence: {item['licence']}; redistribution: {item['redistribution']}")
    (dest / "LICENCES.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return offered


def _geojson(path: Path, frame, item: dict, generated: str) -> dict:
    import shapely

    gdf = frame.to_crs("EPSG:4326") if frame.crs is not None and frame.crs.to_epsg() != 4326 else frame
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    gdf = gdf.set_geometry(shapely.transform(gdf.geometry.values, lambda c: np.round(c, DECIMALS)))
    compact = {"ensure_ascii": False, "separators": (",", ":")}
    data = gdf.to_json(na="null", drop_id=True, **compact)     # a JSON object: the licence is added as its last member
    if not data.endswith("}"):
        raise ValueError(f"{path.name}: unexpected GeoJSON text from geopandas")
    bgplan = {k: item[k] for k in ("layer", "source", "licence", "redistribution")} | {"generated": generated}
    path.write_text(f'{data[:-1]},"bgplan":{json.dumps(bgplan, **compact)}}}', encoding="utf-8")
    return {"file": f"data/{path.name}", "bytes": path.stat().st_size}


def _population(dest: Path, population, lic: dict | None) -> dict | None:
    """The population grid as GeoTIFF (a path is copied, an (array, profile) written)."""
    import shutil

    path = dest / "population.tif"
    if isinstance(population, (str, Path)):
        shutil.copyfile(population, path)
    else:
        import rasterio

        array, profile = population
        profile = {**dict(profile), "driver": "GTiff", "count": 1, "dtype": str(np.asarray(array).dtype),
                   "height": array.shape[0], "width": array.shape[1]}
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(np.asarray(array), 1)
    lic = lic or {"source": "WorldPop 2020, rescaled to the 2019 census", "licence": "CC BY 4.0", "redistribution": "allowed"}
    return {"layer": "population", "file": f"data/{path.name}", "format": "GeoTIFF", "features": None,
            "bytes": path.stat().st_size, "source": str(lic.get("source")), "licence": str(lic.get("licence")),
            "redistribution": str(lic.get("redistribution")), "note": None}


def downloads_html(offered: list[dict]) -> str:
    """The index page's downloads: one ``<a download>`` per file with its format, size, source and licence."""
    rows = []
    for item in offered:
        if item["file"]:
            size = f"{item['bytes'] / 1e6:.1f} MB" if item["bytes"] >= 1e5 else f"{item['bytes'] / 1e3:.0f} kB"
            link = (f'<a download href="{escape(item["file"], quote=True)}">{escape(item["layer"])}</a>'
                    f" <span class='d'>({escape(item['format'])}, {size})</span>")
        else:
            link = f"{escape(item['layer'])} <span class='d'>({escape(item['note'] or '')})</span>"
        rows.append(f"<tr><td>{link}</td><td>{escape(item['source'])}</td><td>{escape(item['licence'])}</td></tr>")
    return ("<h2 id=\"downloads\">Tải dữ liệu / downloads</h2>"
            "<p class='d'>Mỗi lớp đã công bố, chỉ các cột công khai; giấy phép đi kèm tệp (trường \"bgplan\" của GeoJSON, "
            "<a href=\"data/LICENCES.txt\">data/LICENCES.txt</a>) / every published layer, public columns only; the licence "
            "travels with the file (the GeoJSON's \"bgplan\" member, data/LICENCES.txt).</p>"
            "<table><thead><tr><th>Lớp / layer</th><th>Nguồn / source</th><th>Giấy phép / licence</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")
