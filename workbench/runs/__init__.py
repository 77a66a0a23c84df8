"""Engagement runs: the engagement file, notebook parameters and their allowed values, notebook
execution with papermill, manifests, the run's validated copy of its inputs (snapshot), one run
(pipeline) and batches (process pool, Dask).
"""

from __future__ import annotations

from workbench._lazy import lazy_exports

MODULES = ("parameters", "engagement", "manifest", "execute", "batch", "snapshot", "pipeline",
           "layout")

__getattr__, __dir__ = lazy_exports(globals(), MODULES)
