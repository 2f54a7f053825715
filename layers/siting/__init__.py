"""Siting new industrial clusters (CCN) and parks (KCN): suitability grid and ranked candidate sites.

The package, one concern per module, imported one way (``options`` ←
``criteria`` ← ``profiles`` ← ``planning``): ``options`` (defaults,
:class:`SitingOptions` checked once), ``criteria`` (the criteria registry),
``profiles`` (profile and rule files), ``planning`` (:func:`plan_siting`
merging defaults → profile → options), ``context`` (what criteria read:
layers, networks, shared searches), ``barriers`` (what cuts the land into
parcels), ``exclusions``, ``steps`` (:func:`run_siting` as named steps:
grid → inputs → criteria → exclusions and barriers → score, parcels, grown
sites and shortlist → sensitivity → tables and rules → summary),
``explain`` (each site's parcel, shape and surroundings), ``tables``
(output layers, files).

:func:`run_siting` lays a square grid over the region (metric CRS, default
100 m: 388,985 cells in old Bắc Giang), measures criteria in every cell,
removes excluded land and barriers (which cut the land into parcels),
scores the rest with a *profile* (``layers/profiles/*.yaml``, see
:mod:`geo.siting.suitability`), grows compact sites inside the parcels, ranks them,
keeps a shortlist (spacing, per-district cap) and tests the ranking against
±20 % weight changes. :func:`write_siting` writes ``sites.gpkg`` (layer
``sites``), ``sites_grid.tif`` (the grid: one band per criterion, component
score, score, exclusion …, see :mod:`layers.siting.grid_file`; read back as
a table by :func:`read_grid`), ``sites.csv``, ``suitability.tif`` (the score)
and ``sites_summary.json``.

Criteria (raw values per cell; NaN = unknown, with the reason in the summary)
-----------------------------------------------------------------------------
``minutes_to_<corridor>`` : minutes by road to the nearest node of a
    corridor (``ct01`` = its interchanges, known only when a scenario adds
    CT.01: it is not in the 2018 network; ``ql1a``, ``ql37`` …).
``minutes_to_<destination>`` : to a region destination (``kep_station``,
    ``bac_giang_city``, ``lach_huyen_port`` …).
``minutes_to_town`` : to the nearest city or town (OSM places).
    Each cell centre joins the road network on its nearest edge with an
    access leg (20 km/h, :func:`geo.routing.access.attach_points`); a cell farther
    than ``max_snap_m`` (2 km) from every road has no time (NaN).
    One multi-source search per target serves all cells.
``people_within_<m>_min`` : people (WorldPop 2020 rescaled to the 2019
    census) reachable within m minutes by road — exact, by one limited
    search per population node (:func:`geo.siting.grid.people_within_cells`).
``slope_deg`` : mean slope of the cell (degrees) from the DEM; NaN where the
    DEM has no data (the shipped SRTM tile covers the western 4 %).
``km_to_park`` : straight-line km to the nearest existing park (a circle of
    the park's area around its point); ``km_to_urban`` : to the nearest
    urban core (a circle around each city/town/suburb place).
``km_to_<layer>``, ``in_<layer>`` : for every land-constraint layer
    (``rice_land``, ``protected_forest``, ``heritage``, ``settlements``,
    ``flood``) and every user layer (``--layer NAME=FILE``): straight-line
    km to its nearest feature, and 1 where the cell touches it (else 0);
    NaN with the reason when the layer is not given.

Every criterion is one function in one registry
(:data:`layers.siting.criteria.CRITERIA`), with one signature
``fn(context, grid, **params) -> (values, reason)``; a new criterion is
that function and its ``@CRITERIA.register(name, meaning)`` line, usable
from a profile at once (see :mod:`layers.siting.criteria`).

Exclusions (hard constraints; each reported as used or "not given")
--------------------------------------------------------------------
region edge (cells not wholly inside the region), existing parks (circle of
their area + ``park_buffer_m``), urban cores (circle per place class),
water areas and waterways (+ buffers), protected forest and heritage sites
and the other land constraints (user files, optional: excluded, scored or
ignored as the profile's ``constraints:`` says, :data:`CONSTRAINT_DEFAULTS`), slope above ``max_slope_deg`` where slope is known
(unknown slope is not excluded; cells are flagged ``slope_known``). A cell
touched by any excluded geometry is excluded (rasterised with
``all_touched``), so no site overlaps an excluded area.

Columns of the ``grid`` layer (one row per cell whose centre is in the region)
------------------------------------------------------------------------------
``cell_id``, ``row``, ``col``, ``district``; ``snap_m`` (distance from the
cell centre to its road edge; NaN = not connected); every criterion's raw value;
``s_<criterion>`` its score (0–1) for the profile's criteria; ``score``
(weighted mean over known scored criteria, NaN when ``weight_known`` <
``min_known_weight``), ``weight_known``, ``criteria_known``; ``excluded``
and ``excluded_by`` (names of the exclusions that hit the cell);
``slope_known``; ``suitable``; ``site`` (rank of the site the cell belongs
to, 0 if none).

Columns of the ``sites`` layer (top N, dissolved cell polygons)
---------------------------------------------------------------
``site`` (number on the shortlist, 1 = best), ``rank_all`` (rank among all
sites found), ``area_ha``, ``cells``, ``score_mean``, ``score_max``,
``zone`` and ``zone_area_ha`` (the parcel it was grown in), ``district``
(holding most of its cells), ``commune`` (with ``--communes FILE``); the
explanation of :mod:`layers.siting.explain` (parcel, shape, distances, the
corridor facts); the verdict of :mod:`layers.site_rules` (``verdict``,
``verdict_reasons``, ``missing_facts``);
``lon``, ``lat`` (best cell); the mean raw value of every criterion and the
mean ``s_<criterion>``; ``slope_known_share``; sensitivity: ``rank_min``,
``rank_max`` (NaN when the site vanished in some run), ``runs``,
``runs_lost``, ``top_n_share``; ``profile``, ``scenario``, ``note``
(criteria not scored); the legal verdict ``eligible``,
``preconditions_met``, ``rule_failures``, ``rules_unknown``,
``rule_files`` and the facts the rules read (:mod:`layers.site_rules`).

Speed: see ``scripts/bench_siting.py --real`` (the 100 m run against the
250 m run of the code before it, in the same session) and README.
"""

from layers.siting.context import SitingContext
from layers.siting.criteria import CRITERIA, CriteriaRegistry, Criterion, known_criteria, measure
from layers.siting.exclusions import exclusion_layers
from layers.siting.options import (
                                   CONSTRAINT_DEFAULTS,
                                   EXCLUSION_DEFAULTS,
                                   LOCATE_DEFAULTS,
                                   PROFILES_DIR,
                                   RULES_DIR,
                                   SITING_DEFAULTS,
                                   USER_LAYER_DEFAULT,
                                   SitingOptions,
                                   SitingPlan,
)
from layers.siting.planning import constraint_settings, plan_siting
from layers.siting.profiles import load_profile, load_rules, profile_path
from layers.siting.steps import run_siting
from layers.siting.tables import SitingResult, _district_codes, summary_lines, write_siting  # noqa: F401 (tests)
from layers.siting.grid_file import GRID_FILE, read_grid

__all__ = [
                                   "CONSTRAINT_DEFAULTS",
                                   "GRID_FILE",
                                   "CRITERIA",
                                   "EXCLUSION_DEFAULTS",
                                   "LOCATE_DEFAULTS",
                                   "PROFILES_DIR",
                                   "RULES_DIR",
                                   "SITING_DEFAULTS",
                                   "USER_LAYER_DEFAULT",
                                   "CriteriaRegistry",
                                   "Criterion",
                                   "SitingContext",
                                   "SitingOptions",
                                   "SitingPlan",
                                   "SitingResult",
                                   "constraint_settings",
                                   "exclusion_layers",
                                   "known_criteria",
                                   "load_profile",
                                   "load_rules",
                                   "measure",
                                   "plan_siting",
                                   "profile_path",
                                   "read_grid",
                                   "run_siting",
                                   "summary_lines",
                                   "write_siting",
]
