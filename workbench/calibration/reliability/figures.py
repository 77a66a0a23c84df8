"""Reliability figures: the inter-item correlation heat map of a competency.

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
"""

from __future__ import annotations

import numpy as np

from workbench.errors import ConfigError

__all__ = ["plot_item_correlations"]


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

    table = getattr(result, "correlations", result)
    part = table[(table["skill"] == skill) & (table["source"] == source)]
    if part.empty:
        raise ConfigError(f"skill={skill!r}, source={source!r}: no correlations (present: "
                          f"{sorted(set(zip(table['skill'], table['source'], strict=True)))})")
    items = list(dict.fromkeys(part["item_a"]))
    matrix = (part.pivot(index="item_a", columns="item_b", values="r")
              .reindex(index=items, columns=items).to_numpy(dtype=float))
    size = 1.2 + 0.55 * len(items)
    fig, ax = plt.subplots(figsize=(size + 1.2, size))
    image = ax.imshow(matrix, cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(len(items)), items, rotation=45, ha="right")
    ax.set_yticks(range(len(items)), items)
    if annotate:
        for (i, j), value in np.ndenumerate(matrix):
            if np.isfinite(value):
                ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=8,
                        color="white" if abs(value) > 0.6 else "black")
    fig.colorbar(image, ax=ax, shrink=0.8, label="correlation")
    ax.set_title(f"{skill} ({source}): inter-item correlations")
    fig.tight_layout()
    return fig
