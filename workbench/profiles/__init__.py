"""Stage 2: skill profiles (personas) by Gaussian mixtures in the mclust family.

Modules: structures (the fourteen covariance structures and their M-steps), initialisation
(mclust's hierarchical agglomeration and other starts), gaussian_mixture (the EM engine),
likelihood_ratio (VLMR, BLRT), select (the grid, criteria, size rules, find_profiles),
stability (bootstrap), personas (profiles in words), clustering (k-means, Ward), result
(ProfileResult), figures, parallel (seeds and workers).
"""

from __future__ import annotations

from workbench.profiles import (
    clustering,
    figures,
    gaussian_mixture,
    initialisation,
    inputs,
    likelihood_ratio,
    parallel,
    personas,
    result,
    select,
    stability,
    structures,
)
from workbench.profiles.clustering import *  # noqa: F403
from workbench.profiles.figures import *  # noqa: F403
from workbench.profiles.gaussian_mixture import *  # noqa: F403
from workbench.profiles.initialisation import *  # noqa: F403
from workbench.profiles.inputs import *  # noqa: F403
from workbench.profiles.likelihood_ratio import *  # noqa: F403
from workbench.profiles.parallel import *  # noqa: F403
from workbench.profiles.personas import *  # noqa: F403
from workbench.profiles.result import *  # noqa: F403
from workbench.profiles.select import *  # noqa: F403
from workbench.profiles.stability import *  # noqa: F403
from workbench.profiles.structures import *  # noqa: F403

__all__ = [*structures.__all__, *initialisation.__all__, *inputs.__all__, *gaussian_mixture.__all__,
           *likelihood_ratio.__all__, *select.__all__, *stability.__all__, *personas.__all__,
           *clustering.__all__, *result.__all__, *figures.__all__, *parallel.__all__]
