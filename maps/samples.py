"""Small hand-made analysis frames, shaped like the analysis outputs the maps accept.

The analyses (isochrones, access per park, suitability, candidate sites,
scenarios) are computed by other modules; until they exist — and to test
and benchmark the maps without them — :func:`sample_analyses` makes tiny
frames with the documented columns around real places of the layers.
They are NOT results: every value is invented and labelled "mẫu / sample".
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from shapely.geometry import LineString, Point, box

from geo import settings

SAMPLE = "mẫu / sample"


def sample_analyses(layers: dict) -> dict:
    """Sample ``isochrones``, ``access``, ``suitability``, ``candidates``, ``scenario``, ``planned_roads``, ``interchanges``.

    Centred on Ga Kép and the Bắc Giang city centre of the ``destinations``
    layer when present (else on fixed points near them). The access and
    scenario frames have the columns of ``plan.py access`` / ``plan.py
    scenario`` for the first five parks of ``industrial_parks``, with unknown
    values (and their reasons) where the real outputs have them.
    """
    dest = layers.get("destinations")
    places = {"kep_station": (106.29039, 21.41673), "bac_giang_city": (106.19388, 21.27793)}
    if dest is not None and "key" in dest:
        for _, r in dest.iterrows():
            if r["key"] in places:
                places[r["key"]] = (r.geometry.x, r.geometry.y)
    rings = []
    for origin, key in (("Ga Kép (mẫu / sample)", "kep_station"), ("TP Bắc Giang (mẫu / sample)", "bac_giang_city")):
        centre = gpd.GeoSeries([Point(places[key])], crs=settings.storage_crs).to_crs(settings.metric_crs).iloc[0]
        for minutes, radius_km, people in ((15, 6, 120000), (30, 14, 450000), (45, 24, 900000)):
            rings.append({"origin": origin, "minutes": minutes, "population": people,
                          "geometry": centre.buffer(radius_km * 1000, 32)})
    isochrones = gpd.GeoDataFrame(rings, crs=settings.metric_crs).to_crs(settings.storage_crs)

    parks = layers.get("industrial_parks")
    if parks is not None and "name" in parks and len(parks):
        sel = parks.head(5)
        names, points = list(sel["name"]), list(sel.geometry)
    else:
        names, points = ["KCN mẫu"], [Point(places["bac_giang_city"])]
    n = len(names)
    # shaped like layers.access.access_report (plan.py access → OUT/access.gpkg)
    access = gpd.GeoDataFrame({
        "name": names,
        "minutes_to_ct01": [np.nan] * n,
        "reason_ct01": ["CT.01 is not in the road network (sample)"] * n,
        "minutes_to_kep_station": [12.0 + 3 * i for i in range(n)],
        "reason_kep_station": [None] * n,
        "minutes_to_ha_noi_centre": [55.0 + 4 * i for i in range(n)],
        "reason_ha_noi_centre": [None] * n,
        "minutes_to_ha_noi_centre_road_rail": [70.0 + 4 * i for i in range(n)],
        "people_within_30_min": [100000.0 + 20000 * i for i in range(n)],
        "network_note": [SAMPLE] * n,
    }, geometry=points, crs=settings.storage_crs)
    access.loc[access.index[-1], "minutes_to_ha_noi_centre"] = np.nan       # unknown stays unknown
    access.loc[access.index[-1], "reason_ha_noi_centre"] = "no route (sample)"

    x0, y0 = places["bac_giang_city"]
    cells, scores = [], []
    for i in range(6):
        for j in range(6):
            cells.append(box(x0 + i * 0.02, y0 + j * 0.02, x0 + (i + 1) * 0.02, y0 + (j + 1) * 0.02))
            scores.append(round((i + j) / 10, 2))
    scores[7] = np.nan
    suitability = gpd.GeoDataFrame({"score": scores, "note": [SAMPLE] * len(cells)}, geometry=cells, crs=settings.storage_crs)
    candidates = gpd.GeoDataFrame({"rank": [1, 2, 3], "name": ["Địa điểm A", "Địa điểm B", "Địa điểm C"],
                                   "score": [0.92, 0.85, 0.8], "area_ha": [150.0, 80.0, np.nan]},
                                  geometry=[Point(x0 + 0.09, y0 + 0.09), Point(x0 + 0.05, y0 + 0.1), Point(x0 + 0.11, y0 + 0.03)],
                                  crs=settings.storage_crs)
    kx, ky = places["kep_station"]
    # shaped like layers.scenario.run_scenario (plan.py scenario → OUT/scenario.gpkg)
    scenario = gpd.GeoDataFrame({
        "name": names,
        "minutes_to_ct01_before": [np.nan] * n, "minutes_to_ct01_after": [20.0 + i for i in range(n)],
        "minutes_to_kep_station_before": [40.0, 25.0, 30.0, 35.0, 50.0][:n],
        "minutes_to_kep_station_after": [22.0, 25.0, 28.0, 35.0, 31.0][:n],
        "people_within_30_min_before": [100000.0] * n, "people_within_30_min_after": [120000.0] * n,
    }, geometry=points, crs=settings.storage_crs)
    planned_roads = gpd.GeoDataFrame({"name": ["Tuyến mẫu / sample road"], "road_class": ["expressway"],
                                      "design_speed_kmh": [100.0], "status": ["indicative"]},
                                     geometry=[LineString([(x0, y0), (kx, ky), (kx + 0.2, ky + 0.1)])], crs=settings.storage_crs)
    interchanges = gpd.GeoDataFrame({"name": ["Nút giao mẫu 1", "Nút giao mẫu 2"], "status": ["indicative"] * 2},
                                    geometry=[Point(x0, y0), Point(kx, ky)], crs=settings.storage_crs)
    return {"isochrones": isochrones, "access": access, "suitability": suitability, "candidates": candidates,
            "scenario": scenario, "planned_roads": planned_roads, "interchanges": interchanges}
