"""The routing hierarchy's disk cache (geo/routing/hierarchy_cache.py): a bad entry is detected, discarded and rebuilt.

Tampered, truncated, forged (digest recomputed), out-of-range, compressed,
version-skewed and other-network entries: never used, never a crash, and
the answers equal a clean run's — on random graphs and on the real Bắc
Giang network.
"""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pyogrio
import pytest
from pyproj import Transformer
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from geo.routing import hierarchy_cache, router as routing

from geo import settings
from geo.routing.hierarchy import Hierarchy
from geo.routing.hierarchy_cache import CacheError, cache_path, cached_hierarchy, load
from geo.routing.router import Router


@pytest.fixture(autouse=True)
def _cache_in(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "hierarchy_cache", True)
    monkeypatch.setattr(settings, "cache_folder", tmp_path)
    monkeypatch.setattr(settings, "progress", False)
    monkeypatch.setattr(routing, "HIERARCHY_AFTER_SEARCHES", 0)


def _graph(seed=3, n=400, m=2000):
    rng = np.random.default_rng(seed)
    g = csr_matrix((rng.random(m) * 100 + 1, (rng.integers(0, n, m), rng.integers(0, n, m))), shape=(n, n))
    g.sum_duplicates()
    return g


def _rewrite(path, change, forge_digest=False):
    """Rewrite a cache entry after ``change(arrays, meta)``; with ``forge_digest`` its digest is recomputed."""
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(arrays.pop("meta").tobytes())
    change(arrays, meta)
    if forge_digest:
        meta.pop("digest", None)
        meta["digest"] = hierarchy_cache._digest(arrays, meta)
    np.savez(path, **arrays, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))


def _swap_two(arrays, meta):
    order = arrays["order"].copy()
    order[[0, 1]] = order[[1, 0]]
    arrays["order"] = order


def _out_of_range(arrays, meta):
    order = arrays["order"].copy()
    order[-1] = len(order) + 1_000_000
    arrays["order"] = order


def _other_network(arrays, meta):
    """Arcs of another network, with a key that fits them (a file copied under this network's name)."""
    n = len(arrays["order"])
    arrays["indices"] = (arrays["indices"] + 1) % n
    meta["key"] = hierarchy_cache.network_key(csr_matrix((arrays["weights"], arrays["indices"], arrays["indptr"]), shape=(n, n)))


def _reference(g):
    return dijkstra(g, directed=True)


def test_a_clean_entry_is_loaded_and_exact(tmp_path):
    g = _graph()
    cached_hierarchy(g)
    path = cache_path(g)
    assert path.name.startswith(f"cch-v{hierarchy_cache.FORMAT}-400-")
    back = load(path, g)
    assert back.stats.reused_order
    np.testing.assert_allclose(back.one_to_all(np.arange(400)), _reference(g))


@pytest.mark.parametrize("change, forge, reason", [
    (_swap_two, False, "content digest does not match"),
    (_out_of_range, True, "not a permutation"),
    (lambda a, m: m.__setitem__("format", 1), True, "cache format 1"),
    (lambda a, m: a.__setitem__("indices", (a["indices"] + 1) % len(a["order"])), True, "network key does not match"),
    (_other_network, True, "another network"),
    (lambda a, m: a.__setitem__("weights", -a["weights"]), True, "not finite and ≥ 0"),
    (lambda a, m: a.__setitem__("order", a["order"].astype(np.float64)), True, "unexpected layout"),
    (lambda a, m: a.__setitem__("order", a["order"][:-1]), True, "items, the network needs"),
])
def test_a_bad_entry_is_discarded_and_rebuilt(change, forge, reason, caplog):
    g = _graph()
    cached_hierarchy(g)
    path = cache_path(g)
    _rewrite(path, change, forge_digest=forge)
    with pytest.raises(CacheError, match=reason):
        load(path, g)
    rebuilt = cached_hierarchy(g)                       # warning, rebuild, a fresh entry
    assert reason.split()[0] in caplog.text and "discarded, rebuilding" in caplog.text
    np.testing.assert_allclose(rebuilt.one_to_all(np.arange(400)), _reference(g))
    load(path, g)                                       # the new entry passes


def test_a_forged_digest_still_cannot_change_the_answers():
    """Only the order is stored: any permutation gives exact times, customised from the graph's own weights."""
    g = _graph()
    cached_hierarchy(g)
    _rewrite(cache_path(g), _swap_two, forge_digest=True)
    np.testing.assert_allclose(load(cache_path(g), g).one_to_all(np.arange(400)), _reference(g))


@pytest.mark.parametrize("damage", ["truncated", "empty", "garbage", "compressed", "huge header", "old format"])
def test_damaged_files_never_crash(damage, caplog):
    g = _graph()
    h = cached_hierarchy(g)
    path = cache_path(g)
    data = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "garbage":
        path.write_bytes(np.random.default_rng(0).bytes(len(data)))
    elif damage == "compressed":
        with np.load(path) as z:
            arrays = {k: z[k] for k in z.files}
        np.savez_compressed(path, **arrays)
    elif damage == "huge header":       # a member claiming 10^12 items: refused before any allocation
        with zipfile.ZipFile(path) as zf:
            members = {i.filename: zf.read(i) for i in zf.infolist()}
        members["order.npy"] = members["order.npy"].replace(f"({g.shape[0]},)".encode(), b"(1000000000000,)", 1)
        with zipfile.ZipFile(path, "w") as zf:
            for name, blob in members.items():
                zf.writestr(name, blob)
    elif damage == "old format":        # version 1 stored customised times (the tampering target)
        t = h.topology
        np.savez(path, order=t.order, up_ptr=t.up_ptr, up_head=t.up_head, parent=t.parent, arc=t.arc_of_input,
                 upward=t.upward_input, indptr=t.indptr, indices=t.indices, triangles=t.triangles,
                 fwd=h.fwd * 0.5, bwd=h.bwd * 0.5, weights=h.weights, stats=np.zeros(7))
    with pytest.raises(CacheError):
        load(path, g)
    rebuilt = cached_hierarchy(g)
    assert "discarded, rebuilding" in caplog.text
    np.testing.assert_allclose(rebuilt.one_to_all(np.arange(400)), _reference(g))


def test_entries_of_older_formats_are_removed(tmp_path):
    g = _graph()
    folder = tmp_path / "hierarchy"
    folder.mkdir()
    old = folder / "cch-v1-400-0123456789abcdef0123.npz"
    old.write_bytes(b"old")
    cached_hierarchy(g)
    assert not old.exists() and cache_path(g).exists()


def test_save_and_load_without_a_graph(tmp_path):
    g = _graph()
    h = Hierarchy.build(g)
    hierarchy_cache.save(h, tmp_path / "h.npz")
    np.testing.assert_allclose(hierarchy_cache.load(tmp_path / "h.npz").one_to_all(np.arange(400)), h.one_to_all(np.arange(400)))


# ---------------------------------------------------------------------- the real network
@pytest.fixture(scope="module")
def bacgiang_arrays(shared_data):
    path = shared_data / "bacgiang_roads_osm2018_bbox03.gpkg"
    edges = pyogrio.read_dataframe(path, layer="edges", columns=["u", "v", "length_m"], read_geometry=False)
    nodes = pyogrio.read_dataframe(path, layer="nodes", columns=["node_id", "x", "y"], read_geometry=False)
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True).transform(nodes.x.to_numpy(), nodes.y.to_numpy())
    return nodes.node_id.to_numpy(), x, y, edges.u.to_numpy(), edges.v.to_numpy(), edges.length_m.to_numpy() / (40 / 3.6)


def test_tampered_cache_on_the_real_network_gives_the_clean_answers(bacgiang_arrays, caplog):
    """The issue's case: a changed cache entry used to shift access minutes by up to 143; now it is rebuilt."""
    def router():
        return Router.from_arrays(*bacgiang_arrays)

    rng = np.random.default_rng(20)
    clean_router = router()
    origins, targets = rng.choice(clean_router.n, 53, replace=False), rng.choice(clean_router.n, 9, replace=False)
    clean = clean_router.travel_times(origins, targets)
    path = cache_path(clean_router.graph)
    assert path.exists()

    def slow_down(arrays, meta):                   # what an attacker would do: make every stored arc slower
        arrays["weights"] = arrays["weights"] * 3
    _rewrite(path, slow_down)
    np.testing.assert_array_equal(router().travel_times(origins, targets), clean)
    assert "content digest does not match" in caplog.text
    _rewrite(path, _out_of_range, forge_digest=True)   # used to segfault (exit 139)
    np.testing.assert_array_equal(router().travel_times(origins, targets), clean)
    assert "not a permutation" in caplog.text
