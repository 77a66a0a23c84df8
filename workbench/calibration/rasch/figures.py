"""Rasch figures: the Wright map (variable map) of a many-facet Rasch calibration.

Every facet on one logit ruler, as FACETS' Table 6: ratees and raters as histograms (raters
are never named, so the figure can go into a client report), skills and sources by name at
their measures, and the rating scale as the measures at which the expected rating of an
average element crosses each half point (FACETS' "Scale" column).

Examples
--------
>>> from workbench.synth.generator import generate_organisation
>>> from workbench.calibration.rasch.calibrate import calibrate_rasch
>>> res = calibrate_rasch(generate_organisation(40, seed=1, n_waves=1).ratings,
...                       interactions=())
>>> fig = plot_wright_map(res)
>>> [ax.get_title() for ax in fig.axes][:2]
['People', 'Raters']
"""

from __future__ import annotations

import numpy as np

from workbench.presentation.labels import FACET_LABELS, source_label

__all__ = ["plot_wright_map", "scale_zones"]


def scale_zones(result) -> list:
    """``[(measure, label), ...]``: where a ratee's expected rating (fair average) crosses
    each half point between two categories."""
    curve = result.scale_curve
    x, y = curve["measure"].to_numpy(), curve["expected"].to_numpy()
    values = np.sort(result.ratings["score"].unique())
    zones = []
    for low, high in zip(values[:-1], values[1:], strict=True):
        half = (low + high) / 2
        if y.min() < half < y.max():
            zones.append((float(np.interp(half, y, x)), f"{low:g}|{high:g}"))
    return zones


def _spread(values, gap):
    """Label positions near ``values`` at least ``gap`` apart (in the values' order)."""
    order = np.argsort(values)
    placed = np.asarray(values, float)[order].copy()
    for k in range(1, len(placed)):
        placed[k] = max(placed[k], placed[k - 1] + gap)
    placed -= (placed - np.asarray(values, float)[order]).mean()
    out = np.empty_like(placed)
    out[order] = placed
    return out


def plot_wright_map(result, *, bins: int = 30, title: str = "Wright map"):
    """The Wright map of a :class:`~workbench.calibration.rasch.RaschCalibration`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    m = result.measures[result.measures["measure"].notna()]
    facets = [f for f in ("ratee", "rater", "skill", "item", "source")
              if (m["facet"] == f).any()]
    fig, axes = plt.subplots(1, len(facets) + 1, sharey=True,
                             figsize=(2.4 * (len(facets) + 1), 6))
    zones = scale_zones(result)
    marks = [v for v, _ in zones] + m["measure"].tolist()
    low, high = min(marks) - 0.5, max(marks) + 0.5
    edges = np.linspace(low, high, bins + 1)
    for ax, facet in zip(axes, facets, strict=False):
        part = m[m["facet"] == facet]
        if facet in ("ratee", "rater"):
            counts, _ = np.histogram(part["measure"], edges)
            ax.barh(edges[:-1], counts, height=np.diff(edges), align="edge", color="0.55")
            ax.set_xlabel("count")
        else:
            where = _spread(part["measure"].to_numpy(), (high - low) / 40)
            for value, at, label in zip(part["measure"], where, part["element"], strict=True):
                ax.plot([0, 0.12, 0.2], [value, value, at], color="0.3", lw=0.8)
                shown = source_label(label) if facet == "source" else str(label)
                ax.text(0.25, at, shown, va="center", fontsize=8)
            ax.set_xlim(0, 1.5)
            ax.set_xticks([])
        ax.set_title(FACET_LABELS.get(facet, facet))
    ax = axes[-1]
    for value, label in zones:
        ax.axhline(value, color="0.6", lw=0.8)
        ax.text(0.05, value, label, va="bottom", fontsize=8)
    ax.set_xticks([])
    ax.set_title("Rating scale")
    axes[0].set_ylabel("measure (logits); people: higher = more able; others: higher = "
                       "lower ratings", fontsize=8)
    axes[0].set_ylim(low, high)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
