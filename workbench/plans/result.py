"""The plans' results object, :class:`PlanSet`.

A PlanSet holds every table of a plans run (see its attributes); ``summary()``, the notebook
display and ``save(folder)`` come from :class:`workbench.results.Result`, and ``save`` adds the
person pages, ``plans.json``, the Excel workbook and the heat maps
(:mod:`workbench.plans.write`). ``person(id)`` is one person's plan as plain Python (the
``plans.json`` record of :mod:`workbench.plans.records`), which :mod:`workbench.plans.pages`
renders.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from workbench.errors import ConfigError, InputError
from workbench.plans.demand import demand_within_budget, plot_gap_heatmap
from workbench.plans.gains import predicted_gain_summary
from workbench.plans.records import person_records
from workbench.results import Result

__all__ = ["PlanSet"]


@dataclass(frozen=True)
class PlanSet(Result):
    """Learning plans of an organisation, with the tables behind them.

    Attributes
    ----------
    plans : DataFrame
        One row per person x focus skill x activity (LMS import): person, role, team, skill,
        focus_rank, focus_type, activity, title, kind, start, end, week_from, week_to, hours,
        hours_per_week, cost, modality, gain, gain_se, gain_source, score, target_level,
        destination_level, mentor, goal.
    focus : DataFrame
        One row per person x focus skill: the gap statistics (gap, p_below, weight, priority),
        the predicted gain and 12-week target (:func:`workbench.plans.goals.set_targets`),
        mentor (or no_mentor_reason) and goal.
    gaps : DataFrame
        Every person x required skill (see :func:`workbench.plans.gaps.compute_gaps`).
    gains : DataFrame
        Expected gain of every catalog activity and skill, with its source
        (:func:`workbench.plans.gains.activity_gains`).
    timeline : DataFrame
        person, start, reassessment, checkins (list of dates).
    mentors, unmatched : DataFrame
        Mentor pairs (person, skill, mentor, ...) and needs left without one, with the reason.
    heatmap_by_team, heatmap_by_role : DataFrame
        See :func:`workbench.plans.demand.gap_heatmap`.
    demand, content_gaps, experts, strengths : DataFrame
        Seats, hours and cost per activity and quarter; focus skills no catalog activity
        serves; people who could teach a skill; each person's confident strengths.
    source_scores, comments : DataFrame
        Per-source means and comments that confidentiality allows to show.
    issues : DataFrame
        person, skill, activity, issue, message: everything that could not be planned and why.
    people : DataFrame
        The people table used.
    settings : dict
        The checked configuration plus start (YYYY-MM-DD), scale and the gain sources.
    readiness : DataFrame
        With career paths or target roles: each person's readiness for the roles on their
        path, by the plan's expected gains
        (:func:`workbench.progression.readiness.readiness_table`); empty otherwise. Shown on
        the person pages ("Readiness for your next role").
    mentor_exact : bool
        Whether every mentor round was solved without pruning eligible mentors.

    Examples
    --------
    >>> from workbench.plans.build import build_plans
    >>> from workbench.synth import generate_organisation, truth_scores
    >>> org = generate_organisation(40, seed=1, n_waves=1)
    >>> plans = build_plans(truth_scores(org, se=0.2, wave=1, random_state=1), org.people,
    ...                     org.framework, org.catalog, start="2027-01-04")
    >>> isinstance(plans, PlanSet), len(plans.focus) > 0
    (True, True)
    """

    title = "Learning plans"

    plans: pd.DataFrame
    focus: pd.DataFrame
    gaps: pd.DataFrame
    gains: pd.DataFrame
    timeline: pd.DataFrame
    mentors: pd.DataFrame
    unmatched: pd.DataFrame
    heatmap_by_team: pd.DataFrame
    heatmap_by_role: pd.DataFrame
    demand: pd.DataFrame
    content_gaps: pd.DataFrame
    experts: pd.DataFrame
    strengths: pd.DataFrame
    source_scores: pd.DataFrame
    comments: pd.DataFrame
    issues: pd.DataFrame
    people: pd.DataFrame
    settings: dict = field(default_factory=dict)
    mentor_exact: bool = True
    readiness: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def start(self) -> pd.Timestamp:
        """The plans' first day."""
        return pd.Timestamp(self.settings["start"])

    def to_frame(self) -> pd.DataFrame:
        """The long plans table (one row per person x focus skill x activity)."""
        return self.plans.copy()

    def overview(self) -> pd.DataFrame:
        """Headline counts as a two-column table (quantity, n)."""
        f = self.focus
        seats = self.plans.drop_duplicates(["person", "activity"])
        reach = int(f["reaches_destination"].sum()) if "reaches_destination" in f else 0
        rows = [
            ("people", len(self.people)),
            ("people with a plan", f["person"].nunique()),
            ("people with a stretch plan",
             f.loc[f["focus_type"] == "stretch", "person"].nunique()),
            ("focus skills", len(f)),
            ("focus skills expected to reach their destination in this period", reach),
            ("activity seats", len(seats)),
            ("training hours", float(seats["hours"].sum()) if len(seats) else 0.0),
            ("training cost", float(seats["cost"].sum()) if len(seats) else 0.0),
            ("mentor pairs", len(self.mentors)),
            ("needs without a mentor", len(self.unmatched)),
            ("skills without a catalog activity",
             int((self.content_gaps["reason"].str.contains("no activity")).sum())
             if len(self.content_gaps) else 0),
            ("issues", len(self.issues)),
        ]
        return pd.DataFrame(rows, columns=["quantity", "n"])

    def demand_within(self, budget=None) -> pd.DataFrame:
        """Training demand of the planned activities with the most expected gain within
        ``budget`` (total cost; None: every planned activity, as :attr:`demand`); see
        :func:`~workbench.plans.demand.demand_within_budget`."""
        return demand_within_budget(self.plans, budget=budget)

    def predicted_gain(self) -> pd.DataFrame:
        """Average predicted gain per planned focus skill: quantity (what the row is), estimate,
        se, ci_low, ci_high, n (the focus skills planned)."""
        out = predicted_gain_summary(self.plans, alpha=self.settings.get("alpha", 0.05))
        out.insert(0, "quantity", "gain_per_focus_skill")
        return out

    def gain_sources(self) -> pd.DataFrame:
        """How many planned activity seats rest on each source of expected gain (gain_source,
        seats)."""
        counts = self.plans["gain_source"].value_counts()
        return counts.rename_axis("gain_source").rename("seats").reset_index()

    def _sections(self):
        s = self.settings
        parts = [("", f"Plans starting {s.get('start')} ({s.get('weeks')} weeks, "
                      f"{s.get('hours_per_week'):g} h/week)"),
                 ("Overview", self.overview()),
                 ("Average predicted gain per planned focus skill (scale points)",
                  self.predicted_gain()),
                 ("Sources of the expected gains (activity seats)", self.gain_sources())]
        if len(self.issues):
            counts = self.issues["issue"].value_counts().rename_axis("issue").rename("n")
            parts.append(("Issues", counts.reset_index()))
        if len(self.content_gaps):
            parts.append(("Content gaps", self.content_gaps))
        return parts

    def _settings_text(self) -> str:
        # the options a reader needs to judge the plans; settings.json keeps every one
        keys = ("n_focus", "gap_probability", "priority", "hours_per_week", "weeks",
                "activities_per_skill", "alpha", "default_gain", "impact")
        return ", ".join(f"{k}={self.settings[k]}" for k in keys if k in self.settings)

    def _files(self):
        plans = self.plans.copy()
        for col in ("start", "end"):
            plans[col] = pd.to_datetime(plans[col]).dt.strftime("%Y-%m-%d")
        return {
            "plans.csv": plans, "focus.csv": self.focus, "gains.csv": self.gains,
            "mentors.csv": self.mentors, "unmatched_needs.csv": self.unmatched,
            "demand.csv": self.demand, "content_gaps.csv": self.content_gaps,
            "experts.csv": self.experts, "issues.csv": self.issues,
            "heatmap_by_team.csv": self.heatmap_by_team,
            "heatmap_by_role.csv": self.heatmap_by_role,
        }

    def save(self, folder, *, pages=True, figures=True, excel=True):
        """Write every output into a new folder (never overwriting); see write_plans."""
        from workbench.plans.write import write_plans

        return write_plans(self, folder, pages=pages, figures=figures, excel=excel)

    def plot_heatmap(self, by="team", value="share_gap", max_groups=40):
        """Heat map Figure of development needs by team or role."""
        if by not in ("team", "role"):
            raise ConfigError(f"by={by!r}: must be 'team' or 'role'")
        heat = self.heatmap_by_team if by == "team" else self.heatmap_by_role
        return plot_gap_heatmap(heat, value=value, max_groups=max_groups)

    def person(self, person) -> dict:
        """Everything about one person's plan, as plain Python (the plans.json record)."""
        if not (self.people["person"] == person).any():
            raise InputError(f"person {person!r} is not in the plans' people table")
        return person_records(self, [person])[0]

    def page(self, person, fmt="md") -> str:
        """One person's plan as Markdown (``fmt="md"``) or HTML (``fmt="html"``)."""
        from workbench.plans.pages import render_person_page

        return render_person_page(self.person(person), fmt=fmt)
