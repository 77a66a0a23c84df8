"""Talent-analytics workbench: 360 ratings into calibrated scores, profiles, impact and plans.

The folder tree reads as the data flow (see ``docs/architecture.md``)::

    tables -> calibration -> profiles -> impact -> plans -> reporting
    (synth makes organisations with known truth; runs executes the notebooks; cli is the
    command line)

Every public name of every stage is re-exported here from that subpackage's ``__all__`` and
imported lazily, so ``import workbench`` stays quick (the analytic subpackages pull in
statsmodels, scipy and matplotlib only when first used).

Examples
--------
>>> import workbench as wb
>>> org = wb.generate_organisation(60, seed=1, n_waves=1)
>>> len(org.people)
60
"""

from __future__ import annotations

from workbench._lazy import lazy_exports
from workbench._version import __version__  # noqa: F401

SUBPACKAGES = ("errors", "checks", "results", "writers", "presentation", "tables", "synth",
               "calibration", "simulation", "profiles", "impact", "plans", "runs", "reporting")

__getattr__, __dir__ = lazy_exports(globals(), SUBPACKAGES)
