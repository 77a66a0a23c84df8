"""Interactive exploration for the analyst: one person, one team, plans as the focus changes.

The widgets here are for the consultant's own notebook (``00_explore.ipynb``), not for the
client report: they show individual people. Every callback calls a package function, so what
a widget shows is exactly what the batch run computes.

People are shown with their role and team next to the id (and their name when the people
table has a ``name`` column). The team heat map colours each score by its distance from the
level the person's role requires, on a fixed range, so colours mean the same in every team.

Examples
--------
>>> from workbench.synth.generator import generate_organisation
>>> from workbench.synth import truth_scores
>>> org = generate_organisation(60, seed=0, n_waves=1)
>>> scores = truth_scores(org, se=0.2, wave=1, random_state=0)
>>> person = org.people["person"].iloc[0]
>>> person_profile(scores, person).columns.tolist()[:3]
['skill', 'score', 'ci_low']
>>> person_label(org.people, person).startswith(person + " · ")
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.checks import check_alpha, check_integer
from workbench.errors import ConfigError
from workbench.reporting.display import bullets, show
from workbench.tables.scores import as_scores

__all__ = [
    "person_label",
    "person_labels",
    "default_team",
    "first_person",
    "person_profile",
    "plot_person_profile",
    "team_matrix",
    "team_requirements",
    "plot_team_heatmap",
    "person_plan",
    "person_focus",
    "person_readiness",
    "person_notes",
    "Explorer",
]


def person_labels(people: pd.DataFrame) -> dict:
    """``{person: "P001 · Team Lead, Team 01"}`` (with the name after the id when known)."""
    out = {}
    for row in people.to_dict("records"):
        person = row["person"]
        name = row.get("name")
        head = f"{person} {name}" if isinstance(name, str) and name.strip() else str(person)
        detail = ", ".join(str(row[c]) for c in ("role", "team")
                           if c in row and isinstance(row[c], str) and row[c])
        out[person] = f"{head} · {detail}" if detail else head
    return out


def person_label(people: pd.DataFrame, person) -> str:
    """One person's label (see :func:`person_labels`); the bare id if they are not listed."""
    return person_labels(people[people["person"] == person]).get(person, str(person))


def default_team(people: pd.DataFrame, person=None):
    """The team to show first: ``person``'s team, else the largest (first by name on a tie)."""
    if person is not None:
        team = people.loc[people["person"] == person, "team"].dropna()
        if len(team):
            return team.iloc[0]
    sizes = people["team"].dropna().value_counts()
    if sizes.empty:
        raise ConfigError("people: no teams")
    largest = sizes[sizes == sizes.max()].index
    return sorted(largest, key=str)[0]


def first_person(people: pd.DataFrame, ids):
    """The person to show first: the first of ``ids`` in the largest team that has any.

    Starting in the largest team shows a full heat map rather than a one-person team.
    """
    ids = list(ids)
    with_scores = people[people["person"].isin(ids)]
    team = default_team(with_scores) if with_scores["team"].notna().any() else None
    members = set(with_scores.loc[with_scores["team"] == team, "person"])
    return next((p for p in ids if p in members), ids[0])


def _requirements(people: pd.DataFrame, framework: pd.DataFrame) -> pd.DataFrame:
    """person, skill, required_level for everyone whose role the framework lists."""
    return people[["person", "role"]].merge(
        framework[["role", "skill", "required_level"]], on="role")[
        ["person", "skill", "required_level"]]


def person_profile(scores, person, *, framework=None, people=None, alpha: float = 0.05):
    """One person's profile in their latest wave: calibrated score with CI, raw mean, target.

    Parameters
    ----------
    scores : Calibration, scores DataFrame or file
        Read with :func:`workbench.tables.scores.as_scores`.
    person : person id
    framework, people : DataFrame, optional
        Both given: the level the person's role requires is added.
    alpha : float
        1 - confidence level of the interval when the scores carry only an SE.

    Returns
    -------
    DataFrame
        skill, score, ci_low, ci_high, raw_mean (when the scores carry it) and required_level
        (when ``framework`` and ``people`` are given).
    """
    from scipy import stats

    alpha = check_alpha(alpha)
    frame = as_scores(scores, wave="latest")
    mine = frame[frame["person"] == person]
    if mine.empty:
        raise ConfigError(f"no scores for person {person!r}")
    out = mine[["skill", "score"]].copy()
    if {"ci_low", "ci_high"} <= set(mine):
        out["ci_low"], out["ci_high"] = mine["ci_low"].to_numpy(), mine["ci_high"].to_numpy()
    else:
        z = stats.norm.ppf(1 - alpha / 2)
        out["ci_low"] = mine["score"].to_numpy() - z * mine["se"].to_numpy()
        out["ci_high"] = mine["score"].to_numpy() + z * mine["se"].to_numpy()
    if "raw_mean" in mine:
        out["raw_mean"] = mine["raw_mean"].to_numpy()
    if framework is not None and people is not None:
        required = _requirements(people[people["person"] == person], framework)
        out = out.merge(required[["skill", "required_level"]], on="skill", how="left")
    return out.reset_index(drop=True)


def plot_person_profile(scores, person, *, framework=None, people=None, scale=None, ax=None):
    """Raw mean against calibrated score (95% CI) per skill for one person; returns the Figure.

    The legend sits to the right of the axes, so it never covers a skill's marks. ``scale``
    (a Scale or ``(min, max)``) fixes the score axis to the rating scale, as the team heat
    map's colours are, so profiles compare from one person to the next; default: the axis
    fits the person's marks.
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    profile = person_profile(scores, person, framework=framework, people=people)
    if ax is None:
        fig, ax = plt.subplots(figsize=(8.5, 0.45 * len(profile) + 1.4))
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
    if scale is not None:
        low, high = _bounds(scale, None)
        pad = 0.04 * (high - low)
        ax.set_xlim(min(low, float(np.nanmin(profile["ci_low"]))) - pad,
                    max(high, float(np.nanmax(profile["ci_high"]))) + pad)
    title = person_label(people, person) if people is not None else str(person)
    ax.set_title(f"{title}: raw and calibrated profile", loc="left")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, frameon=False,
              fontsize="small")
    sns.despine(ax=ax)
    fig.tight_layout()
    return fig


def team_matrix(scores, people, team) -> pd.DataFrame:
    """Calibrated scores of one team's members (rows) by skill (columns), latest wave."""
    frame = as_scores(scores, wave="latest")
    members = people.loc[people["team"] == team, "person"]
    if members.empty:
        raise ConfigError(f"no people in team {team!r}")
    mine = frame[frame["person"].isin(members)]
    return mine.pivot_table(index="person", columns="skill", values="score")


def team_requirements(people, framework, team, *, like: pd.DataFrame | None = None):
    """Required levels of a team's members (rows) by skill (columns); NaN where not required.

    ``like`` (a :func:`team_matrix`) gives the rows and columns to align to.
    """
    members = people[people["team"] == team]
    required = _requirements(members, framework).pivot_table(
        index="person", columns="skill", values="required_level")
    if like is not None:
        required = required.reindex(index=like.index, columns=like.columns)
    return required


def _bounds(scale, values) -> tuple[float, float]:
    if scale is not None:
        low, high = (scale.min, scale.max) if hasattr(scale, "max") else scale
        return float(low), float(high)
    return float(np.nanmin(values)), float(np.nanmax(values))


def plot_team_heatmap(scores, people, team, *, framework=None, scale=None, ax=None):
    """Heat map of a team's calibrated scores (people x skills); returns the Figure.

    Parameters
    ----------
    framework : DataFrame, optional
        Given: each cell is coloured by the score minus the level the person's role requires
        (0, white, meets it; red below, green above) and cells of skills the role does not
        require are left blank. Without it the colours are centred on the scale's midpoint.
    scale : Scale or (min, max), optional
        Fixes the colour range (half the scale's width either side of the centre), so colours
        compare across teams; default: the observed range.

    Returns
    -------
    Figure
        The colour bar says what the colours are centred on.
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    matrix = team_matrix(scores, people, team)
    low, high = _bounds(scale, matrix.to_numpy())
    half = (high - low) / 2
    if framework is not None:
        required = team_requirements(people, framework, team, like=matrix)
        colour = matrix - required
        centre, label = 0.0, "score minus the role's required level"
    else:
        centre = low + half
        colour, label = matrix, f"calibrated score (centred on the scale midpoint, {centre:g})"
    if ax is None:
        # a floor on the height keeps the colour bar readable for a one-person team
        fig, ax = plt.subplots(figsize=(0.9 * matrix.shape[1] + 4,
                                        max(3.6, 0.4 * len(matrix) + 2.2)))
    else:
        fig = ax.figure
    sns.heatmap(colour, annot=matrix.where(colour.notna()), fmt=".1f", cmap="RdYlGn",
                center=centre, vmin=centre - half, vmax=centre + half,
                cbar_kws={"label": label}, linewidths=0.5, linecolor="white", ax=ax)
    ax.set_xlabel("")
    ax.set_ylabel("")
    roles = people.drop_duplicates("person").set_index("person")["role"]
    ax.set_yticks(np.arange(len(matrix)) + 0.5,
                  [f"{p} · {roles.get(p, '')}".rstrip(" ·") for p in matrix.index], rotation=0)
    ax.set_xticks(np.arange(matrix.shape[1]) + 0.5, list(matrix.columns), rotation=35,
                  ha="right")
    size = f"{len(matrix)} {'person' if len(matrix) == 1 else 'people'}"
    ax.set_title(f"{team}: calibrated scores, latest wave ({size})", loc="left")
    fig.tight_layout()
    return fig


def person_plan(planset, person) -> pd.DataFrame:
    """One person's plan as the explorer shows it: one row per activity, goal once per skill.

    The plans' own display table (:func:`workbench.plans.display.plan_display_table`), so the
    explorer and the person pages show the same plan.
    """
    from workbench.plans.display import plan_display_table

    return plan_display_table(planset, person)


def person_focus(planset, person) -> pd.DataFrame:
    """Why each focus skill was chosen: gap, probability below the requirement, weight, priority.

    See :func:`workbench.plans.display.focus_display_table`.
    """
    from workbench.plans.display import focus_display_table

    return focus_display_table(planset, person)


def person_readiness(planset, person) -> pd.DataFrame:
    """A person's readiness for each role on their path (empty without paths or targets).

    From the plans' readiness (:attr:`workbench.plans.PlanSet.readiness`): the probability of
    meeting every requirement now and by the end of the plan if it is completed, and the band.
    """
    table = getattr(planset, "readiness", None)
    columns = ["role", "relation", "p_ready", "p_ready_horizon", "band"]
    if table is None or table.empty:
        return pd.DataFrame(columns=columns)
    mine = table[table["person"].astype(str) == str(person)]
    return mine[columns].reset_index(drop=True)


def person_notes(scores, person, *, people: pd.DataFrame | None = None) -> list[str]:
    """Sentences about one person's latest scores that a reader should know, naming them.

    The calibration flags single scores (``self_only``: only the person's own ratings;
    ``wide_interval``: an interval wider than the rating scale; ``near_bound``: ratings piled
    at an end of the scale); the explorer says so for the person picked, in a sentence,
    instead of a count in a warning.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"person": "P1", "skill": ["Coaching", "Planning"],
    ...                   "score": [3.0, 4.9], "se": [0.9, 0.2],
    ...                   "self_only": [True, False], "near_bound": [False, True]})
    >>> person_notes(s, "P1")  # doctest: +NORMALIZE_WHITESPACE
    ["P1: Coaching rests on P1's own ratings only (no colleague rated it): read it as a
      self-view.", "P1: Planning is near an end of the rating scale: the ratings cannot show
      how far beyond it P1 stands; read the interval's end beyond the scale as 'at least'."]
    """
    frame = as_scores(scores, wave="latest")
    mine = frame[frame["person"] == person]
    who = person_label(people, person).split(" · ")[0] if people is not None else str(person)
    notes = []
    texts = {
        "self_only": "{skills} {verb} on {who}'s own ratings only (no colleague rated "
                     "{it}): read {it} as a self-view.",
        "wide_interval": "{skills} {verb} an interval wider than the rating scale (few "
                         "ratings): {it} says little yet.",
        "near_bound": "{skills} {verb} near an end of the rating scale: the ratings cannot "
                      "show how far beyond it {who} stands; read the interval's end beyond "
                      "the scale as 'at least'.",
    }
    verbs = {"self_only": ("rests", "rest"), "wide_interval": ("has", "have"),
             "near_bound": ("is", "are")}
    for flag, text in texts.items():
        if flag not in mine:
            continue
        skills = [str(s) for s in mine.loc[mine[flag].astype(bool), "skill"]]
        if not skills:
            continue
        listed = skills[0] if len(skills) == 1 else ", ".join(skills[:-1]) + " and " + skills[-1]
        one = len(skills) == 1
        notes.append(f"{who}: " + text.format(skills=listed, who=who,
                                              verb=verbs[flag][0 if one else 1],
                                              it="it" if one else "them"))
    return notes


class Explorer:
    """Widgets: pick a person, a team, and the number of focus skills; views update.

    Parameters
    ----------
    scores : Calibration, scores DataFrame or file
        Calibrated scores (read with :func:`workbench.tables.scores.as_scores`).
    org : Organisation
        people, framework, catalog, scale (and ratings) of the engagement.
    n_focus : int
        Focus skills per plan to start with (1 to 3).
    plan_options : dict, optional
        Keyword arguments for :func:`workbench.plans.build.build_plans` (``start``,
        ``random_state``, ``profiles``, ``impact``, ...); ``config["n_focus"]`` follows the
        slider. The organisation's scale and career paths are passed unless given here. With
        the hand-over files of a run (``profiles``, ``impact``: what notebook 04 reads), the
        plans equal the person pages of that run.

    Notes
    -----
    With career paths (``org.paths``) or target roles, the plan view also shows the person's
    readiness for each role on their path (:func:`person_readiness`).
    The first person is the first id of the largest team (:func:`first_person`); the team
    shown is the person's team and follows the person picked (any team can still be chosen).

    Examples
    --------
    >>> Explorer(scores, org).widget()    # doctest: +SKIP
    """

    def __init__(self, scores, org, *, n_focus: int = 2, plan_options: dict | None = None):
        self.n_focus = check_integer("n_focus", n_focus, low=1, high=3)
        self.scores = as_scores(scores)
        self.org = org
        self.plan_options = dict(plan_options or {})
        self._plans = {}

    def plans(self, n_focus: int):
        """The plans with ``n_focus`` focus skills (built once per value)."""
        from workbench.plans.build import build_plans

        if n_focus not in self._plans:
            options = dict(self.plan_options)
            if getattr(self.org, "paths", None) is not None:
                options.setdefault("paths", self.org.paths)
            if getattr(self.org, "scale", None) is not None:
                options.setdefault("scale", self.org.scale)
            config = dict(options.pop("config", None) or {})
            config["n_focus"] = int(n_focus)
            self._plans[n_focus] = build_plans(
                self.scores, self.org.people, self.org.framework, self.org.catalog,
                ratings=self.org.ratings, config=config, **options,
            )
        return self._plans[n_focus]

    def save(self, folder):
        """Write the tables of the plans the explorer starts with (``n_focus`` focus skills)
        into ``folder``: plans.csv, focus.csv, ... as notebook 04 writes them (no pages,
        figures or workbook). Returns the folder."""
        return self.plans(self.n_focus).save(folder, pages=False, figures=False, excel=False)

    def plan_table(self, n_focus: int, person) -> pd.DataFrame:
        """The plan table the widget shows for ``person`` with ``n_focus`` focus skills."""
        return person_plan(self.plans(n_focus), person)

    def focus_table(self, n_focus: int, person) -> pd.DataFrame:
        """The table of why each focus skill was chosen, shown above the plan."""
        return person_focus(self.plans(n_focus), person)

    def widget(self):
        """The interactive view (ipywidgets), drawn once with the first person and team."""
        import ipywidgets as widgets
        import matplotlib.pyplot as plt
        from IPython.display import display

        people_table = self.org.people
        labels = person_labels(people_table)
        ids = sorted(set(self.scores["person"]) & set(labels), key=str)
        if not ids:
            raise ConfigError("explorer: no person in the people table has scores")
        teams = sorted(people_table["team"].dropna().unique().tolist(), key=str)
        first = first_person(people_table, ids)
        person = widgets.Dropdown(options=[(labels[p], p) for p in ids], value=first,
                                  description="Person", layout=widgets.Layout(width="28em"))
        focus = widgets.IntSlider(value=self.n_focus, min=1, max=3, description="Focus skills")
        team = widgets.Dropdown(options=teams, value=default_team(people_table, first),
                                description="Team")
        person_out, team_out, plan_out = widgets.Output(), widgets.Output(), widgets.Output()
        scale = getattr(self.org, "scale", None)

        def show_person(_change=None):
            person_out.clear_output(wait=True)
            with person_out:
                notes = person_notes(self.scores, person.value, people=people_table)
                if notes:
                    display(bullets(notes))
                fig = plot_person_profile(self.scores, person.value,
                                          framework=self.org.framework, people=people_table,
                                          scale=scale)
                display(fig)
                plt.close(fig)

        def show_plan(_change=None):
            plan_out.clear_output(wait=True)
            with plan_out:
                # both tables arrive as display strings from the plans
                display(show(self.focus_table(focus.value, person.value), labels=False))
                display(show(self.plan_table(focus.value, person.value), labels=False))
                ready = person_readiness(self.plans(focus.value), person.value)
                if len(ready):
                    display(show(ready))

        def show_team(_change=None):
            team_out.clear_output(wait=True)
            with team_out:
                fig = plot_team_heatmap(self.scores, people_table, team.value,
                                        framework=self.org.framework, scale=scale)
                display(fig)
                plt.close(fig)

        def follow_person(change):
            team.value = default_team(people_table, change["new"])

        person.observe(show_person, names="value")
        person.observe(show_plan, names="value")
        person.observe(follow_person, names="value")
        focus.observe(show_plan, names="value")
        team.observe(show_team, names="value")
        show_person()
        show_plan()
        show_team()
        return widgets.VBox([
            widgets.HBox([person, focus]), person_out, plan_out, team, team_out,
        ])
