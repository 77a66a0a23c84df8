"""Calibrated 360 scores: remove rater leniency, halo and source bias with a crossed mixed model.

The model (fitted by REML with :func:`workbench.calibration.mixed.model.fit_mixed`) is

    score ~ source + skill + (1|ratee) + (1|ratee:skill) + (1|rater) + (1|rater:ratee)

``ratee`` is the person's general level, ``ratee:skill`` their standing in a skill, ``rater``
the rater's leniency (positive = lenient) and ``rater:ratee`` the rater's halo for that ratee.
The calibrated score of ratee ``i`` in skill ``s`` is what the *reference* source would give
with a neutral rater:

    score[i, s] = intercept + skill[s] + offset[reference] + b_ratee[i] + b_ratee:skill[i, s]

with ``offset["others"]`` the mean of the non-self source offsets present (the default
reference; or name a source such as ``"manager"``). Its standard error is the root of the
conditional (prediction-error) variance of that whole sum: the BLUPs' conditional variance, the
fixed part's sampling variance and their covariance (the full inverse of the REML system at the
estimated variances), plus, with ``vc_uncertainty`` (by default up to 200 ratees), the variance
components' own uncertainty (:mod:`workbench.calibration.mixed.vc_uncertainty`). Intervals are
``score +/- z * se`` (normal). With more than 1,500 crossed levels (raters) the variance
components are found by the iterative solver of :mod:`workbench.calibration.mixed.model` (they
agree with the exact REML optimum within about 6e-3, relative, on the real fixtures); the
scores, their standard errors and the REML criterion are then still computed exactly at that
estimate, including the covariance between a ratee's raters' effects, up to 10,000 raters; above
that the inverse is estimated (see :mod:`workbench.calibration.mixed.model` and
``docs/calibration.md`` for the accuracy). ``Calibration.settings["se_method"]`` says which path
ran.

Items (#22 part 3): ratings with an ``item`` column in which some skill has two or more items
are calibrated at item level: the items enter as fixed effects coded sum-to-zero within their
skill (:func:`~workbench.calibration.subset_fit.item_contrasts`; the skill effect stays the mean
over its items, so the score above keeps its definition) and
:data:`~workbench.calibration.preparation.ITEM_TERM`
(``rater:ratee:skill``, the rater's view of the ratee's skill shared by its items) joins the
requested terms (with ``terms_policy="identifiable"``; ``"exact"`` fits the terms as given).
Scores stay per person and skill, with ``n_items``. With one item per skill nothing changes
(tested), and the model equals lme4's with the item term
(tests/calibration/test_lme4_reference.py).

Identifiability: before fitting,
:func:`workbench.calibration.mixed.identifiability.identifiable_terms` keeps the largest set of
the requested terms the design can separate (e.g. no halo term when each rater rates each ratee
on one item only, no ``ratee:skill`` with one skill) and the result says what was dropped and
why (``Calibration.dropped``, the summary, ``settings``). ``terms_policy="exact"`` fits the
terms as given instead (an unidentifiable term is then an error).

Waves: ``waves="pooled"`` fits one wave (an error names the waves when there are several:
choose ``waves="joint"`` or filter one wave). ``waves="joint"`` fits all waves at once with
fixed ``source + skill x wave`` and the ratee-level terms nested in the wave (``ratee:wave``,
``ratee:skill:wave``, ``rater:ratee:wave``) while ``rater`` crosses waves, so raters who rate in
both waves anchor the scale; scores then carry a ``wave`` column.

Connectedness: rater effects and ratee levels are only comparable within a connected part of
the rater-ratee network. With ``connectivity="largest"`` (default) the largest part is fitted
and the others are reported with a warning; ``"separate"`` fits each part on its own (scores
carry a ``subset`` column and are not comparable across subsets); ``"error"`` refuses.
When every part holds one ratee (raters nested in ratees: each rater rates one team's leader
only, as in R multilevel's lq2002) no part can be fitted alone; ``"largest"`` and
``"separate"`` then fit all parts in one model, whose variance components (ratee, ratee by
skill, rater = leniency and halo together, residual) the design identifies, with a warning
and ``settings["design"]``, ``settings["design_note"]`` saying what it does not identify
(:data:`NESTED_NOTE`). Checked against lme4 on lq2002 (tests/calibration/test_calibrate.py).

Examples
--------
>>> from workbench.synth.generator import generate_organisation
>>> org = generate_organisation(80, seed=4, n_waves=1)
>>> cal = calibrate_ratings(org.ratings)
>>> cal.scores.columns[:5].tolist()
['person', 'skill', 'score', 'se', 'ci_low']
"""

from __future__ import annotations

import warnings

import pandas as pd

from workbench.calibration.assembly import (
    ANONYMOUS_HALO,
    ANONYMOUS_NOTE,
    NESTED_NOTE,
    anonymous_reasons,
    assemble_calibration,
)
from workbench.calibration.mixed.identifiability import identifiable_terms
from workbench.calibration.mixed.vc_uncertainty import VC_UNCERTAINTY
from workbench.calibration.preparation import (
    ITEM_TERM,
    check_anonymous,
    check_identifiable,
    check_options,
    check_reference,
    connectivity_frame,
    itemised,
    prepare_ratings,
    rater_network,
    subsets_listing,
    warn_thin_design,
)
from workbench.calibration.result import Calibration, CalibrationWarning
from workbench.calibration.subset_fit import fit_subset
from workbench.checks import check_choice, check_scale
from workbench.errors import ModelError
from workbench.parallel import parallel_config, resolve_n_jobs

__all__ = ["calibrate_ratings"]


def calibrate_ratings(
    ratings: pd.DataFrame,
    *,
    terms=("ratee", "ratee:skill", "rater", "rater:ratee"),
    skill_effects: bool = True,
    reference: str = "others",
    waves: str = "pooled",
    min_ratings: int = 1,
    connectivity: str = "largest",
    alpha: float = 0.05,
    terms_policy: str = "identifiable",
    scale: tuple | None = None,
    progress=None,
    vc_uncertainty: str = "auto",
    anonymous_raters: bool | None = None,
    n_jobs: int | None = None,
) -> Calibration:
    """Calibrate 360 ratings: remove rater leniency, halo and source offsets by REML.

    Parameters
    ----------
    ratings : DataFrame
        Long ratings: ``ratee``, ``rater``, ``source``, ``skill``, ``score`` and optionally
        ``wave`` (default 1) and ``item`` (item-level calibration, see the module docstring).
        Rows without a score are ignored.
    terms : sequence of str
        Random terms from ``"ratee"``, ``"ratee:skill"``, ``"rater"``, ``"rater:ratee"`` (halo),
        ``"rater:skill"`` and ``"rater:ratee:skill"`` (added when a skill has several items).
    skill_effects : bool
        Fixed skill means (recommended; without them skill differences go into
        ``ratee:skill``).
    reference : str
        ``"others"`` (mean of the non-self source offsets) or a source name; the scale on which
        scores are reported.
    waves : {"pooled", "joint"}
        ``"pooled"``: a single wave (several waves raise ModelError). ``"joint"``: all waves in
        one model (see the module docstring).
    min_ratings : int
        Ratees with fewer ratings (all sources, per wave) are left out with a warning.
    connectivity : {"largest", "separate", "error"}
        What to do when the rater-ratee network falls apart (see the module docstring).
    alpha : float
        1 - confidence level of the intervals.
    terms_policy : {"identifiable", "exact"}
        ``"identifiable"`` (default): fit the largest subset of ``terms`` the design can
        separate and report the others in ``Calibration.dropped`` (see
        :mod:`workbench.calibration.mixed.identifiability`). ``"exact"``: fit ``terms`` as given.
    scale : (low, high), optional
        The rating scale; scores whose interval is wider than it are flagged
        (``wide_interval``). Default: the observed range of the scores.
    progress : callable, optional
        Passed to :func:`workbench.calibration.mixed.model.fit_mixed` (called after every
        evaluation).
    vc_uncertainty : {"auto", "none", "delta"}
        Whether the SEs of scores and rater effects include the uncertainty of the estimated
        variance components (delta method, :mod:`workbench.calibration.mixed.vc_uncertainty`).
        ``"auto"`` (default): included up to 200 ratees (per connected subset), where it
        matters and costs little.
    anonymous_raters : bool, optional
        The ratings carry no rater identities: each survey response is its own rater (as the
        survey reader marks it, ``ratings.attrs["anonymous_raters"]``, the default when None).
        The design then cannot separate leniency from halo; the result says so
        (:data:`ANONYMOUS_NOTE`, ``settings["design"]``, ``dropped``). With rater ids nothing
        changes.
    n_jobs : int or None
        Threads for the mixed-model engine (:mod:`workbench.parallel`: None is one unless
        inside ``parallel_config``, -1 every core; at most 4 are used); the number used is
        ``settings["n_jobs"]``. The estimates do not depend on it beyond the solvers'
        tolerances.

    Returns
    -------
    Calibration

    Raises
    ------
    ModelError
        One ratee, one rating per ratee, constant scores, nothing identifiable left, or a
        disconnected network with ``connectivity="error"``.
    InputError
        Missing columns or values, a skill without ratings.
    ConfigError
        An unknown option, a reference that is not a source, several waves with
        ``waves="pooled"``.

    Notes
    -----
    The calibrated score and its standard error are defined in the module docstring. The mixed
    model agrees with lme4's ``lmer`` to 1e-6 on the committed fixtures; recovery of known
    truth on synthetic organisations is tested in ``tests/test_calibrate.py``.

    Examples
    --------
    >>> from workbench.synth.generator import generate_organisation
    >>> org = generate_organisation(80, seed=4, n_waves=1)
    >>> cal = calibrate_ratings(org.ratings)
    >>> cal.source_effects.set_index("source")["estimate"].round(1)["self"] > 0
    np.True_
    """
    requested = check_options(terms, reference, waves, connectivity, min_ratings, alpha,
                               terms_policy)
    check_choice("vc_uncertainty", vc_uncertainty, VC_UNCERTAINTY)
    workers = resolve_n_jobs(n_jobs)
    anonymous = check_anonymous(ratings, anonymous_raters)
    if scale is not None:
        scale = check_scale("scale", scale)
    data = prepare_ratings(ratings, waves)
    check_identifiable(data)
    check_reference(data, reference)
    if itemised(data) and ITEM_TERM not in requested and terms_policy == "identifiable":
        requested = (*requested, ITEM_TERM)
    if scale is None:
        scale = (float(data["score"].min()), float(data["score"].max()))
    if min_ratings > 1:
        n = data.groupby(["ratee", "wave"])["score"].transform("size")
        dropped = data.loc[n < min_ratings, "ratee"].nunique()
        if dropped:
            warnings.warn(f"{dropped} ratee(s) with fewer than {min_ratings} ratings left out",
                          CalibrationWarning, stacklevel=2)
        data = data[n >= min_ratings].reset_index(drop=True)
    check_identifiable(data)
    warn_thin_design(data)
    data["subset"] = rater_network(data, waves=waves).to_numpy()
    conn = connectivity_frame(data)
    nested = len(conn) > 1 and bool((conn["n_ratees"] == 1).all())
    if len(conn) > 1:
        listing = subsets_listing(conn)
        if connectivity == "error":
            raise ModelError(f"the rater-ratee network falls apart into {len(conn)} subsets "
                             f"whose scores are not comparable ({listing}); choose "
                             "connectivity='largest' or 'separate'")
    # the survey reader's flag counts when the design bears it out (each response rates one
    # person); a flagged file whose raters rate several people has rater ids after all
    anonymous = anonymous and nested
    if nested:
        # every rater rates one ratee (raters nested in ratees): no part can be fitted on its
        # own, and the one random-effects model of all parts is identified (ratee, the
        # ratee's skills, rater = leniency and halo together, residual); comparable across
        # ratees only as the model assumes (leniency distributed alike in every group)
        note = (ANONYMOUS_NOTE.format(n=data["rater"].nunique()) if anonymous
                else NESTED_NOTE.format(n=len(conn)))
        warnings.warn(note, CalibrationWarning, stacklevel=2)
        data["subset"] = 1
        conn_all, conn = conn, connectivity_frame(data)
    chosen = [1] if connectivity == "largest" or nested else conn["subset"].tolist()
    models, parts, dropped_terms = {}, [], []
    for subset in chosen:
        part = data[data["subset"] == subset]
        try:
            if len(chosen) > 1:
                check_identifiable(part)
            if terms_policy == "identifiable":
                fitted_terms, dropped = identifiable_terms(part, requested,
                                                           joint=waves == "joint")
            else:
                fitted_terms, dropped = requested, pd.DataFrame(columns=["term", "reason"])
            if anonymous and terms_policy == "identifiable" and "rater:ratee" in fitted_terms:
                # separable only through self ratings in several waves (the self rater is the
                # person): not a halo the design identifies for the anonymous responses
                fitted_terms = tuple(t for t in fitted_terms if t != "rater:ratee")
                dropped = pd.concat([dropped, pd.DataFrame({"term": ["rater:ratee"],
                                                            "reason": [ANONYMOUS_HALO]})],
                                    ignore_index=True)
            with parallel_config(n_jobs=workers):
                fitted = fit_subset(part, fitted_terms, skill_effects, reference, waves,
                                     alpha, progress, vc_uncertainty)
        except ModelError as exc:
            if len(chosen) == 1:
                raise
            warnings.warn(f"subset {subset} not fitted: {exc}", CalibrationWarning,
                          stacklevel=2)
            continue
        models[subset] = fitted[0]
        parts.append((subset, *fitted[1:]))
        dropped_terms.append(dropped.assign(subset=subset))
    if not parts:
        raise ModelError("no connected subset of the rater network could be fitted")
    conn["fitted"] = conn["subset"].isin(models)
    if len(conn) > 1 and connectivity == "largest":
        left = conn[~conn["fitted"]]
        warnings.warn(
            f"the rater-ratee network falls apart into {len(conn)} subsets; only the largest "
            f"({conn['n_ratings'].iloc[0]} ratings) is calibrated, {left['n_ratings'].sum()} "
            f"ratings of {left['n_ratees'].sum()} ratees are left out (see "
            ".connectivity; connectivity='separate' fits each)",
            CalibrationWarning, stacklevel=2)
    dropped = pd.concat(dropped_terms, ignore_index=True)
    if anonymous:
        dropped = anonymous_reasons(dropped, requested)
    if connectivity != "separate" or len(conn) == 1 or nested:
        dropped = dropped.drop(columns="subset")
    for row in dropped.drop_duplicates("term").itertuples():
        warnings.warn(f"term {row.term} not fitted: {row.reason}", CalibrationWarning,
                      stacklevel=2)
    largest = min(models)
    settings = {
        "terms": list(requested),
        "terms_fitted": [t for t in requested if t not in set(dropped["term"])]
        if terms_policy == "identifiable" else list(requested),
        "terms_policy": terms_policy, "reference": reference, "waves": waves,
        "connectivity": connectivity, "min_ratings": int(min_ratings), "alpha": float(alpha),
        "design": ("raters nested in ratees" if nested else "crossed"),
        "skill_effects": bool(skill_effects), "scale": [float(scale[0]), float(scale[1])],
        "solver": models[largest].settings["solver"],
        "se_method": models[largest].settings["se_method"],
        "reml_criterion": float(models[largest].reml_criterion),
        "reml_criterion_se": float(models[largest].settings.get("reml_criterion_se", 0.0)),
        "vc_uncertainty": vc_uncertainty,
        **{k: models[largest].settings[k] for k in ("vc_uncertainty_method", "vc_se_increase",
                                                    "vc_terms_held")},
    }
    settings["anonymous_raters"] = anonymous
    settings["n_jobs"] = workers
    if anonymous:
        settings["design"] = "anonymous raters (each response is its own rater)"
        settings["design_note"] = ANONYMOUS_NOTE.format(n=data["rater"].nunique())
    elif nested:
        settings["design_note"] = NESTED_NOTE.format(n=len(conn_all))
    if nested:
        conn = conn_all.assign(fitted=True)
    return assemble_calibration(data, parts, models, conn, dropped, settings)

