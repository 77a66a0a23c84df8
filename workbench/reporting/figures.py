"""Plot helpers for notebooks and the report: each returns its Figure and draws nothing else.

Every helper ends in the same finishing step (axis labels, title, tight layout) and shows
coded values (sources, model terms) with the labels of :mod:`workbench.presentation.labels`, so
a figure never shows ``direct_report``.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"source": ["self", "peer"], "estimate": [0.4, -0.1],
...                       "ci_low": [0.3, -0.2], "ci_high": [0.5, 0.0]})
>>> fig = plot_estimates(frame, label="source")
>>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
['Self', 'Peers']
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from workbench.errors import ConfigError
from workbench.presentation.labels import column_label, human_values, source_label
from workbench.tables.scores import as_scores

__all__ = [
    "ADJUSTABLE_SOURCES",
    "plot_estimates",
    "plot_raw_vs_calibrated",
    "plot_distribution",
    "plot_lines",
    "plot_bars",
    "plot_d_study",
]

#: Sources whose number of raters per person a client can choose when planning a survey
#: (everyone has one self-rating and, as a rule, one manager).
ADJUSTABLE_SOURCES = ("peer", "direct_report", "other")


def _axes(ax, size):
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook")
    if ax is None:
        fig, ax = plt.subplots(figsize=size)
        return fig, ax
    return ax.figure, ax


def _finish(fig, ax, *, xlabel: str, ylabel: str, title: str = ""):
    """Axis labels, an optional title and a tight layout: the last step of every plot here."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def _legend_outside(ax, title: str | None = None):
    """A legend to the right of the axes, where it cannot cover data."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(title=title, fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  borderaxespad=0.0, frameon=False)


def _require(frame: pd.DataFrame, columns, who: str):
    missing = sorted(set(columns) - set(frame.columns))
    if missing:
        raise ConfigError(f"{who}: missing column(s) {missing}")


def plot_estimates(
    frame: pd.DataFrame,
    *,
    label: str = "skill",
    hue: str | None = None,
    title: str = "",
    xlabel: str = "estimate",
    reference: float | None = 0.0,
    ax=None,
):
    """Forest plot: one row per ``label``, the estimate with its ``ci_low``-``ci_high`` interval.

    Parameters
    ----------
    frame : DataFrame
        Columns ``label``, estimate, ci_low, ci_high (and ``hue`` when given).
    hue : str, optional
        A column whose values are drawn side by side in colours (e.g. method).
    reference : float or None
        Draw a dashed line here (no effect); None for none.

    Returns
    -------
    Figure
    """
    import seaborn as sns

    _require(frame, {label, "estimate", "ci_low", "ci_high"}, "plot_estimates")
    frame = human_values(frame)
    labels = list(dict.fromkeys(frame[label].tolist()))
    groups = list(dict.fromkeys(frame[hue].tolist())) if hue else [None]
    fig, ax = _axes(ax, (7, 0.42 * len(labels) * max(1, len(groups) * 0.6) + 1.4))
    palette = sns.color_palette(n_colors=max(len(groups), 1))
    step = 0.7 / max(len(groups), 1)
    for g, group in enumerate(groups):
        part = frame if group is None else frame[frame[hue] == group]
        pos = [labels.index(v) for v in part[label]]
        offset = (g - (len(groups) - 1) / 2) * step
        ax.errorbar(
            part["estimate"], [p + offset for p in pos],
            xerr=[part["estimate"] - part["ci_low"], part["ci_high"] - part["estimate"]],
            fmt="o", capsize=3, color=palette[g], label=None if group is None else str(group),
        )
    if reference is not None:
        ax.axvline(reference, color="0.4", linestyle="--", linewidth=1)
    ax.set_yticks(range(len(labels)), [str(v) for v in labels])
    ax.invert_yaxis()
    if hue:
        _legend_outside(ax, column_label(hue))
    return _finish(fig, ax, xlabel=xlabel, ylabel="", title=title)


def plot_raw_vs_calibrated(
    scores,
    *,
    wave="latest",
    title: str = "Raw averages and calibrated scores",
    ax=None,
):
    """Scatter of raw means against calibrated scores, one point per person and skill.

    Points off the diagonal are people whose raw average was pushed up or down by who rated
    them.

    Parameters
    ----------
    scores : Calibration, scores DataFrame or file
        Read with :func:`workbench.tables.scores.as_scores`; needs ``raw_mean``.
    wave : "latest", a wave value or None
        Which wave to plot: by default each person's latest wave, so that every point is one
        person in one skill (None plots every wave).
    title : str
        The figure's title; the wave plotted is added to it.

    Returns
    -------
    Figure
    """
    import seaborn as sns

    frame = as_scores(scores, wave=wave)
    _require(frame, {"raw_mean", "score"}, "plot_raw_vs_calibrated")
    frame = frame[np.isfinite(frame["raw_mean"]) & np.isfinite(frame["score"])]
    fig, ax = _axes(ax, (6.5, 5.5))
    sns.scatterplot(data=frame, x="raw_mean", y="score", s=12, alpha=0.35, linewidth=0, ax=ax)
    low = float(min(frame["raw_mean"].min(), frame["score"].min()))
    high = float(max(frame["raw_mean"].max(), frame["score"].max()))
    ax.plot([low, high], [low, high], color="0.4", linestyle="--", linewidth=1,
            label="raw = calibrated")
    # top left is empty: calibrated scores never sit far above a low raw mean
    ax.legend(loc="upper left", fontsize="small", frameon=False)
    if wave == "latest":
        title = f"{title} (each person's latest wave)"
    elif wave is not None:
        title = f"{title} (wave {wave})"
    return _finish(fig, ax, xlabel="raw mean of all ratings", ylabel="calibrated score",
                   title=title)


def plot_distribution(values, *, xlabel: str, title: str = "", ax=None):
    """Histogram with a density curve of one quantity (e.g. rater leniency; no labels shown)."""
    import seaborn as sns

    fig, ax = _axes(ax, (6, 3.8))
    sns.histplot(x=pd.Series(values).dropna().to_numpy(), kde=True, ax=ax)
    return _finish(fig, ax, xlabel=xlabel, ylabel="count", title=title)


def plot_lines(
    frame: pd.DataFrame, *, x: str, y: str, hue: str | None = None, xlabel: str = "",
    ylabel: str = "", title: str = "", hlines=(), ax=None,
):
    """Lines of ``y`` against ``x`` (one per ``hue``), with optional dashed reference levels."""
    import seaborn as sns

    fig, ax = _axes(ax, (7, 4.2))
    sns.lineplot(data=human_values(frame), x=x, y=y, hue=hue, marker="o", ax=ax)
    for level in hlines:
        ax.axhline(level, color="0.5", linestyle="--", linewidth=1)
    if hue:
        _legend_outside(ax, column_label(hue))
    return _finish(fig, ax, xlabel=xlabel or column_label(x), ylabel=ylabel or column_label(y),
                   title=title)


def plot_bars(
    frame: pd.DataFrame, *, x: str, y: str, hue: str | None = None, xlabel: str = "",
    ylabel: str = "", title: str = "", horizontal: bool = False, ax=None,
):
    """Bar chart of ``y`` by ``x`` (grouped by ``hue``) from a tidy table."""
    import seaborn as sns

    fig, ax = _axes(ax, (7, 4.2))
    frame = human_values(frame)
    if horizontal:
        sns.barplot(data=frame, y=x, x=y, hue=hue, orient="h", ax=ax)
    else:
        sns.barplot(data=frame, x=x, y=y, hue=hue, ax=ax)
    if hue:
        _legend_outside(ax, column_label(hue))
    if horizontal:
        return _finish(fig, ax, xlabel=ylabel or column_label(y), ylabel=xlabel or "",
                       title=title)
    return _finish(fig, ax, xlabel=xlabel or column_label(x), ylabel=ylabel or column_label(y),
                   title=title)


def plot_d_study(
    d_study,
    *,
    sources: Sequence[str] = ADJUSTABLE_SOURCES,
    targets: Sequence[float] = (0.7, 0.8),
    title: str = "How reliability grows with more raters",
    ax=None,
):
    """D-study: reliability of the calibrated score against the number of raters per person.

    Parameters
    ----------
    d_study : DStudy or DataFrame
        A D-study (``.curve`` and ``.observed``, see
        :func:`workbench.calibration.reliability.generalizability.d_study`) or its curve (source, n_raters,
        g_relative).
    sources : sequence of str
        The sources drawn: by default only those whose count a client can change
        (:data:`ADJUSTABLE_SOURCES`); sources absent from the study are skipped.
    targets : sequence of float
        Reliability levels drawn as labelled dashed lines.

    Returns
    -------
    Figure
        One line per source; a larger dot marks today's average number of raters.
    """
    import seaborn as sns

    curve = getattr(d_study, "curve", d_study)
    _require(curve, {"source", "n_raters", "g_relative"}, "plot_d_study")
    observed = getattr(d_study, "observed", None)
    present = [s for s in sources if s in set(curve["source"])]
    if not present:
        raise ConfigError(f"plot_d_study: none of the sources {list(sources)} is in the study "
                          f"(present: {sorted(set(curve['source']))})")
    fig, ax = _axes(ax, (7.5, 4.2))
    palette = sns.color_palette(n_colors=len(present))
    for colour, source in zip(palette, present, strict=True):
        line = curve[curve["source"] == source].sort_values("n_raters")
        ax.plot(line["n_raters"], line["g_relative"], marker="o", markersize=4, color=colour,
                label=source_label(source))
        if observed is not None and source in set(observed["source"]):
            now = observed[observed["source"] == source].iloc[0]
            if np.isfinite(now["raters_per_ratee"]) and np.isfinite(now["g_relative"]):
                ax.scatter([now["raters_per_ratee"]], [now["g_relative"]], s=90, color=colour,
                           edgecolor="black", zorder=3)
    if observed is not None:
        ax.scatter([], [], s=90, color="white", edgecolor="black", label="today's average")
    # the reference lines are labelled in the legend, where no data line can cross the text
    styles = ("--", ":", "-.")
    for i, (level, words) in enumerate(zip(targets, _target_words(targets), strict=True)):
        ax.axhline(level, color="0.35", linestyle=styles[i % len(styles)], linewidth=1.2,
                   label=f"{level:g}: {words}", zorder=1)
    ax.set_ylim(0, 1)
    ax.xaxis.get_major_locator().set_params(integer=True)
    _legend_outside(ax)
    return _finish(fig, ax, xlabel="raters of this source per person",
                   ylabel="reliability of the calibrated score", title=title)


def _target_words(targets) -> list[str]:
    """Conventional words for reliability levels (Nunnally: 0.7 for research, 0.8 for use)."""
    words = {0.7: "enough to compare groups", 0.8: "enough for individual feedback"}
    return [words.get(round(float(t), 2), "target") for t in targets]
