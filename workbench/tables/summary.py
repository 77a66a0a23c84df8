"""What data arrived: counts per source, wave and skill (:func:`summarise_organisation`).

Examples
--------
>>> from workbench.synth.generator import generate_organisation
>>> org = generate_organisation(30, seed=1).to_organisation()
>>> summary = summarise_organisation(org)
>>> int(summary.overview.set_index("quantity").loc["ratees", "n"])
30
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench.results import Result
from workbench.tables.organisation import Organisation

__all__ = ["OrganisationSummary", "summarise_organisation"]

# The text summary lists this many warnings; the rest are counted.
_LISTED_WARNINGS = 50


@dataclass(frozen=True)
class OrganisationSummary(Result):
    """Counts that tell a consultant what data arrived.

    Attributes
    ----------
    overview : DataFrame
        One row per quantity (people, ratees, raters, ratings, skills, waves, ...).
    ratings_per_source : DataFrame
        source, wave, n_ratings, n_raters, n_ratees.
    raters_per_ratee : DataFrame
        source, wave, mean, min, max raters per ratee (among ratees with that source).
    coverage_per_skill : DataFrame
        skill, wave, n_ratings, n_ratees, coverage (share of ratees rated in the skill).
    warnings : tuple of Problem
        The data warnings found while loading.
    """

    title = "Organisation summary"

    overview: pd.DataFrame
    ratings_per_source: pd.DataFrame
    raters_per_ratee: pd.DataFrame
    coverage_per_skill: pd.DataFrame
    warnings: tuple = ()
    settings: dict = field(default_factory=dict)

    def _sections(self) -> list:
        sections = [
            ("", self.overview),
            ("Ratings per source", self.ratings_per_source),
            ("Raters per ratee", self.raters_per_ratee),
            ("Coverage per skill", self.coverage_per_skill),
        ]
        if self.warnings:
            listed = [str(w) for w in self.warnings[:_LISTED_WARNINGS]]
            if len(self.warnings) > _LISTED_WARNINGS:
                listed.append(f"... and {len(self.warnings) - _LISTED_WARNINGS} more")
            sections.append((f"{len(self.warnings)} warning(s)", listed))
        return sections

    def _files(self) -> dict:
        return {
            "overview.csv": self.overview,
            "ratings_per_source.csv": self.ratings_per_source,
            "raters_per_ratee.csv": self.raters_per_ratee,
            "coverage_per_skill.csv": self.coverage_per_skill,
        }


def summarise_organisation(org: Organisation) -> OrganisationSummary:
    """Summarise an organisation: who rated whom, how often, in which skills.

    Examples
    --------
    >>> print(summarise_organisation(load_organisation("data/demo")).summary())  # doctest: +SKIP
    """
    r = org.ratings
    people, catalog = org.people, org.catalog
    overview = pd.DataFrame(
        [
            ("people", len(people) if people is not None else np.nan),
            ("ratees", r["ratee"].nunique()),
            ("raters", r["rater"].nunique()),
            ("ratings", len(r)),
            ("skills", r["skill"].nunique()),
            ("waves", r["wave"].nunique()),
            ("roles", people["role"].nunique() if people is not None else np.nan),
            ("teams", people["team"].nunique() if people is not None else np.nan),
            ("activities", catalog["activity"].nunique() if catalog is not None else 0),
            ("enrollments", len(org.enrollments) if org.enrollments is not None else 0),
        ],
        columns=["quantity", "n"],
    )
    per_source = (
        r.groupby(["source", "wave"])
        .agg(n_ratings=("score", "size"), n_raters=("rater", "nunique"),
             n_ratees=("ratee", "nunique"))
        .reset_index()
    )
    raters = r.groupby(["source", "wave", "ratee"])["rater"].nunique().rename("raters")
    per_ratee = raters.groupby(["source", "wave"]).agg(mean="mean", min="min", max="max")
    n_ratees = r.groupby("wave")["ratee"].nunique().rename("ratees_in_wave")
    coverage = (
        r.groupby(["skill", "wave"])
        .agg(n_ratings=("score", "size"), n_ratees=("ratee", "nunique"))
        .reset_index()
        .merge(n_ratees, on="wave")
    )
    coverage["coverage"] = coverage["n_ratees"] / coverage["ratees_in_wave"]
    return OrganisationSummary(
        overview=overview,
        ratings_per_source=per_source,
        raters_per_ratee=per_ratee.reset_index(),
        coverage_per_skill=coverage.drop(columns="ratees_in_wave"),
        warnings=tuple(org.warnings),
    )
