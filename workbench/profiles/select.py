"""Skill profiles: latent profile analysis of calibrated scores, chosen over a grid of models.

:func:`find_profiles` fits Gaussian mixtures (latent profile analysis, LPA) with k = 1..k_max
profiles and mclust's covariance structures (:mod:`workbench.profiles.structures`), chooses one
by BIC among the cells the size rules allow, and describes each profile in plain words
(:mod:`workbench.profiles.personas`), with its stability under bootstrap resampling
(:mod:`workbench.profiles.stability`). ``method="kmeans"`` and ``method="ward"`` give the usual
alternatives (:mod:`workbench.profiles.clustering`).

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
* ``blrt_p_value``, ``vlmr_p_value``: tests of k against k - 1 profiles for the chosen
  structure (:mod:`workbench.profiles.likelihood_ratio`).
* ``n_at_best``: starts that reached a log-likelihood within 1e-4 (relative) of the best, of
  ``n_starts_used``; 1 warns that the maximum may be local.

**Size rules** (a cell that breaks one is reported but never chosen, ``eligible = False``):
every profile holds at least :data:`MIN_PROFILE_SIZE` (5) people, and the model has at most
one free parameter per :data:`NUMBERS_PER_PARAMETER` (5) numbers of data (people x skills).
Ten people with eight skills (80 numbers) thus allow at most 16 parameters: one profile.

**Scores off the scale**: with ``scale`` given (the organisation's rating scale), a score more
than one scale point outside it is refused (calibration moves scores a little past the ends of
the scale, never by a whole point; 17 on a 1-5 scale is a data error).

Checked against R's mclust 6.0.0 (tests/fixtures/mclust, benchmarks/R/mclust_fixture.R): the
same model and k are chosen and no (structure, k) ends with a lower log-likelihood than
mclust's.

(A little over 600 lines: the input checks, the grid with its shared starts and the size rules
serve the one entry point, :func:`find_profiles`, and are read together.)

Examples
--------
>>> from workbench.synth.generator import generate_organisation
>>> from workbench.tables.scores import raw_scores
>>> org = generate_organisation(200, seed=5, n_waves=1)
>>> res = find_profiles(raw_scores(org.ratings), k_max=4, models=("EEE", "VVI"),
...                     n_bootstrap=0, vlmr=False, random_state=1)
>>> int(res.k) >= 1
True
>>> res.assignments.columns.tolist()
['person', 'profile', 'probability', 'persona']
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from workbench.checks import (
    DEFAULT_SEED,
    check_alpha,
    check_choice,
    check_choices,
    check_integer,
    check_random_state,
    check_scale,
)
from workbench.errors import ConfigError, InputError, ModelError, Problem
from workbench.parallel import check_n_jobs, resolve_n_jobs
from workbench.profiles.clustering import hard_grid
from workbench.profiles.gaussian_mixture import (
    MixtureFit,
    fit_mixture,
    load_kernels,
    same_partition,
)
from workbench.profiles.initialisation import agglomerate, merge_starts, ward_trees
from workbench.profiles.inputs import ProfileWarning, score_matrix
from workbench.profiles.likelihood_ratio import blrt_table, split_starts, vlmr_table
from workbench.profiles.parallel import n_workers, parallel_map, spawn_seeds
from workbench.profiles.personas import (
    SMALL_SHARE,
    means_frame,
    profile_composition,
    profile_summary,
)
from workbench.profiles.result import ProfileResult, Solution
from workbench.profiles.stability import bootstrap_stability, stability_table
from workbench.profiles.structures import STRUCTURES

__all__ = [
    "find_profiles",
    "ProfileModel",
    "DEFAULT_MODELS",
    "METHODS",
    "CRITERIA",
    "MIN_PROFILE_SIZE",
    "NUMBERS_PER_PARAMETER",
]

DEFAULT_MODELS = ("EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE", "VVV")
METHODS = ("lpa", "kmeans", "ward")
CRITERIA = ("bic", "icl", "sabic", "aic", "caic")
MIN_PROFILE_SIZE = 5
NUMBERS_PER_PARAMETER = 5


def _check_people_overlap(people, scored) -> None:
    """A people table that describes none of the scored people is the wrong file (issue 26);
    one that describes fewer than half of them is said in a warning."""
    if not isinstance(people, pd.DataFrame):
        return  # profile_composition names what is wrong with it
    key = "person" if "person" in people.columns else "ratee" if "ratee" in people.columns \
        else None
    if key is None:
        return
    listed = set(people[key].dropna().astype(str))
    common = listed & set(scored)
    if not common:
        raise InputError([Problem("people", None, key, f"none of the {len(listed)} people "
                                  f"listed is among the {len(scored)} people with scores "
                                  f"(first with scores: {', '.join(sorted(scored)[:3])}; "
                                  f"first listed: {', '.join(sorted(listed)[:3])})")])
    if len(common) < 0.5 * len(scored):
        warnings.warn(f"people: only {len(common)} of the {len(scored)} people with scores are "
                      "in the people table; the others count as 'unknown' in the profiles' "
                      "composition", ProfileWarning, stacklevel=3)


def _check_options(k_max, models, method, criterion, n_starts, n_bootstrap, n_blrt, alpha,
                   random_state, n_jobs, *, blrt=False, scale=None):
    check_choice("method", method, METHODS)
    if method != "lpa":
        # options of the mixture models that k-means and Ward would silently ignore
        ignored = [f"{name}={value!r}" for name, value, default in (
            ("models", tuple(models) if not isinstance(models, str) else (models,),
             DEFAULT_MODELS), ("criterion", criterion, "bic"), ("blrt", blrt, False))
            if value != default]
        if ignored:
            raise ConfigError(f"method={method!r}: {', '.join(ignored)} only apply to latent "
                              "profile analysis (method='lpa'); leave them out or use lpa")
    if scale is not None:
        check_scale("scale", scale)
    check_choice("criterion", criterion, CRITERIA)
    check_integer("k_max", k_max, low=1)
    models = tuple(str(m).upper() for m in ((models,) if isinstance(models, str) else models))
    check_choices("models", models, STRUCTURES)
    check_integer("n_starts", n_starts, low=1)
    check_integer("n_bootstrap", n_bootstrap, low=0)
    check_integer("n_blrt", n_blrt, low=1)
    check_alpha(alpha)
    check_random_state(random_state)
    check_n_jobs(n_jobs)
    return tuple(dict.fromkeys(models))


# ------------------------------------------------------------------------------------ fitting


def _fit_structure(x, structure, k_max, n_starts, seed, trees, subset_rows, hc, other_hc):
    """Fits k = 1..k_max of one structure; each k also starts from splits of the k - 1 fit
    and from mclust's hierarchical agglomeration cut at k (of each subset, large samples)."""
    rng = np.random.default_rng(seed)
    fits, previous = {}, None
    for k in range(1, k_max + 1):
        extra = split_starts(previous, x) if previous is not None else None
        fit = fit_mixture(x, k, structure, n_starts=max(n_starts, len(extra or []) + 2),
                          random_state=rng, ward_tree=trees, init_resp=extra,
                          subset_rows=subset_rows, hc_labels=hc.get(k),
                          other_anchors=[(rows, part[k]) for rows, part in other_hc
                                         if k in part])
        fits[k] = fit
        previous = fit if fit is not None else previous
    return structure, fits


#: Subsets agglomerated for the hierarchical starts of large samples (above ``subset`` rows).
HC_SUBSETS = 2


def _fit_grid(x, models, k_max, n_starts, seed, n_jobs, subset=2000):
    """Every (structure, k) of the grid. Above ``subset`` people, mclust agglomerates one
    random subset of 2,000; which subset decides which optimum some cells reach (on the
    3,000-person benchmark data, the hierarchical starts of 3 of 4 subsets reached mclust's
    EII/EEI/EVI k = 5 optimum, the 4th ended 60 units below), so ``HC_SUBSETS`` subsets are
    agglomerated and each gives a start."""
    rng = np.random.default_rng(seed)
    subsets = [np.sort(rng.choice(len(x), subset, replace=False))
               for _ in range(HC_SUBSETS if len(x) > subset else 0)]
    subset_rows = subsets[0] if subsets else None
    trees, *partitions = _starting_trees(x, subsets or [None], k_max, n_jobs, models)
    hc = partitions[0]
    other_hc = list(zip(subsets[1:], partitions[1:], strict=True))
    seeds = spawn_seeds(seed, len(models))
    done = parallel_map(_fit_structure, [(x, m, k_max, n_starts, s, trees, subset_rows, hc,
                                          other_hc)
                                         for m, s in zip(models, seeds, strict=True)], n_jobs,
                        while_waiting=_import_figures)
    fits = {(m, k): f for m, fits in done for k, f in fits.items()}
    if len(x) <= subset:
        fits = _merge_down(x, fits, models, k_max, n_jobs)
    return _share_partitions(x, fits, models, k_max, subset_rows, n_jobs)


#: Merged pairs of the (k + 1)-profile fit that start each k-profile fit (up to 2,000 people).
MERGES = 2


def _merge_down(x, fits, models, k_max, n_jobs=None):
    """Each (structure, k < k_max) also starts from its (k + 1)-profile fit with two profiles
    merged (the ``MERGES`` pairs whose posteriors overlap most; split-and-merge EM, Ueda et
    al. 2000), from k_max - 1 down, so a better k + 1 helps k. The grid's starts come from
    below (splits of k - 1, agglomerations cut at k); merges come from above and reach optima
    none of them does: on mclust's banknote data VVE with 5 profiles ended 0.41 units below
    mclust's own fit without them, 3.3 above with them. A merge replaces a fit only when it
    ends higher. Up to 2,000 people (where the grid starts from mclust's own agglomeration);
    the structures run over ``n_jobs`` workers."""
    done = parallel_map(_merge_structure, [(x, m, {k: fits.get((m, k))
                                                   for k in range(2, k_max + 1)})
                                           for m in models], n_jobs)
    for m, better in done:
        fits.update({(m, k): f for k, f in better.items()})
    return fits


def _merge_structure(x, structure, fits):
    """:func:`_merge_down` for one structure: the improved fits by k."""
    better = {}
    for k in sorted(fits, reverse=True)[1:]:
        fit, above = fits[k], fits.get(k + 1)
        if fit is None or above is None:
            continue
        new = _donor_refits(x, structure, fit, merge_starts(above.resp, MERGES), None)
        if new is not None:
            fits[k] = better[k] = new
    return structure, better


def _import_figures():
    """matplotlib's figure and PNG writer, which the result's figures need (half a second),
    imported while the workers fit the grid."""
    from matplotlib import figure  # noqa: F401
    from matplotlib.backends import backend_agg  # noqa: F401


def _starting_trees(x, subsets, k_max, n_jobs, models=()):
    """The Ward trees of the first subset and the hierarchical agglomeration of every subset
    (None: all rows) cut at k = 2..k_max. The agglomerations are compiled loops that release
    the GIL: with more than one worker they run side by side in threads."""
    def hc_partitions(rows):
        return agglomerate(x if rows is None else x[rows]).partitions(range(2, k_max + 1))

    first = x if subsets[0] is None else x[subsets[0]]
    if n_workers(n_jobs) <= 1:
        return [ward_trees(first)] + [hc_partitions(rows) for rows in subsets]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=n_workers(n_jobs)) as pool:
        partitions = pool.map(hc_partitions, subsets)
        trees = pool.submit(ward_trees, first)
        # Meanwhile, this thread loads the EM kernels, so that the forked workers inherit
        # them instead of each loading them again.
        load_kernels(models)
        return [trees.result(), *partitions]


#: Partitions of the best cells of a family at each k tried as starts of its other structures.
DONORS = 2
#: Rounds of sharing: a cell improved in one round is a donor again in the next.
SHARING_ROUNDS = 2


def _share_partitions(x, fits, models, k_max, subset_rows, n_jobs=None):
    """Each (structure, k) also starts from the partitions of the ``DONORS`` best cells (by
    BIC) of its family at the same k (diagonal, common orientation, orientation per profile:
    the third letter of the name): one structure's optimum is often a good start for its
    neighbours, and neighbours share a family. (Donors taken from the whole grid are the
    common-orientation cells the true model favours, whose partitions rarely help a diagonal
    or VEV cell: on the 3,000-person benchmark data, cells of those ended 10-26
    log-likelihood units below mclust's, none with donors per family.) Donor runs go first on
    the subset (large samples), stop once they cannot beat the cell's fit, and replace it only
    when they end higher on all rows. Within a round the donors are the fits at its start, so
    the cells are independent and run over ``n_jobs`` workers; a cell improved in one round
    is a donor of its family again in the next (``SHARING_ROUNDS``), only to the cells it
    was not a donor of yet with this partition."""
    n = len(x)
    changed = None  # the first round runs every cell
    for _ in range(SHARING_ROUNDS):
        tasks = []
        for k in range(2, k_max + 1):
            cells = {m: fits.get((m, k)) for m in models if fits.get((m, k)) is not None}
            ranked = sorted(cells, key=lambda m: -2 * cells[m].loglik
                            + cells[m].n_parameters * np.log(n))
            donors_of = {f: [m for m in ranked if _family(m) == f][:DONORS]
                         for f in ("I", "E", "V")}
            for m, fit in cells.items():
                donors = [d for d in donors_of[_family(m)] if d != m]
                if changed is not None:
                    donors = [d for d in donors if (d, k) in changed]
                if donors:
                    tasks.append((m, k, fit, [cells[d].resp for d in donors]))
        better = parallel_map(_donor_refits, [(x, m, fit, starts, subset_rows)
                                              for m, k, fit, starts in tasks], n_jobs)
        changed = set()
        for (m, k, _, _), new in zip(tasks, better, strict=True):
            if new is not None:
                fits[(m, k)] = new
                changed.add((m, k))
        if not changed:
            break
    return fits


def _donor_refits(x, structure, fit, starts, subset_rows):
    """EM of one cell from its donors' partitions; the best fit if one ends higher than
    ``fit``, else None."""
    from workbench.profiles.gaussian_mixture import refine_mixture

    k = fit.k
    labels = np.argmax(fit.resp, axis=1)
    improved = None
    for start in starts:
        if same_partition(labels, np.argmax(start, axis=1), k):
            continue
        if subset_rows is not None:
            sub_fit = refine_mixture(x[subset_rows], start[subset_rows], structure, tol=1e-5,
                                     floor=fit.posteriors(x[subset_rows])[1])
            if sub_fit is None:
                continue
            start = sub_fit.predict_proba(x)
        new = refine_mixture(x, start, structure, tol=1e-5, floor=fit.loglik)
        if new is not None and new.loglik > fit.loglik:
            new.start_logliks = np.append(fit.start_logliks, new.loglik)
            new.start_counts = np.append(fit.start_counts, 1)
            fit = improved = new
            labels = np.argmax(fit.resp, axis=1)
    return improved


def _family(structure):
    """Diagonal ("I"), one common orientation ("E") or one orientation per profile ("V")."""
    return structure[2]


def _fit_row(structure, k, fit: MixtureFit | None, n, d):
    row = {"model": structure, "k": k}
    if fit is None:
        return row | {"loglik": np.nan, "n_parameters": np.nan, "converged": False,
                      "eligible": False}
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
        "eligible": bool(counts.min() >= MIN_PROFILE_SIZE
                         and p * NUMBERS_PER_PARAMETER <= n * d),
    }


def _choose(table, criterion, notes):
    fitted = table[table[criterion].notna()]
    if fitted.empty:
        raise ModelError("no Gaussian mixture could be fitted (every start reached a singular "
                         "covariance); try fewer profiles or simpler models")
    allowed = fitted[fitted["eligible"]]
    if allowed.empty:
        raise ModelError(
            f"no structure and k satisfies the size rules (at least {MIN_PROFILE_SIZE} people "
            f"per profile, at most one parameter per {NUMBERS_PER_PARAMETER} numbers of data); "
            "add people or simpler models (EII, VVI)")
    overall = fitted.loc[fitted[criterion].idxmin()]
    best = allowed.loc[allowed[criterion].idxmin()]
    if not overall["eligible"]:
        message = (f"{overall['model']} with k={int(overall['k'])} has the best "
                   f"{criterion.upper()} but breaks the size rules (smallest profile "
                   f"{int(overall['smallest_n'])} people, {int(overall['n_parameters'])} "
                   f"parameters); {best['model']} with k={int(best['k'])} is used")
        warnings.warn(message, ProfileWarning, stacklevel=3)
        notes.append(message)
    return str(best["model"]), int(best["k"])


def _lpa(x, models, k_max, criterion, n_starts, seeds, n_jobs, vlmr, blrt, n_blrt, progress,
         notes):
    n, d = x.shape
    fits = _fit_grid(x, models, k_max, n_starts, seeds[0], n_jobs)
    table = pd.DataFrame([_fit_row(m, k, fits[(m, k)], n, d) for m in models
                          for k in range(1, k_max + 1)])
    model, k = _choose(table, criterion, notes)
    f = fits[(model, k)]
    sol = Solution("lpa", model, k, f.resp, f.means, f.covariances, f.weights, f)
    for col in ("blrt_lr", "blrt_p_value", "vlmr_lr", "vlmr_p_value"):
        table[col] = np.nan
    here = table["model"] == model
    if vlmr:
        for kk, (lr, p) in vlmr_table(x, fits, model, min(k_max, k + 1)).items():
            table.loc[here & (table["k"] == kk), ["vlmr_lr", "vlmr_p_value"]] = [lr, p]
            if np.isnan(p):
                notes.append(f"VLMR p-value not computed for {model} with k={kk} (rotated "
                             "structures or more than 150 parameters)")
    if blrt:
        tests = blrt_table(x, fits, model, min(k_max, k + 1), n_blrt, max(4, n_starts // 4),
                           seeds[1], n_jobs, progress)
        for kk, (lr, p, _) in tests.items():
            table.loc[here & (table["k"] == kk), ["blrt_lr", "blrt_p_value"]] = [lr, p]
    return table, sol, model, k


def _order(sol: Solution):
    labels = np.argmax(sol.proba, axis=1)
    sizes = np.bincount(labels, minlength=sol.k)
    # Largest first; ties by the mean vector so that reruns give the same numbering.
    keys = sorted(range(sol.k), key=lambda j: (-sizes[j], *np.round(sol.means[j], 10)))
    return np.array(keys)


def find_profiles(
    scores,
    *,
    k_max: int = 8,
    models=DEFAULT_MODELS,
    method: str = "lpa",
    criterion: str = "bic",
    n_starts: int = 10,
    n_bootstrap: int = 100,
    blrt: bool = False,
    n_blrt: int = 100,
    vlmr: bool = True,
    people: pd.DataFrame | None = None,
    wave=None,
    scale=None,
    alpha: float = 0.05,
    random_state=None,
    n_jobs: int | None = None,
    progress: bool = False,
    source: str = "scores",
) -> ProfileResult:
    """Find skill profiles: latent profile analysis (Gaussian mixtures) chosen by BIC.

    Parameters
    ----------
    scores : Calibration, DataFrame or path
        Calibrated scores: anything :func:`workbench.tables.scores.as_scores` reads (a
        ``Calibration``, a long table person (or ratee), skill, score[, se][, wave], a scores
        file), or a people x skills matrix (index or a ``person`` column names the people).
        Raw ratings (with ``rater`` and ``source``) are averaged over the non-self raters, with
        a :class:`ProfileWarning` that they are not calibrated. People without a score in
        every skill are left out (with a warning).
    k_max : int
        Profiles tried: 1..k_max.
    models : sequence of str
        mclust covariance structures (any of the fourteen in
        :data:`~workbench.profiles.structures.STRUCTURES`); default the eight of
        :data:`DEFAULT_MODELS`.
    method : {"lpa", "kmeans", "ward"}
        Latent profile analysis, or scikit-learn's KMeans / Ward clustering chosen by
        silhouette.
    criterion : {"bic", "icl", "sabic", "aic", "caic"}
        How the LPA solution is chosen (smallest value among the eligible cells).
    n_starts : int
        Generated starts per (model, k), besides mclust's hierarchical start and the splits of
        the k - 1 solution; each runs 10 EM iterations and the best quarter to convergence.
    n_bootstrap : int
        Bootstrap resamples for the stability of the chosen solution (0 skips it).
    blrt : bool
        Run the bootstrap likelihood-ratio test (k vs k - 1, chosen structure, k up to the
        chosen k + 1); ``n_blrt`` resamples each. Costly: off by default.
    vlmr : bool
        Vuong-Lo-Mendell-Rubin test (k vs k - 1, chosen structure, k up to the chosen k + 1;
        not for rotated structures or models with more than 150 parameters).
    people : DataFrame, optional
        person, role, level: describe each profile by the roles and levels it is made of.
    wave : optional
        Which wave; default each person's latest (:func:`workbench.tables.scores.latest_wave`).
    scale : Scale or (min, max), optional
        The rating scale: scores more than one point outside it are refused.
    alpha : float
        For the intervals of the profile means.
    random_state : int, Generator or None
        The only source of randomness; None is :data:`workbench.checks.DEFAULT_SEED`, so the
        same input gives the same profiles, numbering and stability, whatever ``n_jobs``.
    n_jobs : int or None
        Workers for the fit grid, the BLRT and the bootstrap: forked processes on Linux,
        threads elsewhere (:func:`~workbench.profiles.parallel.parallel_map`), with the
        meaning of :mod:`workbench.parallel`: None (the default) is one worker unless inside
        ``parallel_config``, -1 every core, -k every core but k - 1. The number used is
        ``settings["n_jobs"]``; the results do not depend on it.
    progress : bool
        Show tqdm progress bars for the bootstrap loops.
    source : str
        How to name the input in messages (the CLI passes the file name).

    Returns
    -------
    ProfileResult

    Notes
    -----
    Profiles are numbered by size (largest first, ties by the mean vector). Stability
    follows Hennig (2007), see :mod:`workbench.profiles.stability`. Checked against R mclust
    6.0.0.

    Examples
    --------
    >>> from workbench.synth.generator import generate_organisation
    >>> org = generate_organisation(150, seed=3, n_waves=1)
    >>> truth = org.truth["true_scores"].pivot(index="person", columns="skill",
    ...                                        values="true_score")
    >>> res = find_profiles(truth, k_max=4, models=("EEE",), n_bootstrap=5, vlmr=False)
    >>> res.profile_summary[["profile", "size"]].shape[0] == res.k
    True
    """
    models = _check_options(k_max, models, method, criterion, n_starts, n_bootstrap, n_blrt,
                            alpha, random_state, n_jobs, blrt=blrt, scale=scale)
    n_jobs = resolve_n_jobs(n_jobs)
    wide, se, notes = score_matrix(scores, wave, scale=scale, source=source)
    _check_people_overlap(people, wide.index)
    x = wide.to_numpy(dtype=float)
    n = len(x)
    if k_max >= n:
        raise ConfigError(f"k_max={k_max}: must be smaller than the number of people ({n})")
    seeds = spawn_seeds(random_state, 4)
    if se is not None:
        rel = 1 - np.nanmean(se.to_numpy() ** 2, axis=0) / np.var(x, axis=0, ddof=1)
        notes.append(f"reliability of the scores (1 - mean se^2 / variance): "
                     f"{np.nanmin(rel):.2f} to {np.nanmax(rel):.2f} across skills")
    if method == "lpa":
        table, sol, model, k = _lpa(x, models, k_max, criterion, n_starts, seeds, n_jobs,
                                    vlmr, blrt, n_blrt, progress, notes)
    else:
        table, sols = hard_grid(method, x, k_max, n_starts, seeds[0])
        table["eligible"] = (table["smallest_n"] >= MIN_PROFILE_SIZE) | (table["k"] == 1)
        ok = table[table["eligible"] & table["silhouette"].notna()]
        k = 1 if k_max == 1 or ok.empty else int(ok.loc[ok["silhouette"].idxmax(), "k"])
        sol, model = sols[k], method
    table["selected"] = (table["model"] == model) & (table["k"] == k)

    sol = sol.reorder(_order(sol))
    labels = np.argmax(sol.proba, axis=1)
    skills = list(wide.columns)
    means = means_frame(sol, x, skills, labels, alpha)
    stability, ari = None, None
    if n_bootstrap > 0 and k > 1:
        boot_ari, jac = bootstrap_stability(x, labels, fit=sol.fit, method=method,
                                            n_bootstrap=n_bootstrap, random_state=seeds[2],
                                            n_jobs=n_jobs, progress=progress)
        if boot_ari is not None:
            stability, ari = stability_table(boot_ari, jac, np.bincount(labels, minlength=k),
                                             n, SMALL_SHARE)
    assign = pd.DataFrame({"person": wide.index.to_numpy(), "profile": labels + 1,
                           "probability": sol.proba.max(axis=1)})
    comp = profile_composition(assign, people)
    summary = profile_summary(sol, means, labels, skills, n, stability, comp)
    assign["persona"] = assign["profile"].map(summary.set_index("profile")["persona"])
    proba = pd.DataFrame(sol.proba, index=wide.index,
                         columns=[f"profile_{j + 1}" for j in range(sol.k)])
    settings = {"method": method, "models": list(models), "k_max": k_max,
                "criterion": criterion, "n_starts": n_starts, "n_bootstrap": n_bootstrap,
                "blrt": blrt, "n_blrt": n_blrt, "vlmr": vlmr, "wave": wave,
                "alpha": alpha, "scale": None if scale is None else list(
                    (scale.min, scale.max) if hasattr(scale, "min") else scale),
                "random_state": DEFAULT_SEED if random_state is None else random_state,
                "n_jobs": n_jobs, "min_profile_size": MIN_PROFILE_SIZE,
                "numbers_per_parameter": NUMBERS_PER_PARAMETER}
    return ProfileResult(method=method, model=model, k=k, assignments=assign,
                         probabilities=proba, profile_summary=summary, means=means,
                         model_selection=table, stability=stability, adjusted_rand=ari,
                         composition=comp, scores=wide, notes=notes, settings=settings,
                         solution=sol)


class ProfileModel:
    """Estimator form of :func:`find_profiles` (scikit-learn conventions).

    Parameters are those of :func:`find_profiles`; ``fit(scores, people=None)`` stores the
    :class:`~workbench.profiles.result.ProfileResult` in ``result_`` and returns ``self``;
    ``predict(scores)`` assigns people to the fitted profiles.

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

    _PARAMS = ("k_max", "models", "method", "criterion", "n_starts", "n_bootstrap", "blrt",
               "n_blrt", "vlmr", "wave", "scale", "alpha", "random_state", "n_jobs",
               "progress")

    def __init__(self, *, k_max=8, models=DEFAULT_MODELS, method="lpa", criterion="bic",
                 n_starts=10, n_bootstrap=100, blrt=False, n_blrt=100, vlmr=True, wave=None,
                 scale=None, alpha=0.05, random_state=None, n_jobs=None, progress=False):
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
        self.scale = scale
        self.alpha = alpha
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.progress = progress

    def get_params(self, deep=True) -> dict:
        return {name: getattr(self, name) for name in self._PARAMS}

    def fit(self, scores, people=None):
        self.result_ = find_profiles(scores, people=people, **self.get_params())
        self.k_ = self.result_.k
        return self

    def predict(self, scores) -> pd.DataFrame:
        if not hasattr(self, "result_"):
            raise ModelError("ProfileModel: call fit() before predict()")
        return self.result_.predict(scores)
