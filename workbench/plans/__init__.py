"""Stage 4: personalised learning plans: gaps, focus skills, expected gains, activities,
schedule, goals, mentors, training demand, person pages and the confidentiality rules for what
a client sees.
"""

from __future__ import annotations

from workbench.plans import (
    activities,
    build,
    confidentiality,
    config,
    demand,
    display,
    gains,
    gaps,
    goals,
    inputs,
    labels,
    mentors,
    pages,
    records,
    result,
    schedule,
    toward,
    write,
)
from workbench.plans.activities import *  # noqa: F403
from workbench.plans.build import *  # noqa: F403
from workbench.plans.confidentiality import *  # noqa: F403
from workbench.plans.config import *  # noqa: F403
from workbench.plans.demand import *  # noqa: F403
from workbench.plans.display import *  # noqa: F403
from workbench.plans.gains import *  # noqa: F403
from workbench.plans.gaps import *  # noqa: F403
from workbench.plans.goals import *  # noqa: F403
from workbench.plans.inputs import *  # noqa: F403
from workbench.plans.labels import *  # noqa: F403
from workbench.plans.mentors import *  # noqa: F403
from workbench.plans.pages import *  # noqa: F403
from workbench.plans.records import *  # noqa: F403
from workbench.plans.result import *  # noqa: F403
from workbench.plans.schedule import *  # noqa: F403
from workbench.plans.toward import *  # noqa: F403
from workbench.plans.write import *  # noqa: F403

__all__ = [
    *config.__all__, *inputs.__all__, *gaps.__all__, *gains.__all__, *activities.__all__,
    *schedule.__all__, *goals.__all__, *mentors.__all__, *demand.__all__,
    *confidentiality.__all__, *records.__all__, *result.__all__, *display.__all__, *labels.__all__,
    *pages.__all__, *write.__all__, *build.__all__, *toward.__all__,
]
