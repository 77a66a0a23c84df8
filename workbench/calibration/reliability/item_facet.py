"""G-study with the item facet: persons x (raters : persons) x items, and its D-study.

Within one competency and one relationship, each ratee has their own raters (raters nested in
ratees) and every rater answers the competency's items (items crossed with both). The
G-study model (Brennan, *Generalizability Theory*, 2001, section 3.3, the ``(r:p) x i``
design) is

    score = mu + p + i + r:p + p:i + e     (e = ri:p confounded with error)

with the variance components estimated by REML (:func:`~workbench.calibration.mixed.model.fit_mixed`,
lme4's ``lmer(score ~ 1 + (1|p) + (1|i) + (1|p:r) + (1|p:i))``), which handles raters per
ratee that vary and "not observed" answers. The object of measurement is a ratee's score on
the competency (in one wave: ``p`` is a ratee-wave). Averaged over ``n_i`` items and ``n_r``
raters:

    relative error  sigma^2_delta = sigma^2_pi / n_i + sigma^2_r:p / n_r + sigma^2_e / (n_i n_r)
    absolute error  sigma^2_Delta = sigma^2_delta + sigma^2_i / n_i
    E rho^2 = sigma^2_p / (sigma^2_p + sigma^2_delta),   Phi = sigma^2_p / (sigma^2_p + sigma^2_Delta)

(raters are nested in ratees, so their leniency is already in ``sigma^2_r:p``, error in both).
On a balanced design REML equals the ANOVA (expected mean squares) estimates, against which
the tests check it; on synthetic data it recovers the known components.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(1)
>>> rows = [(f"p{p}", f"r{p}_{r}", "peer", "s", f"q{i}", 0.0)
...         for p in range(40) for r in range(3) for i in range(4)]
>>> long = pd.DataFrame(rows, columns=["ratee", "rater", "source", "skill", "item", "score"])
>>> person = rng.normal(size=40)
>>> long["score"] = person[long["ratee"].str[1:].astype(int)] + rng.normal(size=len(long))
>>> d = item_d_study(long, sources=["peer"])
>>> sorted(d.components["component"].unique())
['item', 'person', 'person:item', 'rater:person', 'residual']
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench.checks import check_integer
from workbench.errors import ConfigError
from workbench.results import Result

__all__ = ["ItemDStudy", "item_d_study", "item_variance_components"]

OTHERS = "others"
_TERMS = {"target": "person", "item": "item", "target:rater": "rater:person",
          "target:item": "person:item", "residual": "residual"}


def _design(sub: pd.DataFrame, min_raters: int) -> pd.DataFrame:
    """Answered rows of ratees (per wave) with at least ``min_raters`` raters."""
    sub = sub[np.isfinite(sub["score"].to_numpy(dtype=float))]
    wave = sub["wave"].astype(str) if "wave" in sub.columns else "1"
    sub = sub.assign(target=sub["ratee"].astype(str) + "\x1f" + wave)
    raters = sub.groupby("target")["rater"].transform("nunique")
    return sub[raters >= min_raters]


def item_variance_components(ratings: pd.DataFrame, *, skill: str, source: str,
                             min_raters: int = 2) -> pd.DataFrame | None:
    """REML variance components of one competency's items as rated by one relationship.

    Parameters
    ----------
    ratings : DataFrame
        Long item-level ratings (ratee, rater, source, skill, item, score, [wave]).
    skill, source : str
        ``source="others"`` pools every non-self relationship.
    min_raters : int
        Ratees (per wave) with fewer raters are left out: with one rater, ``r:p`` cannot be
        told apart from ``p``.

    Returns
    -------
    DataFrame or None
        component (person, item, rater:person, person:item, residual), variance, share,
        n_levels; None when fewer than two ratees or two items remain.
    """
    from workbench.calibration.mixed.model import fit_mixed

    sub = ratings[ratings["skill"] == skill]
    sub = sub[sub["source"] != "self"] if source == OTHERS else sub[sub["source"] == source]
    sub = _design(sub, min_raters)
    if sub["target"].nunique() < 2 or sub["item"].nunique() < 2:
        return None
    fit = fit_mixed(sub.reset_index(drop=True), response="score",
                    random=["target", "item", "target:rater", "target:item"])
    comp = fit.variance_components
    out = pd.DataFrame({"component": comp["component"].map(_TERMS),
                        "variance": comp["variance"].to_numpy(dtype=float),
                        "n_levels": comp["n_levels"].to_numpy()})
    out["share"] = out["variance"] / out["variance"].sum()
    return out


def _coefficients(v: dict, n_items, n_raters) -> tuple:
    """(E rho^2, Phi) for arrays of numbers of items and raters."""
    relative = v["person:item"] / n_items + v["rater:person"] / n_raters \
        + v["residual"] / (n_items * n_raters)
    absolute = relative + v["item"] / n_items
    p = v["person"]
    if p <= 0:
        return np.zeros_like(relative), np.zeros_like(absolute)
    return p / (p + relative), p / (p + absolute)


def _needed(v: dict, target: float, *, n_items=None, n_raters=None) -> float:
    """Smallest whole number of raters (items fixed) or items (raters fixed) for E rho^2 >=
    target; inf when the other facet's error alone keeps it below."""
    p = v["person"]
    if p <= 0:
        return np.inf
    room = p * (1.0 - target) / target  # the relative error allowed
    if n_raters is None:  # raters needed with n_items items
        fixed = v["person:item"] / n_items
        per = v["rater:person"] + v["residual"] / n_items
    else:  # items needed with n_raters raters
        fixed = v["rater:person"] / n_raters
        per = v["person:item"] + v["residual"] / n_raters
    if room <= fixed:
        return np.inf
    return float(max(1.0, np.ceil(per / (room - fixed) - 1e-9)))


@dataclass(frozen=True)
class ItemDStudy(Result):
    """G-study and D-study of competency scores over items and raters.

    Attributes
    ----------
    components : DataFrame
        skill, source, component (person, item, rater:person, person:item, residual),
        variance, share, n_levels.
    curve : DataFrame
        skill, source, n_items, n_raters, g_relative (E rho^2), g_absolute (Phi).
    observed : DataFrame
        skill, source, n_items (the instrument's), raters_per_ratee (harmonic mean),
        g_relative, g_absolute, then for each target ``raters_for_<t>`` (raters needed with the
        instrument's items) and ``items_for_<t>`` (items needed with the observed raters).
    settings : dict
    """

    title = "G-study with items: persons x (raters : persons) x items"

    components: pd.DataFrame
    curve: pd.DataFrame
    observed: pd.DataFrame
    settings: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The variance components."""
        return self.components.copy()

    def _sections(self) -> list:
        shares = self.components.pivot_table(index=["skill", "source"], columns="component",
                                             values="share", sort=False).reset_index()
        return [("G-study: share of variance (person = the ratees' true differences)", shares),
                ("D-study: reliability at the instrument's items and the observed raters",
                 self.observed)]

    def _files(self) -> dict:
        return {"g_study_items_components.csv": self.components,
                "d_study_items_curve.csv": self.curve,
                "d_study_items_observed.csv": self.observed}


def item_d_study(
    ratings: pd.DataFrame,
    *,
    sources: Iterable[str] | None = None,
    n_items: Iterable[int] = range(1, 11),
    n_raters: Iterable[int] = range(1, 11),
    targets: Iterable[float] = (0.7, 0.8),
    min_raters: int = 2,
) -> ItemDStudy:
    """Variance components with the item facet and the reliability over items and raters.

    Parameters
    ----------
    ratings : DataFrame
        Long item-level ratings (ratee, rater, source, skill, item, score, [wave]).
    sources : list of str, optional
        Default every non-self relationship present and ``"others"`` (all non-self pooled).
    n_items, n_raters : iterable of int
        The grid of the curve.
    targets : iterable of float
        Reliabilities (E rho^2) for the numbers of raters and items needed.
    min_raters : int
        See :func:`item_variance_components`.

    Returns
    -------
    ItemDStudy
    """
    grid_items = np.array([check_integer("n_items", k, low=1) for k in n_items], dtype=float)
    grid_raters = np.array([check_integer("n_raters", k, low=1) for k in n_raters], dtype=float)
    targets = [float(t) for t in targets]
    if any(not 0 < t < 1 for t in targets):
        raise ConfigError(f"targets={targets!r}: each must be between 0 and 1")
    min_raters = check_integer("min_raters", min_raters, low=2)
    if sources is None:
        found = [s for s in ("manager", "peer", "direct_report", "other")
                 if s in set(ratings["source"])]
        found += sorted(set(ratings["source"]) - {"self", *found})
        sources = [*found, OTHERS] if len(found) > 1 else found
    comps, curve, observed = [], [], []
    mesh_i, mesh_r = np.meshgrid(grid_items, grid_raters, indexing="ij")
    for skill in dict.fromkeys(ratings["skill"]):
        for source in sources:
            comp = item_variance_components(ratings, skill=skill, source=source,
                                            min_raters=min_raters)
            if comp is None:
                continue
            comps.append(comp.assign(skill=skill, source=source))
            v = dict(zip(comp["component"], np.maximum(comp["variance"], 0.0), strict=True))
            rel, ab = _coefficients(v, mesh_i.ravel(), mesh_r.ravel())
            curve.append(pd.DataFrame({"skill": skill, "source": source,
                                       "n_items": mesh_i.ravel().astype(int),
                                       "n_raters": mesh_r.ravel().astype(int),
                                       "g_relative": rel, "g_absolute": ab}))
            sub = ratings[ratings["skill"] == skill]
            sub = _design(sub[sub["source"] != "self"] if source == OTHERS
                          else sub[sub["source"] == source], min_raters)
            k_items = sub["item"].nunique()
            counts = sub.groupby("target")["rater"].nunique().to_numpy(dtype=float)
            k_raters = len(counts) / np.sum(1.0 / counts)
            rel1, ab1 = _coefficients(v, np.array([k_items]), np.array([k_raters]))
            row = {"skill": skill, "source": source, "n_items": k_items,
                   "raters_per_ratee": k_raters, "g_relative": rel1[0], "g_absolute": ab1[0]}
            for t in targets:
                row[f"raters_for_{t:g}"] = _needed(v, t, n_items=k_items)
                row[f"items_for_{t:g}"] = _needed(v, t, n_raters=k_raters)
            observed.append(row)
    columns = ["skill", "source", "component", "variance", "share", "n_levels"]
    return ItemDStudy(
        components=(pd.concat(comps, ignore_index=True)[columns] if comps
                    else pd.DataFrame(columns=columns)),
        curve=pd.concat(curve, ignore_index=True) if curve else pd.DataFrame(
            columns=["skill", "source", "n_items", "n_raters", "g_relative", "g_absolute"]),
        observed=pd.DataFrame(observed),
        settings={"targets": targets, "min_raters": min_raters, "method": "REML"},
    )
