"""Which edges a fastest route uses, from two searches on a :class:`~geo.routing.router.Router`.

Only the Router's public methods are used: one search *from* the origin
(:meth:`Router.travel_times`) and one *towards* the destination
(:meth:`Router.nearest_facility`, which runs backwards on directed graphs).
An edge ``u → v`` with weight ``w`` lies on a fastest route when
``T_from(u) + w + T_to(v) = T_total`` (to a relative tolerance); a node lies
on it when ``T_from(n) + T_to(n) = T_total``. On float weights ties are
rare; where two routes are exactly as fast, both are counted (reported).

>>> from geo.routing.router import Router
>>> r = Router.from_arrays([1, 2, 3, 4], x=[0, 1, 2, 1], y=[0, 0, 0, 5], u=[1, 2, 1, 4], v=[2, 3, 4, 3],
...                        weight=[10.0, 10.0, 30.0, 30.0])
>>> route = fastest_route(r, 0, 2, [0, 1, 0, 3], [1, 2, 3, 2], [10.0, 10.0, 30.0, 30.0])
>>> route.seconds, route.edges.tolist()
(20.0, [0, 1])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from geo.routing.router import Router

#: Relative tolerance when comparing sums of travel times (seconds).
RTOL = 1e-7


@dataclass(frozen=True)
class Route:
    """A fastest route: ``seconds`` (NaN when unreachable), positions of the ``edges`` used
    (in the arrays given), the ``first`` and ``last`` on-route nodes of the given edges
    (router indexes, −1 when none) and ``ties`` (True when more than one route is as fast)."""

    seconds: float
    edges: np.ndarray
    first: int
    last: int
    ties: bool


def fastest_route(router: Router, origin: int, destination: int, edge_u, edge_v, edge_weight,
                  directed: bool | None = None) -> Route:
    """The edges (positions in ``edge_u/edge_v/edge_weight``) of the fastest route ``origin → destination``.

    ``origin`` / ``destination`` are router indexes; ``edge_u`` / ``edge_v``
    router indexes of the edges to test (usually the base network's edges,
    without the access links of attached points); ``edge_weight`` their
    weights in the router's unit (seconds). ``directed`` defaults to the
    router's.
    """
    directed = router.directed if directed is None else directed
    t_from = router.travel_times([origin])[0]
    t_to, _ = router.nearest_facility([destination], towards=True)
    total = float(t_from[destination])
    u = np.asarray(edge_u, dtype=np.int64)
    v = np.asarray(edge_v, dtype=np.int64)
    w = np.asarray(edge_weight, dtype=float)
    if not np.isfinite(total):
        return Route(np.nan, np.empty(0, np.int64), -1, -1, False)
    tol = max(RTOL * total, 1e-6)
    with np.errstate(invalid="ignore"):
        forward = np.abs(t_from[u] + w + t_to[v] - total) <= tol
        if not directed:
            forward |= np.abs(t_from[v] + w + t_to[u] - total) <= tol
    used = np.flatnonzero(forward)
    ends = np.unique(np.r_[u[used], v[used]])
    first = int(ends[np.argmin(t_from[ends])]) if len(ends) else -1
    last = int(ends[np.argmin(t_to[ends])]) if len(ends) else -1
    # Nodes on a fastest route: a simple path has (edges + 1) nodes; more edges than that means ties.
    ties = bool(len(used) and len(used) != len(ends) - 1)
    return Route(total, used, first, last, ties)
