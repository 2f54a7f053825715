"""layers.communes and the former-Bắc Ninh census, against the national 2019 ward table and vietnam-provinces."""

from __future__ import annotations

import pandas as pd
import pytest

WARD_TABLE = "raw/vn_demographic_census2019/VN_Population_ward.csv"


@pytest.fixture(scope="session")
def merged_region(shared_data):
    from layers.region import load_region
    return load_region("bac-ninh-2025", data_dir=shared_data)


@pytest.fixture(scope="session")
def national(shared_data):
    """The national ward table read independently of the code under test."""
    return pd.read_csv(shared_data / WARD_TABLE)


@pytest.fixture(scope="session")
def report(merged_region):
    from geo.vector import read_vector
    from layers.communes import commune_report
    from layers.parks import industrial_parks
    return commune_report(merged_region, parks=industrial_parks(merged_region),
                          places=read_vector(merged_region.path("places")))


def test_former_bac_ninh_district_totals_equal_national_table(merged_region, national):
    from layers.population import census_districts, name_key
    bn = national[national["city"] == "BắcNinh"]
    assert len(bn) == 126 and bn["total"].sum() == 1_368_840                  # SOURCES.md
    expected = {name_key(d): t for d, t in bn.groupby("district")["total"].sum().items()}
    table = census_districts(merged_region)
    got = table[table["province_vi"] == "Bắc Ninh"]
    assert {name_key(d): t for d, t in zip(got["district"], got["total"])} == expected
    assert got["total"].sum() == 1_368_840                                     # district sums = province total
    assert got.loc[got["district"] == "Bắc Ninh", "urban_share"].item() == pytest.approx(200_285 / 247_702, abs=1e-4)


def test_no_district_of_the_merged_region_is_unknown(merged_region):
    from layers.population import district_population
    t = district_population(merged_region)
    assert len(t) == 18 and t["total"].notna().all()
    assert t["total"].sum() == 1_803_950 + 1_368_840
    assert t["worldpop_rescaled"].sum() == pytest.approx(t["total"].sum(), rel=1e-6)   # all 18 rescaled
    assert t["source"].str.contains("VN_Population_ward", na=False).sum() == 8


def test_spaced_names():
    from layers.population import spaced_name
    assert spaced_name("ThuậnThành") == "Thuận Thành"
    assert spaced_name("ĐạiĐồngThành") == "Đại Đồng Thành"
    assert spaced_name("Hồ") == "Hồ"


def test_99_codes_match_the_package(report):
    from vietnam_provinces import ProvinceCode, Ward
    official = {int(w.code): w.name for w in Ward.iter_by_province(ProvinceCode(24))}
    assert len(official) == 99
    assert dict(zip(report["code"], report["name_vi"])) == official
    assert (report["type_vi"] == "phường").sum() == 33 and (report["type_vi"] == "xã").sum() == 66


def test_commune_populations_add_up_to_the_province_total(report, national):
    total = national.loc[national["city"].isin(["BắcNinh", "BắcGiang"]), "total"].sum()
    assert total == 1_803_950 + 1_368_840
    assert report["population"].sum() == pytest.approx(total, abs=1)
    assert report["population"].notna().all() and (report["population"] > 0).all()
    assert (report["population_min"] <= report["population"] + 0.1).all()
    assert (report["population"] <= report["population_max"] + 0.1).all()


def test_every_2019_commune_is_placed_once(merged_region):
    from layers.communes import commune_mapping
    m = commune_mapping(merged_region)
    shares = m.groupby(["province_vi", "district", "commune_type", "commune"])["share"].sum()
    assert len(shares) == 356                                                  # 230 + 126 census communes
    assert shares.to_numpy() == pytest.approx(1.0)
    ninh_xa = m[(m["district"] == "Bắc Ninh") & (m["commune"] == "Ninh Xá")]   # → Tiền Ninh Vệ → Kinh Bắc, not Thuận Thành's Ninh Xá
    assert ninh_xa["name_vi"].tolist() == ["Phường Kinh Bắc"]
    kep = m[(m["district"] == "Lạng Giang") & (m["commune"] == "Kép")]
    assert set(kep["name_vi"]) == {"Xã Kép"} and (kep["assignment"] == "record").all()


def test_options_validate(merged_region):
    from layers.communes import CommuneOptions
    with pytest.raises(ValueError):
        CommuneOptions(province_2025="Bắc Ninh", expected_units=0, provinces_2019=("Bắc Ninh",),
                       district_successors={}, interim_changes=())
    with pytest.raises(ValueError):
        CommuneOptions(province_2025="Bắc Ninh", expected_units=99, provinces_2019=("Bắc Ninh",),
                       district_successors={}, interim_changes=({"province": "Bắc Ninh"},))


def test_wrong_unit_count_is_an_input_error():
    from geo.errors import InputError
    from layers.communes import CommuneOptions, communes_2025
    with pytest.raises(InputError, match="expected 98"):
        communes_2025(CommuneOptions(province_2025="Bắc Ninh", expected_units=98, provinces_2019=("Bắc Ninh",),
                                     district_successors={}, interim_changes=()))


def test_communes_page_lists_every_unit(report, tmp_path):
    from maps.communes_page import communes_html
    csv = tmp_path / "communes.csv"
    report.drop(columns="geometry").to_csv(csv, index=False)
    page = communes_html(csv, generated="2026-01-01")
    assert page.count("<tr>") == 99 + 1
    assert "Phường Kinh Bắc" in page and "3,172,790" in page
