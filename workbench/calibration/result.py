"""The calibration's results object: calibrated scores, rater and source effects, variance
components, the rater network and what the design could not separate.

:func:`workbench.calibration.calibrate.calibrate_ratings` builds it; ``save(folder)`` writes
``calibrated_scores.csv`` (the scores contract of :mod:`workbench.tables.scores`),
``analyst/rater_effects.csv`` (rater ids: the analyst's folder), ``source_effects.csv``,
``variance_components.csv``, ``connectivity.csv``, ``dropped_terms.csv`` and
``settings.json``, whether the CLI or notebook 01 calls it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from workbench.calibration.bounds import (
    bound_note,
    rater_bound_note,
    widen_calibrated_scores,
)
from workbench.calibration.mixed.model import MixedResult
from workbench.calibration.mixed.vc_uncertainty import vc_summary
from workbench.results import Result

__all__ = ["Calibration", "CalibrationWarning"]


class CalibrationWarning(UserWarning):
    """Ratings were left out of the calibration (disconnected subsets, too few ratings)."""


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Calibration(Result):
    """Calibrated scores and the rater-bias model behind them.

    Attributes
    ----------
    scores : DataFrame
        One row per person (the ratee) and skill (and wave / subset when present): ``score``
        (calibrated, on the rating scale), ``se``, ``ci_low``, ``ci_high``, ``raw_mean``
        (plain mean of the non-self ratings; NaN without any), ``n_ratings`` (ratings of all
        sources used), ``n_raters`` (distinct raters), ``self_only`` (every rating of the
        cell is the person's own), ``wide_interval`` (the interval is wider than the rating
        scale: the score means little). ``ci_low``, ``ci_high`` here are ``score +- z se``,
        the interval of the expected rating; the scores contract (:meth:`to_scores`) widens
        them at the scale's ends.
    rater_effects : DataFrame
        ``rater``, ``effect`` (leniency on the rating scale: positive = lenient), ``se``
        (conditional SD, widened by the variance components' uncertainty when
        ``settings["vc_uncertainty_method"]`` is ``"delta"``), ``n_ratings``. Internal: holds
        rater identities.
    source_effects : DataFrame
        ``source``, ``estimate`` (offset relative to the reference), ``se``, ``ci_low``,
        ``ci_high``, ``p_value`` (Wald, normal).
    variance_components : DataFrame
        ``component``, ``variance``, ``sd``, ``share`` (of the total variance), ``n_levels``
        (the table of :func:`workbench.calibration.mixed.model.variance_table`; a ``subset``
        column first when subsets are fitted separately). Components are named by the
        requested terms also when fitted within waves (``"ratee"`` for ``ratee:wave``).
    connectivity : DataFrame
        ``subset``, ``n_ratees``, ``n_raters``, ``n_ratings``, ``fitted``.
    dropped : DataFrame
        ``term``, ``reason``: requested terms the design cannot separate (not fitted).
    ratings : DataFrame
        The ratings used (with a ``subset`` column).
    model : MixedResult
        The fitted mixed model (of the largest subset when several were fitted).
    models : dict
        Subset -> MixedResult for every fitted subset.
    settings : dict
        The options used (``terms`` requested, ``terms_fitted``, ``reference``, ``waves``,
        ``connectivity``, ``min_ratings``, ``alpha``, ``scale``) and how the model was fitted
        (``solver``, ``se_method``), and whether the SEs include the uncertainty of the
        variance components (``vc_uncertainty`` requested, ``vc_uncertainty_method`` run:
        "delta" or "none", ``vc_se_increase``: mean relative widening of the score SEs,
        ``vc_terms_held``: components on the boundary, held at their estimate; of the largest
        subset when several are fitted; see :mod:`workbench.calibration.mixed.vc_uncertainty`),
        and how the contract's intervals are widened at the scale's ends (``bound_step``: 1
        or 0.5 for whole or half points, 0 for none; ``bound_rating_sd``, ``bound_cap_sds``;
        :mod:`workbench.calibration.bounds`).

    Examples
    --------
    >>> from workbench.calibration.calibrate import calibrate_ratings
    >>> from workbench.synth.generator import generate_organisation
    >>> org = generate_organisation(60, seed=4, n_waves=1)
    >>> cal = calibrate_ratings(org.ratings)
    >>> isinstance(cal, Calibration), cal.scores["person"].nunique()
    (True, 60)
    """

    title = "Calibrated 360 ratings"

    scores: pd.DataFrame
    rater_effects: pd.DataFrame
    source_effects: pd.DataFrame
    variance_components: pd.DataFrame
    connectivity: pd.DataFrame
    ratings: pd.DataFrame
    model: MixedResult
    models: dict = field(default_factory=dict)
    dropped: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["term",
                                                                                "reason"]))
    settings: dict = field(default_factory=dict)
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def params(self) -> pd.Series:
        """Fixed effects and variance components of the (largest) model."""
        return self.model.params

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        """Wald intervals of the fixed effects of the (largest) model."""
        return self.model.conf_int(self.settings.get("alpha", 0.05) if alpha is None else alpha)

    def to_frame(self) -> pd.DataFrame:
        """The calibrated scores (a copy)."""
        return self.scores.copy()

    def to_scores(self) -> pd.DataFrame:
        """The calibrated scores in the scores contract (:mod:`workbench.tables.scores`).

        ``estimator`` is ``"blup"`` (shrunken towards the mean). For ratings in whole or half
        points the intervals are widened towards the scale's ends and ``near_bound`` marks
        those reaching beyond them (:func:`workbench.calibration.bounds.widen_at_bounds`). A joint calibration of several
        waves adds ``error_corr``: the correlation of each score's error with the same person
        and skill's score error in the previous wave
        (:func:`workbench.calibration.wave_covariance.wave_error_correlation`).
        """
        scores = self.bounded_scores().assign(estimator="blup")
        if self.settings.get("waves") == "joint" and self.ratings["wave"].nunique() > 1:
            if "error_corr" not in self._cache:  # computed once, however often it is saved
                from workbench.calibration.wave_covariance import wave_error_correlation

                self._cache["error_corr"] = wave_error_correlation(self)
            corr = self._cache["error_corr"][["person", "skill", "wave", "error_corr"]]
            scores = scores.merge(corr, on=["person", "skill", "wave"], how="left")
        return scores

    def bounded_scores(self) -> pd.DataFrame:
        """:attr:`scores` with the intervals widened at the scale's ends and ``near_bound``
        (computed once; the scores as they are when the settings hold no scale)."""
        if "bounded" not in self._cache:
            scale = self.settings.get("scale")
            self._cache["bounded"] = (
                self.scores.assign(near_bound=False) if scale is None else
                widen_calibrated_scores(self.scores, self.variance_components,
                                        ratings=self.ratings["score"], scale=scale))
        return self._cache["bounded"].copy()

    def _formula(self) -> str:
        fixed = " + ".join(self.model.fe_params.index[1:].map(lambda s: s.split("[")[0]).unique())
        rand = " + ".join(f"(1|{t})" for t in self.model.variance_components["component"][:-1])
        return f"score ~ {fixed or '1'} + {rand}"

    def _sections(self) -> list:
        """The summary: model and fit, terms not fitted, warnings (wide intervals, self-only
        scores, scores near the scale's ends), variance components, source effects, scores."""
        conn = self.connectivity
        model = self.model
        crit_se = self.settings.get("reml_criterion_se", 0.0)
        crit = f"{model.reml_criterion:.4f}" + (f" (Monte Carlo SE {crit_se:.2f})" if crit_se
                                                 else "")
        head = [f"Model: {self._formula()}",
                f"Ratings: {len(self.ratings)}   people: {self.scores['person'].nunique()}   "
                + ("responses (no rater ids)" if self.settings.get("anonymous_raters")
                   else "raters")
                + f": {self.ratings['rater'].nunique()}",
                f"Fit: solver {self.settings.get('solver')}, standard errors "
                f"{self.settings.get('se_method')}, REML criterion {crit}, "
                f"converged: {model.converged}"]
        if "vc_uncertainty_method" in self.settings:
            line = vc_summary(self.settings)
            head.append(line[0].upper() + line[1:])
        if self.settings.get("design_note"):
            head.append(f"Design: {self.settings['design_note']}.")
        elif len(conn) > 1:
            head.append(f"Rater network: {len(conn)} disconnected subsets, "
                        f"{int(conn['fitted'].sum())} fitted")
        sections = [("", "\n".join(head))]
        if len(self.dropped):
            sections.append(("Terms not fitted (the design cannot separate them)",
                             [f"{r.term}: {r.reason}" for r in self.dropped.itertuples()]))
        notes = []
        wide = int(self.scores["wide_interval"].sum())
        if wide:
            notes.append(f"{wide} score(s) have an interval wider than the rating scale")
        self_only = int(self.scores["self_only"].sum())
        if self_only:
            notes.append(f"{self_only} score(s) rest on the person's own ratings only")
        if self.settings.get("scale") is not None:
            near = bound_note(self.bounded_scores(), self.settings["scale"])
            piled = rater_bound_note(self.ratings["score"], self.settings["scale"],
                                     step=self.settings.get("bound_step", 0.0))
            notes += [note for note in (near, piled) if note]
        if notes:
            sections.append(("Warnings", notes))
        sections += [("Variance components", self.variance_components),
                     ("Source effects (relative to the reference)", self.source_effects),
                     ("Calibrated scores", f"mean {self.scores['score'].mean():.3f}, median se "
                                           f"{self.scores['se'].median():.3f}")]
        return sections

    def _files(self) -> dict:
        return {"calibrated_scores.csv": self.to_scores(),
                "analyst/rater_effects.csv": self.rater_effects,
                "source_effects.csv": self.source_effects,
                "variance_components.csv": self.variance_components,
                "connectivity.csv": self.connectivity,
                "dropped_terms.csv": self.dropped}
