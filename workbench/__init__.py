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

import importlib

__version__ = "0.1.0"

# In data-flow order; the first subpackage that exports a name owns it.
SUBPACKAGES = ("errors", "checks", "results", "tables", "synth", "calibration", "profiles",
               "impact", "plans", "runs", "reporting")


def _exports() -> dict:
    where = {}
    for sub in SUBPACKAGES:
        module = importlib.import_module(f"workbench.{sub}")
        for name in module.__all__:
            where.setdefault(name, module)
    return where


def __getattr__(name: str):
    if name in SUBPACKAGES:
        return importlib.import_module(f"workbench.{name}")
    if name == "__all__":
        value = sorted(_exports())
    else:
        module = _exports().get(name)
        if module is None:
            raise AttributeError(f"module 'workbench' has no attribute {name!r}")
        value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__getattr__("__all__")))
