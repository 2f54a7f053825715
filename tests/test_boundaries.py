"""Boundaries against the figures in ../shared/data/SOURCES.md."""

import unicodedata

import pytest

from layers import boundaries
from layers.region import load_region

DISTRICT_AREAS_KM2 = {  # SOURCES.md, GADM 4.1
    "Bắc Giang": 66.70, "Hiệp Hòa": 206.26, "Lạng Giang": 243.98, "Lục Nam": 609.15, "Lục Ngạn": 1028.83,
    "Sơn Động": 860.73, "Tân Yên": 208.03, "Việt Yên": 171.14, "Yên Dũng": 191.85, "Yên Thế": 306.26,
}


def test_province(region):
    p = boundaries.province(region)
    assert len(p) == 1 and p.crs.to_epsg() == 4326
    assert p["area_km2"].iloc[0] == pytest.approx(3892.5, abs=1.0)
    minx, miny, maxx, maxy = p.total_bounds
    assert minx == pytest.approx(105.881, abs=0.002) and maxx == pytest.approx(107.034, abs=0.002)
    assert miny == pytest.approx(21.122, abs=0.002) and maxy == pytest.approx(21.626, abs=0.002)


def test_districts_names_and_areas(region):
    d = boundaries.districts(region)
    assert len(d) == 10
    assert all(unicodedata.is_normalized("NFC", n) for n in d["district"])
    got = dict(zip(d["district"], d["area_km2"]))
    assert set(got) == set(DISTRICT_AREAS_KM2)
    for name, area in DISTRICT_AREAS_KM2.items():
        assert got[name] == pytest.approx(area, rel=0.005), name
    assert not d["former"].any()


def test_neighbours(region):
    n = boundaries.neighbours(region)
    assert set(n["name_vi"]) == {"Bắc Ninh", "Hà Nội", "Hải Dương", "Lạng Sơn", "Quảng Ninh", "Thái Nguyên"}
    assert n["touches_region"].all()


def test_merged_bac_ninh_2025(shared_data):
    r = load_region("bac-ninh-2025", data_dir=shared_data)
    p = boundaries.province(r)
    # old Bắc Giang 3,892.5 km² + old Bắc Ninh ~822 km² (GADM, simplified).
    assert p["area_km2"].iloc[0] == pytest.approx(4713, abs=10)
    assert p["merged_from"].iloc[0] == "Bắc Giang, Bắc Ninh"
    d = boundaries.districts(r)
    assert d["former"].all()  # no districts since 1 July 2025
    assert set(d["province_vi"]) == {"Bắc Giang", "Bắc Ninh"}
    assert (d["province_vi"] == "Bắc Giang").sum() == 10 and (d["province_vi"] == "Bắc Ninh").sum() == 8
    assert "Bắc Ninh" not in set(boundaries.neighbours(r)["name_vi"])


def test_window_covers_region_with_margin(region):
    outline = boundaries.region_polygon(region)
    window = boundaries.region_window(region)
    assert window.contains(outline)
    assert window.area > outline.area * 1.5
