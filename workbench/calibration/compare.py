"""The linear mixed model and the many-facet Rasch model side by side.

Where the two calibrations disagree (ceiling effects, raters who use only the middle of the
scale) the consultant must know. :func:`compare_calibrations` reports

* rank agreement (Spearman and Kendall) of the ratees' overall scores (mean over skills), of
  their per-skill scores, and of the raters' leniency (the linear model's rater effect
  against minus the Rasch severity);
* with people and a framework, the people and skills whose gap conclusion differs: a gap
  under one model (``p_below >= gap_probability`` from
  :func:`workbench.tables.requirements.role_gaps`, the package's one definition of a gap) and
  none under the other.

The example is :func:`compare_calibrations`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from workbench.checks import check_choice, check_interval
from workbench.results import Result
from workbench.tables.requirements import role_gaps
from workbench.tables.scores import as_scores

__all__ = ["MODELS", "CalibrationComparison", "compare_calibrations", "select_calibration",
           "calibration_sentence"]

#: The calibration models of the package.
MODELS = ("linear", "rasch")


@dataclass(frozen=True)
class CalibrationComparison(Result):
    """Agreement of two calibrations and the gap conclusions that differ.

    Attributes
    ----------
    agreement : DataFrame
        ``compared``, ``n``, ``spearman``, ``kendall``, ``p_value`` (Spearman's).
    gap_differences : DataFrame
        ``person``, ``skill``, ``required_level``, ``score_linear``, ``se_linear``,
        ``score_rasch``, ``se_rasch``, ``gap_linear``, ``gap_rasch`` (has a gap under each
        model); only the rows whose conclusions differ. Empty without people and framework.
    gap_summary : DataFrame
        ``gap_linear``, ``gap_rasch``, ``n`` (person-skill pairs).
    settings : dict

    Examples
    --------
    :func:`compare_calibrations` makes one (its example fits both models); the title its
    summary and report section carry:

    >>> CalibrationComparison.title
    'Linear model and Rasch model side by side'
    """

    title = "Linear model and Rasch model side by side"
    agreement: pd.DataFrame
    gap_differences: pd.DataFrame
    gap_summary: pd.DataFrame
    settings: dict = field(default_factory=dict)

    def _sections(self):
        return [("Rank agreement", self.agreement),
                ("Gap conclusions (person-skill pairs)", self.gap_summary),
                ("People whose gap conclusion differs",
                 f"{self.gap_differences['person'].nunique()} people, "
                 f"{len(self.gap_differences)} person-skill pairs")]

    def _files(self):
        return {"model_agreement.csv": self.agreement,
                "gap_differences.csv": self.gap_differences}


def _rank_row(name, a, b):
    # imported here: scipy.stats costs most of a second at start-up, and only this
    # comparison needs it (calibration imports the package for every command)
    from scipy import stats

    rho, p = stats.spearmanr(a, b)
    tau, _ = stats.kendalltau(a, b)
    return {"compared": name, "n": len(a), "spearman": rho, "kendall": tau, "p_value": p}


def compare_calibrations(linear, rasch, *, people=None, framework=None,
                         gap_probability: float = 0.7) -> CalibrationComparison:
    """Compare a linear calibration with a Rasch calibration of the same ratings.

    Parameters
    ----------
    linear : Calibration
        From :func:`~workbench.calibration.calibrate.calibrate_ratings`.
    rasch : RaschCalibration
        From :func:`~workbench.calibration.rasch.calibrate_rasch`.
    people, framework : DataFrame, optional
        With both, gap conclusions are compared (latest wave).
    gap_probability : float
        Passed to :func:`~workbench.tables.requirements.role_gaps`.

    Returns
    -------
    CalibrationComparison

    Examples
    --------
    >>> from workbench.synth.generator import generate_organisation
    >>> from workbench.calibration.calibrate import calibrate_ratings
    >>> from workbench.calibration.rasch.calibrate import calibrate_rasch
    >>> org = generate_organisation(60, seed=2, n_waves=1)
    >>> comparison = compare_calibrations(calibrate_ratings(org.ratings),
    ...                                   calibrate_rasch(org.ratings, interactions=()),
    ...                                   people=org.people, framework=org.framework)
    >>> comparison.agreement["compared"].tolist()
    ['ratees: overall', 'ratees: by skill', 'raters: leniency']
    """
    gap_probability = check_interval("gap_probability", gap_probability, low=0.5, high=1,
                                     inclusive="neither")
    a, b = as_scores(linear), as_scores(rasch)
    keys = [k for k in ("person", "skill", "wave") if k in a.columns and k in b.columns]
    both = a.merge(b, on=keys, suffixes=("_linear", "_rasch"))
    person_keys = [k for k in keys if k != "skill"]
    overall = both.groupby(person_keys)[["score_linear", "score_rasch"]].mean()
    raters = linear.rater_effects.merge(rasch.rater_effects, on="rater",
                                        suffixes=("_linear", "_rasch")).dropna(
        subset=["effect_linear", "effect_rasch"])
    agreement = pd.DataFrame([
        _rank_row("ratees: overall", overall["score_linear"], overall["score_rasch"]),
        _rank_row("ratees: by skill", both["score_linear"], both["score_rasch"]),
        _rank_row("raters: leniency", raters["effect_linear"], raters["effect_rasch"]),
    ])
    differences = pd.DataFrame(columns=["person", "skill", "required_level", "score_linear",
                                        "se_linear", "score_rasch", "se_rasch", "gap_linear",
                                        "gap_rasch"])
    summary = pd.DataFrame(columns=["gap_linear", "gap_rasch", "n"])
    if people is not None and framework is not None:
        cols = ["person", "skill", "required_level", "score", "se", "has_gap"]
        g = role_gaps(a, people, framework, gap_probability=gap_probability)[cols].merge(
            role_gaps(b, people, framework, gap_probability=gap_probability)[cols],
            on=["person", "skill", "required_level"], suffixes=("_linear", "_rasch"))
        g = g.rename(columns={"has_gap_linear": "gap_linear", "has_gap_rasch": "gap_rasch"})
        summary = g.groupby(["gap_linear", "gap_rasch"]).size().rename("n").reset_index()
        differences = g[g["gap_linear"] != g["gap_rasch"]][list(differences.columns)]
        differences = differences.sort_values(["person", "skill"]).reset_index(drop=True)
    return CalibrationComparison(agreement, differences, summary,
                                 {"gap_probability": gap_probability})


def select_calibration(model: str, *, linear, rasch):
    """The calibration named by ``model`` ("linear" or "rasch"), e.g. a notebook parameter.

    Examples
    --------
    >>> select_calibration("rasch", linear="L", rasch="R")
    'R'
    """
    model = check_choice("model", model, MODELS)
    return linear if model == "linear" else rasch


def calibration_sentence(model: str, *, compared: bool = False) -> str:
    """Which model's scores a run hands on, in a sentence for the client report.

    Parameters
    ----------
    model : {"linear", "rasch"}
        The calibration whose scores later steps read (a notebook's ``model`` parameter).
    compared : bool
        Whether the other model was fitted too and set beside it.

    Examples
    --------
    >>> calibration_sentence("rasch")[:62]
    'The scores in this report come from the many-facet Rasch model'
    """
    model = check_choice("model", model, MODELS)
    if model == "rasch":
        text = ("The scores in this report come from the many-facet Rasch model: for each "
                "person and skill, the rating an average rater would give (the fair average), "
                "which respects that the steps between the rating points need not be equal. "
                "The profiles, impact and learning plans use these scores.")
        other = "The linear mixed model is set beside it below."
    else:
        text = ("The scores in this report come from the linear mixed model: for each person "
                "and skill, the rating an average non-self rater, neither lenient nor severe, "
                "would give. The profiles, impact and learning plans use these scores.")
        other = "The many-facet Rasch model is set beside it below."
    return f"{text} {other}" if compared or model == "rasch" else text
