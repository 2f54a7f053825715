"""layers.population on the real WorldPop grid and the 2019 census."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from geo.errors import InputError
from geo.io.raster import clip_raster, read_raster, zonal_sums

# 2019 census district totals, from SOURCES.md
CENSUS_2019 = {
    "Bắc Giang": 174229, "Hiệp Hòa": 247460, "Lạng Giang": 216996, "Lục Nam": 226194, "Lục Ngạn": 226540,
    "Sơn Động": 76106, "Tân Yên": 177265, "Việt Yên": 205900, "Yên Dũng": 152125, "Yên Thế": 101135,
}


@pytest.fixture(scope="session")
def rescaled(region):
    from layers.population import population_raster
    return population_raster(region)


@pytest.fixture(scope="session")
def district_table(region):
    from layers.population import district_population
    return district_population(region)


@pytest.fixture(scope="session")
def merged_region(shared_data):
    from layers.region import load_region
    return load_region("bac-ninh-2025", data_dir=shared_data)


def test_rescaled_district_sums_equal_census(rescaled, region):
    from layers.boundaries import districts
    array, profile, factors = rescaled
    units = districts(region)
    sums = dict(zip(units["district"], zonal_sums(array, profile, units)))
    assert len(sums) == 10
    for name, total in CENSUS_2019.items():
        assert sums[name] == pytest.approx(total, rel=0.001), name
    assert (factors["status"] == "rescaled").all()


def test_raw_province_sum_and_factor(rescaled):
    _, _, factors = rescaled
    assert factors["raw_sum"].sum() == pytest.approx(1_585_420, rel=0.01)     # SOURCES: 12 % below census
    overall = factors["total"].sum() / factors["raw_sum"].sum()
    assert overall == pytest.approx(1_803_950 / 1_585_420, rel=0.01)


def test_pixels_outside_districts_keep_worldpop(rescaled, region):
    import geopandas as gpd

    from layers.boundaries import districts
    array, profile, factors = rescaled
    raw, raw_profile = read_raster(region.path("population_raster"))
    zones = gpd.GeoSeries([districts(region).union_all()], crs="EPSG:4326")   # the rescaled zones
    inside, _ = clip_raster(np.ones_like(array), profile, zones, crop=False)
    t, rt = profile["transform"], raw_profile["transform"]
    row0, col0 = round((t.f - rt.f) / rt.e), round((t.c - rt.c) / rt.a)
    raw_cut = raw[row0:row0 + array.shape[0], col0:col0 + array.shape[1]]
    outside = np.isnan(inside) & np.isfinite(array)
    assert outside.sum() > 10000
    np.testing.assert_allclose(array[outside], raw_cut[outside])
    assert factors.attrs["outside_sum"] == pytest.approx(np.nansum(array[outside]), rel=1e-9)


def test_district_population_table(district_table):
    t = district_table.set_index("district")
    assert t["total"].sum() == 1_803_950
    for name, total in CENSUS_2019.items():
        assert t.loc[name, "total"] == total
    assert t.loc["Bắc Giang", "urban_share"] == pytest.approx(0.628, abs=0.001)   # SOURCES 62.8 %
    assert t["urban"].sum() == 205_623                                         # SOURCES: urban 205,623
    assert (t["census_date"] == "2019-04-01").all()
    np.testing.assert_allclose(t["worldpop_rescaled"], t["total"], rtol=1e-3)
    assert t["worldpop_raw"].sum() == pytest.approx(1_585_420, rel=0.01)
    assert t.loc["Bắc Giang", "density_per_km2"] == pytest.approx(174229 / 66.70, rel=0.01)
    assert district_table.crs.to_epsg() == 4326
    assert district_table.attrs["summary"]["districts_without_census"] == []


def test_merged_region_unknown_districts_are_nan_and_unscaled(merged_region):
    """Without national census rows for the merged province, its districts stay unknown (not 0)."""
    from layers.population import district_population, population_raster
    census = {k: v for k, v in merged_region.config["census"].items() if k != "national_provinces"}
    merged_region = dataclasses.replace(merged_region, config={**merged_region.config, "census": census})
    _, _, factors = population_raster(merged_region)
    t = district_population(merged_region, factors=factors).set_index("district")
    old_bac_ninh = t[t["province_vi"] == "Bắc Ninh"]
    assert len(old_bac_ninh) == 8
    assert old_bac_ninh["total"].isna().all() and (old_bac_ninh["total"] != 0).all()
    np.testing.assert_allclose(old_bac_ninh["worldpop_rescaled"], old_bac_ninh["worldpop_raw"])
    assert old_bac_ninh["note"].str.contains("unknown").all()
    assert t.loc["Hiệp Hòa", "worldpop_rescaled"] == pytest.approx(247460, rel=1e-3)
    assert (factors.loc[factors["province_vi"] == "Bắc Ninh", "status"] == "total_unknown").all()
    assert len(t.attrs["summary"]["districts_without_census"]) == 8


def test_census_file_without_total_column_names_file(region, tmp_path):
    from layers.population import district_population
    bad = tmp_path / "census.csv"
    bad.write_text("district,people\nBắc Giang,1\n", encoding="utf-8")
    broken = dataclasses.replace(region, overrides={("census", "district_file"): bad})
    with pytest.raises(InputError, match=r"census.csv: missing column\(s\) total"):
        district_population(broken)


def test_region_census_communes_cover_both_former_provinces(shared_data):
    """Own commune file (230 communes of former Bắc Giang) + national ward table for merged former Bắc Ninh (126)."""
    from layers.population import region_census_communes
    from layers.region import load_region

    table = region_census_communes(load_region("bac-ninh-2025", data_dir=shared_data))
    assert len(table) == 230 + 126
    assert table.loc[table["province_vi"].isna(), "total"].sum() == 1_803_950
    assert table.loc[table["province_vi"] == "Bắc Ninh", "total"].sum() == 1_368_840
    assert table["urban_share"].between(0, 1).all()
