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
``layer``      :class:`~maps.layer.MapLayer` (one layer, declared once) and :func:`~maps.layer.draw`, the one
               mechanism that draws every layer of every page
``registry``   every entry in drawing order, from the theme modules ``context_layers`` (base map, boundaries,
               districts, transport, towns, population), ``park_layers`` (parks, rings, access),
               ``analysis_layers`` (isochrones, suitability, candidates, verdicts, sensitivity) and
               ``scenario_layers`` (scenario per park, the scenario's roads, interchanges)
``builder``    :class:`~maps.builder.MapBuilder`, the drawing surface (control groups, legend sections)
``lang``       Vietnamese and English: every text built in both, one shown (the page's toggle)
``labels``     names of analysis columns and their targets in both languages
``style``      colours, classes, number formats per language ("không rõ" / "unknown", never 0)
``popups``     popup/tooltip HTML, every data value escaped
``legend``     sections of the one legend panel (``#legend-panel``)
``elements``   Leaflet elements: safe GeoJSON data layer, image overlay, layer control, base maps, the tools
               (search, measure, print layout, far destinations)
``vendor``     the vendored files in ``maps/assets/`` (no CDN)
``planner``    the planner map (``OUT/map.html``), reading OUT/
``dualmap``    scenario before/after on two synchronised maps (the published scenario.html)
``publish``    the static site; allow-lists from the registry (``maps/publish.yaml`` overrides)
``downloads``  every published layer as a file with its licence (``site/data/``)
``page``       the plain pages made to read on a phone
``indicators`` 2030 targets (``maps/indicators.yaml``) beside values computed from the layers
``samples``    small hand-made analysis frames for tests and benchmarks (not results)
``geometry``   storage CRS, the map window, clipping and simplification (remembered), GeoJSON of many geometries
"""
