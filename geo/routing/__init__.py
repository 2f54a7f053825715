"""The routing engine: networks from line files (network), speeds (speeds, roadref), map-matching (matching),
the router and its customizable contraction hierarchy (router, hierarchy, hierarchy_cache, searches),
isochrones, access measures and catchments (access), planned roads (scenario), road + rail (multimodal),
paths and calibration.

Imports ``geo``'s core and ``geo.io``.
"""
