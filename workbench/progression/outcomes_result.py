"""The outcomes results object and its verb, :func:`analyse_outcomes`: criterion validity,
level-4 impact, mediation, leaving and cost-effectiveness in one call.

``save(folder)`` writes role- and activity-level tables only (no person is named in any of
them): ``validity.csv``, ``outcome_effects_by_activity.csv``, ``outcome_did.csv``,
``outcome_mediation.csv``, ``leaving.csv``, ``cost_effectiveness.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from workbench.checks import check_alpha, check_date_near, check_interval
from workbench.errors import ConfigError, InputError, ModelError, Problem
from workbench.progression.costs import cost_effectiveness
from workbench.progression.level4 import outcome_effects, outcome_mediation, outcome_panel
from workbench.progression.outcomes import check_outcomes, criterion_validity, leaving_model
from workbench.results import Result

__all__ = ["Outcomes", "analyse_outcomes", "survey_dates"]


def survey_dates(ratings, *, first="", second=""):
    """(first, second) assessment dates: given ones, else the earliest rating date of the
    first and of the last wave (second is None with one wave or without dates).

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"wave": [1, 1, 2], "date": ["2026-01-20", "2026-01-19", "2026-07-13"]})
    >>> survey_dates(r)
    ('2026-01-19', '2026-07-13')
    >>> survey_dates(r, first="2062-01-19")
    Traceback (most recent call last):
    ...
    workbench.errors.ConfigError: first_assessment=2062-01-19: more than 2 years after the dates of the ratings (2026-01-19 to 2026-07-13); check the year
    """
    if "date" in ratings:
        # a date typed by hand decades from the survey is a typo in the year (issue 26)
        for name, given in (("first_assessment", first), ("second_assessment", second)):
            if given:
                check_date_near(name, given, ratings["date"], what="the ratings")
    if first and second:
        return str(first), str(second)
    if "date" not in ratings or ratings["date"].isna().all():
        if not first:
            raise ConfigError("the ratings have no dates: give the assessment dates")
        return str(first), (str(second) if second else None)
    dates = pd.to_datetime(ratings["date"], errors="coerce")
    waves = ratings["wave"] if "wave" in ratings else pd.Series(1, index=ratings.index)
    order = sorted(waves.dropna().unique().tolist())
    start = {w: dates[waves == w].min() for w in order}
    found_first = f"{start[order[0]]:%Y-%m-%d}"
    found_second = f"{start[order[-1]]:%Y-%m-%d}" if len(order) > 1 else None
    return str(first or found_first), (str(second) if second else found_second)


@dataclass(frozen=True)
class Outcomes(Result):
    """Business outcomes: validity of the 360, level-4 impact, leaving, cost-effectiveness.

    Attributes
    ----------
    validity : DataFrame
        :func:`~workbench.progression.outcomes.criterion_validity`.
    did : DataFrame
        Trained against untrained per metric (the impact stage's ``did_effects``).
    effects_by_activity : DataFrame
        :func:`~workbench.progression.level4.outcome_effects`.
    mediation : DataFrame
        :func:`~workbench.progression.level4.outcome_mediation`.
    leaving : DataFrame
        :func:`~workbench.progression.outcomes.leaving_model` (empty without leaving events).
    cost_effectiveness : DataFrame
        :func:`~workbench.progression.costs.cost_effectiveness`.
    notes : list of str
        What was done and assumed, in plain words.
    settings : dict
    """

    title = "Business outcomes"

    validity: pd.DataFrame
    did: pd.DataFrame
    effects_by_activity: pd.DataFrame
    mediation: pd.DataFrame
    leaving: pd.DataFrame
    cost_effectiveness: pd.DataFrame
    notes: list = field(default_factory=list)
    settings: dict = field(default_factory=dict)

    #: The columns a client report shows of each table (no person, no analyst detail).
    CLIENT_COLUMNS = {
        "validity": ["metric", "scores", "estimate", "ci_low", "ci_high", "disattenuated", "n"],
        "did": ["metric", "estimate", "ci_low", "ci_high", "p_value", "n_trained",
                "n_untrained"],
        "mediation": ["metric", "effect", "estimate", "ci_low", "ci_high", "p_value"],
        "leaving": ["term", "hazard_ratio", "estimate", "ci_low", "ci_high", "p_value",
                    "n_events"],
    }

    def view(self, name) -> pd.DataFrame:
        """The client's view of a table (``validity``: the overall score only); empty tables
        keep the columns, so a report shows "(none)" rather than failing."""
        frame = getattr(self, name)
        if name == "validity" and "skill" in frame:
            frame = frame[frame["skill"] == "overall"]
        return frame.reindex(columns=self.CLIENT_COLUMNS[name]).reset_index(drop=True)

    def _sections(self):
        overall = self.validity[self.validity["skill"] == "overall"] if len(
            self.validity) else self.validity
        return [("Criterion validity (overall score)", overall),
                ("Level 4: trained against untrained (DiD)", self.did),
                ("Mediation through the skill gain", self.mediation),
                ("Leaving (Cox model)", self.leaving), ("Notes", self.notes)]

    def _files(self):
        return {"validity.csv": self.validity, "outcome_did.csv": self.did,
                "outcome_effects_by_activity.csv": self.effects_by_activity,
                "outcome_mediation.csv": self.mediation, "leaving.csv": self.leaving,
                "cost_effectiveness.csv": self.cost_effectiveness}


def _read_effects(path):
    from workbench.tables.data import read_table

    path = Path(path)
    if not path.exists():
        raise InputError([Problem(str(path), None, None, "impact file not found")])
    frame = read_table(path)
    for column in ("estimate", "se", "ci_low", "ci_high", "n"):
        if column in frame:
            frame[column] = pd.to_numeric(frame[column], errors="coerce")
    return frame


def analyse_outcomes(
    scores, outcomes, *, first_assessment, second_assessment=None, raw=None, people=None,
    enrollments=None, catalog=None, skill_effects=None, hourly_cost=0.0, alpha=0.05,
) -> Outcomes:
    """Everything the outcomes can tell: validity, level 4, mediation, leaving, costs.

    Parameters
    ----------
    scores : Calibration, DataFrame or path
        Calibrated scores (two waves for level 4's mediation).
    outcomes : DataFrame
        The outcomes table (checked: every problem at once).
    first_assessment, second_assessment : date-like
        The survey dates: validity uses outcomes after the first; level 4 compares the last
        outcome before the first with the first after the second (needs ``enrollments``).
    raw : DataFrame, optional
        Raw averages (:func:`workbench.tables.scores.raw_scores`) for the validity comparison.
    people, enrollments, catalog : DataFrame, optional
    skill_effects : DataFrame or path, optional
        Impact's ``effects_by_activity`` (or the ``effects_by_activity.csv`` it writes) for the
        cost per skill point.
    hourly_cost : float
        Cost of an hour of a learner's time (cost-effectiveness).

    Returns
    -------
    Outcomes
        Empty tables with the reason in ``notes`` when there are no outcomes.
    """
    alpha = check_alpha(alpha)
    hourly_cost = check_interval("hourly_cost", hourly_cost, low=0)
    if outcomes is None or len(outcomes) == 0:
        empty = pd.DataFrame()
        return Outcomes(empty, empty, empty, empty, empty, empty,
                        notes=["Business outcomes not analysed: no outcomes file "
                               "(outcomes.csv)."], settings={"skipped": "no outcomes"})
    checked = check_outcomes(outcomes, people=people, first_assessment=first_assessment)
    notes = ["Validity: each person's first outcome after the first assessment against their "
             "latest scores; disattenuated with the scores' reliabilities (the outcomes' own "
             "reliability taken as 1)."]
    validity = criterion_validity(scores, checked, raw=raw, after=first_assessment, alpha=alpha)
    did = effects = mediation = pd.DataFrame()
    if enrollments is not None and second_assessment is not None and len(enrollments):
        from workbench.impact.effects import did_effects

        panel = outcome_panel(checked, enrollments, pre_before=first_assessment,
                              post_after=second_assessment, people=people)
        if panel["included"].any():
            did = did_effects(panel, alpha=alpha).rename(columns={"skill": "metric"})
            if catalog is not None:
                effects = outcome_effects(panel, catalog, alpha=alpha)
            try:
                mediation = outcome_mediation(panel, scores, alpha=alpha)
                notes.append("Mediation: " + mediation.attrs["assumptions"] + ".")
            except ModelError as exc:
                notes.append(f"Mediation not estimated: {exc}")
            notes.append("Level 4: outcome change of the trained against the untrained "
                         "(difference in differences; assumes parallel trends); per activity "
                         "partially pooled across activities of a kind.")
    else:
        notes.append("Level 4 not estimated: it needs enrollments and two assessment dates.")
    leaving = pd.DataFrame()
    if (checked["metric"] == "left").sum() >= 2:
        try:
            leaving = leaving_model(scores, checked, start=first_assessment, alpha=alpha)
            notes.append("Leaving is a time-to-event outcome: a Cox model of the time from the "
                         "first assessment to leaving, censored at the data's end for those "
                         "who stayed.")
        except ModelError as exc:
            notes.append(f"Leaving not modelled: {exc}")
    if isinstance(skill_effects, str | Path):
        skill_effects = _read_effects(skill_effects)
    costs = pd.DataFrame()
    if catalog is not None and (skill_effects is not None or len(effects)):
        costs = cost_effectiveness(catalog, skill_effects,
                                   effects if len(effects) else None, hourly_cost=hourly_cost)
        notes.append(f"Costs: catalog cost + hours x {hourly_cost:g} per hour; intervals by "
                     "Fieller's method (the cost is known: the effect's interval inverted; "
                     "unbounded when the effect could be 0).")
    settings = {"alpha": alpha, "hourly_cost": hourly_cost,
                "first_assessment": str(pd.Timestamp(first_assessment).date()),
                "second_assessment": None if second_assessment is None
                else str(pd.Timestamp(second_assessment).date())}
    return Outcomes(validity=validity, did=did, effects_by_activity=effects,
                    mediation=mediation, leaving=leaving, cost_effectiveness=costs,
                    notes=notes, settings=settings)
