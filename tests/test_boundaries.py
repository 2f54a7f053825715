"""Boundaries against the figures in ../shared/data/SOURCES.md: open (default) and GADM (option)."""

import unicodedata

import pytest

from layers import boundaries
from layers.region import load_region

DISTRICT_AREAS_KM2 = {  # SOURCES.md, GADM 4.1
    "Bắc Giang": 66.70, "Hiệp Hòa": 206.26, "Lạng Giang": 243.98, "Lục Nam": 609.15, "Lục Ngạn": 1028.83,
    "Sơn Động": 860.73, "Tân Yên": 208.03, "Việt Yên": 171.14, "Yên Dũng": 191.85, "Yên Thế": 306.26,
}


OPEN_DISTRICT_AREAS_KM2 = {  # SOURCES.md, geoBoundaries gbOpen ADM2 (area_km2 column, EPSG:32648)
    "Bắc Giang": 67.15, "Hiệp Hòa": 205.63,
}


@pytest.fixture(scope="module")
def gadm_region(shared_data):
    return load_region("bac-giang", data_dir=shared_data, boundaries="gadm")


def test_open_province_is_the_union_of_its_districts(region):
    p = boundaries.province(region)
    assert region.boundaries == "open"
    # official 3,895.6 km²; the open districts give 3,889.66 (SOURCES.md)
    assert p["area_km2"].iloc[0] == pytest.approx(3889.66, abs=1.0)
    assert "geoBoundaries" in p["source"].iloc[0]
    d = boundaries.districts(region)
    assert len(d) == 10 and set(d["district"]) == set(DISTRICT_AREAS_KM2)
    got = dict(zip(d["district"], d["area_km2"]))
    for name, area in OPEN_DISTRICT_AREAS_KM2.items():
        assert got[name] == pytest.approx(area, rel=0.005), name
    assert set(d["type_vi"]) == {"Thành phố", "Huyện"}
    assert (d["name_full_vi"] == "Thành phố Bắc Giang").sum() == 1


def test_open_neighbours_never_overlap_the_region(region):
    n = boundaries.neighbours(region)
    assert set(n["name_vi"]) == {"Bắc Ninh", "Hà Nội", "Hải Dương", "Lạng Sơn", "Quảng Ninh", "Thái Nguyên"}
    outline = boundaries.region_polygon(region)
    assert all(g.intersection(outline).area < 1e-9 for g in n.geometry)


def test_gadm_needs_its_section(tmp_path):
    from geo.errors import InputError

    path = tmp_path / "r.yaml"
    path.write_text("id: r\nboundary: {kind: open}\n", encoding="utf-8")
    with pytest.raises(InputError, match="no 'boundary_gadm' section"):
        load_region(path, data_dir=tmp_path, boundaries="gadm")


def test_province(gadm_region):
    p = boundaries.province(gadm_region)
    assert len(p) == 1 and p.crs.to_epsg() == 4326
    assert p["area_km2"].iloc[0] == pytest.approx(3892.5, abs=1.0)
    minx, miny, maxx, maxy = p.total_bounds
    assert minx == pytest.approx(105.881, abs=0.002) and maxx == pytest.approx(107.034, abs=0.002)
    assert miny == pytest.approx(21.122, abs=0.002) and maxy == pytest.approx(21.626, abs=0.002)


def test_districts_names_and_areas(gadm_region):
    d = boundaries.districts(gadm_region)
    assert len(d) == 10
    assert all(unicodedata.is_normalized("NFC", n) for n in d["district"])
    got = dict(zip(d["district"], d["area_km2"]))
    assert set(got) == set(DISTRICT_AREAS_KM2)
    for name, area in DISTRICT_AREAS_KM2.items():
        assert got[name] == pytest.approx(area, rel=0.005), name
    assert not d["former"].any()


def test_neighbours(gadm_region):
    n = boundaries.neighbours(gadm_region)
    assert set(n["name_vi"]) == {"Bắc Ninh", "Hà Nội", "Hải Dương", "Lạng Sơn", "Quảng Ninh", "Thái Nguyên"}
    assert n["touches_region"].all()


def test_merged_bac_ninh_2025_open(shared_data):
    r = load_region("bac-ninh-2025", data_dir=shared_data)
    p = boundaries.province(r)
    # open districts: old Bắc Giang 3,889.66 + old Bắc Ninh 821.99 km² (SOURCES.md), borders coincide exactly
    assert p["area_km2"].iloc[0] == pytest.approx(3889.66 + 821.99, abs=2)
    assert p.geometry.iloc[0].geom_type == "Polygon"
    d = boundaries.districts(r)
    assert d["former"].all() and (d["province_vi"] == "Bắc Ninh").sum() == 8
    assert {"Bắc Ninh", "Bắc Giang"}.isdisjoint(boundaries.neighbours(r)["name_vi"])


def test_merged_bac_ninh_2025(shared_data):
    r = load_region("bac-ninh-2025", data_dir=shared_data, boundaries="gadm")
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
