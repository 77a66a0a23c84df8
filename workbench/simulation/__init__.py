"""Simulation studies that need both known truth (:mod:`workbench.synth`) and a fitted model:
the coverage of the calibrated scores' intervals.

It sits above ``calibration`` and beside ``synth``: calibration may not import synth, so a
study that generates organisations and calibrates them lives here.

Examples
--------
>>> from workbench.simulation import coverage_run
>>> coverage_run.__module__
'workbench.simulation.coverage'
"""

from __future__ import annotations

from workbench._lazy import lazy_exports

MODULES = ("coverage",)

__getattr__, __dir__ = lazy_exports(globals(), MODULES)
