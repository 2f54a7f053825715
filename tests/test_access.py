"""Access measures: minutes to targets and labour catchments against brute force."""

import networkx as nx
import numpy as np
import pytest

from geo.access import Catchment, minutes_to_targets
from geo.routing import Router


def random_network(seed=0, n=300):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 20000, size=(n, 2))
    G = nx.Graph()
    from scipy.spatial import cKDTree

    tree = cKDTree(xy)
    for i, (dist, nbrs) in enumerate(zip(*tree.query(xy, k=4))):
        for d, j in zip(dist[1:], nbrs[1:]):
            G.add_edge(i, int(j), weight=d / (rng.uniform(20, 60) / 3.6))
    u, v = zip(*G.edges)
    w = [G.edges[e]["weight"] for e in G.edges]
    return Router.from_arrays(np.arange(n), xy[:, 0], xy[:, 1], u, v, w), G, xy


def test_minutes_to_targets_matches_networkx():
    router, G, xy = random_network()
    targets = {"a": [5, 17], "b": [200]}
    ox, oy = xy[:40, 0] + 30, xy[:40, 1]  # 30 m off the network: access leg at 20 km/h = 5.4 s
    table = minutes_to_targets(router, ox, oy, targets, max_snap_m=500)
    dist_a = nx.multi_source_dijkstra_path_length(G, {5, 17}, weight="weight")
    for i in range(40):
        node = router.snap([ox[i]], [oy[i]], 500)[0][0]
        expected = dist_a.get(int(node), np.nan)
        access = np.hypot(ox[i] - xy[node, 0], oy[i] - xy[node, 1]) / (20 / 3.6)
        if np.isnan(expected):
            assert np.isnan(table.loc[i, "minutes_to_a"]) and "unreachable" in table.loc[i, "reason_a"]
        else:
            assert table.loc[i, "minutes_to_a"] == pytest.approx((expected + access) / 60, abs=1e-9)


def test_missing_target_gives_a_reason_not_zero():
    router, _, xy = random_network()
    table = minutes_to_targets(router, xy[:3, 0], xy[:3, 1], {"ct01": []}, missing={"ct01": "CT.01 is not in the 2018 network"})
    assert table["minutes_to_ct01"].isna().all()
    assert (table["reason_ct01"] == "CT.01 is not in the 2018 network").all()


def test_catchment_against_brute_force():
    router, G, xy = random_network(seed=3)
    rng = np.random.default_rng(4)
    cells = rng.uniform(-2000, 22000, size=(800, 2))
    people = rng.integers(0, 500, size=800).astype(float)
    people[::50] = np.nan  # unknown population is not counted as people
    catch = Catchment(router, cells[:, 0], cells[:, 1], people, max_snap_m=1500, access_speed_kmh=20)
    origins = np.array([0, 10, 99])
    got = catch.people_within(origins, minutes=(10, 20))
    # Brute force: every cell snapped to its nearest node of the largest component, networkx distances, explicit loop.
    largest = np.array(sorted(max(nx.connected_components(G), key=len)))
    for row, o in enumerate(origins):
        dist = nx.single_source_dijkstra_path_length(G, int(o), weight="weight")
        for j, limit in enumerate((10, 20)):
            total = 0.0
            for (cx, cy), p in zip(cells, people):
                if not np.isfinite(p) or p <= 0:
                    continue
                d2 = (xy[largest, 0] - cx) ** 2 + (xy[largest, 1] - cy) ** 2
                k = int(np.argmin(d2))
                node, d2 = int(largest[k]), {int(largest[k]): d2[k]}
                if np.sqrt(d2[node]) > 1500 or node not in dist:
                    continue
                if dist[node] + np.sqrt(d2[node]) / (20 / 3.6) <= limit * 60:
                    total += p
            assert got[row, j] == pytest.approx(total)
    assert (got[:, 1] >= got[:, 0]).all()
    assert catch.unattached_people > 0
