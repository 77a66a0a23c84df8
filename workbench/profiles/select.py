"""Skill profiles: latent profile analysis of calibrated scores, with personas and stability.

:func:`find_profiles` fits Gaussian mixtures (latent profile analysis, LPA) with k = 1..k_max
profiles and the covariance structures of mclust (see :mod:`workbench.profiles.gaussian_mixture`), chooses one by
BIC and describes each profile in plain words ("above the organisation in Strategic Thinking and
Planning; below in Feedback"), with its size, its roles and levels, and its stability under
bootstrap resampling. ``method="kmeans"`` and ``method="ward"`` give the usual alternatives
(chosen by silhouette).

Fit statistics (one row per structure and k of ``model_selection``), with ``L`` the maximised
log-likelihood, ``p`` the free parameters (mclust's count), ``n`` people and ``z`` posterior
probabilities:

* ``aic = -2L + 2p``, ``bic = -2L + p log n``, ``sabic = -2L + p log((n + 2) / 24)``,
  ``caic = -2L + p (log n + 1)``: smaller is better (the LPA convention of Mplus, tidyLPA).
* ``bic_mclust = 2L - p log n`` is mclust's sign (larger is better; ``bic_mclust = -bic``).
* ``icl = bic - 2 sum_i log z_i,c(i)`` with ``c(i)`` the most probable profile (Biernacki et
  al. 2000; mclust's ICL with the LPA sign).
* ``entropy = 1 - sum_ik (-z_ik log z_ik) / (n log k)``, the relative entropy of LPA reports
  (1 = perfectly separated; NaN for k = 1).
* ``blrt_p_value``: parametric bootstrap likelihood-ratio test of k against k - 1 profiles
  (McLachlan 1987; Nylund et al. 2007) for the chosen structure.
* ``vlmr_p_value``: the Vuong-Lo-Mendell-Rubin test of k against k - 1 (Lo, Mendell & Rubin
  2001): the likelihood ratio referred to the weighted sum of chi-squares of Vuong (1989),
  weights from the scores and information matrices of both models.
* ``n_at_best``: starts that reached a log-likelihood within 1e-4 (relative) of the best, of
  ``n_starts_used``; 1 warns that the maximum may be local. Starts run 10 EM iterations; the
  best ``n_final_starts`` distinct partitions are run to convergence, and each stands for the
  starts that had reached the same partition.

Checked against R's mclust 6.0.0 (tests/fixtures/mclust, benchmarks/R/mclust_fixture.R): the same
model and k are chosen and the maximised log-likelihood of every (structure, k) reaches
mclust's.

Examples
--------
>>> from workbench.synth.generator import generate_organisation
>>> from workbench.calibration.agreement import raw_other_scores
>>> org = generate_organisation(200, seed=5, n_waves=1)
>>> scores = raw_other_scores(org.ratings)
>>> res = find_profiles(scores, k_max=5, models=("EEE", "VVI"), n_bootstrap=0,
...                     random_state=1)
>>> int(res.k) >= 1
True
>>> res.assignments.columns.tolist()
['ratee', 'profile', 'probability']
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from workbench.errors import ConfigError, InputError, ModelError
from workbench.profiles.gaussian_mixture import (
    STRUCTURES,
    MixtureFit,
    fit_mixture,
    sample_mixture,
    ward_trees,
)

__all__ = [
    "find_profiles",
    "ProfileResult",
    "ProfileModel",
    "ProfileWarning",
    "DEFAULT_MODELS",
    "METHODS",
    "CRITERIA",
]

DEFAULT_MODELS = ("EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE", "VVV")
METHODS = ("lpa", "kmeans", "ward")
CRITERIA = ("bic", "icl", "sabic", "aic", "caic")
SMALL_SHARE = 0.05
ABOVE, WELL_ABOVE = 0.5, 1.0


class ProfileWarning(UserWarning):
    """The scores are not calibrated, or people were left out (missing skills)."""


# ------------------------------------------------------------------------------------ input


def _is_calibration(obj) -> bool:
    return hasattr(obj, "scores") and isinstance(obj.scores, pd.DataFrame)


def _pick_wave(frame: pd.DataFrame, wave, name: str) -> pd.DataFrame:
    if "wave" not in frame.columns:
        if wave is not None:
            raise ConfigError(f"wave={wave!r}: the {name} have no 'wave' column")
        return frame
    waves = sorted(frame["wave"].dropna().unique().tolist())
    chosen = waves[-1] if wave is None else wave
    if chosen not in waves:
        raise ConfigError(f"wave={wave!r}: not among the waves of the {name} {waves}")
    return frame[frame["wave"] == chosen]


def _long_to_wide(frame: pd.DataFrame, name: str):
    missing = [c for c in ("ratee", "skill", "score") if c not in frame.columns]
    if missing:
        raise InputError(f"{name}: required column(s) missing: {', '.join(missing)}")
    dup = frame.duplicated(["ratee", "skill"])
    if dup.any():
        row = frame[dup].iloc[0]
        raise InputError(
            f"{name}: ratee {row['ratee']!r} has several scores for skill {row['skill']!r}; "
            "give one score per ratee and skill (filter one wave or subset)"
        )
    values = pd.to_numeric(frame["score"], errors="coerce")
    if values.isna().any() and frame["score"].notna().any():
        bad = frame.loc[values.isna() & frame["score"].notna(), "score"]
        if len(bad):
            raise InputError(f"{name}: column 'score' holds a non-number (value: {bad.iloc[0]!r})")
    frame = frame.assign(score=values)
    wide = frame.pivot(index="ratee", columns="skill", values="score")
    se = None
    if "se" in frame.columns:
        se = frame.pivot(index="ratee", columns="skill", values="se")
    return wide, se


def _score_matrix(scores, wave):
    """People x skills matrix (DataFrame), its SEs (or None) and notes on the input."""
    notes = []
    if (isinstance(scores, pd.DataFrame) and "ratee" not in scores.columns
            and {"person", "skill", "score"} <= set(scores.columns)):
        scores = scores.rename(columns={"person": "ratee"})
    if _is_calibration(scores):
        wide, se = _long_to_wide(_pick_wave(scores.scores, wave, "calibrated scores"),
                                 "calibrated scores")
        notes.append("calibrated scores")
    elif isinstance(scores, pd.DataFrame) and {"rater", "source"} <= set(scores.columns):
        missing = [c for c in ("ratee", "skill", "score") if c not in scores.columns]
        if missing:
            raise InputError(f"ratings: required column(s) missing: {', '.join(missing)}")
        ratings = _pick_wave(scores, wave, "ratings")
        others = ratings[ratings["source"] != "self"]
        if others.empty:
            raise InputError("ratings: no ratings from others (every rating is a self rating)")
        long = (others.assign(score=pd.to_numeric(others["score"], errors="coerce"))
                .groupby(["ratee", "skill"], sort=True)["score"].mean().reset_index())
        wide, se = _long_to_wide(long, "ratings")
        warnings.warn(
            "profiles are fitted to raw means of the non-self ratings, which still carry rater "
            "leniency, halo and source bias; calibrate the ratings first (calibrate_ratings)",
            ProfileWarning, stacklevel=3,
        )
        notes.append("raw means of non-self ratings (not calibrated)")
    elif isinstance(scores, pd.DataFrame) and {"ratee", "skill", "score"} <= set(scores.columns):
        wide, se = _long_to_wide(_pick_wave(scores, wave, "scores"), "scores")
        notes.append("scores (long table)")
    elif isinstance(scores, pd.DataFrame):
        wide = scores.copy()
        for col in ("ratee", "person"):
            if col in wide.columns:
                wide = wide.set_index(col)
                break
        bad = [c for c in wide.columns if not pd.api.types.is_numeric_dtype(wide[c])]
        if bad:
            raise InputError(
                f"scores: column {bad[0]!r} is not numeric; give a people x skills matrix of "
                "scores or a long table with ratee, skill, score"
            )
        wide = wide.astype(float)
        se = None
        notes.append("scores (people x skills matrix)")
    else:
        raise InputError(
            f"scores: expected a Calibration, a DataFrame of scores or ratings, got "
            f"{type(scores).__name__}"
        )
    wide.columns = [str(c) for c in wide.columns]
    wide.index = wide.index.astype(str)
    wide.index.name = "ratee"
    incomplete = ~np.isfinite(wide.to_numpy()).all(axis=1)
    if incomplete.any():
        people = wide.index[incomplete]
        warnings.warn(
            f"{incomplete.sum()} people without a score in every skill are left out of the "
            f"profiles (first: {people[0]!r})", ProfileWarning, stacklevel=3,
        )
        notes.append(f"{incomplete.sum()} people with missing skills left out")
        wide = wide[~incomplete]
        if se is not None:
            se = se.reindex(index=wide.index)
    if wide.shape[1] < 2:
        raise InputError(f"scores: profiles need at least 2 skills, got {wide.shape[1]}")
    if len(wide) < 10:
        raise InputError(f"scores: profiles need at least 10 people with complete scores, "
                         f"got {len(wide)}")
    sd = wide.std(axis=0)
    flat = sd.index[~(sd > 0)]
    if len(flat):
        raise ModelError(f"scores: skill {flat[0]!r} has the same score for everyone; "
                         "drop it before looking for profiles")
    return wide, se, notes


def _check_options(k_max, models, method, criterion, n_starts, n_bootstrap, n_blrt, n):
    if method not in METHODS:
        raise ConfigError(f"method={method!r}: must be one of {', '.join(METHODS)}")
    if criterion not in CRITERIA:
        raise ConfigError(f"criterion={criterion!r}: must be one of {', '.join(CRITERIA)}")
    if not isinstance(k_max, (int, np.integer)) or k_max < 1:
        raise ConfigError(f"k_max={k_max!r}: must be a whole number of at least 1")
    if k_max >= n:
        raise ConfigError(f"k_max={k_max}: must be smaller than the number of people ({n})")
    if isinstance(models, str):
        models = (models,)
    models = tuple(str(m).upper() for m in models)
    unknown = [m for m in models if m not in STRUCTURES]
    if unknown or not models:
        raise ConfigError(f"models={unknown or models!r}: choose from {', '.join(STRUCTURES)}")
    for name, value, low in (("n_starts", n_starts, 1), ("n_bootstrap", n_bootstrap, 0),
                             ("n_blrt", n_blrt, 1)):
        if not isinstance(value, (int, np.integer)) or value < low:
            raise ConfigError(f"{name}={value!r}: must be a whole number of at least {low}")
    return tuple(dict.fromkeys(models))


# ------------------------------------------------------------------------------------ fitting


def _split_starts(fit: MixtureFit, x: np.ndarray) -> list:
    """Starts for k + 1 components: each component of ``fit`` split along its main axis."""
    out = []
    for j in range(fit.k):
        _, vecs = np.linalg.eigh(fit.covariances[j])
        side = (x - fit.means[j]) @ vecs[:, -1] > 0
        resp = np.zeros((len(x), fit.k + 1))
        resp[:, : fit.k] = fit.resp
        resp[:, fit.k] = fit.resp[:, j] * side
        resp[:, j] = fit.resp[:, j] * ~side
        out.append(resp + 1e-10)
    return out


def _fit_structure(x, structure, k_max, n_starts, seed, trees, subset_rows):
    """Fits k = 1..k_max of one structure; each k also starts from splits of the k - 1 fit."""
    rng = np.random.default_rng(seed)
    fits, previous = {}, None
    for k in range(1, k_max + 1):
        extra = _split_starts(previous, x) if previous is not None else None
        fit = fit_mixture(x, k, structure, n_starts=max(n_starts, len(extra or []) + 2),
                          random_state=rng, ward_tree=trees, init_resp=extra,
                          subset_rows=subset_rows)
        fits[k] = fit
        previous = fit if fit is not None else previous
    return structure, fits


def _seeds(random_state, n):
    if isinstance(random_state, np.random.Generator):
        root = np.random.SeedSequence(int(random_state.integers(2**63)))
    else:
        root = np.random.SeedSequence(random_state)
    return [int(s.generate_state(1)[0]) for s in root.spawn(n)]


def _fit_grid(x, models, k_max, n_starts, seed, n_jobs, subset=2000):
    rng = np.random.default_rng(seed)
    subset_rows = np.sort(rng.choice(len(x), subset, replace=False)) if len(x) > subset else None
    trees = ward_trees(x if subset_rows is None else x[subset_rows])
    seeds = _seeds(seed, len(models))
    jobs = (delayed(_fit_structure)(x, m, k_max, n_starts, s, trees, subset_rows)
            for m, s in zip(models, seeds, strict=True))
    if n_jobs in (None, 1):
        done = [job[0](*job[1], **job[2]) for job in jobs]
    else:
        done = Parallel(n_jobs=n_jobs)(jobs)
    return {(m, k): f for m, fits in done for k, f in fits.items()}


def _fit_row(structure, k, fit, n):
    row = {"model": structure, "k": k}
    if fit is None:
        return row | {"loglik": np.nan, "n_parameters": np.nan, "converged": False}
    ll, p = fit.loglik, fit.n_parameters
    z = np.clip(fit.resp, 1e-300, 1.0)
    labels = np.argmax(z, axis=1)
    counts = np.bincount(labels, minlength=k)
    bic = -2 * ll + p * np.log(n)
    entropy = np.nan
    if k > 1:
        entropy = 1 - float(np.sum(-z * np.log(z))) / (n * np.log(k))
    return row | {
        "loglik": ll,
        "n_parameters": p,
        "aic": -2 * ll + 2 * p,
        "bic": bic,
        "sabic": -2 * ll + p * np.log((n + 2) / 24),
        "caic": -2 * ll + p * (np.log(n) + 1),
        "icl": bic - 2 * float(np.sum(np.log(z[np.arange(n), labels]))),
        "bic_mclust": -bic,
        "entropy": entropy,
        "smallest_n": int(counts.min()),
        "smallest_share": counts.min() / n,
        "n_at_best": fit.n_at_best(),
        "n_final_starts": int(len(fit.start_logliks)),
        "n_starts_used": int(np.sum(fit.start_counts)),
        "converged": bool(fit.converged),
    }


# ------------------------------------------------------------------------------------ tests of k


def _blrt_one(null: MixtureFit, structure, n, k, n_starts, seed):
    rng = np.random.default_rng(seed)
    x, labels = sample_mixture(null, n, rng)
    one_hot = np.full((n, k - 1), 1e-8)
    one_hot[np.arange(n), labels] = 1.0
    fit0 = fit_mixture(x, k - 1, structure, n_starts=n_starts, init_resp=[one_hot],
                       random_state=rng)
    if fit0 is None:
        return np.nan
    fit1 = fit_mixture(x, k, structure, n_starts=max(n_starts, k + 1),
                       init_resp=_split_starts(fit0, x), random_state=rng)
    if fit1 is None:
        return np.nan
    return max(0.0, 2 * (fit1.loglik - fit0.loglik))


def _progress(iterable, total, desc, show):
    if not show:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc)


def _parallel(jobs, n_jobs, total, desc, progress):
    jobs = list(jobs)
    if n_jobs in (None, 1):
        return [f(*a, **kw) for f, a, kw in _progress(jobs, total, desc, progress)]
    results = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
    return list(_progress(results, total, desc, progress))


def _blrt(x, fits, structure, k_hi, n_blrt, n_starts, seed, n_jobs, progress):
    """Bootstrap LR test of k vs k - 1, k = 2..k_hi: (lr, p_value) by k."""
    out = {}
    seeds = _seeds(seed, k_hi + 1)
    for k in range(2, k_hi + 1):
        null, alt = fits.get((structure, k - 1)), fits.get((structure, k))
        if null is None or alt is None:
            continue
        lr = max(0.0, 2 * (alt.loglik - null.loglik))
        rep_seeds = _seeds(seeds[k], n_blrt)
        jobs = (delayed(_blrt_one)(null, structure, len(x), k, n_starts, s) for s in rep_seeds)
        boot = np.array(_parallel(jobs, n_jobs, n_blrt, f"BLRT {k} vs {k - 1}", progress))
        boot = boot[np.isfinite(boot)]
        p = (1 + np.sum(boot >= lr)) / (len(boot) + 1)
        out[k] = (lr, p, len(boot))
    return out


# ------------------------------------------------------------------------------------ solutions


@dataclass
class _Solution:
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
        return _Solution(self.method, self.model, self.k, self.proba[:, order],
                         self.means[order], self.covariances[order], self.weights[order], fit)


def _hard_solution(method, x, labels, k):
    proba = np.zeros((len(x), k))
    proba[np.arange(len(x)), labels] = 1.0
    means = np.array([x[labels == j].mean(axis=0) for j in range(k)])
    d = x.shape[1]
    cov = np.array([np.cov(x[labels == j].T) if np.sum(labels == j) > 1 else np.eye(d) * 0
                    for j in range(k)]).reshape(k, d, d)
    return _Solution(method, method, k, proba, means, cov, proba.mean(axis=0))


def _cluster_hard(method, x, k, n_starts, seed):
    from sklearn.cluster import AgglomerativeClustering, KMeans

    if k == 1:
        return np.zeros(len(x), dtype=int)
    if method == "kmeans":
        return KMeans(n_clusters=k, n_init=n_starts, random_state=seed).fit_predict(x)
    return AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(x)


def _hard_grid(method, x, k_max, n_starts, seed):
    from sklearn.metrics import calinski_harabasz_score, silhouette_score

    rows, sols = [], {}
    n = len(x)
    for k in range(1, k_max + 1):
        labels = _cluster_hard(method, x, k, n_starts, seed)
        sol = _hard_solution(method, x, labels, k)
        within = float(sum(((x[labels == j] - sol.means[j]) ** 2).sum() for j in range(k)))
        row = {"model": method, "k": k, "within_ss": within, "silhouette": np.nan,
               "calinski_harabasz": np.nan}
        if k > 1 and len(np.unique(labels)) > 1:
            sample = 5000 if n > 5000 else None
            row["silhouette"] = float(silhouette_score(x, labels, sample_size=sample,
                                                       random_state=seed))
            row["calinski_harabasz"] = float(calinski_harabasz_score(x, labels))
        counts = np.bincount(labels, minlength=k)
        row["smallest_n"] = int(counts.min())
        row["smallest_share"] = counts.min() / n
        rows.append(row)
        sols[k] = sol
    return pd.DataFrame(rows), sols


# ------------------------------------------------------------------------------------ stability


def _jaccard(a: np.ndarray, b: np.ndarray) -> float:
    union = np.sum(a | b)
    return float(np.sum(a & b) / union) if union else np.nan


def _boot_one(sol: _Solution, x, labels, n_starts, seed):
    rng = np.random.default_rng(seed)
    n = len(x)
    idx = rng.integers(0, n, n)
    xb = x[idx]
    if sol.method == "lpa":
        fit = fit_mixture(xb, sol.k, sol.fit.structure, n_starts=n_starts, random_state=rng,
                          ward_tree=ward_trees(xb) if n <= 5000 else None)
        if fit is None:
            return None
        pred = np.argmax(fit.predict_proba(x), axis=1)
    else:
        lab = _cluster_hard(sol.method, xb, sol.k, n_starts, int(rng.integers(2**31)))
        means = np.array([xb[lab == j].mean(axis=0) if np.any(lab == j) else
                          np.full(x.shape[1], np.inf) for j in range(sol.k)])
        pred = np.argmin(((x[:, None, :] - means[None]) ** 2).sum(axis=2), axis=1)
    from sklearn.metrics import adjusted_rand_score

    ari = adjusted_rand_score(labels, pred)
    inside = np.unique(idx)  # Hennig (2007): compare on the people drawn into the resample
    jac = []
    for j in range(sol.k):
        orig = labels[inside] == j
        if not orig.any():
            jac.append(np.nan)
            continue
        jac.append(max(_jaccard(orig, pred[inside] == m) for m in range(sol.k)))
    return ari, np.array(jac)


def _stability(sol, x, labels, n_bootstrap, n_starts, seed, n_jobs, progress):
    seeds = _seeds(seed, n_bootstrap)
    jobs = (delayed(_boot_one)(sol, x, labels, n_starts, s) for s in seeds)
    done = [r for r in _parallel(jobs, n_jobs, n_bootstrap, "bootstrap stability", progress)
            if r is not None]
    if not done:
        return None, None
    ari = np.array([r[0] for r in done])
    jac = np.array([r[1] for r in done])
    return ari, jac


# ------------------------------------------------------------------------------------ personas


def _join(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _persona(z: pd.Series) -> str:
    order = z.sort_values(ascending=False)
    well_up = [s for s, v in order.items() if v >= WELL_ABOVE]
    up = [s for s, v in order.items() if ABOVE <= v < WELL_ABOVE]
    low = z.sort_values()
    well_down = [s for s, v in low.items() if v <= -WELL_ABOVE]
    down = [s for s, v in low.items() if -WELL_ABOVE < v <= -ABOVE]
    parts = []
    if well_up:
        parts.append(f"well above the organisation in {_join(well_up)}")
    if up:
        parts.append(f"{'also ' if well_up else ''}above the organisation in {_join(up)}"
                     if not well_up else f"above in {_join(up)}")
    if well_down:
        parts.append(f"well below in {_join(well_down)}" if parts
                     else f"well below the organisation in {_join(well_down)}")
    if down:
        parts.append(f"below in {_join(down)}" if parts
                     else f"below the organisation in {_join(down)}")
    if not parts:
        return "Close to the organisation's average in every skill."
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def _label(z: pd.Series) -> str:
    hi = z[z >= ABOVE].sort_values(ascending=False).index[:2].tolist()
    lo = z[z <= -ABOVE].sort_values().index[:2].tolist()
    if not hi and not lo:
        return "Average"
    if len(hi) >= 1 and len(lo) == 0 and (z >= ABOVE).mean() > 0.6:
        return "High all-round"
    if len(lo) >= 1 and len(hi) == 0 and (z <= -ABOVE).mean() > 0.6:
        return "Low all-round"
    text = []
    if hi:
        text.append("High " + " & ".join(hi))
    if lo:
        text.append("low " + " & ".join(lo) if hi else "Low " + " & ".join(lo))
    return ", ".join(text)


def _composition(assign: pd.DataFrame, people: pd.DataFrame | None):
    if people is None:
        return None
    if not isinstance(people, pd.DataFrame):
        raise InputError(f"people: expected a DataFrame, got {type(people).__name__}")
    key = "person" if "person" in people.columns else "ratee" if "ratee" in people.columns \
        else None
    if key is None:
        raise InputError("people: needs a 'person' column to join the profiles with")
    cols = [c for c in ("role", "level") if c in people.columns]
    if not cols:
        raise InputError("people: needs a 'role' or 'level' column to describe the profiles")
    info = people[[key, *cols]].drop_duplicates(key).copy()
    info[key] = info[key].astype(str)
    joined = assign.merge(info, left_on="ratee", right_on=key, how="left")
    rows = []
    for col in cols:
        values = joined[col].astype("object").where(joined[col].notna(), "unknown")
        counts = joined.assign(value=values).groupby(["profile", "value"]).size()
        for (profile, value), n_ in counts.items():
            rows.append({"profile": profile, "variable": col, "value": value, "n": int(n_)})
    comp = pd.DataFrame(rows)
    comp["share"] = comp["n"] / comp.groupby(["profile", "variable"])["n"].transform("sum")
    return comp.sort_values(["profile", "variable", "n", "value"],
                            ascending=[True, True, False, True]).reset_index(drop=True)


def _composition_text(comp: pd.DataFrame, profile: int, variable: str) -> str:
    part = comp[(comp["profile"] == profile) & (comp["variable"] == variable)]
    return ", ".join(f"{v} {s:.0%}" for v, s in zip(part["value"], part["share"], strict=True))


# ------------------------------------------------------------------------------------ result


@dataclass(frozen=True)
class ProfileResult:
    """Skill profiles found by :func:`find_profiles`.

    Attributes
    ----------
    method, model : str
        ``"lpa"`` with the mclust structure (e.g. ``"EEE"``), or ``"kmeans"`` / ``"ward"``.
    k : int
        Number of profiles chosen.
    assignments : DataFrame
        ``ratee``, ``profile`` (1..k, largest first), ``probability`` (posterior probability of
        that profile; 1 for k-means and Ward).
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
        One row per (model, k) with the statistics in the module notes; ``selected`` marks the
        chosen row.
    stability : DataFrame or None
        ``profile``, ``jaccard`` (mean over resamples), ``jaccard_ci_low``,
        ``jaccard_ci_high`` (2.5% and 97.5% quantiles), ``dissolved`` (share of resamples with
        Jaccard < 0.5), ``stable`` (mean Jaccard >= 0.75, Hennig 2007), ``small``, ``n``
        (resamples).
    adjusted_rand : Series or None
        Agreement of the bootstrap refits with the chosen solution (all people): ``estimate``
        (mean adjusted Rand index), ``ci_low``, ``ci_high``, ``n``.
    composition : DataFrame or None
        ``profile``, ``variable`` (role, level), ``value``, ``n``, ``share``.
    scores : DataFrame
        The people x skills matrix analysed.
    notes : list of str
    """

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
    criterion: str = "bic"
    alpha: float = 0.05
    notes: list = field(default_factory=list)
    solution: _Solution | None = field(default=None, repr=False)

    @property
    def summary_table(self) -> pd.DataFrame:
        """Alias of :attr:`profile_summary`."""
        return self.profile_summary

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
        """The assignments (ratee, profile, probability)."""
        return self.assignments.copy()

    def predict(self, scores) -> pd.DataFrame:
        """Assign new people (a matrix or long table of the same skills) to the profiles."""
        wide, _, _ = _score_matrix(scores, None)
        missing = [s for s in self.scores.columns if s not in wide.columns]
        if missing:
            raise InputError(f"scores: skill(s) missing: {', '.join(missing)}")
        proba = self.solution.predict_proba(wide[list(self.scores.columns)].to_numpy())
        return pd.DataFrame({"ratee": wide.index.to_numpy(),
                             "profile": np.argmax(proba, axis=1) + 1,
                             "probability": proba.max(axis=1)})

    def summary(self) -> str:
        what = f"latent profile analysis, {self.model}" if self.method == "lpa" else self.method
        lines = [f"Skill profiles: {self.k} profile(s) ({what}; chosen by "
                 f"{'silhouette' if self.method != 'lpa' else self.criterion.upper()})",
                 f"People: {len(self.scores)}   skills: {self.scores.shape[1]}   input: "
                 f"{'; '.join(self.notes)}", ""]
        for row in self.profile_summary.itertuples():
            flag = "  (under 5% of people)" if row.small else ""
            stab = "" if pd.isna(row.stability) else f", stability {row.stability:.2f}"
            lines.append(f"Profile {row.profile} - {row.label}: {row.size} people "
                         f"({row.share:.0%}{stab}){flag}")
            lines.append(f"    {row.persona}")
            if "roles" in self.profile_summary.columns:
                lines.append(f"    roles: {row.roles}; levels: {row.levels}")
        if self.adjusted_rand is not None:
            a = self.adjusted_rand
            lines += ["", f"Bootstrap agreement (adjusted Rand): {a['estimate']:.2f} "
                          f"[{a['ci_low']:.2f}, {a['ci_high']:.2f}] over {int(a['n'])} "
                          "resamples"]
        sel = self.model_selection
        if self.method == "lpa":
            row = sel[sel["selected"]].iloc[0]
            lines.append(f"Fit: loglik {row['loglik']:.2f}, BIC {row['bic']:.2f}, entropy "
                         f"{row['entropy']:.2f}, best log-likelihood reached by "
                         f"{int(row['n_at_best'])} of {int(row['n_starts_used'])} starts")
            if row["n_at_best"] < 2:
                lines.append("Warning: only one start reached the best log-likelihood; the "
                             "maximum may be local (try more starts: n_starts)")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        head = self.summary().split("\n")[0]
        cols = [c for c in ("profile", "label", "size", "share", "persona", "stability",
                            "roles", "levels") if c in self.profile_summary.columns]
        html = f"<p><b>{head}</b></p>" + self.profile_summary[cols].to_html(index=False)
        best = self.model_selection.sort_values("selected", ascending=False).head(5)
        return html + "<p>Model selection (chosen first)</p>" + best.to_html(index=False)

    # figures ---------------------------------------------------------------------------

    def plot_means(self, *, standardized: bool = True, ax=None):
        """Profile means per skill with intervals (standardised by default); a Figure."""
        return _plot_means(self, standardized=standardized, ax=ax)

    def plot_bic(self, *, ax=None):
        """BIC (smaller is better) by k, one line per structure; a Figure."""
        return _plot_bic(self, ax=ax)

    def plot_projection(self, *, ax=None):
        """People on the first two principal components, coloured by profile; a Figure."""
        return _plot_projection(self, ax=ax)


# ------------------------------------------------------------------------------------ figures


def _axes(ax, size=(8, 4.5)):
    from matplotlib.figure import Figure

    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


def _palette(k):
    import seaborn as sns

    return sns.color_palette("colorblind", max(k, 1))


def _plot_means(res: ProfileResult, *, standardized=True, ax=None):
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


def _plot_bic(res: ProfileResult, *, ax=None):
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


def _plot_projection(res: ProfileResult, *, ax=None):
    fig, ax = _axes(ax, (6.5, 5))
    x = res.scores.to_numpy()
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    u, sv, vt = np.linalg.svd(x, full_matrices=False)
    pcs = u[:, :2] * sv[:2]
    explained = sv**2 / np.sum(sv**2)
    labels = res.assignments.set_index("ratee").loc[res.scores.index, "profile"].to_numpy()
    colors = _palette(res.k)
    for j, row in enumerate(res.profile_summary.itertuples()):
        mask = labels == row.profile
        ax.scatter(pcs[mask, 0], pcs[mask, 1], s=14, alpha=0.7, color=colors[j],
                   label=f"{row.profile}: {row.label}")
    ax.set_xlabel(f"PC1 ({explained[0]:.0%} of variance)")
    ax.set_ylabel(f"PC2 ({explained[1]:.0%} of variance)" if len(explained) > 1 else "PC2")
    ax.set_title("People on the first two principal components")
    ax.legend(fontsize="small", frameon=False, markerscale=1.5)
    return fig


# ------------------------------------------------------------------------------------ main


def _order(sol: _Solution, x):
    labels = np.argmax(sol.proba, axis=1)
    sizes = np.bincount(labels, minlength=sol.k)
    # Largest first; ties by the mean vector so that reruns give the same numbering.
    keys = sorted(range(sol.k), key=lambda j: (-sizes[j], *np.round(sol.means[j], 10)))
    return np.array(keys)


def _means_frame(sol, x, skills, labels, alpha):
    q = NormalDist().inv_cdf(1 - alpha / 2)
    centre, sd = x.mean(axis=0), x.std(axis=0, ddof=1)
    nk = sol.proba.sum(axis=0)
    rows = []
    for j in range(sol.k):
        var = np.diag(sol.covariances[j])
        if sol.method != "lpa":
            var = x[labels == j].var(axis=0, ddof=1) if np.sum(labels == j) > 1 else \
                np.full(len(skills), np.nan)
        se = np.sqrt(var / max(nk[j], 1e-12))
        for s, skill in enumerate(skills):
            est = sol.means[j, s]
            rows.append({"profile": j + 1, "skill": skill, "estimate": est, "se": se[s],
                         "ci_low": est - q * se[s], "ci_high": est + q * se[s],
                         "z": (est - centre[s]) / sd[s]})
    return pd.DataFrame(rows)


def _vlmr_table(x, fits, structure, k_max):
    from workbench.profiles.gaussian_mixture import vlmr_test

    out = {}
    for k in range(2, k_max + 1):
        null, alt = fits.get((structure, k - 1)), fits.get((structure, k))
        if null is not None and alt is not None:
            out[k] = vlmr_test(x, null, alt)
    return out


def find_profiles(
    scores,
    *,
    k_max: int = 8,
    models=DEFAULT_MODELS,
    method: str = "lpa",
    criterion: str = "bic",
    n_starts: int = 20,
    n_bootstrap: int = 100,
    blrt: bool = False,
    n_blrt: int = 100,
    vlmr: bool = True,
    people: pd.DataFrame | None = None,
    wave=None,
    alpha: float = 0.05,
    random_state=None,
    n_jobs: int | None = None,
    progress: bool = False,
) -> ProfileResult:
    """Find skill profiles: latent profile analysis (Gaussian mixtures) chosen by BIC.

    Parameters
    ----------
    scores : Calibration, DataFrame
        Calibrated scores: a :class:`~workbench.calibration.calibrate.Calibration`, a long table (ratee,
        skill, score[, se][, wave]) or a people x skills matrix (index or a ``ratee`` column
        names the people). Raw ratings (with ``rater`` and ``source``) are averaged over the
        non-self raters, with a :class:`ProfileWarning` that they are not calibrated. People
        without a score in every skill are left out (with a warning).
    k_max : int
        Profiles tried: 1..k_max.
    models : sequence of str
        mclust covariance structures (``EII``, ``VII``, ``EEI``, ``VEI``, ``EVI``, ``VVI``,
        ``EEE``, ``EEV``, ``VEV``, ``EVV``, ``VVV``); default the eight of
        :data:`DEFAULT_MODELS`.
    method : {"lpa", "kmeans", "ward"}
        Latent profile analysis, or scikit-learn's KMeans / Ward clustering chosen by
        silhouette.
    criterion : {"bic", "icl", "sabic", "aic", "caic"}
        How the LPA solution is chosen (smallest value).
    n_starts : int
        Starts per (model, k): Ward partitions, splits of the k - 1 solution, k-means++ and
        random partitions, each run 10 EM iterations; the best quarter run to convergence.
    n_bootstrap : int
        Bootstrap resamples for the stability of the chosen solution (0 skips it).
    blrt : bool
        Run the bootstrap likelihood-ratio test (k vs k - 1, chosen structure, k up to the
        chosen k + 1); ``n_blrt`` resamples each. Costly: off by default.
    vlmr : bool
        Vuong-Lo-Mendell-Rubin test (k vs k - 1, chosen structure, k up to the chosen k + 1;
        not for EEV, VEV, EVV or models with more than 150 parameters).
    people : DataFrame, optional
        person, role, level: describe each profile by the roles and levels it is made of.
    wave : optional
        Which wave, when the scores have several (default: the latest).
    alpha : float
        For the intervals of the profile means.
    random_state : int, Generator or None
        The only source of randomness: a given seed gives the same profiles, numbering and
        stability, whatever ``n_jobs``.
    n_jobs : int or None
        joblib workers for the fit grid, the BLRT and the bootstrap (None: 1).
    progress : bool
        Show tqdm progress bars for the bootstrap loops.

    Returns
    -------
    ProfileResult

    Notes
    -----
    Profiles are numbered by size (largest first, ties by the mean vector). A profile's
    persona compares its mean in each skill with the organisation: ``z = (mean - org mean) /
    org SD``; ``|z| >= 0.5`` is "above/below", ``|z| >= 1`` "well above/below". Stability
    follows Hennig (2007): each resample is refitted with the chosen model and k; a profile's
    Jaccard is the best overlap with a refitted profile among the people drawn, averaged over
    resamples (>= 0.75 stable, < 0.5 dissolved). Checked against R mclust 6.0.0.

    Examples
    --------
    >>> from workbench.synth.generator import generate_organisation
    >>> org = generate_organisation(150, seed=3, n_waves=1)
    >>> truth = org.truth["true_scores"].pivot(index="person", columns="skill",
    ...                                        values="true_score")
    >>> res = find_profiles(truth, k_max=4, models=("EEE",), n_bootstrap=5, random_state=0)
    >>> res.profile_summary[["profile", "size"]].shape[0] == res.k
    True
    """
    if isinstance(scores, pd.DataFrame) and "person" in scores.columns \
            and "ratee" not in scores.columns and {"skill", "true_score"} <= set(scores.columns):
        scores = scores.rename(columns={"person": "ratee", "true_score": "score"})
    wide, se, notes = _score_matrix(scores, wave)
    x = wide.to_numpy(dtype=float)
    n = len(x)
    models = _check_options(k_max, models, method, criterion, n_starts, n_bootstrap, n_blrt, n)
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha={alpha!r}: must be between 0 and 1")
    seeds = _seeds(random_state, 4)
    if se is not None:
        rel = 1 - np.nanmean(se.to_numpy() ** 2, axis=0) / np.var(x, axis=0, ddof=1)
        notes.append(f"reliability of the scores (1 - mean se^2 / variance): "
                     f"{np.nanmin(rel):.2f} to {np.nanmax(rel):.2f} across skills")

    if method == "lpa":
        fits = _fit_grid(x, models, k_max, n_starts, seeds[0], n_jobs)
        table = pd.DataFrame([_fit_row(m, k, fits[(m, k)], n) for m in models
                              for k in range(1, k_max + 1)])
        if table[criterion].notna().sum() == 0:
            raise ModelError("no Gaussian mixture could be fitted (every start reached a "
                             "singular covariance); try fewer profiles or simpler models")
        best = table.loc[table[criterion].idxmin()]
        model, k = str(best["model"]), int(best["k"])
        f = fits[(model, k)]
        sol = _Solution("lpa", model, k, f.resp, f.means, f.covariances, f.weights, f)
        table["blrt_lr"] = np.nan
        table["blrt_p_value"] = np.nan
        table["vlmr_lr"] = np.nan
        table["vlmr_p_value"] = np.nan
        here = table["model"] == model
        if vlmr:
            for kk, (lr, p) in _vlmr_table(x, fits, model, min(k_max, k + 1)).items():
                row = here & (table["k"] == kk)
                table.loc[row, ["vlmr_lr", "vlmr_p_value"]] = [lr, p]
                if np.isnan(p):
                    notes.append(f"VLMR p-value not computed for {model} with k={kk} (rotated "
                                 "structures or more than 150 parameters)")
        if blrt:
            tests = _blrt(x, fits, model, min(k_max, k + 1), n_blrt,
                          max(4, n_starts // 4), seeds[1], n_jobs, progress)
            for kk, (lr, p, _) in tests.items():
                row = here & (table["k"] == kk)
                table.loc[row, ["blrt_lr", "blrt_p_value"]] = [lr, p]
    else:
        table, sols = _hard_grid(method, x, k_max, n_starts, seeds[0])
        if k_max == 1 or table["silhouette"].notna().sum() == 0:
            k = 1
        else:
            k = int(table.loc[table["silhouette"].idxmax(), "k"])
        sol, model = sols[k], method
    table["selected"] = (table["model"] == model) & (table["k"] == k)

    sol = sol.reorder(_order(sol, x))
    labels = np.argmax(sol.proba, axis=1)
    skills = list(wide.columns)
    assign = pd.DataFrame({"ratee": wide.index.to_numpy(), "profile": labels + 1,
                           "probability": sol.proba.max(axis=1)})
    proba = pd.DataFrame(sol.proba, index=wide.index,
                         columns=[f"profile_{j + 1}" for j in range(sol.k)])
    means = _means_frame(sol, x, skills, labels, alpha)

    stability, ari = None, None
    if n_bootstrap > 0 and k > 1:
        boot_ari, jac = _stability(sol, x, labels, n_bootstrap, max(4, n_starts // 4),
                                   seeds[2], n_jobs, progress)
        if boot_ari is not None:
            ari = pd.Series({"estimate": boot_ari.mean(),
                             "ci_low": np.quantile(boot_ari, 0.025),
                             "ci_high": np.quantile(boot_ari, 0.975), "n": len(boot_ari)})
            sizes = np.bincount(labels, minlength=k)
            stability = pd.DataFrame({
                "profile": np.arange(1, k + 1),
                "jaccard": np.nanmean(jac, axis=0),
                "jaccard_ci_low": np.nanquantile(jac, 0.025, axis=0),
                "jaccard_ci_high": np.nanquantile(jac, 0.975, axis=0),
                "dissolved": np.nanmean(jac < 0.5, axis=0),
                "small": sizes / n < SMALL_SHARE,
                "n": np.sum(np.isfinite(jac), axis=0),
            })
            stability["stable"] = stability["jaccard"] >= 0.75
            stability = stability[["profile", "jaccard", "jaccard_ci_low", "jaccard_ci_high",
                                   "dissolved", "stable", "small", "n"]]

    comp = _composition(assign, people)
    summary = _profile_summary(sol, means, labels, skills, n, stability, comp)
    return ProfileResult(method=method, model=model, k=k, assignments=assign,
                         probabilities=proba, profile_summary=summary, means=means,
                         model_selection=table, stability=stability, adjusted_rand=ari,
                         composition=comp, scores=wide, criterion=criterion, alpha=alpha,
                         notes=notes, solution=sol)


def _profile_summary(sol, means, labels, skills, n, stability, comp):
    sizes = np.bincount(labels, minlength=sol.k)
    z = means.pivot(index="profile", columns="skill", values="z")[skills]
    est = means.pivot(index="profile", columns="skill", values="estimate")[skills]
    rows = []
    for j in range(sol.k):
        p = j + 1
        row = {"profile": p, "label": _label(z.loc[p]), "size": int(sizes[j]),
               "share": sizes[j] / n, "persona": _persona(z.loc[p]),
               "small": bool(sizes[j] / n < SMALL_SHARE),
               "stability": np.nan if stability is None else
               float(stability.loc[stability["profile"] == p, "jaccard"].iloc[0])}
        if comp is not None:
            for var, name in (("role", "roles"), ("level", "levels")):
                if var in set(comp["variable"]):
                    row[name] = _composition_text(comp, p, var)
        row |= {skill: float(est.loc[p, skill]) for skill in skills}
        rows.append(row)
    return pd.DataFrame(rows)


class ProfileModel:
    """Estimator form of :func:`find_profiles` (scikit-learn conventions).

    Parameters are those of :func:`find_profiles`; ``fit(scores, people=None)`` stores the
    :class:`ProfileResult` in ``result_`` and returns ``self``; ``predict(scores)`` assigns
    people to the fitted profiles.

    Examples
    --------
    >>> from workbench.synth.generator import generate_organisation
    >>> org = generate_organisation(120, seed=2, n_waves=1)
    >>> truth = org.truth["true_scores"].pivot(index="person", columns="skill",
    ...                                        values="true_score")
    >>> model = ProfileModel(k_max=3, models=("EEE",), n_bootstrap=0, random_state=0)
    >>> model.fit(truth).predict(truth).shape[0]
    120
    """

    def __init__(self, *, k_max=8, models=DEFAULT_MODELS, method="lpa", criterion="bic",
                 n_starts=20, n_bootstrap=100, blrt=False, n_blrt=100, vlmr=True, wave=None,
                 alpha=0.05, random_state=None, n_jobs=None, progress=False):
        self.k_max = k_max
        self.models = models
        self.method = method
        self.criterion = criterion
        self.n_starts = n_starts
        self.n_bootstrap = n_bootstrap
        self.blrt = blrt
        self.n_blrt = n_blrt
        self.vlmr = vlmr
        self.wave = wave
        self.alpha = alpha
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.progress = progress

    def get_params(self, deep=True) -> dict:
        names = ("k_max", "models", "method", "criterion", "n_starts", "n_bootstrap", "blrt",
                 "n_blrt", "vlmr", "wave", "alpha", "random_state", "n_jobs", "progress")
        return {name: getattr(self, name) for name in names}

    def fit(self, scores, people=None):
        self.result_ = find_profiles(scores, people=people, **self.get_params())
        self.k_ = self.result_.k
        return self

    def predict(self, scores) -> pd.DataFrame:
        if not hasattr(self, "result_"):
            raise ModelError("ProfileModel: call fit() before predict()")
        return self.result_.predict(scores)
