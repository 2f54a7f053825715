"""The siting engine: the grid (grid), scores and AHP (suitability), sites, parcels and the shortlist (sites),
three-valued legal rules (rules) and Monte Carlo re-scoring (montecarlo).

Imports ``geo``'s core, ``geo.io`` and ``geo.routing.router``.
"""
