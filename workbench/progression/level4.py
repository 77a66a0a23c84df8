"""Learning impact at level 4: did trained people's outcomes change more than comparable
untrained people's, per activity, and how much of it runs through the skill gain.

**Outcome panel** (:func:`outcome_panel`): per person and metric, ``pre`` (the last outcome on
or before ``pre_before``, the first assessment) and ``post`` (the first outcome after
``post_after``, the second assessment), the activities completed between them
(``completed_activities``: enrollments completed that started after ``pre_before`` and ended
by ``post_after``) and ``trained``. Its columns are those of
:func:`workbench.impact.panel.prepare_panel` with the metric in the ``skill`` column, so the
impact stage's estimators run on it unchanged: :func:`workbench.impact.did_effects` (trained
against untrained, random-intercept DiD) and :func:`workbench.impact.ancova_effects`.

**Per activity** (:func:`outcome_effects`): per metric, the difference-in-differences
regression ``post - pre ~ 1 + sum_a completed_a`` (one indicator per activity; effects add up;
classical OLS SEs) gives raw estimates, which are partially pooled across the activities of a
metric by :func:`workbench.impact.pool_effects` (one prior mean per activity kind, the
uncertainty of the between-activity variance integrated out), as the skill effects are. DiD,
not ANCOVA, because people are sent to training on how they look, which the pre outcome
measures only noisily: conditioning on it leaves the selection in (Lord's paradox); the change
removes everything stable about a person. Assumption: parallel trends (without training the
trained would have changed like the untrained).

**Mediation** (:func:`outcome_mediation`): with ``dm`` the change of the person's mean
skill score and ``dy`` the outcome's change, two regressions on the trained indicator ``t``:
``dm = a t + e1`` and ``dy = c' t + b dm + e2``; indirect (through the skill gain) ``a b``
with a delta-method (Sobel) SE, direct ``c'``, total ``c' + a b``. Assumptions, stated with the
result: no unmeasured confounder of the skill change and the outcome change (training is
not randomised, so neither path is causal beyond the DiD design), the skill change measured
without error (calibrated score changes carry error, which biases ``b`` towards 0 and so the
indirect share down).

Examples
--------
>>> import pandas as pd
>>> o = pd.DataFrame({"person": ["a", "a", "b", "b"], "metric": "sales",
...                   "value": [1.0, 2.0, 1.5, 1.5],
...                   "date": ["2025-12-01", "2026-09-01"] * 2})
>>> e = pd.DataFrame({"person": ["a"], "activity": ["X"], "start": ["2026-02-01"],
...                   "end": ["2026-03-01"], "completed": [True]})
>>> p = outcome_panel(o, e, pre_before="2026-01-01", post_after="2026-07-01")
>>> p[["person", "skill", "pre", "post", "trained"]].to_dict("records")
[{'person': 'a', 'skill': 'sales', 'pre': 1.0, 'post': 2.0, 'trained': True}, {'person': 'b', 'skill': 'sales', 'pre': 1.5, 'post': 1.5, 'trained': False}]
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from workbench.checks import check_alpha
from workbench.errors import ConfigError
from workbench.impact.pooling import pool_effects
from workbench.progression.outcomes import LEAVING, check_outcomes
from workbench.tables.scores import as_scores

__all__ = ["outcome_panel", "outcome_effects", "outcome_mediation"]


def outcome_panel(outcomes, enrollments, *, pre_before, post_after, people=None):
    """Pre and post outcome per person and metric, with the activities completed between.

    Returns
    -------
    DataFrame
        person, skill (the metric), pre, post, trained, included (both outcomes present),
        completed_activities (tuple), and team, role, level from ``people`` when given.
    """
    out = check_outcomes(outcomes)
    out = out[(out["metric"] != LEAVING) & out["date"].notna()]
    pre_before, post_after = pd.Timestamp(pre_before), pd.Timestamp(post_after)
    if post_after <= pre_before:
        raise ConfigError(f"post_after={post_after:%Y-%m-%d}: must be after pre_before "
                          f"({pre_before:%Y-%m-%d})")
    pre = (out[out["date"] <= pre_before].sort_values("date")
           .groupby(["person", "metric"])["value"].last().rename("pre"))
    post = (out[out["date"] > post_after].sort_values("date")
            .groupby(["person", "metric"])["value"].first().rename("post"))
    panel = pd.concat([pre, post], axis=1).reset_index().rename(columns={"metric": "skill"})
    enr = enrollments.assign(person=enrollments["person"].astype(str),
                             start=pd.to_datetime(enrollments["start"]),
                             end=pd.to_datetime(enrollments["end"]))
    done = enr[enr["completed"].astype(bool) & (enr["start"] > pre_before)
               & (enr["end"] <= post_after)]
    acts = done.groupby("person")["activity"].agg(lambda a: tuple(sorted(map(str, set(a)))))
    panel["completed_activities"] = panel["person"].map(acts).map(
        lambda v: v if isinstance(v, tuple) else ())
    panel["trained"] = panel["completed_activities"].map(len) > 0
    panel["included"] = panel["pre"].notna() & panel["post"].notna()
    if people is not None:
        extra = [c for c in ("team", "role", "level") if c in people.columns]
        panel = panel.merge(people[["person", *extra]].assign(
            person=people["person"].astype(str)), on="person", how="left")
    return panel


def outcome_effects(panel, catalog, *, alpha=0.05) -> pd.DataFrame:
    """Per-activity effects on each outcome metric: DiD regression, partially pooled.

    Parameters
    ----------
    panel : DataFrame
        From :func:`outcome_panel`.
    catalog : DataFrame
        activity[, kind, title]: the activities (kind: the pooling's prior groups).

    Returns
    -------
    DataFrame
        metric, activity, n (people who completed it), raw_estimate, raw_se, p_value (t test
        of the raw estimate), estimate (posterior mean), se, ci_low, ci_high (posterior
        interval), shrinkage.
    """
    alpha = check_alpha(alpha)
    kinds = (catalog.drop_duplicates("activity").set_index("activity")["kind"].astype(str)
             if "kind" in catalog.columns else None)
    acts = sorted(catalog["activity"].astype(str).unique())
    rows = []
    for metric, d in panel[panel["included"]].groupby("skill", sort=True):
        done = d["completed_activities"]
        X = pd.DataFrame({a: done.map(lambda ids, a=a: a in ids).astype(float) for a in acts},
                         index=d.index)
        used = [a for a in acts if X[a].sum() > 0]
        if not used or (~d["trained"]).sum() < 2:
            continue
        fit = sm.OLS((d["post"] - d["pre"]).to_numpy(float),
                     sm.add_constant(X[used], has_constant="add")).fit()
        part = pd.DataFrame({"metric": metric, "activity": used,
                             "n": [int(X[a].sum()) for a in used],
                             "raw_estimate": fit.params[used].to_numpy(),
                             "raw_se": fit.bse[used].to_numpy(),
                             "p_value": fit.pvalues[used].to_numpy()})
        groups = None if kinds is None else [kinds.get(a, "other") for a in used]
        pooled = pool_effects(part["raw_estimate"], part["raw_se"], groups, alpha=alpha)
        part = part.assign(estimate=pooled["posterior"], se=pooled["posterior_sd"],
                           ci_low=pooled["ci_low"], ci_high=pooled["ci_high"],
                           shrinkage=pooled["shrinkage"])
        rows.append(part)
    cols = ["metric", "activity", "n", "raw_estimate", "raw_se", "p_value", "estimate", "se",
            "ci_low", "ci_high", "shrinkage"]
    return pd.concat(rows, ignore_index=True)[cols] if rows else pd.DataFrame(columns=cols)


def _mean_change(scores, mediator):
    if mediator is not None:
        return mediator.rename("dm")
    sc = as_scores(scores)
    if "wave" not in sc.columns or sc["wave"].nunique() < 2:
        raise ConfigError("outcome_mediation: the scores need two waves (or give mediator=)")
    waves = sorted(sc["wave"].unique())[-2:]
    mean = sc[sc["wave"].isin(waves)].groupby(["person", "wave"])["score"].mean().unstack()
    return (mean[waves[1]] - mean[waves[0]]).rename("dm")


def outcome_mediation(panel, scores=None, *, mediator=None, alpha=0.05) -> pd.DataFrame:
    """How much of training's effect on each outcome runs through the skill gain.

    Parameters
    ----------
    panel : DataFrame
        From :func:`outcome_panel`.
    scores : scores with two waves, optional
        The mediator is the change of each person's mean skill score between the last two
        waves.
    mediator : Series, optional
        person -> mediator change to use instead (e.g. a known truth).

    Returns
    -------
    DataFrame
        metric, effect ("indirect", "direct", "total"), estimate, se, ci_low, ci_high,
        p_value, n. The assumptions are in the module docstring and in ``attrs["assumptions"]``.
    """
    alpha = check_alpha(alpha)
    z = stats.norm.ppf(1 - alpha / 2)
    dm = _mean_change(scores, mediator)
    dm.index = dm.index.astype(str)
    rows = []
    for metric, d in panel[panel["included"]].groupby("skill", sort=True):
        d = d.join(dm, on="person").dropna(subset=["dm"])
        t = d["trained"].astype(float).to_numpy()
        dy = (d["post"] - d["pre"]).to_numpy(float)
        fa = sm.OLS(d["dm"].to_numpy(float), sm.add_constant(t)).fit()
        fb = sm.OLS(dy, sm.add_constant(np.column_stack([t, d["dm"]]))).fit()
        a, sa = fa.params[1], fa.bse[1]
        b, sb = fb.params[2], fb.bse[2]
        c, sc = fb.params[1], fb.bse[1]
        ind, s_ind = a * b, np.sqrt(a**2 * sb**2 + b**2 * sa**2)
        ft = sm.OLS(dy, sm.add_constant(t)).fit()
        for name, est, se in (("indirect", ind, s_ind), ("direct", c, sc),
                              ("total", ft.params[1], ft.bse[1])):
            rows.append({"metric": metric, "effect": name, "estimate": float(est),
                         "se": float(se), "ci_low": float(est - z * se),
                         "ci_high": float(est + z * se),
                         "p_value": float(2 * stats.norm.sf(abs(est / se))), "n": len(d)})
    out = pd.DataFrame(rows, columns=["metric", "effect", "estimate", "se", "ci_low", "ci_high",
                                      "p_value", "n"])
    out.attrs["assumptions"] = (
        "product-of-coefficients mediation on changes (a: training -> skill change; b: skill "
        "change -> outcome change given training); assumes no unmeasured confounder of the "
        "skill and outcome changes and a skill change measured without error (calibrated "
        "changes carry error: b and the indirect share are biased towards 0); training was "
        "not randomised, so the split is descriptive within the comparison of changes of "
        "trained and untrained people (difference-in-differences), not causal")
    return out
