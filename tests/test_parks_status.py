"""Statuses from the sources: every park's status class and its basis from industrial_parks_status_sourced.csv and
the facts file; the indicators page counts the sourced parks (not the placed points) and compares like with like."""

import pandas as pd
import pytest

from layers.parks import STATUS_CLASSES, key_of, name_aliases, park_inventory, status_class_of
from layers.region import BUNDLED_DATA_DIR, load_region


@pytest.fixture(scope="module")
def region_open():
    return load_region("bac-giang", data_dir=BUNDLED_DATA_DIR)


@pytest.fixture(scope="module")
def inventory(region_open):
    return park_inventory(region_open)


@pytest.fixture(scope="module")
def sourced(region_open):
    """Every per-park statement of the two sourced files (province totals left out), keyed as the tool keys them."""
    aliases = name_aliases(region_open)
    rows = []
    for file, url in (("industrial_parks_status_sourced.csv", "source_url"), ("industrial_parks_facts.csv", "source")):
        t = pd.read_csv(BUNDLED_DATA_DIR / file)
        t = t[~t["name"].str.startswith("ALL") & t["kind"].isin(["KCN", "CCN"])]
        rows.append(pd.DataFrame({"key": [key_of(n, k, aliases) for n, k in zip(t["name"], t["kind"])], "kind": t["kind"],
                                  "status": t["status"], "url": t[url]}))
    return pd.concat(rows, ignore_index=True)


def test_every_status_is_the_most_advanced_sourced_statement(inventory, sourced):
    inv = inventory.set_index("key")
    assert set(inv["status_class"]) <= set(STATUS_CLASSES)
    for key, group in sourced.groupby("key"):
        parent = key if key in inv.index else next(k for k in inv.index if key in _parents(k))
        best = min((status_class_of(s) for s in group["status"]), key=STATUS_CLASSES.index)
        assert inv.loc[parent, "status_class"] == best or parent != key, (key, inv.loc[parent, "status_class"], best)
        if best != "unknown":
            assert inv.loc[parent, "status_source"].startswith("http"), key


def _parents(key):
    from layers.parks import _parent_keys

    return _parent_keys(key)


@pytest.mark.parametrize("name, basis", [
    ("KCN Hòa Yên", "Decision 1462/QĐ-TTg"),
    ("KCN Mỹ Thái", "investment certificate"), ("KCN Nghĩa Hưng", "investment certificate"),
    ("KCN Song Mai - Nghĩa Trung", "investment certificate"), ("KCN Đồng Phúc", "investment certificate"),
])
def test_parks_shown_as_listed_before_have_their_sourced_status(inventory, name, basis):
    row = inventory.set_index("name").loc[name]
    assert row["status_class"] == "established"
    assert basis in row["status_basis"]


def test_inventory_holds_every_sourced_park_once(inventory, sourced):
    assert inventory["key"].is_unique
    keys = set(inventory["key"])
    for key in set(sourced["key"]):
        assert key in keys or any(key in _parents(k) for k in keys), key
    # the status-file rows that describe a facts park in other words fold into it (region name_aliases)
    assert not inventory["name"].str.contains("VIP project|incl. expansion").any()
    facts = pd.read_csv(BUNDLED_DATA_DIR / "industrial_parks_facts.csv")
    assert (inventory["listed_in"].str.contains("facts")).sum() == facts["name"].nunique()


def test_indicator_counts_are_the_sourced_counts(region_open, inventory, sourced):
    """The page's numbers are those of the sourced rows, whatever is placed on the map; like compared with like."""
    from layers.parks import industrial_parks
    from maps.indicators import compute_indicators, indicators_html

    placed = industrial_parks(region_open)
    rows = {r["id"]: r for r in compute_indicators({"industrial_parks": placed, "industrial_parks_inventory": inventory})}
    best = {}
    for key, group in sourced.groupby("key"):
        inv_key = key if key in set(inventory["key"]) else next(k for k in inventory["key"] if key in _parents(k))
        cls = min((status_class_of(s) for s in group["status"]), key=STATUS_CLASSES.index)
        prev = best.get(inv_key)
        best[inv_key] = cls if prev is None else min(prev, cls, key=STATUS_CLASSES.index)
    kind = {k: k.split(" ")[0] for k in best}
    for k, key in (("KCN", "industrial_parks"), ("CCN", "industrial_clusters")):
        n_all = sum(1 for x in best if kind[x] == k)
        n_approved = sum(1 for x, c in best.items() if kind[x] == k and c in ("operating", "established"))
        n_operating = sum(1 for x, c in best.items() if kind[x] == k and c == "operating")
        assert rows[key]["count"] == n_all
        assert rows[f"{key}_established"]["count"] == n_approved
        assert rows[f"{key}_operating"]["count"] == n_operating
    assert rows["industrial_parks"]["count"] > len(placed[placed["kind"] == "KCN"])   # unplaced parks still counted
    # like with like: the plan's 29 KCN beside the sourced list; the approved beside the reported approved
    assert any(t["text"].startswith("29 khu") for t in rows["industrial_parks"]["targets"])
    assert rows["industrial_parks_established"]["targets"] == []
    assert any("1 967" in r["text"] for r in rows["industrial_parks_established"]["reported"])
    assert any("1462" in r["text"] for r in rows["industrial_parks_established"]["reported"])
    html = indicators_html({"industrial_parks": placed, "industrial_parks_inventory": inventory}, region_id="bac-giang",
                           generated="2026-01-01")
    assert "approved with approved" in html and "planned with planned" in html
    assert "Tỉnh Bắc Giang" in html
