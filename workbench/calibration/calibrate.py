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
conditional (prediction-error) variance of that whole sum: the BLUPs' conditional variance,
the fixed part's sampling variance and their covariance (the full inverse of the REML system
at the estimated variances), plus, with ``vc_uncertainty`` (by default up to 200 ratees), the
variance components' own uncertainty (:mod:`workbench.calibration.mixed.vc_uncertainty`). Intervals are
``score +/- z * se`` (normal). With more than 1,500 crossed levels (raters) the variance
components are found by the iterative solver of :mod:`workbench.calibration.mixed.model` (they
agree with the exact REML optimum within about 6e-3, relative, on the real fixtures); the scores, their standard errors and the
REML criterion are then still computed exactly at that estimate, including the covariance
between a ratee's raters' effects, up to 10,000 raters; above that the inverse is estimated
(see :mod:`workbench.calibration.mixed.model` and ``docs/calibration.md`` for the accuracy).
``Calibration.settings["se_method"]`` says which path ran.

Items (#22 part 3): ratings with an ``item`` column in which some skill has two or more items
are calibrated at item level: the items enter as fixed effects coded sum-to-zero within their
skill (:func:`_item_contrasts`; the skill effect stays the mean over its items, so the score
above keeps its definition) and :data:`ITEM_TERM` (``rater:ratee:skill``, the rater's view of
the ratee's skill shared by its items) joins the requested terms (with
``terms_policy="identifiable"``; ``"exact"`` fits the terms as given). Scores stay per person and
skill, with ``n_items``. With one item per skill nothing changes (tested), and the model equals
lme4's with the item term (tests/calibration/test_lme4_reference.py).

Identifiability: before fitting, :func:`workbench.calibration.mixed.identifiability.identifiable_terms`
keeps the largest set of the requested terms the design can separate (e.g. no halo term when
each rater rates each ratee on one item only, no ``ratee:skill`` with one skill) and the
result says what was dropped and why (``Calibration.dropped``, the summary, ``settings``).
``terms_policy="exact"`` fits the terms as given instead (an unidentifiable term is then an
error).

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

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import special
from scipy.sparse.csgraph import connected_components

from workbench.calibration.bounds import bound_settings
from workbench.calibration.mixed.identifiability import identifiable_terms
from workbench.calibration.mixed.model import fit_mixed
from workbench.calibration.mixed.vc_uncertainty import VC_UNCERTAINTY, vc_correction
from workbench.calibration.result import Calibration, CalibrationWarning
from workbench.checks import (
    check_alpha,
    check_choice,
    check_choices,
    check_integer,
    check_scale,
)
from workbench.errors import ConfigError, InputError, ModelError, Problem
from workbench.parallel import parallel_config, resolve_n_jobs

__all__ = ["calibrate_ratings", "rater_network"]

TERMS = ("ratee", "ratee:skill", "rater", "rater:ratee", "rater:skill", "rater:ratee:skill")
WAVE_TERMS = {"ratee": "ratee:wave", "ratee:skill": "ratee:skill:wave",
              "rater:ratee": "rater:ratee:wave", "rater": "rater", "rater:skill": "rater:skill",
              "rater:ratee:skill": "rater:ratee:skill:wave"}
#: The term that item-level ratings add: a rater's view of a ratee's competency, shared by the
#: competency's items (without it the items of one answer would count as independent ratings).
ITEM_TERM = "rater:ratee:skill"
#: Prefix of the fixed item columns (sum-to-zero contrasts within a competency).
ITEM_PREFIX = "item"
REQUIRED = ("ratee", "rater", "source", "skill", "score")
WAVES = ("pooled", "joint")
CONNECTIVITY = ("largest", "separate", "error")
TERMS_POLICY = ("identifiable", "exact")
THIN_SKILL = 5  # ratings per skill below which the skill means are barely supported


# --------------------------------------------------------------------------------------------
# Checks and the rater network
# --------------------------------------------------------------------------------------------


def _check_options(terms, reference, waves, connectivity, min_ratings, alpha, terms_policy):
    terms = check_choices("terms", terms, TERMS)
    if len(set(terms)) != len(terms):
        raise ConfigError(f"terms repeat: {terms}")
    if not {"ratee", "ratee:skill"} & set(terms):
        raise ConfigError("terms must include 'ratee' or 'ratee:skill': the calibrated score "
                          "is built from them")
    check_choice("waves", waves, WAVES)
    check_choice("connectivity", connectivity, CONNECTIVITY)
    check_choice("terms_policy", terms_policy, TERMS_POLICY)
    if not isinstance(reference, str) or not reference:
        raise ConfigError(f"reference={reference!r}: 'others' or a source name")
    check_integer("min_ratings", min_ratings, low=1)
    check_alpha(alpha)
    return terms


def _check_reference(data: pd.DataFrame, reference: str) -> None:
    """``reference`` against the sources present, before anything is fitted."""
    sources = sorted(data["source"].unique().tolist())
    reference_weights(sources, reference)


def prepare_ratings(ratings: pd.DataFrame, waves: str) -> pd.DataFrame:
    if not isinstance(ratings, pd.DataFrame):
        raise ConfigError(f"ratings must be a DataFrame, not {type(ratings).__name__}")
    missing = [c for c in REQUIRED if c not in ratings]
    if missing:
        raise InputError([Problem("ratings", None, missing[0],
                                  f"ratings lack column(s) {', '.join(missing)}; expected "
                                  f"{', '.join(REQUIRED)}")])
    data = ratings.copy()
    if "wave" not in data:
        data["wave"] = 1
    data["score"] = pd.to_numeric(data["score"], errors="coerce")
    for col in ("ratee", "rater", "source", "skill"):
        if data[col].isna().any():
            row = int(np.flatnonzero(data[col].isna().to_numpy())[0])
            raise InputError([Problem("ratings", row + 2, col, f"column {col!r} is missing "
                                      f"in row {row + 2}")])
        data[col] = data[col].astype(str)
    empty = data.groupby("skill")["score"].count()
    if (empty == 0).any():
        raise InputError([Problem("ratings", None, "skill",
                                  f"skill(s) {', '.join(empty.index[empty == 0])} have no "
                                  "ratings")])
    data = data[data["score"].notna()].reset_index(drop=True)
    if not np.isfinite(data["score"].to_numpy(dtype=float)).all():
        raise InputError([Problem("ratings", None, "score", "column 'score' holds infinite "
                                  "values")])
    if data["wave"].isna().any():
        raise InputError([Problem("ratings", None, "wave", "column 'wave' has missing "
                                  "values")])
    data = _prepare_items(data)
    wave_list = sorted(data["wave"].unique().tolist())
    if waves == "pooled" and len(wave_list) > 1:
        raise ConfigError(
            f"the ratings hold {len(wave_list)} waves ({', '.join(map(str, wave_list))}); "
            "choose waves='joint' to calibrate them together on one scale, or use one wave "
            f"(in an engagement file: data.waves: [{wave_list[-1]}])"
        )
    return data


def _prepare_items(data: pd.DataFrame) -> pd.DataFrame:
    """The ``item`` column as text, checked: present on every row and in one skill only.

    A column with no item at all is dropped (ratings at the competency level).
    """
    if "item" not in data:
        return data
    if data["item"].isna().all():
        return data.drop(columns="item")
    problems = [Problem("ratings", int(row) + 2, "item", "no item on this row while other "
                        "rows name one")
                for row in np.flatnonzero(data["item"].isna().to_numpy())[:20]]
    data["item"] = data["item"].astype(str)
    skills = data.groupby("item")["skill"].unique()
    for item, in_skills in skills[skills.map(len) > 1].items():
        problems.append(Problem("ratings", None, "item", f"item {item!r} is in more than one "
                                f"skill ({', '.join(sorted(in_skills))}); an item belongs "
                                "to one competency"))
    if problems:
        raise InputError(problems)
    return data


def itemised(data: pd.DataFrame) -> bool:
    """Whether some competency is measured by two or more items in these ratings."""
    return "item" in data and bool((data.groupby("skill")["item"].nunique() > 1).any())


def _item_contrasts(data: pd.DataFrame):
    """Numeric fixed columns for the items, sum-to-zero within each competency.

    For a skill with items ``i_1 .. i_k`` (sorted) the ``k - 1`` columns are 1 on ``i_j``, -1
    on ``i_k`` and 0 elsewhere, so the skill's own fixed effect stays the mean over its items
    (what the average item of the competency gives) and a skill with one item adds nothing.

    Returns
    -------
    columns : dict
        Column name (``"item[<item>]"``) to its values, one per item but the last of each skill.
    """
    columns = {}
    items = data[["skill", "item"]].drop_duplicates().sort_values(["skill", "item"])
    item = data["item"].to_numpy()
    for _, group in items.groupby("skill", sort=True):
        names = group["item"].tolist()
        if len(names) < 2:
            continue
        last = (item == names[-1]).astype(float)
        for name in names[:-1]:
            columns[f"{ITEM_PREFIX}[{name}]"] = (item == name).astype(float) - last
    return columns


def check_identifiable(data: pd.DataFrame, terms: tuple = ()):
    """Refusals no choice of terms can avoid; ``terms`` naming ``rater`` also needs raters.

    (The calibration passes no terms: :func:`identifiable_terms` drops a rater term the
    design cannot carry. The Rasch model's rater facet cannot be dropped.)
    """
    if len(data) == 0:
        raise ModelError("no ratings with a score to calibrate")
    if data["score"].nunique() == 1:
        raise ModelError(f"every score is {data['score'].iloc[0]}: constant scores carry no "
                         "information about raters or ratees")
    if "rater" in terms and data["rater"].nunique() < 2:
        raise ModelError("only one rater: rater leniency cannot be separated from the ratees' "
                         "levels; drop 'rater' from terms or add raters")
    if data["ratee"].nunique() < 2:
        raise ModelError("only one ratee: nothing to calibrate against")
    per_ratee = data.groupby(["ratee", "wave"]).size()
    if (per_ratee <= 1).all():
        raise ModelError("each ratee has only one rating: ratee levels cannot be separated "
                         "from the rating noise")


def rater_network(ratings: pd.DataFrame, *, waves: str = "pooled") -> pd.Series:
    """Connected subsets of the bipartite rater-ratee network, one label per rating.

    Ratees (per wave when ``waves="joint"``) and raters are the nodes; each rating is an
    edge. Subsets are numbered 1, 2, ... from the largest (most ratings) down.

    Examples
    --------
    >>> r = pd.DataFrame({"ratee": ["a", "b", "c"], "rater": ["x", "x", "y"]})
    >>> rater_network(r).tolist()
    [1, 1, 2]
    """
    if waves == "joint" and "wave" in ratings:
        ratee_key = ratings["ratee"].astype(str) + "\x1f" + ratings["wave"].astype(str)
    else:
        ratee_key = ratings["ratee"].astype(str)
    ei, _ = pd.factorize(ratee_key)
    ri, _ = pd.factorize(ratings["rater"].astype(str))
    ne, nr = ei.max() + 1, ri.max() + 1
    graph = sp.coo_matrix((np.ones(len(ei)), (ei, ne + ri)), shape=(ne + nr, ne + nr))
    _, labels = connected_components(graph, directed=False)
    comp = labels[ei]
    sizes = np.bincount(comp)
    order = np.argsort(-sizes, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return pd.Series(rank[comp] + 1, index=ratings.index, name="subset")


def subsets_listing(conn: pd.DataFrame) -> str:
    """One line naming each connected subset's size (for warnings and errors)."""
    return "; ".join(f"subset {r.subset}: {r.n_ratees} ratees, {r.n_raters} raters, "
                     f"{r.n_ratings} ratings" for r in conn.itertuples())


def connectivity_frame(data: pd.DataFrame) -> pd.DataFrame:
    grouped = data.groupby("subset")
    return pd.DataFrame({
        "subset": grouped.size().index,
        "n_ratees": grouped["ratee"].nunique().to_numpy(),
        "n_raters": grouped["rater"].nunique().to_numpy(),
        "n_ratings": grouped.size().to_numpy(),
    })


# --------------------------------------------------------------------------------------------
# Fitting one connected subset
# --------------------------------------------------------------------------------------------


def _fixed_row(columns, values: dict) -> np.ndarray:
    """Design row for the given factor values, by treatment-coded column name."""
    row = np.zeros(len(columns))
    names = list(columns)
    row[names.index("Intercept")] = 1.0
    for factor, value in values.items():
        name = f"{factor}[T.{value}]"
        if name in names:
            row[names.index(name)] = 1.0
    return row


def reference_weights(sources: list, reference: str) -> dict:
    if reference == "others":
        others = [s for s in sources if s != "self"]
        if not others:
            raise ConfigError("reference='others' needs ratings from at least one non-self "
                              "source")
        return {s: 1.0 / len(others) for s in others}
    if reference not in sources:
        raise ConfigError(f"reference={reference!r}: not a source in the ratings (present: "
                         f"{', '.join(sources)})")
    return {reference: 1.0}


def _fit_subset(data, terms, skill_effects, reference, waves, alpha, progress=None,
                vc_uncertainty="none"):
    """Fit the calibration model to one connected subset of the ratings.

    Builds the fixed part (source offsets, skill or skill-by-wave effects), fits ``terms``
    (by wave when ``waves == "joint"``) by REML, adds the variance components' uncertainty when
    asked, and returns ``(model, cells, rater_effects, source_effects)``: the fitted
    :class:`~workbench.calibration.mixed.model.MixedResult`, the calibrated person-skill(-wave)
    scores with SEs and intervals on the ``reference`` scale, and the rater and source effects.
    """
    joint = waves == "joint"
    model_terms = [WAVE_TERMS[t] if joint else t for t in terms]
    fixed = []
    sources = sorted(data["source"].unique().tolist())
    if len(sources) > 1:
        fixed.append("source")
    data = data.copy()
    n_waves = data["wave"].nunique()
    cell_factor = None
    if joint and n_waves > 1:
        if skill_effects:
            data["skill_wave"] = data["skill"] + " | wave " + data["wave"].astype(str)
            cell_factor = "skill_wave"
        else:
            data["wave_f"] = "wave " + data["wave"].astype(str)
            cell_factor = "wave_f"
        fixed.append(cell_factor)
    elif skill_effects and data["skill"].nunique() > 1:
        cell_factor = "skill"
        fixed.append("skill")
    if itemised(data):
        contrasts = _item_contrasts(data)
        data = data.assign(**contrasts)
        fixed.extend(contrasts)
    model = fit_mixed(data, response="score", fixed=fixed, random=model_terms, method="REML",
                      progress=progress)
    weights = reference_weights(sources, reference)
    columns = model.fe_params.index

    cells = (data.assign(is_self=data["source"] == "self")
             .groupby(["ratee", "skill", "wave"], sort=True)
             .agg(n_ratings=("score", "size"), n_raters=("rater", "nunique"),
                  self_only=("is_self", "all"))
             .reset_index())
    if "item" in data:
        cells["n_items"] = (data.groupby(["ratee", "skill", "wave"], sort=True)["item"]
                            .nunique().to_numpy())
    others = data[data["source"] != "self"]
    raw = others.groupby(["ratee", "skill", "wave"])["score"].mean().rename("raw_mean")
    cells = cells.join(raw, on=["ratee", "skill", "wave"])

    # Fixed part of each cell: intercept + cell effect + weighted reference source offset.
    def cell_value(row):
        if cell_factor == "skill_wave":
            return f"{row['skill']} | wave {row['wave']}"
        if cell_factor == "wave_f":
            return f"wave {row['wave']}"
        return row["skill"]

    unique_cells = cells[["skill", "wave"]].drop_duplicates()
    rows = {}
    for _, row in unique_cells.iterrows():
        vec = np.zeros(len(columns))
        for src, w in weights.items():
            values = {"source": src}
            if cell_factor:
                values[cell_factor] = cell_value(row)
            vec += w * _fixed_row(columns, values)
        rows[(row["skill"], row["wave"])] = vec
    F = np.vstack([rows[(s, w)] for s, w in zip(cells["skill"], cells["wave"], strict=True)])
    estimate = F @ model.fe_params.to_numpy()

    random = []
    for term in ("ratee", "ratee:skill"):
        if term not in terms:
            continue
        name = WAVE_TERMS[term] if joint else term
        parts = name.split(":")
        labels = model.blups[name].index
        keys = cells[parts]
        if len(parts) == 1:
            codes = labels.get_indexer(keys[parts[0]])
        else:
            codes = labels.get_indexer(pd.MultiIndex.from_frame(keys))
        estimate = estimate + model.blups[name]["estimate"].to_numpy()[codes]
        random.append((name, codes))
    var = model._combination_variance(F, random)
    vc = vc_correction(model, F, random, vc_uncertainty=vc_uncertainty,
                       n_ratees=data["ratee"].nunique())  # zeros for "none"
    model.settings.update(vc.settings(var))
    var = var + vc.scores
    model._release()  # the per-block arrays are no longer needed (and are GBs at 50,000)
    se = np.sqrt(np.maximum(var, 0.0))
    z = special.ndtri(1 - alpha / 2)
    cells["score"] = estimate
    cells["se"] = se
    cells["ci_low"] = estimate - z * se
    cells["ci_high"] = estimate + z * se

    rater_eff = _rater_effects(model, data)
    if vc.raters is not None:
        rater_eff["se"] = np.sqrt(rater_eff["se"] ** 2 + vc.raters)
    source_eff = _source_effects(model, sources, weights, alpha)
    return model, cells, rater_eff, source_eff


def _rater_effects(model, data):
    counts = data.groupby("rater").size()
    if "rater" not in model.blups:
        return pd.DataFrame(columns=["rater", "effect", "se", "n_ratings"])
    b = model.blups["rater"]
    return pd.DataFrame({"rater": b.index.astype(str), "effect": b["estimate"].to_numpy(),
                         "se": b["se"].to_numpy(),
                         "n_ratings": counts.reindex(b.index).to_numpy()})


def _source_effects(model, sources, weights, alpha):
    columns = list(model.fe_params.index)
    beta = model.fe_params.to_numpy()
    cov = model.fe_cov.to_numpy()
    ref = np.zeros(len(columns))
    for src, w in weights.items():
        name = f"source[T.{src}]"
        if name in columns:
            ref[columns.index(name)] += w
    out = []
    z = special.ndtri(1 - alpha / 2)
    for src in sources:
        c = -ref.copy()
        name = f"source[T.{src}]"
        if name in columns:
            c[columns.index(name)] += 1.0
        est = float(c @ beta)
        se = float(np.sqrt(max(c @ cov @ c, 0.0)))
        p = 2 * special.ndtr(-abs(est) / se) if se > 1e-12 else np.nan
        out.append({"source": src, "estimate": est, "se": se, "ci_low": est - z * se,
                    "ci_high": est + z * se, "p_value": p})
    return pd.DataFrame(out, columns=["source", "estimate", "se", "ci_low", "ci_high",
                                      "p_value"])


def _variance_frame(model):
    base = {v: k for k, v in WAVE_TERMS.items()}
    vc = model.variance_components.copy()
    vc["component"] = [base.get(c, c) for c in vc["component"]]
    return vc


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


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
        Passed to :func:`workbench.calibration.mixed.model.fit_mixed` (called after every evaluation).
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
    requested = _check_options(terms, reference, waves, connectivity, min_ratings, alpha,
                               terms_policy)
    check_choice("vc_uncertainty", vc_uncertainty, VC_UNCERTAINTY)
    workers = resolve_n_jobs(n_jobs)
    anonymous = _check_anonymous(ratings, anonymous_raters)
    if scale is not None:
        scale = check_scale("scale", scale)
    data = prepare_ratings(ratings, waves)
    check_identifiable(data)
    _check_reference(data, reference)
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
    _warn_thin_design(data)
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
                fitted = _fit_subset(part, fitted_terms, skill_effects, reference, waves,
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
        dropped = _anonymous_reasons(dropped, requested)
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
    return _assemble(data, parts, models, conn, dropped, settings)


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


def _check_anonymous(ratings, anonymous_raters) -> bool:
    """``anonymous_raters`` checked; None takes the survey reader's flag on ``ratings``."""
    if anonymous_raters is None:
        attrs = getattr(ratings, "attrs", {}) or {}
        return bool(attrs.get("anonymous_raters", False))
    if not isinstance(anonymous_raters, bool | np.bool_):
        raise ConfigError(f"anonymous_raters={anonymous_raters!r}: True, False or None")
    return bool(anonymous_raters)


def _anonymous_reasons(dropped: pd.DataFrame, requested) -> pd.DataFrame:
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


def _warn_thin_design(data: pd.DataFrame) -> None:
    """Warn when the fixed skill effects have too few ratings behind them (issue #14)."""
    per_skill = data.groupby("skill").size()
    thin = per_skill[per_skill < THIN_SKILL]
    if len(thin) and len(thin) >= 0.5 * len(per_skill):
        warnings.warn(
            f"{len(thin)} of {len(per_skill)} skills have fewer than {THIN_SKILL} ratings "
            f"(median {int(per_skill.median())}): skill means and the person-by-skill term are "
            "barely supported; expect wide intervals (check wide_interval) or calibrate fewer "
            "skills", CalibrationWarning, stacklevel=3)


def _assemble(data, parts, models, conn, dropped, settings):
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
                           (_variance_frame(models[subset]), variances)):
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
