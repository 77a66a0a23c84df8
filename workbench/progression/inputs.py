"""The progression inputs checked across files, every problem in one report.

Used before a run's notebooks start and by ``workbench validate``: the paths (roles in the
framework, cycles, duplicated moves), target roles (in the framework), outcomes (one direction
per metric, values numbers, people known, an outcome after the first assessment) and, when
there are outcomes and a catalog (notebook 05 then computes cost-effectiveness), every
activity's cost and hours present and not negative.

Examples
--------
>>> import pandas as pd
>>> from types import SimpleNamespace
>>> framework = pd.DataFrame({"role": ["A", "B"], "skill": "S", "required_level": 3.0})
>>> paths = pd.DataFrame({"role": ["A", "B"], "next_role": ["B", "A"]})
>>> org = SimpleNamespace(framework=framework, paths=paths, people=None, outcomes=None,
...                       ratings=pd.DataFrame(), catalog=None)
>>> try:
...     check_progression_inputs(org)
... except Exception as exc:
...     print(type(exc).__name__)
InputError
"""

from __future__ import annotations

from workbench.errors import InputError
from workbench.progression.costs import activity_costs
from workbench.progression.outcomes import check_outcomes
from workbench.progression.outcomes_result import survey_dates
from workbench.progression.paths import check_paths, check_target_roles

__all__ = ["check_progression_inputs"]


def check_progression_inputs(org) -> None:
    """Check an organisation's optional progression tables against the other tables.

    Parameters
    ----------
    org : Organisation
        With ``framework``, ``people``, ``ratings``, ``catalog`` and the optional ``paths``
        and ``outcomes`` (None when absent: nothing to check).

    Raises
    ------
    InputError
        Every problem found (file, row, column, value).
    """
    framework, people = org.framework, org.people
    checks = []
    if framework is not None and getattr(org, "paths", None) is not None:
        checks.append(lambda: check_paths(org.paths, framework))
    if framework is not None and people is not None and "target_role" in people:
        checks.append(lambda: check_target_roles(people, framework))
    outcomes = getattr(org, "outcomes", None)
    if outcomes is not None:
        ratings = org.ratings
        first = (survey_dates(ratings)[0] if ratings is not None and "date" in ratings
                 else None)
        checks.append(lambda: check_outcomes(outcomes, people=people, first_assessment=first))
        if getattr(org, "catalog", None) is not None:
            checks.append(lambda: activity_costs(org.catalog))
    problems = []
    for check in checks:
        try:
            check()
        except InputError as exc:
            problems += [p for p in exc.problems if p not in problems]
    if problems:
        raise InputError(problems)
