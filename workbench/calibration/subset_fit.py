"""Fitting the calibration model to one connected subset of the ratings.

:func:`fit_subset` builds the fixed part (source offsets, skill or skill-by-wave effects and,
for item-level ratings, the items' sum-to-zero contrasts of :func:`item_contrasts`), fits the
random terms by REML (:func:`workbench.calibration.mixed.model.fit_mixed`) and turns the fit into
calibrated scores with their standard errors on the reference scale, rater effects
(:func:`rater_effects`) and source offsets (:func:`source_effects`). The definitions are in
:mod:`workbench.calibration.calibrate`, the front door that calls it once per subset; the names
here are its internal interface.

Examples
--------
>>> data = pd.DataFrame({"skill": ["A", "A", "B", "B", "B"],
...                      "item": ["a1", "a2", "b1", "b2", "b3"]})
>>> item_contrasts(data)["item[a1]"].tolist()
[1.0, -1.0, 0.0, 0.0, 0.0]
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from workbench.calibration.mixed.model import fit_mixed
from workbench.calibration.mixed.vc_uncertainty import vc_correction
from workbench.calibration.preparation import (
    ITEM_PREFIX,
    WAVE_TERMS,
    itemised,
    reference_weights,
)

__all__: list[str] = []


def item_contrasts(data: pd.DataFrame):
    """Numeric fixed columns for the items, sum-to-zero within each competency.

    For a skill with items ``i_1 .. i_k`` (sorted) the ``k - 1`` columns are 1 on ``i_j``, -1
    on ``i_k`` and 0 elsewhere, so the skill's own fixed effect stays the mean over its items
    (what the average item of the competency gives) and a skill with one item adds nothing.

    Returns
    -------
    columns : dict
        Column name (``"item[<item>]"``) to its values, one per item but the last of each skill.
    """
    columns = {}
    items = data[["skill", "item"]].drop_duplicates().sort_values(["skill", "item"])
    item = data["item"].to_numpy()
    for _, group in items.groupby("skill", sort=True):
        names = group["item"].tolist()
        if len(names) < 2:
            continue
        last = (item == names[-1]).astype(float)
        for name in names[:-1]:
            columns[f"{ITEM_PREFIX}[{name}]"] = (item == name).astype(float) - last
    return columns



def fixed_row(columns, values: dict) -> np.ndarray:
    """Design row for the given factor values, by treatment-coded column name."""
    row = np.zeros(len(columns))
    names = list(columns)
    row[names.index("Intercept")] = 1.0
    for factor, value in values.items():
        name = f"{factor}[T.{value}]"
        if name in names:
            row[names.index(name)] = 1.0
    return row



def fit_subset(data, terms, skill_effects, reference, waves, alpha, progress=None,
                vc_uncertainty="none"):
    """Fit the calibration model to one connected subset of the ratings.

    Builds the fixed part (source offsets, skill or skill-by-wave effects), fits ``terms``
    (by wave when ``waves == "joint"``) by REML, adds the variance components' uncertainty when
    asked, and returns ``(model, cells, rater_effects, source_effects)``: the fitted
    :class:`~workbench.calibration.mixed.model.MixedResult`, the calibrated person-skill(-wave)
    scores with SEs and intervals on the ``reference`` scale, and the rater and source effects.
    """
    joint = waves == "joint"
    model_terms = [WAVE_TERMS[t] if joint else t for t in terms]
    fixed = []
    sources = sorted(data["source"].unique().tolist())
    if len(sources) > 1:
        fixed.append("source")
    data = data.copy()
    n_waves = data["wave"].nunique()
    cell_factor = None
    if joint and n_waves > 1:
        if skill_effects:
            data["skill_wave"] = data["skill"] + " | wave " + data["wave"].astype(str)
            cell_factor = "skill_wave"
        else:
            data["wave_f"] = "wave " + data["wave"].astype(str)
            cell_factor = "wave_f"
        fixed.append(cell_factor)
    elif skill_effects and data["skill"].nunique() > 1:
        cell_factor = "skill"
        fixed.append("skill")
    if itemised(data):
        contrasts = item_contrasts(data)
        data = data.assign(**contrasts)
        fixed.extend(contrasts)
    model = fit_mixed(data, response="score", fixed=fixed, random=model_terms, method="REML",
                      progress=progress)
    weights = reference_weights(sources, reference)
    columns = model.fe_params.index

    cells = (data.assign(is_self=data["source"] == "self")
             .groupby(["ratee", "skill", "wave"], sort=True)
             .agg(n_ratings=("score", "size"), n_raters=("rater", "nunique"),
                  self_only=("is_self", "all"))
             .reset_index())
    if "item" in data:
        cells["n_items"] = (data.groupby(["ratee", "skill", "wave"], sort=True)["item"]
                            .nunique().to_numpy())
    others = data[data["source"] != "self"]
    raw = others.groupby(["ratee", "skill", "wave"])["score"].mean().rename("raw_mean")
    cells = cells.join(raw, on=["ratee", "skill", "wave"])

    # Fixed part of each cell: intercept + cell effect + weighted reference source offset.
    def cell_value(row):
        if cell_factor == "skill_wave":
            return f"{row['skill']} | wave {row['wave']}"
        if cell_factor == "wave_f":
            return f"wave {row['wave']}"
        return row["skill"]

    unique_cells = cells[["skill", "wave"]].drop_duplicates()
    rows = {}
    for _, row in unique_cells.iterrows():
        vec = np.zeros(len(columns))
        for src, w in weights.items():
            values = {"source": src}
            if cell_factor:
                values[cell_factor] = cell_value(row)
            vec += w * fixed_row(columns, values)
        rows[(row["skill"], row["wave"])] = vec
    F = np.vstack([rows[(s, w)] for s, w in zip(cells["skill"], cells["wave"], strict=True)])
    estimate = F @ model.fe_params.to_numpy()

    random = []
    for term in ("ratee", "ratee:skill"):
        if term not in terms:
            continue
        name = WAVE_TERMS[term] if joint else term
        parts = name.split(":")
        labels = model.blups[name].index
        keys = cells[parts]
        if len(parts) == 1:
            codes = labels.get_indexer(keys[parts[0]])
        else:
            codes = labels.get_indexer(pd.MultiIndex.from_frame(keys))
        estimate = estimate + model.blups[name]["estimate"].to_numpy()[codes]
        random.append((name, codes))
    var = model._combination_variance(F, random)
    vc = vc_correction(model, F, random, vc_uncertainty=vc_uncertainty,
                       n_ratees=data["ratee"].nunique())  # zeros for "none"
    model.settings.update(vc.settings(var))
    var = var + vc.scores
    model._release()  # the per-block arrays are no longer needed (and are GBs at 50,000)
    se = np.sqrt(np.maximum(var, 0.0))
    z = special.ndtri(1 - alpha / 2)
    cells["score"] = estimate
    cells["se"] = se
    cells["ci_low"] = estimate - z * se
    cells["ci_high"] = estimate + z * se

    rater_eff = rater_effects(model, data)
    if vc.raters is not None:
        rater_eff["se"] = np.sqrt(rater_eff["se"] ** 2 + vc.raters)
    source_eff = source_effects(model, sources, weights, alpha)
    return model, cells, rater_eff, source_eff


def rater_effects(model, data):
    counts = data.groupby("rater").size()
    if "rater" not in model.blups:
        return pd.DataFrame(columns=["rater", "effect", "se", "n_ratings"])
    b = model.blups["rater"]
    return pd.DataFrame({"rater": b.index.astype(str), "effect": b["estimate"].to_numpy(),
                         "se": b["se"].to_numpy(),
                         "n_ratings": counts.reindex(b.index).to_numpy()})


def source_effects(model, sources, weights, alpha):
    columns = list(model.fe_params.index)
    beta = model.fe_params.to_numpy()
    cov = model.fe_cov.to_numpy()
    ref = np.zeros(len(columns))
    for src, w in weights.items():
        name = f"source[T.{src}]"
        if name in columns:
            ref[columns.index(name)] += w
    out = []
    z = special.ndtri(1 - alpha / 2)
    for src in sources:
        c = -ref.copy()
        name = f"source[T.{src}]"
        if name in columns:
            c[columns.index(name)] += 1.0
        est = float(c @ beta)
        se = float(np.sqrt(max(c @ cov @ c, 0.0)))
        p = 2 * special.ndtr(-abs(est) / se) if se > 1e-12 else np.nan
        out.append({"source": src, "estimate": est, "se": se, "ci_low": est - z * se,
                    "ci_high": est + z * se, "p_value": p})
    return pd.DataFrame(out, columns=["source", "estimate", "se", "ci_low", "ci_high",
                                      "p_value"])

