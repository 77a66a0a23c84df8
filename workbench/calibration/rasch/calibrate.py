"""Many-facet Rasch calibration of 360 ratings: :func:`calibrate_rasch` and its result.

The ordinal alternative to the linear mixed model of
:mod:`workbench.calibration.calibrate`. The model, its estimation by joint maximum likelihood
and the handling of extreme scores are described in
:mod:`workbench.calibration.rasch.estimation`; fit statistics in
:mod:`~workbench.calibration.rasch.fit`, separation and fair averages in
:mod:`~workbench.calibration.rasch.facets`, interactions in
:mod:`~workbench.calibration.rasch.bias`.

Calibrated scores are *fair averages*: the expected rating of the person in the skill from a
rater of average severity of the reference source (``"others"``: the mean non-self source),
on the survey's scale, like the linear model's calibrated scores. The person's measure in a
skill is their ability plus their ratee x skill interaction, estimated from the ratings of
that skill with every other measure anchored (so each skill's score rests on its own
ratings, unshrunk); its SE is the interaction's model SE plus the propagated uncertainty of the
measures it was anchored on (the raters', sources' and thresholds', through the joint
covariance of :mod:`~workbench.calibration.rasch.uncertainty`), and the fair average's SE follows
by the delta method (``dE/d theta`` is the score variance). Intervals are the fair averages at the
likelihood-ratio bounds of the cell's measure (:func:`~workbench.calibration.rasch.fair
.likelihood_bounds`: the deviance's critical value widened by the joint-to-model variance
ratio; for a cell all in the top or bottom category, the exact bound on the closed side and
the scale's end on the other), so they stay on the scale.

Items: with item-level ratings (two or more items in some skill) the items join as a facet
nested in their skill, centred within it, so the skill's difficulty is the mean over its
items and an item everybody rates high does not move the competency of whoever answered it.

Waves: ``waves="joint"`` gives each person one ability per wave while skills, raters and
sources are shared across waves (raters who rate in both waves anchor the scale), as the
linear model's joint calibration does; ``"pooled"`` refuses several waves.

Examples
--------
>>> from workbench.synth.generator import generate_organisation
>>> org = generate_organisation(60, seed=4, n_waves=1)
>>> res = calibrate_rasch(org.ratings, interactions=())
>>> res.to_scores()["estimator"].iloc[0]
'fair_average'
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special
from threadpoolctl import threadpool_limits

from workbench.calibration.preparation import (
    WAVES,
    check_identifiable,
    itemised,
    prepare_ratings,
    reference_weights,
)
from workbench.calibration.rasch.bias import interaction_table
from workbench.calibration.rasch.connectivity import check_sources, connected_ratings
from workbench.calibration.rasch.estimation import (
    THRESHOLDS,
    category_moments,
    fit_jmle,
    linear_predictor,
    rasch_design,
)
from workbench.calibration.rasch.facets import Structures, separation_statistics, threshold_table
from workbench.calibration.rasch.fair import fair_scores
from workbench.calibration.rasch.fit import category_statistics, element_fit, residual_moments
from workbench.calibration.rasch.measures import final_measures, se_method
from workbench.calibration.result import CalibrationWarning
from workbench.checks import check_alpha, check_choice, check_choices, check_integer
from workbench.errors import ConfigError, InputError, ModelError, Problem
from workbench.results import Result

__all__ = ["FACETS", "INTERACTIONS", "RaschCalibration", "calibrate_rasch", "check_categories"]

#: Facets besides the ratees.
FACETS = ("skill", "rater", "source")
#: Interaction (bias) analyses.
INTERACTIONS = ("rater:skill", "rater:ratee")
#: Misfit: a mean square outside this band *and* a standardised fit beyond +-FIT_Z, i.e.
#: substantive and significant (Bond & Fox's band for rating scales).
FIT_BAND = (0.7, 1.3)
#: Rows listed one by one in an error before the rest are counted.
MAX_ROWS_LISTED = 25
FIT_Z = 2.0


@dataclass(frozen=True)
class RaschCalibration(Result):
    """A fitted many-facet Rasch model of 360 ratings.

    Attributes
    ----------
    scores : DataFrame
        One row per ratee and skill (and wave): ``score`` (fair average), ``se``, ``ci_low``,
        ``ci_high``, ``measure`` (logits: ability plus the ratee x skill interaction),
        ``measure_se``, ``extreme`` (the cell's ratings are all top or all bottom: FACETS'
        0.3-point adjustment), ``raw_mean`` (non-self mean), ``n_ratings``, ``n_raters``.
    measures : DataFrame
        One row per element of every facet: ``facet``, ``element`` (and ``wave`` for ratees
        when joint), ``measure`` (logits; ability for ratees, difficulty / severity / offset
        for the others: higher = harder to get a high rating), ``se`` (joint: the other
        facets' and thresholds' uncertainty propagated; :mod:`~workbench.calibration.rasch
        .uncertainty`), ``se_model`` (FACETS' model SE), ``se_real`` (``se`` times the root
        of the infit when above 1; use it when raters misfit),
        ``infit``, ``infit_z``, ``outfit``, ``outfit_z``, ``n`` (ratings), ``observed``
        (mean rating), ``fair_average``, ``status`` ("", "maximum", "minimum": extreme
        score; "one category": every rating in a one-category partial-credit group, no
        measure). Holds rater identities: for the analyst only.
    separation : DataFrame
        Per facet and SE type ("model", "real"): see
        :func:`~workbench.calibration.rasch.facets.separation_statistics`.
    categories : DataFrame
        Category statistics (per skill when thresholds are per skill).
    thresholds : DataFrame
        ``group``, ``category``, ``threshold``, ``threshold_se``, ``disordered``.
    interactions : dict
        ``"rater:skill"`` / ``"rater:ratee"`` -> interaction table (rater identities: for
        the analyst only).
    connectivity : DataFrame
        ``subset``, ``n_ratees``, ``n_raters``, ``n_ratings``, ``fitted``.
    scale_curve : DataFrame
        ``measure``, ``expected``: the fair average of a ratee at each ability (a grid over
        +-8 logits around the reference), for the Wright map's scale column.
    ratings : DataFrame
        The ratings used.
    loglik : float
        Joint log-likelihood at the ML estimates (non-extreme ratings, before correction).
    n_iter : int
    converged : bool
    settings : dict

    Examples
    --------
    >>> from workbench.synth.generator import generate_organisation
    >>> org = generate_organisation(60, seed=2, n_waves=1)
    >>> res = calibrate_rasch(org.ratings, interactions=())
    >>> isinstance(res, RaschCalibration), sorted(res.scores["skill"].unique()) == sorted(
    ...     org.ratings["skill"].unique())
    (True, True)
    """

    title = "Many-facet Rasch calibration"
    scores: pd.DataFrame
    measures: pd.DataFrame
    separation: pd.DataFrame
    categories: pd.DataFrame
    thresholds: pd.DataFrame
    interactions: dict
    connectivity: pd.DataFrame
    scale_curve: pd.DataFrame
    ratings: pd.DataFrame
    loglik: float
    n_iter: int
    converged: bool
    settings: dict = field(default_factory=dict)

    @property
    def params(self) -> pd.Series:
        """Measures of every element, indexed by (facet, element)."""
        return self.measures.set_index(["facet", "element"])["measure"]

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        """Wald intervals of every measure (model SEs)."""
        alpha = check_alpha(self.settings["alpha"] if alpha is None else alpha)
        z = special.ndtri(1 - alpha / 2)
        m = self.measures.set_index(["facet", "element"])
        return pd.DataFrame({"ci_low": m["measure"] - z * m["se"],
                             "ci_high": m["measure"] + z * m["se"]})

    @property
    def rater_effects(self) -> pd.DataFrame:
        """``rater``, ``effect`` (leniency in logits: minus the severity), ``se``,
        ``n_ratings``: oriented like the linear model's rater effects."""
        r = self.measures[self.measures["facet"] == "rater"]
        return pd.DataFrame({"rater": r["element"].to_numpy(), "effect": -r["measure"].to_numpy(),
                             "se": r["se"].to_numpy(), "n_ratings": r["n"].to_numpy()})

    def to_frame(self) -> pd.DataFrame:
        """The calibrated scores (a copy)."""
        return self.scores.copy()

    def to_scores(self) -> pd.DataFrame:
        """Fair averages in the scores contract (``person``, ``estimator="fair_average"``)."""
        return self.scores.rename(columns={"ratee": "person"}).assign(estimator="fair_average")

    def misfit(self) -> pd.DataFrame:
        """Elements that misfit: an infit or outfit mean square above 1.3 with its
        standardised form above 2 (noisy: e.g. a random responder), or below 0.7 with it
        below -2 (muted: e.g. a central-tendency rater)."""
        m = self.measures
        low, high = FIT_BAND
        out = np.zeros(len(m), dtype=bool)
        for ms, z in (("infit", "infit_z"), ("outfit", "outfit_z")):
            out |= ((m[ms] > high) & (m[z] > FIT_Z)).to_numpy()
            out |= ((m[ms] < low) & (m[z] < -FIT_Z)).to_numpy()
        return m[out].reset_index(drop=True)

    def _sections(self):
        m = self.measures
        counts = m.groupby("facet", sort=False).size()
        overview = (f"{len(self.ratings)} ratings; " + ", ".join(
            f"{n} {facet} elements" for facet, n in counts.items())
            + f"; thresholds: {self.settings['thresholds']}; JMLE log-likelihood "
            f"{self.loglik:.2f} ({self.n_iter} Newton steps)")
        misfit = self.misfit().groupby("facet").size().rename("misfitting elements")
        small = m[m["facet"].isin(["skill", "source"])][
            ["facet", "element", "measure", "se", "infit", "outfit", "fair_average"]]
        return [("", overview),
                ("Separation and reliability per facet", self.separation),
                ("Skills and sources (logits; higher = rated lower)", small),
                ("Rating scale categories", self.categories),
                ("Misfitting elements (mean square outside 0.7-1.3 and |z| > 2)",
                 misfit.reset_index()),
                ("Calibrated scores", f"fair averages: mean {self.scores['score'].mean():.3f},"
                 f" median se {self.scores['se'].median():.3f}")]

    def _files(self):
        files = {"calibrated_scores.csv": self.to_scores(),
                 "analyst/rasch_measures.csv": self.measures,
                 "rasch_separation.csv": self.separation,
                 "rasch_categories.csv": self.categories,
                 "rasch_thresholds.csv": self.thresholds,
                 "connectivity.csv": self.connectivity}
        for name, frame in self.interactions.items():
            folder = "analyst/" if "rater" in name.split(":") else ""
            files[f"{folder}rasch_bias_{name.replace(':', '_')}.csv"] = frame
        return files


def _structures(work, tau, thresholds):
    return Structures(tau, work.mask(), work.values, work.free_steps(), thresholds)


def _element_table(design, fit, betas, ses, status, structures, thresholds, ref, keys):
    work = fit.design
    eta_keep = linear_predictor(work, [np.nan_to_num(b) for b in betas])
    P, _, _ = category_moments(eta_keep, work.group, structures.tau, work.mask())
    y, W, C = residual_moments(work.x, P)
    mean_theta = np.nanmean(betas[0])
    frames = []
    for k, facet in enumerate(design.facets):
        size = design.sizes[k]
        fitk = element_fit(work.codes[k], size, y, W, C)
        n = np.bincount(design.codes[k], minlength=size)
        with np.errstate(invalid="ignore", divide="ignore"):
            observed = np.bincount(design.codes[k], design.values[design.x], size) / n
        beta = betas[k]
        if k == 0:
            eta = beta - ref
        else:
            eta = mean_theta - np.nan_to_num(beta) - (0.0 if facet == "source" else ref)
        group = np.arange(size) if thresholds == facet else None
        fair, _ = structures.expected(np.nan_to_num(eta), group)
        frame = pd.DataFrame({"facet": facet, "element": design.labels[k].astype(str),
                              "measure": beta, "se": ses[k],
                              "se_real": ses[k] * np.sqrt(np.maximum(fitk["infit"], 1.0)),
                              **{c: fitk[c] for c in ("infit", "infit_z", "outfit",
                                                       "outfit_z")},
                              "n": n, "observed": observed,
                              "fair_average": np.where(np.isfinite(beta), fair, np.nan),
                              "status": status[k]})
        if k == 0 and keys is not None:
            frame["wave"] = keys.reindex(frame["element"])["wave"].to_numpy()
            frame["element"] = keys.reindex(frame["element"])["ratee"].to_numpy()
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    if keys is not None:
        cols = list(out.columns)
        cols.insert(2, cols.pop(cols.index("wave")))
        out = out[cols]
    return out


def _separation(measures):
    rows = []
    for facet, part in measures.groupby("facet", sort=False):
        ok = part[part["status"] == ""]
        for kind, se in (("model", ok["se"]), ("real", ok["se_real"])):
            row = separation_statistics(ok["measure"], se)
            row.insert(0, "se_type", kind)
            row.insert(0, "facet", facet)
            rows.append(row)
    return pd.concat(rows, ignore_index=True)


def _categories(fit, tau, thresholds, betas, table):
    work = fit.design
    eta = linear_predictor(work, [np.nan_to_num(b) for b in betas])
    P, _, _ = category_moments(eta, work.group, tau, work.mask())
    if thresholds == "skill":
        frames = []
        for g, label in enumerate(work.group_labels):
            rows = work.group == g
            t = table[table["group"] == label][["category", "threshold", "threshold_se"]]
            f = category_statistics(work.x[rows], work.values, P[rows], eta[rows], t)
            f.insert(0, "skill", label)
            frames.append(f)
        return pd.concat(frames, ignore_index=True)
    t = table[["category", "threshold", "threshold_se"]] if thresholds == "common" else \
        pd.DataFrame({"category": work.values, "threshold": np.nan, "threshold_se": np.nan})
    return category_statistics(work.x, work.values, P, eta, t)


def _interactions(which, data, design, fit, betas, tau):
    work = fit.design
    eta = linear_predictor(design, [np.nan_to_num(b) for b in betas])
    out = {}
    k_rater = design.facets.index("rater") if "rater" in design.facets else None
    for name in which:
        other = "skill" if name == "rater:skill" else "ratee"
        k_other = design.facets.index(other)
        n_other = design.sizes[k_other]
        pairs, cells = np.unique(design.codes[k_rater] * n_other + design.codes[k_other],
                                 return_inverse=True)
        table = interaction_table(eta, design.group, tau, work.mask(), design.x, cells,
                                  len(pairs), design.values)
        rater_code, other_code = np.divmod(pairs, n_other)
        table.insert(0, other, design.labels[k_other][other_code].astype(str))
        table.insert(0, "rater", design.labels[k_rater][rater_code].astype(str))
        if other == "ratee" and data["wave"].nunique() > 1:
            keys = data.drop_duplicates("element").set_index("element")
            table.insert(2, "wave", keys.reindex(table["ratee"])["wave"].to_numpy())
            table["ratee"] = keys.reindex(table["ratee"])["ratee"].to_numpy()
        out[name] = table
    return out


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def calibrate_rasch(
    ratings: pd.DataFrame,
    *,
    thresholds: str = "common",
    facets=FACETS,
    reference: str = "others",
    waves: str = "pooled",
    connectivity: str = "largest",
    bias_correction: bool = True,
    interactions=INTERACTIONS,
    alpha: float = 0.05,
    max_iter: int = 100,
    source: str = "ratings",
) -> RaschCalibration:
    """Fit a many-facet Rasch model to 360 ratings by joint maximum likelihood.

    Parameters
    ----------
    ratings : DataFrame
        Long ratings: ``ratee``, ``rater``, ``source``, ``skill``, ``score`` (ordinal
        categories; each distinct score is a category) and optionally ``wave`` and ``item``.
        With two or more items in some skill the items are a facet nested in their skill
        (centred within it): measures, SEs and fit per item, ``n_items`` in the scores, which
        stay per skill; with one item per skill the results are those without the column.
    thresholds : {"common", "skill", "rater"}
        Rating-scale model (one set of Andrich thresholds) or partial-credit model with
        thresholds per skill or per rater.
    facets : sequence of {"skill", "rater", "source"}
        Facets besides the ratees; ``"skill"`` is required.
    reference : str
        ``"others"`` (mean of the non-self source offsets) or a source: the source a fair
        average is taken for.
    waves : {"pooled", "joint"}
        As in :func:`~workbench.calibration.calibrate.calibrate_ratings`.
    connectivity : {"largest", "error"}
        A disconnected rater-ratee network: calibrate the largest subset with a warning, or
        refuse.
    bias_correction : bool
        Wright's ``(L - 1) / L`` correction of the non-ratee measures and thresholds.
    interactions : sequence of {"rater:skill", "rater:ratee"}
        Bias/interaction analyses to run (empty: none).
    alpha : float
        1 - confidence level of the score intervals.
    max_iter : int
        Newton steps at most.
    source : str
        How to name the ratings in messages (the CLI passes the file name).

    Returns
    -------
    RaschCalibration

    Raises
    ------
    ConfigError
        An unknown option.
    InputError
        A score that is not a whole number (``3.5``): the model's categories are the scale's
        points, so a half point would become a category of its own. Every such row is named
        (the first 25, then a count), with its row number in the file when the ratings come
        straight from :func:`~workbench.tables.load_organisation`.
    ModelError
        One rater or ratee, constant scores, sources nested in raters, a disconnected network
        with ``connectivity="error"``, or no convergence.

    Notes
    -----
    Checked against R's eRm (conditional ML, rating-scale and partial-credit models with a
    linear design) on committed fixtures: the joint log-likelihood at eRm's estimates equals
    eRm's to 1e-6, and the corrected JMLE measures agree with eRm's within the differences
    stated in docs/rasch.md; recovery of known truth in tests/calibration/test_rasch*.py.

    Examples
    --------
    >>> from workbench.synth.generator import generate_organisation
    >>> org = generate_organisation(60, seed=4, n_waves=1)
    >>> res = calibrate_rasch(org.ratings, interactions=())
    >>> res.separation.columns[:4].tolist()
    ['facet', 'se_type', 'n', 'mean']
    """
    thresholds = check_choice("thresholds", thresholds, THRESHOLDS)
    facets = check_choices("facets", facets, FACETS)
    if "skill" not in facets:
        raise ConfigError(f"facets={facets!r}: must include 'skill' (scores are per skill)")
    if len(set(facets)) != len(facets):
        raise ConfigError(f"facets={facets!r}: a facet is repeated")
    if thresholds != "common" and thresholds not in facets:
        raise ConfigError(f"thresholds={thresholds!r}: needs the facet {thresholds!r}")
    interactions = check_choices("interactions", interactions, INTERACTIONS) \
        if len(interactions) else ()
    if interactions and "rater" not in facets:
        raise ConfigError("interactions with raters need the 'rater' facet")
    waves = check_choice("waves", waves, WAVES)
    connectivity = check_choice("connectivity", connectivity, ("largest", "error"))
    alpha = check_alpha(alpha)
    max_iter = check_integer("max_iter", max_iter, low=1)
    if not isinstance(reference, str):
        raise ConfigError(f"reference={reference!r}: 'others' or a source name")

    with threadpool_limits(limits=1, user_api="blas"):  # see fit_jmle
        return _calibrate(ratings, thresholds, facets, reference, waves, connectivity,
                          bias_correction, interactions, alpha, max_iter, source)


def check_categories(ratings: pd.DataFrame, source: str = "ratings", *, rows=None) -> None:
    """Raise InputError unless every score is a whole number: the Rasch model's categories
    are the scale's points (issue 26). ``rows``: the file's row number of each row by index
    label (:attr:`workbench.tables.Organisation.rows`); without it, rows are named as
    :func:`calibrate_rasch` names them (index + 2).

    Examples
    --------
    >>> import pandas as pd
    >>> check_categories(pd.DataFrame({"score": [1.0, 4.0, None]}))
    >>> check_categories(pd.DataFrame({"score": [1.0, 3.5]}))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    workbench.errors.InputError: 1 error(s):
    ...
    """
    if not isinstance(ratings, pd.DataFrame) or "score" not in ratings:
        return  # prepare_ratings names what is missing
    score = pd.to_numeric(ratings["score"], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(np.isfinite(score) & (score != np.round(score)))
    if not bad.size:
        return
    # ``rows``: the file's row numbers by index label (Organisation.rows); else the frame's
    # index as a CSV of it would show it (header on row 1)
    labels = ratings.index.to_numpy()
    known = rows is not None and all(isinstance(labels[i], int | np.integer)
                                     and 0 <= labels[i] < len(rows) for i in bad)
    rows = [int(rows[labels[i]]) if known else int(labels[i]) + 2
            if isinstance(labels[i], int | np.integer) else None for i in bad[:MAX_ROWS_LISTED]]
    message = ("not a whole number: the Rasch model's categories are the scale's points, so "
               "this score would become a category of its own; round the scores or use the "
               "linear model")
    problems = [Problem(source, row, "score", message, f"{score[i]:g}")
                for row, i in zip(rows, bad[:MAX_ROWS_LISTED], strict=True)]
    if bad.size > MAX_ROWS_LISTED:
        problems.append(Problem(source, None, "score", f"... and {bad.size - MAX_ROWS_LISTED} "
                                f"more row(s) ({bad.size} in all) with a score that is not a "
                                "whole number"))
    raise InputError(problems)


def _calibrate(ratings, thresholds, facets, reference, waves, connectivity, bias_correction,
               interactions, alpha, max_iter, source):
    """Fit the many-facet Rasch model once the options are checked: the body of
    :func:`calibrate_rasch`.

    Prepares the ratings (categories, waves, identifiability), keeps the connected part, fits
    the model by JMLE with Wright's correction, adds fit statistics, separation, thresholds,
    fair averages on the ``reference`` scale and the interaction (bias) analyses, and returns the
    :class:`RaschCalibration`.
    """
    check_categories(ratings, source)
    data = prepare_ratings(ratings, waves)
    check_identifiable(data)
    if "rater" in facets and data["rater"].nunique() < 2:
        raise ModelError("only one rater: rater severity cannot be separated from the ratees' "
                         "abilities; drop 'rater' from facets or add raters")
    joint = data["wave"].nunique() > 1
    data["element"] = data["ratee"] + ("\x1f" + data["wave"].astype(str) if joint else "")
    data, conn = connected_ratings(data, connectivity=connectivity, facets=facets, waves=waves)
    if "source" in facets and "rater" in facets:
        check_sources(data)
    weights = reference_weights(sorted(data["source"].unique()), reference)

    if itemised(data):  # items as a facet, centred within their skill (docs/rasch.md)
        facets = (*facets, "item")
    design = rasch_design(data.assign(ratee=data["element"]), facets=("ratee", *facets),
                          thresholds=thresholds,
                          nested={"item": "skill"} if "item" in facets else None)
    fit = fit_jmle(design, max_iter=max_iter)
    if not fit.converged:
        raise ModelError(f"the Rasch model did not converge in {max_iter} Newton steps; the "
                         "design may not identify every measure (check the rater network)")
    if fit.gapped.any():
        names = ", ".join(map(str, fit.design.group_labels[fit.gapped][:10]))
        warnings.warn(f"{int(fit.gapped.sum())} threshold group(s) leave a middle category "
                      f"unused ({names}{', ...' if fit.gapped.sum() > 10 else ''}); their "
                      "thresholds are shrunk towards 0 (a N(0, 1) prior) to stay finite",
                      CalibrationWarning, stacklevel=3)
    betas, tau, (ses, model_ses), status, factor, covariance = final_measures(
        design, fit, bias_correction)
    structures = _structures(fit.design, tau, thresholds)
    ref = 0.0
    if "source" in facets:
        k = design.facets.index("source")
        src = pd.Series(betas[k], index=design.labels[k])
        ref = float(sum(w * src[s] for s, w in weights.items()))
    keys = data.drop_duplicates("element").set_index("element")[["ratee", "wave"]] \
        if joint else None
    measures = _element_table(design, fit, betas, ses, status, structures, thresholds, ref, keys)
    measures.insert(measures.columns.get_loc("se") + 1, "se_model",
                    np.concatenate(model_ses))
    table = threshold_table(fit.design, tau, category_moments(
        linear_predictor(fit.design, [np.nan_to_num(b) for b in betas]), fit.design.group, tau,
        fit.design.mask())[0])
    grid = np.linspace(-8, 8, 1601) + ref
    return RaschCalibration(
        scores=fair_scores(data, design, fit, betas, tau, structures, thresholds, ref, alpha,
                       covariance, weights, factor),
        measures=measures,
        separation=_separation(measures),
        categories=_categories(fit, tau, thresholds, betas, table),
        thresholds=table,
        interactions=_interactions(interactions, data, design, fit, betas, tau),
        connectivity=conn,
        scale_curve=pd.DataFrame({"measure": grid, "expected": structures.expected(grid - ref)[0]}),
        ratings=data.drop(columns="element"),
        loglik=fit.loglik,
        n_iter=fit.n_iter,
        converged=fit.converged,
        settings={"model": "many-facet Rasch (JMLE)", "thresholds": thresholds,
                  "facets": ("ratee", *facets), "reference": reference, "waves": waves,
                  "connectivity": connectivity, "bias_correction": bias_correction,
                  "correction_factor": factor, "interactions": tuple(interactions),
                  "extreme_adjustment": 0.3, "alpha": alpha,
                  "se_method": se_method(covariance)},
    )
