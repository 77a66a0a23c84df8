"""Reliability figures: the inter-item correlation heat map of a competency (one, or one per
competency side by side).

Items are the instrument's own labels (client text), drawn as plain text by matplotlib; no
rater appears.

Examples
--------
>>> import pandas as pd
>>> corr = pd.DataFrame({"skill": "s", "source": "peer", "item_a": ["q1", "q1", "q2", "q2"],
...                      "item_b": ["q1", "q2", "q1", "q2"], "r": [1.0, 0.4, 0.4, 1.0]})
>>> fig = plot_item_correlations(corr, skill="s", source="peer")
>>> fig.axes[0].get_title()
's (peer): inter-item correlations'
>>> [ax.get_title() for ax in plot_item_correlation_grid(corr, source="peer").axes[:1]]
['s']
"""

from __future__ import annotations

import numpy as np

from workbench.errors import ConfigError

__all__ = ["plot_item_correlations", "plot_item_correlation_grid"]


def plot_item_correlations(result, *, skill: str, source: str = "others", annotate: bool = True):
    """Heat map of one competency's inter-item correlations (-1 blue to +1 red).

    Parameters
    ----------
    result : InstrumentReliability or DataFrame
        The result of :func:`~workbench.calibration.reliability.instrument.
        estimate_instrument_reliability` or its ``correlations`` table (skill, source, item_a,
        item_b, r).
    skill, source : str
        Which competency and relationship.
    annotate : bool
        Write each correlation in its cell.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    items, matrix = _matrix(getattr(result, "correlations", result), skill, source)
    size = 1.2 + 0.55 * len(items)
    fig, ax = plt.subplots(figsize=(size + 1.2, size))
    image = _draw(ax, items, matrix, annotate)
    fig.colorbar(image, ax=ax, shrink=0.8, label="correlation")
    ax.set_title(f"{skill} ({source}): inter-item correlations")
    fig.tight_layout()
    return fig


def _matrix(table, skill, source):
    part = table[(table["skill"] == skill) & (table["source"] == source)]
    if part.empty:
        raise ConfigError(f"skill={skill!r}, source={source!r}: no correlations (present: "
                          f"{sorted(set(zip(table['skill'], table['source'], strict=True)))})")
    items = list(dict.fromkeys(part["item_a"]))
    matrix = (part.pivot(index="item_a", columns="item_b", values="r")
              .reindex(index=items, columns=items).to_numpy(dtype=float))
    return items, matrix


def _draw(ax, items, matrix, annotate):
    image = ax.imshow(matrix, cmap="RdBu_r", vmin=-1, vmax=1)
    ax.grid(False)  # the house style's grid would cut through the cells
    ax.set_xticks(range(len(items)), items, rotation=45, ha="right")
    ax.set_yticks(range(len(items)), items)
    if annotate:
        for (i, j), value in np.ndenumerate(matrix):
            if np.isfinite(value):
                ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=8,
                        color="white" if abs(value) > 0.6 else "black")
    return image


def plot_item_correlation_grid(result, *, source: str = "others", columns: int = 4,
                               annotate: bool = True):
    """Every competency's inter-item correlation heat map, side by side, for one relationship
    (``"others"`` falls back to the only relationship there is).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    table = getattr(result, "correlations", result)
    if source not in set(table["source"]) and table["source"].nunique() == 1:
        source = table["source"].iloc[0]
    skills = list(dict.fromkeys(table.loc[table["source"] == source, "skill"]))
    if not skills:
        raise ConfigError(f"source={source!r}: no correlations (present: "
                          f"{sorted(set(table['source']))})")
    ncol = min(columns, len(skills))
    nrow = -(-len(skills) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.9 * ncol + 0.8, 3.4 * nrow),
                             squeeze=False)
    fig.subplots_adjust(wspace=0.55, hspace=0.55)
    image = None
    for ax, skill in zip(axes.ravel(), skills, strict=False):
        items, matrix = _matrix(table, skill, source)
        image = _draw(ax, items, matrix, annotate)
        ax.set_title(skill)
    for ax in axes.ravel()[len(skills):]:
        ax.set_visible(False)
    fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, label="correlation")
    return fig
