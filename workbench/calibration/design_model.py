"""The client's design and fitted model as matrices, for the design check.

:func:`design_model` turns a linear :class:`~workbench.calibration.result.Calibration` into a
:class:`DesignModel`: the fixed-effects design, the random terms with their fitted variances,
Henderson's mixed-model equations factored once (sparse LU) and the rows that turn their
solution into calibrated scores, so that :mod:`workbench.calibration.design_check` simulates
and recalibrates many organisations on the client's own design at the cost of one solve each
(the method is described there).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import linalg as splinalg

from workbench.calibration.result import Calibration
from workbench.checks import check_choice
from workbench.errors import ConfigError

__all__ = ["DesignModel", "design_model"]

ROUNDING = ("auto", "whole", "none")


@dataclass
class DesignModel:
    """The client's design and fitted model as matrices, with the factored mixed-model
    equations (internal to the design check; public for the tests' brute force).

    Attributes
    ----------
    ratings : DataFrame
        The calibrated ratings (the rows simulated).
    X : sparse matrix
        Fixed-effects design (columns of ``beta``'s index).
    terms : list of (term, codes, n_levels, variance)
        Random terms with a positive fitted variance.
    beta : Series
        Fitted fixed effects.
    sigma2 : float
        Residual variance.
    cells : DataFrame
        person, skill, se, ci_low, ci_high, score (the client's calibrated scores).
    F : ndarray
        Fixed part of each cell's score (cells x fixed effects).
    cell_codes : list of (term index, codes)
        The random terms (ratee, ratee:skill) added to each cell's score.
    scale : (low, high)
    whole : bool
        Simulated ratings are rounded to whole points.
    """

    ratings: pd.DataFrame
    X: sparse.csr_matrix
    terms: list
    beta: pd.Series
    sigma2: float
    cells: pd.DataFrame
    F: np.ndarray
    cell_codes: list
    scale: tuple
    whole: bool
    _lu: object = field(default=None, repr=False)

    @property
    def Z(self) -> sparse.csr_matrix:
        """Random-effects design, the terms' columns side by side."""
        n = len(self.ratings)
        blocks = [sparse.csr_matrix((np.ones(n), (np.arange(n), codes)), shape=(n, nlev))
                  for _, codes, nlev, _ in self.terms]
        return sparse.hstack(blocks, format="csr")

    @property
    def latent_sigma2(self) -> float:
        """Residual variance of the simulated ratings before rounding: the fitted one less
        Sheppard's 1/12 when they are rounded to whole points (the client's ratings were
        rounded too, so the fitted residual variance holds their rounding error already)."""
        return max(self.sigma2 - 1 / 12, 0.0) if self.whole else self.sigma2

    @property
    def offsets(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum([t[2] for t in self.terms])])

    def draw(self, rng: np.random.Generator, n: int):
        """``n`` simulated organisations: ratings (rows x n, rounded and clipped when
        ``whole``) and the true scores of the cells (cells x n)."""
        n_obs = len(self.ratings)
        fixed = self.X @ self.beta.to_numpy()
        y = np.repeat(fixed[:, None], n, axis=1)
        effects = []
        for _, codes, nlev, var in self.terms:
            u = rng.normal(0.0, np.sqrt(var), (nlev, n))
            effects.append(u)
            y += u[codes]
        y += rng.normal(0.0, np.sqrt(self.latent_sigma2), (n_obs, n))
        if self.whole:
            y = np.clip(np.round(y), *self.scale)
        truth = np.repeat((self.F @ self.beta.to_numpy())[:, None], n, axis=1)
        for k, codes in self.cell_codes:
            truth += effects[k][codes]
        return y, truth

    def factor(self):
        """Factor Henderson's equations at the fitted variance components (once).

        The largest random term's own block is diagonal (each rating lies in one of its
        levels), so its unknowns are eliminated in closed form and the sparse LU (minimum-degree
        ordering on ``A'+A``) is of the Schur complement over the other unknowns: the same
        solution, 2.5 times less work at 5,000 people than factoring the whole system.
        Returns ``(lu, B, d, outer, inner)``: the factored complement, the coupling of the
        other unknowns to the eliminated ones, the eliminated block's diagonal and the two
        index sets.
        """
        if self._lu is None:
            X, Z = sparse.csc_matrix(self.X), sparse.csc_matrix(self.Z)
            penalty = np.concatenate([np.full(nlev, self.sigma2 / var)
                                      for _, _, nlev, var in self.terms])
            C = sparse.bmat([[X.T @ X, X.T @ Z],
                             [Z.T @ X, Z.T @ Z + sparse.diags(penalty)]], format="csr")
            p, offsets = X.shape[1], self.offsets
            k = int(np.argmax([t[2] for t in self.terms]))
            inner = np.arange(p + offsets[k], p + offsets[k + 1])
            outer = np.setdiff1d(np.arange(C.shape[0]), inner)
            rows = C[outer]
            B = rows[:, inner].tocsr()
            d = C[inner][:, inner].diagonal()
            schur = (rows[:, outer] - B @ sparse.diags(1.0 / d) @ B.T).tocsc()
            self._lu = (splinalg.splu(schur, permc_spec="MMD_AT_PLUS_A"), B, d, outer, inner)
        return self._lu

    def estimate(self, y: np.ndarray) -> np.ndarray:
        """Calibrated scores (cells x n) of simulated ratings ``y`` at the fitted variance
        components: the fixed part at GLS plus the ratee and ratee:skill BLUPs."""
        lu, B, d, outer, inner = self.factor()
        p = self.X.shape[1]
        rhs = np.vstack([self.X.T @ y, self.Z.T @ y])
        sol = np.empty_like(rhs)
        sol[outer] = lu.solve(np.asfortranarray(rhs[outer] - B @ (rhs[inner] / d[:, None])))
        sol[inner] = (rhs[inner] - B.T @ sol[outer]) / d[:, None]
        out = self.F @ sol[:p]
        off = self.offsets
        for k, codes in self.cell_codes:
            out += sol[p + off[k] + codes]
        return out


def _group_codes(data: pd.DataFrame, parts: list):
    grouped = data.groupby(parts, sort=True, observed=True)
    return grouped.ngroup().to_numpy(), grouped.size().index


def _fixed_matrix(data: pd.DataFrame, columns) -> sparse.csr_matrix:
    """The fitted fixed-effects design: treatment-coded factors (``source[T.peer]``) and the
    items' sum-to-zero contrasts within their skill (``item[X]``: 1 on item X, -1 on the last
    item of X's skill in sorted order), as the calibration codes them."""
    out = []
    for name in columns:
        if name == "Intercept":
            out.append(np.ones(len(data)))
        elif "[T." in name:
            factor, level = name.split("[T.", 1)
            out.append((data[factor].astype(str) == level[:-1]).to_numpy(dtype=float))
        elif name.startswith("item[") and "item" in data:
            item = data["item"].astype(str)
            level = name[len("item["):-1]
            skill = data.loc[item == level, "skill"].iloc[0]
            last = sorted(item[data["skill"] == skill].unique())[-1]
            out.append((item == level).to_numpy(dtype=float) - (item == last).to_numpy(float))
        else:
            raise ConfigError(f"the design check cannot rebuild the fixed effect {name!r} "
                              "of this calibration")
    return sparse.csr_matrix(np.column_stack(out))


def _cell_fixed(cells: pd.DataFrame, columns, sources, reference) -> np.ndarray:
    """Rows of the fixed part of each cell's score: intercept, the reference's source offsets,
    the skill (as :func:`~workbench.calibration.calibrate.calibrate_ratings` builds them)."""
    if reference == "others":
        others = [s for s in sources if s != "self"]
        weights = {s: 1.0 / len(others) for s in others}
    else:
        weights = {reference: 1.0}
    names = list(columns)
    F = np.zeros((len(cells), len(names)))
    F[:, names.index("Intercept")] = 1.0
    for src, w in weights.items():
        name = f"source[T.{src}]"
        if name in names:
            F[:, names.index(name)] += w
    skills = cells["skill"].astype(str).to_numpy()
    for j, name in enumerate(names):
        if name.startswith("skill[T."):
            F[:, j] = (skills == name[len("skill[T."):-1]).astype(float)
    return F


def _whole(rounding: str, scores: pd.Series) -> bool:
    if rounding == "auto":
        values = scores.to_numpy(dtype=float)
        return bool(np.all(values == np.round(values)))
    return rounding == "whole"


def design_model(calibration: Calibration, *, rounding: str = "auto") -> DesignModel:
    """The client's design and fitted model as matrices (see :class:`DesignModel`).

    Raises
    ------
    ConfigError
        Not a linear :class:`Calibration`, or a calibration of several waves jointly or of
        several separate subsets (the check runs on one wave and one connected design).

    Examples
    --------
    >>> import warnings
    >>> from workbench.calibration.calibrate import calibrate_ratings
    >>> design_model("scores.csv")
    Traceback (most recent call last):
    ...
    workbench.errors.ConfigError: the design check needs a linear Calibration \
(calibrate_ratings), got str
    """
    if not isinstance(calibration, Calibration):
        raise ConfigError("the design check needs a linear Calibration (calibrate_ratings), "
                          f"got {type(calibration).__name__}")
    rounding = check_choice("rounding", rounding, ROUNDING)
    settings = calibration.settings
    if settings.get("waves") == "joint" and calibration.ratings["wave"].nunique() > 1:
        raise ConfigError("the design check runs on one wave: calibrate one wave "
                          "(waves='pooled') and check that design")
    if len(calibration.models) > 1:
        raise ConfigError("the design check runs on one connected design: calibrate with "
                          "connectivity='largest', or check each subset on its own")
    model = calibration.model
    data = calibration.ratings.reset_index(drop=True)
    beta = model.fe_params
    variances = model.variances
    terms = []
    for term in model.settings["random"]:
        var = float(variances[term])
        codes, levels = _group_codes(data, term.split(":"))
        if var > 0:
            terms.append((term, codes, len(levels), var))
    cells = calibration.scores[["person", "skill", "score", "se", "ci_low", "ci_high"]]
    cells = cells.reset_index(drop=True)
    cell_codes = []
    for k, (term, _, _, _) in enumerate(terms):
        if term not in ("ratee", "ratee:skill"):
            continue
        parts = term.split(":")
        _, levels = _group_codes(data, parts)
        keys = cells.rename(columns={"person": "ratee"})[parts]
        if len(parts) == 1:
            codes = levels.get_indexer(keys["ratee"])
        else:
            codes = levels.get_indexer(pd.MultiIndex.from_frame(keys))
        cell_codes.append((k, codes))
    sources = sorted(data["source"].unique().tolist())
    return DesignModel(
        ratings=data, X=_fixed_matrix(data, beta.index), terms=terms, beta=beta,
        sigma2=float(variances["residual"]), cells=cells,
        F=_cell_fixed(cells, beta.index, sources, settings["reference"]),
        cell_codes=cell_codes, scale=tuple(settings["scale"]),
        whole=_whole(rounding, data["score"]))
