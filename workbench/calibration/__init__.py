"""Stage 1: calibrated scores net of rater bias (the REML engine, calibration, reliability,
self-other agreement; the many-facet Rasch model as the ordinal alternative).

Every public name of the modules below is re-exported here from their ``__all__`` and
imported lazily (PEP 562): ``workbench calibrate`` then loads the engine, the calibration and
the tables it writes, not the Rasch model, the coverage study or the wave covariances.

Examples
--------
>>> from workbench.calibration import calibrate_ratings, fit_mixed
>>> calibrate_ratings.__module__
'workbench.calibration.calibrate'
"""

from __future__ import annotations

import importlib
import importlib.util

# The order the names are looked up in (the first module that exports a name owns it): the
# engine and the calibration first, so that asking for them imports nothing else.
MODULES = ("mixed_design", "mixed_model", "identifiability", "result", "calibrate", "handover",
           "reliability", "generalizability", "reliability_summary", "agreement", "coverage",
           "vc_uncertainty", "rasch", "rasch_estimation", "rasch_fit", "rasch_facets",
           "rasch_bias", "rasch_compare", "rasch_connectivity", "rasch_figures",
           "wave_covariance")


def _modules():
    for name in MODULES:
        yield importlib.import_module(f"{__name__}.{name}")


def __getattr__(name: str):
    if name in MODULES or (not name.startswith("__")
                           and importlib.util.find_spec(f"{__name__}.{name}") is not None):
        return importlib.import_module(f"{__name__}.{name}")  # a module (the engine's too)
    if name == "__all__":
        value = list(dict.fromkeys(item for module in _modules() for item in module.__all__))
    else:
        for module in _modules():
            if name in module.__all__:
                value = getattr(module, name)
                break
        else:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__getattr__("__all__")))
