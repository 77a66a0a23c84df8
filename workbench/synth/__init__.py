"""Synthetic organisations with known truth: the generator and its truth helpers.
"""

from __future__ import annotations

from workbench._lazy import lazy_exports

MODULES = ("generator", "truth", "engagement")

__getattr__, __dir__ = lazy_exports(globals(), MODULES)
