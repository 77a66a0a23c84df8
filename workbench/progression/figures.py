"""Figures of the progression stage (each returns its Figure; role- and activity-level only).

Examples
--------
>>> import pandas as pd
>>> bands = pd.DataFrame({"role": ["B"], "ready_now": [2], "ready_in_horizon": [1],
...                       "ready_later": [5], "n": [8]})
>>> fig = plot_readiness_by_role(bands)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["plot_readiness_by_role", "plot_cost_effectiveness"]

_BAND_LABELS = {"ready_now": "ready now", "ready_in_horizon": "ready within the plan",
                "ready_later": "ready later", "not_on_path": "not on this path",
                "not_assessed": "not assessed"}


def _nothing(fig, ax, text):
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True)
    return fig


def plot_readiness_by_role(bands: pd.DataFrame, *, ax=None):
    """Stacked bars: how many people of each role's bench are in each band."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 0.5 * max(len(bands), 2) + 1.4))
    else:
        fig = ax.figure
    if bands.empty or "role" not in bands:
        return _nothing(fig, ax, "No readiness was assessed (no career paths or target roles).")
    left = np.zeros(len(bands))
    for band, label in _BAND_LABELS.items():
        if band in bands.columns:
            values = bands[band].to_numpy(float)
            ax.barh(bands["role"].astype(str), values, left=left, label=label)
            left += values
    ax.invert_yaxis()
    ax.set_xlabel("people")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    fig.tight_layout()
    return fig


def plot_cost_effectiveness(costs: pd.DataFrame, *, per="skill point", ax=None):
    """Cost per unit gained per activity with its interval (unbounded intervals drawn open)."""
    import matplotlib.pyplot as plt

    if costs.empty or "per" not in costs:
        rows = costs.iloc[0:0]
    else:
        rows = costs[(costs["per"] == per) & np.isfinite(costs["estimate"])].copy()
        rows = rows.sort_values("estimate").head(25)
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 0.35 * max(len(rows), 2) + 1.4))
    else:
        fig = ax.figure
    if rows.empty:
        return _nothing(fig, ax, f"No activity has a cost per {per} (no effect that is "
                        "above 0 with known costs).")
    labels = (rows["activity"].astype(str) + " / " + rows["target"].astype(str)).tolist()
    top = rows["ci_high"].replace(np.inf, np.nan)
    cap = float(np.nanmax(top)) if top.notna().any() else float(rows["estimate"].max() or 1)
    high = rows["ci_high"].where(np.isfinite(rows["ci_high"]), cap * 1.2)
    y = np.arange(len(rows))
    ax.errorbar(rows["estimate"], y, xerr=[rows["estimate"] - rows["ci_low"],
                                           high - rows["estimate"]], fmt="o", capsize=3)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlabel(f"cost per {per}")
    fig.tight_layout()
    return fig
