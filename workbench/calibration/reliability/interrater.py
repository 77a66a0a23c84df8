"""Reliability of 360 ratings: ICC(1)/ICC(2) and r_wg agreement per source.

The G-study, D-study and the reliability report are in
:mod:`workbench.calibration.reliability.generalizability`.

Every statistic here works on *unbalanced* 360 designs, where each ratee has a different number
of raters of each source and most raters rate only a few ratees. The rating target is a
ratee's skill in one wave: ratings of different waves are different targets.

Functions take plain long-format frames first (the ratings contract: ratee, rater, source,
skill, score, optional wave) and accept a :class:`workbench.calibration.calibrate.Calibration` (anything with
``.ratings`` and ``.variance_components``) where a fitted model helps.

Examples
--------
>>> from workbench.synth.generator import generate_organisation
>>> from workbench.calibration.reliability.interrater import icc_by_source
>>> org = generate_organisation(120, seed=1, n_waves=1)
>>> icc = icc_by_source(org.ratings, by_skill=False)
>>> bool(icc.set_index("source").loc["peer", "icc1"] > 0)
True
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special

from workbench.errors import ConfigError, InputError, ModelError
from workbench.results import Result

__all__ = [
    "icc_by_source",
    "rwg_by_source",
    "RwgResult",
]

COMPONENTS = ("ratee", "ratee:skill", "rater", "rater:ratee", "residual")
# Optional terms of the calibration model: rater:skill is leniency specific to a skill.
# rater:ratee:skill is a rater's view of the ratee in a skill, shared by the skill's items
# (item-level calibration).
OPTIONAL_COMPONENTS = ("rater:skill", "rater+rater:ratee", "rater:ratee:skill")
OTHERS = "others"  # label of the pooled non-self sources
_REQUIRED = ("ratee", "rater", "source", "skill", "score")


# --------------------------------------------------------------------------------------------
# Input helpers
# --------------------------------------------------------------------------------------------


def is_calibration(obj, needs=("variance_components",)) -> bool:
    """Whether ``obj`` is a fitted calibration: it has ``.ratings`` and every attribute in
    ``needs`` (the reliability statistics need the variance components, the self-other
    agreement the scores)."""
    return hasattr(obj, "ratings") and all(hasattr(obj, name) for name in needs)


def check_ratings(ratings) -> pd.DataFrame:
    if is_calibration(ratings):
        ratings = ratings.ratings
    if not isinstance(ratings, pd.DataFrame):
        raise InputError(f"ratings: expected a DataFrame, got {type(ratings).__name__}")
    missing = [c for c in _REQUIRED if c not in ratings.columns]
    if missing:
        raise InputError(f"ratings: required column(s) missing: {', '.join(missing)}")
    frame = ratings[[c for c in (*_REQUIRED, "wave") if c in ratings.columns]].copy()
    if "wave" not in frame.columns:
        frame["wave"] = 1
    frame["score"] = pd.to_numeric(frame["score"], errors="coerce").astype(float)
    frame = frame[np.isfinite(frame["score"].to_numpy())]
    if frame.empty:
        raise InputError("ratings: no finite scores")
    for col in ("ratee", "rater", "source", "skill"):
        frame[col] = frame[col].astype(str)
    return frame.reset_index(drop=True)


def select_sources(frame: pd.DataFrame, sources, overall: bool) -> list[str]:
    found = set(frame["source"].unique())
    present = [s for s in ("self", "manager", "peer", "direct_report", "other") if s in found]
    present += sorted(found - set(present))
    if sources is None:
        chosen = present
    else:
        chosen = [sources] if isinstance(sources, str) else list(sources)
        unknown = [s for s in chosen if s not in present and s != OTHERS]
        if unknown:
            raise ConfigError(
                f"sources={unknown!r}: not in the ratings (present: {', '.join(present)})"
            )
    if overall and OTHERS not in chosen and any(s != "self" for s in present):
        chosen = [*chosen, OTHERS]
    return chosen


def source_frame(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    if source == OTHERS:
        return frame[frame["source"] != "self"]
    return frame[frame["source"] == source]


def _check_k(k):
    if isinstance(k, str):
        if k not in ("harmonic", "n0"):
            raise ConfigError(f"k={k!r}: must be 'harmonic', 'n0' or a number of raters >= 1")
    elif not (np.isscalar(k) and np.isfinite(k) and k >= 1):
        raise ConfigError(f"k={k!r}: must be 'harmonic', 'n0' or a number of raters >= 1")


def check_min_raters(min_raters):
    if not (isinstance(min_raters, (int, np.integer)) and min_raters >= 2):
        raise ConfigError(f"min_raters={min_raters!r}: must be an integer >= 2")


# --------------------------------------------------------------------------------------------
# One-way random-effects ANOVA for unbalanced groups
# --------------------------------------------------------------------------------------------


def oneway_anova(y: np.ndarray, groups: np.ndarray) -> dict:
    """Unbalanced one-way random-effects ANOVA (groups = targets, members = raters)."""
    codes, _ = pd.factorize(groups)
    if len(codes) == 0:
        return {"n_groups": 0, "n": 0, "df1": np.nan, "df2": np.nan, "k_harmonic": np.nan,
                "msb": np.nan, "msw": np.nan, "n0": np.nan, "var_between": np.nan}
    counts = np.bincount(codes).astype(float)
    sums = np.bincount(codes, weights=y)
    means = sums / counts
    n_total, n_groups = counts.sum(), len(counts)
    df1, df2 = n_groups - 1, n_total - n_groups
    out = {"n_groups": n_groups, "n": int(n_total), "df1": df1, "df2": df2,
           "k_harmonic": n_groups / np.sum(1.0 / counts) if n_groups else np.nan}
    if df1 < 1 or df2 < 1:
        return {**out, "msb": np.nan, "msw": np.nan, "n0": np.nan, "var_between": np.nan}
    grand = y.mean()
    msb = np.sum(counts * (means - grand) ** 2) / df1
    msw = np.sum((y - means[codes]) ** 2) / df2
    n0 = (n_total - np.sum(counts**2) / n_total) / df1
    return {**out, "msb": msb, "msw": msw, "n0": n0, "var_between": (msb - msw) / n0}


def _spearman_brown(r, k):
    r = np.asarray(r, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return k * r / (1.0 + (k - 1.0) * r)


def target_codes(sub: pd.DataFrame) -> np.ndarray:
    """One integer per ratee-wave (the targets of the one-way ANOVA): grouping the two
    columns costs a fifth of pasting them into strings at 2.5 M ratings."""
    return sub.groupby(["ratee", "wave"], sort=False).ngroup().to_numpy()


def filter_groups(sub: pd.DataFrame, keys: list[str], min_raters: int) -> pd.DataFrame:
    size = sub.groupby(keys, sort=False)["score"].transform("size")
    return sub[size.to_numpy() >= min_raters]


def _icc_row(sub: pd.DataFrame, *, k, min_raters: int, alpha: float) -> dict:
    sub = filter_groups(sub, ["ratee", "wave"], min_raters)
    groups = target_codes(sub)
    a = oneway_anova(sub["score"].to_numpy(dtype=float), groups)
    row = {"n_ratees": a["n_groups"], "n": a["n"], "k": np.nan, "n0": a["n0"],
           "icc1": np.nan, "icc1_ci_low": np.nan, "icc1_ci_high": np.nan, "icc2": np.nan,
           "icc2_ci_low": np.nan, "icc2_ci_high": np.nan, "var_between": a["var_between"],
           "var_within": a["msw"], "f": np.nan, "df1": a["df1"], "df2": a["df2"],
           "p_value": np.nan}
    if not np.isfinite(a["msb"]) or a["n_groups"] < 2:
        return row
    kk = {"harmonic": a["k_harmonic"], "n0": a["n0"]}.get(k, k) if isinstance(k, str) else k
    msb, msw, n0 = a["msb"], a["msw"], a["n0"]
    if msw <= 0:  # every rater of a ratee gave the same score: nothing to compare with
        return {**row, "degenerate": True}
    f = msb / msw
    icc1 = (msb - msw) / (msb + (n0 - 1.0) * msw)
    f_lo = f / special.fdtri(a["df1"], a["df2"], 1 - alpha / 2)
    f_hi = f * special.fdtri(a["df2"], a["df1"], 1 - alpha / 2)
    lo, hi = (f_lo - 1) / (f_lo + n0 - 1), (f_hi - 1) / (f_hi + n0 - 1)
    row.update(k=kk, icc1=icc1, icc1_ci_low=lo, icc1_ci_high=hi,
               icc2=float(_spearman_brown(icc1, kk)), icc2_ci_low=float(_spearman_brown(lo, kk)),
               icc2_ci_high=float(_spearman_brown(hi, kk)), f=f,
               p_value=float(special.fdtrc(a["df1"], a["df2"], f)))
    return row


def icc_by_source(
    ratings,
    *,
    sources: Iterable[str] | str | None = None,
    overall: bool = True,
    by_skill: bool = True,
    k="harmonic",
    min_raters: int = 2,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """ICC(1) and ICC(2) of the ratings per source and skill, for unbalanced designs.

    Parameters
    ----------
    ratings : DataFrame or Calibration
        Long ratings (ratee, rater, source, skill, score, optional wave); a Calibration's
        ``.ratings`` are used.
    sources : str or list of str, optional
        Sources to report (default: every source present). A source where no ratee has
        ``min_raters`` raters (typically ``self`` and ``manager``) gets NaN statistics.
    overall : bool
        Also report ``source="others"``: all non-self raters pooled.
    by_skill : bool
        One row per source and skill (default). If False, one row per source whose statistics
        are the means of the per-skill values (``n_skills`` says how many skills were averaged).
    k : {"harmonic", "n0"} or float
        Number of raters the ICC(2) refers to: the harmonic mean of raters per ratee (default:
        the reliability of the average ratee's mean), the ANOVA's n0 (Bliese's ICC(2) =
        (MSB - MSW) / MSB), or a fixed number.
    min_raters : int
        Ratees (per wave) with fewer raters of the source are left out of that source's ANOVA.
    alpha : float
        For the 1 - alpha confidence intervals.

    Returns
    -------
    DataFrame
        source, skill, n_ratees (targets: ratee-wave pairs used), n (ratings), k, n0, icc1,
        icc1_ci_low, icc1_ci_high, icc2, icc2_ci_low, icc2_ci_high, var_between (sigma_b^2),
        var_within (MSW), f, df1, df2, p_value (F test of no between-ratee variance).

    Notes
    -----
    One-way random-effects ANOVA per source and skill with the ratee (in a wave) as target
    and its raters as members. With N ratings in G groups of sizes n_g,
    ``n0 = (N - sum n_g^2 / N) / (G - 1)``, ``sigma_b^2 = (MSB - MSW) / n0`` and

        ICC(1) = (MSB - MSW) / (MSB + (n0 - 1) MSW) = sigma_b^2 / (sigma_b^2 + MSW)
        ICC(2) = k ICC(1) / (1 + (k - 1) ICC(1))      (Spearman-Brown)

    (Shrout & Fleiss 1979, ICC(1) and ICC(1,k); Bliese 2000 for unbalanced groups; with
    ``k="n0"`` ICC(2) equals Bliese's (MSB - MSW) / MSB). For balanced data these are the
    textbook ICC(1) / ICC(1,k) (pingouin's ICC1 / ICC1k). Confidence intervals use the F
    distribution with n0 as the group size (exact for balanced data, approximate otherwise).
    A skill whose raters never disagree within a ratee (MSW = 0) gets NaN.
    Estimates are not truncated: a negative ICC(1) says that raters of a ratee agree less
    than raters of different ratees. Raters are treated as nested in ratees (a rater's
    leniency is error), which is what a raw average of a ratee's raters contains. Checked
    against the REML variance components of statsmodels' MixedLM and against textbook
    formulas on balanced data (tests/test_reliability.py).

    Examples
    --------
    >>> from workbench.synth.generator import generate_organisation
    >>> org = generate_organisation(120, seed=1, n_waves=1)
    >>> table = icc_by_source(org.ratings)
    >>> sorted(table["source"].unique())
    ['direct_report', 'manager', 'others', 'peer', 'self']
    """
    frame = check_ratings(ratings)
    _check_k(k)
    check_min_raters(min_raters)
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha={alpha!r}: must be between 0 and 1")
    rows = []
    for source in select_sources(frame, sources, overall):
        sub = source_frame(frame, source)
        for skill, cell in sub.groupby("skill", sort=True):
            rows.append({"source": source, "skill": skill,
                         **_icc_row(cell, k=k, min_raters=min_raters, alpha=alpha)})
    degenerate = [r for r in rows if r.pop("degenerate", False)]
    table = pd.DataFrame(rows)
    if degenerate and table["icc1"].isna().all():
        raise ModelError("icc: the ratings do not vary within ratees (every rater of a ratee "
                         "gave the same score); ICC is undefined")
    if by_skill:
        return table
    return mean_over_skills(table)


def mean_over_skills(table: pd.DataFrame) -> pd.DataFrame:
    numeric = [c for c in table.columns if c not in ("source", "skill")]
    out = table.groupby("source", sort=False)[numeric].mean()
    out["n_skills"] = table.assign(ok=table["icc1"].notna()).groupby("source", sort=False)[
        "ok"].sum()
    out["n_ratees"] = table.groupby("source", sort=False)["n_ratees"].max()
    out["n"] = table.groupby("source", sort=False)["n"].sum()
    return out.reset_index()


# --------------------------------------------------------------------------------------------
# r_wg
# --------------------------------------------------------------------------------------------


def _scale_points(frame: pd.DataFrame, scale) -> tuple[float, float, int]:
    if scale is None:
        lo, hi = float(frame["score"].min()), float(frame["score"].max())
    elif hasattr(scale, "min") and hasattr(scale, "max") and not callable(scale.min):
        lo, hi = float(scale.min), float(scale.max)
    elif isinstance(scale, pd.DataFrame) and "value" in scale.columns:
        lo, hi = float(scale["value"].min()), float(scale["value"].max())
    elif isinstance(scale, (tuple, list)) and len(scale) == 2:
        lo, hi = float(scale[0]), float(scale[1])
    else:
        raise ConfigError(f"scale={scale!r}: must be None, a Scale or a (min, max) pair")
    if not hi > lo:
        raise ConfigError(f"scale: max ({hi}) must be above min ({lo})")
    return lo, hi, int(round(hi - lo)) + 1


@dataclass(frozen=True)
class RwgResult(Result):
    """Within-group agreement r_wg and r_wg(J) per source.

    Attributes
    ----------
    groups : DataFrame
        One row per source, ratee, wave and skill with >= 2 raters: n_raters, variance
        (sample variance of the scores), rwg.
    multi : DataFrame
        One row per source, ratee and wave: n_items (skills with >= 2 raters), mean_variance,
        rwg_j (the skills taken as the items of one scale).
    summary_frame : DataFrame
        Per source: n_groups, rwg_mean, rwg_median, rwg_share_070 (share >= 0.70), n_ratees,
        rwg_j_mean, rwg_j_median, rwg_j_share_070.
    null_variance : float
        sigma_EU^2 = (A^2 - 1) / 12 of the uniform null.
    n_points : int
        A, the number of scale points.
    settings : dict
        The options used (scale points, sources, truncate).
    """

    title = "Within-group agreement r_wg per source"

    groups: pd.DataFrame
    multi: pd.DataFrame
    summary_frame: pd.DataFrame
    null_variance: float
    n_points: int
    settings: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The per-source summary."""
        return self.summary_frame.copy()

    def _sections(self) -> list:
        head = (f"r_wg against a uniform null on {self.n_points} points "
                f"(sigma_EU^2 = {self.null_variance:.3f})")
        return [("", head), ("Per source", self.summary_frame)]

    def _files(self) -> dict:
        return {"rwg_by_source.csv": self.summary_frame, "rwg_groups.csv": self.groups,
                "rwg_multi.csv": self.multi}


def _rwg_j(mean_var: np.ndarray, n_items: np.ndarray, null_var: float, truncate: bool):
    ratio = mean_var / null_var
    with np.errstate(divide="ignore", invalid="ignore"):
        value = n_items * (1 - ratio) / (n_items * (1 - ratio) + ratio)
    if truncate:
        value = np.where(ratio > 1, 0.0, value)
    return value


def rwg_by_source(
    ratings,
    *,
    scale=None,
    sources: Iterable[str] | str | None = None,
    overall: bool = False,
    truncate: bool = True,
    threshold: float = 0.70,
) -> RwgResult:
    """Within-group agreement r_wg (James, Demaree & Wolf 1984) per source.

    Parameters
    ----------
    ratings : DataFrame or Calibration
        Long ratings (ratee, rater, source, skill, score, optional wave).
    scale : Scale, (min, max) or scale table (value, label), optional
        The rating scale; default the observed range of the scores. The number of points is
        ``A = max - min + 1`` (whole-point steps).
    sources : str or list of str, optional
        Sources to report (default: all present); sources without any ratee with two raters
        get no groups and NaN summaries.
    overall : bool
        Also report the pooled non-self raters as ``source="others"``.
    truncate : bool
        Set r_wg (and r_wg(J)) to 0 where the observed variance exceeds the null variance
        (James et al.'s recommendation); otherwise report the negative values.
    threshold : float
        The conventional cut of "strong agreement" for the ``*_share_070`` columns.

    Returns
    -------
    RwgResult
        ``.groups``, ``.multi`` and ``.summary_frame`` (also ``to_frame()``).

    Notes
    -----
    For the J_g >= 2 raters of one source rating one ratee on one skill with sample variance
    s^2 (ddof = 1), ``r_wg = 1 - s^2 / sigma_EU^2`` with the uniform null
    ``sigma_EU^2 = (A^2 - 1) / 12``. Taking the skills as J parallel items with mean variance
    s̄^2, ``r_wg(J) = J (1 - s̄^2/sigma_EU^2) / (J (1 - s̄^2/sigma_EU^2) + s̄^2/sigma_EU^2)``.
    Checked against hand-computed values in tests/test_reliability.py.

    Examples
    --------
    >>> from workbench.synth.generator import generate_organisation
    >>> org = generate_organisation(120, seed=1, n_waves=1)
    >>> result = rwg_by_source(org.ratings, scale=(1, 5))
    >>> result.null_variance
    2.0
    """
    frame = check_ratings(ratings)
    lo, hi, n_points = _scale_points(frame, scale)
    if not 0 < threshold <= 1:
        raise ConfigError(f"threshold={threshold!r}: must be in (0, 1]")
    null_var = (n_points**2 - 1) / 12.0
    keys = ["ratee", "wave", "skill"]
    group_frames, multi_frames, summaries = [], [], []
    for source in select_sources(frame, sources, overall):
        sub = source_frame(frame, source)
        g = sub.groupby(keys, sort=True)["score"].agg(n_raters="size", variance="var")
        g = g[g["n_raters"] >= 2].reset_index()
        rwg = 1.0 - g["variance"].to_numpy() / null_var
        g["rwg"] = np.maximum(rwg, 0.0) if truncate else rwg
        g.insert(0, "source", source)
        m = g.groupby(["ratee", "wave"], sort=True).agg(
            n_items=("variance", "size"), mean_variance=("variance", "mean")).reset_index()
        m["rwg_j"] = _rwg_j(m["mean_variance"].to_numpy(), m["n_items"].to_numpy(), null_var,
                            truncate)
        m.insert(0, "source", source)
        group_frames.append(g)
        multi_frames.append(m)
        summaries.append({
            "source": source, "n_groups": len(g),
            "rwg_mean": g["rwg"].mean(), "rwg_median": g["rwg"].median(),
            "rwg_share_070": (g["rwg"] >= threshold).mean() if len(g) else np.nan,
            "n_ratees": len(m), "rwg_j_mean": m["rwg_j"].mean(),
            "rwg_j_median": m["rwg_j"].median(),
            "rwg_j_share_070": (m["rwg_j"] >= threshold).mean() if len(m) else np.nan,
        })
    summary = pd.DataFrame(summaries)
    summary.attrs.update(null_variance=null_var, n_points=n_points, scale=(lo, hi))
    return RwgResult(
        groups=pd.concat(group_frames, ignore_index=True),
        multi=pd.concat(multi_frames, ignore_index=True),
        summary_frame=summary,
        null_variance=null_var,
        n_points=n_points,
        settings={"scale": [lo, hi], "overall": overall, "truncate": truncate,
                  "threshold": threshold},
    )
