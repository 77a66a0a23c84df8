"""The instrument's own psychometrics: how well each competency's items hang together.

Per competency (``skill``) and relationship (``source``, and ``"others"``: every non-self
rater pooled) the items' answers form a respondents x items table, one row per rater, ratee
(and wave). From it come Cronbach's alpha with Feldt's interval, McDonald's omega total from a
one-factor model with a bootstrap interval, and per item the item-rest correlation, alpha if
the item is dropped, mean, SD, floor and ceiling rates and the "not observed" rate; problems
are flagged in plain words.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> rows = []
>>> for ratee in range(60):
...     level = rng.normal()
...     for rater in range(3):
...         for item in ("q1", "q2", "q3", "q4"):
...             score = np.clip(np.rint(3 + level + rng.normal(scale=0.7)), 1, 5)
...             rows.append((f"p{ratee}", f"r{ratee}_{rater}", "peer", "listening", item, score))
>>> ratings = pd.DataFrame(rows, columns=["ratee", "rater", "source", "skill", "item", "score"])
>>> res = estimate_instrument_reliability(ratings, n_boot=50, g_study=False)
>>> res.scales[["skill", "source", "n_items", "n"]].to_dict("records")
[{'skill': 'listening', 'source': 'peer', 'n_items': 4, 'n': 180}]
>>> bool(res.scales["alpha"].iloc[0] > 0.7)
True
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from workbench.calibration.reliability.one_factor import (
    fit_one_factor,
    fit_one_factor_batch,
    omega_total,
    pairwise_covariance,
    weighted_pairwise_covariance,
)
from workbench.checks import (
    check_alpha,
    check_choice,
    check_integer,
    check_random_state,
    check_scale,
)
from workbench.errors import ConfigError, InputError, Problem
from workbench.results import Result

__all__ = [
    "ALPHA_THRESHOLD",
    "NOT_OBSERVED_THRESHOLD",
    "InstrumentReliability",
    "alpha_statistics",
    "estimate_instrument_reliability",
    "feldt_interval",
    "item_responses",
]

#: A scale whose alpha is below this is flagged.
ALPHA_THRESHOLD = 0.7
#: An item that at least this share of a relationship's raters could not rate is flagged.
NOT_OBSERVED_THRESHOLD = 0.5
OTHERS = "others"
_BOOT_CHUNK = 100  # resamples fitted at once (memory: chunk x rows)
_REQUIRED = ("ratee", "rater", "source", "skill", "item", "score")
_SOURCE_ORDER = ("self", "manager", "peer", "direct_report", "other")


# --------------------------------------------------------------------------------------------
# The long ratings with items, reshaped
# --------------------------------------------------------------------------------------------


def _check_item_ratings(ratings, items) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ratings (score NaN = not observed) and the item table, every problem at once."""
    if not isinstance(ratings, pd.DataFrame):
        raise InputError(f"ratings: expected a DataFrame, got {type(ratings).__name__}")
    missing = [c for c in _REQUIRED if c not in ratings.columns]
    if missing:
        raise InputError([Problem("ratings", None, c, "required column missing (item-level "
                                  "ratings need an 'item' column)") for c in missing])
    frame = ratings[[c for c in (*_REQUIRED, "wave") if c in ratings.columns]].copy()
    if "wave" not in frame.columns:
        frame["wave"] = 1
    for col in ("ratee", "rater", "source", "skill", "item"):
        frame[col] = frame[col].astype(str)
    score = pd.to_numeric(frame["score"], errors="coerce").astype(float)
    problems = [Problem("ratings", int(i) + 2, "score", "not a number", str(v))
                for i, v in frame["score"][score.isna() & frame["score"].notna()].items()]
    frame["score"] = score
    if not score.notna().any() and not problems:
        problems.append(Problem("ratings", None, "score", "no answers (every score missing)"))
    keys = ["ratee", "rater", "wave", "skill", "item"]
    twice = frame.duplicated(keys, keep=False)
    problems += [Problem("ratings", int(i) + 2, "item", "the same rater answered this item for "
                         "this ratee (and wave) more than once", frame.at[i, "item"])
                 for i in frame.index[twice]]
    skills = frame.groupby("item")["skill"].unique()
    problems += [Problem("ratings", None, "item", f"item belongs to several skills "
                         f"({', '.join(sorted(s))})", item)
                 for item, s in skills.items() if len(s) > 1]
    table = _check_items_table(items, frame, problems)
    if problems:
        raise InputError(problems)
    return frame.reset_index(drop=True), table


_YES = {"yes", "y", "true", "1", "reversed", "reverse"}
_NO = {"no", "n", "false", "0", "", "nan", "none"}


def _reversed_column(items: pd.DataFrame, problems: list) -> pd.Series:
    """The reverse-keying flag as booleans (a ``reversed`` or ``reverse`` column, yes/no)."""
    name = "reversed" if "reversed" in items.columns else (
        "reverse" if "reverse" in items.columns else None)
    if name is None:
        return pd.Series(False, index=items.index)
    flags = pd.Series(False, index=items.index)
    for i, value in items[name].items():
        text = str(value).strip().lower()
        if isinstance(value, bool | np.bool_):
            flags[i] = bool(value)
        elif text in _YES:
            flags[i] = True
        elif text not in _NO:
            problems.append(Problem("items", int(i) + 2, name, "not yes or no", str(value)))
    return flags


def _check_items_table(items, frame: pd.DataFrame, problems: list) -> pd.DataFrame:
    """The item table (item, skill, reversed); from the ratings when none is given."""
    if items is None:  # skills in the order of the ratings, items sorted within a skill
        table = frame[["item", "skill"]].drop_duplicates("item").assign(reversed=False)
        order = {s: k for k, s in enumerate(dict.fromkeys(table["skill"]))}
        table = table.assign(_o=table["skill"].map(order)).sort_values(["_o", "item"])
        return table.drop(columns="_o").reset_index(drop=True)
    if not isinstance(items, pd.DataFrame) and isinstance(getattr(items, "items", None),
                                                          pd.DataFrame):
        items = items.items  # a workbench.tables.instrument.Instrument
    elif isinstance(getattr(items, "instrument_items", None), pd.DataFrame):
        items = items.instrument_items  # a SurveyReading: the instrument's rows it read
    if not isinstance(items, pd.DataFrame):
        raise InputError(f"items: expected a DataFrame or an Instrument, got "
                         f"{type(items).__name__}")
    lacking = [c for c in ("item", "skill") if c not in items.columns]
    if lacking:
        problems += [Problem("items", None, c, "required column missing") for c in lacking]
        return pd.DataFrame(columns=["item", "skill", "reversed"])
    table = items[["item", "skill"]].astype(str).copy()
    table["reversed"] = _reversed_column(items, problems)
    rated = frame.drop_duplicates("item").set_index("item")["skill"]
    for i, row in table.iterrows():
        if row["item"] in rated.index and rated[row["item"]] != row["skill"]:
            problems.append(Problem("ratings", None, "skill", f"item {row['item']!r} is under "
                                    f"skill {rated[row['item']]!r} in the ratings but under "
                                    f"{row['skill']!r} in the item table (row {i + 2})",
                                    rated[row["item"]]))
    unknown = sorted(set(rated.index) - set(table["item"]))
    problems += [Problem("ratings", None, "item", "item not in the item table", item)
                 for item in unknown]
    return table.reset_index(drop=True)


def item_responses(ratings: pd.DataFrame, *, skill: str, items: Iterable[str]) -> pd.DataFrame:
    """One skill's answers as a respondents x items table (NaN = not observed).

    A respondent is one rater's answers about one ratee (in one wave).

    Parameters
    ----------
    ratings : DataFrame
        Long ratings: ratee, rater, skill, item, score, [wave].
    skill : str
    items : list of str
        The skill's items, in the order of the columns.

    Returns
    -------
    DataFrame
        Indexed by (ratee, rater, wave), one column per item.

    Examples
    --------
    >>> long = pd.DataFrame({"ratee": ["a", "a", "a"], "rater": ["x", "x", "y"],
    ...                      "skill": "s", "item": ["q1", "q2", "q1"], "score": [4, 5, 3]})
    >>> item_responses(long, skill="s", items=["q1", "q2"]).to_numpy().tolist()
    [[4.0, 5.0], [3.0, nan]]
    """
    sub = ratings[ratings["skill"] == skill]
    if "wave" not in sub.columns:
        sub = sub.assign(wave=1)
    wide = sub.set_index(["ratee", "rater", "wave", "item"])["score"].unstack("item")
    return wide.reindex(columns=list(items)).astype(float)


# --------------------------------------------------------------------------------------------
# Alpha and its interval
# --------------------------------------------------------------------------------------------


def _alpha_of(cov: np.ndarray) -> tuple[float, float]:
    """(raw alpha, standardised alpha) of a covariance matrix, as psych's ``alpha.1``."""
    k = cov.shape[0]
    if k < 2:
        return np.nan, np.nan
    sd = np.sqrt(np.diag(cov))
    corr = cov / np.outer(sd, sd)
    raw = (1.0 - np.trace(cov) / np.sum(cov)) * k / (k - 1.0)
    std = (1.0 - k / np.sum(corr)) * k / (k - 1.0)
    return float(raw), float(std)


def alpha_statistics(values: np.ndarray) -> dict:
    """Cronbach's alpha and the item statistics psych::alpha reports, from pairwise covariances.

    Parameters
    ----------
    values : ndarray (n, k)
        Answers of n respondents to k items; NaN where not observed.

    Returns
    -------
    dict
        ``alpha`` (raw), ``std_alpha`` (from the correlations), ``item_rest`` (each item's
        correlation with the sum of the other items), ``alpha_if_dropped``,
        ``std_alpha_if_dropped`` (arrays over items), ``mean_r`` (mean inter-item correlation),
        ``cov`` and ``corr`` (the pairwise matrices).

    Notes
    -----
    With ``C`` the item covariance matrix over the pairs of answers present (psych's default
    ``use = "pairwise"``) and ``R`` its correlation matrix:

        alpha     = k / (k - 1) (1 - tr C / sum C)
        std alpha = k / (k - 1) (1 - k / sum R)
        item-rest r_j = (sum_i C_ij - C_jj) / sqrt(C_jj sum_{i,l != j} C_il)

    (psych's ``r.drop``); alpha if item j is dropped is alpha of ``C`` without row and column
    j. Equal to psych 2.2.9's ``alpha()`` (raw_alpha, std.alpha, r.drop, alpha.drop) within
    1e-10 on the fixtures in ``tests/fixtures/psych``, with and without missing answers.

    Examples
    --------
    >>> x = np.array([[1, 2, 2], [2, 2, 3], [3, 4, 3], [4, 5, 5], [2, 1, 2]], dtype=float)
    >>> round(alpha_statistics(x)["alpha"], 4)
    0.9388
    """
    values = np.asarray(values, dtype=float)
    cov, _ = pairwise_covariance(values)
    k = cov.shape[0]
    sd = np.sqrt(np.diag(cov))
    corr = cov / np.outer(sd, sd)
    raw, std = _alpha_of(cov)
    keep = [np.arange(k) != j for j in range(k)]
    dropped = [_alpha_of(cov[np.ix_(m, m)]) if k > 2 else (np.nan, np.nan) for m in keep]
    rest = np.array([(cov[:, j].sum() - cov[j, j]) / np.sqrt(cov[j, j] * cov[np.ix_(m, m)].sum())
                     for j, m in enumerate(keep)])
    off = corr[~np.eye(k, dtype=bool)]
    return {"alpha": raw, "std_alpha": std, "item_rest": rest,
            "alpha_if_dropped": np.array([d[0] for d in dropped]),
            "std_alpha_if_dropped": np.array([d[1] for d in dropped]),
            "mean_r": float(np.mean(off)) if off.size else np.nan, "cov": cov, "corr": corr}


def feldt_interval(alpha_value: float, *, n: int, k: int, alpha: float = 0.05) -> tuple:
    """Feldt's confidence interval for Cronbach's alpha (psych's ``alpha.ci``).

    ``1 - (1 - alpha_hat) F`` at the ``1 - a/2`` and ``a/2`` quantiles of the F distribution
    with ``n - 1`` and ``(n - 1)(k - 1)`` degrees of freedom (Feldt, Woodruff & Salih, 1987).

    Examples
    --------
    >>> [round(v, 4) for v in feldt_interval(0.8, n=100, k=5)]
    [0.7306, 0.8559]
    """
    d1, d2 = n - 1.0, (n - 1.0) * (k - 1.0)
    if d1 < 1 or d2 < 1 or not np.isfinite(alpha_value):
        return np.nan, np.nan
    low = 1.0 - (1.0 - alpha_value) * stats.f.ppf(1.0 - alpha / 2.0, d1, d2)
    high = 1.0 - (1.0 - alpha_value) * stats.f.ppf(alpha / 2.0, d1, d2)
    return float(low), float(high)


def _omega_interval(values, fit, *, alpha, n_boot, rng,
                    clusters=None) -> tuple[float, float, int]:
    """Percentile bootstrap over respondents (rows), or over ratees with all their respondents
    (``clusters``: each row's ratee code 0..m-1): every resample's one-factor model fitted at
    once from the full-sample fit (:func:`fit_one_factor_batch`)."""
    if n_boot == 0:
        return np.nan, np.nan, 0
    n = values.shape[0]
    m = n if clusters is None else int(clusters.max()) + 1
    start = np.concatenate([fit.loadings, fit.residuals])
    draws = []
    for first in range(0, n_boot, _BOOT_CHUNK):
        size = min(_BOOT_CHUNK, n_boot - first)
        counts = np.stack([np.bincount(rng.integers(0, m, m), minlength=m)
                           for _ in range(size)])
        if clusters is not None:  # a ratee drawn k times brings each of their rows k times
            counts = counts[:, clusters]
        cov, pairs = weighted_pairwise_covariance(values, counts)
        usable = (np.all(pairs >= 2, axis=(1, 2)) & np.all(np.isfinite(cov), axis=(1, 2))
                  & np.all(np.diagonal(cov, axis1=1, axis2=2) > 0, axis=1))
        if not usable.any():
            continue
        lam, psi, ok = fit_one_factor_batch(cov[usable], n_obs=n, start=start)
        common = lam[ok].sum(axis=1) ** 2
        draws += list(common / (common + psi[ok].sum(axis=1)))
    if len(draws) < max(10, n_boot // 2):
        return np.nan, np.nan, len(draws)
    low, high = np.quantile(draws, [alpha / 2.0, 1.0 - alpha / 2.0])
    return float(low), float(high), len(draws)


# --------------------------------------------------------------------------------------------
# Per scale and per item
# --------------------------------------------------------------------------------------------


def _item_rows(wide: pd.DataFrame, stats_: dict | None, loadings, low, high) -> list[dict]:
    rows = []
    for j, item in enumerate(wide.columns):
        answers = wide[item].to_numpy()
        seen = answers[np.isfinite(answers)]
        rows.append({
            "item": item, "n": int(seen.size),
            "mean": float(seen.mean()) if seen.size else np.nan,
            "sd": float(seen.std(ddof=1)) if seen.size > 1 else np.nan,
            "floor_rate": float(np.mean(seen == low)) if seen.size else np.nan,
            "ceiling_rate": float(np.mean(seen == high)) if seen.size else np.nan,
            "not_observed_rate": 1.0 - seen.size / len(answers) if len(answers) else np.nan,
            "item_rest_r": stats_["item_rest"][j] if stats_ else np.nan,
            "alpha_if_dropped": stats_["alpha_if_dropped"][j] if stats_ else np.nan,
            "loading": loadings[j] if loadings is not None else np.nan,
        })
    return rows


def _scale(wide, *, alpha, n_boot, rng, min_respondents, low, high, resample):
    """The scale's row, its items' rows and its inter-item correlations."""
    values = wide.to_numpy(dtype=float)
    clusters = None
    if resample == "ratees":  # wide is indexed by (ratee, rater, wave)
        clusters = pd.factorize(wide.index.get_level_values("ratee"))[0]
    answered = values[:, np.isfinite(values).sum(axis=0) >= 2]
    row = {"n_items": wide.shape[1], "n": values.shape[0], "alpha": np.nan, "ci_low": np.nan,
           "ci_high": np.nan, "std_alpha": np.nan, "omega": np.nan, "omega_ci_low": np.nan,
           "omega_ci_high": np.nan, "mean_r": np.nan, "n_boot": 0, "note": ""}
    stats_, loadings, corr = None, None, None
    if wide.shape[1] < 2:
        row["note"] = "one item: no internal consistency"
    elif values.shape[0] < min_respondents or answered.shape[1] < wide.shape[1]:
        row["note"] = f"fewer than {min_respondents} respondents or an item never answered"
    else:
        stats_ = alpha_statistics(values)
        corr = stats_["corr"]
        if not np.all(np.isfinite(stats_["cov"])):
            row["note"] = "two items never answered by the same respondent"
            stats_ = None
        else:
            ci = feldt_interval(stats_["alpha"], n=values.shape[0], k=wide.shape[1],
                                alpha=alpha)
            row.update(alpha=stats_["alpha"], ci_low=ci[0], ci_high=ci[1],
                       std_alpha=stats_["std_alpha"], mean_r=stats_["mean_r"])
            if wide.shape[1] < 3:  # 3 covariances, 4 parameters
                row["note"] = "two items: a one-factor model is not identified, no omega"
                return row, _item_rows(wide, stats_, loadings, low, high), corr
            fit = fit_one_factor(stats_["cov"], n_obs=values.shape[0])
            if not fit.converged:
                row["note"] = "the one-factor model did not converge: no omega"
            elif not fit.heywood:
                loadings = fit.loadings
                o_low, o_high, used = _omega_interval(values, fit, alpha=alpha,
                                                      n_boot=n_boot, rng=rng,
                                                      clusters=clusters)
                row.update(omega=omega_total(fit.loadings, fit.residuals),
                           omega_ci_low=o_low, omega_ci_high=o_high, n_boot=used)
            else:
                row["note"] = ("one-factor model improper (a residual variance <= 0): "
                               "no omega")
    return row, _item_rows(wide, stats_, loadings, low, high), corr


def _sources(frame: pd.DataFrame, sources) -> list[str]:
    found = set(frame["source"])
    present = [s for s in _SOURCE_ORDER if s in found] + sorted(found - set(_SOURCE_ORDER))
    if sources is None:
        chosen = present
        if len([s for s in present if s != "self"]) > 1:
            chosen = [*present, OTHERS]
        return chosen
    chosen = [sources] if isinstance(sources, str) else list(sources)
    unknown = [s for s in chosen if s not in present and s != OTHERS]
    if unknown:
        raise ConfigError(f"sources={unknown!r}: not in the ratings (present: "
                          f"{', '.join(present)})")
    return chosen


def _scale_range(scale, frame) -> tuple[float, float]:
    if scale is None:
        seen = frame["score"].dropna()
        return float(seen.min()), float(seen.max())
    return check_scale("scale", scale)


def _not_observed_rates(counts, chosen) -> dict:
    """``{(skill, source, item): n_not_observed / n_responses}`` from the item counts."""
    if counts is None:
        return {}
    needed = ("item", "skill", "source", "n_responses", "n_not_observed")
    if not isinstance(counts, pd.DataFrame) or any(c not in counts.columns for c in needed):
        raise InputError([Problem("item_counts", None, c, "required column missing")
                          for c in needed if not isinstance(counts, pd.DataFrame)
                          or c not in counts.columns])
    counts = counts.astype({"item": str, "skill": str, "source": str})
    rates = {}
    for source in chosen:
        part = (counts[counts["source"] != "self"] if source == OTHERS
                else counts[counts["source"] == source])
        summed = part.groupby(["skill", "item"])[["n_responses", "n_not_observed"]].sum()
        for (skill, item), row in summed.iterrows():
            if row["n_responses"] > 0:
                rates[(skill, source, item)] = row["n_not_observed"] / row["n_responses"]
    return rates


# --------------------------------------------------------------------------------------------
# Flags in plain words
# --------------------------------------------------------------------------------------------

_WHO = {"self": "self-ratings", "manager": "managers", "peer": "peers",
        "direct_report": "direct reports", OTHERS: "all raters other than self"}


def _flags(scales: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for r in scales.itertuples():
        if np.isfinite(r.alpha) and r.alpha < ALPHA_THRESHOLD:
            rows.append({"skill": r.skill, "source": r.source, "item": "", "flag": "low_alpha",
                         "message": f"The items of '{r.skill}' as rated by "
                         f"{_WHO.get(r.source, r.source)} do not hang together well enough to "
                         f"add up to one score: alpha {r.alpha:.2f}, below "
                         f"{ALPHA_THRESHOLD:.2f}."})
    for r in items.itertuples():
        who = _WHO.get(r.source, r.source)
        if np.isfinite(r.item_rest_r) and r.item_rest_r < 0:
            cause = ("It is marked reverse-keyed: check that its answers were reversed."
                     if r.reversed else "A reverse-keyed item not marked as such is the usual "
                     "cause.")
            rows.append({"skill": r.skill, "source": r.source, "item": r.item,
                         "flag": "negative_item_rest",
                         "message": f"Item '{r.item}' of '{r.skill}' runs against the other "
                         f"items as rated by {who} (item-rest correlation "
                         f"{r.item_rest_r:.2f}). {cause}"})
        if np.isfinite(r.not_observed_rate) and r.not_observed_rate >= NOT_OBSERVED_THRESHOLD:
            rows.append({"skill": r.skill, "source": r.source, "item": r.item,
                         "flag": "not_observed",
                         "message": f"{r.not_observed_rate:.0%} of the {who} could not rate "
                         f"item '{r.item}' of '{r.skill}' (answered 'not observed')."})
    return pd.DataFrame(rows, columns=["skill", "source", "item", "flag", "message"])


# --------------------------------------------------------------------------------------------
# The results object and the verb
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InstrumentReliability(Result):
    """The instrument's psychometrics per competency and relationship.

    Attributes
    ----------
    scales : DataFrame
        One row per skill x source: skill, source, n_items, n (respondents: rater-ratee(-wave)
        pairs), alpha (Cronbach's, raw), ci_low, ci_high (Feldt's interval), std_alpha,
        omega (total, one-factor ML), omega_ci_low, omega_ci_high (percentile bootstrap over
        ratees or respondents, ``settings["resample"]``), mean_r (mean inter-item correlation), n_boot (bootstrap samples used),
        note (why a statistic is missing).
    items : DataFrame
        One row per skill x source x item: item, reversed (from the item table), n (answers),
        mean, sd, floor_rate, ceiling_rate (shares of answers at the scale's lowest and
        highest point), not_observed_rate (share of the scale's respondents without an
        answer), item_rest_r (correlation with the sum of the other items), alpha_if_dropped,
        loading (one-factor model).
    flags : DataFrame
        skill, source, item ("" for a whole scale), flag (low_alpha, negative_item_rest,
        not_observed), message (plain words for the client).
    correlations : DataFrame
        skill, source, item_a, item_b, r: the inter-item correlations (pairwise), for
        :func:`~workbench.calibration.reliability.figures.plot_item_correlations`.
    g_study : DStudy-like or None
        The persons x (raters : persons) x items G-study and D-study
        (:func:`~workbench.calibration.reliability.item_facet.item_d_study`), when requested.
    settings : dict
    """

    title = "Instrument reliability (per competency and relationship)"

    scales: pd.DataFrame
    items: pd.DataFrame
    flags: pd.DataFrame
    correlations: pd.DataFrame
    g_study: object = None
    settings: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The scales table."""
        return self.scales.copy()

    def conf_int(self) -> pd.DataFrame:
        """Alpha and omega with their intervals in the package's vocabulary: skill, source,
        statistic ("alpha" or "omega"), estimate, ci_low, ci_high, n."""
        keys = ["skill", "source"]
        alpha = self.scales[[*keys, "alpha", "ci_low", "ci_high", "n"]].rename(
            columns={"alpha": "estimate"}).assign(statistic="alpha")
        omega = self.scales[[*keys, "omega", "omega_ci_low", "omega_ci_high", "n"]].rename(
            columns={"omega": "estimate", "omega_ci_low": "ci_low", "omega_ci_high": "ci_high"}
        ).assign(statistic="omega")
        both = pd.concat([alpha, omega], ignore_index=True)
        return both[[*keys, "statistic", "estimate", "ci_low", "ci_high", "n"]]

    def _sections(self) -> list:
        out = [("Flags", list(self.flags["message"]) or "(none)"),
               ("Scales", self.scales.drop(columns=["n_boot"]))]
        out.append(("Items", self.items))
        if self.g_study is not None:
            out += self.g_study._sections()
        return out

    def _files(self) -> dict:
        files = {"instrument_scales.csv": self.scales, "instrument_items.csv": self.items,
                 "instrument_flags.csv": self.flags,
                 "instrument_correlations.csv": self.correlations}
        if self.g_study is not None:
            files.update(self.g_study._files())
        return files


def estimate_instrument_reliability(
    ratings: pd.DataFrame,
    *,
    items: pd.DataFrame | None = None,
    item_counts: pd.DataFrame | None = None,
    sources: Iterable[str] | str | None = None,
    scale=None,
    alpha: float = 0.05,
    n_boot: int = 500,
    resample: str = "ratees",
    min_respondents: int = 10,
    g_study: bool = True,
    random_state=None,
) -> InstrumentReliability:
    """Alpha, omega, item statistics and flags for every competency and relationship.

    Parameters
    ----------
    ratings : DataFrame
        Long item-level ratings: ratee, rater, source, skill, item, score (NaN = "not
        observed"; reverse-keyed items already reversed), [wave].
    items : DataFrame, Instrument or SurveyReading, optional
        The instrument: item, skill, [reversed or reverse (bool or yes/no)]: a table, a
        :class:`workbench.tables.instrument.Instrument`, or what the survey reader understood
        (``Organisation.survey``). Default: the items found in the ratings, none reversed.
    item_counts : DataFrame, optional
        How many responses reached each item and how many answered "not observed" (item,
        skill, source, wave, n_responses, n_not_observed): ``Organisation.item_counts`` (or
        ``SurveyReading.item_counts``); default ``ratings.attrs["item_counts"]`` if set. With it the
        not-observed rate is ``sum n_not_observed / sum n_responses``; without, it is the share
        of the scale's respondents with no answer (or a NaN score) for the item.
    sources : str or list of str, optional
        Relationships to analyse; default every one present and ``"others"`` (all non-self
        raters pooled) when there are two or more non-self relationships.
    scale : Scale or (min, max), optional
        The rating scale, for floor and ceiling rates; default the lowest and highest score
        in the ratings.
    alpha : float
        1 - confidence level of the intervals.
    n_boot : int
        Bootstrap samples for omega's interval (0: no interval).
    resample : {"ratees", "respondents"}
        What omega's bootstrap draws: ratees with all their raters' answers (default, a
        cluster bootstrap: the raters of one person are not independent), or respondents
        (rows) independently, as for a survey with one respondent per person.
    min_respondents : int
        Scales with fewer respondents get no statistics (a note says why).
    g_study : bool
        Also estimate the persons x raters x items G-study and D-study
        (:func:`~workbench.calibration.reliability.item_facet.item_d_study`).
    random_state : int, Generator or None
        Seed of the bootstrap (None: the package's fixed default).

    Returns
    -------
    InstrumentReliability

    Notes
    -----
    Missing answers: pairwise, as psych::alpha's default (each covariance from the respondents
    who answered both items); Feldt's interval and the one-factor model use N = the number of
    respondents. Alpha, standardised alpha, item-rest correlations and alpha if dropped equal
    psych 2.2.9's; Feldt's interval equals psych's ``$feldt``; loadings, residual variances
    and omega equal lavaan 0.6-14's one-factor ``cfa(std.lv = TRUE)`` fitted to the same
    pairwise covariance matrix (``tests/fixtures/psych``). Omega's interval is a percentile
    bootstrap over ratees (default) or respondents: the raters of one ratee share what they see
    of that person, and on such data the respondent bootstrap covered the true omega far less
    often than its level (tests/calibration/test_instrument_reliability.py); with one
    respondent per ratee the two are the same.
    """
    alpha = check_alpha(alpha)
    n_boot = check_integer("n_boot", n_boot, low=0)
    resample = check_choice("resample", resample, ("respondents", "ratees"))
    min_respondents = check_integer("min_respondents", min_respondents, low=3)
    rng = check_random_state(random_state)
    if item_counts is None and isinstance(ratings, pd.DataFrame):
        item_counts = ratings.attrs.get("item_counts")
    frame, table = _check_item_ratings(ratings, items)
    chosen = _sources(frame, sources)
    counted = _not_observed_rates(item_counts, chosen)
    low, high = _scale_range(scale, frame)
    reversed_ = dict(zip(table["item"], table["reversed"], strict=True))
    order = list(dict.fromkeys(list(table["skill"]) + sorted(frame["skill"].unique())))
    scale_rows, item_rows, corr_rows = [], [], []
    answered = set(frame["item"])
    by_skill = dict(tuple(frame.groupby("skill", sort=False)))
    for skill in order:
        skill_items = [i for i in table.loc[table["skill"] == skill, "item"] if i in answered]
        if not skill_items:
            continue
        part = by_skill[skill]
        for source in chosen:
            sub = (part[part["source"] != "self"] if source == OTHERS
                   else part[part["source"] == source])
            wide = item_responses(sub, skill=skill, items=skill_items)
            if wide.empty:
                continue
            row, rows, corr = _scale(wide, alpha=alpha, n_boot=n_boot, rng=rng,
                                     resample=resample,
                                     min_respondents=min_respondents, low=low, high=high)
            scale_rows.append({"skill": skill, "source": source, **row})
            for r in rows:
                r["not_observed_rate"] = counted.get((skill, source, r["item"]),
                                                     r["not_observed_rate"])
            item_rows += [{"skill": skill, "source": source, "reversed":
                           bool(reversed_.get(r["item"], False)), **r} for r in rows]
            if corr is not None:
                corr_rows += [{"skill": skill, "source": source, "item_a": a, "item_b": b,
                               "r": corr[i, j]} for i, a in enumerate(skill_items)
                              for j, b in enumerate(skill_items)]
    scales = pd.DataFrame(scale_rows)
    items_frame = pd.DataFrame(item_rows)
    if scales.empty:
        raise InputError("ratings: no skill has item-level answers to analyse")
    g = None
    if g_study:
        from workbench.calibration.reliability.item_facet import item_d_study
        g = item_d_study(frame, sources=[s for s in chosen if s != "self"])
    return InstrumentReliability(
        scales=scales, items=items_frame, flags=_flags(scales, items_frame),
        correlations=pd.DataFrame(corr_rows, columns=["skill", "source", "item_a", "item_b",
                                                      "r"]),
        g_study=g,
        settings={"alpha": alpha, "n_boot": n_boot, "min_respondents": min_respondents,
                  "sources": chosen, "scale": [low, high], "missing": "pairwise",
                  "alpha_interval": "Feldt", "omega_interval": "percentile bootstrap",
                  "resample": resample,
                  "random_state": random_state},
    )
