"""Business outcomes: the outcomes table, criterion validity of the 360, and leaving as a
survival outcome.

**Outcomes table** (``outcomes.csv``): person, metric, value, date and/or period,
higher_is_better. :func:`check_outcomes` lists every problem at once (file, row, column,
value): a metric whose rows state both directions, a person not in the people file, a value
that is not a number, and, when the first assessment's date is given, a metric with no outcome
after it (nothing later to predict).

**Criterion validity** (:func:`criterion_validity`): per metric and skill (and ``overall``, the
mean of the person's skills), the Pearson correlation of the scores of the latest wave before
the outcome with the first outcome after the assessment, with a Fisher-z interval, for the
calibrated scores and for the raw averages; the incremental validity of calibrated over raw is
the gain in R^2 when the calibrated score joins the raw average in a linear regression
(F test, its p_value). Disattenuated correlations are ``r / sqrt(rel)`` with the score's
reliability ``rel``: for a BLUP (shrunken, its error uncorrelated with the BLUP)
``corr(true, y) / corr(BLUP, y) = sd(true) / sd(BLUP)``, so ``rel = var(score) / (var(score) +
mean(se^2))``; for a raw mean (classical error, uncorrelated with the truth) ``rel = 1 -
mean(se^2) / var(score)`` (the raw SE ignores that raters differ, so this overstates the raw
reliability). The outcome's own reliability is taken as 1 (stated: it is not known from the data). A metric with ``higher_is_better = False`` is
correlated as recorded (a negative correlation is good).

**Leaving** (:func:`leaving_model`) is a time-to-event outcome: time from the first assessment
to leaving, censored at the data's end for people who have not left (the last date in the
outcomes, or ``end``). A Cox proportional-hazards model (``statsmodels`` ``PHReg``, Efron's
ties) of the hazard on the person's standardised overall score; not a regression on a 0/1
column, which would ignore when people left and who could still leave. Checked against
lifelines' ``CoxPHFitter`` in tests/progression/test_outcomes.py.

Examples
--------
>>> import pandas as pd
>>> o = pd.DataFrame({"person": ["a", "b"], "metric": "sales", "value": [1.0, 2.0],
...                   "higher_is_better": [True, False]})
>>> check_outcomes(o)
Traceback (most recent call last):
...
workbench.errors.InputError: 1 error(s):
  ERROR   outcomes, row 3, column 'higher_is_better': metric 'sales' is stated both higher-is-better and lower-is-better (value: 'False')
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from workbench.checks import check_alpha
from workbench.errors import ConfigError, InputError, ModelError, Problem
from workbench.tables.scores import as_scores

__all__ = ["check_outcomes", "criterion_validity", "leaving_model", "LEAVING"]

#: The metric name of a leaving event.
LEAVING = "left"


def _source(frame, default):
    return str(frame.attrs.get("file", default))


def _flag(value):
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return str(value).strip().lower() in ("true", "yes", "y", "1", "1.0")


def check_outcomes(outcomes, *, people=None, first_assessment=None,
                   source="outcomes") -> pd.DataFrame:
    """Check an outcomes table; return person, metric, value, date, period, higher_is_better.

    Parameters
    ----------
    outcomes : DataFrame
        person, metric, value[, date, period, higher_is_better].
    people : DataFrame, optional
        Outcomes of people not in it are errors.
    first_assessment : date-like, optional
        A metric with no outcome dated after it is an error (nothing later to predict).

    Raises
    ------
    InputError
        Every problem at once (module docstring).
    """
    if not isinstance(outcomes, pd.DataFrame):
        raise ConfigError(f"outcomes: expected a DataFrame, got {type(outcomes).__name__}")
    source = _source(outcomes, source)
    missing = [c for c in ("person", "metric", "value") if c not in outcomes]
    if missing:
        raise InputError([Problem(source, None, missing[0],
                                  f"missing column(s) {', '.join(missing)}")])
    frame = outcomes.copy()
    frame["person"] = frame["person"].astype(str).str.strip()
    frame["metric"] = frame["metric"].astype(str).str.strip()
    value = pd.to_numeric(frame["value"], errors="coerce")
    problems = [Problem(source, int(i) + 2, "value", "value is not a number",
                        str(frame.at[i, "value"])) for i in frame.index[value.isna()]]
    frame["value"] = value
    flags = (frame["higher_is_better"].map(_flag) if "higher_is_better" in frame
             else pd.Series(None, index=frame.index, dtype=object))
    for metric, group in frame.groupby("metric", sort=True):
        stated = flags[group.index].dropna()
        if stated.nunique() > 1:
            first = stated.iloc[0]
            for i in stated.index[stated != first]:
                problems.append(Problem(
                    source, int(i) + 2, "higher_is_better",
                    f"metric {metric!r} is stated both higher-is-better and lower-is-better",
                    str(frame.at[i, "higher_is_better"])))
    frame["higher_is_better"] = flags.groupby(frame["metric"]).transform(
        lambda s: s.dropna().iloc[0] if s.notna().any() else True).astype(bool)
    frame["date"] = pd.to_datetime(frame["date"], errors="coerce") if "date" in frame else pd.NaT
    if "period" not in frame:
        frame["period"] = None
    if people is not None:
        known = set(people["person"].astype(str))
        for i in frame.index[~frame["person"].isin(known)][:25]:
            problems.append(Problem(source, int(i) + 2, "person", "person is not in the people "
                                    "file", frame.at[i, "person"]))
    if first_assessment is not None:
        start = pd.Timestamp(first_assessment)
        for metric, group in frame.groupby("metric", sort=True):
            if not (group["date"] > start).any():
                problems.append(Problem(
                    source, int(group.index[0]) + 2, "date",
                    f"metric {metric!r} has no outcome after the first assessment "
                    f"({start:%Y-%m-%d}): nothing later to predict", metric))
    if problems:
        raise InputError(problems)
    return frame[["person", "metric", "value", "date", "period",
                  "higher_is_better"]].reset_index(drop=True)


def _fisher(r, n, alpha):
    z = np.arctanh(np.clip(r, -0.999999, 0.999999))
    half = stats.norm.ppf(1 - alpha / 2) / np.sqrt(np.maximum(n - 3, 1))
    return np.tanh(z - half), np.tanh(z + half)


def _reliability(frame, blup):
    var = frame["score"].var()
    err = np.nanmean(frame["se"].to_numpy(float) ** 2)
    if not (np.isfinite(err) and var > 0):
        return np.nan
    return float(var / (var + err)) if blup else float(max(1 - err / var, 1e-6))


def _wide(scores):
    sc = as_scores(scores, wave="latest")
    sc = sc.assign(person=sc["person"].astype(str))
    overall = sc.groupby("person", as_index=False).agg(score=("score", "mean"),
                                                       se=("se", lambda s: np.sqrt(
                                                           (s**2).mean() / len(s))))
    return pd.concat([sc[["person", "skill", "score", "se"]],
                      overall.assign(skill="overall")], ignore_index=True), sc


def _first_after(outcomes, start):
    later = outcomes if start is None else outcomes[outcomes["date"] > pd.Timestamp(start)]
    later = later[later["metric"] != LEAVING].sort_values(["person", "metric", "date"])
    return later.groupby(["person", "metric"], as_index=False).first()


def criterion_validity(scores, outcomes, *, raw=None, after=None, alpha=0.05) -> pd.DataFrame:
    """How well calibrated scores and raw averages predict later outcomes.

    Parameters
    ----------
    scores : Calibration, DataFrame or path
        Calibrated scores (the latest wave is used).
    outcomes : DataFrame
        Checked by :func:`check_outcomes`.
    raw : DataFrame, optional
        Raw averages in the scores contract
        (:func:`workbench.tables.scores.raw_scores`); without it only calibrated rows.
    after : date-like, optional
        Use each person's first outcome after this date (the first assessment).
    alpha : float

    Returns
    -------
    DataFrame
        metric, skill ("overall" for the mean of the skills), scores ("calibrated" or
        "raw"), estimate (Pearson r), ci_low, ci_high (Fisher z), p_value, n, reliability,
        disattenuated (with disattenuated_ci_low, disattenuated_ci_high: the interval scaled by
        the same factor, the reliability taken as known), incremental_r2 and
        incremental_p_value (calibrated rows: R^2 gained
        over the raw average, F test).
    """
    alpha = check_alpha(alpha)
    outcomes = check_outcomes(outcomes)
    target = _first_after(outcomes, after)
    sets = {"calibrated": _wide(scores)[0]}
    if raw is not None:
        sets["raw"] = _wide(raw)[0]
    rows = []
    for metric, ys in target.groupby("metric", sort=True):
        y = ys.set_index("person")["value"]
        for name, wide in sets.items():
            blup = name == "calibrated" and _is_blup(scores)
            for skill, group in wide.groupby("skill", sort=True):
                g = group.set_index("person").join(y.rename("y"), how="inner").dropna(
                    subset=["score", "y"])
                n = len(g)
                if n < 4 or g["score"].std() == 0:
                    continue
                r, p = stats.pearsonr(g["score"], g["y"])
                low, high = _fisher(r, n, alpha)
                rel = _reliability(g, blup)
                factor = 1 / np.sqrt(rel)
                rows.append({"metric": metric, "skill": skill, "scores": name,
                             "estimate": float(r), "ci_low": float(low),
                             "ci_high": float(high), "p_value": float(p), "n": n,
                             "reliability": rel, "disattenuated": float(r * factor),
                             "disattenuated_ci_low": float(np.clip(low * factor, -1, 1)),
                             "disattenuated_ci_high": float(np.clip(high * factor, -1, 1))})
    out = pd.DataFrame(rows)
    if raw is not None and len(out):
        out = _incremental(out, sets, target)
    return out


def _is_blup(scores):
    if hasattr(scores, "variance_components"):
        return True
    frame = scores if isinstance(scores, pd.DataFrame) else None
    return frame is not None and "estimator" in frame and (frame["estimator"] == "blup").all()


def _incremental(out, sets, target):
    cal, raw = sets["calibrated"], sets["raw"]
    extra = []
    for (metric, skill), _ in out[out["scores"] == "calibrated"].groupby(["metric", "skill"]):
        y = target[target["metric"] == metric].set_index("person")["value"]
        both = (cal[cal["skill"] == skill].set_index("person")["score"].rename("c").to_frame()
                .join(raw[raw["skill"] == skill].set_index("person")["score"].rename("r"),
                      how="inner").join(y.rename("y"), how="inner").dropna())
        n = len(both)
        if n < 5:
            continue
        r2_raw = np.corrcoef(both["r"], both["y"])[0, 1] ** 2
        X = np.column_stack([np.ones(n), both["r"], both["c"]])
        beta, *_ = np.linalg.lstsq(X, both["y"].to_numpy(), rcond=None)
        resid = both["y"].to_numpy() - X @ beta
        r2_full = 1 - resid @ resid / ((both["y"] - both["y"].mean()) ** 2).sum()
        f = (r2_full - r2_raw) / ((1 - r2_full) / (n - 3))
        extra.append({"metric": metric, "skill": skill, "scores": "calibrated",
                      "incremental_r2": float(r2_full - r2_raw),
                      "incremental_p_value": float(stats.f.sf(f, 1, n - 3))})
    if not extra:
        return out.assign(incremental_r2=np.nan, incremental_p_value=np.nan)
    return out.merge(pd.DataFrame(extra), on=["metric", "skill", "scores"], how="left")


def leaving_model(scores, outcomes, *, start, end=None, covariate=None, alpha=0.05):
    """Cox model of the time to leaving on the standardised overall score.

    Parameters
    ----------
    scores : Calibration, DataFrame or path
        The scores (the person's mean over skills of the latest wave, standardised).
    outcomes : DataFrame
        With ``metric == "left"`` rows dated the day of leaving.
    start : date-like
        The first assessment: time zero.
    end : date-like, optional
        The data's end (censoring date); default the last date in the outcomes.
    covariate : Series, optional
        person -> value to use instead of the scores (e.g. a known truth in tests).

    Returns
    -------
    DataFrame
        One row: term, estimate (log hazard ratio per SD), se, ci_low, ci_high, p_value, n,
        n_events, hazard_ratio.
    """
    from statsmodels.duration.hazard_regression import PHReg

    alpha = check_alpha(alpha)
    outcomes = check_outcomes(outcomes)
    start = pd.Timestamp(start)
    end = pd.Timestamp(end) if end is not None else outcomes["date"].max()
    if covariate is None:
        wide, _ = _wide(scores)
        covariate = wide[wide["skill"] == "overall"].set_index("person")["score"]
    x = (covariate - covariate.mean()) / covariate.std()
    left = outcomes[outcomes["metric"] == LEAVING].groupby("person")["date"].min()
    frame = pd.DataFrame({"x": x})
    frame["date"] = left.reindex(frame.index)
    frame["event"] = (frame["date"].notna() & (frame["date"] <= end)).astype(int)
    frame["time"] = np.where(frame["event"] == 1, (frame["date"] - start).dt.days,
                             (end - start).days).astype(float)
    frame = frame[frame["time"] > 0].dropna(subset=["x"])
    if frame["event"].sum() < 2:
        raise ModelError("leaving_model: fewer than two leaving events; the hazard cannot be "
                         "estimated")
    fit = PHReg(frame["time"].to_numpy(), frame[["x"]].to_numpy(),
                status=frame["event"].to_numpy(), ties="efron").fit()
    b, se = float(fit.params[0]), float(fit.bse[0])
    z = stats.norm.ppf(1 - alpha / 2)
    return pd.DataFrame([{"term": "overall score (per SD)", "estimate": b, "se": se,
                          "ci_low": b - z * se, "ci_high": b + z * se,
                          "p_value": float(2 * stats.norm.sf(abs(b / se))), "n": len(frame),
                          "n_events": int(frame["event"].sum()), "hazard_ratio": np.exp(b)}])
