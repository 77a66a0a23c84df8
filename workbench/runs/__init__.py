"""Engagement runs: the engagement file, notebook parameters and their allowed values, notebook
execution with papermill, manifests, the run's validated copy of its inputs (snapshot), one run
(pipeline) and batches (process pool, Dask).
"""

from __future__ import annotations

from workbench.runs import batch, engagement, execute, manifest, parameters, pipeline, snapshot
from workbench.runs.batch import *  # noqa: F403
from workbench.runs.engagement import *  # noqa: F403
from workbench.runs.execute import *  # noqa: F403
from workbench.runs.manifest import *  # noqa: F403
from workbench.runs.parameters import *  # noqa: F403
from workbench.runs.pipeline import *  # noqa: F403
from workbench.runs.snapshot import *  # noqa: F403

__all__ = [
    *parameters.__all__,
    *engagement.__all__,
    *manifest.__all__,
    *execute.__all__,
    *batch.__all__,
    *snapshot.__all__,
    *pipeline.__all__,
]
