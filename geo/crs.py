"""Coordinate reference systems: metric work in UTM 48N, storage in WGS 84.

Vietnamese offices deliver data in VN-2000. The national 3-degree grids
("TM-3") are in the EPSG registry as 9205-9218; Bắc Giang's provincial grid
is VN-2000 / TM-3 107-00 (EPSG:9214, central meridian 107°E, k = 0.9999).
PROJ applies the 7-parameter Helmert shift of Decision 05/2007/QĐ-BTNMT
("VN-2000 to WGS 84 (2)"), so reprojection is right to about a metre.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from geo import settings

#: VN-2000 3-degree grids by central meridian, as used by provincial offices.
VN2000_TM3 = {
    "103-00": "EPSG:9205", "104-00": "EPSG:9206", "104-30": "EPSG:9207",
    "104-45": "EPSG:9208", "105-30": "EPSG:9209", "105-45": "EPSG:9210",
    "106-00": "EPSG:9211", "106-15": "EPSG:9212", "106-30": "EPSG:9213",
    "107-00": "EPSG:9214", "107-15": "EPSG:9215", "107-30": "EPSG:9216",
    "108-15": "EPSG:9217", "108-30": "EPSG:9218",
}


def to_metric(gdf: gpd.GeoDataFrame, crs: str | None = None) -> gpd.GeoDataFrame:
    """Return ``gdf`` in the metric CRS (UTM 48N unless ``crs`` is given).

    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> g = gpd.GeoDataFrame(geometry=[Point(105.0, 0.0)], crs="EPSG:4326")
    >>> round(to_metric(g).geometry.x.iloc[0])
    500000
    """
    return gdf.to_crs(crs or settings.metric_crs)


class MetricCopies:
    """Metric copies of geometries already reprojected, to reuse in frames built from theirs.

    ``source``: geometries (e.g. the lines of a network file); ``metric``: their copies, aligned, already in
    ``crs``. :meth:`of` gives the metric copies of any geometries: one that *is* one of ``source`` (the same
    object, e.g. a row kept when a frame was filtered or extended) takes its known copy, only the others
    are reprojected — the same numbers as ``geoms.to_crs(crs)``. The source objects are held, so an id
    seen here is never another object's.

    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> a, b = Point(105.0, 0.0), Point(105.0, 1.0)
    >>> out = MetricCopies([a], [Point(1, 2)], "EPSG:32648").of(gpd.GeoSeries([b, a], crs="EPSG:4326"))
    >>> out[1].coords[0], round(out[0].y)
    ((1.0, 2.0), 110530)
    """

    def __init__(self, source, metric, crs):
        self._source = np.asarray(source, dtype=object)
        ids = pd.Index(_ids(self._source))
        first = ~ids.duplicated()                  # an object given twice has one copy
        self._ids, self._metric = ids[first], np.asarray(metric, dtype=object)[first]
        self.crs = crs

    def of(self, geoms: gpd.GeoSeries) -> np.ndarray:
        """Metric copies (object array of geometries in :attr:`crs`) of ``geoms``, aligned with it."""
        values = np.asarray(geoms.values, dtype=object)
        pos = self._ids.get_indexer(_ids(values))
        out = np.empty(len(values), dtype=object)
        known = pos >= 0
        out[known] = self._metric[pos[known]]
        if not known.all():
            out[~known] = gpd.GeoSeries(values[~known], crs=geoms.crs).to_crs(self.crs).values
        return out


def _ids(objects: np.ndarray) -> np.ndarray:
    """The ``id`` of each object (unsigned: an address)."""
    return np.fromiter(map(id, objects.tolist()), dtype=np.uint64, count=len(objects))


def to_storage(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return ``gdf`` in the storage/map CRS (EPSG:4326)."""
    return gdf.to_crs(settings.storage_crs)


def is_geographic(crs) -> bool:
    """True when ``crs`` has angular units (degrees)."""
    return CRS.from_user_input(crs).is_geographic


def describe(crs) -> str:
    """Short human-readable name of a CRS, e.g. ``'EPSG:9214 VN-2000 / TM-3 107-00'``."""
    c = CRS.from_user_input(crs)
    code = c.to_epsg()
    return f"EPSG:{code} {c.name}" if code else c.name
