"""Figures of a profile solution: profile means, BIC by k and structure, a 2-D map of people.

Each returns a matplotlib ``Figure`` (made without pyplot, so nothing is shown or left open);
:class:`~workbench.profiles.result.ProfileResult` exposes them as ``plot_means``,
``plot_bic`` and ``plot_projection``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["plot_means", "plot_bic", "plot_projection"]


def _axes(ax, size=(8, 4.5)):
    from matplotlib.figure import Figure

    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


#: seaborn's "colorblind" palette (Okabe-Ito based), written out: importing seaborn (and the
#: scipy.stats it loads) cost about 2 s of CPU in every ``workbench profiles`` run.
COLORBLIND = ("#0173b2", "#de8f05", "#029e73", "#d55e00", "#cc78bc", "#ca9161", "#fbafe4",
              "#949494", "#ece133", "#56b4e9")


def _palette(k):
    """``k`` colours of :data:`COLORBLIND`, repeated as seaborn repeats them."""
    return [COLORBLIND[j % len(COLORBLIND)] for j in range(max(k, 1))]


def plot_means(res, *, standardized=True, ax=None):
    """Profile means per skill with intervals (standardised by default); a Figure."""
    fig, ax = _axes(ax, (9, 6))
    skills = list(res.scores.columns)
    m = res.means.set_index(["profile", "skill"])
    xs = np.arange(len(skills))
    colors = _palette(res.k)
    org_sd = res.scores.std(axis=0)
    for j, row in enumerate(res.profile_summary.itertuples()):
        part = m.loc[row.profile].reindex(skills)
        est, low, high = part["estimate"], part["ci_low"], part["ci_high"]
        if standardized:
            centre = res.scores.mean(axis=0)
            est, low, high = ((v - centre) / org_sd for v in (est, low, high))
        offset = (j - (res.k - 1) / 2) * 0.08
        ax.errorbar(xs + offset, est, yerr=[est - low, high - est], marker="o", capsize=3,
                    color=colors[j], label=f"{row.profile}: {row.label} (n={row.size})")
    if standardized:
        ax.axhline(0, color="grey", lw=0.8, ls="--")
        ax.set_ylabel("Profile mean (SD from the organisation's mean)")
    else:
        ax.set_ylabel("Profile mean score")
    ax.set_xticks(xs, skills, rotation=30, ha="right")
    ax.set_title(f"Skill profiles: means with {1 - res.alpha:.0%} intervals")
    ax.legend(fontsize="small", frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.3),
              ncol=2)
    return fig


def plot_bic(res, *, ax=None):
    """BIC by k, one line per structure (silhouette for k-means / Ward); a Figure."""
    fig, ax = _axes(ax)
    sel = res.model_selection
    if res.method != "lpa":
        ax.plot(sel["k"], sel["silhouette"], marker="o")
        ax.set_ylabel("Silhouette (larger is better)")
        ax.set_title(f"{res.method}: silhouette by number of profiles")
    else:
        models = list(dict.fromkeys(sel["model"]))
        colors = _palette(len(models))
        for color, model in zip(colors, models, strict=True):
            part = sel[sel["model"] == model]
            ax.plot(part["k"], part["bic"], marker="o", ms=4, color=color, label=model)
        chosen = sel[sel["selected"]]
        ax.scatter(chosen["k"], chosen["bic"], s=160, facecolors="none", edgecolors="black",
                   zorder=3, label=f"chosen: {res.model}, k={res.k}")
        ax.set_ylabel("BIC (smaller is better)")
        ax.set_title("Model selection: BIC by number of profiles and covariance structure")
        ax.legend(fontsize="small", ncol=2, frameon=False)
    ax.set_xlabel("Number of profiles (k)")
    return fig


def plot_projection(res, *, ax=None):
    """People on the first two principal components, coloured by profile; a Figure."""
    fig, ax = _axes(ax, (6.5, 5))
    x = res.scores.to_numpy()
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    u, sv, vt = np.linalg.svd(x, full_matrices=False)
    pcs = u[:, :2] * sv[:2]
    explained = sv**2 / np.sum(sv**2)
    labels = res.assignments.set_index("person").loc[res.scores.index, "profile"].to_numpy()
    colors = _palette(res.k)
    for j, row in enumerate(res.profile_summary.itertuples()):
        mask = labels == row.profile
        # Markers of a line, not a scatter collection: the same picture, drawn in a
        # fraction of the time for thousands of people.
        ax.plot(pcs[mask, 0], pcs[mask, 1], ls="", marker="o", ms=3.7, mew=0, alpha=0.7,
                color=colors[j], label=f"{row.profile}: {row.label}")
    ax.set_xlabel(f"PC1 ({explained[0]:.0%} of variance)")
    ax.set_ylabel(f"PC2 ({explained[1]:.0%} of variance)" if len(explained) > 1 else "PC2")
    ax.set_title("People on the first two principal components")
    ax.legend(fontsize="small", frameon=False, markerscale=1.5)
    return fig
