"""Readiness for a role: the probability of meeting every requirement, and the band it puts a
person in.

For person ``i`` and a role with required levels ``r_s`` (skills ``s`` of the framework), the
calibrated scores ``m_s`` with standard errors ``e_s`` describe where the true level lies:
``true_s ~ Normal(m_s, e_s^2)`` (for a BLUP this is the conditional distribution of the truth
given the ratings, under the calibration model). The errors of one person's skills are
correlated: the person's general level and the raters' halo for them enter every skill. With
``rho`` the correlation between two skills' errors (the same for every pair: compound
symmetry),

    true_s = m_s + e_s (sqrt(rho) Z + sqrt(1 - rho) U_s),   Z, U_s independent N(0, 1)

and the probability of meeting every requirement is one integral over the shared part,

    P(ready) = E_Z[ prod_s Phi((m_s - r_s + e_s sqrt(rho) Z) / (e_s sqrt(1 - rho))) ],

computed by Gauss-Hermite quadrature (32 nodes; exact for ``rho = 0``). If the person's plan
is realised by the horizon, skill ``s`` gains ``G_s ~ Normal(g_s, h_s^2)`` (the plan's expected
gains from impact's measured effects, summed over the activities of the skill, independent
across skills) and ``prod_s`` uses ``(m_s + g_s - r_s + ...) / sqrt(e_s^2 (1 - rho) + h_s^2)``.

**Where rho comes from.** A :class:`~workbench.calibration.Calibration` has the variance
components: :func:`skill_error_correlation` gives each person's ``rho`` as the posterior
correlation of their skills under the model with the person's number of raters (a balanced
design: every rater rates every skill; rater leniency treated as known). A scores table with a
``skill_error_corr`` column supplies its own. Otherwise ``rho`` is assumed 0 (independent
errors) and the result says so: with positively correlated errors this understates the
probability of meeting every requirement when each is likely met, and overstates it when each
is unlikely.

**Bands** (``probability`` = 0.5 by default: "more likely than not"):

* ``ready_now``: ``P(ready) >= probability``;
* ``ready_in_horizon``: not ready now, but ``P(ready by the horizon) >= probability`` if the
  plan's expected gains are realised (no plan given: nobody is in this band);
* ``ready_later``: on the person's path, neither of the above;
* ``not_on_path``: the role was assessed (an open role) but is not on the person's path;
* ``not_assessed``: a required skill has no score.

Examples
--------
>>> import numpy as np
>>> p = readiness_probability(np.array([[3.5, 3.5]]), np.array([[0.25, 0.25]]),
...                           np.array([[3.0, 3.0]]))
>>> round(float(p[0]), 4)   # Phi(2)^2
0.955
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from numpy.polynomial.hermite_e import hermegauss
from scipy.special import ndtr

from workbench.checks import check_alpha, check_interval
from workbench.errors import ConfigError, InputError, Problem
from workbench.progression.paths import (
    check_target_roles,
    framework_requirements,
    path_destinations,
)
from workbench.progression.skill_prior import rating_error_model, skill_posterior
from workbench.tables.scores import as_scores

__all__ = ["BANDS", "readiness_probability", "skill_error_correlation", "plan_gains",
           "readiness_table"]

#: The readiness bands, best first.
BANDS = ("ready_now", "ready_in_horizon", "ready_later", "not_on_path", "not_assessed")

_NODES = 32
_CHUNK = 20_000


def readiness_probability(score, se, required, *, rho=0.0, gain=None, gain_se=None):
    """P(every true level >= its requirement) for rows of skills (NaN requirement: not needed).

    Parameters
    ----------
    score, se, required : array (n, k)
        Calibrated scores, standard errors and required levels; a NaN ``required`` marks a
        skill the role does not need (padding).
    rho : float or array (n,)
        Correlation between two of the person's skills' errors, in [0, 1).
    gain, gain_se : array (n, k), optional
        Expected gains by the horizon and their SEs (0 when absent).

    Returns
    -------
    array (n,)
        The probability; NaN when a needed skill has no score or SE.

    Examples
    --------
    >>> import numpy as np
    >>> float(readiness_probability(np.array([[4.0]]), np.array([[0.0]]), np.array([[3.0]]))[0])
    1.0
    """
    score, se, required = (np.atleast_2d(np.asarray(a, dtype=float)) for a in
                           (score, se, required))
    n, k = score.shape
    gain = np.zeros((n, k)) if gain is None else np.nan_to_num(np.asarray(gain, float))
    gain_se = np.zeros((n, k)) if gain_se is None else np.nan_to_num(np.asarray(gain_se, float))
    rho = np.broadcast_to(np.asarray(rho, dtype=float), (n,))
    if np.any((rho < 0) | (rho >= 1)):
        raise ConfigError("skill_error_corr: must lie in [0, 1)")
    needed = np.isfinite(required)
    unknown = (needed & ~(np.isfinite(score) & np.isfinite(se))).any(axis=1)
    nodes, weights = hermegauss(_NODES)
    weights = weights / weights.sum()
    out = np.empty(n)
    for lo in range(0, n, _CHUNK):
        sl = slice(lo, lo + _CHUNK)
        need = needed[sl]
        diff = np.where(need, np.nan_to_num(score[sl]) + gain[sl] - np.nan_to_num(required[sl]),
                        np.inf)
        s = np.where(need, np.nan_to_num(se[sl]), 0.0)
        r = rho[sl][:, None]
        shared = s * np.sqrt(r)
        own = np.sqrt(s**2 * (1 - r) + gain_se[sl] ** 2)
        # (n, k, nodes): the shared error shifts every skill of a person together; people
        # without a shared part (rho = 0) need one node only
        shared_any = bool(np.any(shared > 0))
        z_nodes = nodes if shared_any else np.zeros(1)
        w_nodes = weights if shared_any else np.ones(1)
        num = diff[:, :, None] + shared[:, :, None] * z_nodes[None, None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(own[:, :, None] > 0, num / own[:, :, None],
                         np.where(num >= 0, np.inf, -np.inf))
        p = np.where(need[:, :, None], ndtr(z), 1.0).prod(axis=1)
        out[sl] = p @ w_nodes
    out[unknown] = np.nan
    return np.clip(out, 0.0, 1.0)


def skill_error_correlation(calibration=None, *, scores=None, variance_components=None,
                            wave="latest") -> pd.DataFrame:
    """Each person's correlation between two skills' score errors, from the calibration model.

    Under ``rating = ratee + ratee:skill + halo(rater, ratee) + residual`` (leniency known),
    with ``n`` raters each rating all ``k`` skills, the true skills have prior covariance
    ``a J + b I`` and the raters' mean error covariance ``(h / n) J + (e / n) I`` (``a``, ``b``,
    ``h``, ``e``: the ratee, ratee:skill, halo and residual variances). Both are compound
    symmetric, so the posterior is too; on the eigenvector ``1`` the variances are
    ``T1 = b + k a`` and ``N1 = (e + k h) / n``, orthogonal to it ``T0 = b``,
    ``N0 = e / n``, and the posterior variances are ``p = T N / (T + N)`` on each. The error
    covariance of two skills is ``(p1 - p0) / k``, their variance ``p0 + (p1 - p0) / k``.

    Parameters
    ----------
    calibration : Calibration, optional
        With ``variance_components`` and scores carrying ``n_raters``.
    scores, variance_components : DataFrame or path, optional
        Instead of a Calibration: its scores (``calibrated_scores.csv``) and variance
        components (``variance_components.csv``: component, variance), as a run saves them.

    Returns
    -------
    DataFrame
        person, skill_error_corr (in [0, 1)).
    """
    if calibration is not None:
        vc = getattr(calibration, "variance_components", None)
        if vc is None or not hasattr(calibration, "to_scores"):
            raise ConfigError("skill_error_correlation: needs a Calibration (variance "
                              "components and scores)")
        scores = calibration.to_scores()
    else:
        vc = _variance_table(variance_components)
    if scores is None:
        raise ConfigError("skill_error_correlation: give a Calibration, or scores and "
                          "variance_components")
    sc = as_scores(scores, wave=wave)
    # item-level calibration: a rater's skill score averages their items, and their view of
    # the person in the skill is noise shared by those items
    model = rating_error_model(vc, sc)
    a, b, h, e = model["a"], model["b"], model["h"], model["e"]
    per = sc.groupby("person").agg(k=("skill", "size"),
                                   n=("n_raters", "mean") if "n_raters" in sc else
                                   ("skill", "size"))
    k = per["k"].to_numpy(float)
    n = np.maximum(per["n"].to_numpy(float), 1.0)

    def post(t, noise):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(t + noise > 0, t * noise / (t + noise), 0.0)

    p1, p0 = post(b + k * a, (e + k * h) / n), post(np.full_like(k, b), e / n)
    cov = (p1 - p0) / k
    var = p0 + cov
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.where(var > 0, cov / var, 0.0)
    return pd.DataFrame({"person": per.index.to_numpy(),
                         "skill_error_corr": np.clip(rho, 0.0, 0.99)})


def _variance_table(obj):
    if isinstance(obj, str | Path):
        from workbench.tables.data import read_table

        path = Path(obj)
        if not path.exists():
            raise InputError([Problem(str(path), None, None, "variance components file not "
                                      "found")])
        obj = read_table(path)
        obj["variance"] = pd.to_numeric(obj["variance"], errors="coerce")
    if not isinstance(obj, pd.DataFrame) or not {"component", "variance"} <= set(obj.columns):
        raise ConfigError("variance_components: expected a table with component and variance "
                          "(the calibration's variance_components.csv)")
    return obj


def plan_gains(plans) -> pd.DataFrame:
    """Expected gain per person and skill by the plans' horizon (a PlanSet, its table or file).

    Gains add over a skill's planned activities; their SEs add in quadrature (as in
    :mod:`workbench.plans.gains`). Conditional on completing the activities.

    Returns
    -------
    DataFrame
        person, skill, gain, gain_se.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"person": "a", "skill": "S", "gain": [0.2, 0.1], "gain_se": [0.3, 0.4]})
    >>> plan_gains(t).round(3).to_dict("records")
    [{'person': 'a', 'skill': 'S', 'gain': 0.3, 'gain_se': 0.5}]
    """
    if isinstance(plans, str | Path):
        from workbench.tables.data import read_table

        if not Path(plans).exists():
            raise InputError([Problem(str(plans), None, None, "plans file not found")])
        plans = read_table(Path(plans))
        for column in ("gain", "gain_se"):
            if column in plans:
                plans[column] = pd.to_numeric(plans[column], errors="coerce")
    table = plans.plans if hasattr(plans, "plans") else plans
    if not isinstance(table, pd.DataFrame):
        raise ConfigError(f"plans: expected a PlanSet or its plans table, got "
                          f"{type(plans).__name__}")
    missing = [c for c in ("person", "skill", "gain", "gain_se") if c not in table]
    if missing:
        raise InputError([Problem("plans", None, missing[0],
                                  f"missing column(s) {', '.join(missing)}")])
    rows = table.dropna(subset=["gain"]).assign(
        person=lambda f: f["person"].astype(str), var=lambda f: f["gain_se"].fillna(0) ** 2)
    out = rows.groupby(["person", "skill"], as_index=False).agg(gain=("gain", "sum"),
                                                                var=("var", "sum"))
    out["gain_se"] = np.sqrt(out.pop("var"))
    return out


def _rho_frame(scores, skill_error_corr, sc, variance_components=None):
    """(person -> rho, the stated assumption)."""
    if isinstance(skill_error_corr, str):
        if skill_error_corr != "calibration":
            raise ConfigError(f"skill_error_corr={skill_error_corr!r}: must be 'calibration' "
                              "or a number in [0, 1)")
        how = ("from the calibration's variance components (compound symmetry, each person's "
               "number of raters)")
        if hasattr(scores, "variance_components") and hasattr(scores, "to_scores"):
            return skill_error_correlation(scores).set_index("person")["skill_error_corr"], how
        blups = "estimator" not in sc.columns or sc["estimator"].isin(["blup"]).all()
        if variance_components is not None and not blups:
            return None, ("assumed 0: the scores are not the linear calibration's BLUPs, so "
                          "the variance components do not describe their errors")
        if variance_components is not None:
            rho = skill_error_correlation(scores=sc, variance_components=variance_components)
            return rho.set_index("person")["skill_error_corr"], how
        if "skill_error_corr" in sc.columns:
            corr = pd.to_numeric(sc["skill_error_corr"], errors="coerce")
            return (corr.groupby(sc["person"]).mean().fillna(0.0).clip(0, 0.99),
                    "from the scores' skill_error_corr column")
        return None, ("assumed 0: the scores carry no error correlation between skills "
                      "(independent errors)")
    value = check_interval("skill_error_corr", skill_error_corr, low=0, high=1,
                           inclusive="left")
    return value, f"stated: {value:g} for every person"


def _mixture_prior(scores, sc, variance_components, skill_prior):
    """(the skills' posterior mixture or None, the stated prior)."""
    normal = ("normal: each true skill Normal(score, se^2) with compound-symmetric errors "
              "(the calibration model's prior)")
    if skill_prior == "normal":
        return None, normal
    if skill_prior != "mixture":
        raise ConfigError(f"skill_prior={skill_prior!r}: must be 'mixture' or 'normal'")
    if hasattr(scores, "variance_components") and hasattr(scores, "to_scores"):
        vc = scores.variance_components
    elif variance_components is not None:
        vc = _variance_table(variance_components)
    else:
        return None, normal + "; no variance components to learn the skill profiles from"
    if vc is None or ("estimator" in sc.columns and not sc["estimator"].isin(["blup"]).all()):
        return None, normal + "; the scores are not the linear calibration's BLUPs"
    post = skill_posterior(sc, rating_error_model(vc, sc))
    if post is None:
        return None, normal + "; too few people with every skill scored to learn profiles"
    return post, (f"mixture: the skill profiles learnt from the scores ({post['n_components']} "
                  "normal components with a shared covariance, fitted by deconvolution)")


def _mixture_probabilities(post, dest, long, k, with_gains):
    """P(ready) now and by the horizon, and per skill P(meet), under the posterior mixture;
    NaN for cases whose person or skills the mixture does not cover."""
    n = len(dest)
    row = pd.Series(np.arange(len(post["persons"])), index=post["persons"])
    col = pd.Series(np.arange(len(post["skills"])), index=post["skills"])
    who = dest["person"].map(row).to_numpy(float)
    skill = np.full((n, k), -1)
    required, gain, gain_se = (np.full((n, k), np.nan) for _ in range(3))
    case, slot = long["case"].to_numpy(), long["slot"].to_numpy()
    skill[case, slot] = long["skill"].map(col).fillna(-1).to_numpy(int)
    required[case, slot] = long["required_level"].to_numpy(float)
    gain[case, slot] = long["gain"].fillna(0).to_numpy(float)
    gain_se[case, slot] = long["gain_se"].fillna(0).to_numpy(float)
    needed = np.isfinite(required)
    ok = np.isfinite(who) & ~((skill < 0) & needed).any(axis=1)
    cases = np.flatnonzero(ok)
    i = who[cases].astype(int)
    s = np.where(skill[cases] >= 0, skill[cases], 0)
    cov = post["cov"][i[:, None, None], s[:, :, None], s[:, None, :]]
    sd = np.sqrt(np.einsum("nkk->nk", cov))
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = cov / (sd[:, :, None] * sd[:, None, :])
    pair = needed[cases][:, :, None] & needed[cases][:, None, :] & ~np.eye(k, dtype=bool)
    with np.errstate(invalid="ignore"):
        rho = np.where(pair.any(axis=(1, 2)), (corr * pair).sum(axis=(1, 2))
                       / np.maximum(pair.sum(axis=(1, 2)), 1), 0.0)
    rho = np.clip(np.nan_to_num(rho), 0.0, 0.99)
    weights = post["weights"][i]
    means = np.take_along_axis(post["means"][i], s[:, None, :].repeat(weights.shape[1], 1),
                               axis=2)
    use = weights > 1e-6
    at, comp = np.nonzero(use)
    req = required[cases][at]
    out = {}
    for name, g, h in (("now", None, None), ("horizon", gain[cases][at], gain_se[cases][at])):
        if name == "horizon" and not with_gains:
            continue
        p = readiness_probability(means[at, comp], sd[at], req, rho=rho[at], gain=g, gain_se=h)
        total = np.full(n, np.nan)
        total[cases] = np.bincount(at, weights=weights[at, comp] * p, minlength=len(cases))
        out[name] = total
    # per skill: P(true >= required) (and with the gain), mixed over the components
    z = (means - required[cases][:, None, :]) / sd[:, None, :]
    meet = np.full((n, k), np.nan)
    meet[cases] = np.einsum("nc,nck->nk", weights, ndtr(z))
    out["meet"] = meet[case, slot]
    if with_gains:
        zh = ((means + gain[cases][:, None, :] - required[cases][:, None, :])
              / np.sqrt(sd**2 + gain_se[cases] ** 2)[:, None, :])
        meet_h = np.full((n, k), np.nan)
        meet_h[cases] = np.einsum("nc,nck->nk", weights, ndtr(zh))
        out["meet_horizon"] = meet_h[case, slot]
    return out


def _padded(long, keys, k):
    """Long rows (keys..., slot, values) -> (n, k) arrays in the order of ``keys``'s groups."""
    n = len(keys)
    out = {}
    for column in ("score", "se", "required_level", "gain", "gain_se"):
        arr = np.full((n, k), np.nan)
        arr[long["case"].to_numpy(), long["slot"].to_numpy()] = long[column].to_numpy(float)
        out[column] = arr
    return out


def readiness_table(
    scores, people, framework, paths=None, *, roles=None, plans=None,
    skill_error_corr="calibration", variance_components=None, probability=0.5,
    wave="latest", alpha=0.05, skill_prior="mixture",
):
    """Readiness of each person for each role on their path (or for named roles).

    Parameters
    ----------
    scores : Calibration, DataFrame or path
        The scores contract (:func:`~workbench.tables.scores.as_scores`); a Calibration also
        gives the skills' error correlation.
    people : DataFrame
        person, role[, target_role].
    framework : DataFrame
        role, skill, required_level[, weight].
    paths : DataFrame, optional
        role, next_role[, typical_months, lateral]; without it only target roles (and
        ``roles``) are assessed.
    roles : list of str, optional
        Assess every person against these roles (an open role: internal mobility); the band of
        a person for whom the role is not on their path is ``not_on_path``.
    plans : PlanSet or DataFrame, optional
        The plans (person, skill, gain, gain_se per activity): the gains by the horizon.
    skill_error_corr : "calibration" or float
        Where the skills' error correlation comes from (module docstring).
    variance_components : DataFrame or path, optional
        The calibration's variance components (``variance_components.csv``) when ``scores``
        is a table or file rather than a Calibration: the error correlation is computed from
        them.
    probability : float
        The band threshold in (0, 1).
    wave : "latest", a wave or None
        Which scores to use.
    alpha : float
        Only recorded (bands use ``probability``; bench intervals use alpha).
    skill_prior : "mixture" or "normal"
        Where a person's true skills lie given the scores: ``"mixture"`` (default) learns
        the skill profiles from the scores (:mod:`workbench.progression.skill_prior`; needs
        the calibration's variance components and BLUPs, otherwise ``"normal"`` is used and
        the result says so); ``"normal"``: each true skill ``Normal(score, se^2)`` with
        compound-symmetric errors.

    Returns
    -------
    (readiness, skill_gaps, settings)
        ``readiness``: person, current_role, role, relation, moves, typical_months, n_skills,
        n_below (point estimates below the requirement), weighted_gap (sum over skills of
        weight x max(required - score, 0)), p_ready, p_ready_horizon, point_ready (every
        point estimate meets its requirement), skill_error_corr, band.
        ``skill_gaps``: person, role, skill, required_level, weight, score, se, gap (required
        - score), weighted_gap (weight x max(gap, 0)), p_meet, gain, gain_se, p_meet_horizon.
    """
    probability = check_interval("probability", probability, low=0, high=1, inclusive="neither")
    check_alpha(alpha)
    if not isinstance(skill_error_corr, str):
        check_interval("skill_error_corr", skill_error_corr, low=0, high=1, inclusive="left")
    fw = framework_requirements(framework)
    sc = as_scores(scores, wave=wave)
    if "wave" in sc.columns and sc.duplicated(["person", "skill"]).any():
        raise ConfigError("wave=None: readiness needs one score per person and skill; use "
                          "wave='latest' or a wave")
    sc = sc.assign(person=sc["person"].astype(str))
    who = check_target_roles(people, framework)
    if paths is not None:
        dest = path_destinations(people, paths, framework)
    else:
        dest = who.dropna(subset=["target_role"]).rename(columns={"role": "current_role",
                                                                  "target_role": "role"})
        dest = dest.assign(relation="target", moves=np.nan, typical_months=np.nan)
    dest = dest[dest["role"] != dest["current_role"]]
    if roles is not None:
        roles = [roles] if isinstance(roles, str) else list(roles)
        unknown = sorted(set(roles) - set(fw["role"]))
        if unknown:
            raise ConfigError(f"roles: {', '.join(map(repr, unknown))} not among the "
                              "framework's roles")
        grid = who[["person", "role"]].rename(columns={"role": "current_role"}).merge(
            pd.DataFrame({"role": roles}), how="cross")
        grid = grid[grid["role"] != grid["current_role"]]
        dest = grid.merge(dest, on=["person", "current_role", "role"], how="left")
        dest["relation"] = dest["relation"].fillna("not on path")
    dest = dest.reset_index(drop=True)
    dest["case"] = np.arange(len(dest))

    rho, rho_note = _rho_frame(scores, skill_error_corr, sc, variance_components)
    long = dest[["case", "person", "role"]].merge(fw, on="role")
    long = long.merge(sc[["person", "skill", "score", "se"]], on=["person", "skill"],
                      how="left")
    gains = plan_gains(plans) if plans is not None else None
    if gains is not None:
        long = long.merge(gains, on=["person", "skill"], how="left")
    else:
        long = long.assign(gain=np.nan, gain_se=np.nan)
    long = long.sort_values(["case", "skill"], kind="stable").reset_index(drop=True)
    long["slot"] = long.groupby("case").cumcount()
    k = int(long["slot"].max()) + 1 if len(long) else 1
    arr = _padded(long, dest, k)
    rho_case = (dest["person"].map(rho).fillna(0.0).to_numpy(float)
                if isinstance(rho, pd.Series) else np.full(len(dest), 0.0 if rho is None
                                                           else rho))
    p_now = readiness_probability(arr["score"], arr["se"], arr["required_level"], rho=rho_case)
    p_later = (readiness_probability(arr["score"], arr["se"], arr["required_level"],
                                     rho=rho_case, gain=arr["gain"], gain_se=arr["gain_se"])
               if gains is not None else np.full(len(dest), np.nan))

    post, prior_note = _mixture_prior(scores, sc, variance_components, skill_prior)
    mix = (_mixture_probabilities(post, dest, long, k, gains is not None) if post is not None
           else None)
    if mix is not None:
        p_now = np.where(np.isnan(mix["now"]), p_now, mix["now"])
        if gains is not None:
            p_later = np.where(np.isnan(mix["horizon"]), p_later, mix["horizon"])

    gap = long["required_level"] - long["score"]
    with np.errstate(divide="ignore", invalid="ignore"):
        zs = np.where(long["se"] > 0, -gap / long["se"], np.where(gap <= 0, np.inf, -np.inf))
        zh = (-gap + long["gain"].fillna(0)) / np.sqrt(long["se"] ** 2
                                                       + long["gain_se"].fillna(0) ** 2)
    skill_gaps = long.assign(
        gap=gap, weighted_gap=long["weight"] * gap.clip(lower=0),
        p_meet=np.where(long["score"].notna(), ndtr(zs), np.nan),
        p_meet_horizon=ndtr(zh) if gains is not None else np.nan,
    )[["person", "role", "skill", "required_level", "weight", "score", "se", "gap",
       "weighted_gap", "p_meet", "gain", "gain_se", "p_meet_horizon"]]
    if mix is not None:
        skill_gaps["p_meet"] = np.where(np.isnan(mix["meet"]), skill_gaps["p_meet"],
                                        mix["meet"])
        if gains is not None:
            skill_gaps["p_meet_horizon"] = np.where(np.isnan(mix["meet_horizon"]),
                                                    skill_gaps["p_meet_horizon"],
                                                    mix["meet_horizon"])
    per = long.assign(below=(gap > 0).astype(int), wgap=long["weight"] * gap.clip(lower=0),
                      unscored=long["score"].isna()).groupby("case").agg(
        n_skills=("skill", "size"), n_below=("below", "sum"), weighted_gap=("wgap", "sum"),
        unscored=("unscored", "any"))
    out = dest.join(per, on="case")
    out["n_skills"] = out["n_skills"].fillna(0).astype(int)
    out = out.assign(p_ready=p_now, p_ready_horizon=p_later,
                     point_ready=(out["n_below"] == 0) & ~out["unscored"].fillna(True).astype(
                         bool),
                     skill_error_corr=rho_case)
    out["band"] = _bands(out, probability, gains is not None)
    out = out.drop(columns=["case", "unscored"])
    settings = {"probability": probability, "alpha": alpha, "wave": wave,
                "skill_error_corr": rho_note, "skill_prior": prior_note,
                "plans": plans is not None,
                "roles": roles, "paths": paths is not None}
    return out.reset_index(drop=True), skill_gaps, settings


def _bands(frame, probability, with_plans):
    band = np.where(frame["p_ready"] >= probability, "ready_now",
                    np.where(with_plans & (frame["p_ready_horizon"] >= probability),
                             "ready_in_horizon", "ready_later"))
    band = np.where(frame["relation"] == "not on path", "not_on_path", band)
    return np.where(frame["p_ready"].isna(), "not_assessed", band)
