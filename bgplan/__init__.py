"""bgplan: planning industrial parks, corridors and logistics in Bắc Giang (Vietnam), as a library.

Every analysis has the same signature,
``fn(region_or_points, network=None, *, population=None, options=None)``
(see :mod:`bgplan.analyses`), returns GeoDataFrames / DataFrames (or a small
result object holding them) and shares one network per region object::

    import bgplan

    r = bgplan.load_region("bac-giang")                 # the open-data bundle; data_dir=… for another folder
    parks = bgplan.access(r)                            # a row per placed park: minutes_to_kep_station …
    iso = bgplan.isochrones(r, options=bgplan.IsochroneOptions(origins=["kep_station"], minutes=[30]))
    old = bgplan.access(r, bgplan.NetworkOptions(network="2018"))    # the 2018 network, built once as well

The command line (``bgplan SUBCOMMAND``, :mod:`bgplan.cli`) is a thin layer
over these functions; the engine (``geo``), the planning layers (``layers``)
and the maps (``maps``) are bgplan's internal packages.
"""

from bgplan.analyses import (access, calibrate, communes, isochrones, load_region, matrix, network, run, scenario,
                             scenario_batch, sensitivity, site, validate)
from bgplan.options import (AccessOptions, CalibrationOptions, CommunesOptions, IsochroneOptions, MatrixOptions,
                            MonteCarloOptions, NetworkOptions, RunOptions, ScenarioBatchOptions, ScenarioOptions,
                            SchedulerOptions, SensitivityOptions, SitingOptions, ValidationOptions)

__all__ = [
    # the analyses: fn(region_or_points, network=None, *, population=None, options=None)
    "load_region", "access", "isochrones", "matrix", "scenario", "site", "sensitivity", "communes", "validate", "run",
    "calibrate", "scenario_batch", "network",
    # their options
    "NetworkOptions", "AccessOptions", "IsochroneOptions", "MatrixOptions", "ScenarioOptions", "ScenarioBatchOptions",
    "SitingOptions", "SensitivityOptions", "MonteCarloOptions", "SchedulerOptions", "CommunesOptions",
    "ValidationOptions", "CalibrationOptions", "RunOptions",
]
