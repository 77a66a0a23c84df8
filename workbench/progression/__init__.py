"""Stage 3b: progression: career paths, readiness for the next or target role, bench strength
and internal mobility.

``paths`` (the paths table and target roles, checked against the framework), ``readiness``
(probability of meeting every requirement, with the skills' error correlation; bands),
``bench`` (expected ready counts per role with Poisson-binomial intervals; candidates for an
open role), ``result`` (:func:`assess_readiness`, Readiness).

Layer: above ``impact`` and below ``plans`` (plans aim at a role on the path with
``toward``); it reads scores through :mod:`workbench.tables.scores` and takes a plan's expected
gains as a table, so it imports nothing from plans.
"""

from __future__ import annotations

from workbench.progression import bench, outcomes, paths, readiness, result
from workbench.progression.bench import *  # noqa: F403
from workbench.progression.outcomes import *  # noqa: F403
from workbench.progression.paths import *  # noqa: F403
from workbench.progression.readiness import *  # noqa: F403
from workbench.progression.result import *  # noqa: F403

__all__ = [*paths.__all__, *readiness.__all__, *bench.__all__, *outcomes.__all__,
           *result.__all__]
