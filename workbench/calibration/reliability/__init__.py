"""Reliability of the ratings: inter-rater ICC and r_wg per source, the G- and D-study, the
reliability report and self-other agreement; the instrument's own psychometrics (alpha, omega,
item statistics, the G-study with the item facet).

Examples
--------
>>> from workbench.calibration.reliability import icc_by_source
>>> icc_by_source.__module__
'workbench.calibration.reliability.interrater'
"""

from __future__ import annotations

from workbench._lazy import lazy_exports

MODULES = ("interrater", "generalizability", "summary", "agreement", "instrument", "one_factor",
           "item_facet", "figures")

__getattr__, __dir__ = lazy_exports(globals(), MODULES)
