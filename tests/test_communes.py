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
def merged_inputs(merged_region):
    """Road network (today's), rescaled WorldPop and parks of the merged region, built once."""
    from geo import settings
    from layers import networks, parks, population
    settings.progress = False
    array, profile, _ = population.population_raster(merged_region)
    return {"net": networks.build_networks(merged_region, with_rail=False), "population": (array, profile),
            "parks": parks.industrial_parks(merged_region)}


@pytest.fixture(scope="session")
def report(merged_region, merged_inputs):
    from geo.io.vector import read_vector
    from layers.communes import commune_report
    return commune_report(merged_region, parks=merged_inputs["parks"], places=read_vector(merged_region.path("places")),
                          net=merged_inputs["net"], population=merged_inputs["population"])


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
    page = communes_html(csv, generated="2026-01-01", summary=report.attrs["summary"])
    s = report.attrs["summary"]
    total = s["parks_total"]
    assert total >= 59 and 0 <= s["parks_not_placed"] < total
    assert report["parks"].sum() == total - s["parks_not_placed"]               # every placed park counted once
    assert f"{s['parks_not_placed']} of {total} parks name no commune" in page
    assert page.count("<tr>") == 2 * (99 + 1)                                # population/parks table + access table
    assert "Phường Kinh Bắc" in page and "3,172,790" in page
    assert "median minutes to QL1A" in page and "people within 30 min of a park" in page
    city = report[report["name_vi"] == "Phường Bắc Giang"].iloc[0]
    assert f"<td>{city['median_minutes_to_ql1a']:.1f}</td>" in page


def test_communes_page_csv_download_carries_the_indicators(report, tmp_path):
    import html
    import io
    import re
    from urllib.parse import unquote

    from maps.communes_page import communes_html
    csv = tmp_path / "communes.csv"
    report.drop(columns="geometry").to_csv(csv, index=False)
    link = re.search(r'href="data:text/csv;charset=utf-8,([^"]+)"', communes_html(csv, generated="x")).group(1)
    table = pd.read_csv(io.StringIO(unquote(html.unescape(link))))
    assert len(table) == 99 and table["code"].tolist() == report["code"].tolist()
    assert {"population", "urban_share", "parks_by_status", "people_within_30_min_of_park", "median_minutes_to_ct01",
            "access_method"} <= set(table.columns)
    assert table["median_minutes_to_ql1a"].isna().sum() == report["median_minutes_to_ql1a"].isna().sum()


ACCESS_COLUMNS = ["access_coverage", "share_within_30_min_of_park", "people_within_30_min_of_park",
                  "people_within_30_min_of_park_min", "people_within_30_min_of_park_max",
                  "median_minutes_to_ql1a", "median_minutes_to_ct01"]


def test_access_by_commune_is_computed_or_unknown_with_a_reason(report):
    method = report["access_method"].str.split(":").str[0]
    assert set(method) <= {"none", "nearest cells to point", "polygon"}
    none = report[method == "none"]
    assert none[ACCESS_COLUMNS].isna().all().all()                             # unknown, never 0
    assert (none["access_note"].str.len() > 0).all()
    located = report[method == "nearest cells to point"]
    assert len(located) >= 90                          # open points of the 2025 units (or OSM places) in their former districts
    assert located["access_cells"].ge(1).all()
    # a median is given, or why not (fewer than half of the people have a road time: cells far from the 2018 roads)
    no_median = located["median_minutes_to_ql1a"].isna()
    assert located.loc[no_median, "access_note"].str.contains("fewer than half").all()
    assert (~no_median).sum() >= 80
    assert (located["people_within_30_min_of_park"] <= located["population_max"] + 0.5).all()
    assert (located["people_within_30_min_of_park_min"] <= located["people_within_30_min_of_park"] + 0.5).all()
    assert (located["people_within_30_min_of_park"] <= located["people_within_30_min_of_park_max"] + 0.5).all()
    for corridor in ("ql1a", "ct01"):                                          # speed-bound ranges around the figure
        low, mid, high = (located[f"median_minutes{p}_to_{corridor}"] for p in ("_low", "", "_high"))
        known = mid.notna()
        assert (low[known] <= mid[known]).all() and (mid[known] <= high[known]).all() and (high > low).any()
        assert low[~known].isna().all() and high[~known].isna().all()                # unknown stays unknown
    city = report[report["name_vi"] == "Phường Bắc Giang"].iloc[0]            # the provincial seat, on QL1A
    assert city["median_minutes_to_ql1a"] < 15 and city["share_within_30_min_of_park"] == 1.0


def test_polygon_path_uses_exactly_the_cells_inside(merged_region, merged_inputs, report):
    """Polygons given (--communes): the cells whose centre lies inside, and their own routed minutes.

    The polygons are a SYNTHETIC split of former district Việt Yên (open boundary) at its centroid's
    longitude — not commune outlines; their only purpose is to check the polygon path against an
    independent computation (cell centres read from the raster here, minutes from the access report).
    """
    import geopandas as gpd
    import numpy as np
    import shapely
    from shapely.geometry import box

    from layers.access import access_report
    from layers.boundaries import districts
    from layers.commune_access import commune_access
    from layers.communes import commune_mapping

    units = districts(merged_region).to_crs("EPSG:4326")
    district = units.loc[units["district"] == "Việt Yên", "geometry"].iloc[0]
    x0 = district.centroid.x
    minx, miny, maxx, maxy = district.bounds
    halves = [district.intersection(box(minx - 1, miny - 1, x0, maxy + 1)),
              district.intersection(box(x0, miny - 1, maxx + 1, maxy + 1))]
    sub = report.iloc[:2].copy()
    sub = gpd.GeoDataFrame(sub.drop(columns="geometry"), geometry=halves, crs="EPSG:4326")
    got = commune_access(merged_region, sub, merged_inputs["net"], mapping=commune_mapping(merged_region),
                         parks=merged_inputs["parks"], population=merged_inputs["population"])
    array, profile = merged_inputs["population"]
    rows, cols = np.nonzero(np.isfinite(array) & (array > 0))
    lon, lat = profile["transform"] * (cols + 0.5, rows + 0.5)
    in_district = shapely.contains_xy(district, lon, lat)
    lon, lat, people_all = lon[in_district], lat[in_district], array[rows[in_district], cols[in_district]]
    cells = gpd.GeoDataFrame({"name": [str(i) for i in range(len(lon))]}, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    ref = access_report(merged_region, cells, merged_inputs["net"], ranges=False, rail=False)      # minutes to the corridors
    # Minutes to the nearest park by plain Dijkstra (scipy) from every park, on the undirected network.
    from layers.access import settings_of
    net, cfg = merged_inputs["net"], settings_of(merged_region, merged_inputs["net"].model)
    routed, park_idx, _, park_why = net.attach(net.road, merged_inputs["parks"], cfg["max_snap_m"], cfg["access_speed_kmh"])
    routed, cell_idx, _, _ = net.attach(routed, cells, cfg["max_snap_m"], cfg["access_speed_kmh"])
    times = routed.travel_times(park_idx[pd.isna(pd.Series(park_why, dtype=object)).to_numpy()], cell_idx)
    nearest_park = np.where(np.isfinite(times).any(axis=0), np.fmin.reduce(times, axis=0), np.nan) / 60.0
    counted = 0
    for half, (_, row) in zip(halves, got.iterrows()):
        assert row["access_method"].startswith("polygon")
        inside = shapely.contains_xy(half, lon, lat)
        people = people_all[inside]
        assert row["access_cells"] == inside.sum() > 5
        counted += inside.sum()
        for corridor in ("ql1a", "ct01"):
            minutes = ref[f"minutes_to_{corridor}"].to_numpy()[inside]
            timed = np.isfinite(minutes)                                       # cells off the network have no time
            order = np.argsort(minutes[timed])
            cum = np.cumsum(people[timed][order])
            assert row[f"median_minutes_to_{corridor}"] == pytest.approx(minutes[timed][order][cum >= cum[-1] / 2][0], abs=0.051)
        nearest = nearest_park[inside]
        share = people[nearest <= 30].sum() / people[np.isfinite(nearest)].sum()
        assert row["share_within_30_min_of_park"] == pytest.approx(share, abs=1e-4)
        assert row["people_within_30_min_of_park"] == pytest.approx(share * sub.loc[row.name, "population"], abs=1)
    assert counted == len(cells)                                                   # the split loses and doubles no cell


def test_communes_page_withholds_park_figures_when_parks_are_not_published(report, tmp_path):
    """Licence handling: park-derived columns leave the page (and its CSV) with the parks layer."""
    import html
    import io
    import re
    from urllib.parse import unquote

    from maps.communes_page import communes_html
    csv = tmp_path / "communes.csv"
    report.drop(columns="geometry").to_csv(csv, index=False)
    page = communes_html(csv, generated="x", summary=report.attrs["summary"], parks_public=False)
    assert "<th>KCN</th>" not in page and "min of a park</th>" not in page and "withheld" in page
    assert "median minutes to QL1A</th>" in page                               # not derived from parks: kept
    link = re.search(r'href="data:text/csv;charset=utf-8,([^"]+)"', page).group(1)
    table = pd.read_csv(io.StringIO(unquote(html.unescape(link))))
    assert not [c for c in table.columns if c.startswith(("parks", "people_within", "share_within"))]
    assert len(table) == 99
