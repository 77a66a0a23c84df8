"""From the JMLE fit to the reported measures: Wright's bias correction, the joint standard
errors, and the anchored estimates of extreme elements (FACETS' 0.3-point adjustment).

:func:`final_measures` takes the design and its :class:`~workbench.calibration.rasch.estimation
.RaschFit`; it multiplies the non-ratee measures and the thresholds by ``(L - 1) / L``,
re-estimates the ratees given them, propagates the other facets' uncertainty
(:mod:`~workbench.calibration.rasch.uncertainty`), and estimates each extreme element from its
adjusted score with everything else anchored. :func:`se_method` says in words which SEs were
computed (for the settings).

Examples
--------
>>> import pandas as pd
>>> from workbench.calibration.rasch.estimation import fit_jmle, rasch_design
>>> data = pd.DataFrame({"ratee": list("aabbccdd"), "skill": list("XYXYXYXY"),
...                      "score": [1, 2, 2, 3, 3, 2, 2, 1]})
>>> design = rasch_design(data, facets=("ratee", "skill"))
>>> betas, tau, (ses, model_ses), status, factor, cov = final_measures(
...     design, fit_jmle(design), bias_correction=True)
>>> round(float(factor), 3)
0.5
"""

from __future__ import annotations

import numpy as np

from workbench.calibration.rasch import uncertainty
from workbench.calibration.rasch.bias import cell_targets, solve_cells
from workbench.calibration.rasch.estimation import RaschDesign, category_moments, linear_predictor

__all__ = ["final_measures", "se_method"]


def final_measures(design: RaschDesign, fit, bias_correction: bool):
    """Corrected measures of every element (extreme ones by the adjusted score), their SEs
    and status, and the correction factor."""
    work = fit.design
    mask = work.mask()
    betas = [b.copy() for b in fit.betas]
    tau = fit.tau.copy()
    factor = 1.0
    if bias_correction:
        per_ratee = np.bincount(work.codes[0], minlength=work.sizes[0])
        L = per_ratee[per_ratee > 0].mean()
        factor = (L - 1) / L if L > 1 else 1.0
        betas[1:] = [b * factor for b in betas[1:]]
        tau = tau * factor
        others = linear_predictor(work, [np.zeros(work.sizes[0])] + [np.nan_to_num(b) for b in betas[1:]])
        target = np.bincount(work.codes[0], work.x, work.sizes[0])
        b0, _ = solve_cells(others, work.group, tau, mask, work.codes[0], work.sizes[0], target)
        betas[0] = np.where(np.isfinite(fit.betas[0]), b0, np.nan)
    # the other facets' (and thresholds') uncertainty propagated (docs/rasch.md); the
    # corrected non-ratee measures are the raw ones times the factor, and so are their SEs
    joint, model, covariance = uncertainty.joint_standard_errors(work, betas, tau)
    if joint is not None:
        joint = [j if k == 0 else j * factor for k, j in enumerate(joint)]
    ses, status = [], []
    for k, size in enumerate(design.sizes):
        has = np.bincount(design.codes[k], minlength=size) > 0
        status.append(np.where(has & ~np.isfinite(betas[k]), "pending", ""))
    pending = [s == "pending" for s in status]
    pending_se = [np.full(s, np.nan) for s in design.sizes]
    # Gauss-Seidel over facets: extreme elements can share ratings (an extreme rater of an
    # extreme ratee), so a few rounds let their anchored estimates settle.
    for _ in range(4 if any(p.any() for p in pending) else 0):
        for k, todo in enumerate(pending):
            if not todo.any():
                continue
            rows = todo[design.codes[k]]
            current = [np.nan_to_num(b) for b in betas]
            current[k] = np.zeros(design.sizes[k])
            sub = design.subset(rows)
            cell = design.codes[k][rows]
            target, ext = cell_targets(sub.x, sub.group, work.lo, work.hi, cell, design.sizes[k])
            b, se = solve_cells(linear_predictor(sub, current), sub.group, tau, mask, cell,
                                design.sizes[k], target, sign=design.signs[k])
            betas[k] = np.where(todo, b, betas[k])
            pending_se[k] = np.where(todo, se, np.nan)
            xc = np.clip(sub.x, work.lo[sub.group], work.hi[sub.group])
            top = np.bincount(cell, xc == work.hi[sub.group], design.sizes[k])
            n = np.bincount(cell, minlength=design.sizes[k])
            bottom = np.bincount(cell, xc == work.lo[sub.group], design.sizes[k])
            label = np.where(top == n, np.where(bottom == n, "one category", "maximum"),
                             "minimum")
            status[k] = np.where(todo, np.where(ext, label,
                                                ""), status[k])
    eta_keep = linear_predictor(work, [np.nan_to_num(b) for b in betas])
    _, _, V = category_moments(eta_keep, work.group, tau, mask)
    model_ses = []
    for k, size in enumerate(design.sizes):
        info = np.bincount(work.codes[k], V, size)
        with np.errstate(divide="ignore"):
            se = np.where(info > 0, 1 / np.sqrt(info), np.nan)
        model_ses.append(np.where(pending[k], pending_se[k], se))
        own = se if joint is None else np.where(np.isfinite(joint[k]), joint[k], se)
        ses.append(np.where(pending[k], pending_se[k], own))
    return betas, tau, (ses, model_ses), status, factor, covariance


def se_method(covariance) -> str:
    """How the SEs were computed, for the settings (docs/rasch.md)."""
    if covariance is None:
        return "model (FACETS'): the joint information could not be inverted"
    if covariance.cov.ndim == 1:
        return ("joint, diagonal approximation (more than "
                f"{uncertainty.MAX_JOINT} non-ratee elements: "
                "the other facets' variances propagated, their covariances dropped)")
    return "joint: the other facets' and the thresholds' uncertainty propagated"
