"""Contraction hierarchy (CH): exact point-to-point, many-to-many and one-to-all travel times.

A contraction hierarchy (Geisberger et al., 2008) ranks the nodes and
"contracts" them one by one from the least important: when a node is taken
out, a *shortcut* edge is added between two of its remaining neighbours
whenever the path through it is the only shortest one (checked by a small
local "witness" search). Afterwards every shortest path can be found as an
*up-down* path: first only towards higher-ranked nodes, then only towards
lower-ranked ones. So

* **many-to-many** (parks × destinations, the access job): one small upward
  search per target, stored in per-node *buckets*, then one small upward
  search per origin that scans the buckets it meets (Knopp et al., 2007).
  A *target set* (the nearest of several nodes, e.g. any node of a corridor)
  is one multi-source upward search.
  Upward searches use *stall-on-demand* (a node reached more cheaply from a
  higher neighbour is not expanded), buckets are linked lists over reused
  work arrays, so a query costs only the nodes it touches (0.65 ms for
  53 × 9 on 57,548 nodes, was 1.4 ms with a growable heap, 8 ms without stalling;
  ``scripts/bench_routing.py``).
* **one-to-all** (a full row of the matrix): PHAST (Delling et al., 2011) —
  an upward search from the origin, then one linear sweep over all nodes in
  descending rank, relaxing the arcs that come down from higher nodes.

Results are exact: shortcuts are only skipped when a witness path of equal
or smaller length exists, so times equal plain Dijkstra up to the order in
which floating-point sums are taken (~1e-12 s; tested against networkx to
1e-6 s). Weights are float64 (seconds), never rounded.

**Re-customisation.** :meth:`Hierarchy.build` computes a node order (the
expensive, heuristic part: lazy priority queue of "edge difference +
contracted neighbours"). :meth:`Hierarchy.build` with ``order=`` contracts
in a given order — new weights (a speed change, calibration) or a few extra
nodes and edges (a scenario road, points attached to the network) reuse the
order of the base network and skip the priority queue; this is the
re-customisation step. Its measured cost is in ``scripts/bench_routing.py``.

The loops are compiled with numba (``cache=True``: compiled once per
machine, then loaded from ``__pycache__``); numpy/scipy have no way to run
a priority-queue contraction or a bucket scan without a Python loop per node.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy.sparse import csr_matrix

log = logging.getLogger(__name__)

#: Nodes a witness search may settle before giving up (a shortcut is then added: always exact, only bigger).
WITNESS_SETTLE_LIMIT = 200
#: The same limit while estimating priorities (cheaper; only the order depends on it).
PRIORITY_SETTLE_LIMIT = 40


# ====================================================================== heap (numba)
@njit(cache=True)
def _push(keys, vals, size, key, val):
    if size == len(keys):
        nk = np.empty(2 * len(keys), np.float64)
        nv = np.empty(2 * len(vals), np.int64)
        nk[:size] = keys[:size]
        nv[:size] = vals[:size]
        keys, vals = nk, nv
    i = size
    keys[i] = key
    vals[i] = val
    while i > 0:
        p = (i - 1) >> 1
        if keys[p] <= keys[i]:
            break
        keys[p], keys[i] = keys[i], keys[p]
        vals[p], vals[i] = vals[i], vals[p]
        i = p
    return keys, vals, size + 1


@njit(cache=True)
def _pop(keys, vals, size):
    key, val = keys[0], vals[0]
    size -= 1
    keys[0] = keys[size]
    vals[0] = vals[size]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= size:
            break
        child = left
        if left + 1 < size and keys[left + 1] < keys[left]:
            child = left + 1
        if keys[i] <= keys[child]:
            break
        keys[child], keys[i] = keys[i], keys[child]
        vals[child], vals[i] = vals[i], vals[child]
        i = child
    return key, val, size


@njit(cache=True, inline="always")
def _hpush(keys, vals, size, key, val):
    """Push onto a binary heap whose arrays are big enough (no growth); returns the new size."""
    i = size
    while i > 0:
        p = (i - 1) >> 1
        if keys[p] <= key:
            break
        keys[i] = keys[p]
        vals[i] = vals[p]
        i = p
    keys[i] = key
    vals[i] = val
    return size + 1


@njit(cache=True, inline="always")
def _hpop_into(keys, vals, size):
    """Remove the top of the heap (read it before); returns the new size."""
    size -= 1
    key = keys[size]
    val = vals[size]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        if child + 1 < size and keys[child + 1] < keys[child]:
            child += 1
        if key <= keys[child]:
            break
        keys[i] = keys[child]
        vals[i] = vals[child]
        i = child
    if size > 0:
        keys[i] = key
        vals[i] = val
    return size


# ====================================================================== contraction (numba)
# A side of the dynamic graph (out-arcs or in-arcs) is a tuple
# (start, count, capacity, neighbour pool, weight pool, [pool end]): node v's arcs are
# pool[start[v] : start[v] + count[v]]; a full list moves to the end of the pool.

@njit(cache=True)
def _append(side, v, x, w):
    """Arc v→x with weight w on one side: keep the minimum if present. False if the pool is full."""
    start, cnt, cap, nb, wt, end = side
    s0 = start[v]
    c = cnt[v]
    for k in range(s0, s0 + c):
        if nb[k] == x:
            if w < wt[k]:
                wt[k] = w
            return True
    if c == cap[v]:
        size = max(4, 2 * c)
        if end[0] + size > len(nb):
            return False
        e = end[0]
        nb[e:e + c] = nb[s0:s0 + c]
        wt[e:e + c] = wt[s0:s0 + c]
        start[v] = e
        cap[v] = size
        end[0] = e + size
        s0 = e
    nb[s0 + c] = x
    wt[s0 + c] = w
    cnt[v] = c + 1
    return True


@njit(cache=True)
def _remove(side, v, x):
    """Drop x from v's list (swap with the last entry)."""
    start, cnt, cap, nb, wt, end = side
    s0 = start[v]
    c = cnt[v]
    for k in range(s0, s0 + c):
        if nb[k] == x:
            nb[k] = nb[s0 + c - 1]
            wt[k] = wt[s0 + c - 1]
            cnt[v] = c - 1
            return


@njit(cache=True)
def _witness(src, skip, limit, settle_cap, out, dist, touched, hk, hv, mark, wanted):
    """Local Dijkstra from ``src`` avoiding ``skip``, up to ``limit``, until the ``wanted`` nodes
    flagged in ``mark`` are settled; returns (#touched, heap arrays)."""
    start, cnt, _, nb, wt, _ = out
    nt = 0
    dist[src] = 0.0
    touched[nt] = src
    nt += 1
    size = 0
    hk, hv, size = _push(hk, hv, size, 0.0, src)
    settled = 0
    while size > 0:
        d, u, size = _pop(hk, hv, size)
        if d > dist[u]:
            continue
        if d > limit or settled >= settle_cap:
            break
        settled += 1
        if mark[u]:
            wanted -= 1
            if wanted == 0:
                break
        for k in range(start[u], start[u] + cnt[u]):
            x = nb[k]
            if x == skip:
                continue
            nd = d + wt[k]
            if nd < dist[x]:
                if dist[x] == np.inf:
                    touched[nt] = x
                    nt += 1
                dist[x] = nd
                hk, hv, size = _push(hk, hv, size, nd, x)
    return nt, hk, hv


@njit(cache=True)
def _process(v, apply, settle_cap, out, inn, dist, touched, hk, hv, mark, up, dn):
    """Shortcuts needed to contract v: counted (apply=False), or added, v's arcs recorded as
    upward arcs and v taken out of its neighbours' lists. Returns (#shortcuts, degree, ok, hk, hv)."""
    o_start, o_cnt, _, o_nb, o_wt, _ = out
    i_start, i_cnt, _, i_nb, i_wt, _ = inn
    ok = True
    shortcuts = 0
    os0, oc = o_start[v], o_cnt[v]
    is0, ic = i_start[v], i_cnt[v]
    degree = oc + ic
    max_out = 0.0
    for k in range(os0, os0 + oc):
        if o_wt[k] > max_out:
            max_out = o_wt[k]
    for i in range(is0, is0 + ic):
        u = i_nb[i]
        w_uv = i_wt[i]
        wanted = 0
        for k in range(os0, os0 + oc):
            x = o_nb[k]
            if x != u:
                mark[x] = True
                wanted += 1
        if wanted == 0:
            continue
        nt, hk, hv = _witness(u, v, w_uv + max_out, settle_cap, out, dist, touched, hk, hv, mark, wanted)
        for k in range(os0, os0 + oc):
            x = o_nb[k]
            mark[x] = False
            if x == u:
                continue
            via = w_uv + o_wt[k]
            if dist[x] > via:
                shortcuts += 1
                if apply:
                    ok = ok and _append(out, u, x, via) and _append(inn, x, u, via)
            # lists of u may have moved: v's own lists never move while v is processed
        for j in range(nt):
            dist[touched[j]] = np.inf
        if not ok:
            return shortcuts, degree, ok, hk, hv
    if apply:
        ut, uh, uw, uk = up
        dt, dh, dw, dk = dn
        if uk[0] + o_cnt[v] > len(ut) or dk[0] + i_cnt[v] > len(dt):
            return shortcuts, degree, False, hk, hv
        for k in range(o_start[v], o_start[v] + o_cnt[v]):
            ut[uk[0]] = v
            uh[uk[0]] = o_nb[k]
            uw[uk[0]] = o_wt[k]
            uk[0] += 1
        for i in range(i_start[v], i_start[v] + i_cnt[v]):
            dt[dk[0]] = v
            dh[dk[0]] = i_nb[i]
            dw[dk[0]] = i_wt[i]
            dk[0] += 1
        for k in range(o_start[v], o_start[v] + o_cnt[v]):
            _remove(inn, o_nb[k], v)
        for i in range(i_start[v], i_start[v] + i_cnt[v]):
            _remove(out, i_nb[i], v)
    return shortcuts, degree, ok, hk, hv


@njit(cache=True)
def _grow3(a, b, c):
    na = np.empty(2 * len(a) + 16, np.int64)
    nb = np.empty(2 * len(b) + 16, np.int64)
    nc = np.empty(2 * len(c) + 16, np.float64)
    na[:len(a)] = a
    nb[:len(b)] = b
    nc[:len(c)] = c
    return na, nb, nc


@njit(cache=True)
def _side(n, tails, heads, w, pool_size):
    cnt0 = np.zeros(n, np.int64)
    for t in tails:
        cnt0[t] += 1
    start = np.zeros(n, np.int64)
    cap = np.empty(n, np.int64)
    pos = 0
    for v in range(n):
        start[v] = pos
        cap[v] = max(cnt0[v], 2)
        pos += cap[v]
    nb = np.empty(max(pool_size, 2 * pos), np.int64)
    wt = np.empty(len(nb), np.float64)
    cnt = np.zeros(n, np.int64)
    end = np.array([pos], np.int64)
    side = (start, cnt, cap, nb, wt, end)
    for k in range(len(tails)):
        _append(side, tails[k], heads[k], w[k])
    return side


@njit(cache=True)
def _contract(n, rows, cols, data, order, witness_cap, priority_cap, pool_size):
    """Contract all nodes; ``order`` (len n) fixes the order, an empty one lets priorities choose.

    Returns (ok, rank, up arcs tail/head/weight, down arcs tail/head/weight) where an up arc
    v→x and a down arc v←u (stored as tail v, head u) always go to a higher rank. ``ok`` is
    False when ``pool_size`` was too small (call again with a bigger one).
    """
    out = _side(n, rows, cols, data, pool_size)
    inn = _side(n, cols, rows, data, pool_size)
    dist = np.full(n, np.inf)
    touched = np.empty(n, np.int64)
    mark = np.zeros(n, np.bool_)
    hk = np.empty(64, np.float64)
    hv = np.empty(64, np.int64)
    up = (np.empty(pool_size, np.int64), np.empty(pool_size, np.int64), np.empty(pool_size, np.float64),
          np.zeros(1, np.int64))
    dn = (np.empty(pool_size, np.int64), np.empty(pool_size, np.int64), np.empty(pool_size, np.float64),
          np.zeros(1, np.int64))
    rank = np.full(n, -1, np.int64)
    ok = True
    if len(order) == n:
        for r in range(n):
            v = order[r]
            _, _, ok, hk, hv = _process(v, True, witness_cap, out, inn, dist, touched, hk, hv, mark, up, dn)
            if not ok:
                break
            rank[v] = r
    else:
        deleted = np.zeros(n, np.int64)
        prio = np.zeros(n, np.float64)
        done = np.zeros(n, np.bool_)
        qk = np.empty(n + 16, np.float64)
        qv = np.empty(n + 16, np.int64)
        qs = 0
        for v in range(n):
            s, deg, _, hk, hv = _process(v, False, priority_cap, out, inn, dist, touched, hk, hv, mark, up, dn)
            prio[v] = 2.0 * s - deg
            qk, qv, qs = _push(qk, qv, qs, prio[v], v)
        r = 0
        o_start, o_cnt = out[0], out[1]
        i_start, i_cnt = inn[0], inn[1]
        nbrs = np.empty(n, np.int64)
        seen = np.zeros(n, np.bool_)
        while qs > 0:
            p, v, qs = _pop(qk, qv, qs)
            if done[v] or p != prio[v]:
                continue
            s, deg, _, hk, hv = _process(v, False, priority_cap, out, inn, dist, touched, hk, hv, mark, up, dn)
            newp = 2.0 * s - deg + deleted[v]
            if qs > 0 and newp > qk[0]:
                prio[v] = newp
                qk, qv, qs = _push(qk, qv, qs, newp, v)
                continue
            # neighbours, before v's lists are consumed
            nn = 0
            for k in range(o_start[v], o_start[v] + o_cnt[v]):
                nbrs[nn] = out[3][k]
                nn += 1
            for k in range(i_start[v], i_start[v] + i_cnt[v]):
                nbrs[nn] = inn[3][k]
                nn += 1
            _, _, ok, hk, hv = _process(v, True, witness_cap, out, inn, dist, touched, hk, hv, mark, up, dn)
            if not ok:
                break
            done[v] = True
            rank[v] = r
            r += 1
            # neighbours: one more contracted neighbour; their priority is refreshed lazily when popped
            for k in range(nn):
                x = nbrs[k]
                if seen[x]:
                    continue  # listed twice (both directions)
                seen[x] = True
                deleted[x] += 1
            for k in range(nn):
                seen[nbrs[k]] = False
    k1 = up[3][0]
    k2 = dn[3][0]
    return (ok, rank, up[0][:k1].copy(), up[1][:k1].copy(), up[2][:k1].copy(),
            dn[0][:k2].copy(), dn[1][:k2].copy(), dn[2][:k2].copy())


# ====================================================================== queries (numba)
@njit(cache=True)
def _upward_stalled(starts, start_d, ptr, idx, w, sptr, sidx, sw, dist, touched, hk, hv):
    """Upward Dijkstra from ``starts`` with *stall-on-demand* (Geisberger et al., 2008); returns #touched.

    ``sptr/sidx/sw`` are the arcs *into* each node from higher-ranked nodes (for a forward
    search: the down graph; for a backward search: the up graph). A node u settled at d is
    *stalled* — its arcs are not relaxed — when some higher x already has
    ``dist[x] + w(x → u) < d``: then no shortest path continues upward through u at d.
    Stalled nodes keep their (valid, not necessarily shortest) times, so bucket scans over
    them stay exact: the minimum is still reached through the non-stalled meeting node.
    ``hk``/``hv`` (the heap) must hold every push: len(starts) + the arcs of ``ptr`` suffice,
    so the heap never grows and no array is returned (returning arrays from numba
    functions costs reference counting on every push: this halved the query time).
    """
    nt = 0
    size = 0
    for i in range(len(starts)):
        s = starts[i]
        if start_d[i] < dist[s]:
            if dist[s] == np.inf:
                touched[nt] = s
                nt += 1
            dist[s] = start_d[i]
            size = _hpush(hk, hv, size, start_d[i], s)
    while size > 0:
        d = hk[0]
        u = hv[0]
        size = _hpop_into(hk, hv, size)
        if d > dist[u]:
            continue
        stalled = False
        for k in range(sptr[u], sptr[u + 1]):
            if dist[sidx[k]] + sw[k] < d:
                stalled = True
                break
        if stalled:
            continue
        for k in range(ptr[u], ptr[u + 1]):
            x = idx[k]
            nd = d + w[k]
            if nd < dist[x]:
                if dist[x] == np.inf:
                    touched[nt] = x
                    nt += 1
                dist[x] = nd
                size = _hpush(hk, hv, size, nd, x)
    return nt


@njit(cache=True)
def _many_to_many(up_ptr, up_idx, up_w, dn_ptr, dn_idx, dn_w, sources, group_ptr, group_nodes, out,
                  dist, touched, head, hk, hv):
    """out[i, j] = min over the nodes of group j of the time sources[i] → node (inf if none).

    Work arrays (``dist`` all inf, ``touched``, ``head`` all −1; length n) are reused between
    calls and left as they were found, so a call costs only the nodes its searches touch.
    Buckets are linked lists: ``head[x]`` is the newest entry at node x, ``e_next`` the next one.
    """
    k = len(group_ptr) - 1
    # 1. backward upward searches (one per target group) → buckets
    e_group = np.empty(1024, np.int64)
    e_next = np.empty(1024, np.int64)
    e_dist = np.empty(1024, np.float64)
    bucket_nodes = np.empty(1024, np.int64)
    nb = 0
    ne = 0
    for j in range(k):
        g = group_nodes[group_ptr[j]:group_ptr[j + 1]]
        nt = _upward_stalled(g, np.zeros(len(g)), dn_ptr, dn_idx, dn_w, up_ptr, up_idx, up_w,
                             dist, touched, hk, hv)
        for t in range(nt):
            x = touched[t]
            if ne == len(e_group):
                e_group, e_next, e_dist = _grow3(e_group, e_next, e_dist)
            if head[x] < 0:
                if nb == len(bucket_nodes):
                    grown = np.empty(2 * nb, np.int64)
                    grown[:nb] = bucket_nodes
                    bucket_nodes = grown
                bucket_nodes[nb] = x
                nb += 1
            e_group[ne] = j
            e_dist[ne] = dist[x]
            e_next[ne] = head[x]
            head[x] = ne
            ne += 1
            dist[x] = np.inf
    # 2. forward upward search per source, scanning buckets
    one = np.zeros(1)
    one_source = np.empty(1, np.int64)
    for i in range(len(sources)):
        row = out[i]
        one_source[0] = sources[i]
        nt = _upward_stalled(one_source, one, up_ptr, up_idx, up_w, dn_ptr, dn_idx, dn_w,
                             dist, touched, hk, hv)
        for t in range(nt):
            x = touched[t]
            d = dist[x]
            p = head[x]
            while p >= 0:
                c = d + e_dist[p]
                if c < row[e_group[p]]:
                    row[e_group[p]] = c
                p = e_next[p]
            dist[x] = np.inf
    for t in range(nb):
        head[bucket_nodes[t]] = -1
    return None


@njit(cache=True)
def _phast(n, up_ptr, up_idx, up_w, sweep_ptr, sweep_src, sweep_w, pos_of, node_at, sources, start_d, out):
    """One-to-all rows: upward search, then a sweep in descending rank (positions 0 … n−1).

    ``sweep_*`` is a CSR over positions: for the node at position p, the arcs coming down
    from higher nodes (their positions, all < p) with weights. ``sources[i]`` with
    ``start_d[i]``; each row of ``out`` (length n, node order) is filled.
    """
    dist = np.full(n, np.inf)
    touched = np.empty(n, np.int64)
    hk = np.empty(len(up_idx) + 2, np.float64)
    hv = np.empty(len(up_idx) + 2, np.int64)
    d = np.empty(n)
    no_ptr = np.zeros(n + 1, np.int64)            # no stall arcs: a plain upward Dijkstra
    no_idx = np.empty(0, np.int64)
    no_w = np.empty(0, np.float64)
    for i in range(len(sources)):
        nt = _upward_stalled(sources[i:i + 1], start_d[i:i + 1], up_ptr, up_idx, up_w, no_ptr, no_idx, no_w,
                             dist, touched, hk, hv)
        d[:] = np.inf
        for t in range(nt):
            x = touched[t]
            d[pos_of[x]] = dist[x]
            dist[x] = np.inf
        for p in range(n):
            best = d[p]
            for q in range(sweep_ptr[p], sweep_ptr[p + 1]):
                c = d[sweep_src[q]] + sweep_w[q]
                if c < best:
                    best = c
            d[p] = best
        row = out[i]
        for p in range(n):
            row[node_at[p]] = d[p]


# ====================================================================== public
@dataclass(frozen=True)
class HierarchyStats:
    """Size and build cost of a hierarchy: ``nodes``, ``arcs`` (input), ``up_arcs``/``down_arcs``
    (with shortcuts), ``build_s`` (seconds), ``reused_order`` (True for a re-customisation)."""

    nodes: int
    arcs: int
    up_arcs: int
    down_arcs: int
    build_s: float
    reused_order: bool


class Hierarchy:
    """Contraction hierarchy of a weighted directed graph (CSR, float64 weights ≥ 0).

    Build with :meth:`build`. An undirected network is passed as its
    symmetric CSR. Times are in the unit of the weights; unreachable is
    ``inf`` here (the :class:`~geo.routing.Router` turns it into NaN).

    >>> from scipy.sparse import csr_matrix
    >>> g = csr_matrix(([5.0, 5.0, 7.0, 7.0], ([0, 1, 1, 2], [1, 0, 2, 1])), shape=(4, 4))
    >>> h = Hierarchy.build(g)
    >>> h.many_to_many([0, 3], [[2], [1, 3]]).tolist()
    [[12.0, 5.0], [inf, 0.0]]
    >>> h.one_to_all([1]).tolist()
    [[5.0, 0.0, 7.0, inf]]
    """

    def __init__(self, n, rank, up, down, stats):
        self.n = n
        self.rank = rank
        self.up = up        # CSR: v → higher x (forward)
        self.down = down    # CSR: v → higher u, meaning arc u → v (backward)
        self.stats = stats
        self._arrays = None
        self._heap = None
        # PHAST layout: positions by descending rank; arcs coming down into each position.
        self.node_at = np.argsort(-rank, kind="stable").astype(np.int64)
        self.pos_of = np.empty(n, np.int64)
        self.pos_of[self.node_at] = np.arange(n)
        dcoo = down.tocoo()
        tgt = self.pos_of[dcoo.row]
        src = self.pos_of[dcoo.col]
        order = np.lexsort((src, tgt))
        self.sweep_src = src[order].astype(np.int64)
        self.sweep_w = dcoo.data[order].astype(np.float64)
        self.sweep_ptr = np.zeros(n + 1, np.int64)
        np.cumsum(np.bincount(tgt, minlength=n), out=self.sweep_ptr[1:])

    @classmethod
    def build(cls, graph: csr_matrix, order: np.ndarray | None = None) -> "Hierarchy":
        """Contract ``graph`` (n × n CSR, weights ≥ 0, float).

        Without ``order`` the node order is chosen by priorities (the full
        preprocessing); with ``order`` (a permutation of 0 … n−1, least
        important first — e.g. :meth:`order_for` of a related hierarchy)
        only the shortcuts are recomputed: the re-customisation used for
        new weights and small network changes.
        """
        start = time.perf_counter()
        graph = csr_matrix(graph)
        n = graph.shape[0]
        indptr = graph.indptr.astype(np.int64)
        indices = graph.indices.astype(np.int64)
        data = graph.data.astype(np.float64)
        if data.size and (not np.all(np.isfinite(data)) or data.min() < 0):
            raise ValueError("weights must be finite and ≥ 0")
        given = np.empty(0, np.int64) if order is None else np.asarray(order, dtype=np.int64)
        if order is not None and (len(given) != n or not np.array_equal(np.sort(given), np.arange(n))):
            raise ValueError("order must be a permutation of the n nodes")
        rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
        keep = rows != indices
        rows, cols, data = rows[keep], indices[keep], data[keep]
        pool = 4 * (len(rows) + n) + 1024
        while True:
            ok, rank, ut, uh, uw, dt, dh, dw = _contract(n, rows, cols, data, given, WITNESS_SETTLE_LIMIT,
                                                         PRIORITY_SETTLE_LIMIT, pool)
            if ok:
                break
            pool *= 2
        up = _csr(n, ut, uh, uw)
        down = _csr(n, dt, dh, dw)
        stats = HierarchyStats(n, int(graph.nnz), int(up.nnz), int(down.nnz), time.perf_counter() - start,
                               order is not None)
        log.debug("hierarchy: %s", stats)
        return cls(n, rank, up, down, stats)

    def save(self, path) -> None:
        """Write the hierarchy to ``path`` (.npz), atomically."""
        import os
        from pathlib import Path

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        with open(tmp, "wb") as f:
            np.savez(f, rank=self.rank, up_ptr=self.up.indptr, up_idx=self.up.indices, up_w=self.up.data,
                     dn_ptr=self.down.indptr, dn_idx=self.down.indices, dn_w=self.down.data,
                     stats=np.array([self.stats.nodes, self.stats.arcs, self.stats.build_s]))
        os.replace(tmp, path)

    @classmethod
    def load(cls, path) -> "Hierarchy":
        """Read a hierarchy written by :meth:`save`."""
        with np.load(path) as z:
            n = len(z["rank"])
            up = _csr_arrays(n, z["up_ptr"], z["up_idx"], z["up_w"])
            down = _csr_arrays(n, z["dn_ptr"], z["dn_idx"], z["dn_w"])
            nodes, arcs, build_s = z["stats"]
            stats = HierarchyStats(int(nodes), int(arcs), int(up.nnz), int(down.nnz), float(build_s), False)
            return cls(n, z["rank"].astype(np.int64), up, down, stats)

    def order_for(self, n_total: int) -> np.ndarray:
        """Contraction order for a graph with the same first n nodes plus ``n_total − n`` new ones.

        New nodes (indexes n …) come first (least important): they are the
        attached points and junctions of a scenario road, usually of degree
        1–2, so contracting them first adds few shortcuts.
        """
        if n_total < self.n:
            raise ValueError("the new graph has fewer nodes than the hierarchy")
        return np.r_[np.arange(self.n, n_total), self.node_at[::-1]].astype(np.int64)

    def many_to_many(self, sources, target_groups) -> np.ndarray:
        """Times (len(sources) × len(target_groups)) from each source node to the nearest node of each group.

        ``target_groups`` is a list of node-index sequences (one node each for
        a plain matrix); an empty group gives ``inf``.
        """
        sources = np.ascontiguousarray(np.atleast_1d(np.asarray(sources, dtype=np.int64)))
        groups = [np.atleast_1d(np.asarray(g, dtype=np.int64)).ravel() for g in target_groups]
        ptr = np.r_[0, np.cumsum([len(g) for g in groups])].astype(np.int64)
        nodes = np.concatenate(groups) if groups else np.empty(0, np.int64)
        self._check(np.r_[sources, nodes])
        out = np.full((len(sources), len(groups)), np.inf)
        if len(sources) and len(groups):
            dist, touched, head, hk, hv = self._work(len(sources) + len(nodes))
            _many_to_many(self.up.indptr, self.up.indices, self.up.data,
                          self.down.indptr, self.down.indices, self.down.data,
                          sources, ptr, nodes.astype(np.int64), out, dist, touched, head, hk, hv)
        return out

    def _work(self, starts: int):
        """Work arrays of the query kernels, allocated once per hierarchy (not per query).

        The heap holds every push of one upward search (``starts`` start nodes + all arcs),
        so it never grows inside the kernel. Not thread-safe: one hierarchy answers one
        query at a time (forked workers get copies).
        """
        if self._arrays is None:
            self._arrays = (np.full(self.n, np.inf), np.empty(self.n, np.int64), np.full(self.n, -1, np.int64))
        need = starts + max(self.up.nnz, self.down.nnz) + 1
        if self._heap is None or len(self._heap[0]) < need:
            self._heap = (np.empty(need, np.float64), np.empty(need, np.int64))
        return (*self._arrays, *self._heap)

    def one_to_all(self, sources) -> np.ndarray:
        """Times from each source to every node (len(sources) × n), by PHAST."""
        sources = np.ascontiguousarray(np.atleast_1d(np.asarray(sources, dtype=np.int64)))
        self._check(sources)
        out = np.empty((len(sources), self.n))
        if len(sources):
            _phast(self.n, self.up.indptr, self.up.indices, self.up.data, self.sweep_ptr, self.sweep_src,
                   self.sweep_w, self.pos_of, self.node_at, sources, np.zeros(len(sources)), out)
        return out

    def _check(self, idx):
        if idx.size and (idx.min() < 0 or idx.max() >= self.n):
            raise IndexError(f"node index out of range 0…{self.n - 1}")


def _csr_arrays(n, indptr, indices, data) -> csr_matrix:
    m = csr_matrix((data.astype(np.float64), indices.astype(np.int64), indptr.astype(np.int64)), shape=(n, n))
    m.indptr = m.indptr.astype(np.int64)
    m.indices = m.indices.astype(np.int64)
    return m


def _csr(n, tail, head, w) -> csr_matrix:
    order = np.lexsort((head, tail))
    tail, head, w = tail[order], head[order], w[order]
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(tail, minlength=n), out=indptr[1:])
    m = csr_matrix((w.astype(np.float64), head.astype(np.int64), indptr), shape=(n, n))
    # scipy may downcast index arrays; the numba kernels want int64
    m.indptr = m.indptr.astype(np.int64)
    m.indices = m.indices.astype(np.int64)
    return m


# ====================================================================== helpers for the router (numba)
@njit(cache=True)
def bounded_searches(indptr, indices, weights, sources, limit):
    """Dijkstra from each source on a CSR graph, stopped at ``limit``.

    Work and memory grow with the nodes reached, not with the network (the
    distance array is reset node by node), so short limits on big networks
    stay cheap. Returns ``(ptr, nodes, times)``: the nodes reached from
    ``sources[i]`` (sorted by index) are ``nodes[ptr[i]:ptr[i + 1]]``.
    """
    n = len(indptr) - 1
    dist = np.full(n, np.inf)
    touched = np.empty(n, np.int64)
    hk = np.empty(256, np.float64)
    hv = np.empty(256, np.int64)
    ptr = np.zeros(len(sources) + 1, np.int64)
    nodes = np.empty(1024, np.int64)
    times = np.empty(1024, np.float64)
    total = 0
    for i in range(len(sources)):
        nt = 0
        size = 0
        s = sources[i]
        dist[s] = 0.0
        touched[0] = s
        nt = 1
        hk, hv, size = _push(hk, hv, size, 0.0, s)
        while size > 0:
            d, u, size = _pop(hk, hv, size)
            if d > dist[u]:
                continue
            if d > limit:
                break
            for k in range(indptr[u], indptr[u + 1]):
                x = indices[k]
                nd = d + weights[k]
                if nd < dist[x] and nd <= limit:
                    if dist[x] == np.inf:
                        touched[nt] = x
                        nt += 1
                    dist[x] = nd
                    hk, hv, size = _push(hk, hv, size, nd, x)
        reached = np.sort(touched[:nt])
        if total + nt > len(nodes):
            size2 = max(2 * len(nodes), total + nt)
            nn = np.empty(size2, np.int64)
            tt = np.empty(size2, np.float64)
            nn[:total] = nodes[:total]
            tt[:total] = times[:total]
            nodes, times = nn, tt
        for j in range(nt):
            x = reached[j]
            nodes[total + j] = x
            times[total + j] = dist[x]
            dist[x] = np.inf
        total += nt
        ptr[i + 1] = total
    return ptr, nodes[:total].copy(), times[:total].copy()


@njit(cache=True)
def closure(d):
    """All-pairs shortest times of a small dense matrix (Floyd–Warshall, in place; inf = no arc)."""
    k = d.shape[0]
    for m in range(k):
        for i in range(k):
            dim = d[i, m]
            if dim == np.inf:
                continue
            for j in range(k):
                c = dim + d[m, j]
                if c < d[i, j]:
                    d[i, j] = c
    return d


@njit(cache=True)
def min_plus(a, b):
    """(a ⊗ b)[i, j] = min over k of a[i, k] + b[k, j]."""
    m, k = a.shape
    p = b.shape[1]
    out = np.full((m, p), np.inf)
    for i in range(m):
        for q in range(k):
            aiq = a[i, q]
            if aiq == np.inf:
                continue
            for j in range(p):
                c = aiq + b[q, j]
                if c < out[i, j]:
                    out[i, j] = c
    return out
