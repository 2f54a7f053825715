"""layers.urban: OSM places with census population."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import box

from geo.text import fold

# Towns of the province named in SOURCES.md (OSM spells Cầu Gồ "Cầu Gô": compared folded)
TOWNS = ["Vôi", "Bích Động", "Nếnh", "Bố Hạ", "Cầu Gồ", "Nhã Nam", "An Châu", "Neo", "Đồi Ngô", "Thắng", "Chũ",
         "Lục Nam", "Cao Thượng", "Kép"]


@pytest.fixture(scope="session")
def urban(region):
    from layers.urban import urban_areas
    return urban_areas(region)


def _place(urban, name):
    hit = urban[(urban["kind"] == "place") & (urban["name"].map(fold) == fold(name)) & urban["in_region"]]
    assert len(hit) == 1, name
    return hit.iloc[0]


def test_places_in_province_by_class(urban):
    s = urban.attrs["summary"]
    assert s["places_in_region"] == 44                           # SOURCES: 26 village, 14 town, 2 hamlet, 1 city, 1 suburb
    assert s["places_in_region_by_class"] == {"village": 26, "town": 14, "hamlet": 2, "city": 1, "suburb": 1}
    towns = urban[urban["in_region"] & (urban["place_class"] == "town")]
    assert sorted(map(fold, towns["name"])) == sorted(map(fold, TOWNS))


def test_osm_zero_population_is_not_carried(urban):
    assert not (urban["osm_population"] == 0).any()
    assert urban.loc[urban["in_region"], "osm_population"].isna().all()
    assert "population" not in urban.columns


def test_district_and_commune_census(urban, region):
    from layers.population import census_communes
    communes = census_communes(region).set_index(["district", "commune"])
    kep = _place(urban, "Kép")
    assert kep["district"] == "Lạng Giang" and kep["district_population"] == 216996
    assert kep["commune_type"] == "Thị trấn" and kep["commune_population"] == communes.loc[("Lạng Giang", "Kép"), "total"]
    assert _place(urban, "Chũ")["district"] == "Lục Ngạn"
    cau_go = _place(urban, "Cầu Gô")
    assert cau_go["commune"] == "Cầu Gồ" and cau_go["commune_population"] == communes.loc[("Yên Thế", "Cầu Gồ"), "total"]
    thanh_son = _place(urban, "Thanh Sơn")                       # an OSM "suburb" that is a thị trấn
    assert thanh_son["district"] == "Sơn Động" and thanh_son["commune_type"] == "Thị trấn"
    # every one of the 16 urban places in the province lies in the district of its census commune
    matched = urban[urban["in_region"] & urban["commune"].notna()]
    assert len(matched) == 15
    for row in matched.itertuples():
        assert (row.district, row.commune) in communes.index


def test_city_has_district_population_not_commune(urban):
    city = _place(urban, "Bắc Giang")
    assert city["place_class"] == "city" and city["district_population"] == 174229
    assert np.isnan(city["commune_population"]) and "district" in city["note"]


def test_places_outside_region_have_unknown_census(urban):
    outside = urban[~urban["in_region"] & (urban["kind"] == "place")]
    assert len(outside) > 0
    assert outside["district_population"].isna().all() and outside["commune_population"].isna().all()


def test_programme_towns(urban):
    flagged = urban[urban["is_programme_town"]]
    assert sorted(flagged["name"]) == sorted(["Bắc Giang", "Bích Động", "Nếnh", "Thắng", "Vôi", "Chũ"])
    assert set(flagged["programme_town"]) == {"Bắc Giang", "Việt Yên", "Hiệp Hòa", "Lạng Giang", "Chũ"}
    assert not _place(urban, "Kép")["is_programme_town"]


def test_builtup_polygons_join_district(region):
    from layers.urban import urban_areas
    builtup = gpd.GeoDataFrame({"name": ["khu đô thị thử"]}, geometry=[box(106.18, 21.27, 106.20, 21.285)], crs="EPSG:4326")
    out = urban_areas(region, osm_builtup=builtup.to_crs("EPSG:32648"))
    poly = out[out["kind"] == "builtup_area"]
    assert len(poly) == 1 and poly["district"].iloc[0] == "Bắc Giang"
    assert poly["area_ha"].iloc[0] == pytest.approx(0.02 * 0.015 * 111.32 * 103.9 * 100, rel=0.02)
    assert out.attrs["summary"]["builtup_areas"] == 1


def test_former_bac_ninh_towns_have_the_national_census(shared_data):
    """bac-ninh-2025: the towns of former Bắc Ninh get district and commune figures from the national ward table."""
    import pandas as pd

    from layers.region import load_region
    from layers.urban import urban_areas

    out = urban_areas(load_region("bac-ninh-2025", data_dir=shared_data))
    wards = pd.read_csv(shared_data / "raw/vn_demographic_census2019/VN_Population_ward.csv")
    bn = wards[wards["city"] == "BắcNinh"]
    places = out[(out["kind"] == "place") & out["in_region"]]
    assert places["district_population"].notna().all()                         # no town of the region is unknown
    for name, district, ward in [("Hồ", "ThuậnThành", "Hồ"), ("Lim", "TiênDu", "Lim"), ("Đình Bảng", "TừSơn", "ĐìnhBảng")]:
        row = places[places["name"] == name].iloc[0]
        assert row["district_population"] == bn.loc[bn["district"] == district, "total"].sum()
        assert row["commune_population"] == bn.loc[(bn["district"] == district) & (bn["ward"] == ward), "total"].item()
    tu_son = places[places["name"] == "Từ Sơn"].iloc[0]                          # thị xã: district-level unit
    assert np.isnan(tu_son["commune_population"]) and "district-level" in tu_son["note"]
