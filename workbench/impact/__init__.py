"""Stage 3: learning impact.

``panel`` (scores, waves, dates, enrollments -> one row per person and skill), ``effects``
(paired change, ANCOVA, difference-in-differences, reliable change, regression to the mean,
design rule), ``pooling`` (per-activity empirical Bayes), ``regression`` (shared OLS pieces),
``sample_size`` (effect sizes, power), ``result`` (:func:`estimate_impact`, ImpactResult),
``figures``.
"""

from __future__ import annotations

from workbench._lazy import lazy_exports

MODULES = ("panel", "effects", "pooling", "regression", "sample_size", "result", "figures")

__getattr__, __dir__ = lazy_exports(globals(), MODULES)
