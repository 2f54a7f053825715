"""Fitting the assumed speeds of a speed model to observed travel times, within stated bounds.

The speed model's ``calibration`` section says which numbers are assumptions
that may be fitted and how far (each with its basis)::

    calibration:
      prior_weight: 0.25
      parameters:
        - {path: classes.unknown.rural.kmh, min: 25, max: 45, basis: "…"}
        - {path: congestion.urban_factor, min: 0.6, max: 1.0, start: 1.0, basis: "…"}
        - {path: access_leg.kmh, min: 10, max: 35, start: 20, basis: "…"}

A parameter whose path ends in a speed with basis "legal limit" (or under
``legal_limit``) is refused: a legal limit is a fact, never fitted.

The fit works on *route legs*: for each observation, the km of its fastest
route by ``"<class> <setting>"`` (``"<class> link"`` for links) and
``access`` (see :func:`layers.validation.route_observations`), plus minutes
that do not depend on the model (posted limits). Time = fixed minutes +
Σ 60 · km / speed. The objective is the sum of squared relative errors
*outside* the observed range (0 inside) plus ``prior_weight`` × Σ
((value − start) / (max − min))², which keeps an under-determined fit near
the stated assumption instead of memorising the rows. The caller re-routes
with the fitted speeds and fits again until the routes stop changing.

>>> model = SpeedModel.from_dict({"classes": {"unknown": {"rural": {"kmh": 30, "basis": "assumption"},
...     "urban": {"kmh": 25, "basis": "assumption"}}},
...     "calibration": {"prior_weight": 0.0, "parameters": [{"path": "classes.unknown.rural.kmh", "min": 20, "max": 60, "basis": "a"}]}})
>>> params = parameters(model)
>>> km = pd.DataFrame({"unknown rural": [40.0]})
>>> values = fit(km, np.zeros(1), [48.0], [48.0], model, params)
>>> round(float(values[0]), 1)
50.0
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from geo.errors import InputError
from geo.routing.speeds import SpeedModel


@dataclass(frozen=True)
class Parameter:
    """One fitted number: its dotted ``path`` in the model file, bounds, starting value and basis."""

    path: str
    low: float
    high: float
    start: float
    basis: str

    def __post_init__(self):
        if not (self.low < self.high) or not (self.low <= self.start <= self.high):
            raise ValueError(f"calibration parameter {self.path}: need min < max and start within them")


def parameters(model: SpeedModel) -> list[Parameter]:
    """The model's calibration parameters (errors name the model file)."""
    section = model.raw.get("calibration") or {}
    out = []
    for spec in section.get("parameters") or []:
        if not isinstance(spec, dict) or not {"path", "min", "max"} <= set(spec):
            raise InputError(model.source, "calibration.parameters: each needs path, min and max")
        path = str(spec["path"])
        parts = path.split(".")
        if "legal_limit" in parts:
            raise InputError(model.source, f"calibration parameter {path}: a legal limit is never fitted")
        holder = _get(model.raw, parts[:-1], default=None)
        if isinstance(holder, dict) and "legal limit" in str(holder.get("basis", "")).lower():
            raise InputError(model.source, f"calibration parameter {path}: its basis is a legal limit, which is never fitted")
        current = _get(model.raw, parts, default=spec.get("start"))
        if current is None:
            raise InputError(model.source, f"calibration parameter {path}: not in the model and no 'start' given")
        if not str(spec.get("basis") or "").strip():
            raise InputError(model.source, f"calibration parameter {path}: no 'basis' for its bounds")
        try:
            out.append(Parameter(path, float(spec["min"]), float(spec["max"]), float(current), str(spec["basis"])))
        except ValueError as exc:
            raise InputError(model.source, str(exc)) from None
    return out


def model_with(model: SpeedModel, params: list[Parameter], values, note: str = "calibrated") -> SpeedModel:
    """A copy of ``model`` with the parameters set to ``values`` (basis texts say so)."""
    raw = copy.deepcopy(model.raw)
    for p, value in zip(params, values):
        parts = p.path.split(".")
        _set(raw, parts, float(value))
        holder = _get(raw, parts[:-1], default=None)
        if isinstance(holder, dict) and "basis" in holder and parts[-1] == "kmh":
            holder["basis"] = f"{note} (was {p.start:g}; bounds {p.low:g}–{p.high:g}: {p.basis})"
        elif isinstance(holder, dict) and parts[-1] != "kmh":
            holder["basis"] = f"{note} (was {p.start:g}; bounds {p.low:g}–{p.high:g}: {p.basis})"
    return SpeedModel.from_dict(raw, source=model.source)


def model_at_bounds(model: SpeedModel) -> tuple[SpeedModel, SpeedModel]:
    """(slow, fast): the model with every calibration parameter at its lower / upper bound.

    Used for ranges: a time computed with the slow model is the high end of
    what the assumptions allow. Without parameters both are the model itself.
    """
    params = parameters(model)
    if not params:
        return model, model
    return (model_with(model, params, [p.low for p in params], "lower bound"),
            model_with(model, params, [p.high for p in params], "upper bound"))


def predict_minutes(km: pd.DataFrame, fixed_minutes, model: SpeedModel, params: list[Parameter], values,
                    access_kmh: float = 20.0) -> np.ndarray:
    """Minutes of each route (rows of ``km``) with the parameters at ``values``."""
    m = model_with(model, params, values) if params else model
    leg = (m.raw.get("access_leg") or {}).get("kmh")
    total = np.asarray(fixed_minutes, dtype=float).copy()
    for column in km.columns:
        if column == "access":
            speed = float(leg) if leg is not None else access_kmh
        else:
            road_class, setting = column.split(" ", 1)
            speed = m.speed(road_class, "rural" if setting == "link" else setting, link=setting == "link").kmh
            if setting == "urban":
                speed *= m.urban_factor
        total += 60.0 * km[column].to_numpy(float) / speed
    return total


def fit(km: pd.DataFrame, fixed_minutes, minutes_min, minutes_max, model: SpeedModel, params: list[Parameter],
        access_kmh: float = 20.0) -> np.ndarray:
    """Parameter values minimising the out-of-range error plus the prior (module docstring)."""
    if not params:
        return np.empty(0)
    lo = np.asarray(minutes_min, dtype=float)
    hi = np.asarray(minutes_max, dtype=float)
    weight = float((model.raw.get("calibration") or {}).get("prior_weight", 0.25))
    start = np.array([p.start for p in params])
    span = np.array([p.high - p.low for p in params])

    def objective(x):
        t = predict_minutes(km, fixed_minutes, model, params, x, access_kmh)
        err = np.where(t < lo, (t - lo) / lo, np.where(t > hi, (t - hi) / hi, 0.0))
        return float(np.sum(err ** 2) + weight * np.sum(((x - start) / span) ** 2))

    best = minimize(objective, start, method="L-BFGS-B", bounds=[(p.low, p.high) for p in params])
    return np.clip(best.x, [p.low for p in params], [p.high for p in params])


def _get(data, parts, default=None):
    for key in parts:
        if not isinstance(data, dict) or key not in data:
            return default
        data = data[key]
    return data


def _set(data, parts, value) -> None:
    for key in parts[:-1]:
        data = data.setdefault(key, {})
    data[parts[-1]] = value
