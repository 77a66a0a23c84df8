"""Stage 3: learning impact.

``panel`` (scores, waves, dates, enrollments -> one row per person and skill), ``effects``
(paired change, ANCOVA, difference-in-differences, reliable change, regression to the mean,
design rule), ``pooling`` (per-activity empirical Bayes), ``regression`` (shared OLS pieces),
``sample_size`` (effect sizes, power), ``result`` (:func:`estimate_impact`, ImpactResult),
``figures``.
"""

from __future__ import annotations

from workbench.impact import (
    effects,
    figures,
    panel,
    pooling,
    regression,
    result,
    sample_size,
)
from workbench.impact.effects import *  # noqa: F403
from workbench.impact.figures import *  # noqa: F403
from workbench.impact.panel import *  # noqa: F403
from workbench.impact.pooling import *  # noqa: F403
from workbench.impact.regression import *  # noqa: F403
from workbench.impact.result import *  # noqa: F403
from workbench.impact.sample_size import *  # noqa: F403

__all__ = [*panel.__all__, *effects.__all__, *pooling.__all__, *regression.__all__,
           *sample_size.__all__, *result.__all__, *figures.__all__]
