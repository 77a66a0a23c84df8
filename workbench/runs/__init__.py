"""Engagement runs: the engagement file, notebook execution with papermill, manifests, batches.
"""

from __future__ import annotations

from workbench.runs import engagement, pipeline
from workbench.runs.engagement import *  # noqa: F403
from workbench.runs.pipeline import *  # noqa: F403

__all__ = [*engagement.__all__, *pipeline.__all__]
