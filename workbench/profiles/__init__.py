"""Stage 2: skill profiles (personas) by Gaussian mixtures in the mclust family.

Modules: structures (the fourteen covariance structures and their M-steps), initialisation
(mclust's hierarchical agglomeration and other starts), gaussian_mixture (the EM engine),
likelihood_ratio (VLMR, BLRT), select (the grid, criteria, size rules, find_profiles),
stability (bootstrap), personas (profiles in words), clustering (k-means, Ward), result
(ProfileResult), figures, parallel (seeds and workers).
"""

from __future__ import annotations

from workbench._lazy import lazy_exports

MODULES = ("structures", "initialisation", "inputs", "gaussian_mixture", "likelihood_ratio",
           "select", "stability", "personas", "clustering", "result", "figures", "parallel")

__getattr__, __dir__ = lazy_exports(globals(), MODULES)
