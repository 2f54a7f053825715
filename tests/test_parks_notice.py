"""The banner naming sourced parks without a position (maps/parks_notice.py)."""

from maps import parks_notice


def _summary(missing):
    return {"layers": {"industrial_parks": {"without_position": missing,
                                             "by_position_precision": {"commune": 3, "osm_polygon": 2, "commune_2025_unit": 4}}}}


def test_banner_counts_names_and_says_how_to_add_positions():
    html = parks_notice.banner_html(_summary([{"name": "KCN <Đình Trám>", "kind": "KCN", "reason": "no open position"}]))
    assert 'id="parks-banner"' in html and "<b>1</b>" in html and "--parks FILE" in html
    assert "KCN &lt;Đình Trám&gt; — no open position" in html          # escaped
    assert "7 others are placed at commune level" in html              # commune + commune_2025_unit
    assert parks_notice.SAMPLE_PARKS_FILE in html


def test_no_banner_when_every_park_is_placed_and_never_twice():
    assert parks_notice.banner_html(_summary([])) == ""
    page = "<html><body class='x'><p>hi</p></body></html>"
    summary = _summary([{"name": "A", "reason": "r"}])
    once = parks_notice.add_to_page(page, summary)
    assert once.count('id="parks-banner"') == 1 and once.index("parks-banner") > once.index("<body")
    assert parks_notice.add_to_page(once, summary) == once
    assert parks_notice.add_to_page(page, _summary([])) == page
