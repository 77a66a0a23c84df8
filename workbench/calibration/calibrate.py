"""Calibrated 360 scores: remove rater leniency, halo and source bias with a crossed mixed model.

The model (fitted by REML with :func:`workbench.calibration.mixed_model.fit_mixed`) is

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
at the estimated variances; the variances' own uncertainty is not included). Intervals are
``score +/- z * se`` (normal). With more than 800 raters the model is fitted by the iterative
solver of :mod:`workbench.calibration.mixed_model`: scores are then exact to about 1e-4 given the variance
components, which agree with the exact REML optimum to about 1e-3, and the standard errors
neglect the covariance between the ratee's raters' effects (about 1 % too small on synthetic
organisations of 1,000 people).

Waves: ``waves="pooled"`` fits one wave (an error names the waves when there are several:
choose ``waves="joint"`` or filter one wave). ``waves="joint"`` fits all waves at once with
fixed ``source + skill x wave`` and the ratee-level terms nested in the wave (``ratee:wave``,
``ratee:skill:wave``, ``rater:ratee:wave``) while ``rater`` crosses waves, so raters who rate in
both waves anchor the scale; scores then carry a ``wave`` column.

Connectedness: rater effects and ratee levels are only comparable within a connected part of
the rater-ratee network. With ``connectivity="largest"`` (default) the largest part is fitted
and the others are reported with a warning; ``"separate"`` fits each part on its own (scores
carry a ``subset`` column and are not comparable across subsets); ``"error"`` refuses.

Examples
--------
>>> from workbench.synth.generator import generate_organisation
>>> org = generate_organisation(80, seed=4, n_waves=1)
>>> cal = calibrate_ratings(org.ratings)
>>> cal.scores.columns[:5].tolist()
['ratee', 'skill', 'score', 'se', 'ci_low']
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import stats
from scipy.sparse.csgraph import connected_components

from workbench.calibration.mixed_model import MixedResult, fit_mixed
from workbench.errors import ModelError

__all__ = ["calibrate_ratings", "calibrated_scores", "Calibration", "calibrated_matrix",
           "rater_network", "CalibrationWarning"]

TERMS = ("ratee", "ratee:skill", "rater", "rater:ratee", "rater:skill")
WAVE_TERMS = {"ratee": "ratee:wave", "ratee:skill": "ratee:skill:wave",
              "rater:ratee": "rater:ratee:wave", "rater": "rater", "rater:skill": "rater:skill"}
REQUIRED = ("ratee", "rater", "source", "skill", "score")
WAVES = ("pooled", "joint")
CONNECTIVITY = ("largest", "separate", "error")


class CalibrationWarning(UserWarning):
    """Ratings were left out of the calibration (disconnected subsets, too few ratings)."""


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Calibration:
    """Calibrated scores and the rater-bias model behind them.

    Attributes
    ----------
    scores : DataFrame
        One row per ratee and skill (and wave / subset when present): ``score`` (calibrated,
        on the rating scale), ``se``, ``ci_low``, ``ci_high``, ``raw_mean`` (plain mean of the
        non-self ratings; NaN without any), ``n_ratings`` (ratings of all sources used),
        ``n_raters`` (distinct raters).
    rater_effects : DataFrame
        ``rater``, ``effect`` (leniency on the rating scale: positive = lenient), ``se``
        (conditional SD), ``n_ratings``. Internal: holds rater identities.
    source_effects : DataFrame
        ``source``, ``estimate`` (offset relative to the reference), ``se``, ``ci_low``,
        ``ci_high``, ``p_value`` (Wald, normal).
    variance_components : DataFrame
        ``component``, ``variance``, ``sd``, ``share`` (of the total variance). Components
        are named by the requested terms also when fitted within waves (``"ratee"`` for the
        model's ``ratee:wave``).
    connectivity : DataFrame
        ``subset``, ``n_ratees``, ``n_raters``, ``n_ratings``, ``fitted``.
    ratings : DataFrame
        The ratings used (with a ``subset`` column).
    model : MixedResult
        The fitted mixed model (of the largest subset when several were fitted).
    models : dict
        Subset -> MixedResult for every fitted subset.
    reference, waves, terms, alpha :
        The options used.
    """

    scores: pd.DataFrame
    rater_effects: pd.DataFrame
    source_effects: pd.DataFrame
    variance_components: pd.DataFrame
    connectivity: pd.DataFrame
    ratings: pd.DataFrame
    model: MixedResult
    models: dict = field(default_factory=dict)
    reference: str = "others"
    waves: str = "pooled"
    terms: tuple = ()
    alpha: float = 0.05

    @property
    def params(self) -> pd.Series:
        """Fixed effects and variance components of the (largest) model."""
        return self.model.params

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        """Wald intervals of the fixed effects of the (largest) model."""
        return self.model.conf_int(self.alpha if alpha is None else alpha)

    def to_frame(self) -> pd.DataFrame:
        """The calibrated scores (a copy)."""
        return self.scores.copy()

    def to_scores(self) -> pd.DataFrame:
        """The calibrated scores in the scores contract (:mod:`workbench.tables.scores`).

        ``person`` is the ratee; ``estimator`` is ``"blup"`` (shrunken towards the mean).
        """
        frame = self.scores.rename(columns={"ratee": "person"})
        return frame.assign(estimator="blup")

    def summary(self) -> str:
        conn = self.connectivity
        lines = [
            "Calibrated 360 ratings",
            f"Model: {self._formula()}",
            f"Reference: {self.reference}   waves: {self.waves}   "
            f"ratings: {len(self.ratings)}   ratees: {self.scores['ratee'].nunique()}   "
            f"raters: {self.ratings['rater'].nunique()}",
        ]
        if len(conn) > 1:
            lines.append(f"Rater network: {len(conn)} disconnected subsets, "
                         f"{int(conn['fitted'].sum())} fitted")
        lines += ["", "Variance components:",
                  self.variance_components.to_string(index=False),
                  "", "Source effects (relative to the reference):",
                  self.source_effects.to_string(index=False),
                  "", f"Calibrated scores: mean {self.scores['score'].mean():.3f}, "
                  f"median se {self.scores['se'].median():.3f}"]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _formula(self) -> str:
        fixed = " + ".join(self.model.fe_params.index[1:].map(lambda s: s.split("[")[0]).unique())
        rand = " + ".join(f"(1|{t})" for t in self.model.variance_components.index[:-1])
        return f"score ~ {fixed or '1'} + {rand}"

    def _repr_html_(self) -> str:
        return (f"<p><b>Calibrated 360 ratings</b>: {self._formula()}; reference "
                f"{self.reference}</p><p>Variance components</p>"
                + self.variance_components.to_html(index=False)
                + "<p>Source effects</p>" + self.source_effects.to_html(index=False)
                + "<p>Scores (first rows)</p>" + self.scores.head(10).to_html(index=False))


# --------------------------------------------------------------------------------------------
# Checks and the rater network
# --------------------------------------------------------------------------------------------


def _check_options(terms, reference, waves, connectivity, min_ratings, alpha):
    if isinstance(terms, str):
        terms = (terms,)
    terms = tuple(terms)
    bad = [t for t in terms if t not in TERMS]
    if bad:
        raise ModelError(f"terms {bad}: each term must be one of {', '.join(TERMS)}")
    if len(set(terms)) != len(terms):
        raise ModelError(f"terms repeat: {terms}")
    if not {"ratee", "ratee:skill"} & set(terms):
        raise ModelError("terms must include 'ratee' or 'ratee:skill': the calibrated score is "
                         "built from them")
    if waves not in WAVES:
        raise ModelError(f"waves={waves!r}: expected one of {', '.join(WAVES)}")
    if connectivity not in CONNECTIVITY:
        raise ModelError(f"connectivity={connectivity!r}: expected one of "
                         f"{', '.join(CONNECTIVITY)}")
    if not isinstance(reference, str):
        raise ModelError(f"reference={reference!r}: 'others' or a source name")
    if not isinstance(min_ratings, (int, np.integer)) or min_ratings < 1:
        raise ModelError(f"min_ratings={min_ratings!r}: must be a whole number >= 1")
    if not 0 < alpha < 1:
        raise ModelError(f"alpha={alpha}: must be between 0 and 1")
    return terms


def _prepare(ratings: pd.DataFrame, waves: str) -> pd.DataFrame:
    if not isinstance(ratings, pd.DataFrame):
        raise ModelError(f"ratings must be a DataFrame, not {type(ratings).__name__}")
    missing = [c for c in REQUIRED if c not in ratings]
    if missing:
        raise ModelError(f"ratings lack column(s) {', '.join(missing)}; "
                         f"expected {', '.join(REQUIRED)}")
    data = ratings.copy()
    if "wave" not in data:
        data["wave"] = 1
    data["score"] = pd.to_numeric(data["score"], errors="coerce")
    for col in ("ratee", "rater", "source", "skill"):
        if data[col].isna().any():
            row = int(np.flatnonzero(data[col].isna().to_numpy())[0])
            raise ModelError(f"ratings: column {col!r} is missing in row {row + 2}")
        data[col] = data[col].astype(str)
    empty = data.groupby("skill")["score"].count()
    if (empty == 0).any():
        raise ModelError(f"skill(s) {', '.join(empty.index[empty == 0])} have no ratings")
    data = data[data["score"].notna()].reset_index(drop=True)
    if not np.isfinite(data["score"].to_numpy(dtype=float)).all():
        raise ModelError("ratings: column 'score' holds infinite values")
    if data["wave"].isna().any():
        raise ModelError("ratings: column 'wave' has missing values")
    wave_list = sorted(data["wave"].unique().tolist())
    if waves == "pooled" and len(wave_list) > 1:
        raise ModelError(
            f"the ratings hold {len(wave_list)} waves ({', '.join(map(str, wave_list))}); "
            "choose waves='joint' to calibrate them together on one scale, or keep one wave "
            "(e.g. ratings[ratings['wave'] == 1])"
        )
    return data


def _check_identifiable(data: pd.DataFrame, terms: tuple):
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


def _connectivity_frame(data: pd.DataFrame) -> pd.DataFrame:
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


def _reference_weights(sources: list, reference: str) -> dict:
    if reference == "others":
        others = [s for s in sources if s != "self"]
        if not others:
            raise ModelError("reference='others' needs ratings from at least one non-self "
                             "source")
        return {s: 1.0 / len(others) for s in others}
    if reference not in sources:
        raise ModelError(f"reference={reference!r}: not a source in the ratings (present: "
                         f"{', '.join(sources)})")
    return {reference: 1.0}


def _fit_subset(data, terms, skill_effects, reference, waves, alpha, progress=None):
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
    model = fit_mixed(data, response="score", fixed=fixed, random=model_terms, method="REML",
                      progress=progress)
    weights = _reference_weights(sources, reference)
    columns = model.fe_params.index

    cells = (data.groupby(["ratee", "skill", "wave"], sort=True)
             .agg(n_ratings=("score", "size"), n_raters=("rater", "nunique"))
             .reset_index())
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
    se = np.sqrt(np.maximum(var, 0.0))
    z = stats.norm.ppf(1 - alpha / 2)
    cells["score"] = estimate
    cells["se"] = se
    cells["ci_low"] = estimate - z * se
    cells["ci_high"] = estimate + z * se

    rater_eff = _rater_effects(model, data)
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
    z = stats.norm.ppf(1 - alpha / 2)
    for src in sources:
        c = -ref.copy()
        name = f"source[T.{src}]"
        if name in columns:
            c[columns.index(name)] += 1.0
        est = float(c @ beta)
        se = float(np.sqrt(max(c @ cov @ c, 0.0)))
        p = 2 * stats.norm.sf(abs(est) / se) if se > 1e-12 else np.nan
        out.append({"source": src, "estimate": est, "se": se, "ci_low": est - z * se,
                    "ci_high": est + z * se, "p_value": p})
    return pd.DataFrame(out, columns=["source", "estimate", "se", "ci_low", "ci_high",
                                      "p_value"])


def _variance_frame(model):
    vc = model.variance_components
    total = vc.sum()
    base = {v: k for k, v in WAVE_TERMS.items()}
    return pd.DataFrame({"component": [base.get(c, c) for c in vc.index], "variance": vc.to_numpy(),
                         "sd": np.sqrt(vc.to_numpy()), "share": (vc / total).to_numpy()})


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
    progress=None,
) -> Calibration:
    """Calibrate 360 ratings: remove rater leniency, halo and source offsets by REML.

    Parameters
    ----------
    ratings : DataFrame
        Long ratings: ``ratee``, ``rater``, ``source``, ``skill``, ``score`` and optionally
        ``wave`` (default 1). Rows without a score are ignored.
    terms : sequence of str
        Random terms from ``"ratee"``, ``"ratee:skill"``, ``"rater"``, ``"rater:ratee"`` (halo)
        and ``"rater:skill"``.
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
    progress : callable, optional
        Passed to :func:`workbench.calibration.mixed_model.fit_mixed` (called after every evaluation).

    Returns
    -------
    Calibration

    Raises
    ------
    ModelError
        One rater, one ratee, one rating per ratee, constant scores, a skill without ratings,
        several waves with ``waves="pooled"``, a disconnected network with
        ``connectivity="error"``, or an unknown option.

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
    terms = _check_options(terms, reference, waves, connectivity, min_ratings, alpha)
    data = _prepare(ratings, waves)
    if min_ratings > 1:
        n = data.groupby(["ratee", "wave"])["score"].transform("size")
        dropped = data.loc[n < min_ratings, "ratee"].nunique()
        if dropped:
            warnings.warn(f"{dropped} ratee(s) with fewer than {min_ratings} ratings left out",
                          CalibrationWarning, stacklevel=2)
        data = data[n >= min_ratings].reset_index(drop=True)
    _check_identifiable(data, terms)
    data["subset"] = rater_network(data, waves=waves).to_numpy()
    conn = _connectivity_frame(data)
    if len(conn) > 1:
        listing = "; ".join(f"subset {r.subset}: {r.n_ratees} ratees, {r.n_raters} raters, "
                            f"{r.n_ratings} ratings" for r in conn.itertuples())
        if connectivity == "error":
            raise ModelError(f"the rater-ratee network falls apart into {len(conn)} subsets "
                             f"whose scores are not comparable ({listing}); choose "
                             "connectivity='largest' or 'separate'")
    chosen = [1] if connectivity == "largest" else conn["subset"].tolist()
    models, parts = {}, []
    for subset in chosen:
        part = data[data["subset"] == subset]
        try:
            if len(chosen) > 1:
                _check_identifiable(part, terms)
            fitted = _fit_subset(part, terms, skill_effects, reference, waves, alpha,
                                 progress)
        except ModelError as exc:
            if len(chosen) == 1:
                raise
            warnings.warn(f"subset {subset} not fitted: {exc}", CalibrationWarning,
                          stacklevel=2)
            continue
        models[subset] = fitted[0]
        parts.append((subset, *fitted[1:]))
    if not parts:
        raise ModelError("no connected subset of the rater network could be fitted")
    conn["fitted"] = conn["subset"].isin(models)
    if len(conn) > 1 and connectivity == "largest":
        dropped = conn[~conn["fitted"]]
        warnings.warn(
            f"the rater-ratee network falls apart into {len(conn)} subsets; only the largest "
            f"({conn['n_ratings'].iloc[0]} ratings) is calibrated, {dropped['n_ratings'].sum()} "
            f"ratings of {dropped['n_ratees'].sum()} ratees are left out (see "
            ".connectivity; connectivity='separate' fits each)",
            CalibrationWarning, stacklevel=2)
    return _assemble(data, parts, models, conn, terms, reference, waves, connectivity, alpha)


def _assemble(data, parts, models, conn, terms, reference, waves, connectivity, alpha):
    separate = connectivity == "separate" and len(conn) > 1
    scores, raters, sources, variances = [], [], [], []
    for subset, cells, rater_eff, source_eff in parts:
        for frame, out in ((cells, scores), (rater_eff, raters), (source_eff, sources),
                           (_variance_frame(models[subset]), variances)):
            frame = frame.copy()
            if separate:
                frame.insert(0, "subset", subset)
            out.append(frame)
    scores = pd.concat(scores, ignore_index=True)
    columns = (["subset"] if separate else []) + ["ratee", "skill"]
    if waves == "joint":
        columns.append("wave")
    columns += ["score", "se", "ci_low", "ci_high", "raw_mean", "n_ratings", "n_raters"]
    scores = scores[columns]
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
        reference=reference,
        waves=waves,
        terms=tuple(terms),
        alpha=alpha,
    )


def calibrated_matrix(cal: Calibration, wave=None, *, value: str = "score") -> pd.DataFrame:
    """Ratee x skill table of calibrated scores (or their ``se``) for one wave.

    Parameters
    ----------
    cal : Calibration
    wave : optional
        Which wave (joint calibrations); default the latest.
    value : {"score", "se", "ci_low", "ci_high", "raw_mean"}

    Examples
    --------
    >>> from workbench.synth.generator import generate_organisation
    >>> cal = calibrate_ratings(generate_organisation(60, seed=2, n_waves=1).ratings)
    >>> calibrated_matrix(cal).shape
    (60, 8)
    """
    if value not in ("score", "se", "ci_low", "ci_high", "raw_mean"):
        raise ModelError(f"value={value!r}: expected score, se, ci_low, ci_high or raw_mean")
    scores = cal.scores
    if "wave" in scores:
        waves = sorted(scores["wave"].unique().tolist())
        wave = waves[-1] if wave is None else wave
        if wave not in waves:
            raise ModelError(f"wave={wave!r}: not among the calibrated waves {waves}")
        scores = scores[scores["wave"] == wave]
    elif wave is not None:
        present = cal.ratings["wave"].unique().tolist()
        if wave not in present:
            raise ModelError(f"wave={wave!r}: not among the calibrated waves {present}")
    return scores.pivot(index="ratee", columns="skill", values=value)


def calibrated_scores(ratings, *, scores_file: str = "", waves: str = "joint") -> pd.DataFrame:
    """The run's calibrated scores: load the ones handed over, or calibrate here.

    Later notebooks of a run read what notebook 01 saved (``calibrated_scores.csv`` in its
    output folder; :func:`workbench.runs.pipeline.run_engagement` passes the path), so every
    notebook of a run uses the same scores and nothing is fitted twice. Run alone (no file),
    a notebook calibrates the ratings itself.

    Parameters
    ----------
    ratings : DataFrame or Organisation
        The ratings (an Organisation's ``.ratings`` are used).
    scores_file : path or ""
        A scores table written by an earlier step (read with
        :func:`workbench.tables.scores.as_scores`); ``""`` calibrates.
    waves : {"joint", "pooled"}
        Passed to :func:`calibrate_ratings` when calibrating.

    Returns
    -------
    DataFrame
        The scores contract (person, skill[, wave], score, se, ...).

    Examples
    --------
    >>> from workbench.synth import generate_organisation
    >>> org = generate_organisation(60, seed=3, n_waves=1)
    >>> calibrated_scores(org.ratings, waves="pooled").columns[:4].tolist()
    ['person', 'skill', 'score', 'se']
    """
    from workbench.tables.scores import as_scores

    if scores_file not in ("", None):
        return as_scores(scores_file)
    ratings = getattr(ratings, "ratings", ratings)
    return as_scores(calibrate_ratings(ratings, waves=waves))
