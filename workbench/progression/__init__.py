"""Stage 3b: progression: career paths, readiness for the next or target role, bench strength
and internal mobility.

``paths`` (the paths table and target roles, checked against the framework), ``readiness``
(probability of meeting every requirement, with the skills' error correlation; bands),
``bench`` (expected ready counts per role with Poisson-binomial intervals; candidates for an
open role), ``outcomes`` (outcomes checks, criterion validity, leaving as a Cox model),
``level4`` (per-activity outcome effects by DiD with partial pooling, mediation through the
skill gain), ``result`` (:func:`assess_readiness`, Readiness).

Layer: above ``impact`` (level 4 runs the impact stage's estimators) and below ``plans`` (plans aim at a role on the path with
``toward``); it reads scores through :mod:`workbench.tables.scores` and takes a plan's expected
gains as a table, so it imports nothing from plans.
"""

from __future__ import annotations

from workbench._lazy import lazy_exports

MODULES = ("paths", "readiness", "bench", "outcomes", "level4", "costs", "result", "inputs",
           "outcomes_result", "figures")

__getattr__, __dir__ = lazy_exports(globals(), MODULES)
