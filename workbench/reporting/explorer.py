"""Interactive exploration for the analyst: one person, one team, plans as the focus changes.

The widgets here are for the consultant's own notebook (``00_explore.ipynb``), not for the
client report: they show individual people. Every callback calls a package function, so what
a widget shows is exactly what the batch run computes.

Examples
--------
>>> from workbench.synth.generator import generate_organisation
>>> from workbench.synth import truth_scores
>>> from workbench.reporting.explorer import person_profile
>>> org = generate_organisation(60, seed=0, n_waves=1)
>>> scores = truth_scores(org, se=0.2, wave=1, random_state=0)
>>> person_profile(scores, scores["ratee"].iloc[0]).columns.tolist()[:3]
['skill', 'score', 'ci_low']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.errors import ConfigError
from workbench.reporting.client_report import show
from workbench.tables.scores import as_scores, latest_wave

__all__ = [
    "person_profile",
    "plot_person_profile",
    "team_matrix",
    "plot_team_heatmap",
    "person_plan",
    "Explorer",
]

_Z95 = 1.959963984540054


def _scores_frame(scores) -> pd.DataFrame:
    return as_scores(scores).rename(columns={"person": "ratee"})


def person_profile(scores, person, *, framework=None, people=None) -> pd.DataFrame:
    """One person's profile in the latest wave: calibrated score with 95% CI, raw mean, target.

    Returns
    -------
    DataFrame
        skill, score, ci_low, ci_high, raw_mean (when the scores carry it) and required_level
        (when ``framework`` and ``people`` are given).
    """
    frame = latest_wave(_scores_frame(scores))
    mine = frame[frame["ratee"] == person]
    if mine.empty:
        raise ConfigError(f"no scores for person {person!r}")
    out = mine[["skill", "score"]].copy()
    if {"ci_low", "ci_high"} <= set(mine):
        out["ci_low"], out["ci_high"] = mine["ci_low"].to_numpy(), mine["ci_high"].to_numpy()
    elif "se" in mine:
        out["ci_low"] = mine["score"].to_numpy() - _Z95 * mine["se"].to_numpy()
        out["ci_high"] = mine["score"].to_numpy() + _Z95 * mine["se"].to_numpy()
    else:
        out["ci_low"] = out["ci_high"] = np.nan
    if "raw_mean" in mine:
        out["raw_mean"] = mine["raw_mean"].to_numpy()
    if framework is not None and people is not None:
        role = people.loc[people["person"] == person, "role"]
        if len(role):
            required = framework[framework["role"] == role.iloc[0]][["skill", "required_level"]]
            out = out.merge(required, on="skill", how="left")
    return out.reset_index(drop=True)


def plot_person_profile(scores, person, *, framework=None, people=None, ax=None):
    """Raw mean against calibrated score (95% CI) per skill for one person; returns the Figure."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    profile = person_profile(scores, person, framework=framework, people=people)
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 0.45 * len(profile) + 1.2))
    else:
        fig = ax.figure
    y = np.arange(len(profile))
    ax.errorbar(
        profile["score"], y,
        xerr=[profile["score"] - profile["ci_low"], profile["ci_high"] - profile["score"]],
        fmt="o", color=sns.color_palette()[0], capsize=3, label="calibrated (95% CI)",
    )
    if "raw_mean" in profile:
        ax.scatter(profile["raw_mean"], y, marker="x", color=sns.color_palette()[3],
                   label="raw mean", zorder=3)
    if "required_level" in profile:
        ax.scatter(profile["required_level"], y, marker="|", s=300, color="0.3",
                   label="required level", zorder=2)
    ax.set_yticks(y, profile["skill"])
    ax.invert_yaxis()
    ax.set_xlabel("score")
    ax.set_title(f"{person}: raw and calibrated profile")
    ax.legend(loc="best", fontsize="small")
    sns.despine(ax=ax)
    fig.tight_layout()
    return fig


def team_matrix(scores, people, team) -> pd.DataFrame:
    """Calibrated scores of one team's members (rows) by skill (columns), latest wave."""
    frame = latest_wave(_scores_frame(scores))
    members = people.loc[people["team"] == team, "person"]
    if members.empty:
        raise ConfigError(f"no people in team {team!r}")
    mine = frame[frame["ratee"].isin(members)]
    return mine.pivot_table(index="ratee", columns="skill", values="score")


def plot_team_heatmap(scores, people, team, *, ax=None):
    """Heat map of a team's calibrated scores (people x skills); returns the Figure."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    matrix = team_matrix(scores, people, team)
    if ax is None:
        fig, ax = plt.subplots(figsize=(1.0 * matrix.shape[1] + 2, 0.4 * len(matrix) + 1.8))
    else:
        fig = ax.figure
    sns.heatmap(matrix, annot=True, fmt=".1f", cmap="RdYlGn", center=float(np.nanmean(matrix)),
                cbar_kws={"label": "calibrated score"}, ax=ax)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_title(f"Team {team}")
    fig.tight_layout()
    return fig


def person_plan(planset, person) -> pd.DataFrame:
    """One person's plan rows: focus skill, activity, dates, hours and goal."""
    columns = ["focus_rank", "skill", "focus_type", "activity", "title", "kind", "start", "end",
               "hours", "mentor", "goal"]
    rows = planset.plans[planset.plans["person"] == person]
    return rows[[c for c in columns if c in rows.columns]].reset_index(drop=True)


class Explorer:
    """Widgets: pick a person, a team, and the number of focus skills; views update.

    Parameters
    ----------
    scores : Calibration or DataFrame
        Calibrated scores (ratee, skill, score, se or CI, raw_mean).
    org : Organisation
        people, framework, catalog (and ratings) of the engagement.
    n_focus : int
        Focus skills per plan to start with (1 to 3).
    plan_options : dict, optional
        Keyword arguments for :func:`workbench.plans.build.build_plans` (``start``, ``random_state``,
        ``profiles``, ...); ``config["n_focus"]`` follows the slider.

    Examples
    --------
    >>> Explorer(scores, org).widget()    # doctest: +SKIP
    """

    def __init__(self, scores, org, *, n_focus: int = 2, plan_options: dict | None = None):
        if n_focus not in (1, 2, 3):
            raise ConfigError(f"n_focus={n_focus!r}: must be 1, 2 or 3")
        self.scores = scores
        self.org = org
        self.n_focus = n_focus
        self.plan_options = dict(plan_options or {})
        self._plans = {}

    def plans(self, n_focus: int):
        """The plans with ``n_focus`` focus skills (built once per value)."""
        from workbench.plans.build import build_plans

        if n_focus not in self._plans:
            options = dict(self.plan_options)
            config = dict(options.pop("config", None) or {})
            config["n_focus"] = int(n_focus)
            self._plans[n_focus] = build_plans(
                self.scores, self.org.people, self.org.framework, self.org.catalog,
                ratings=self.org.ratings, config=config, **options,
            )
        return self._plans[n_focus]

    def widget(self):
        """The interactive view (ipywidgets), drawn once with the first person and team."""
        import ipywidgets as widgets
        import matplotlib.pyplot as plt
        from IPython.display import display

        frame = _scores_frame(self.scores)
        people = sorted(set(frame["ratee"]) & set(self.org.people["person"]), key=str)
        teams = sorted(self.org.people["team"].dropna().unique().tolist(), key=str)
        person = widgets.Dropdown(options=people, value=people[0], description="Person")
        team = widgets.Dropdown(options=teams, value=teams[0], description="Team")
        focus = widgets.IntSlider(value=self.n_focus, min=1, max=3, description="Focus skills")
        person_out, team_out, plan_out = widgets.Output(), widgets.Output(), widgets.Output()

        def show_person(_change=None):
            person_out.clear_output(wait=True)
            with person_out:
                fig = plot_person_profile(frame, person.value, framework=self.org.framework,
                                          people=self.org.people)
                display(fig)
                plt.close(fig)

        def show_plan(_change=None):
            plan_out.clear_output(wait=True)
            with plan_out:
                display(show(person_plan(self.plans(focus.value), person.value)))

        def show_team(_change=None):
            team_out.clear_output(wait=True)
            with team_out:
                fig = plot_team_heatmap(frame, self.org.people, team.value)
                display(fig)
                plt.close(fig)

        person.observe(show_person, names="value")
        person.observe(show_plan, names="value")
        focus.observe(show_plan, names="value")
        team.observe(show_team, names="value")
        show_person()
        show_plan()
        show_team()
        return widgets.VBox([
            widgets.HBox([person, focus]), person_out, plan_out, team, team_out,
        ])
