"""One call for every impact question, :func:`estimate_impact`, and its results object.

:class:`ImpactResult` lists its tables once: ``summary()``, the notebook display and
``save(folder)`` (used by ``workbench impact`` and notebook 03 alike) come from
:class:`workbench.results.Result`. Files written by ``save``:

========================= ==================================================================
file                      content
========================= ==================================================================
effects_by_skill.csv      one row per skill and method (ancova, did, change_trained,
                          change_untrained): estimate, se, ci_low, ci_high, p_value,
                          p_adjusted, n, n_trained, n_untrained, se_type (the variance
                          estimator used), assumption, recommended, training
effects_by_activity.csv   one row per (activity, targeted skill), partially pooled: activity,
                          skill, title, estimate (posterior mean, score points), se (posterior
                          SD), ci_low, ci_high (1 - alpha normal interval), n (people who
                          completed it between the assessments; also ``n_completed``),
                          raw_estimate, raw_se, p_value, p_adjusted, prior_mean, shrinkage,
                          rank. The plans stage reads it (``impact_file``). Empty without a
                          catalog.
individual_change.csv     reliable change per person and skill (no rater identities)
power.csv                 minimum detectable effect and sample sizes per skill
rtm.csv                   naive low-scorer gains beside ANCOVA
paired_change.csv         paired change with d_z and g_av
design.csv                the design recommended per skill and why
settings.json             the options, the waves compared, the score source, the variance
                          estimator of each method (``variance``; ``cluster`` is the column
                          ANCOVA actually clustered by, null when it used HC1)
========================= ==================================================================

The example is :func:`estimate_impact`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench.checks import check_alpha, check_choice, check_interval
from workbench.impact.effects import (
    ASSUMPTIONS,
    ancova_effects,
    did_effects,
    paired_change,
    recommend_design,
    regression_to_mean,
    reliable_change,
)
from workbench.impact.panel import TRAINING_LABELS, prepare_panel
from workbench.impact.pooling import activity_effects
from workbench.impact.regression import (
    CORRECTIONS,
    COVARIATES,
    adjust_p_values,
    check_error_correlation,
    pre_adjust_for,
)
from workbench.impact.sample_size import power_analysis
from workbench.presentation.labels import CORRECTION_LABELS, METHOD_LABELS, wave_label
from workbench.results import Result

__all__ = ["ImpactResult", "estimate_impact", "DESIGNS"]

DESIGNS = ("auto", "ancova", "did")
_ACTIVITY_COLUMNS = ["activity", "skill", "title", "estimate", "se", "ci_low", "ci_high", "n",
                     "n_completed", "raw_estimate", "raw_se", "p_value", "p_adjusted",
                     "prior_mean", "shrinkage", "rank"]


@dataclass(frozen=True)
class ImpactResult(Result):
    """Everything :func:`estimate_impact` found, as tidy tables.

    Attributes
    ----------
    effects_by_skill : DataFrame
        One row per skill and method ("ancova", "did", "change_trained", "change_untrained"):
        estimate, se, ci_low, ci_high, p_value, p_adjusted (within method, across skills), n,
        n_trained, n_untrained, se_type (the variance estimator actually used), assumption,
        recommended (bool), training (what counted).
    paired : DataFrame
        Paired changes with d_z and g_av (:func:`workbench.impact.effects.paired_change`).
    effects_by_activity : DataFrame
        Partially pooled per-activity effects (:func:`workbench.impact.pooling.activity_effects`);
        empty without a catalog.
    individual_change : DataFrame
        Reliable change per person and skill (:func:`workbench.impact.effects.reliable_change`).
    rtm : DataFrame
        Naive low-scorer gains beside ANCOVA (:func:`workbench.impact.effects.regression_to_mean`).
    power : DataFrame
        Minimum detectable effects and sample sizes (:func:`workbench.impact.sample_size.power_analysis`).
    design : DataFrame
        The design recommendation per skill (:func:`workbench.impact.effects.recommend_design`).
    panel : DataFrame
        The analysed data (one row per person and skill).
    settings : dict
        The options, the waves compared (pre_wave, post_wave), what counted as training,
        where the assessment dates came from, the score source.
    notes : tuple of str
        Plain-language statements of choices and assumptions.

    Examples
    --------
    >>> from workbench.synth import generate_organisation, truth_scores
    >>> org = generate_organisation(150, seed=2)
    >>> res = estimate_impact(truth_scores(org, se=.2, random_state=0), org.enrollments,
    ...                       people=org.people, catalog=org.catalog, dates=org.ratings, did=False)
    >>> isinstance(res, ImpactResult), res.settings["post_wave"]
    (True, 2)
    """

    effects_by_skill: pd.DataFrame
    paired: pd.DataFrame
    effects_by_activity: pd.DataFrame
    individual_change: pd.DataFrame
    rtm: pd.DataFrame
    power: pd.DataFrame
    design: pd.DataFrame
    panel: pd.DataFrame = field(repr=False)
    settings: dict = field(default_factory=dict)
    notes: tuple = ()

    title = "Learning impact"

    @property
    def params(self) -> pd.Series:
        """The recommended estimate per skill."""
        rec = self.effects_by_skill[self.effects_by_skill["recommended"]]
        return rec.set_index("skill")["estimate"].rename("estimate")

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        """Intervals of the recommended estimates (at the fitted alpha)."""
        if alpha is not None and alpha != self.settings.get("alpha"):
            from workbench.errors import ConfigError

            raise ConfigError(f"alpha={alpha}: intervals were computed at alpha="
                              f"{self.settings.get('alpha')}; call estimate_impact again")
        rec = self.effects_by_skill[self.effects_by_skill["recommended"]]
        return rec.set_index("skill")[["ci_low", "ci_high"]]

    def to_frame(self) -> pd.DataFrame:
        """The effects by skill (every method), tidy."""
        return self.effects_by_skill.copy()

    def _sections(self) -> list:
        s = self.settings
        head = (f"Survey rounds compared: {wave_label(s['pre_wave'])} (before) -> "
                f"{wave_label(s['post_wave'])} (after). "
                f"Trained = {TRAINING_LABELS[s['training']]}. Scores: {s['score_source']}. "
                f"Dates: {s['dates']}.")
        rec = self.effects_by_skill[self.effects_by_skill["recommended"]]
        rec = rec[["skill", "method", "estimate", "ci_low", "ci_high", "p_adjusted",
                   "n_trained", "n_untrained"]]
        if not self.power.empty:
            rec = rec.merge(self.power[["skill", "mde"]], on="skill", how="left")
        sections = [("", head), ("Recommended effect per skill (score points)", rec)]
        if not self.effects_by_activity.empty:
            top = self.effects_by_activity.dropna(subset=["estimate"]).head(5)
            sections.append(("Top activities (partially pooled effect on the targeted skill)",
                             top[["activity", "title", "skill", "estimate", "ci_low", "ci_high",
                                  "n"]]))
        sections.append(("Notes", list(self.notes)))
        return sections

    def _files(self) -> dict:
        return {"effects_by_skill.csv": self.effects_by_skill,
                "effects_by_activity.csv": self.effects_by_activity,
                "individual_change.csv": self.individual_change,
                "power.csv": self.power,
                "rtm.csv": self.rtm,
                "paired_change.csv": self.paired,
                "design.csv": self.design}


# the variance estimator behind each method's standard errors, as the outputs state it
SE_TYPES = {"cluster": "cluster-robust by {cluster} (CR1, t with G - 1 df)",
            "HC1": "heteroskedasticity-robust (HC1, t with n - p df)",
            "did": "model-based (REML random-intercept model, normal reference)",
            "paired": "paired (SD of the changes / sqrt(n), t with n - 1 df)"}


def _variance_text(ancova: pd.DataFrame, panel: pd.DataFrame, cluster) -> tuple[str, dict]:
    """A note saying which variance estimator ANCOVA used, and the settings' record of it.

    ANCOVA asks for standard errors clustered by ``cluster``; without that column (no people
    table, or one without it), with a missing value or with a single group it falls back to
    HC1 (:func:`workbench.impact.regression.fit_ols`). The outputs say what was used.
    """
    used = ancova.dropna(subset=["se_type"])
    kinds = set(used["se_type"])
    clustered = used.loc[used["se_type"] == "cluster", "skill"].tolist()
    robust = used.loc[used["se_type"] == "HC1", "skill"].tolist()
    if cluster is None:
        why = "no grouping was asked for"
    elif cluster not in panel.columns:
        why = f"no {cluster} column: no people table, or one without {cluster}"
    else:
        why = f"the {cluster} column is missing for some people or has a single value"
    if kinds == {"cluster"}:
        g = used["n_clusters"]
        note = (f"Intervals of the adjusted comparison allow for people in one {cluster} being "
                f"alike ({int(g.min())}"
                + (f" to {int(g.max())}" if g.max() > g.min() else "") + f" {cluster}s; "
                "cluster-robust standard errors).")
        ancova_text = f"cluster-robust by {cluster} (CR1, t with G - 1 df)"
    elif kinds == {"HC1"}:
        note = (f"Intervals of the adjusted comparison take people in one team as independent "
                f"({why}), so they are too narrow if team members' results are related "
                "(robust standard errors, not clustered).")
        ancova_text = f"HC1 ({why})"
    elif kinds:
        note = (f"Intervals of the adjusted comparison allow for people in one {cluster} being "
                f"alike for {', '.join(map(str, clustered))}; for "
                f"{', '.join(map(str, robust))} they take people as independent ({why}).")
        ancova_text = f"cluster-robust by {cluster} or HC1, per skill (se_type)"
    else:
        note = ("The adjusted comparison has no intervals: no skill had two trained and two "
                "untrained people.")
        ancova_text = "none (not estimated)"
    record = {"ancova": ancova_text, "did": SE_TYPES["did"],
              "change_trained": SE_TYPES["paired"], "change_untrained": SE_TYPES["paired"],
              "activities": "classical OLS (raw estimates), then empirical-Bayes pooling"}
    return note, record


def _stack_effects(paired, ancova, did, design, correction, cluster):
    pieces = []
    for group, method in (("trained", "change_trained"), ("untrained", "change_untrained")):
        p = paired[paired["group"] == group].copy()
        p["method"] = method
        p["n_trained"] = np.where(group == "trained", p["n"], np.nan)
        p["n_untrained"] = np.where(group == "untrained", p["n"], np.nan)
        pieces.append(p)
    ancova = ancova.assign(se_type=ancova["se_type"].map(
        {"cluster": SE_TYPES["cluster"].format(cluster=cluster), "HC1": SE_TYPES["HC1"]}))
    did = did.assign(se_type=SE_TYPES["did"])
    pieces = [p.assign(se_type=SE_TYPES["paired"]) for p in pieces] + [ancova, did]
    cols = ["skill", "method", "estimate", "se", "ci_low", "ci_high", "p_value", "n",
            "n_trained", "n_untrained"]
    out = pd.concat([p[cols + ["se_type"]] for p in pieces if not p.empty],
                    ignore_index=True)
    for c in cols[2:]:
        out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
    out["p_adjusted"] = np.nan
    for _, idx in out.groupby("method").groups.items():
        out.loc[idx, "p_adjusted"] = adjust_p_values(out.loc[idx, "p_value"], correction)
    out["assumption"] = out["method"].map(ASSUMPTIONS)
    rec = design.set_index("skill")["recommended"]
    out["recommended"] = out["method"].eq(out["skill"].map(rec))
    order = {"ancova": 0, "did": 1, "change_trained": 2, "change_untrained": 3}
    out = out.sort_values(["skill", "method"], key=lambda s: s.map(order) if s.name == "method"
                          else s).reset_index(drop=True)
    out.loc[out["se"].isna(), "se_type"] = np.nan
    return out[cols[:7] + ["p_adjusted"] + cols[7:] + ["se_type", "assumption", "recommended"]]


def _dates_text(attrs) -> str:
    if not attrs["dates_checked"]:
        why = attrs["dates_source"] if attrs["n_unchecked"] and attrs["dates_source"] \
            .startswith(("no ", "the ratings have", "the ratings' date")) \
            else "the enrollments have no start dates"
        return (f"could not be checked ({why}); every completed enrollment counts as training "
                "between the waves")
    text = f"training counted only between the pre and post assessments ({attrs['dates_source']})"
    if attrs["n_outside"]:
        text += f"; {attrs['n_outside']} enrollment(s) before or after that window were ignored"
    if attrs["n_overlapping"]:
        text += (f"; {attrs['n_overlapping']} overlapping an assessment count as partial "
                 "(like unfinished ones)")
    if attrs["n_unchecked"]:
        text += f"; {attrs['n_unchecked']} enrollment(s) without dates were counted unchecked"
    return text


def _notes(panel, *, noncompleters, design, adjust, correction, did):
    """The sentences that qualify an impact result: the design used, what was left out and
    why, and the caveats a reader needs before believing an effect.
    """
    a = panel.attrs
    n_excluded = int((~panel["included"]).sum())
    notes = [
        f"Survey rounds compared: {wave_label(a['pre_wave'])} (before) and "
        f"{wave_label(a['post_wave'])} (after).",
        f"Trained = {TRAINING_LABELS[a['training']]}"
        + (" (per-skill effects are the effect of any training, not of training on that "
           "skill; give the catalog for targeted effects)" if a["training"] == "any" else "")
        + "; "
        + ("people whose enrollments on a skill were all unfinished are left out of that "
           f"skill's comparison ({n_excluded} person-skill rows)."
           if noncompleters == "exclude" else
           "people who did not finish count as untrained (intention-to-treat-like)."),
        f"Dates: {_dates_text(a)}.",
        "Two ways of comparing trained with untrained people: the later scores adjusted for "
        "the earlier score, role and level (analysis of covariance), right when who was "
        "trained depended only on those; and the change over time of both groups "
        "(difference-in-differences), right when both groups would have changed alike "
        "without training.",
        ("Which comparison is recommended: the adjusted one when the earlier score predicts "
         "who was trained within teams (p below the significance level, with role and "
         "level); else the change over time when the groups differed at the start; else the "
         "adjusted one." if design == "auto" else
         f"Comparison set by the analyst: {METHOD_LABELS.get(design, design).lower()}.")
        if did else "The change over time was not compared: the adjusted comparison is "
        "recommended.",
        ("Earlier scores were corrected for their measurement error (regression calibration), "
         "which would otherwise shrink the effects."
         if adjust == "regression_calibration" else
         "Earlier scores were used as given (no correction for measurement error)."),
        f"Many skills and activities are tested at once: p values are adjusted for that "
        f"({CORRECTION_LABELS.get(correction, correction)}) across skills within each "
        "comparison and across all activity-skill pairs.",
        "Effect sizes for the same people before and after: the change relative to how much "
        "changes vary between people, and relative to the average spread of the two rounds "
        "(corrected for small groups), each with its 95% interval.",
        "Plain before-after gains of low scorers include drift and regression to the mean "
        "(low scores tend to rise when measured again); comparing with untrained colleagues "
        "removes both.",
    ]
    if a["training"] == "targeted":
        notes.append("Per-activity effects are partially pooled: each is pulled towards the "
                     "average of activities of its kind, the more the less precise it is "
                     "(empirical Bayes, the between-activity variance estimated by restricted "
                     "maximum likelihood); p values refer to the unpooled estimates.")
    if a["undone"]:
        notes.append("Calibrated (shrunken) scores were un-shrunk per skill and wave before "
                     "analysis so that shrinkage does not attenuate the effects.")
    if a["n_unknown_enrollees"]:
        notes.append(f"{a['n_unknown_enrollees']} enrolled people have no scores in both waves "
                     "and are not part of the comparison.")
    untrained_skills = sorted(set(panel["skill"]) - set(panel.loc[panel["trained"], "skill"]))
    if untrained_skills:
        notes.append(f"Nobody was trained on {', '.join(map(str, untrained_skills))}: no "
                     "effect is estimated there.")
    if panel["se_pre"].isna().all():
        notes.append("No standard errors: no reliable-change categories and no "
                     "measurement-error correction.")
    return notes


def _error_correlation_text(panel, error_correlation):
    """How the correlation of pre and post score errors entered: (note, short form)."""
    if error_correlation is not None:
        note = (f"Pre and post score errors taken as correlated {error_correlation:g} (set by "
                "the analyst)." if error_correlation else "Pre and post score errors taken "
                "as independent (error_correlation=0, set by the analyst).")
        return note, f"{error_correlation:g} (set by the analyst)"
    rho = panel["error_corr"] if "error_corr" in panel else pd.Series(dtype=float)
    if rho.notna().any():
        return (f"Pre and post score errors correlated as the calibration computed them (mean "
                f"{rho.mean():.2f}, range {rho.min():.2f} to {rho.max():.2f}): the same raters' "
                "lasting impressions enter both waves.",
                f"from the scores' error_corr (mean {rho.mean():.3f})")
    source = panel.attrs.get("error_corr_source")
    why = {"not consecutive": "the waves compared are not consecutive, and the scores give "
           "the correlation with the previous wave only"}.get(
        source, "the scores carry no between-wave error correlation (error_corr; a joint "
        "calibration of both waves computes it)")
    return ("Pre and post score errors taken as independent: " + why + ". When the same "
            "raters rate in both waves, their lasting impressions make the errors correlated "
            "and the effects somewhat too large (docs/impact.md).",
            "0 (" + ("waves not consecutive" if source == "not consecutive"
                     else "the scores carry no error_corr") + ")")


def estimate_impact(scores, enrollments, *, people=None, catalog=None, waves=None, dates=None,
                    training: str = "targeted", alpha: float = 0.05, correction: str = "holm",
                    noncompleters: str = "exclude", design: str = "auto",
                    pre_adjust: str = "auto", shrinkage: str = "auto", covariates=COVARIATES,
                    cluster: str | None = "team", target_effect: float = 0.2,
                    power: float = 0.8, rtm_quantile: float = 0.5,
                    error_correlation: float | None = None, did: bool = True) -> ImpactResult:
    """Did the training raise the skills it targets? Every impact question in one call.

    Parameters
    ----------
    scores : Calibration, scores DataFrame or file
        Scores per person, skill and wave with ``se`` (the scores contract); best a
        calibration of both waves fitted jointly (``calibrate_ratings(ratings,
        waves="joint")``). Raw means work too but are not rater-corrected.
    enrollments : DataFrame
        person, activity, completed[, start, end].
    people : DataFrame, optional
        person, team, role, level (covariates; team gives the clusters).
    catalog : DataFrame, optional
        activity, skill[, kind, title]: which skills each activity targets. Needed unless
        ``training="any"``, which does not use it (giving both is an error).
    waves : None, str or pair
        The pre and post waves, e.g. ``(1, 2)`` or ``"1,2"``; None: the two waves present
        (see :func:`workbench.impact.panel.choose_waves`).
    dates : DataFrame, mapping, str or None
        When the assessments took place: the ratings (their ``date`` column) or one date per
        wave (``{1: "2026-01-19", 2: "2026-07-13"}`` or ``"1=2026-01-19, 2=2026-07-13"``).
        Training counts only between them; without dates the result says they were not checked.
    training : {"targeted", "any"}
        "targeted": training on a skill = a completed activity the catalog maps to it. "any":
        any completed activity counts on every skill (no catalog; labelled in every table).
    alpha : float
        1 - confidence level; also the threshold of the design rule.
    correction : {"holm", "fdr_bh"}
        Multiplicity adjustment (statsmodels ``multipletests``) across skills within each
        method, and across all (activity, skill) pairs.
    noncompleters : {"exclude", "untrained"}
        See :func:`workbench.impact.panel.prepare_panel`.
    design : {"auto", "ancova", "did"}
        Which estimate is flagged as recommended; "auto" applies
        :func:`workbench.impact.effects.recommend_design`.
    pre_adjust : {"auto", "regression_calibration", "none"}
        See :func:`workbench.impact.effects.ancova_effects`.
    shrinkage : {"auto", "undo", "keep"}
        See :func:`workbench.impact.panel.prepare_panel`.
    covariates, cluster
        See :func:`workbench.impact.effects.ancova_effects`.
    target_effect, power : float
        Planning: effect (score points) and power for the sample-size column.
    rtm_quantile : float
        Low scorers for the regression-to-the-mean table (below this quantile of pre).
    error_correlation : float or None
        Correlation between the errors of a person's pre and post score (the same raters'
        lasting impressions enter both waves); used by the regression calibration of ANCOVA
        and of the per-activity effects (:func:`workbench.impact.regression.calibrated_pre`).
        None (default): each person and skill's ``error_corr`` from the calibrated scores (a
        joint calibration computes it:
        :func:`workbench.calibration.wave_covariance.wave_error_correlation`), 0 when the scores
        carry none; a number overrides it for every row (0: independent errors).
    did : bool
        Fit the difference-in-differences mixed models (the slowest part).

    Returns
    -------
    ImpactResult

    Raises
    ------
    InputError
        Nobody completed training between the waves, no enrollee has scores, a wave with very
        few rows, missing columns (every problem named).
    ConfigError
        An option out of range; no catalog with ``training="targeted"``.

    Examples
    --------
    >>> from workbench.synth import generate_organisation, truth_scores
    >>> org = generate_organisation(150, seed=2)
    >>> scores = truth_scores(org, se=.2, random_state=0)
    >>> res = estimate_impact(scores, org.enrollments, people=org.people, catalog=org.catalog,
    ...                       dates=org.ratings, did=False)
    >>> list(res.params.index) == sorted(org.catalog["skill"].unique())
    True
    >>> res.settings["pre_wave"], res.settings["post_wave"]
    (1, 2)
    """
    check_alpha(alpha)
    check_choice("correction", correction, CORRECTIONS)
    check_choice("design", design, DESIGNS)
    check_interval("target_effect", target_effect, low=0, inclusive="neither")
    check_interval("power", power, low=0, high=1, inclusive="neither")
    check_interval("rtm_quantile", rtm_quantile, low=0, high=1, inclusive="neither")
    check_error_correlation(error_correlation)
    panel = prepare_panel(scores, enrollments, people=people, catalog=catalog, waves=waves,
                          dates=dates, training=training, noncompleters=noncompleters,
                          shrinkage=shrinkage)
    adjust = pre_adjust_for(panel, pre_adjust)
    covariates = tuple(covariates)
    paired = paired_change(panel, alpha=alpha)
    ancova = ancova_effects(panel, alpha=alpha, covariates=covariates, cluster=cluster,
                            pre_adjust=adjust, error_correlation=error_correlation)
    did_table = did_effects(panel, alpha=alpha) if did else pd.DataFrame(
        columns=["skill", "method", "estimate", "se", "ci_low", "ci_high", "p_value", "n",
                 "n_trained", "n_untrained"])
    rec = recommend_design(panel, alpha=alpha, covariates=covariates)
    if design != "auto":
        rec["recommended"] = design
        rec["reason"] = "set by the analyst"
    if not did:
        rec["recommended"] = "ancova"
    effects = _stack_effects(paired, ancova, did_table, rec, correction, cluster)
    effects["training"] = training
    if training == "targeted":
        acts = activity_effects(panel, catalog, alpha=alpha, covariates=covariates,
                                cluster=cluster, pre_adjust=adjust, correction=correction,
                                error_correlation=error_correlation)
    else:
        acts = pd.DataFrame(columns=_ACTIVITY_COLUMNS)
    rtm = regression_to_mean(panel, ancova=ancova, quantile=rtm_quantile, alpha=alpha)
    plan = power_analysis(ancova, target_effect=target_effect, alpha=alpha, power=power)
    individual = reliable_change(panel, alpha=alpha)
    notes = _notes(panel, noncompleters=noncompleters, design=design, adjust=adjust,
                   correction=correction, did=did)
    variance_note, variance = _variance_text(ancova, panel, cluster)
    notes.insert(4, variance_note)
    corr_note, corr_used = _error_correlation_text(panel, error_correlation)
    if adjust == "regression_calibration":
        notes.append(corr_note)
    a = panel.attrs
    source = {True: "calibrated (shrunken BLUPs, un-shrunk)", False: "calibrated (shrunken "
              "BLUPs, kept)"}[a["undone"]] if a["shrunken"] else "scores as given (unshrunk)"
    settings = {"pre_wave": a["pre_wave"], "post_wave": a["post_wave"], "training": training,
                "dates": _dates_text(a), "dates_checked": a["dates_checked"], "alpha": alpha,
                "correction": correction, "noncompleters": noncompleters, "design": design,
                "pre_adjust": adjust, "shrinkage": shrinkage, "covariates": covariates,
                "cluster": cluster if (ancova["se_type"] == "cluster").any() else None,
                "cluster_asked": cluster, "variance": variance,
                "target_effect": target_effect, "power": power,
                "error_correlation": error_correlation,
                "error_correlation_used": corr_used,
                "score_source": source}
    return ImpactResult(effects_by_skill=effects, paired=paired, effects_by_activity=acts,
                        individual_change=individual, rtm=rtm, power=plan, design=rec,
                        panel=panel, settings=settings, notes=tuple(notes))
