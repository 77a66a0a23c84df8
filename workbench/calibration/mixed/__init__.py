"""The REML engine: crossed random effects fitted by restricted maximum likelihood.

``design`` builds the model's matrices, ``dense`` and ``iterative`` factor them (exactly, or by
conjugate gradients with ``logdet``'s stochastic log-determinants), ``model`` is the front door
(:func:`fit_mixed`); ``identifiability`` decides which terms the design can separate and
``vc_uncertainty`` adds the variance components' own uncertainty to the standard errors.

Examples
--------
>>> from workbench.calibration.mixed import fit_mixed
>>> fit_mixed.__module__
'workbench.calibration.mixed.model'
"""

from __future__ import annotations

from workbench._lazy import lazy_exports

MODULES = ("design", "model", "identifiability", "vc_uncertainty", "dense", "iterative", "logdet")

__getattr__, __dir__ = lazy_exports(globals(), MODULES)
