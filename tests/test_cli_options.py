"""Options that travel (issue 22): every subcommand honours each shared option it accepts — the network options reach
the networks it routes on, --boundaries the region it loads — or refuses it in one line (exit 2), before any work.

The networks are never built here: ``layers.networks.shared_networks`` (what every analysis asks for its networks)
is replaced by a stand-in that records what it was asked for and stops the command.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bgplan.cli import HONOURS, SHARED, build_parser, main
from geo.errors import InputError

REPO = Path(__file__).resolve().parent.parent
SPEEDS = REPO / "layers" / "regions" / "models" / "speeds-vn.yaml"


def test_the_command_names_itself_bgplan(capsys):
    assert build_parser().format_usage().startswith("usage: bgplan ")
    with pytest.raises(SystemExit):
        main(["--help"])
    assert capsys.readouterr().out.startswith("usage: bgplan ")


@pytest.mark.parametrize("command", ["site", "access", "communes", "validate", "isochrones", "matrix", "scenario",
                                     "sensitivity", "calibrate", "run"])
def test_a_missing_speeds_file_is_one_line(command, tmp_path, capsys):
    missing = tmp_path / "nope.yaml"
    assert main([command, "--speeds", str(missing), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("error: ") and str(missing) in err and "not found" in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


REFUSED = [(command, dest) for command, honoured in HONOURS.items() for dest in SHARED
           if dest not in honoured and dest not in ("quiet", "verbose")]


@pytest.mark.parametrize("command, dest", REFUSED, ids=[f"{c}-{d}" for c, d in REFUSED])
def test_an_unused_shared_option_is_refused(command, dest, tmp_path, capsys):
    flag, spec = SHARED[dest]
    value = [] if spec.get("action") == "store_true" else [str(SPEEDS) if spec.get("type") is Path else
                                                            (spec.get("choices") or ["x"])[-1]]
    argv = [command, flag[0], *value]
    if dest != "out" and "out" in HONOURS[command]:
        argv += ["--out", str(tmp_path / "out")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err == err.splitlines()[0] and f"{flag[0]} is not used by '{command}'" in err


class Stop(Exception):
    pass


@pytest.fixture
def asked(monkeypatch):
    """What the networks were asked for (region, options), the command stopped there (exit 2, one line)."""
    import layers.networks

    seen = []

    def stand_in(region, options=None, **kwargs):
        seen.append((region, options))
        raise InputError(None, "stand-in: networks asked for")

    monkeypatch.setattr(layers.networks, "shared_networks", stand_in)
    return seen


ROUTING = {  # command → extra arguments that get it to its networks quickly
    "access": [], "matrix": [], "isochrones": [], "scenario": [], "validate": [], "calibrate": [],
    "site": ["--cell-size", "2000", "--no-sensitivity", "--no-dem"],
    "sensitivity": ["--cell-size", "2000", "--no-dem", "--runs", "10"],
    "communes": ["--region", "bac-ninh-2025"],
}


@pytest.mark.parametrize("command", sorted(ROUTING))
def test_network_options_reach_the_networks(command, asked, shared_data, tmp_path, capsys):
    """--network, --speeds, --vehicle and --roads given to a subcommand are the options its networks are built with."""
    overlay = REPO / "layers" / "roads" / "ql1-bac-ninh-bypass-expressway-classes.geojson"
    argv = [command, *ROUTING[command], "--data", str(shared_data), "--network", "2018", "--speeds", str(SPEEDS),
            "--vehicle", "truck", "--roads", str(overlay), "--out", str(tmp_path / "out"), "--quiet"]
    assert main(argv) == 2
    assert "stand-in: networks asked for" in capsys.readouterr().err
    region, options = asked[-1]
    assert (options.network, options.speeds, options.vehicle, options.roads) == ("2018", SPEEDS, "truck", (overlay,))


@pytest.mark.parametrize("command", ["validate", "calibrate", "sensitivity", "access"])
def test_boundaries_reach_the_region(command, asked, shared_data, tmp_path, capsys):
    argv = [command, *ROUTING[command], "--data", str(shared_data), "--boundaries", "gadm",
            "--out", str(tmp_path / "out"), "--quiet"]
    assert main(argv) == 2, capsys.readouterr().err
    region, _ = asked[-1]
    assert region.boundaries == "gadm"


def test_osm_reaches_the_networks_of_communes(asked, shared_data, tmp_path, capsys):
    """communes --osm: the extract's roads make the network the communes are timed on."""
    osm = REPO / "tests" / "fixtures" / "bac_giang_tagging.osm"
    assert main(["communes", "--region", "bac-ninh-2025", "--data", str(shared_data), "--osm", str(osm),
                 "--out", str(tmp_path / "out"), "--quiet"]) == 2
    assert "stand-in: networks asked for" in capsys.readouterr().err
    assert asked[-1][1].osm == osm
