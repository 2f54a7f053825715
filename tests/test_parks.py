"""Industrial parks: the IIP points joined with the sourced facts."""

import unicodedata

import geopandas as gpd
import numpy as np
import pytest

from geo.errors import InputError
from layers.parks import industrial_parks


@pytest.fixture(scope="module")
def parks(region):
    return industrial_parks(region)


def test_counts_and_area(parks):
    """SOURCES.md: 53 inside the province (23 KCN + 30 CCN, 6,301 ha in total)."""
    assert len(parks) == 53
    assert (parks["kind"] == "KCN").sum() == 23 and (parks["kind"] == "CCN").sum() == 30
    assert parks["area_ha"].sum() == pytest.approx(6301, abs=1)
    assert parks.crs.to_epsg() == 4326


def test_known_parks_and_facts(parks):
    p = parks.set_index("name")
    assert p.loc["KCN Quang Châu", "area_ha"] == pytest.approx(516)
    assert p.loc["KCN Quang Châu", "district"] == "Việt Yên"
    assert p.loc["KCN Hòa Phú", "occupancy_pct"] == pytest.approx(95.0)
    assert p.loc["KCN Hòa Phú", "district"] == "Hiệp Hòa"
    assert p.loc["CCN Đoan Bái", "occupancy_pct"] == pytest.approx(93.2)
    # Both area figures of Vân Trung are kept (433.28 ha at establishment, 350.3 ha later).
    assert set(p.loc["KCN Vân Trung", "area_ha_facts"].split("; ")) == {"350.3", "433.28"}
    assert p.loc["KCN Đình Trám", "geometry"].distance(gpd.points_from_xy([106.128], [21.249])[0]) < 0.01


def test_kinds_never_cross(parks):
    """CCN Quang Châu must not take the facts of KCN Quang Châu."""
    ccn = parks.set_index("name").loc["CCN Quang Châu"]
    assert not ccn["matched_facts"] and np.isnan(ccn["occupancy_pct"])


def test_phases_take_their_parent_facts(parks):
    p = parks.set_index("name")
    row = p.loc["KCN Xuân Cẩm - Hương Lâm giai đoạn I"]
    assert row["facts_match"].startswith("parent") and row["area_ha_facts"] == "224"
    assert p.loc["KCN Hòa Phú mở rộng giai đoạn II - phân kỳ I", "area_ha_facts"] == "222"


def test_unknown_stays_unknown(parks):
    assert parks["wastewater_treatment"].isna().all()
    assert (parks["occupancy_pct"].dropna() > 0).all()
    # The portal's "occupancy" field holds years or 0: 0 must not survive as a value.
    assert parks["iip_year"].dropna().between(2000, 2030).all()
    assert parks["iip_year"].isna().sum() == 36


def test_names_nfc_and_every_park_has_a_district(parks):
    assert all(unicodedata.is_normalized("NFC", n) for n in parks["name"])
    assert parks["district"].notna().all()


def test_unmatched_names_are_reported(parks):
    s = parks.attrs["summary"]
    assert s["matched_with_facts"] == parks["matched_facts"].sum() >= 26
    assert "KCN Việt Hàn" in s["facts_without_location"]  # the original Việt Hàn is not in the portal file
    assert "CCN Jutech" in s["locations_without_facts"]


def test_planner_file_in_vn2000_with_polygons(region, tmp_path):
    """A planner's own outlines in VN-2000 replace the registry; area computed from the polygon."""
    from shapely.geometry import box

    outline = gpd.GeoDataFrame({"name": ["KCN Thử nghiệm", "CCN Đồi Ngô"]},
                               geometry=[box(106.20, 21.30, 106.21, 21.31), box(106.38, 21.295, 106.39, 21.305)],
                               crs="EPSG:4326").to_crs("EPSG:9214")
    path = tmp_path / "my_parks.gpkg"
    outline.to_file(path)
    got = industrial_parks(region, parks_file=path).set_index("name")
    assert list(got["kind"].sort_values()) == ["CCN", "KCN"]
    # 0.01° × 0.01° at 21.3°N ≈ 1.037 km × 1.107 km ≈ 114.8 ha.
    assert got.loc["KCN Thử nghiệm", "area_ha"] == pytest.approx(114.8, rel=0.01)
    assert got.loc["CCN Đồi Ngô", "matched_facts"]
    # the district is the one of the region's (open, 2020) boundaries holding the outline
    from layers.boundaries import districts

    units = districts(region)
    holding = units[units.contains(box(106.20, 21.30, 106.21, 21.31).representative_point())]["district"]
    assert len(holding) == 1 and got.loc["KCN Thử nghiệm", "district"] == holding.iloc[0]


def test_planner_file_without_names(region, tmp_path):
    path = tmp_path / "parks.csv"
    path.write_text("lon,lat\n106.2,21.3\n", encoding="utf-8")
    with pytest.raises(InputError, match="no 'name' column"):
        industrial_parks(region, parks_file=path)
