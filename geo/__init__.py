"""The engine: data sources, coordinate systems, networks and analyses.

Nothing in ``geo`` imports from ``layers``, ``maps`` or ``scripts``: its
functions take and return GeoDataFrames, graphs, numpy arrays and plain
configuration objects, so another project could reuse it as it is.
"""
