"""Calibrating the assumed speeds of the region's speed model to observed travel times.

:func:`calibrate` fits the parameters of the model's ``calibration``
section (:mod:`geo.routing.calibration`: unknown-class speeds, urban congestion
factor, access-leg speed — never a legal limit) to the observations that
have a drive time, re-routing with the fitted speeds until the routes settle
(at most ``iterations`` times). It also reports the *leave-one-out* error:
each timed observation predicted by a fit that did not see it, so a planner
can tell a model that generalises from one that memorised the rows.

:func:`write_calibrated_model` writes the fitted model as a speed model YAML
that ``--speeds FILE`` reads (every fitted number says it was calibrated, from
what, and within which bounds).
"""

from __future__ import annotations

import datetime as _dt
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from geo.routing.calibration import Parameter, fit, model_with, parameters
from geo.errors import InputError
from geo.routing.multimodal import router_arrays
from geo.io.output import atomic_path
from geo.routing.router import Router
from geo.routing.speeds import SpeedModel
from layers import access, networks
from layers.region import Region
from layers.validation import minutes_error, route_observations

log = logging.getLogger(__name__)


@dataclass
class CalibrationResult:
    """Fitted model, the parameter table, per-observation errors (before / after / leave-one-out) and a summary."""

    model: SpeedModel
    parameters: pd.DataFrame
    rows: pd.DataFrame
    summary: dict = field(default_factory=dict)


def reweighted(net: networks.Networks, model: SpeedModel) -> networks.Networks:
    """The same road network with speeds and travel times from ``model`` (no rail)."""
    edges = networks.apply_speed_model(net.road_edges, model, ranges=False)
    edges.attrs = dict(net.road_edges.attrs)
    arrays = router_arrays(net.road_nodes, edges)
    road = net.road
    if np.array_equal(road.node_ids[road.edge_u], arrays["u"]) and np.array_equal(road.node_ids[road.edge_v], arrays["v"]):
        router = road.with_weights(arrays["weight"])      # same edges: the hierarchy is re-customised, not rebuilt
    else:
        router = Router.from_arrays(**arrays, directed=road.directed, crs=road.crs)
    return networks.Networks(road=router, road_nodes=net.road_nodes, road_edges=edges, notes=list(net.notes), model=model,
                             network_name=net.network_name, region=net.region, options=net.options)


def _minutes(region: Region, net: networks.Networks, observations: pd.DataFrame, model: SpeedModel) -> np.ndarray:
    routed, _ = route_observations(region, observations, reweighted(net, model))
    return routed["model_minutes"].to_numpy(float)


def _fit_rows(region, net, obs: pd.DataFrame, model: SpeedModel, params: list[Parameter], iterations: int):
    values = np.array([p.start for p in params])
    access_kmh = access.settings_of(region, model)["access_speed_kmh"]
    for _ in range(iterations):
        routed, legs = route_observations(region, obs, reweighted(net, model_with(model, params, values)))
        ok = routed["model_minutes"].notna().to_numpy()
        new = fit(legs.km.loc[ok], legs.minutes_fixed[ok], obs["minutes_min"].to_numpy()[ok],
                  obs["minutes_max"].to_numpy()[ok], model, params, access_kmh)
        settled = np.allclose(new, values, rtol=0.005)
        values = new
        if settled:
            break
    return values


def calibrate(region: Region, observations: pd.DataFrame, net: networks.Networks, *, iterations: int = 3,
              leave_one_out: bool = True) -> CalibrationResult:
    """Fit the model of ``net`` to the timed ``observations`` (see the module docstring). Arguments in the order
    of every analysis: region, features, networks, then keywords."""
    from layers.networks.routers import require_networks

    require_networks(net, "calibrate(region, observations, net)")
    model = net.model or networks.speed_model(region)
    params = parameters(model)
    if not params:
        raise InputError(model.source, "the speed model has no calibration.parameters: nothing may be fitted")
    timed = observations.loc[observations["minutes_min"].notna()]
    if len(timed) < 2:
        raise InputError(observations.attrs.get("source_file"), f"calibration needs at least 2 observations with a drive time, found {len(timed)}")
    values = _fit_rows(region, net, timed, model, params, iterations)
    fitted = model_with(model, params, values, note=f"calibrated to {len(timed)} observed drive times")
    before = _minutes(region, net, timed, model)
    after = _minutes(region, net, timed, fitted)
    rows = pd.DataFrame({"origin": timed["origin"].to_numpy(), "destination": timed["destination"].to_numpy(),
                         "minutes_min": timed["minutes_min"].to_numpy(), "minutes_max": timed["minutes_max"].to_numpy(),
                         "minutes_before": before, "minutes_after": after})
    rows["error_before"] = minutes_error(before, rows["minutes_min"], rows["minutes_max"])
    rows["error_after"] = minutes_error(after, rows["minutes_min"], rows["minutes_max"])
    if leave_one_out:
        loo = np.full(len(timed), np.nan)
        for j in range(len(timed)):
            rest = timed.drop(index=timed.index[j])
            v = _fit_rows(region, net, rest, model, params, iterations)
            loo[j] = _minutes(region, net, timed.iloc[[j]], model_with(model, params, v))[0]
        rows["minutes_leave_one_out"] = loo
        rows["error_leave_one_out"] = minutes_error(loo, rows["minutes_min"], rows["minutes_max"])
    table = pd.DataFrame({"path": [p.path for p in params], "start": [p.start for p in params], "min": [p.low for p in params],
                          "max": [p.high for p in params], "fitted": np.round(values, 3),
                          "at_bound": [bool(np.isclose(v, p.low) or np.isclose(v, p.high)) for v, p in zip(values, params)],
                          "basis": [p.basis for p in params]})

    def med(col):
        return round(float(rows[col].abs().median()), 4) if col in rows and rows[col].notna().any() else None

    summary = {"observations_timed": int(len(timed)), "model": str(model.source), "network": net.network_name,
               "median_abs_minutes_error_before": med("error_before"), "median_abs_minutes_error_after": med("error_after"),
               "median_abs_minutes_error_leave_one_out": med("error_leave_one_out"),
               "parameters": table.drop(columns="basis").to_dict(orient="records"),
               "note": "leave-one-out: each observation predicted by a fit without it; compare it with 'before' to see "
                       "whether calibration generalises or only memorises the rows"}
    log.info("calibration: median |error| %s → %s (leave-one-out %s)", summary["median_abs_minutes_error_before"],
             summary["median_abs_minutes_error_after"], summary["median_abs_minutes_error_leave_one_out"])
    return CalibrationResult(model=fitted, parameters=table, rows=rows, summary=summary)


def write_calibrated_model(result: CalibrationResult, path, observed_file=None) -> Path:
    """The fitted model as a speed model YAML (atomic write); ``--speeds`` reads it."""
    path = Path(path)
    raw = result.model.raw
    for p in result.parameters.itertuples(index=False):
        holder, parts = raw, p.path.split(".")
        for key in parts[:-1]:
            holder = holder[key]
        holder[parts[-1]] = round(float(holder[parts[-1]]), 3)
    raw = {**raw, "id": f"{raw.get('id', 'speeds')}-calibrated"}
    s = result.summary
    header = (f"# Calibrated speed model, written by plan.py calibrate on {_dt.date.today().isoformat()}\n"
              f"# from {result.model.source}, fitted to {s['observations_timed']} observed drive times"
              f"{' in ' + str(observed_file) if observed_file else ''}.\n"
              f"# Median |time error| outside the observed range: before {s['median_abs_minutes_error_before']}, "
              f"after {s['median_abs_minutes_error_after']}, leave-one-out {s['median_abs_minutes_error_leave_one_out']}.\n"
              "# Only the assumptions of the calibration section were fitted, within their bounds; legal limits never.\n")
    with atomic_path(path) as tmp:
        Path(tmp).write_text(header + yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
