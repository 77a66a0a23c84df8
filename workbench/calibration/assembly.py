"""The calibration's result put together: the subsets' fits stacked into one
:class:`~workbench.calibration.result.Calibration`, and what the result says about designs that
identify less than the crossed model (:data:`NESTED_NOTE`, :data:`ANONYMOUS_NOTE`,
:data:`ANONYMOUS_HALO`).

The names here are the internal interface of :mod:`workbench.calibration.calibrate`.

Examples
--------
>>> dropped = pd.DataFrame({"term": ["rater:skill"], "reason": ["one skill"]})
>>> anonymous_reasons(dropped, ("ratee", "rater"))["term"].tolist()
['rater:skill', 'rater:ratee']
"""

from __future__ import annotations

import warnings

import pandas as pd

from workbench.calibration.bounds import bound_settings
from workbench.calibration.preparation import WAVE_TERMS
from workbench.calibration.result import Calibration, CalibrationWarning

__all__: list[str] = []

#: What a design with raters nested in ratees identifies and what it does not.
NESTED_NOTE = (
    "each rater rates one ratee only (raters nested in ratees: {n} groups that no rater "
    "links): all are fitted in one model. Identified: the ratee variance, the ratee-by-skill "
    "variance, one rater variance (a rater's leniency and their halo on their one ratee "
    "together: the two cannot be told apart) and the residual, hence ICC, r_wg and the "
    "G-study. Not identified: a rater's leniency apart from their ratee's level; the "
    "calibrated scores correct for leniency only by shrinking towards the mean, and they "
    "are comparable across ratees only under the model's assumption that leniency is "
    "distributed alike in every group")


#: What ratings without rater identities identify and what they do not (#22 part 2).
ANONYMOUS_NOTE = (
    "the ratings carry no rater identities: each of the {n} survey responses is its own "
    "rater, who rates one person. Identified: the person variance, the person-by-skill "
    "variance, one response variance (the rater's leniency and their halo for the person "
    "rated, together) and the residual. Not estimable: a rater's leniency apart from their "
    "halo, since no rater is seen rating two people, and so no rater's own effect; the "
    "calibrated scores remove who rated whom only by shrinking towards the mean, and their "
    "intervals count the response variance as uncertainty")

#: The reason given for the halo term with anonymous raters.
ANONYMOUS_HALO = ("no rater identities: each response is its own rater and rates one person, "
                  "so a rater's leniency and their halo for that person are one effect ('rater' "
                  "holds both) and cannot be estimated apart")


def anonymous_reasons(dropped: pd.DataFrame, requested) -> pd.DataFrame:
    """The dropped terms with the halo's reason in the words of anonymous ratings (and the
    halo listed even when it was not requested, since it is what cannot be estimated)."""
    dropped = dropped.copy()
    halo = dropped["term"] == "rater:ratee"
    dropped.loc[halo, "reason"] = ANONYMOUS_HALO
    if not halo.any() and "rater:ratee" not in requested:
        dropped = pd.concat([dropped, pd.DataFrame({"term": ["rater:ratee"],
                                                    "reason": [ANONYMOUS_HALO]})],
                            ignore_index=True)
    return dropped


def variance_frame(model):
    base = {v: k for k, v in WAVE_TERMS.items()}
    vc = model.variance_components.copy()
    vc["component"] = [base.get(c, c) for c in vc["component"]]
    return vc


def assemble_calibration(data, parts, models, conn, dropped, settings):
    """Put the subsets' fits together into one :class:`Calibration`.

    Stacks the scores, rater effects, source effects and variance components of every subset in
    ``parts`` (with a ``subset`` column when ``connectivity="separate"`` kept several), flags
    intervals wider than the scale, and attaches the ratings used, the models, the terms dropped
    and the settings.
    """
    separate = (settings["connectivity"] == "separate" and len(conn) > 1
                and settings["design"] == "crossed")
    scores, raters, sources, variances = [], [], [], []
    for subset, cells, rater_eff, source_eff in parts:
        for frame, out in ((cells, scores), (rater_eff, raters), (source_eff, sources),
                           (variance_frame(models[subset]), variances)):
            frame = frame.copy()
            if separate:
                frame.insert(0, "subset", subset)
            out.append(frame)
    scores = pd.concat(scores, ignore_index=True).rename(columns={"ratee": "person"})
    low, high = settings["scale"]
    scores["wide_interval"] = (scores["ci_high"] - scores["ci_low"]) > (high - low)
    settings.update(bound_settings(pd.concat(variances, ignore_index=True), data["score"]))
    columns = (["subset"] if separate else []) + ["person", "skill"]
    if settings["waves"] == "joint":
        columns.append("wave")
    columns += ["score", "se", "ci_low", "ci_high", "raw_mean", "n_ratings", "n_raters",
                *(["n_items"] if "n_items" in scores else []), "self_only", "wide_interval"]
    scores = scores[columns]
    for label, count in (("have an interval wider than the rating scale",
                          int(scores["wide_interval"].sum())),
                         ("rest on the person's own ratings only",
                          int(scores["self_only"].sum()))):
        if count:
            warnings.warn(f"{count} calibrated score(s) {label}", CalibrationWarning,
                          stacklevel=3)
    used = data[data["subset"].isin(models)].reset_index(drop=True)
    largest = min(models)
    return Calibration(
        scores=scores,
        rater_effects=pd.concat(raters, ignore_index=True),
        source_effects=pd.concat(sources, ignore_index=True),
        variance_components=pd.concat(variances, ignore_index=True),
        connectivity=conn,
        ratings=used,
        model=models[largest],
        models=models,
        dropped=dropped,
        settings=settings,
    )
