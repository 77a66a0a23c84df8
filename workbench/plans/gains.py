"""Expected gains: what one completed activity is expected to add to the skill it targets.

The plans close the loop with the impact stage. For each catalog (activity, skill) the
expected gain and its standard error come from, in this order:

1. ``"measured"``: the per-activity effect measured by the impact stage
   (:func:`workbench.impact.pooling.activity_effects`: partially pooled posterior mean and
   SD), given as an ``ImpactResult``, its ``effects_by_activity`` table, or the
   ``effects_by_activity.csv`` it writes (activity, skill, estimate, se[, ci_low, ci_high, n]);
2. ``"catalog"``: the catalog's stated ``expected_gain`` (with ``expected_gain_se`` when given,
   else the default SE below);
3. ``"default"``: a stated conservative default, ``default_gain`` = 0.1 scale points per
   completed activity with ``default_gain_se`` = 0.1 (measured per-activity effects in 360
   programmes are mostly 0.1 to 0.4 points; the default sits at the low end on purpose so that
   a goal never promises more than the weakest evidence supports).

Gains add up over a focus skill's activities (the impact model is additive in completed
activities), so the predicted gain of a plan is ``G = sum_a g_a`` with
``se(G) = sqrt(sum_a se_a^2)`` (effects estimated independently per activity). Gains are
conditional on completing the activities.

Examples
--------
>>> import pandas as pd
>>> cat = pd.DataFrame({"activity": ["A1", "A2"], "skill": "S", "kind": "course",
...                     "level_from": 1, "level_to": 5, "hours": 4, "weeks": 2})
>>> effects = pd.DataFrame({"activity": ["A1"], "skill": ["S"], "estimate": [0.3],
...                         "se": [0.05]})
>>> activity_gains(cat, effects)[["activity", "gain", "gain_source"]].to_dict("records")
[{'activity': 'A1', 'gain': 0.3, 'gain_source': 'measured'}, {'activity': 'A2', 'gain': 0.1, 'gain_source': 'default'}]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

from workbench.checks import check_alpha, check_interval
from workbench.errors import ConfigError, InputError, Problem
from workbench.plans.inputs import catalog_frame

__all__ = ["GAIN_SOURCES", "read_impact", "activity_gains", "predicted_gain_summary",
           "gain_source_text"]

#: Where an expected gain came from, best evidence first.
GAIN_SOURCES = ("measured", "catalog", "default")


def read_impact(impact, *, source="impact") -> pd.DataFrame:
    """Per-activity measured effects from an ImpactResult, a DataFrame or a CSV/Excel file.

    Returns
    -------
    DataFrame
        activity, skill, estimate, se, n (NaN when not given); rows without a finite estimate
        and SE are dropped (activities nobody completed).

    Raises
    ------
    InputError
        A missing column, a value that is not a number or a negative SE (file, row, column).
    """
    if isinstance(impact, str | Path):
        from workbench.tables.data import read_table

        path = Path(impact)
        if not path.exists():
            raise InputError([Problem(str(path), None, None, "impact file not found")])
        frame, source = read_table(path), str(path)
    elif hasattr(impact, "effects_by_activity"):
        frame = impact.effects_by_activity
    elif isinstance(impact, pd.DataFrame):
        frame = impact
    else:
        raise ConfigError(f"impact: expected an ImpactResult, a DataFrame or a file, got "
                          f"{type(impact).__name__}")
    frame = frame.rename(columns={c: str(c).strip().lower() for c in frame.columns})
    if "n" not in frame and "n_completed" in frame:
        frame = frame.rename(columns={"n_completed": "n"})
    missing = [c for c in ("activity", "skill", "estimate", "se") if c not in frame]
    if missing:
        raise InputError([Problem(source, None, missing[0],
                                  f"missing column(s) {', '.join(missing)}; per-activity "
                                  "effects have activity, skill, estimate, se")])
    out = frame[["activity", "skill"]].astype(str).copy()
    problems = []
    for col in ("estimate", "se") + (("n",) if "n" in frame else ()):
        raw = frame[col]
        values = pd.to_numeric(raw.replace("", np.nan), errors="coerce")
        bad = values.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
        for i in np.flatnonzero(bad.to_numpy())[:25]:
            problems.append(Problem(source, int(i) + 2, col, f"{col} is not a number",
                                    str(raw.iloc[i])))
        out[col] = values.to_numpy(float)
    negative = np.flatnonzero((out["se"] < 0).to_numpy())
    for i in negative[:25]:
        problems.append(Problem(source, int(i) + 2, "se", "standard error is negative",
                                str(out["se"].iloc[i])))
    if problems:
        raise InputError(problems)
    if "n" not in out:
        out["n"] = np.nan
    ok = np.isfinite(out["estimate"]) & np.isfinite(out["se"])
    dup = out[ok].duplicated(["activity", "skill"])
    if dup.any():
        first = out[ok][dup].iloc[0]
        raise InputError([Problem(source, None, "activity",
                                  "more than one effect per activity and skill",
                                  f"{first['activity']}, {first['skill']}")])
    return out[ok].reset_index(drop=True)


def activity_gains(catalog, impact=None, *, default_gain=0.1, default_gain_se=0.1):
    """Expected gain of every catalog (activity, skill), with its SE and where it came from.

    Parameters
    ----------
    catalog : DataFrame
        The catalog (``expected_gain`` and ``expected_gain_se`` optional).
    impact : ImpactResult, DataFrame, path or None
        Measured per-activity effects (see :func:`read_impact`).
    default_gain, default_gain_se : float
        The stated conservative default (see the module docstring).

    Returns
    -------
    DataFrame
        activity, skill, gain, gain_se, gain_source ("measured", "catalog", "default"), n
        (people behind a measured effect).
    """
    default_gain = check_interval("default_gain", default_gain, low=0, high=5)
    default_gain_se = check_interval("default_gain_se", default_gain_se, low=0, high=5)
    cat = catalog_frame(catalog).drop_duplicates(["activity", "skill"])
    out = cat[["activity", "skill"]].astype(str).copy()
    out["gain"] = default_gain
    out["gain_se"] = default_gain_se
    out["gain_source"] = "default"
    out["n"] = np.nan
    stated = np.isfinite(cat["expected_gain"].to_numpy(float))
    out.loc[stated, "gain"] = cat["expected_gain"].to_numpy(float)[stated]
    stated_se = cat["expected_gain_se"].to_numpy(float)
    out.loc[stated, "gain_se"] = np.where(np.isfinite(stated_se), stated_se,
                                          default_gain_se)[stated]
    out.loc[stated, "gain_source"] = "catalog"
    if impact is not None:
        measured = read_impact(impact).set_index(["activity", "skill"])
        keys = pd.MultiIndex.from_frame(out[["activity", "skill"]])
        hit = keys.isin(measured.index)
        rows = measured.reindex(keys[hit])
        out.loc[hit, "gain"] = rows["estimate"].to_numpy()
        out.loc[hit, "gain_se"] = rows["se"].to_numpy()
        out.loc[hit, "n"] = rows["n"].to_numpy()
        out.loc[hit, "gain_source"] = "measured"
    return out.reset_index(drop=True)


def predicted_gain_summary(focus, *, alpha=0.05) -> pd.DataFrame:
    """Average predicted gain per focus skill across the plans, with its SE and interval.

    The average of ``G_i = sum_a c_ia g_a`` over the N planned focus skills is
    ``sum_a (n_a / N) g_a`` with ``n_a`` the times activity a is planned; its SE is
    ``sqrt(sum_a (n_a / N)^2 se_a^2)`` (the uncertainty of the measured effects; person-level
    change noise is not in it).

    Parameters
    ----------
    focus : DataFrame
        The plans' focus table with ``expected_gain`` and the ``activity_gains`` detail, or the
        plans table (person, skill, activity, gain, gain_se).

    Returns
    -------
    DataFrame
        One row: estimate, se, ci_low, ci_high, n (focus skills with at least one activity).
    """
    alpha = check_alpha(alpha)
    need = {"person", "skill", "activity", "gain", "gain_se"}
    if not need <= set(focus.columns):
        raise ConfigError(f"predicted_gain_summary: needs columns {sorted(need)}")
    rows = focus.dropna(subset=["activity"])
    n = rows[["person", "skill"]].drop_duplicates().shape[0]
    cols = ["estimate", "se", "ci_low", "ci_high", "n"]
    if n == 0:
        return pd.DataFrame([[np.nan, np.nan, np.nan, np.nan, 0]], columns=cols)
    per = rows.groupby(["activity", "skill"]).agg(k=("person", "size"), g=("gain", "first"),
                                                  s=("gain_se", "first"))
    weight = per["k"].to_numpy(float) / n
    estimate = float(np.sum(weight * per["g"].to_numpy(float)))
    se = float(np.sqrt(np.sum((weight * per["s"].to_numpy(float)) ** 2)))
    z = norm.ppf(1 - alpha / 2)
    return pd.DataFrame([[estimate, se, estimate - z * se, estimate + z * se, n]], columns=cols)


def gain_source_text(sources, *, default_gain=0.1, default_gain_se=0.1) -> str:
    """One sentence saying where a plan's expected gains came from (for the person page).

    Examples
    --------
    >>> gain_source_text(["measured", "default"])
    'Expected gains: measured effects of these activities in this organisation (impact analysis); a conservative default of 0.1 points per activity (SE 0.1) where nothing was measured or stated.'
    """
    seen = [s for s in GAIN_SOURCES if s in set(sources)]
    if not seen:
        return "No activity is planned, so no gain is expected from activities."
    text = {
        "measured": "measured effects of these activities in this organisation (impact "
                    "analysis)",
        "catalog": "the learning catalog's stated expected gain",
        "default": f"a conservative default of {default_gain:g} points per activity (SE "
                   f"{default_gain_se:g})" + (" where nothing was measured or stated"
                                              if len(seen) > 1 else
                                              ", because no measured effect or catalog figure "
                                              "was available"),
    }
    return "Expected gains: " + "; ".join(text[s] for s in seen) + "."
