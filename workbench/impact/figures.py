"""Figures of learning impact: forest plots, pre/post slope chart, reliable change by team.

Each function takes an :class:`workbench.impact.result.ImpactResult` and returns a matplotlib Figure
(nothing is shown or saved here). No rater identities appear in any figure.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from workbench.synth.generator import generate_organisation
>>> from workbench.impact.result import estimate_impact
>>> from workbench.synth import truth_scores
>>> org = generate_organisation(120, seed=5)
>>> res = estimate_impact(truth_scores(org, se=.2, random_state=0),
...                       org.enrollments, people=org.people, catalog=org.catalog, did=False)
>>> fig = plot_effects_forest(res)
>>> len(fig.axes)
1
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from workbench.errors import ConfigError

__all__ = ["plot_effects_forest", "plot_pre_post", "plot_rci_by_team"]

METHOD_LABELS = {"ancova": "ANCOVA", "did": "Difference-in-differences",
                 "change_trained": "Change, trained", "change_untrained": "Change, untrained"}


def plot_effects_forest(result, *, by: str = "skill", methods=("ancova", "did"), top: int = 30):
    """Forest plot of effects with their intervals, by skill or by activity.

    Parameters
    ----------
    result : ImpactResult
    by : {"skill", "activity"}
        "skill": one row per skill, a marker per method; "activity": the partially pooled
        per-activity effects (posterior mean and interval), ranked, at most ``top`` rows.
    methods : sequence of str
        Methods shown when ``by="skill"``.
    """
    if by not in ("skill", "activity"):
        raise ConfigError(f"by={by!r}: must be 'skill' or 'activity'")
    if by == "skill":
        table = result.effects_by_skill
        table = table[table["method"].isin(methods)].dropna(subset=["estimate"])
        labels = sorted(table["skill"].unique(), reverse=True)
        offsets = dict(zip(methods, np.linspace(-0.15, 0.15, len(methods)), strict=True))
    else:
        table = result.effects_by_activity.dropna(subset=["estimate"]).head(top)
        table = table.assign(label=table["activity"] + " " + table["title"].astype(str).str[:28]
                             + " / " + table["skill"] + " (n=" + table["n"].astype(str)
                             + ")")
        labels = list(table["label"])[::-1]
    fig, ax = plt.subplots(figsize=(8, 0.35 * max(len(labels), 4) + 1.2))
    ypos = {lab: k for k, lab in enumerate(labels)}
    palette = sns.color_palette("colorblind", 4)
    if by == "skill":
        for k, method in enumerate(methods):
            part = table[table["method"] == method]
            y = part["skill"].map(ypos).to_numpy() + offsets[method]
            ax.errorbar(part["estimate"], y, xerr=[part["estimate"] - part["ci_low"],
                                                   part["ci_high"] - part["estimate"]],
                        fmt="o", color=palette[k], capsize=3, label=METHOD_LABELS.get(method,
                                                                                      method))
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=len(methods),
                  frameon=False)
        level = 100 * (1 - result.settings.get("alpha", 0.05))
        what = ("any training (no catalog)" if result.settings.get("training") == "any"
                else "training on the skill")
        ax.set_title(f"Effect of {what} (score points, {level:g}% CI)")
    else:
        y = table["label"].map(ypos).to_numpy()
        ax.errorbar(table["estimate"], y, xerr=[table["estimate"] - table["ci_low"],
                                                table["ci_high"] - table["estimate"]],
                    fmt="o", color=palette[0], capsize=3, label="partially pooled")
        ax.scatter(table["raw_estimate"], y, marker="x", color=palette[3], label="raw", zorder=3)
        ax.legend(loc="best", frameon=False)
        ax.set_title("Effect of each activity on the skills it targets")
    ax.axvline(0, color="grey", lw=1, ls="--")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("effect (score points)")
    fig.tight_layout()
    return fig


def plot_pre_post(result, *, max_people: int = 0):
    """Slope chart: mean pre and post score per skill for trained and untrained people.

    ``max_people > 0`` also draws that many individual trained trajectories per skill (thin
    lines), chosen in a fixed order (no randomness).
    """
    panel = result.panel[result.panel["included"]].copy()
    panel["group"] = np.where(panel["trained"], "trained", "untrained")
    skills = sorted(panel["skill"].unique())
    ncol = min(4, len(skills))
    nrow = int(np.ceil(len(skills) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(3 * ncol, 2.8 * nrow), sharey=True,
                             squeeze=False)
    colours = dict(zip(["trained", "untrained"], sns.color_palette("colorblind", 2),
                       strict=True))
    waves = [result.settings.get("pre_wave", "pre"), result.settings.get("post_wave", "post")]
    for ax, skill in zip(axes.ravel(), skills, strict=False):
        d = panel[panel["skill"] == skill]
        if max_people:
            for r in d[d["trained"]].head(max_people).itertuples(index=False):
                ax.plot([0, 1], [r.pre, r.post], color=colours["trained"], alpha=0.15, lw=0.8)
        means = d.groupby("group")[["pre", "post"]].mean()
        for group, row in means.iterrows():
            ax.plot([0, 1], [row["pre"], row["post"]], marker="o", lw=2.5,
                    color=colours[group], label=f"{group} (n={int((d['group'] == group).sum())})")
        ax.set_xticks([0, 1], [f"wave {waves[0]}", f"wave {waves[1]}"])
        ax.set_xlim(-0.3, 1.3)
        ax.set_title(skill, fontsize=10)
        ax.legend(fontsize=7, frameon=False)
    for ax in axes.ravel()[len(skills):]:
        ax.set_visible(False)
    fig.suptitle("Mean score before and after " + ("any training (no catalog)"
                  if result.settings.get("training") == "any" else "training on the skill"))
    fig.tight_layout()
    return fig


def plot_rci_by_team(result):
    """Share of reliable-change categories among trained person-skills, by team."""
    ind = result.individual_change
    if "team" not in ind.columns or ind["category"].isna().all():
        raise ConfigError("plot_rci_by_team needs teams (people table) and standard errors")
    d = ind[ind["trained"].astype(bool) & ind["category"].notna()]
    order = ["declined", "no reliable change", "improved"]
    shares = (pd.crosstab(d["team"], d["category"], normalize="index")
              .reindex(columns=order, fill_value=0.0).sort_index(ascending=False))
    fig, ax = plt.subplots(figsize=(8, 0.3 * max(len(shares), 4) + 1.2))
    left = np.zeros(len(shares))
    colours = {"declined": "#d55e00", "no reliable change": "#bbbbbb", "improved": "#009e73"}
    for cat in order:
        ax.barh(shares.index.astype(str), shares[cat], left=left, color=colours[cat], label=cat)
        left += shares[cat].to_numpy()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of trained person-skills")
    ax.set_title("Reliable change (Jacobson-Truax) among the trained, by team")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=8)
    fig.tight_layout()
    return fig
