"""The probability layer of the planner map (maps/sensitivity_layer.py), on a synthetic grid."""

import geopandas as gpd
import pytest
from shapely.geometry import box


@pytest.fixture(scope="module")
def cells():
    """40 × 20 cells of 500 m near Bắc Giang city: west half p = 1, east half p = 0, one row p = 0.3 in the west."""
    x0, y0, n, m = 620000.0, 2340000.0, 40, 20
    geoms, p = [], []
    for i in range(n):
        for j in range(m):
            geoms.append(box(x0 + i * 500, y0 + j * 500, x0 + (i + 1) * 500, y0 + (j + 1) * 500))
            p.append(0.0 if i >= n // 2 else (0.3 if j == m - 1 else 1.0))
    return gpd.GeoDataFrame({"p_suitable": p}, geometry=geoms, crs="EPSG:32648")


def _decode(uri):
    import base64

    from rasterio.io import MemoryFile

    with MemoryFile(base64.b64decode(uri.split(",", 1)[1])) as f, f.open() as png:
        return png.read()          # bands × rows × cols (RGBA)


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")   # a PNG has no georeference
def test_image_classes_and_placement(cells):
    from maps.sensitivity_layer import P_PALETTE, probability_image

    uri, bounds = probability_image(cells)
    rgba = _decode(uri)
    (south, west), (north, east) = bounds
    w, s, e, n = cells.to_crs(4326).total_bounds
    assert west == pytest.approx(w, abs=1e-6) and north == pytest.approx(n, abs=1e-6)
    assert east >= e - 1e-6 and south <= s + 1e-6
    width = rgba.shape[2]
    west_half, east_half = rgba[:, 2:-2, : width // 2 - 2], rgba[:, :, width // 2 + 2:]
    assert (east_half[3] == 0).all()                       # p = 0: transparent
    darkest = [int(P_PALETTE[-1][k:k + 2], 16) for k in (1, 3, 5)]
    assert (west_half[3] > 0).all() and (west_half[0] == darkest[0]).all() and (west_half[2] == darkest[2]).all()
    top = rgba[:, 0, 1]                                    # the p = 0.3 row (north): the second class
    assert [int(P_PALETTE[1][k:k + 2], 16) for k in (1, 3, 5)] == top[:3].tolist()


def test_planner_map_shows_the_layer(cells):
    from maps.elements import ImageLayer
    from maps.planner import planner_map

    province = gpd.GeoDataFrame({"name": ["test"]}, geometry=[box(106.0, 21.0, 106.5, 21.3)], crs="EPSG:4326")
    p = cells.copy()
    p.attrs["summary"] = {"runs": 1000, "seed": 3}
    m = planner_map({"province": province}, analyses={"sensitivity": p})
    assert isinstance(m.bgplan_layers["sensitivity"], ImageLayer)
    html = m.get_root().render()
    from langtext import unjson

    assert '<span class="bg-vi">Xác suất phù hợp</span><span class="bg-en">probability suitable</span>' in unjson(html)
    assert '"sensitivity"' in html
    assert "sensitivity" not in planner_map({"province": province}).bgplan_layers


def test_published_suitability_page_shows_sensitivity(cells, tmp_path):
    """OUT/sensitivity.gpkg (cells + sites) and sensitivity.json → the published suitability page: the probability
    image, the site rank ranges in popups, and only the allow-listed columns (maps/registry.py)."""
    from maps.planner import read_analyses
    from maps.publish import publish_site

    province = gpd.GeoDataFrame({"name_vi": ["Tỉnh thử"]}, geometry=[box(106.0, 21.0, 106.5, 21.3)], crs="EPSG:4326")
    c = cells.assign(p_in_site=0.5, score_sd=0.01).to_crs("EPSG:4326")
    c.to_file(tmp_path / "sensitivity.gpkg", layer="cells", driver="GPKG")
    sites = gpd.GeoDataFrame({"site": [1, 2], "area_ha": [60.0, 45.0], "district": ["Yên Dũng", "Lạng Giang"],
                              "p_rank_1": [0.7, 0.1], "p_top_n": [1.0, 0.6], "p_lost": [0.0, 0.3],
                              "rank_p05": [1.0, 2.0], "rank_median": [1.0, 4.0], "rank_p95": [2.0, 9.0]},
                             geometry=[box(620000, 2340000, 621000, 2341000), box(625000, 2340000, 626000, 2341000)],
                             crs="EPSG:32648").to_crs("EPSG:4326")
    sites.to_file(tmp_path / "sensitivity.gpkg", layer="sites", driver="GPKG")
    (tmp_path / "sensitivity.json").write_text('{"runs": 100, "seed": 7, "scheduler": "/secret/path"}', encoding="utf-8")
    found = read_analyses(tmp_path)
    assert {"sensitivity", "sensitivity_sites"} <= set(found)
    candidates = sites.rename(columns={"site": "rank"})[["rank", "area_ha", "district", "geometry"]]
    site = publish_site(tmp_path, layers={"province": province}, analyses={**found, "candidates": candidates})["site"]
    page = (site / "suitability.html").read_text(encoding="utf-8")
    assert "Xác suất phù hợp — 100 trọng số ngẫu nhiên (seed 7)" in page                  # one language each
    assert "probability suitable — 100 random weightings (seed 7)" in page
    assert "#2 (#2–#9, 5–95 %); trung vị #4" in page and "#2 (#2–#9, 5–95 %); median #4" in page   # rank range
    assert "how firm the ranks are" in page
    assert "p_in_site" not in page and "score_sd" not in page and "/secret/path" not in page
    assert "Xác suất phù hợp" not in (site / "planning.html").read_text(encoding="utf-8")   # only on its page
