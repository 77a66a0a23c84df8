"""Stage 4: personalised learning plans: gaps, focus skills, activities, schedule, mentors,
training demand and the confidentiality rules for what a client sees.
"""

from __future__ import annotations

from workbench.plans import build, confidentiality, demand, mentors
from workbench.plans.build import *  # noqa: F403
from workbench.plans.confidentiality import *  # noqa: F403
from workbench.plans.demand import *  # noqa: F403
from workbench.plans.mentors import *  # noqa: F403

__all__ = [*confidentiality.__all__, *demand.__all__, *mentors.__all__, *build.__all__]
