"""Parks by legal status: the registry joined with the sourced status file; the indicators page counts by status."""

import pandas as pd
import pytest

from geo.text import park_key


@pytest.fixture(scope="module")
def parks(region):
    from layers.parks import industrial_parks

    return industrial_parks(region)


def test_every_park_has_a_sourced_status(region, parks):
    from layers.parks import STATUS_CLASSES

    assert set(parks["status_class"]) <= set(STATUS_CLASSES)
    listed = parks["status_class"] == "listed"
    assert parks.loc[~listed, "status_source"].str.contains("http").all()
    assert (parks.loc[listed, "status_source"].str.contains("registry") | parks.loc[listed, "status_source"].str.contains("http")).all()
    # Rows of the sourced file name parks of the registry: their status comes from the file.
    sourced = pd.read_csv(region.path("parks", "status_file"))
    by_key = {f"{k} {park_key(n)}": (s, u) for n, k, s, u in zip(sourced["name"], sourced["kind"], sourced["status"], sourced["source_url"])
              if not n.startswith("ALL")}
    keyed = parks.assign(key=parks["kind"] + " " + parks["name_source"].map(park_key)).set_index("key")
    for key, (status, url) in by_key.items():
        if key in keyed.index and status in ("operating", "established", "planned"):
            row = keyed.loc[key]
            # the most advanced status stated by any source: never less advanced than this row's
            from layers.parks import STATUS_CLASSES as order
            assert order.index(row["status_class"]) <= order.index(status), key
    assert keyed.loc["KCN yen son bac lung", "status_class"] == "planned"
    assert keyed.loc["KCN quang chau", "status_class"] == "operating"


def test_status_counts_agree_with_the_sourced_province_totals(region, parks):
    """The sourced file gives 9 KCN approved for investment (vietdata.vn) and 6 operating: the registry can show
    at most that many; CCN: 55 established, 38 operating (vietnamnews.vn, 2025)."""
    sourced = pd.read_csv(region.path("parks", "status_file"))
    totals = sourced[sourced["name"].str.startswith("ALL")]
    approved = totals[totals["name"].str.contains("vietdata")]
    assert len(approved) == 1 and "9 KCN" in approved["note"].iloc[0] and "6 operating" in approved["note"].iloc[0]
    counts = parks.groupby(["kind", "status_class"]).size()
    kcn_est = int(counts.get(("KCN", "operating"), 0) + counts.get(("KCN", "established"), 0))
    assert 5 <= kcn_est <= 9
    assert 1 <= counts.get(("KCN", "operating"), 0) <= 6
    ccn = totals[totals["name"].str.contains("CCN") & totals["status"].eq("established")]
    assert counts.get(("CCN", "operating"), 0) + counts.get(("CCN", "established"), 0) <= 55 and len(ccn) == 1
    assert counts.sum() == len(parks) == 53       # SOURCES.md: 53 parks inside the province


def test_indicators_page_counts_by_status(parks):
    from maps.indicators import compute_indicators, indicators_html, occupancy_by, status_figures

    st = status_figures(parks)
    assert st["count"].sum() == len(parks)
    rows = {r["id"]: r for r in compute_indicators({"industrial_parks": parks})}
    est = rows["industrial_parks_established"]
    n = int(st[(st["kind"] == "KCN") & st["status_class"].isin(["operating", "established"])]["count"].sum())
    assert est["today"].startswith(f"{n} khu / parks")
    assert any("1 967" in r["text"] for r in est["reported"])
    occ = occupancy_by(parks)
    assert {r["kind"] for r in occ} <= {"KCN", "CCN"} and all(r["known"] + r["unknown"] == r["operating"] for r in occ)
    assert "KCN:" in rows["occupancy"]["today"]
    html = indicators_html({"industrial_parks": parks}, region_id="bac-giang", generated="2026-01-01")
    assert "parks by legal status" in html and "occupancy by kind and district" in html
    assert "Tỉnh Bắc Giang" in html            # the region's name from its config, not hard-coded
    assert "no source document on file" in html  # the urban-share target without a document
    html = indicators_html({"industrial_parks": parks}, region_id="bac-ninh-2025", generated="2026-01-01")
    assert "Bắc Ninh" in html.split("</title>")[0]
