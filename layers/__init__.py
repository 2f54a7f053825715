"""Planning layers: one module per layer a planner names.

Each module turns sources (through ``geo``) into a GeoDataFrame with
documented columns: boundaries, parks, corridors, logistics, water, urban,
population. ``layers.region`` reads the region definitions in
``layers/regions/*.yaml``; ``layers.build`` builds them all.
"""
