"""Maps: the planner map (``OUT/map.html``), the published site (``OUT/site/``) and the indicators page.

Entry points
------------
:func:`maps.planner.planner_map` (layers dict → ``folium.Map``),
:func:`maps.planner.write_planner_map` (``OUT/map.html``, one offline file),
:func:`maps.publish.publish_site` (``OUT/site/``: index, map pages,
indicators, vendored assets), :func:`maps.indicators.indicators_html`.
Each works from a :class:`layers.build.LayerSet`'s parts or, given only the
output folder, from ``OUT/layers.gpkg``, ``OUT/population.tif``,
``OUT/layers_summary.json`` and the analyses found in OUT (``access.gpkg``,
``scenario.gpkg``, ``isochrones.gpkg``, ``sites.gpkg``, ``analyses.gpkg``).

Modules
-------
``style``      colours, classes, bilingual labels, number formats ("không rõ / unknown", never 0)
``popups``     popup/tooltip HTML, every data value escaped
``legend``     :class:`~maps.legend.Legend`, a reusable branca MacroElement
``elements``   Leaflet elements: safe GeoJSON data layer, image overlay, grouped layer control
``vendor``     the vendored Leaflet files in ``maps/assets/`` (no CDN)
``planner``    the map builder (base layers, reading OUT/)
``analysis_layers``  access per park, isochrones, suitability (an image above 3,000 cells), candidate sites, scenarios
``dualmap``    scenario before/after on two synchronised maps (the published scenario.html)
``publish``    the static site; allow-list of public columns in ``maps/publish.yaml``
``indicators`` 2030 targets (``maps/indicators.yaml``) beside values computed from the layers
``samples``    small hand-made analysis frames for tests and benchmarks (not results)
"""
