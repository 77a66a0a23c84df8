"""Stage 3: learning impact: pre/post panels, effect estimators, per-activity pooling,
sample size and power, figures.
"""

from __future__ import annotations

from workbench.impact import estimate, figures, sample_size
from workbench.impact.estimate import *  # noqa: F403
from workbench.impact.figures import *  # noqa: F403
from workbench.impact.sample_size import *  # noqa: F403

__all__ = [*sample_size.__all__, *estimate.__all__, *figures.__all__]
