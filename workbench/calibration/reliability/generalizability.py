"""Generalizability of 360 scores: variance components per source (G-study) and the D-study
(how many raters of each source a reliability needs). The report that gathers ICC, r_wg and
G coefficients in one table is :mod:`workbench.calibration.reliability.summary`.

The rating target is a ratee's skill in one wave. The G coefficient of the calibrated score is
the share of its variance that is true-score variance, from the model's variance components
(Brennan, *Generalizability Theory*, 2001; Shrout & Fleiss, 1979 for the ICCs this builds on).

Examples
--------
>>> from workbench.synth.generator import generate_organisation
>>> from workbench.calibration.reliability.generalizability import d_study, source_variance_components
>>> org = generate_organisation(120, seed=1, n_waves=1)
>>> components = source_variance_components(org.ratings)
>>> "peer" in set(components["source"])
True
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench.calibration.reliability.interrater import (
    COMPONENTS,
    OPTIONAL_COMPONENTS,
    check_min_raters,
    check_ratings,
    filter_groups,
    is_calibration,
    oneway_anova,
    select_sources,
    source_frame,
    target_codes,
)
from workbench.errors import ConfigError, InputError
from workbench.results import Result

__all__ = [
    "source_variance_components",
    "d_study",
    "DStudy",
]


# --------------------------------------------------------------------------------------------
# Variance components per source (G-study)
# --------------------------------------------------------------------------------------------


def _observed_raters(sub: pd.DataFrame) -> float:
    """Harmonic mean number of distinct raters per ratee-wave (ratees with >= 1 rater)."""
    if sub.empty:
        return np.nan
    counts = sub.groupby(["ratee", "wave"])["rater"].nunique().to_numpy(dtype=float)
    return len(counts) / np.sum(1.0 / counts)


def _nested_components(sub: pd.DataFrame, min_raters: int) -> dict | None:
    """Moment estimates of sigma^2 ratee, ratee:skill, rater-in-ratee and residual.

    Returns None when no ratee has ``min_raters`` raters of the source.
    """
    raters = sub.groupby(["ratee", "wave"])["rater"].transform("nunique").to_numpy()
    sub = sub[raters >= min_raters]
    if sub.empty:
        return None
    var_b, ssw, dfw = [], 0.0, 0.0
    for _, cell in sub.groupby("skill", sort=True):
        cell = filter_groups(cell, ["ratee", "wave"], 2)
        a = oneway_anova(cell["score"].to_numpy(dtype=float), target_codes(cell))
        if np.isfinite(a["msb"]):
            var_b.append(a["var_between"])
            ssw += a["msw"] * a["df2"]
            dfw += a["df2"]
    if not var_b or dfw == 0:
        return None
    between_skill, within_skill = float(np.mean(var_b)), ssw / dfw
    centred = sub["score"] - sub.groupby("skill")["score"].transform("mean")
    pairs = (sub.assign(centred=centred).groupby(["ratee", "wave", "rater"], sort=False)
             .agg(mean=("centred", "mean"), n_skills=("centred", "size")).reset_index())
    a = oneway_anova(pairs["mean"].to_numpy(dtype=float), target_codes(pairs))
    n_skills = len(pairs) / np.sum(1.0 / pairs["n_skills"].to_numpy(dtype=float))
    if n_skills > 1 and np.isfinite(a["msb"]):
        shrink = n_skills / (n_skills - 1.0)
        residual = (within_skill - a["msw"]) * shrink
        ratee_skill = (between_skill - a["var_between"]) * shrink
    else:  # one skill: the split into general and skill-specific parts is not identified
        residual, ratee_skill = within_skill, 0.0
    residual = float(np.clip(residual, 0.0, within_skill))
    ratee_skill = float(np.clip(ratee_skill, 0.0, max(between_skill, 0.0)))
    return {
        "ratee": max(between_skill - ratee_skill, 0.0),
        "ratee:skill": ratee_skill,
        "rater+rater:ratee": within_skill - residual,
        "residual": residual,
        "n_ratees": int(pairs[["ratee", "wave"]].drop_duplicates().shape[0]),
    }


def overall_components(frame: pd.DataFrame) -> dict:
    comp = check_components(frame)
    if "source" in comp.columns:
        raise ConfigError("variance_components: expected the overall model's components "
                          "(no 'source' column)")
    return dict(zip(comp["component"], comp["variance"], strict=True))


def source_variance_components(
    ratings,
    *,
    sources: Iterable[str] | str | None = None,
    rater_variance: float | None = None,
    min_raters: int = 2,
) -> pd.DataFrame:
    """Variance components of each source's ratings, for the G-study and the D-study.

    Parameters
    ----------
    ratings : DataFrame or Calibration
        Long ratings; with a Calibration its ``.ratings`` are used and ``rater_variance``
        defaults to the overall model's ``rater`` component.
    sources : str or list of str, optional
        Default: every non-self source present.
    rater_variance : float, optional
        Variance of rater leniency (a rater's main effect across ratees), from the overall
        crossed model. It splits the rater-within-ratee variance into ``rater`` and
        ``rater:ratee``; without it both are NaN and only their sum is reported.
    min_raters : int
        Ratees (per wave) with fewer raters of the source are left out.

    Returns
    -------
    DataFrame
        source, component (ratee, ratee:skill, rater, rater:ratee, rater+rater:ratee,
        residual), variance, sd, share (of the total of ratee, ratee:skill,
        rater+rater:ratee and residual), n_ratees, raters_per_ratee (harmonic mean number of
        raters of the source per ratee-wave, over every ratee with at least one). Sources
        where no ratee has ``min_raters`` raters (usually ``manager``, always ``self``) are
        left out: their rater variance cannot be told apart from the ratee's.

    Notes
    -----
    Within a source, raters are nested in ratees (each ratee has their own peers), so the
    model is ``score = mu_skill + a_ratee + b_ratee:skill + c_rater:ratee + e``. Moment
    estimates for the unbalanced design, with S the (harmonic) number of skills a rater rates:

    * per skill, a one-way ANOVA of the ratee's raters (see :func:`icc_by_source`) gives
      ``B1 = mean_s sigma_b^2 = var(a) + var(b)`` and the pooled ``W1 = MSW = var(c) + var(e)``;
    * the one-way ANOVA of each rater's mean over skills (scores centred by skill) gives
      ``B2 = var(a) + var(b)/S`` and ``W2 = var(c) + var(e)/S``;
    * hence ``var(e) = (W1 - W2) S / (S - 1)``, ``var(b) = (B1 - B2) S / (S - 1)``.

    Negative moment estimates are set to 0 (the boundary an REML fit would return). The
    per-source fit was chosen over the overall crossed model so that "how many peers" and
    "how many direct reports" rest on each source's own rater disagreement; the overall model
    is needed only for ``rater_variance``. The estimates were checked for recovery of the
    synthetic organisation's known variances (tests/test_reliability.py).

    Examples
    --------
    >>> from workbench.synth.generator import generate_organisation
    >>> org = generate_organisation(120, seed=1, n_waves=1)
    >>> vc = source_variance_components(org.ratings, rater_variance=0.35**2)
    >>> sorted(vc["source"].unique())
    ['direct_report', 'peer']
    """
    if rater_variance is None and is_calibration(ratings):
        rater_variance = overall_components(ratings.variance_components).get("rater")
    frame = check_ratings(ratings)
    check_min_raters(min_raters)
    if rater_variance is not None and not (np.isfinite(rater_variance) and rater_variance >= 0):
        raise ConfigError(f"rater_variance={rater_variance!r}: must be a variance >= 0")
    if sources is None:
        sources = [s for s in select_sources(frame, None, False) if s != "self"]
    rows = []
    for source in select_sources(frame, sources, False):
        sub = source_frame(frame, source)
        comp = _nested_components(sub, min_raters)
        if comp is None:
            continue
        total_rater = comp["rater+rater:ratee"]
        if rater_variance is None:
            rater, rater_ratee = np.nan, np.nan
        else:
            rater = min(float(rater_variance), total_rater)
            rater_ratee = total_rater - rater
        values = {"ratee": comp["ratee"], "ratee:skill": comp["ratee:skill"], "rater": rater,
                  "rater:ratee": rater_ratee, "rater+rater:ratee": total_rater,
                  "residual": comp["residual"]}
        total = comp["ratee"] + comp["ratee:skill"] + total_rater + comp["residual"]
        observed = _observed_raters(sub)
        for name, value in values.items():
            rows.append({"source": source, "component": name, "variance": value,
                         "sd": np.sqrt(value), "share": value / total,
                         "n_ratees": comp["n_ratees"], "raters_per_ratee": observed})
    columns = ["source", "component", "variance", "sd", "share", "n_ratees", "raters_per_ratee"]
    return pd.DataFrame(rows, columns=columns)


# --------------------------------------------------------------------------------------------
# D-study
# --------------------------------------------------------------------------------------------


def check_components(components) -> pd.DataFrame:
    if not isinstance(components, pd.DataFrame):
        raise InputError("variance_components: expected a DataFrame (component, variance) or "
                         f"a Calibration, got {type(components).__name__}")
    frame = components.copy()
    if "variance" not in frame.columns and "sd" in frame.columns:
        frame["variance"] = pd.to_numeric(frame["sd"], errors="coerce") ** 2
    missing = [c for c in ("component", "variance") if c not in frame.columns]
    if missing:
        raise InputError(f"variance_components: column(s) missing: {', '.join(missing)}")
    frame["variance"] = pd.to_numeric(frame["variance"], errors="coerce").astype(float)
    known = set(COMPONENTS) | set(OPTIONAL_COMPONENTS)
    unknown = sorted(set(frame["component"]) - known)
    if unknown:
        raise InputError(f"variance_components: unknown component(s) {unknown}; expected "
                         f"{', '.join(COMPONENTS)}")
    needed = {"ratee", "residual"}
    by = frame.groupby("source") if "source" in frame.columns else [(None, frame)]
    for source, part in by:
        lacking = needed - set(part["component"])
        if lacking:
            where = f" for source {source!r}" if source is not None else ""
            raise InputError(f"variance_components{where}: component(s) missing: "
                             f"{', '.join(sorted(lacking))}")
    return frame


def _g_parts(values: dict) -> tuple[float, float, float]:
    """(true variance, relative error variance, absolute error variance) of one rater."""
    def get(name):
        value = values.get(name, np.nan)
        return 0.0 if not np.isfinite(value) else max(float(value), 0.0)

    true = get("ratee") + get("ratee:skill")
    rater = get("rater") + get("rater:skill")
    if "rater+rater:ratee" in values and np.isfinite(values["rater+rater:ratee"]):
        total_rater = get("rater+rater:ratee")
    else:
        # with items, the rater's view of the ratee's skill is error of one rater's skill
        # score like the halo (the item residual is counted whole: one item, conservative)
        total_rater = rater + get("rater:ratee") + get("rater:ratee:skill")
    absolute = total_rater + get("residual")
    return true, absolute - min(rater, total_rater), absolute


def _required_n(true: float, error: float, target: float) -> float:
    if true <= 0:
        return np.inf
    return target * error / ((1.0 - target) * true)


@dataclass(frozen=True)
class DStudy(Result):
    """Reliability of a ratee's skill score averaged over n raters, per source.

    Attributes
    ----------
    components : DataFrame
        source, component, variance, origin ("source": estimated from that source's ratings;
        "overall": the overall model's components).
    curve : DataFrame
        source, n_raters, g_relative (E rho^2: rater leniency removed, as in a calibrated
        score), g_absolute (Phi: leniency counts as error, as in a raw average).
    required : DataFrame
        source, target, n_relative, n_absolute (smallest whole number of raters reaching the
        target), n_relative_exact, n_absolute_exact (the real-valued Spearman-Brown solution).
    observed : DataFrame
        source, raters_per_ratee, g_relative, g_absolute at the observed number of raters
        (empty when only components were given).
    settings : dict
        The options used (targets, n_raters).
    """

    title = "D-study: reliability of a skill score averaged over n raters"

    components: pd.DataFrame
    curve: pd.DataFrame
    required: pd.DataFrame
    observed: pd.DataFrame
    settings: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The D-study curve."""
        return self.curve.copy()

    def _sections(self) -> list:
        out = [("Raters needed (relative = leniency removed by calibration; absolute = raw "
                "average)", self.required)]
        if not self.observed.empty:
            out.append(("At the observed number of raters", self.observed))
        return out

    def _files(self) -> dict:
        return {"d_study_curve.csv": self.curve, "d_study_required.csv": self.required,
                "d_study_components.csv": self.components}


def _components_for_d_study(components, sources):
    """Components per source (long frame with origin) and observed raters per ratee."""
    observed = {}
    if is_calibration(components):
        overall = overall_components(components.variance_components)
        ratings = check_ratings(components.ratings)
        present = [s for s in select_sources(ratings, None, True) if s != "self"]
        chosen = present if sources is None else select_sources(ratings, sources, False)
        per_source = source_variance_components(ratings, sources=chosen,
                                                rater_variance=overall.get("rater"))
        rows = []
        for source in chosen:
            part = per_source[per_source["source"] == source]
            if len(part):
                values, origin = dict(zip(part["component"], part["variance"],
                                          strict=True)), "source"
            else:
                values, origin = overall, "overall"
            observed[source] = _observed_raters(source_frame(ratings, source))
            rows += [{"source": source, "component": c, "variance": v, "origin": origin}
                     for c, v in values.items()]
        return pd.DataFrame(rows), observed
    frame = check_components(components)
    if "source" in frame.columns:
        present = list(dict.fromkeys(frame["source"]))
        chosen = present if sources is None else (
            [sources] if isinstance(sources, str) else list(sources))
        unknown = [s for s in chosen if s not in present]
        if unknown:
            raise ConfigError(f"sources={unknown!r}: not in the variance components "
                              f"(present: {', '.join(map(str, present))})")
        out = frame[frame["source"].isin(chosen)][["source", "component", "variance"]]
        if "raters_per_ratee" in frame.columns:
            observed = frame.groupby("source")["raters_per_ratee"].first().to_dict()
        return out.assign(origin="source"), observed
    chosen = ["all"] if sources is None else (
        [sources] if isinstance(sources, str) else list(sources))
    rows = [{"source": s, "component": c, "variance": v, "origin": "overall"}
            for s in chosen for c, v in zip(frame["component"], frame["variance"], strict=True)]
    return pd.DataFrame(rows), observed


def d_study(
    components,
    *,
    sources: Iterable[str] | str | None = None,
    n_raters: Iterable[int] = range(1, 11),
    targets: Iterable[float] = (0.7, 0.8),
) -> DStudy:
    """Generalisability of skill scores and the number of raters needed, per source.

    Parameters
    ----------
    components : DataFrame or Calibration
        Variance components, either the overall model's (component, variance; applied to
        every source in ``sources``, default a single source ``"all"``), or per source
        (source, component, variance, as from :func:`source_variance_components`). With a
        Calibration, each non-self source's components (and those of ``"others"``, all
        non-self raters pooled) are estimated from its ratings
        (:func:`source_variance_components`, rater leniency variance from the calibration);
        a source where that is impossible (one rater per ratee, e.g. the manager) uses the
        overall components (``origin`` says which).
    sources : str or list of str, optional
        Sources to study.
    n_raters : iterable of int
        Numbers of raters for the curve.
    targets : iterable of float
        Target reliabilities in (0, 1).

    Returns
    -------
    DStudy
        ``.curve``, ``.required``, ``.observed`` and ``.components``.

    Notes
    -----
    The object of measurement is a ratee's score on one skill, so the true variance is
    ``var_true = sigma^2_ratee + sigma^2_ratee:skill``. With raters nested in ratees,

        relative (E rho^2):  error = (sigma^2_rater:ratee + sigma^2_residual) / n
        absolute (Phi):      error = (sigma^2_rater + sigma^2_rater:ratee + sigma^2_residual) / n
        G = var_true / (var_true + error)

    A ``rater:skill`` component (skill-specific leniency, when the calibration fitted it)
    counts with ``rater``: removed by calibration, error in a raw average. A
    ``rater:ratee:skill`` component (item-level calibration: the rater's view of the ratee in
    the skill, shared by its items) counts with ``rater:ratee``; the item residual is then
    counted whole (as if each rater answered one item: conservative; the D-study over items
    is the instrument's, :mod:`~workbench.calibration.reliability.item_facet`).

    The absolute coefficient is the reliability of a raw average of n raters (each ratee has
    their own raters, so their leniency is error; it equals ICC(2) at k = n). The relative
    coefficient treats rater leniency as known and removed, as the calibration does; in
    principle an upper bound, because the estimated leniencies carry error of their own. On
    synthetic organisations (300 people, seeds 21 and 22) the relative G of all non-self
    raters at their observed number matched the squared correlation of the calibrated score
    with the true score (0.864 vs 0.866, 0.872 vs 0.871), and Phi that of the raw mean
    (0.819 vs 0.801, 0.832 vs 0.811); see tests/test_reliability.py. When the rater
    variance is unknown (NaN) it is counted as error in both. The smallest n reaching a
    target t solves Spearman-Brown: ``n = t error_1 / ((1 - t) var_true)`` rounded up, with
    ``error_1`` the error of one rater. Negative components count as 0.

    Examples
    --------
    >>> import pandas as pd
    >>> vc = pd.DataFrame({"component": ["ratee", "ratee:skill", "rater", "rater:ratee",
    ...                                  "residual"], "variance": [0.1, 0.1, 0.1, 0.05, 0.2]})
    >>> d = d_study(vc, sources=["peer"], targets=[0.8])
    >>> int(d.required["n_relative"].iloc[0])
    5
    """
    n_raters = np.asarray(list(n_raters), dtype=float)
    if n_raters.size == 0 or np.any(~np.isfinite(n_raters)) or np.any(n_raters < 1):
        raise ConfigError(f"n_raters={n_raters.tolist()!r}: must be numbers of raters >= 1")
    targets = [float(t) for t in targets]
    if any(not 0 < t < 1 for t in targets):
        raise ConfigError(f"targets={targets!r}: each must be between 0 and 1")
    long, observed = _components_for_d_study(components, sources)
    curve, required, at_observed = [], [], []
    for source, part in long.groupby("source", sort=False):
        true, rel, absolute = _g_parts(dict(zip(part["component"], part["variance"],
                                                strict=True)))
        for n in n_raters:
            curve.append({"source": source, "n_raters": n,
                          "g_relative": true / (true + rel / n) if true > 0 else 0.0,
                          "g_absolute": true / (true + absolute / n) if true > 0 else 0.0})
        for t in targets:
            exact_rel, exact_abs = _required_n(true, rel, t), _required_n(true, absolute, t)
            required.append({"source": source, "target": t,
                             "n_relative": max(1.0, np.ceil(exact_rel - 1e-9)),
                             "n_absolute": max(1.0, np.ceil(exact_abs - 1e-9)),
                             "n_relative_exact": exact_rel, "n_absolute_exact": exact_abs})
        k = observed.get(source, np.nan)
        if np.isfinite(k):
            at_observed.append({"source": source, "raters_per_ratee": k,
                                "g_relative": true / (true + rel / k) if true > 0 else 0.0,
                                "g_absolute": true / (true + absolute / k) if true > 0 else 0.0})
    curve = pd.DataFrame(curve)
    curve["n_raters"] = curve["n_raters"].astype(int) if np.all(
        n_raters == np.round(n_raters)) else curve["n_raters"]
    return DStudy(
        components=long.reset_index(drop=True),
        curve=curve,
        required=pd.DataFrame(required),
        observed=pd.DataFrame(at_observed, columns=["source", "raters_per_ratee",
                                                    "g_relative", "g_absolute"]),
        settings={"targets": list(targets), "n_raters": [float(k) for k in n_raters]},
    )
