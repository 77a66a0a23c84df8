"""How strongly the errors of a person's calibrated scores in two waves are correlated.

A calibrated score's error is mostly its raters' noise: their halo for the person
(``rater:ratee``), the residual and the error in their estimated leniency. When the same raters
rate in both waves, part of that noise comes back: a rater's *lasting impression* of a person
(the part of the halo that persists between waves) and the error in the rater's leniency
enter both scores. Impact analyses compare a person's two waves and must know this covariance
(:func:`workbench.impact.regression.calibrated_pre`); the scores alone cannot reveal it (it is
confounded with how stable the true scores are), the ratings can. This module owns it:

* :func:`lasting_impression` splits the fitted halo variance ``sigma_h^2`` (``rater:ratee``,
  fitted within each wave) into a lasting part ``sigma_L^2`` and an occasion part, by a
  moment estimator on the raters who rate a person in both waves. Per rater-person-wave the
  mean rating net of the fixed effects (source offset, skill-by-wave mean) is
  ``m = t[i, w] + l[r] + L[r, i] + o[r, i, w] + e``; centred across the person's shared
  raters within each wave, the person's level ``t`` drops out, and the cross-wave products
  have expectation ``(k - 1)(sigma_l^2 + sigma_L^2)`` for ``k`` shared raters (only the
  persistent parts, leniency ``l`` and the lasting impression ``L``, survive across waves).
  ``sigma_L^2`` is that estimate minus the fitted rater variance ``sigma_l^2``, kept within
  ``[0, sigma_h^2]``.
* :func:`wave_error_correlation` computes, per person, skill and wave, the correlation between
  the rating-noise parts of the errors of this wave's score and of the previous wave's score.
  Within a wave the calibrated score (``ratee`` + ``ratee:skill`` BLUP at the estimated fixed
  and rater effects) is ``k_s' (y - fixed - leniency)`` with ``k_s = V^-1 c_s``, ``V = sigma_a^2
  J + sigma_b^2 S S' + sigma_h^2 R R' + sigma_e^2 I`` the covariance of the person's ratings in
  that wave and ``c_s = sigma_a^2 1 + sigma_b^2 S_s`` (``S``, ``R`` skill and rater indicators).
  With ``g = R' k_s`` (each rater's total weight) the noise of the score has variance
  ``sum_r g_r^2 (sigma_h^2 + pev_r) + sigma_e^2 |k_s|^2`` and its covariance with the previous
  wave's is ``sum_{r in both} g1_r g2_r (sigma_L^2 + pev_r)``, ``pev_r`` the conditional
  variance of rater ``r``'s leniency. The correlation does not depend on how much the score was
  shrunk, so it holds for the shrunken scores and for scores un-shrunk as impact does
  (:func:`workbench.impact.panel.undo_shrinkage`). ``k_s`` is computed through the
  ``q x q`` system of the person's effects (``q`` = 1 + skills + raters; Woodbury), batched.

With items (ratings with an ``item`` column, calibrated at item level: docs/calibration.md,
"Items") the item term enters twice. The items' fixed effects (sum-to-zero within a skill) are
taken off each rating before the moment estimator, so a rater who answered the harder items of
a competency in one wave does not look lenient; and the rater's view of the ratee's competency
shared by its items (``rater:ratee:skill:wave``, variance ``sigma_v^2``) joins ``V`` (one
effect per rater and skill, ``q = 1 + skills + raters x (1 + skills)``), so with ``g_rt`` the
weight of rater ``r``'s answers on skill ``t`` the noise variance gains ``sigma_v^2 sum_rt
g_rt^2``. That view is fitted within each wave: it is occasion noise and adds nothing to the
covariance (its lasting part, if any, is averaged over the skills into the moment estimator's
persistent part). Checked against the dense brute force with the item term in
``tests/calibration/test_wave_covariance_items.py``.

Neglected, and why: the covariance between a rater's estimated leniency and their halos (a
rater's leniency is estimated from several people), the fixed effects' sampling error
(common to everyone, absorbed by an intercept downstream), and the part of a score's error
that comes from the person's own true scores (the general level and the skill standing are
shrunk differently; it is not rating noise). On the 5,000-person demo organisations the mean
correlation is 0.17 while un-shrunk errors against the truth correlate 0.21 (docs/impact.md).

The scores contract carries the result as ``error_corr`` (the later wave's row; NaN in a
person's first wave), added by :meth:`workbench.calibration.result.Calibration.to_scores` for
joint calibrations of several waves.

Examples
--------
>>> from workbench.synth import generate_organisation
>>> from workbench.calibration import calibrate_ratings
>>> cal = calibrate_ratings(generate_organisation(60, seed=5).ratings, waves="joint")
>>> corr = wave_error_correlation(cal)
>>> corr.columns.tolist()
['person', 'skill', 'wave', 'previous_wave', 'covariance', 'variance', 'previous_variance', 'error_corr']
>>> bool(corr["error_corr"].between(0, 1).all())
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.errors import ConfigError
from workbench.tables.scores import wave_order

__all__ = ["lasting_impression", "wave_error_correlation"]

#: Person-waves solved together (memory: about batch * q^2 * 8 bytes, q = 1 + skills + raters).
_BATCH = 2000


def _check(cal):
    for attribute in ("ratings", "models", "settings"):
        if not hasattr(cal, attribute):
            raise ConfigError(f"expected a Calibration (from calibrate_ratings), got "
                              f"{type(cal).__name__}")
    if cal.settings.get("waves") != "joint" or cal.ratings["wave"].nunique() < 2:
        raise ConfigError("the between-wave error covariance needs a calibration of several "
                          "waves fitted jointly: calibrate_ratings(ratings, waves='joint')")


def _variance(model, name):
    variances = model.variances
    return float(variances[name]) if name in variances.index else 0.0


def _coded(cal, subset):
    """One subset's ratings with integer codes (string columns are slow to group and merge).

    Returns the frame (ratee, rater, source, skill as codes; wave; score) and the labels of
    each coded column.
    """
    part = cal.ratings[cal.ratings["subset"] == subset]
    frame = pd.DataFrame({"wave": part["wave"].to_numpy(),
                          "score": part["score"].to_numpy(dtype=float)})
    labels = {}
    for column in ("ratee", "rater", "source", "skill", "item"):
        if column not in part:  # no item column: ratings at the competency level
            continue
        codes, uniques = pd.factorize(part[column], sort=column == "skill")
        frame[column] = codes
        labels[column] = pd.Index(np.asarray(uniques, dtype=object).astype(str))
    return frame, labels


def _item_offsets(part, labels, fe) -> np.ndarray:
    """Each rating's item effect: the sum-to-zero contrasts within its skill (``item[<i>]``
    for every item but the last of its skill, which carries minus their sum, as the
    calibration codes them: docs/calibration.md, "Items"); zero without items."""
    if "item" not in part or not fe.index.str.startswith("item[").any():
        return np.zeros(len(part))
    pairs = part[["skill", "item"]].drop_duplicates()
    pairs = pairs.assign(skill_name=labels["skill"][pairs["skill"].to_numpy()],
                         item_name=labels["item"][pairs["item"].to_numpy()])
    effect = np.zeros(len(labels["item"]))
    for _, group in pairs.sort_values(["skill_name", "item_name"]).groupby("skill", sort=False):
        coefs = [float(fe.get(f"item[{name}]", 0.0)) for name in group["item_name"][:-1]]
        effect[group["item"].to_numpy()] = coefs + [-sum(coefs)]
    return effect[part["item"].to_numpy()]


def _net_of_fixed(part, labels, model):
    """Each rating minus its source offset and its skill-by-wave (or wave) mean."""
    fe = model.fe_params
    group = part.groupby(["source", "skill", "wave"], sort=False)
    combos = group.size().index.to_frame(index=False)
    offset = np.zeros(len(combos))
    source = pd.Series(labels["source"][combos["source"]])
    skill = pd.Series(labels["skill"][combos["skill"]])
    wave = combos["wave"].astype(str)
    for name in ("source[T." + source + "]", "skill_wave[T." + skill + " | wave " + wave + "]",
                 "wave_f[T.wave " + wave + "]", "skill[T." + skill + "]"):
        offset += name.map(fe).fillna(0.0).to_numpy()
    return (part["score"].to_numpy() - offset[group.ngroup().to_numpy()]
            - _item_offsets(part, labels, fe))


def _subset_lasting(part, labels, model):
    """Moment sums of one fitted subset: (sum of cross-wave products, sum of k - 1)."""
    frame = part[["ratee", "rater", "wave"]].assign(net=_net_of_fixed(part, labels, model))
    pairs = frame.groupby(["ratee", "rater", "wave"], sort=False)["net"].mean().reset_index()
    waves = wave_order(pairs["wave"].unique())
    products = []
    for before, after in zip(waves[:-1], waves[1:], strict=True):
        one = pairs[pairs["wave"] == before].drop(columns="wave")
        two = pairs[pairs["wave"] == after].drop(columns="wave")
        both = one.merge(two, on=["ratee", "rater"], suffixes=("_1", "_2"))
        k = both.groupby("ratee")["rater"].transform("size")
        both = both[k >= 2].copy()
        for column in ("net_1", "net_2"):
            both[column] -= both.groupby("ratee")[column].transform("mean")
        both["product"] = both["net_1"] * both["net_2"]
        per_person = both.groupby("ratee").agg(total=("product", "sum"), k=("product", "size"))
        products.append(per_person)
    return pd.concat(products) if products else pd.DataFrame(columns=["total", "k"])


def lasting_impression(cal) -> pd.DataFrame:
    """Split the halo variance into a lasting part (carried between waves) and an occasion part.

    Parameters
    ----------
    cal : Calibration
        A joint calibration of several waves (``calibrate_ratings(ratings, waves="joint")``).

    Returns
    -------
    DataFrame
        One row per fitted subset: ``subset``, ``persistent`` (estimate of ``sigma_l^2 +
        sigma_L^2`` from the cross-wave products, with ``persistent_se``), ``rater``
        (fitted leniency variance ``sigma_l^2``), ``halo`` (fitted ``rater:ratee`` variance
        ``sigma_h^2``), ``estimate`` (``sigma_L^2``, the lasting part, kept within ``[0,
        sigma_h^2]``), ``se`` (the persistent part's SE; the rater variance's own uncertainty
        is not included), ``share`` (``sigma_L^2 / sigma_h^2``), ``n`` (people with two or
        more raters in consecutive waves) and ``n_raters`` (their shared raters).

    Notes
    -----
    The estimator is unbiased for ``sigma_l^2 + sigma_L^2`` under the calibration model with
    a lasting rater-by-person term (see the module docstring); its SE treats people as
    independent. Checked against the known halo of synthetic organisations in
    ``tests/calibration/test_wave_covariance.py``.

    Examples
    --------
    >>> from workbench.synth import generate_organisation
    >>> from workbench.calibration import calibrate_ratings
    >>> cal = calibrate_ratings(generate_organisation(60, seed=5).ratings, waves="joint")
    >>> lasting_impression(cal).columns.tolist()[:5]
    ['subset', 'persistent', 'persistent_se', 'rater', 'halo']
    """
    _check(cal)
    rows = []
    for subset, model in cal.models.items():
        sums = _subset_lasting(*_coded(cal, subset), model)
        df = float((sums["k"] - 1).sum()) if len(sums) else 0.0
        persistent = float(sums["total"].sum()) / df if df > 0 else np.nan
        resid = sums["total"] - persistent * (sums["k"] - 1)
        se = float(np.sqrt((resid**2).sum())) / df if df > 0 else np.nan
        rater = _variance(model, "rater")
        halo = _variance(model, "rater:ratee:wave")
        lasting = float(np.clip(persistent - rater, 0.0, halo)) if df > 0 else 0.0
        rows.append({"subset": subset, "persistent": persistent, "persistent_se": se,
                     "rater": rater, "halo": halo, "estimate": lasting, "se": se,
                     "share": lasting / halo if halo > 0 else np.nan, "n": len(sums),
                     "n_raters": int(sums["k"].sum()) if len(sums) else 0})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# The weights of each rater in a person's score
# --------------------------------------------------------------------------------------------


def _person_waves(part):
    """Codes of one subset's ratings: person-wave, rater slot within the person-wave."""
    cell = part.groupby(["ratee", "wave"], sort=False).ngroup().to_numpy()
    pair = part.groupby(["ratee", "wave", "rater"], sort=False).ngroup().to_numpy()
    first = pd.DataFrame({"cell": cell, "pair": pair}).drop_duplicates("pair")
    slot_of_pair = np.empty(len(first), dtype=np.int64)
    slot_of_pair[first["pair"].to_numpy()] = first.groupby("cell").cumcount().to_numpy()
    return cell, slot_of_pair[pair]


def _weights(counts, sa, sb, sh, se2, sv=0.0):
    """Rater weights ``g`` (cells x skills x slots), ``|k_s|^2`` and, with items, the sum of
    squared rater-by-skill weights (cells x skills; zeros when ``sv`` is 0).

    ``counts[c, s, r]`` is the number of ratings of rater slot ``r`` on skill ``s`` in
    person-wave ``c``. Effects: one person level, one per skill, one per rater slot and, with
    items (``sv``, the ``rater:ratee:skill`` view shared by a competency's items), one per
    rater slot and skill.
    """
    n_cells, n_skills, n_slots = counts.shape
    views = n_slots * n_skills if sv > 0 else 0
    q = 1 + n_skills + n_slots + views
    ztz = np.zeros((n_cells, q, q))
    per_skill = counts.sum(axis=2)
    per_slot = counts.sum(axis=1)
    ztz[:, 0, 0] = per_skill.sum(axis=1)
    sk = np.arange(1, 1 + n_skills)
    sl = np.arange(1 + n_skills, 1 + n_skills + n_slots)
    ztz[:, 0, sk] = ztz[:, sk, 0] = per_skill
    ztz[:, 0, sl] = ztz[:, sl, 0] = per_slot
    ztz[:, sk, sk] = per_skill
    ztz[:, sl, sl] = per_slot
    sl_end = 1 + n_skills + n_slots
    ztz[:, 1:1 + n_skills, 1 + n_skills:sl_end] = counts
    ztz[:, 1 + n_skills:sl_end, 1:1 + n_skills] = counts.transpose(0, 2, 1)
    if views:  # view (r, t) at sl_end + r * n_skills + t: rated n = counts[t, r] times
        vw = sl_end + np.arange(views)
        flat = counts.transpose(0, 2, 1).reshape(n_cells, views)  # [r * n_skills + t]
        t_of, r_of = np.tile(np.arange(n_skills), n_slots), np.repeat(np.arange(n_slots),
                                                                        n_skills)
        ztz[:, 0, vw] = ztz[:, vw, 0] = flat
        ztz[:, 1 + t_of, vw] = ztz[:, vw, 1 + t_of] = flat
        ztz[:, 1 + n_skills + r_of, vw] = ztz[:, vw, 1 + n_skills + r_of] = flat
        ztz[:, vw, vw] = flat
    g_diag = np.concatenate([[sa], np.full(n_skills, sb), np.full(n_slots, sh),
                             np.full(views, sv)])
    # k_s = V^-1 Z G u_s = Z (se2 I + G Z'Z)^-1 G u_s  (push-through identity)
    system = se2 * np.eye(q) + g_diag[None, :, None] * ztz
    rhs = np.zeros((q, n_skills))
    rhs[0, :] = sa
    rhs[sk, np.arange(n_skills)] = sb
    w = np.linalg.solve(system, np.broadcast_to(rhs, (n_cells, q, n_skills)))
    zk = ztz @ w  # Z'Z w: rows are Z' k_s
    g = zk[:, 1 + n_skills:sl_end, :].transpose(0, 2, 1)  # cells x skills x slots
    knorm = np.einsum("cqs,cqs->cs", w, zk)  # |k_s|^2 = w' Z'Z w
    vnorm = (zk[:, sl_end:, :] ** 2).sum(axis=1)  # sum over views of their weight squared
    return g, knorm, vnorm


def _subset_weights(part, n_skills, model):
    """Long table: person, wave, skill, rater (codes), g; and per person, wave, skill |k|^2."""
    sa = _variance(model, "ratee:wave")
    sb = _variance(model, "ratee:skill:wave")
    sh = _variance(model, "rater:ratee:wave")
    se2 = _variance(model, "residual")
    sv = _variance(model, "rater:ratee:skill:wave")
    cell, slot = _person_waves(part)
    skill = part["skill"].to_numpy()
    keys = pd.DataFrame({"ratee": part["ratee"].to_numpy(), "wave": part["wave"].to_numpy(),
                         "rater": part["rater"].to_numpy(), "cell": cell, "slot": slot})
    cells = keys.drop_duplicates("cell").sort_values("cell")
    n_cells = len(cells)
    n_slots = slot.max() + 1 if len(slot) else 0
    pairs = keys.drop_duplicates(["cell", "slot"])
    rater_of = np.full((n_cells, n_slots), -1, dtype=np.int64)
    rater_of[pairs["cell"].to_numpy(), pairs["slot"].to_numpy()] = pairs["rater"].to_numpy()
    long, norms = [], []
    # the same memory per batch whatever q (rater-by-skill views make q much larger)
    q, q0 = 1 + n_skills + n_slots * (1 + (n_skills if sv > 0 else 0)), 1 + n_skills + n_slots
    batch = max(20, int(_BATCH * (q0 / q) ** 2))
    order = np.argsort(cell, kind="stable")
    bounds = np.searchsorted(cell[order], np.arange(0, n_cells + batch, batch))
    for b, start in enumerate(range(0, n_cells, batch)):
        stop = min(start + batch, n_cells)
        rows = order[bounds[b]:bounds[b + 1]]
        counts = np.zeros((stop - start, n_skills, n_slots))
        np.add.at(counts, (cell[rows] - start, skill[rows], slot[rows]), 1.0)
        g, knorm, vnorm = _weights(counts, sa, sb, sh, se2, sv)
        rated = np.broadcast_to(counts.sum(axis=1)[:, None, :] > 0, g.shape)
        c, s, r = np.nonzero(rated)
        long.append(pd.DataFrame({"cell": c + start, "skill": s,
                                  "rater": rater_of[c + start, r], "g": g[c, s, r]}))
        cs, ss = np.meshgrid(np.arange(stop - start), np.arange(n_skills), indexing="ij")
        norms.append(pd.DataFrame({"cell": (cs + start).ravel(), "skill": ss.ravel(),
                                   "knorm": knorm.ravel(), "vnorm": vnorm.ravel()}))
    long = pd.concat(long, ignore_index=True)
    norms = pd.concat(norms, ignore_index=True)
    person = cells["ratee"].to_numpy()
    wave = cells["wave"].to_numpy()
    for frame in (long, norms):
        frame["person"] = person[frame["cell"].to_numpy()]
        frame["wave"] = wave[frame["cell"].to_numpy()]
    return long.drop(columns="cell"), norms.drop(columns="cell")


def wave_error_correlation(cal) -> pd.DataFrame:
    """Correlation between the errors of a person's scores in consecutive waves.

    Parameters
    ----------
    cal : Calibration
        A joint calibration of several waves (``calibrate_ratings(ratings, waves="joint")``).

    Returns
    -------
    DataFrame
        One row per person, skill and wave that has a previous wave: ``person``, ``skill``,
        ``wave``, ``previous_wave``, ``covariance`` (of the rating-noise parts of the two
        calibrated scores' errors, in squared score units), ``variance`` and
        ``previous_variance`` (the noise variances of the two scores), ``error_corr``
        (``covariance / sqrt(variance * previous_variance)``).

    Notes
    -----
    Formulas in the module docstring. The lasting part of the halo comes from
    :func:`lasting_impression`; the conditional variances of the raters' leniencies from the
    fitted model. Checked against a brute-force computation with each person's dense rating
    covariance in ``tests/calibration/test_wave_covariance.py``; its use by impact against the
    true training effects in ``tests/impact/test_calibrated_coverage.py``.
    """
    _check(cal)
    lasting = lasting_impression(cal).set_index("subset")["estimate"]
    out = []
    for subset, model in cal.models.items():
        part, labels = _coded(cal, subset)
        long, norms = _subset_weights(part, len(labels["skill"]), model)
        pev = (model.blups["rater"]["se"] ** 2 if "rater" in model.blups
               else pd.Series(dtype=float))
        pev.index = pev.index.astype(str)
        long["pev"] = pev.reindex(labels["rater"]).fillna(0.0).to_numpy()[long["rater"]]
        sh = _variance(model, "rater:ratee:wave")
        se2 = _variance(model, "residual")
        long["noise"] = long["g"] ** 2 * (sh + long["pev"])
        keys = ["person", "skill", "wave"]
        variance = long.groupby(keys)["noise"].sum().rename("variance").reset_index()
        variance = variance.merge(norms, on=keys, how="left")
        sv = _variance(model, "rater:ratee:skill:wave")
        variance["variance"] += se2 * variance["knorm"] + sv * variance["vnorm"]
        waves = wave_order(part["wave"].unique())
        for before, after in zip(waves[:-1], waves[1:], strict=True):
            one = long[long["wave"] == before]
            two = long[long["wave"] == after]
            both = one.merge(two[["person", "skill", "rater", "g"]],
                             on=["person", "skill", "rater"], suffixes=("_1", "_2"))
            both["shared"] = both["g_1"] * both["g_2"] * (lasting[subset] + both["pev"])
            cov = both.groupby(["person", "skill"])["shared"].sum().rename("covariance")
            v1 = variance[variance["wave"] == before].set_index(["person", "skill"])["variance"]
            v2 = variance[variance["wave"] == after].set_index(["person", "skill"])["variance"]
            table = pd.concat([v2.rename("variance"), v1.rename("previous_variance")],
                              axis=1, join="inner")
            table["covariance"] = cov.reindex(table.index).fillna(0.0)
            table["wave"] = after
            table["previous_wave"] = before
            table = table.reset_index()
            table["person"] = labels["ratee"][table["person"].to_numpy()]
            table["skill"] = labels["skill"][table["skill"].to_numpy()]
            out.append(table)
    table = pd.concat(out, ignore_index=True)
    table["error_corr"] = table["covariance"] / np.sqrt(table["variance"]
                                                       * table["previous_variance"])
    return table[["person", "skill", "wave", "previous_wave", "covariance", "variance",
                  "previous_variance", "error_corr"]]
