"""layers.logistics: railways, stations, user dry ports / ICDs."""

from __future__ import annotations

import pytest

from geo.errors import InputError


@pytest.fixture(scope="session")
def rail(region):
    from layers.logistics import railways
    return railways(region)


@pytest.fixture(scope="session")
def station_layer(region):
    from layers.logistics import stations
    return stations(region)


def test_track_in_province(rail):
    s = rail.attrs["summary"]
    assert s["track_km_in_region"] == pytest.approx(99.5, rel=0.02)        # SOURCES: 99.5 km, 19 lines
    assert s["lines_in_region"] == 19
    assert s["components_in_region"] == 1                                   # SOURCES: one connected component
    assert rail.crs.to_epsg() == 4326


def test_names_from_2025_layer(rail):
    reg = rail[rail["in_region"]]
    assert "Đường sắt Hà Nội - Đồng Đăng" in set(reg["name"].dropna())
    assert reg.loc[reg["name_source"] == "osm2025_overlap", "name_match_share"].ge(0.25).all()
    hn_dd = reg[reg["name"] == "Đường sắt Hà Nội - Đồng Đăng"]
    assert (hn_dd["name_en"] == "Hanoi - Dong Dang Railway").all()
    # Bắc Giang → Kép is missing from the 2025 export (SOURCES) but joins that line at both ends
    bg_kep = rail[rail["osm_id"] == "48998726"].iloc[0]
    assert bg_kep["name"] == "Đường sắt Hà Nội - Đồng Đăng" and bg_kep["name_source"] == "continuity"
    assert "ngõ 145" not in set(rail["name"].dropna())


def test_kep_station(station_layer):
    kep = station_layer[station_layer["name"] == "Kép"]
    assert len(kep) == 1
    row = kep.iloc[0]
    assert row["osm_id"] == "4639698212" and row["in_region"] and row["kind"] == "rail_station"
    assert row.geometry.x == pytest.approx(106.29039, abs=1e-5) and row.geometry.y == pytest.approx(21.41673, abs=1e-5)
    assert row["rail_distance_m"] < 650                                     # SOURCES: stations snap within 33–650 m
    names = set(station_layer.loc[station_layer["in_region"], "name"])
    assert {"Bắc Giang", "Kép", "Phố Tráng", "Lan Mẫu"} <= names


def test_dry_ports_csv(region, tmp_path):
    from layers.logistics import stations
    csv = tmp_path / "dry_ports.csv"
    csv.write_text("name,kind,lon,lat\n"
                   "Cảng cạn Kép,cảng cạn,106.2950,21.4150\n"
                   "ICD Bắc Giang,ICD,106.2100,21.2600\n"
                   "Trung tâm logistics Việt Yên,,106.0900,21.2700\n", encoding="utf-8")
    out = stations(region, extra_points=csv)
    user = out[out["source"] == "dry_ports.csv"].set_index("name")
    assert user["kind"].to_dict() == {"Cảng cạn Kép": "dry_port", "ICD Bắc Giang": "icd",
                                      "Trung tâm logistics Việt Yên": "logistics_centre"}
    assert user["in_region"].all()
    assert user.loc["Cảng cạn Kép", "rail_distance_m"] < 1000
    assert out.attrs["summary"]["user_points"] == 3


def test_csv_without_lon_lat_names_file(region, tmp_path):
    from layers.logistics import stations
    csv = tmp_path / "icd_no_coords.csv"
    csv.write_text("name,kind\nICD X,icd\n", encoding="utf-8")
    with pytest.raises(InputError, match="icd_no_coords.csv: no longitude/latitude"):
        stations(region, extra_points=csv)


def test_unknown_kind_and_far_points_rejected(region, tmp_path):
    from layers.logistics import stations
    bad_kind = tmp_path / "bad_kind.csv"
    bad_kind.write_text("name,kind,lon,lat\nA,warehouse,106.2,21.3\n", encoding="utf-8")
    with pytest.raises(InputError, match="bad_kind.csv: unknown kind 'warehouse'"):
        stations(region, extra_points=bad_kind)
    far = tmp_path / "far.csv"
    far.write_text("name,lon,lat\nSài Gòn ICD,106.7,10.8\n", encoding="utf-8")
    with pytest.raises(InputError, match="far.csv: all 1 points lie outside the region"):
        stations(region, extra_points=far)
