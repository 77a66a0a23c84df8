"""The many-facet Rasch model: the ordinal alternative to the linear calibration.

``calibrate`` is the front door (:func:`calibrate_rasch`); ``estimation`` fits it by JMLE,
``measures`` corrects the fit and adds the joint SEs of ``uncertainty``, ``fair`` gives the
fair averages (the calibrated scores), ``fit`` and ``facets`` report fit, separation and
thresholds, ``bias`` the interaction
analyses, ``connectivity`` the connected ratings and ``figures`` the Wright map.

Examples
--------
>>> from workbench.calibration.rasch import calibrate_rasch
>>> calibrate_rasch.__module__
'workbench.calibration.rasch.calibrate'
"""

from __future__ import annotations

from workbench._lazy import lazy_exports

MODULES = ("calibrate", "estimation", "measures", "uncertainty", "fair", "fit", "facets", "bias",
           "connectivity", "figures")

__getattr__, __dir__ = lazy_exports(globals(), MODULES)
