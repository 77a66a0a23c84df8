"""Stage 1: calibrated scores net of rater bias (the REML engine, calibration, reliability,
self-other agreement; the many-facet Rasch model as the ordinal alternative).

Every public name of the modules below is re-exported here from their ``__all__`` and
imported lazily (PEP 562): ``workbench calibrate`` then loads the engine, the calibration and
the tables it writes, not the Rasch model or the wave covariances. The REML engine is in
``mixed/``, the Rasch model in ``rasch/``, the reliability statistics in ``reliability/``.

Examples
--------
>>> from workbench.calibration import calibrate_ratings, fit_mixed
>>> calibrate_ratings.__module__
'workbench.calibration.calibrate'
"""

from __future__ import annotations

from workbench._lazy import lazy_exports

# The order the names are looked up in (the first module that exports a name owns it): the
# engine and the calibration first, so that asking for them imports nothing else.
MODULES = ("mixed", "result", "calibrate", "preparation", "handover", "reliability", "rasch",
           "compare", "wave_covariance", "design_model", "design_check")


__getattr__, __dir__ = lazy_exports(globals(), MODULES)
