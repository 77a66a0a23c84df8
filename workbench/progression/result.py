"""The readiness results object and its verb, :func:`assess_readiness`.

``save(folder)`` keeps people apart from what a client may see: role-level tables
(``bench.csv``, ``readiness_by_role.csv``) at the top, person-level readiness, skill gaps and
the single-successor list under ``analyst/`` (person pages and the analyst read them; the
client report shows only role-level tables).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from workbench.checks import check_alpha, check_interval
from workbench.progression.bench import (
    band_distribution,
    bench_strength,
    rank_candidates,
    single_successors,
)
from workbench.progression.readiness import readiness_table
from workbench.results import Result

__all__ = ["Readiness", "assess_readiness"]


@dataclass(frozen=True)
class Readiness(Result):
    """Readiness for the roles on people's paths, and the bench it makes per role.

    Attributes
    ----------
    readiness : DataFrame
        One row per person and role assessed (see
        :func:`~workbench.progression.readiness.readiness_table`). Person-level.
    skill_gaps : DataFrame
        One row per person, role and required skill. Person-level.
    bench : DataFrame
        Per role: expected ready-now and ready-by-horizon counts with intervals
        (:func:`~workbench.progression.bench.bench_strength`). Role-level.
    bands : DataFrame
        People per role and band. Role-level.
    single_successors : DataFrame
        People who are a role's only ready successor. Person-level.
    settings : dict

    Examples
    --------
    >>> import pandas as pd
    >>> from workbench.progression.result import assess_readiness
    >>> fw = pd.DataFrame({"role": ["A", "B"], "skill": "S", "required_level": [3.0, 3.5]})
    >>> res = assess_readiness(pd.DataFrame({"person": ["p"], "skill": "S", "score": [4.0],
    ...                                      "se": 0.25}),
    ...                        pd.DataFrame({"person": ["p"], "role": "A"}), fw,
    ...                        pd.DataFrame({"role": ["A"], "next_role": ["B"]}))
    >>> isinstance(res, Readiness), res.readiness["band"].tolist()
    (True, ['ready_now'])
    """

    title = "Readiness and bench strength"

    readiness: pd.DataFrame
    skill_gaps: pd.DataFrame
    bench: pd.DataFrame
    bands: pd.DataFrame
    single_successors: pd.DataFrame
    settings: dict = field(default_factory=dict)

    def bench_view(self) -> pd.DataFrame:
        """The bench table as a client report shows it (role-level; empty keeps the columns)."""
        return self.bench.reindex(columns=["role", "measure", "estimate", "ci_low", "ci_high",
                                           "n", "no_ready_successor"]).reset_index(drop=True)

    def candidates(self, role, *, tie_margin=0.05) -> pd.DataFrame:
        """Candidates for ``role`` ranked by readiness probability (ties marked); empty when
        ``role`` is None or nothing was assessed."""
        if role is None or self.readiness.empty:
            return pd.DataFrame(columns=["rank", "person", "current_role", "relation",
                                         "p_ready", "p_ready_horizon", "n_below",
                                         "weighted_gap", "band", "tie"])
        return rank_candidates(self.readiness, role, tie_margin=tie_margin)

    def person(self, person) -> pd.DataFrame:
        """One person's readiness for each role on their path."""
        return self.readiness[self.readiness["person"] == str(person)].reset_index(drop=True)

    @property
    def notes(self) -> list:
        """The rule and assumptions in plain words (or why nothing was assessed)."""
        if "skipped" in self.settings:
            return [f"Readiness not assessed: {self.settings['skipped']}."]
        return [self._rule()]

    def _rule(self):
        return (f"Bands: ready now when the probability of meeting every requirement is at "
                f"least {self.settings.get('probability', 0.5):g}; ready within the horizon "
                "when it is if the plan's expected gains are realised; otherwise ready later. "
                f"Error correlation between skills: {self.settings.get('skill_error_corr')}. "
                f"Skills given the scores: {self.settings.get('skill_prior')}.")

    def _sections(self):
        if "skipped" in self.settings:
            return [("Skipped", self.notes[0])]
        rule = (f"Bands: ready now when the probability of meeting every requirement is at "
                f"least {self.settings.get('probability', 0.5):g}; ready within the horizon "
                "when it is if the plan's expected gains are realised; otherwise ready later. "
                f"Error correlation between skills: {self.settings.get('skill_error_corr')}. "
                f"Skills given the scores: {self.settings.get('skill_prior')}.")
        return [("Rule", rule), ("Bench strength (expected counts, intervals)", self.bench),
                ("Readiness by role (people per band)", self.bands)]

    def _files(self):
        return {"bench.csv": self.bench, "readiness_by_role.csv": self.bands,
                "analyst/readiness_by_person.csv": self.readiness,
                "analyst/readiness_skill_gaps.csv": self.skill_gaps,
                "analyst/single_successors.csv": self.single_successors,
                **({"analyst/candidates.csv": self.candidates(self.settings["roles"][0])}
                   if len(self.settings.get("roles") or ()) == 1 else {})}


def assess_readiness(
    scores, people, framework, paths=None, *, roles=None, plans=None,
    skill_error_corr="calibration", variance_components=None, probability=0.5,
    wave="latest", alpha=0.05, skill_prior="mixture",
) -> Readiness:
    """Readiness of everyone for the roles on their path, bench strength and bands per role.

    Parameters are those of :func:`~workbench.progression.readiness.readiness_table`;
    ``alpha`` sets the bench intervals (1 - alpha).

    Returns
    -------
    Readiness
        Empty tables, with the reason in ``notes``, when there are no paths and nobody has a
        target role (nothing to assess).

    Examples
    --------
    >>> import pandas as pd
    >>> fw = pd.DataFrame({"role": ["A", "B"], "skill": "S", "required_level": [3.0, 3.5]})
    >>> paths = pd.DataFrame({"role": ["A"], "next_role": ["B"]})
    >>> people = pd.DataFrame({"person": ["p", "q"], "role": "A"})
    >>> scores = pd.DataFrame({"person": ["p", "q"], "skill": "S", "score": [4.0, 3.0],
    ...                        "se": 0.25})
    >>> res = assess_readiness(scores, people, fw, paths)
    >>> res.readiness[["person", "role", "band"]].to_dict("records")
    [{'person': 'p', 'role': 'B', 'band': 'ready_now'}, {'person': 'q', 'role': 'B', 'band': 'ready_later'}]
    """
    check_interval("probability", probability, low=0, high=1, inclusive="neither")
    check_alpha(alpha)
    if not isinstance(skill_error_corr, str):
        check_interval("skill_error_corr", skill_error_corr, low=0, high=1, inclusive="left")
    if paths is None and roles is None and (
            "target_role" not in people or not people["target_role"].notna().any()):
        empty = pd.DataFrame()
        return Readiness(readiness=empty, skill_gaps=empty, bench=empty, bands=empty,
                         single_successors=empty,
                         settings={"skipped": "no career paths (paths.csv) and no target roles "
                                   "in the people file: nothing to assess"})
    table, gaps, settings = readiness_table(
        scores, people, framework, paths, roles=roles, plans=plans,
        skill_error_corr=skill_error_corr, variance_components=variance_components,
        probability=probability, wave=wave, alpha=alpha, skill_prior=skill_prior)
    return Readiness(readiness=table, skill_gaps=gaps, bench=bench_strength(table, alpha=alpha),
                     bands=band_distribution(table), single_successors=single_successors(table),
                     settings=settings)
