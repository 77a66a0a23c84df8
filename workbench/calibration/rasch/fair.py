"""Fair averages: the calibrated score of every ratee in every skill, with honest SEs.

A fair average is the expected rating of the person in the skill from a rater of average
severity of the reference source (``"others"``: the mean non-self source offset), on the
survey's scale. The person's measure in a skill is their ability plus their ratee x skill
interaction, estimated from that skill's ratings with every other measure anchored (unshrunk);
its SE is the interaction's model SE plus the propagated uncertainty of the measures it was
anchored on (:func:`fair_sensitivity` and the joint covariance of
:mod:`~workbench.calibration.rasch.uncertainty`), and the fair average's SE follows by the delta
method (``dE/d theta`` is the score variance). Intervals are the fair averages at the
likelihood-ratio bounds of the cell's measure (:func:`~workbench.calibration.rasch.fair
.likelihood_bounds`: the deviance's critical value widened by the joint-to-model variance
ratio; for a cell all in the top or bottom category, the exact bound on the closed side and
the scale's end on the other), so they stay on the scale.

Examples
--------
>>> from workbench.calibration.rasch.calibrate import calibrate_rasch
>>> from workbench.synth.generator import generate_organisation
>>> res = calibrate_rasch(generate_organisation(60, seed=4, n_waves=1).ratings,
...                       interactions=())
>>> bool((res.scores["ci_low"] <= res.scores["score"]).all())
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import special

from workbench.calibration.rasch.bias import cell_targets, solve_cells
from workbench.calibration.rasch.estimation import category_moments, linear_predictor

__all__ = ["fair_scores", "fair_sensitivity", "likelihood_bounds", "OPEN"]

#: Logits beyond an extreme cell's estimate that stand for its open (infinite) bound.
OPEN = 50.0


def fair_sensitivity(design, betas, tau, cells, n_cells, skill_code, weights, factor, mask):
    """d(fair measure of each cell) / d(every element's measure), sparse (cells x elements).

    A cell's measure solves sum(x - E) = 0 over its ratings given the other facets, so it
    moves with each non-ratee element by that element's share of the cell's information
    (``V``-weighted); the fair measure subtracts the skill (whose share is 1) and the
    reference (the weighted source offsets). Corrected measures are the raw ones times the
    correction factor, hence the factor."""
    eta = linear_predictor(design, [np.nan_to_num(b) for b in betas])
    _, _, V = category_moments(eta, design.group, tau, mask)
    total = np.bincount(cells, V, n_cells)
    share = sp.csr_matrix((V / np.where(total[cells] > 0, total[cells], 1.0),
                           (cells, np.arange(len(cells)))), shape=(n_cells, len(cells)))
    X = design.indicators.tocsc()
    offsets = np.cumsum([0, *design.sizes])
    keep = np.ones(offsets[-1])
    keep[: offsets[1]] = 0.0  # the ratee's own measure is inside the cell's
    G = -(share @ X) @ sp.diags(keep)
    k_skill = design.facets.index("skill")
    G = G.tocsr() - sp.csr_matrix((np.ones(n_cells), (np.arange(n_cells),
                                                      offsets[k_skill] + skill_code)),
                                  shape=G.shape)
    if "source" in design.facets and weights:
        k = design.facets.index("source")
        labels = list(design.labels[k])
        ref = np.zeros(G.shape[1])
        for source, w in weights.items():
            if source in labels:
                ref[offsets[k] + labels.index(source)] = w
        G = G - sp.csr_matrix(np.ones((n_cells, 1))) @ sp.csr_matrix(ref[None, :])
    return G * factor


def fair_scores(data, design, fit, betas, tau, structures, thresholds, ref, alpha,
            covariance=None, weights=None, factor=1.0):
    """Fair average of every ratee in every skill (see the module docstring)."""
    work = fit.design
    mask = work.mask()
    k_skill = design.facets.index("skill")
    n_skills = design.sizes[k_skill]
    pairs, cells = np.unique(design.codes[0] * n_skills + design.codes[k_skill],
                             return_inverse=True)
    n_cells = len(pairs)
    eta = linear_predictor(design, [np.nan_to_num(b) for b in betas])
    target, extreme = cell_targets(design.x, design.group, work.lo, work.hi, cells, n_cells)
    b, se_b = solve_cells(eta, design.group, tau, mask, cells, n_cells, target)
    ratee_code, skill_code = np.divmod(pairs, n_skills)
    inflation = np.ones(n_cells)
    if covariance is not None:  # the other facets' uncertainty, propagated
        G = fair_sensitivity(design, betas, tau, cells, n_cells, skill_code, weights, factor,
                              mask)
        total = np.sqrt(se_b ** 2 + covariance.quad(G))
        inflation = (total / se_b) ** 2
        se_b = total
    z = special.ndtri(1 - alpha / 2)
    xc = np.clip(design.x, work.lo[design.group], work.hi[design.group])
    side = _sides(xc, design.group, work, cells, n_cells)
    # an extreme cell's closed bound is exact: where all-top (all-bottom) ratings have
    # probability alpha / 2, as the other side of a two-sided interval is the scale's end
    critical = np.where(side != 0, 2 * np.log(2 / alpha), z * z) * inflation
    b_low, b_high = likelihood_bounds(eta, design.group, tau, mask, xc, cells, n_cells, b,
                                      side, critical)
    measure = betas[0][ratee_code] + b
    eta_fair = measure - betas[k_skill][skill_code] - ref
    group = None if thresholds == "rater" else (skill_code if thresholds == "skill"
                                                 else np.zeros(n_cells, int))
    score, slope = structures.expected(eta_fair, group)
    low, _ = structures.expected(eta_fair - b + b_low, group)
    high, _ = structures.expected(eta_fair - b + b_high, group)
    low, high = (np.clip(v, work.values[0], work.values[-1]) for v in (low, high))
    frame = pd.DataFrame({"element": design.labels[0][ratee_code].astype(str),
                          "skill": design.labels[k_skill][skill_code].astype(str),
                          "score": score, "se": slope * se_b, "ci_low": low, "ci_high": high,
                          "measure": measure, "measure_se": se_b, "extreme": extreme})
    keys = data.drop_duplicates("element").set_index("element")[["ratee", "wave"]]
    frame.insert(0, "ratee", keys.reindex(frame["element"])["ratee"].to_numpy())
    frame.insert(2, "wave", keys.reindex(frame["element"])["wave"].to_numpy())
    others = data[data["source"] != "self"]
    raw = others.groupby(["element", "skill"])["score"].mean().rename("raw_mean")
    counts = data.groupby(["element", "skill"]).agg(n_ratings=("score", "size"),
                                                    n_raters=("rater", "nunique"))
    if "item" in design.facets:
        counts["n_items"] = data.groupby(["element", "skill"])["item"].nunique()
    frame = frame.join(raw, on=["element", "skill"]).join(counts, on=["element", "skill"])
    frame = frame.drop(columns="element")
    if data["wave"].nunique() == 1:
        frame = frame.drop(columns="wave")
    return frame.sort_values(["ratee", "skill"] + (["wave"] if "wave" in frame else [])
                             ).reset_index(drop=True)


def _sides(xc, group, work, cells, n_cells):
    """+1 for cells whose ratings are all in their groups' top category, -1 all bottom, 0 else."""
    n = np.bincount(cells, minlength=n_cells)
    top = np.bincount(cells, xc == work.hi[group], n_cells) == n
    bottom = np.bincount(cells, xc == work.lo[group], n_cells) == n
    return np.where(top & ~bottom, 1, np.where(bottom & ~top, -1, 0))


def likelihood_bounds(eta, group, tau, mask, x, cells, n_cells, b, side, critical,
                      n_iter=30, tol=1e-8):
    """Likelihood-ratio bounds of each cell's measure ``b`` (all else anchored).

    The bounds are where the cell's deviance ``2 (max l - l(b))`` reaches ``critical``
    (``z^2`` times the ratio of the cell's joint to its model variance, so the other facets'
    uncertainty widens them as it widens the SE). A cell whose ratings are all in the top
    category (``side`` +1) has its maximum at infinity: its upper bound is ``OPEN`` logits
    above its estimate (the fair average there is the scale's top to machine precision) and
    its lower bound is where the probability of all top ratings has fallen to
    ``exp(-critical / 2)``; all bottom (-1) mirrors it. Newton's method on each side: the
    deviance is convex in ``b``, so after the first step the iterates approach the bound
    from outside, monotonically (steps capped at 2 logits).

    Returns
    -------
    low, high : arrays (n_cells,)
    """
    def deviance(offset, peak):
        P, E, _ = category_moments(eta + offset[cells], group, tau, mask)
        with np.errstate(divide="ignore"):
            ll = np.bincount(cells, np.log(P[np.arange(len(x)), x]), n_cells)
        return 2 * (peak - ll), -2 * np.bincount(cells, x - E, n_cells)

    centre = np.nan_to_num(b)
    peak = np.where(side == 0, -deviance(centre, 0.0)[0] / 2, 0.0)
    bounds = []
    for direction in (-1.0, 1.0):
        open_side = side == direction
        # start a step outside the estimate (the closed side of an extreme cell: from it)
        bound = centre + direction * np.where(side == 0, 0.5, 0.0)
        for _ in range(n_iter):
            value, slope = deviance(bound, peak)
            step = -(value - critical) / np.where(np.abs(slope) > 1e-12, slope, np.nan)
            step = np.clip(np.nan_to_num(step, nan=direction * 2.0), -2.0, 2.0)
            step[open_side] = 0.0
            bound = bound + step
            if np.abs(step).max() < tol:
                break
        bound = np.where(open_side, centre + direction * OPEN, bound)
        # the interval holds the estimate (an extreme cell's adjusted one included)
        bound = np.minimum(bound, centre) if direction < 0 else np.maximum(bound, centre)
        bounds.append(np.where(np.isfinite(b), bound, np.nan))
    return bounds[0], bounds[1]
