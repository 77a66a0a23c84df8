"""The results of the profiles stage: :class:`ProfileResult` and the solution it holds.

:class:`ProfileResult` lists its sections and files once (the :class:`~workbench.results.Result`
base renders ``summary()``, ``__str__``, ``_repr_html_`` and ``save(folder)`` from them), so the
CLI and notebook 02 write the same files under the same names:

========================== ================================================================
file                       content
========================== ================================================================
profile_assignments.csv    person, profile, probability, persona (read by the plans stage)
profile_summary.csv        one row per profile: label, size, share, persona, stability, ...
model_selection.csv        one row per (structure, k): fit statistics, tests, eligibility
profile_means.csv          profile, skill, estimate, se, ci_low, ci_high, z
stability.csv              bootstrap Jaccard per profile with its Monte Carlo error
composition.csv            roles and levels of each profile (when people were given)
settings.json              the options of the run (seed included)
========================== ================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd

from workbench.errors import InputError
from workbench.profiles.gaussian_mixture import MixtureFit
from workbench.profiles.inputs import score_matrix
from workbench.results import Result

__all__ = ["ProfileResult", "Solution"]


@dataclass
class Solution:
    """A clustering in the analysis order (before profiles are renumbered)."""

    method: str
    model: str
    k: int
    proba: np.ndarray  # (n, k)
    means: np.ndarray  # (k, d)
    covariances: np.ndarray  # (k, d, d)
    weights: np.ndarray
    fit: MixtureFit | None = None

    def predict_proba(self, x):
        if self.fit is not None:
            return self.fit.predict_proba(x)
        d2 = ((x[:, None, :] - self.means[None]) ** 2).sum(axis=2)
        out = np.zeros((len(x), self.k))
        out[np.arange(len(x)), np.argmin(d2, axis=1)] = 1.0
        return out

    def reorder(self, order):
        fit = self.fit
        if fit is not None:
            fit = MixtureFit(fit.structure, fit.weights[order], fit.means[order],
                             fit.covariances[order], fit.loglik, fit.resp[:, order], fit.n_iter,
                             fit.converged, fit.start_logliks, fit.start_counts)
        return Solution(self.method, self.model, self.k, self.proba[:, order],
                        self.means[order], self.covariances[order], self.weights[order], fit)


@dataclass(frozen=True)
class ProfileResult(Result):
    """Skill profiles found by :func:`~workbench.profiles.select.find_profiles`.

    Attributes
    ----------
    method, model : str
        ``"lpa"`` with the mclust structure (e.g. ``"EEE"``), or ``"kmeans"`` / ``"ward"``.
    k : int
        Number of profiles chosen.
    assignments : DataFrame
        ``person``, ``profile`` (1..k, largest first), ``probability`` (posterior probability
        of that profile; 1 for k-means and Ward), ``persona`` (the profile in words).
    probabilities : DataFrame
        People x profiles posterior probabilities.
    profile_summary : DataFrame
        One row per profile: ``profile``, ``label``, ``size``, ``share``, ``persona``, ``small``
        (under 5% of people), ``stability`` (mean bootstrap Jaccard), ``roles`` and ``levels``
        (composition, when ``people`` was given), then the mean score per skill.
    means : DataFrame
        ``profile``, ``skill``, ``estimate`` (profile mean), ``se`` (``sqrt(var / n_k)``
        with the profile's within variance and size), ``ci_low``, ``ci_high``, ``z``
        (standardised: (mean - organisation mean) / organisation SD).
    model_selection : DataFrame
        One row per (model, k) with the statistics of :mod:`workbench.profiles.select`;
        ``eligible`` marks the cells the size rules allow, ``selected`` the chosen row.
    stability : DataFrame or None
        ``profile``, ``jaccard`` (mean over resamples), ``jaccard_mc_se`` (its Monte Carlo
        error), ``jaccard_ci_low``, ``jaccard_ci_high`` (2.5% and 97.5% quantiles),
        ``dissolved`` (share of resamples with Jaccard < 0.5), ``stable`` (mean Jaccard >=
        0.75, Hennig 2007), ``small``, ``n`` (resamples).
    adjusted_rand : Series or None
        Agreement of the bootstrap refits with the chosen solution (all people): ``estimate``
        (mean adjusted Rand index), ``mc_se``, ``ci_low``, ``ci_high``, ``n``.
    composition : DataFrame or None
        ``profile``, ``variable`` (role, level), ``value``, ``n``, ``share``.
    scores : DataFrame
        The people x skills matrix analysed.
    notes : list of str
        What the input was and what was left out or refused.
    settings : dict
        The options of the run (criterion, alpha, seed, ...).

    Examples
    --------
    >>> from workbench.profiles.select import find_profiles
    >>> from workbench.synth.generator import generate_organisation
    >>> org = generate_organisation(100, seed=3, n_waves=1)
    >>> truth = org.truth["true_scores"].pivot(index="person", columns="skill",
    ...                                        values="true_score")
    >>> res = find_profiles(truth, k_max=2, models=("EII",), n_bootstrap=0, vlmr=False)
    >>> isinstance(res, ProfileResult), int(res.profile_summary["size"].sum())
    (True, 100)
    """

    title = "Skill profiles"

    method: str
    model: str
    k: int
    assignments: pd.DataFrame
    probabilities: pd.DataFrame
    profile_summary: pd.DataFrame
    means: pd.DataFrame
    model_selection: pd.DataFrame
    stability: pd.DataFrame | None
    adjusted_rand: pd.Series | None
    composition: pd.DataFrame | None
    scores: pd.DataFrame
    notes: list = field(default_factory=list)
    settings: dict = field(default_factory=dict)
    solution: Solution | None = field(default=None, repr=False)

    @property
    def criterion(self) -> str:
        return self.settings.get("criterion", "bic")

    @property
    def alpha(self) -> float:
        return self.settings.get("alpha", 0.05)

    @property
    def params(self) -> pd.Series:
        """Profile means as a Series indexed by (profile, skill)."""
        return self.means.set_index(["profile", "skill"])["estimate"]

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        """Normal intervals of the profile means (``ci_low``, ``ci_high``)."""
        alpha = self.alpha if alpha is None else alpha
        q = NormalDist().inv_cdf(1 - alpha / 2)
        m = self.means.set_index(["profile", "skill"])
        return pd.DataFrame({"ci_low": m["estimate"] - q * m["se"],
                             "ci_high": m["estimate"] + q * m["se"]})

    def to_frame(self) -> pd.DataFrame:
        """The assignments (person, profile, probability, persona)."""
        return self.assignments.copy()

    def predict(self, scores) -> pd.DataFrame:
        """Assign new people (a matrix or long table of the same skills) to the profiles."""
        wide, _, _ = score_matrix(scores, None)
        missing = [s for s in self.scores.columns if s not in wide.columns]
        if missing:
            raise InputError(f"scores: skill(s) missing: {', '.join(missing)}")
        proba = self.solution.predict_proba(wide[list(self.scores.columns)].to_numpy())
        return pd.DataFrame({"person": wide.index.to_numpy(),
                             "profile": np.argmax(proba, axis=1) + 1,
                             "probability": proba.max(axis=1)})

    # rendering -------------------------------------------------------------------------

    def _headline(self) -> str:
        what = f"latent profile analysis, {self.model}" if self.method == "lpa" else self.method
        how = self.criterion.upper() if self.method == "lpa" else "silhouette"
        return (f"{self.k} profile(s) ({what}; chosen by {how}) among {len(self.scores)} "
                f"people and {self.scores.shape[1]} skills")

    def _sections(self) -> list:
        cols = [c for c in ("profile", "label", "size", "share", "stability", "small",
                            "roles", "levels") if c in self.profile_summary.columns]
        sections = [("", self._headline()), ("Profiles", self.profile_summary[cols]),
                    ("Personas", [f"Profile {r.profile} - {r.label}: {r.persona}"
                                  for r in self.profile_summary.itertuples()])]
        if self.stability is not None:
            sections.append(("Bootstrap stability (Jaccard per profile)", self.stability))
            sections.append(("Bootstrap agreement (adjusted Rand)", self.adjusted_rand))
        sel = self.model_selection
        key = self.criterion if self.method == "lpa" else "silhouette"
        if self.method == "lpa":
            best = sel.sort_values(key)
            cols = [c for c in ("model", "k", "loglik", "n_parameters", "bic", "icl", "entropy",
                                "smallest_n", "n_at_best", "n_starts_used", "eligible",
                                "selected") if c in sel.columns]
        else:
            best = sel.sort_values(key, ascending=False)
            cols = [c for c in ("model", "k", "silhouette", "smallest_n", "selected")
                    if c in sel.columns]
        sections.append((f"Model selection (best 5 by {key})", best[cols].head(5)))
        sections.append(("Notes", list(self.notes) + self._warnings()))
        return sections

    def _warnings(self) -> list:
        if self.method != "lpa":
            return []
        row = self.model_selection[self.model_selection["selected"]].iloc[0]
        if self.k > 1 and row["n_at_best"] < 2:
            return ["only one start reached the best log-likelihood; the maximum may be "
                    "local (try more starts: n_starts)"]
        return []

    def _files(self) -> dict:
        files = {"profile_assignments.csv": self.assignments,
                 "profile_summary.csv": self.profile_summary,
                 "model_selection.csv": self.model_selection,
                 "profile_means.csv": self.means}
        if self.stability is not None:
            files["stability.csv"] = self.stability
        if self.composition is not None:
            files["composition.csv"] = self.composition
        return files

    def save(self, folder: str | Path, *, figures: bool = False) -> Path:
        """Write the tables (see the module table) and settings.json into a new folder;
        with ``figures`` also profile_means.png, bic.png and projection.png."""
        folder = super().save(folder)
        if figures:
            for name, fig in (("profile_means.png", self.plot_means()),
                              ("bic.png", self.plot_bic()),
                              ("projection.png", self.plot_projection())):
                fig.savefig(folder / name, dpi=120)
        return folder

    # figures ---------------------------------------------------------------------------

    def plot_means(self, *, standardized: bool = True, ax=None):
        """Profile means per skill with intervals (standardised by default); a Figure."""
        from workbench.profiles.figures import plot_means

        return plot_means(self, standardized=standardized, ax=ax)

    def plot_bic(self, *, ax=None):
        """BIC (smaller is better) by k, one line per structure; a Figure."""
        from workbench.profiles.figures import plot_bic

        return plot_bic(self, ax=ax)

    def plot_projection(self, *, ax=None):
        """People on the first two principal components, coloured by profile; a Figure."""
        from workbench.profiles.figures import plot_projection

        return plot_projection(self, ax=ax)
