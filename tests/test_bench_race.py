"""The routing bench's interleaved timing (scripts/bench_routing.py: race): fair to every entrant."""

from __future__ import annotations

from scripts.bench_routing import fastest, race


def test_race_runs_everyone_equally_and_varies_who_comes_before_whom():
    calls = []
    entrants = {name: (lambda name=name: calls.append(name) or name) for name in ("ours", "peer|a", "peer|b", "other")}
    got = race(entrants, 9)
    assert {k: calls.count(k) for k in entrants} == {k: 9 for k in entrants}
    assert {k: v[0] for k, v in got.items()} == {k: k for k in entrants}          # the first run's result
    before_ours = {calls[i - 1] for i in range(1, len(calls)) if calls[i] == "ours" and i % len(entrants)}
    assert len(before_ours) > 1        # not always after the same call (a peer's spinning threads would hit it each time)
    again = []
    for name in entrants:              # seeded: the same order in every run of the bench
        entrants[name] = lambda name=name: again.append(name)
    race(entrants, 9)
    assert again == calls


def test_race_cold_and_undo_and_fastest_way():
    calls, undone = [], []
    entrants = {"lib|slow": lambda: calls.append("slow") or sum(range(20000)), "lib|fast": lambda: calls.append("fast")}
    cold = {}
    got = race(entrants, 5, undo={"lib|slow": lambda: undone.append(1)}, cold=cold)
    assert len(calls) == 20 and len(undone) == 10 and set(cold) == set(entrants)   # twice per round with cold
    assert fastest(got)["lib"][2] == "fast"
