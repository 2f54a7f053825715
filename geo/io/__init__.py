"""Input and output: reading sources with clear errors (vector, raster, OSM), where a layer lies (extent),
atomic outputs moved into OUT as a set (output), the open-data bundle (bundle) and downloads (fetch).

Imports only ``geo``'s core modules (errors, settings, config, text, crs).
"""
