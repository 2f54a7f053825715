"""Customizable contraction hierarchy (CCH): exact many-to-many and one-to-all travel times.

A CCH (Dibbelt, Strasser & Wagner, 2016) splits a contraction hierarchy in
three phases, so that new weights never redo the expensive part:

1. **Order** — a *nested dissection* of the road graph (METIS, through
   ``pymetis``): cut the network by a small separator, order each half
   recursively, separators last. It depends on the topology only.
2. **Topology** — contract the nodes in that order *without* witness
   searches: every pair of higher neighbours of a contracted node gets an
   arc (the "chordal supergraph"). Each node's higher neighbours are then
   all ancestors of it in the *elimination tree* (parent = lowest higher
   neighbour), which makes queries a walk up that tree — no priority queue.
3. **Customisation** — weights: every arc starts at the input weight (or
   ``inf``) and each *lower triangle* x–y–z (x below y, z) improves arc
   y–z by y→x→z, in rank order of x. A speed change, a calibration run or a
   scenario is only this step: ~5 ms on the 57,548-node Bắc Giang network.

Queries (ranks are node positions in the order, and the arrays are stored in
rank order so the walks and sweeps read memory mostly forwards):

* **many-to-many** (parks × destinations, the access job): one backward
  walk per target *set* (all of the set's nodes at 0 and the union of their
  tree paths, in rank order), written into per-node *buckets*; then one
  forward walk per origin that scans the buckets on its path. With few sets
  (≤ :data:`FEW_GROUPS_MAX`) the buckets are dense rows and the top of the
  tree that most origins pass through is closed once, so the walks stop
  where they enter it (:func:`_many_to_few`);
* **one-to-all** (a full matrix row): the forward walk, then one sweep over
  all nodes in descending rank that pulls each node's time from its higher
  neighbours (PHAST, Delling et al., 2011), several origins per sweep.

Results are exact for any weights ≥ 0 (directed or not): the chordal
supergraph holds an up-down path for every shortest path, and basic
customisation gives every arc the shortest path through lower nodes. Times
are float64 seconds, never rounded; unreachable is ``inf``.

Why this design (measured in ``scripts/bench_routing.py``, against
RoutingKit's CCH among other peers): a witness-search CH had smaller
search spaces but needed seconds of contraction for every weight change;
RoutingKit customises in milliseconds but its Python bindings state no
licence and take integer weights. METIS (Apache-2.0) via pymetis (MIT) is
a maintained, permissive, wheel-installed nested dissection; the
contraction, customisation and queries are short numba loops here.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, replace

import numpy as np
from numba import njit
from scipy.sparse import csr_matrix

log = logging.getLogger(__name__)

#: Origins swept together by one-to-all (PHAST) — several rows per pass over the arcs.
SWEEP_BLOCK = 8

#: Most lower triangles whose arc ids are kept (4 bytes each) for fast re-customisation;
#: above this they are looked up again at each customisation (no memory).
TRIANGLE_CACHE_MAX = 60_000_000

#: Triangles per upward arc from which the supernode-grouped pull (:func:`_pull_grouped`) replaces the
#: triangle cache: dense separators (grids) make long groups there. Measured per triangle: Bắc Giang
#: (4.4 per arc) 1.6 ns cached vs 3.9 grouped; perturbed grids of 3,600 / 10,000 / 25,600 / 62,500 nodes
#: (11 / 16 / 25 / 37 per arc) 1.2 / 1.2 / 2.7 / 2.4 ns cached vs 1.6 / 1.1 / 1.7 / 1.2 grouped.
PULL_MIN_TRIANGLES_PER_ARC = 16

#: Threads of a customisation (disjoint elimination subtrees at the same time; ``BGPLAN_THREADS``,
#: default 2 — the project's machines have 2 cores; capped by the CPUs present).
CUSTOMISE_THREADS = int(os.environ.get("BGPLAN_THREADS", "2"))

_CPUS = os.cpu_count() or 1


def _free_threads() -> int:
    """Threads for a customisation: :data:`CUSTOMISE_THREADS`, capped by the CPUs, and 1 when no core is
    free (1-minute load average ≥ CPUs − 0.5): on a saturated machine the second thread waits for a core
    and costs more than it saves (measured: 13 ms instead of 5 on 57,548 nodes at load 6 on 2 cores)."""
    threads = min(CUSTOMISE_THREADS, _CPUS)
    if threads > 1:
        try:
            if os.getloadavg()[0] >= _CPUS - 0.5:
                return 1
        except OSError:
            pass
    return threads


#: Most groups (columns) answered by :func:`_many_to_few` (dense k-wide times on the groups' tree paths and
#: the shared top closed once); more go to the linked buckets of :func:`_many_to_many`. Measured on 53 × 9:
#: 0.15 → 0.13 ms on Bắc Giang, 30 → 15 ms on the 200,000-node grid (interleaved, machine under load 5).
FEW_GROUPS_MAX = 64

#: Fewest lower triangles for which a customisation is split over threads (starting a thread costs
#: ~0.1 ms; a triangle ~3 ns).
PARALLEL_MIN_TRIANGLES = 200_000

_INF = np.inf


# ====================================================================== order
def nested_dissection_order(graph: csr_matrix) -> np.ndarray:
    """Nodes in elimination order (least important first) by METIS nested dissection.

    ``graph`` is any n × n sparse matrix; its pattern is symmetrised and
    self-loops dropped. Deterministic (METIS seed 0).
    """
    import pymetis

    n = graph.shape[0]
    coo = graph.tocoo()
    keep = coo.row != coo.col
    r, c = coo.row[keep], coo.col[keep]
    sym = csr_matrix((np.ones(2 * len(r), np.int8), (np.r_[r, c], np.r_[c, r])), shape=(n, n))
    sym.sum_duplicates()
    if n == 0:
        return np.empty(0, np.int64)
    options = pymetis.Options(seed=0)
    perm, _ = pymetis.nested_dissection(
        adjacency=pymetis.CSRAdjacency(sym.indptr.astype(np.int64), sym.indices.astype(np.int64)), options=options)
    return np.asarray(perm, dtype=np.int64)


# ====================================================================== topology (numba)
@njit(cache=True)
def _chordal_upward(n, ptr, idx):
    """Upward neighbours (sorted ranks) of every node after contraction in rank order.

    ``ptr``/``idx``: symmetric adjacency in rank space. Returns (up_ptr, up_head, parent).
    """
    cap = max(2 * len(idx), 64)
    buf = np.empty(cap, np.int32)
    up_ptr = np.zeros(n + 1, np.int64)
    parent = np.full(n, -1, np.int64)
    first_child = np.full(n, -1, np.int64)
    next_sibling = np.full(n, -1, np.int64)
    mark = np.full(n, -1, np.int64)
    tmp = np.empty(n, np.int64)
    pos = 0
    for r in range(n):
        cnt = 0
        mark[r] = r
        for k in range(ptr[r], ptr[r + 1]):
            y = idx[k]
            if y > r and mark[y] != r:
                mark[y] = r
                tmp[cnt] = y
                cnt += 1
        c = first_child[r]
        while c != -1:
            for k in range(up_ptr[c], up_ptr[c + 1]):
                y = buf[k]
                if mark[y] != r:
                    mark[y] = r
                    tmp[cnt] = y
                    cnt += 1
            c = next_sibling[c]
        if pos + cnt > cap:
            while pos + cnt > cap:
                cap *= 2
            grown = np.empty(cap, np.int32)
            grown[:pos] = buf[:pos]
            buf = grown
        got = np.sort(tmp[:cnt])
        for k in range(cnt):
            buf[pos + k] = got[k]
        pos += cnt
        up_ptr[r + 1] = pos
        if cnt:
            p = got[0]
            parent[r] = p
            next_sibling[r] = first_child[p]
            first_child[p] = r
    return up_ptr, buf[:pos].copy(), parent


@njit(cache=True)
def _find_arc(up_ptr, up_head, lo, hi):
    """Arc id of lo → hi (lo < hi in rank) by binary search; −1 if absent."""
    a, b = up_ptr[lo], up_ptr[lo + 1]
    while a < b:
        m = (a + b) >> 1
        if up_head[m] < hi:
            a = m + 1
        else:
            b = m
    if a < up_ptr[lo + 1] and up_head[a] == hi:
        return a
    return -1


@njit(cache=True)
def _count_triangles(n, up_ptr):
    total = 0
    for x in range(n):
        m = up_ptr[x + 1] - up_ptr[x]
        total += m * (m - 1) // 2
    return total


@njit(cache=True)
def _triangle_arcs(n, up_ptr, up_head, out):
    """Arc id of y_i → y_j for every pair i < j of every node's upward neighbours, in enumeration order."""
    t = 0
    for x in range(n):
        s, e = up_ptr[x], up_ptr[x + 1]
        for i in range(s, e):
            y = up_head[i]
            p = up_ptr[y]
            for j in range(i + 1, e):
                z = up_head[j]
                while up_head[p] != z:      # U(x) above y is a subset of U(y), both sorted
                    p += 1
                out[t] = p
                t += 1


@njit(cache=True)
def _input_arcs(rank, up_ptr, up_head, rows, cols):
    """For every input arc u → v: its CCH arc id and direction (True: upward, i.e. rank u < rank v)."""
    m = len(rows)
    arc = np.empty(m, np.int64)
    upward = np.empty(m, np.bool_)
    for k in range(m):
        ru, rv = rank[rows[k]], rank[cols[k]]
        if ru < rv:
            arc[k] = _find_arc(up_ptr, up_head, ru, rv)
            upward[k] = True
        else:
            arc[k] = _find_arc(up_ptr, up_head, rv, ru)
            upward[k] = False
    return arc, upward


# ====================================================================== customisation (numba)
# Every kernel below takes its output arrays from the caller (numpy allocates large arrays with
# huge pages: 2 × 30 MB took 44 ms inside numba against 8 ms from numpy on the 200,000-node grid),
# and takes minima without branches (``min``): whether a triangle improves an arc is unpredictable,
# and the branch cost more than the arithmetic (measured 3.7 → 1.6 ms per customisation on 57,548 nodes).
@njit(cache=True)
def _initial_weights(arc_sorted, input_sorted, upward_sorted, w, up, dn):
    """Arc weights before customisation, written into ``up`` (lower → higher rank) and ``dn`` (higher →
    lower): the minimum of the input arcs on each, or inf. The input arcs come sorted by their CCH arc
    (``arc_sorted``; ``input_sorted`` their index in ``w``), so the writes run forwards through memory."""
    up[:] = _INF
    dn[:] = _INF
    for k in range(len(arc_sorted)):
        a = arc_sorted[k]
        v = w[input_sorted[k]]
        if upward_sorted[k]:
            up[a] = min(up[a], v)
        else:
            dn[a] = min(dn[a], v)


@njit(cache=True, nogil=True)
def _push_cached(nodes, up_ptr, split, tri, tri_base, up, dn, upper):
    """Customisation with the triangle cache, "pushed" by the lowest node: for each node x of ``nodes`` (in
    rank order) and each pair i < j of its upward arcs x → y_i, x → y_j, arc y_i → y_j (``tri[t]``) is
    improved through x. Only the pairs with i below ``split[x]`` (``upper`` False) or from it on (``upper``
    True) are taken: the lower pairs of a subtree's nodes improve arcs whose lower end lies in the same
    subtree, so disjoint subtrees run at the same time (one call with all nodes and ``split = up_ptr[1:]``
    is the whole customisation)."""
    for q in range(len(nodes)):
        x = nodes[q]
        s, e = up_ptr[x], up_ptr[x + 1]
        lo, hi = (split[x], e) if upper else (s, split[x])
        m = e - s
        li = lo - s
        t = tri_base[x] + li * (m - 1) - li * (li - 1) // 2
        for i in range(lo, hi):
            up_xi = up[i]              # x → y_i
            down_xi = dn[i]            # y_i → x
            for j in range(i + 1, e):
                a = tri[t]
                t += 1
                up[a] = min(up[a], down_xi + up[j])     # y_i → x → y_j
                dn[a] = min(dn[a], dn[j] + up_xi)       # y_j → x → y_i


@njit(cache=True, nogil=True)
def _pull_grouped(nodes, up_ptr, up_head, down_ptr, down_tail, down_arc, supernode, up, dn, position,
                  acc_up, acc_dn):
    """Customisation without the triangle cache, "pulled" by the middle node: each node y of ``nodes`` (in
    rank order) improves its own upward arcs y → z through every lower neighbour x (triangle x–y–z).

    The arc y → z is found through ``position`` (n items, any values: the arc id of y → z is written at
    ``position[z]`` first). Lower neighbours that are consecutive ranks of one *supernode* (a chain where
    U(x) = {x + 1} ∪ U(x + 1), as the nodes of a separator become) have the same upward neighbours above
    y, at the end of each one's arc list: their triangles are summed column-wise into ``acc_up``/``acc_dn``
    (contiguous arrays, vectorised) and looked up in ``position`` once per group instead of once per
    triangle (97 % of the triangles of the 200,000-node grid are in groups of ≥ 4; 0.5 instead of 1.3 ns
    per triangle). Reads only arcs of lower nodes (final once they are done) and writes only arcs of
    ``nodes``, so disjoint subtrees run at the same time."""
    for q in range(len(nodes)):
        y = nodes[q]
        for p in range(up_ptr[y], up_ptr[y + 1]):
            position[up_head[p]] = p
        d, d_end = down_ptr[y], down_ptr[y + 1]
        while d < d_end:
            x = down_tail[d]
            e = d + 1                               # the group: down_tail[d:e]
            while e < d_end and down_tail[e] == down_tail[e - 1] + 1 and supernode[down_tail[e]] == supernode[x]:
                e += 1
            first = down_arc[d] + 1                 # x's arcs above y
            size = up_ptr[x + 1] - first
            if size > 0 and e - d == 1:
                up_xy = up[first - 1]
                down_yx = dn[first - 1]
                for j in range(first, first + size):
                    p = position[up_head[j]]
                    up[p] = min(up[p], down_yx + up[j])     # y → x → z
                    dn[p] = min(dn[p], dn[j] + up_xy)       # z → x → y
            elif size > 0:
                best_up = acc_up[:size]
                best_dn = acc_dn[:size]
                best_up[:] = _INF
                best_dn[:] = _INF
                for g in range(d, e):
                    a = down_arc[g]                 # arc x_g → y; x_g's arcs above y follow it
                    up_xy = up[a]
                    down_yx = dn[a]
                    from_up = up[a + 1:a + 1 + size]
                    from_dn = dn[a + 1:a + 1 + size]
                    for k in range(size):
                        best_up[k] = min(best_up[k], down_yx + from_up[k])
                        best_dn[k] = min(best_dn[k], from_dn[k] + up_xy)
                for k in range(size):
                    p = position[up_head[first + k]]
                    up[p] = min(up[p], best_up[k])
                    dn[p] = min(dn[p], best_dn[k])
            d = e


@njit(cache=True)
def _supernodes(n, up_ptr, parent):
    """Fundamental supernode of every rank: r continues r − 1's when U(r − 1) = {r} ∪ U(r) (r is r − 1's
    parent and r − 1 has one upward arc more; chordality makes the rest a subset)."""
    out = np.empty(n, np.int32)
    current = -1
    for r in range(n):
        if not (r > 0 and parent[r - 1] == r and up_ptr[r] - up_ptr[r - 1] == up_ptr[r + 1] - up_ptr[r] + 1):
            current += 1
        out[r] = current
    return out


@njit(cache=True)
def _downward(n, up_ptr, up_head):
    """Lower neighbours of every rank (CSR, tails in ascending rank): tails x and arc ids x → y."""
    count = np.zeros(n + 1, np.int64)
    for a in range(len(up_head)):
        count[up_head[a] + 1] += 1
    for y in range(n):
        count[y + 1] += count[y]
    fill = count[:-1].copy()
    tail = np.empty(len(up_head), np.int32)
    arc = np.empty(len(up_head), np.int64)
    for x in range(n):
        for a in range(up_ptr[x], up_ptr[x + 1]):
            y = up_head[a]
            tail[fill[y]] = x
            arc[fill[y]] = a
            fill[y] += 1
    return count, tail, arc


@njit(cache=True)
def _splits(n, up_ptr, up_head, is_top):
    """For every rank x: the first of its upward arcs that leads into the top part (``up_ptr[x + 1]`` if none)."""
    split = np.empty(n, np.int64)
    for x in range(n):
        split[x] = up_ptr[x + 1]
        for a in range(up_ptr[x], up_ptr[x + 1]):
            if is_top[up_head[a]] or is_top[x]:
                split[x] = a
                break
    return split


@njit(cache=True)
def _subtree_work(n, up_ptr, up_head, parent):
    """Triangles pulled by each rank (as the middle node) and by each elimination subtree."""
    own = np.zeros(n, np.int64)
    for x in range(n):
        m = up_ptr[x + 1] - up_ptr[x]
        for a in range(up_ptr[x], up_ptr[x + 1]):
            own[up_head[a]] += m - 1 - (a - up_ptr[x])
    subtree = own.copy()
    for x in range(n):
        if parent[x] >= 0:
            subtree[parent[x]] += subtree[x]
    return own, subtree


@dataclass(frozen=True)
class _Schedule:
    """How one customisation is split over threads: ``bins`` (disjoint elimination subtrees, each a rank
    array in rank order, one per thread) run their nodes' lower pairs at the same time; then every node's
    upper pairs (those improving arcs of the ``top`` part, the subtrees' ancestors) run in rank order.
    ``split`` gives each rank's first upward arc into the top part, ``tri_base`` where each rank's pairs
    start in the triangle enumeration."""

    bins: list
    top: np.ndarray
    split: np.ndarray
    tri_base: np.ndarray

    @classmethod
    def of(cls, topology: Topology, threads: int) -> _Schedule:
        import heapq

        n, up_ptr, parent = topology.n, topology.up_ptr, topology.parent
        tri_base = topology._derived("_tri_base", topology._triangle_starts)
        own, subtree = _subtree_work(n, up_ptr, topology.up_head, parent)
        children = [[] for _ in range(n)]
        for x in np.flatnonzero(parent >= 0):
            children[parent[x]].append(int(x))
        # Split the biggest subtree (its root joins the top) until it fits in one thread's share.
        heap = [(-int(subtree[r]), int(r)) for r in np.flatnonzero(parent < 0)]
        heapq.heapify(heap)
        remaining = int(sum(-w for w, _ in heap))
        is_top = np.zeros(n, dtype=bool)
        while heap and -heap[0][0] * threads > remaining:
            work, root = heapq.heappop(heap)
            is_top[root] = True
            remaining -= int(own[root])
            for c in children[root]:
                heapq.heappush(heap, (-int(subtree[c]), c))
        # Longest processing time first: each subtree to the least loaded bin.
        label = np.full(n, -1, np.int64)
        load = [0] * threads
        for work, root in sorted(heap):
            b = load.index(min(load))
            label[root] = b
            load[b] -= work
        for x in range(n - 1, -1, -1):              # parents before children
            if label[x] < 0 and not is_top[x] and parent[x] >= 0:
                label[x] = label[parent[x]]
        bins = [np.flatnonzero(label == b) for b in range(threads)]
        return cls(bins, np.flatnonzero(is_top), _splits(n, up_ptr, topology.up_head, is_top), tri_base)


# ====================================================================== queries (numba)
@njit(cache=True)
def _group_walk(j, group_ptr, group_nodes, parent, mark, collected, up_ptr, up_head, bwd, dist):
    """Backward walk of target group ``j`` (several nodes): the union of its nodes' tree paths, marked with ``j`` in
    ``mark`` and returned in rank order, with ``dist`` set to each of its nodes' time to the group (the caller resets
    ``dist`` to inf on the returned nodes). ``collected``: scratch space of n items."""
    cnt = 0
    for q in range(group_ptr[j], group_ptr[j + 1]):
        x = group_nodes[q]
        while x != -1 and mark[x] != j:
            mark[x] = j
            collected[cnt] = x
            cnt += 1
            x = parent[x]
    walk = np.sort(collected[:cnt])
    for q in range(group_ptr[j], group_ptr[j + 1]):
        dist[group_nodes[q]] = 0.0
    for q in range(cnt):
        x = walk[q]
        dx = dist[x]
        if dx < _INF:
            for a in range(up_ptr[x], up_ptr[x + 1]):
                y = up_head[a]
                dist[y] = min(dist[y], dx + bwd[a])
    return walk


@njit(cache=True)
def _many_to_many(n, up_ptr, up_head, fwd, bwd, parent, sources, group_ptr, group_nodes, out, dist, mark, head,
                  collected):
    """out[i, j] = time from rank ``sources[i]`` to the nearest rank of group j.

    ``dist`` (inf), ``mark`` (−1), ``head`` (−1) and ``collected`` (any) are work arrays of n items, left
    as they came (allocated once per hierarchy: a fresh n-item array costs page faults at every query).
    """
    k = len(group_ptr) - 1
    # 1. Backward walks: every group's nodes at 0, the union of their tree paths in rank order; every
    #    node reached leaves a bucket entry (group, time), linked from ``head[node]``.
    cap = 1024
    b_group = np.empty(cap, np.int64)
    b_time = np.empty(cap, np.float64)
    b_next = np.empty(cap, np.int64)
    b_node = np.empty(cap, np.int64)
    used = 0
    for j in range(k):
        if group_ptr[j + 1] - group_ptr[j] == 1:
            # One node: its tree path is in rank order already; one pass relaxes and fills the buckets.
            if used + _path_length(parent, group_nodes[group_ptr[j]]) > cap:
                cap = 2 * cap + n
                b_group, b_time = _grown(b_group, cap), _grown(b_time, cap)
                b_next, b_node = _grown(b_next, cap), _grown(b_node, cap)
            x = group_nodes[group_ptr[j]]
            dist[x] = 0.0
            while x != -1:
                dx = dist[x]
                if dx < _INF:
                    for a in range(up_ptr[x], up_ptr[x + 1]):
                        y = up_head[a]
                        dist[y] = min(dist[y], dx + bwd[a])
                    b_group[used], b_time[used], b_next[used], b_node[used] = j, dx, head[x], x
                    head[x] = used
                    used += 1
                dist[x] = _INF
                x = parent[x]
            continue
        nodes = _group_walk(j, group_ptr, group_nodes, parent, mark, collected, up_ptr, up_head, bwd, dist)
        cnt = len(nodes)
        if used + cnt > cap:
            cap = max(2 * cap, used + cnt)
            b_group, b_time = _grown(b_group, cap), _grown(b_time, cap)
            b_next, b_node = _grown(b_next, cap), _grown(b_node, cap)
        for q in range(cnt):
            x = nodes[q]
            mark[x] = -1
            if dist[x] < _INF:
                b_group[used], b_time[used], b_next[used], b_node[used] = j, dist[x], head[x], x
                head[x] = used
                used += 1
            dist[x] = _INF
    # 2. Forward walks from each source, scanning the buckets met. Every relaxation is a branch-free
    #    ``min``: whether an arc improves is unpredictable (0.17 → 0.14 ms per 53 × 9 on Bắc Giang, 13 →
    #    8.6 ms on the 200,000-node grid); the loops are written out in each walk (a shared inlined helper
    #    ran 2× slower). (Pruning the walk above the worst answer
    #    found so far, as Buchhold, Sanders & Wagner 2019 do for one target, saved nothing here: with
    #    several targets it starts only once all are found, near the top; measured 0.15 vs 0.17 ms without.)
    for i in range(len(sources)):
        x = sources[i]
        dist[x] = 0.0
        while x != -1:
            dx = dist[x]
            if dx < _INF:
                for a in range(up_ptr[x], up_ptr[x + 1]):
                    y = up_head[a]
                    dist[y] = min(dist[y], dx + fwd[a])
                b = head[x]
                while b != -1:
                    j = b_group[b]
                    out[i, j] = min(out[i, j], dx + b_time[b])
                    b = b_next[b]
            dist[x] = _INF          # every node the walk touches is on the path: left clean as it goes
            x = parent[x]
    for e in range(used):
        head[b_node[e]] = -1


@njit(cache=True)
def _many_to_few(n, up_ptr, up_head, fwd, bwd, parent, sources, group_ptr, group_nodes, out, dist, count, slot,
                 collected):
    """:func:`_many_to_many` for few groups (k ≤ :data:`FEW_GROUPS_MAX`), with the top of the tree shared.

    Every group's backward times are kept densely, k per node, at the nodes of U (the union of all groups'
    tree paths; ``slot`` numbers them). The part of U on the paths of at least k sources (an ancestor-closed
    top, T) is then *closed* downwards from the root: Q[s, j] = min(B[s, j], fwd(s → t) + Q[t, j]) over the
    upward arcs of s — the time from s to group j going up first, so one k-wide pass replaces the walks of
    all sources through T. A source walks (relaxing arcs, meeting the dense buckets of U) until it enters
    T, then only gathers min(dist[s] + Q[s, :]) over the nodes it reached there. Same answers as the
    buckets (sums in another order: equal to ~1e-12 s). ``count`` (−1) and ``slot`` (−1) are work arrays of
    n items, left as they came.
    """
    k = len(group_ptr) - 1
    # 1. U, in rank order, numbered by slot.
    cnt = 0
    for q in range(len(group_nodes)):
        x = group_nodes[q]
        while x != -1 and slot[x] == -1:
            slot[x] = 0
            collected[cnt] = x
            cnt += 1
            x = parent[x]
    nodes = np.sort(collected[:cnt])
    for q in range(cnt):
        slot[nodes[q]] = q
    # 2. Backward walks, one per group, written into B (held in q).
    q_times = np.full((cnt, k), _INF)
    for j in range(k):
        if group_ptr[j + 1] - group_ptr[j] == 1:
            x = group_nodes[group_ptr[j]]
            dist[x] = 0.0
            while x != -1:
                dx = dist[x]
                if dx < _INF:
                    for a in range(up_ptr[x], up_ptr[x + 1]):
                        y = up_head[a]
                        dist[y] = min(dist[y], dx + bwd[a])
                    q_times[slot[x], j] = dx
                dist[x] = _INF
                x = parent[x]
            continue
        # count used as the walk's mark here (−1 again below)
        walk = _group_walk(j, group_ptr, group_nodes, parent, count, collected, up_ptr, up_head, bwd, dist)
        c = len(walk)
        for q in range(c):
            x = walk[q]
            count[x] = -1
            q_times[slot[x], j] = dist[x]
            dist[x] = _INF
    # 3. Sources through each node of U (count + 1), then the closure of T from the root down.
    for i in range(len(sources)):
        x = sources[i]
        while x != -1 and slot[x] < 0:
            x = parent[x]
        while x != -1:
            count[x] += 1
            x = parent[x]
    for q in range(cnt - 1, -1, -1):
        s = nodes[q]
        if count[s] + 1 >= k:
            for a in range(up_ptr[s], up_ptr[s + 1]):
                t = -2 - slot[up_head[a]]           # above s: in T, numbered already
                w = fwd[a]
                for j in range(k):
                    q_times[q, j] = min(q_times[q, j], w + q_times[t, j])
            slot[s] = -2 - q                        # in T: a walk stops here
    # 4. Forward walks.
    for i in range(len(sources)):
        x = sources[i]
        dist[x] = 0.0
        while x != -1 and slot[x] > -2:
            dx = dist[x]
            if dx < _INF:
                for a in range(up_ptr[x], up_ptr[x + 1]):
                    y = up_head[a]
                    dist[y] = min(dist[y], dx + fwd[a])
                r = slot[x]
                if r >= 0:
                    for j in range(k):
                        out[i, j] = min(out[i, j], dx + q_times[r, j])
            dist[x] = _INF
            x = parent[x]
        while x != -1:                              # in T: gather over the nodes reached
            dx = dist[x]
            if dx < _INF:
                r = -2 - slot[x]
                for j in range(k):
                    out[i, j] = min(out[i, j], dx + q_times[r, j])
                dist[x] = _INF
            x = parent[x]
    for q in range(cnt):
        slot[nodes[q]] = -1
        count[nodes[q]] = -1


@njit(cache=True, inline="always")
def _path_length(parent, x):
    """Nodes on the elimination-tree path from ``x`` to its root."""
    c = 0
    while x != -1:
        c += 1
        x = parent[x]
    return c


@njit(cache=True)
def _grown(a, size):
    """``a`` copied into a longer array of ``size`` items."""
    out = np.empty(size, a.dtype)
    out[:len(a)] = a
    return out


@njit(cache=True)
def _one_to_all(n, up_ptr, up_head, fwd, bwd, parent, rank, sources, out, block, unreachable):
    """out[i, node] = time from node index ``sources[i]`` to every node (PHAST, ``block`` origins per sweep);
    ``unreachable`` where there is no path (inf, or NaN for the Router)."""
    d = np.full(n * block, _INF)
    for start in range(0, len(sources), block):
        m = min(block, len(sources) - start)
        d[:] = _INF
        for b in range(m):
            x = rank[sources[start + b]]
            d[x * block + b] = 0.0
            while x != -1:
                for a in range(up_ptr[x], up_ptr[x + 1]):
                    y = up_head[a]
                    v = d[x * block + b] + fwd[a]
                    if v < d[y * block + b]:
                        d[y * block + b] = v
                x = parent[x]
        for x in range(n - 1, -1, -1):
            base = x * block
            for a in range(up_ptr[x], up_ptr[x + 1]):
                yb = up_head[a] * block
                w = bwd[a]
                for b in range(block):
                    v = d[yb + b] + w
                    if v < d[base + b]:
                        d[base + b] = v
        for node in range(n):          # each node's block read once, the m rows written side by side
            base = rank[node] * block
            for b in range(m):
                v = d[base + b]
                out[start + b, node] = v if v < _INF else unreachable


# ====================================================================== public
@dataclass(frozen=True)
class HierarchyStats:
    """Size and cost of a hierarchy: ``nodes``, ``arcs`` (input), ``up_arcs`` (CCH arcs),
    ``triangles``, ``tree_height`` (longest elimination-tree path), ``order_s``, ``topology_s``,
    ``customise_s`` (seconds), ``reused_order`` (True when the order came from another hierarchy)."""

    nodes: int
    arcs: int
    up_arcs: int
    triangles: int
    tree_height: int
    order_s: float
    topology_s: float
    customise_s: float
    reused_order: bool

    @property
    def build_s(self) -> float:
        """Seconds of the whole build (order + topology + customisation)."""
        return self.order_s + self.topology_s + self.customise_s


@dataclass(frozen=True, eq=False)
class Topology:
    """The weight-independent part of a hierarchy, shared by all its customisations.

    ``order`` (nodes, least important first) and ``rank`` (each node's
    position in it); the upward arcs of every rank (``up_ptr``/``up_head``,
    CSR in rank space, heads sorted) and its elimination-tree ``parent``
    (−1 at roots); for every nonzero of the input graph's CSR (``indptr``,
    ``indices``) its arc (``arc_of_input``, −1 for loops) and direction
    (``upward_input``); the arc closing each lower triangle, in enumeration
    order (``triangles``; None above :data:`TRIANGLE_CACHE_MAX`) and how many
    there are (``triangle_count``).
    """

    order: np.ndarray
    rank: np.ndarray
    up_ptr: np.ndarray
    up_head: np.ndarray
    parent: np.ndarray
    arc_of_input: np.ndarray
    upward_input: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    triangles: np.ndarray | None
    triangle_count: int

    @property
    def n(self) -> int:
        return len(self.order)

    @classmethod
    def of(cls, graph: csr_matrix, order: np.ndarray) -> Topology:
        """Chordal topology of ``graph``'s arcs (both directions) contracted in ``order``."""
        n = graph.shape[0]
        rank = np.empty(n, np.int64)
        rank[order] = np.arange(n)
        coo = graph.tocoo()
        rows, cols = coo.row.astype(np.int64), coo.col.astype(np.int64)
        keep = rows != cols
        rr, rc = rank[rows[keep]], rank[cols[keep]]
        sym = csr_matrix((np.ones(2 * len(rr), np.int8), (np.r_[rr, rc], np.r_[rc, rr])), shape=(n, n))
        sym.sum_duplicates()
        up_ptr, up_head, parent = _chordal_upward(n, sym.indptr.astype(np.int64), sym.indices.astype(np.int64))
        rows_csr = np.repeat(np.arange(n, dtype=np.int64), np.diff(graph.indptr))
        cols_csr = graph.indices.astype(np.int64)
        arc, upward = _input_arcs(rank, up_ptr, up_head, rows_csr, cols_csr)
        arc[rows_csr == cols_csr] = -1
        count = int(_count_triangles(n, up_ptr))
        triangles = None
        if count <= TRIANGLE_CACHE_MAX and count < PULL_MIN_TRIANGLES_PER_ARC * len(up_head):
            triangles = np.empty(count, np.int32 if len(up_head) < 2 ** 31 else np.int64)
            _triangle_arcs(n, up_ptr, up_head, triangles)
        return cls(order, rank, up_ptr, up_head, parent, arc, upward, graph.indptr, graph.indices, triangles, count)

    def same_arcs(self, graph: csr_matrix) -> bool:
        """True when ``graph`` has these nodes and arcs (whatever their weights)."""
        return graph.shape == (self.n, self.n) and np.array_equal(graph.indptr, self.indptr) and \
            np.array_equal(graph.indices, self.indices)

    def customised(self, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Upward and downward weights of every arc for ``weights`` (aligned with the input CSR's data).

        With the triangle cache, the triangles are pushed from each node in rank order
        (:func:`_push_cached`); without it (above :data:`TRIANGLE_CACHE_MAX`) each node pulls its own
        arcs' triangles, grouped by supernode (:func:`_pull_grouped`). With :data:`CUSTOMISE_THREADS` > 1,
        enough triangles and a free core, disjoint elimination subtrees are customised at the same time
        (plain threads running nogil kernels), then the part above them.
        """
        up, dn = np.empty(len(self.up_head)), np.empty(len(self.up_head))
        _initial_weights(*self._derived("_inputs", self._inputs_by_arc), weights, up, dn)
        threads = _free_threads() if self.triangle_count >= PARALLEL_MIN_TRIANGLES else 1
        if threads > 1:
            self._customise_split(up, dn, threads)
        elif self.triangles is not None:
            _push_cached(self._derived("_all", lambda: np.arange(self.n)), self.up_ptr, self.up_ptr[1:],
                         self.triangles, self._derived("_tri_base", self._triangle_starts), up, dn, False)
        else:
            self._pull(self._derived("_all", lambda: np.arange(self.n)), up, dn)
        return up, dn

    def _derived(self, name: str, make):
        """An array derived from the topology, made at first use and kept (not part of the saved hierarchy)."""
        value = self.__dict__.get(name)
        if value is None:
            value = self.__dict__[name] = make()
        return value

    def _inputs_by_arc(self):
        """The input arcs (not loops) sorted by their CCH arc: (CCH arcs, input indexes, upward flags)."""
        keep = np.flatnonzero(self.arc_of_input >= 0)
        order = keep[np.argsort(self.arc_of_input[keep], kind="stable")]
        return self.arc_of_input[order], order, self.upward_input[order]

    def _triangle_starts(self):
        """Where each rank's pairs start in the triangle enumeration (n + 1 items)."""
        m = np.diff(self.up_ptr)
        return np.r_[0, np.cumsum(m * (m - 1) // 2)].astype(np.int64)

    def _pull(self, nodes: np.ndarray, up: np.ndarray, dn: np.ndarray) -> None:
        """:func:`_pull_grouped` over ``nodes``, with work arrays of its own (threads call it side by side)."""
        down = self._derived("_down", lambda: _downward(self.n, self.up_ptr, self.up_head))
        supernode = self._derived("_supernode", lambda: _supernodes(self.n, self.up_ptr, self.parent))
        widest = int(np.diff(self.up_ptr).max()) if self.n else 0
        _pull_grouped(nodes, self.up_ptr, self.up_head, *down, supernode, up, dn, np.empty(self.n, np.int64),
                      np.empty(widest), np.empty(widest))

    def _customise_split(self, up: np.ndarray, dn: np.ndarray, threads: int) -> None:
        """Subtrees on ``threads`` threads, then the top part (see :class:`_Schedule`)."""
        import threading

        s = self.__dict__.get("_schedule")
        if s is None or len(s.bins) != threads:
            s = _Schedule.of(self, threads)
            self.__dict__["_schedule"] = s               # derived, not part of the saved hierarchy
        if self.triangles is not None:
            run = lambda nodes, upper: _push_cached(nodes, self.up_ptr, s.split, self.triangles,  # noqa: E731
                                                    s.tri_base, up, dn, upper)
            last = (self._derived("_all", lambda: np.arange(self.n)), True)   # every node's pairs into the top
        else:
            run = lambda nodes, _upper: self._pull(nodes, up, dn)  # noqa: E731
            last = (s.top, True)                         # the top part's own arcs, in rank order
        others = [threading.Thread(target=run, args=(nodes, False)) for nodes in s.bins[1:]]
        for t in others:
            t.start()
        run(s.bins[0], False)
        for t in others:
            t.join()
        run(*last)


class Hierarchy:
    """Customizable contraction hierarchy of a weighted directed graph (CSR, float64 weights ≥ 0).

    Build with :meth:`build`; give new weights on the same graph with
    :meth:`customise`. An undirected network is passed as its symmetric CSR.
    Times are in the unit of the weights; unreachable is ``inf`` (the
    :class:`~geo.routing.router.Router` turns it into NaN). A hierarchy is its
    :class:`Topology` (shared by customisations) plus the arcs' upward and
    downward weights ``fwd``/``bwd``. Not thread-safe: one query at a time
    per hierarchy (forked workers get copies).

    >>> from scipy.sparse import csr_matrix
    >>> g = csr_matrix(([5.0, 5.0, 7.0, 7.0], ([0, 1, 1, 2], [1, 0, 2, 1])), shape=(4, 4))
    >>> h = Hierarchy.build(g)
    >>> h.many_to_many([0, 3], [[2], [1, 3]]).tolist()
    [[12.0, 5.0], [inf, 0.0]]
    >>> h.one_to_all([1]).tolist()
    [[5.0, 0.0, 7.0, inf]]
    >>> h.customise(g * 2).many_to_many([0], [[2]]).tolist()
    [[24.0]]
    """

    def __init__(self, topology: Topology, weights: np.ndarray, stats: HierarchyStats,
                 fwd: np.ndarray | None = None, bwd: np.ndarray | None = None):
        self.topology = topology
        self.n = topology.n
        #: The input arc weights (CSR data) this hierarchy is customised for.
        self.weights = weights
        if fwd is None:
            start = time.perf_counter()
            fwd, bwd = topology.customised(weights)
            stats = replace(stats, customise_s=time.perf_counter() - start)
        self.fwd, self.bwd = fwd, bwd
        self.stats = stats
        self._work = None

    # ------------------------------------------------------------------ build
    @classmethod
    def build(cls, graph: csr_matrix, order: np.ndarray | None = None) -> Hierarchy:
        """Order (unless ``order`` is given), topology and customisation of ``graph`` (n × n CSR, weights ≥ 0).

        ``order`` is a permutation of 0 … n−1, least important first — e.g.
        :meth:`order_for` of a related hierarchy, which skips the nested
        dissection (a scenario that adds nodes and arcs).
        """
        graph = csr_matrix(graph)
        n = graph.shape[0]
        data = _checked_weights(graph)
        t0 = time.perf_counter()
        reused_order = order is not None
        if order is None:
            order = nested_dissection_order(graph)
        else:
            order = np.asarray(order, dtype=np.int64)
            if len(order) != n or not np.array_equal(np.sort(order), np.arange(n)):
                raise ValueError("order must be a permutation of the n nodes")
        t1 = time.perf_counter()
        topology = Topology.of(graph, order)
        t2 = time.perf_counter()
        stats = HierarchyStats(n, int(graph.nnz), len(topology.up_head), topology.triangle_count,
                               int(_tree_height(topology.parent)), t1 - t0, t2 - t1, 0.0, reused_order)
        h = cls(topology, data, stats)
        log.debug("hierarchy: %s", h.stats)
        return h

    def customise(self, graph: csr_matrix) -> Hierarchy:
        """A hierarchy for new weights on the same graph (same nodes and arcs; weights ≥ 0).

        Only the customisation runs: the order and topology are shared with
        this one. ``graph`` must have this hierarchy's sparsity pattern
        (e.g. the same edges with other speeds).
        """
        graph = csr_matrix(graph)
        if not self.same_arcs(graph):
            raise ValueError("customise needs the same arcs as the hierarchy's graph; build a new one instead")
        return Hierarchy(self.topology, _checked_weights(graph), self.stats)

    def same_arcs(self, graph: csr_matrix) -> bool:
        """True when ``graph`` has this hierarchy's nodes and arcs (whatever their weights)."""
        return self.topology.same_arcs(graph)

    def for_weights(self, graph: csr_matrix) -> Hierarchy:
        """This hierarchy if ``graph`` has the weights it was customised with, else :meth:`customise` (same arcs)."""
        graph = csr_matrix(graph)
        if self.same_arcs(graph) and np.array_equal(graph.data, self.weights):
            return self
        return self.customise(graph)

    def order_for(self, n_total: int) -> np.ndarray:
        """Elimination order for a graph with the same first n nodes plus ``n_total − n`` new ones.

        New nodes (indexes n …) come first: they are the junctions of a
        scenario road or attached points, usually of degree 1–2, so
        eliminating them first adds few arcs.
        """
        if n_total < self.n:
            raise ValueError("the new graph has fewer nodes than the hierarchy")
        return np.r_[np.arange(self.n, n_total), self.topology.order].astype(np.int64)

    # ------------------------------------------------------------------ queries
    def many_to_many(self, sources, target_groups) -> np.ndarray:
        """Times (len(sources) × len(target_groups)) from each source node to the nearest node of each group.

        ``target_groups`` is a list of node-index sequences (one node each for
        a plain matrix); an empty group gives ``inf``.
        """
        sources = np.atleast_1d(np.asarray(sources, dtype=np.int64))
        groups = [np.atleast_1d(np.asarray(g, dtype=np.int64)).ravel() for g in target_groups]
        ptr = np.r_[0, np.cumsum([len(g) for g in groups])].astype(np.int64)
        nodes = np.concatenate(groups) if groups else np.empty(0, np.int64)
        return self.many_to_many_flat(sources, ptr, nodes)

    def many_to_many_flat(self, sources: np.ndarray, group_ptr: np.ndarray, group_nodes: np.ndarray) -> np.ndarray:
        """:meth:`many_to_many` with the groups given flat: group j is ``group_nodes[group_ptr[j]:group_ptr[j + 1]]``
        (int64 arrays; e.g. ``arange(k + 1)`` and k single nodes for a plain matrix)."""
        sources = np.asarray(sources, dtype=np.int64)
        self._check(sources)
        self._check(group_nodes)
        out = np.full((len(sources), len(group_ptr) - 1), np.inf)
        if len(sources) and len(group_ptr) > 1:
            t = self.topology
            kernel = _many_to_few if len(group_ptr) - 1 <= FEW_GROUPS_MAX else _many_to_many
            kernel(self.n, t.up_ptr, t.up_head, self.fwd, self.bwd, t.parent, t.rank[sources], group_ptr,
                   t.rank[group_nodes], out, *self._work_arrays())
        return out

    def one_to_all(self, sources, out: np.ndarray | None = None, unreachable: float = np.inf) -> np.ndarray:
        """Times from each source to every node (len(sources) × n), by PHAST sweeps.

        ``out``: a C-contiguous float64 array of that shape to fill (no new allocation);
        ``unreachable``: the value where there is no path (``inf``; the Router asks for NaN).
        """
        sources = np.atleast_1d(np.asarray(sources, dtype=np.int64))
        self._check(sources)
        if out is None:
            out = np.empty((len(sources), self.n))
        elif out.shape != (len(sources), self.n) or out.dtype != np.float64 or not out.flags.c_contiguous:
            raise ValueError(f"out must be a C-contiguous float64 array of shape ({len(sources)}, {self.n})")
        if len(sources):
            t = self.topology
            _one_to_all(self.n, t.up_ptr, t.up_head, self.fwd, self.bwd, t.parent, t.rank, sources, out,
                        min(SWEEP_BLOCK, len(sources)), float(unreachable))
        return out

    def _work_arrays(self):
        """Work arrays of the query kernels, allocated once per hierarchy and left clean after each query."""
        if self._work is None:
            self._work = (np.full(self.n, np.inf), np.full(self.n, -1, np.int64), np.full(self.n, -1, np.int64),
                          np.empty(self.n, np.int64))
        return self._work

    def _check(self, idx):
        if idx.size and (idx.min() < 0 or idx.max() >= self.n):
            raise IndexError(f"node index out of range 0…{self.n - 1}")


@njit(cache=True)
def _tree_height(parent):
    """Nodes on the longest elimination-tree path (parents have higher ranks: filled top-down)."""
    depth = np.ones(len(parent), np.int64)
    best = 0
    for x in range(len(parent) - 1, -1, -1):
        if parent[x] >= 0:
            depth[x] = depth[parent[x]] + 1
        best = max(best, depth[x])
    return best


def _checked_weights(graph: csr_matrix) -> np.ndarray:
    data = graph.data.astype(np.float64)
    if data.size and (not np.all(np.isfinite(data)) or data.min() < 0):
        raise ValueError("weights must be finite and ≥ 0")
    return data
