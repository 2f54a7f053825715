"""Vietnamese names and road numbers: normalisation and matching."""

import unicodedata

import pytest

from geo.routing.roadref import match_corridor, parse_refs
from geo.text import fold, nfc, park_key
from layers.region import load_region


def test_nfc_turns_decomposed_text_into_composed():
    decomposed = unicodedata.normalize("NFD", "Lục Ngạn – Sơn Động")
    assert nfc(decomposed) == "Lục Ngạn - Sơn Động"
    assert unicodedata.is_normalized("NFC", nfc(decomposed))


def test_fold_handles_d_and_tone_placement():
    assert fold("ĐỒNG PHÚC") == fold("Đồng Phúc") == "dong phuc"
    assert fold("Hoà") == fold("Hòa")


@pytest.mark.parametrize("a, b", [
    ("KHU CÔNG NGHIỆP VÂN TRUNG – BẮC NINH", "KCN Vân Trung"),
    ("CỤM CÔNG NGHIỆP ĐỒI NGÔ - BẮC NINH", "CCN Đồi Ngô"),
    ("Khu công nghiệp Song Khê - Nội Hoàng, tỉnh Bắc Giang", "KCN Song Khê – Nội Hoàng"),
    ("KHU CÔNG NGHIỆP XUÂN CẨM - HƯƠNG LÂM GIAI ĐOẠN I - BẮC NINH", "KCN Xuân Cẩm - Hương Lâm giai đoạn 1"),
])
def test_park_keys_meet(a, b):
    assert park_key(a) == park_key(b)


def test_park_phases_and_expansions_stay_apart():
    assert park_key("KCN Yên Lư") != park_key("KCN Yên Lư mở rộng")
    assert park_key("KCN Quang Châu") != park_key("KCN Quang Châu 2")


@pytest.fixture(scope="module")
def all_corridors():
    return load_region("bac-giang", data_dir=".").corridors


@pytest.fixture(scope="module")
def corridors(all_corridors):
    """The corridors the action programme names (context roads such as QL5 left out)."""
    return {k: v for k, v in all_corridors.items() if not v.get("context")}


@pytest.mark.parametrize("ref, name, expected", [
    ("QL1A", None, "ql1a"), ("QL.1A", None, "ql1a"), ("QL 1A", None, "ql1a"), ("1A", None, "ql1a"),
    (None, "Quốc lộ 1A", "ql1a"), ("AH1", None, "ql1a"), ("QL.1A;AH1", None, "ql1a"), (None, "QUỐC LỘ 1", "ql1a"),
    ("CT.01", None, "ct01"), ("CT01;AH1", None, "ct01"), (None, "Cao tốc Hà Nội - Bắc Giang", "ct01"),
    (None, "Đường cao tốc Bắc Giang – Lạng Sơn", "ct01"),
    ("QL37", None, "ql37"), (None, "Quốc lộ 37", "ql37"), ("QL.31", None, "ql31"), ("QL17", None, "ql17"),
    ("QL.279", None, "ql279"), (None, "Vành đai 4", "ring4"), (None, "Đường Vành đai IV - Vùng Thủ đô", "ring4"),
    ("CT.39", None, "ring5"), (None, "Ring Road V", "ring5"),
])
def test_corridor_patterns_match(corridors, ref, name, expected):
    assert match_corridor(ref, name, corridors) == expected


@pytest.mark.parametrize("ref, name", [
    ("QL1B", None), ("QL.18", None), (None, "Tỉnh lộ 279"), ("ĐT.295", None), ("ĐT 398", None),
    (None, "Quốc lộ 3"), (None, "Phố Hoàng Văn Thụ"), (None, "Quốc lộ 37B"), ("QL.4A", None), (None, None),
])
def test_other_roads_do_not_match(corridors, ref, name):
    assert match_corridor(ref, name, corridors) is None


def test_parse_refs_keeps_every_code():
    assert parse_refs("QL.1A;AH1;CT.01") == ["QL1A", "AH1", "CT1"]
    assert parse_refs("Tỉnh lộ 295B") == ["DT295B"]


def test_context_roads_keep_their_own_number(all_corridors):
    assert match_corridor("QL1B", None, all_corridors) == "ql1b"
    assert match_corridor(None, "Quốc lộ 18", all_corridors) == "ql18"
    assert match_corridor("QL.1A;AH1", None, all_corridors) == "ql1a"
