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

from workbench.progression import (
    bench,
    costs,
    figures,
    level4,
    outcomes,
    outcomes_result,
    paths,
    readiness,
    result,
)
from workbench.progression.bench import *  # noqa: F403
from workbench.progression.costs import *  # noqa: F403
from workbench.progression.figures import *  # noqa: F403
from workbench.progression.level4 import *  # noqa: F403
from workbench.progression.outcomes import *  # noqa: F403
from workbench.progression.outcomes_result import *  # noqa: F403
from workbench.progression.paths import *  # noqa: F403
from workbench.progression.readiness import *  # noqa: F403
from workbench.progression.result import *  # noqa: F403

__all__ = [*paths.__all__, *readiness.__all__, *bench.__all__, *outcomes.__all__,
           *level4.__all__, *costs.__all__, *result.__all__, *outcomes_result.__all__,
           *figures.__all__]
