"""The library API, ``import bgplan`` (issue 22): its names, one signature, documented units, the README's example.

The README's "Python" example is taken from README.md and executed as it stands (on the open-data bundle), so the
documentation cannot drift from what the package does.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest

import bgplan

REPO = Path(__file__).resolve().parent.parent

#: The analyses of the public API with their uniform signature.
ANALYSES = ("access", "isochrones", "matrix", "scenario", "site", "sensitivity", "communes", "validate", "run",
            "calibrate", "scenario_batch")


def test_all_lists_the_public_api():
    assert {"load_region", "access", "isochrones", "matrix", "scenario", "site", "sensitivity", "communes", "validate",
            "run"} <= set(bgplan.__all__)
    assert all(hasattr(bgplan, name) for name in bgplan.__all__)
    assert bgplan.NetworkOptions.__module__ == "layers.networks.options"


@pytest.mark.parametrize("name", ANALYSES)
def test_every_analysis_has_one_signature_and_numpydoc(name):
    fn = getattr(bgplan, name)
    params = list(inspect.signature(fn).parameters.values())
    assert [p.name for p in params][1:] == ["network", "population", "options"], name
    assert params[0].name in ("region", "region_or_points") and params[0].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert params[1].default is None and params[1].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is None for p in params[2:]), name
    doc = inspect.getdoc(fn)
    assert "Returns\n-------" in doc, name
    assert "Parameters\n----------" in doc, name


def test_units_are_named_where_the_results_are_described():
    for name, units in (("access", ("minutes", "metres", "people")), ("isochrones", ("km²", "minutes", "people")),
                        ("matrix", ("minutes", "metres")), ("site", ("metres", "hectares"))):
        doc = inspect.getdoc(getattr(bgplan, name))
        assert all(u in doc for u in units), (name, [u for u in units if u not in doc])


def test_options_check_themselves():
    from geo.errors import InputError

    with pytest.raises(InputError, match="nope.yaml"):
        bgplan.NetworkOptions(speeds="nope.yaml")
    with pytest.raises(InputError, match="--minutes 0"):
        bgplan.IsochroneOptions(minutes=[0])
    with pytest.raises(InputError, match="nope.csv"):
        bgplan.AccessOptions(parks="nope.csv")
    assert bgplan.IsochroneOptions(minutes=[60, 15]).minutes == (15.0, 60.0)


def test_points_need_the_networks_they_lie_in():
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([106.2], [21.3]), crs=4326)
    with pytest.raises(TypeError, match="give the networks"):
        bgplan.access(pts)


def _readme_example() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Python\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert blocks, "README.md: the Python section has no ```python example"
    return blocks[0]


@pytest.fixture(scope="module")
def readme_run():
    """The README's example executed as it stands; its variables and what it printed."""
    namespace: dict = {}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(_readme_example(), "README.md (Python)", "exec"), namespace)
    return namespace, printed.getvalue()


def test_readme_python_example_runs(readme_run):
    ns, printed = readme_run
    parks, iso, old = ns["parks"], ns["iso"], ns["old"]
    assert isinstance(parks, gpd.GeoDataFrame) and parks.crs.to_epsg() == 4326
    assert len(parks) >= 25 and parks["minutes_to_kep_station"].notna().sum() >= 25
    low, mid, high = (parks[f"minutes{k}_to_kep_station"].to_numpy(float) for k in ("_low", "", "_high"))
    ok = ~np.isnan(mid)
    assert (low[ok] <= mid[ok] + 1e-9).all() and (mid[ok] <= high[ok] + 1e-9).all()
    assert sorted(iso["minutes"]) == [30.0, 60.0] and iso["area_km2"].is_monotonic_increasing
    assert (iso["people_within"] > 0).all()
    assert list(old["name"]) == list(parks["name"]) and "2018" in old["network"].iloc[0]
    assert "median minutes to Kép, 2018 → today:" in printed


def test_one_network_per_region_object(readme_run):
    """The example's three calls built today's network once and the 2018 one once: asking again returns them."""
    from layers.networks import NetworkOptions

    ns, _ = readme_run
    region = ns["region"]
    assert bgplan.network(region) is bgplan.network(region, NetworkOptions())
    assert bgplan.network(region, NetworkOptions(network="2018")) is not bgplan.network(region)
    # and the points API on those networks: the same minutes for the same points
    parks = ns["parks"]
    again = bgplan.access(parks[["name", "geometry"]].head(3), bgplan.network(region),
                          options=bgplan.AccessOptions(rail=False, ranges=False))
    assert np.allclose(again["minutes_to_kep_station"], parks["minutes_to_kep_station"].head(3), equal_nan=True)
