"""Hypothesis profiles for the property and fuzz tests: fixed examples in CI, more in a nightly run.

``ci`` (the default) derandomises: every run draws the same examples, so a red CI points at a
change in the code, never at a luckier draw. ``nightly`` (``HYPOTHESIS_PROFILE=nightly``) draws
fresh random examples, ``NIGHTLY_SCALE`` times as many, to look for new failures; a failure it
finds is printed with its ``@reproduce_failure`` blob and becomes an ``@example`` in the test.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

__all__ = ["PROFILE", "NIGHTLY_SCALE", "examples", "fuzz_settings"]

NIGHTLY_SCALE = 20

settings.register_profile("ci", derandomize=True, database=None, deadline=None,
                          print_blob=True, suppress_health_check=list(HealthCheck))
settings.register_profile("nightly", derandomize=False, deadline=None, print_blob=True,
                          suppress_health_check=list(HealthCheck))
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
if PROFILE not in ("ci", "nightly"):
    raise RuntimeError(f"HYPOTHESIS_PROFILE={PROFILE!r}: use 'ci' or 'nightly'")
settings.load_profile(PROFILE)


def examples(n: int) -> int:
    """``n`` examples in CI, ``NIGHTLY_SCALE`` times as many in the nightly profile."""
    return n * NIGHTLY_SCALE if PROFILE == "nightly" else n


def fuzz_settings(n: int) -> settings:
    """Settings for one test: the loaded profile with ``examples(n)`` examples."""
    return settings(settings.get_profile(PROFILE), max_examples=examples(n))
