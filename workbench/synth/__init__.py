"""Synthetic organisations with known truth: the generator and its truth helpers.
"""

from __future__ import annotations

from workbench.synth import generator, truth
from workbench.synth.generator import *  # noqa: F403
from workbench.synth.truth import *  # noqa: F403

__all__ = [*generator.__all__, *truth.__all__]
