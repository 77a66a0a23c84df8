"""Stage 2: skill profiles (personas) by Gaussian mixtures in the mclust family.
"""

from __future__ import annotations

from workbench.profiles import gaussian_mixture, select
from workbench.profiles.gaussian_mixture import *  # noqa: F403
from workbench.profiles.select import *  # noqa: F403

__all__ = [*gaussian_mixture.__all__, *select.__all__]
