"""How good are the travel times: modelled vs published observations.

An *observations* file (CSV, the format of ``observed_travel_times.csv``
named in the region's ``validation: {observed_file: …}``) has one row per
published statement: ``origin``, ``destination``, ``origin_lon``,
``origin_lat``, ``destination_lon``, ``destination_lat`` (degrees, WGS 84),
``km`` (road distance), ``minutes_min`` / ``minutes_max`` (drive time range;
blank = distance only), ``route`` (as stated) and ``source_url`` (or
``source``). Other columns (``quote``, ``year`` …) are carried through.

:func:`validate` routes each row on the road network the same way the access
report does (points joined to their nearest edge, access legs at the access
speed) and returns, one row per observation in the same order:

model_minutes : fastest time by road (minutes); NaN with ``reason``.
model_km : length of that fastest route (km): network edges on it plus the
    straight legs from each point to the first/last network node used.
km_error : (model_km − km) / km, signed (NaN when either is unknown).
minutes_error : relative distance of model_minutes outside the observed
    range: (model − max) / max above it, (model − min) / min below it, 0
    inside (NaN when no time was observed).
route_km_by_class : km of the route by road class and setting (text), so a
    planner sees which assumptions a time rests on.
assumed_share : share of the route's km whose speed is an assumption of
    unknown class (the ``default_class`` of the speed model) or access leg.
missing_road : the stated route names a road the network lacks (a
    configured corridor with no edge), e.g. "CT.01 not in the network".
network : which network was used (``edges.attrs["summary"]["network"]``).

:func:`summarise` gives the medians (of absolute errors) written to
``validation.json``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import InputError
from geo.routing.paths import fastest_route
from geo.routing.roadref import match_corridor
from layers import access, networks
from layers.region import Region

log = logging.getLogger(__name__)

REQUIRED = ("origin", "destination", "origin_lon", "origin_lat", "destination_lon", "destination_lat", "km",
            "minutes_min", "minutes_max", "route")

RESULT_COLUMNS = ["origin", "destination", "route", "km", "minutes_min", "minutes_max", "model_km", "model_minutes",
                  "km_error", "minutes_error", "assumed_share", "route_km_by_class", "missing_road", "reason", "source",
                  "network"]


@dataclass(frozen=True)
class ObservationLegs:
    """Per observation, the route split into what its time depends on (used by calibration).

    ``km`` is a DataFrame (one row per observation) of route km by
    ``<road_class> <setting>`` plus ``access`` (the two access legs);
    ``minutes_fixed`` the minutes of edges whose speed is a posted limit
    (maxspeed) and so not a class speed.
    """

    km: pd.DataFrame
    minutes_fixed: np.ndarray


def observations_file(region: Region) -> Path:
    """The region's observations file (``validation.observed_file`` in the --data folder)."""
    return region.path("validation", "observed_file")


def read_observations(path) -> pd.DataFrame:
    """Read and check an observations CSV (errors name the file and the problem).

    >>> import io, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "obs.csv")
    >>> _ = open(p, "w").write("origin,destination,origin_lon,origin_lat,destination_lon,destination_lat,km,minutes_min,minutes_max,route,source_url\\n"
    ...                        "A,B,106.1,21.2,106.2,21.3,20,,,QL1A,https://x\\n")
    >>> read_observations(p)[["origin", "km", "minutes_min", "source"]].values.tolist()
    [['A', 20.0, nan, 'https://x']]
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "observations file not found")
    try:
        table = pd.read_csv(path, dtype={"origin": str, "destination": str, "route": str})
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError(path, f"not a readable CSV ({str(exc).splitlines()[0]})") from None
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        raise InputError(path, f"observations need column(s) {', '.join(missing)}")
    if "source" not in table.columns:
        if "source_url" not in table.columns:
            raise InputError(path, "observations need a 'source' or 'source_url' column (where each figure was published)")
        table["source"] = table["source_url"]
    if table.empty:
        raise InputError(path, "contains no observation")
    for col in ("origin_lon", "origin_lat", "destination_lon", "destination_lat", "km", "minutes_min", "minutes_max"):
        values = pd.to_numeric(table[col], errors="coerce")
        bad = values.isna() & table[col].notna()
        if bad.any():
            raise InputError(path, f"column {col}, row {int(np.flatnonzero(bad)[0]) + 2}: '{table[col][bad].iloc[0]}' is not a number")
        table[col] = values.astype(float)
    for col in ("origin_lon", "origin_lat", "destination_lon", "destination_lat"):
        if table[col].isna().any():
            raise InputError(path, f"column {col}, row {int(np.flatnonzero(table[col].isna())[0]) + 2}: coordinate missing")
    lon_ok = table[["origin_lon", "destination_lon"]].abs().le(180).all(axis=1)
    lat_ok = table[["origin_lat", "destination_lat"]].abs().le(90).all(axis=1)
    if not (lon_ok & lat_ok).all():
        raise InputError(path, f"row {int(np.flatnonzero(~(lon_ok & lat_ok))[0]) + 2}: coordinates are not degrees (lon, lat)")
    only_one = table["minutes_min"].isna() != table["minutes_max"].isna()
    table.loc[only_one, "minutes_min"] = table.loc[only_one, ["minutes_min", "minutes_max"]].min(axis=1)
    table.loc[only_one, "minutes_max"] = table.loc[only_one, "minutes_min"]
    inverted = table["minutes_min"] > table["minutes_max"]
    if inverted.any():
        raise InputError(path, f"row {int(np.flatnonzero(inverted)[0]) + 2}: minutes_min is above minutes_max")
    if ((table["km"] <= 0) | (table["minutes_min"] <= 0)).any():
        raise InputError(path, "km and minutes must be positive")
    table.attrs["source_file"] = str(path)
    return table.reset_index(drop=True)


def minutes_error(model_minutes, minutes_min, minutes_max) -> np.ndarray:
    """Relative error outside the observed range; 0 inside; NaN without an observed time.

    >>> minutes_error([40, 60, 90, 70], [50, 50, 50, np.nan], [70, 70, 70, np.nan]).round(3).tolist()
    [-0.2, 0.0, 0.286, nan]
    """
    m = np.asarray(model_minutes, dtype=float)
    lo = np.asarray(minutes_min, dtype=float)
    hi = np.asarray(minutes_max, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(m < lo, (m - lo) / lo, np.where(m > hi, (m - hi) / hi, 0.0))
    out[np.isnan(m) | np.isnan(lo) | np.isnan(hi)] = np.nan
    return out


def route_observations(region: Region, observations: pd.DataFrame, net: networks.Networks):
    """Fastest routes of every observation: (results DataFrame, :class:`ObservationLegs`).

    See the module docstring for the columns. Both ends join the road network
    like the access report's destinations (within ``access.destination_max_snap_m``).
    """
    cfg = access.settings_of(region, net.model)
    n = len(observations)
    origins = gpd.GeoDataFrame(geometry=gpd.points_from_xy(observations["origin_lon"], observations["origin_lat"]), crs="EPSG:4326")
    dests = gpd.GeoDataFrame(geometry=gpd.points_from_xy(observations["destination_lon"], observations["destination_lat"]),
                             crs="EPSG:4326")
    router, o_idx, o_snap, o_why = net.attach(net.road, origins, cfg["destination_max_snap_m"], cfg["access_speed_kmh"])
    router, d_idx, d_snap, d_why = net.attach(router, dests, cfg["destination_max_snap_m"], cfg["access_speed_kmh"])
    edges = net.road_edges
    eu = router.index_of(edges["u"].to_numpy())
    ev = router.index_of(edges["v"].to_numpy())
    w = edges["travel_time_s"].to_numpy(float)
    length = edges["length_m"].to_numpy(float)
    link = edges["link"].fillna(False).astype(bool).to_numpy() if "link" in edges else np.zeros(len(edges), bool)
    key = np.where(link, edges["road_class"].astype(str) + " link",
                   edges["road_class"].astype(str) + " " + edges["setting"].astype(str)).astype(object)
    fixed = _fixed_speed(edges)
    o_xy = np.column_stack(_metric_xy(origins, router.crs))
    d_xy = np.column_stack(_metric_xy(dests, router.crs))
    node_xy = np.column_stack([net.road_nodes["x"].to_numpy(float), net.road_nodes["y"].to_numpy(float)])
    node_pos = pd.Index(router.index_of(net.road_nodes["node_id"].to_numpy()))
    default = net.model.default_class if net.model is not None else "unknown"

    rows, km_rows, fixed_minutes = [], [], np.zeros(n)
    for i in range(n):
        why = o_why[i] or d_why[i]
        row = {"model_minutes": np.nan, "model_km": np.nan, "route_km_by_class": None, "assumed_share": np.nan,
               "reason": None if why is None else ("origin " + o_why[i] if o_why[i] else "destination " + d_why[i])}
        km_by = {}
        if why is None:
            route = fastest_route(router, int(o_idx[i]), int(d_idx[i]), eu, ev, w)
            if np.isnan(route.seconds):
                row["reason"] = "no road route (different network components)"
            else:
                legs = 0.0
                for point, node in ((o_xy[i], route.first), (d_xy[i], route.last)):
                    if node >= 0 and node in node_pos:
                        legs += float(np.hypot(*(point - node_xy[node_pos.get_loc(node)])))
                on = route.edges
                km_by = pd.Series(length[on] / 1000.0).groupby(key[on]).sum().to_dict()
                km_by["access"] = legs / 1000.0
                row["model_minutes"] = route.seconds / 60.0
                row["model_km"] = float(length[on].sum() + legs) / 1000.0
                row["route_km_by_class"] = "; ".join(f"{k} {v:.1f}" for k, v in sorted(km_by.items(), key=lambda kv: -kv[1]))
                assumed = sum(v for k, v in km_by.items() if k.split(" ")[0] in (default, "access"))
                row["assumed_share"] = assumed / max(sum(km_by.values()), 1e-9)
                fixed_minutes[i] = float(w[on][fixed[on]].sum()) / 60.0
                for k in [k for k in km_by if k != "access"]:
                    km_by[k] -= float(length[on][fixed[on] & (key[on] == k)].sum()) / 1000.0
                if route.ties:
                    row["reason"] = "several routes are equally fast; model_km counts their edges together"
        rows.append(row)
        km_rows.append(km_by)
    result = pd.DataFrame(rows, index=observations.index)
    legs = ObservationLegs(km=pd.DataFrame(km_rows, index=observations.index).fillna(0.0), minutes_fixed=fixed_minutes)
    return result, legs


def validate(region: Region, observations: pd.DataFrame, net: networks.Networks) -> pd.DataFrame:
    """The validation table (module docstring), one row per observation of ``observations``
    (:func:`read_observations`), same order, routed on ``net``. Arguments in the order of every analysis:
    region, features, networks."""
    from layers.networks.routers import require_networks

    require_networks(net, "validate(region, observations, net)")
    routed, _ = route_observations(region, observations, net)
    out = observations[["origin", "destination", "route", "km", "minutes_min", "minutes_max", "source"]].copy()
    for col in ("model_km", "model_minutes", "route_km_by_class", "assumed_share", "reason"):
        out[col] = routed[col].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["km_error"] = (out["model_km"] - out["km"]) / out["km"]
    out["minutes_error"] = minutes_error(out["model_minutes"], out["minutes_min"], out["minutes_max"])
    out["missing_road"] = [_missing_road(region, net, r) for r in out["route"]]
    out["network"] = net.network_name
    extra = [c for c in observations.columns if c not in out.columns and c not in REQUIRED and not c.endswith(("_lon", "_lat"))]
    out = pd.concat([out[RESULT_COLUMNS], observations[extra]], axis=1)
    out.attrs["summary"] = summarise(out)
    return out


def summarise(table: pd.DataFrame) -> dict:
    """Medians of the absolute errors and counts, for ``validation.json``.

    >>> t = pd.DataFrame({"km_error": [0.1, -0.3, np.nan], "minutes_error": [0.0, 0.5, np.nan],
    ...                   "network": ["today"] * 3, "missing_road": [None, "CT.01", None]})
    >>> s = summarise(t); s["median_abs_km_error"], s["median_abs_minutes_error"], s["rows_with_time"]
    (0.2, 0.25, 2)
    """
    km = table["km_error"].abs().dropna()
    mins = table["minutes_error"].abs().dropna()
    return {
        "observations": int(len(table)),
        "rows_with_distance": int(len(km)),
        "rows_with_time": int(len(mins)),
        "median_abs_km_error": round(float(km.median()), 4) if len(km) else None,
        "median_abs_minutes_error": round(float(mins.median()), 4) if len(mins) else None,
        "mean_abs_km_error": round(float(km.mean()), 4) if len(km) else None,
        "mean_abs_minutes_error": round(float(mins.mean()), 4) if len(mins) else None,
        "rows_inside_time_range": int((mins == 0).sum()),
        "rows_missing_a_road": int(table["missing_road"].notna().sum()) if "missing_road" in table else 0,
        "network": str(table["network"].iloc[0]) if len(table) and "network" in table else None,
        "error_definitions": {
            "km_error": "(model_km - km) / km",
            "minutes_error": "(model - max) / max above the observed range, (model - min) / min below it, 0 inside",
        },
    }


def write_validation(table: pd.DataFrame, out: Path, extra: dict | None = None) -> dict:
    """Write ``OUT/validation.csv`` and ``OUT/validation.json`` (atomic); returns the paths."""
    from geo.io.output import write_csv, write_json

    out = Path(out)
    write_csv(table, out / "validation.csv")
    write_json({**table.attrs.get("summary", summarise(table)), **(extra or {})}, out / "validation.json")
    return {"csv": out / "validation.csv", "json": out / "validation.json"}


def _missing_road(region: Region, net: networks.Networks, route) -> str | None:
    """A configured corridor named in the stated route that has no edge in the network."""
    if not isinstance(route, str) or not route.strip():
        return None
    present = set(";".join(net.road_edges["corridor_id"].dropna().astype(str)).split(";"))
    found = []
    for part in route.replace("/", ";").replace("(", ";").split(";"):
        cid = match_corridor(part, part, region.corridors)
        if cid and cid not in present:
            found.append(f"{region.corridors[cid].get('name_vi', cid)} is not in the network ({net.network_name})")
    return "; ".join(dict.fromkeys(found)) or None


def _fixed_speed(edges: pd.DataFrame) -> np.ndarray:
    """Edges whose speed comes from a posted limit (maxspeed) rather than a class speed."""
    source = edges["speed_source"].astype(str) if "speed_source" in edges else pd.Series("", index=edges.index)
    return source.str.contains("maxspeed=", regex=False).to_numpy()


def _metric_xy(points: gpd.GeoDataFrame, crs) -> tuple[np.ndarray, np.ndarray]:
    pts = points.to_crs(crs).geometry
    return pts.x.to_numpy(), pts.y.to_numpy()
