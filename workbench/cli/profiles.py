"""``workbench profiles CALIBRATED_SCORES``: skill profiles (latent profile analysis) and personas."""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import ConfigError, InputError, Problem


def register(sub) -> None:
    from workbench.profiles.gaussian_mixture import STRUCTURES
    from workbench.profiles.select import DEFAULT_MODELS

    parser = sub.add_parser(
        "profiles",
        help="find skill profiles (latent profile analysis) and describe them as personas",
        description="Fit Gaussian mixtures (mclust covariance structures, k = 1..K) to "
        "calibrated scores, choose one by BIC and write profiles.csv (ratee, profile, "
        "probability), profile_summary.csv (size, persona, means per skill), "
        "model_selection.csv, stability.csv and figures to a new folder.",
    )
    parser.add_argument("scores", metavar="CALIBRATED_SCORES",
                        help="calibrated_scores.csv from 'workbench calibrate' (ratee, skill, "
                        "score[, se][, wave]), a ratee x skill matrix, or ratings (raw means "
                        "of non-self ratings, with a warning)")
    parser.add_argument("--k-max", type=int, default=8, metavar="K",
                        help="largest number of profiles tried (default %(default)s)")
    parser.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS), metavar="M",
                        help=f"covariance structures, among {' '.join(STRUCTURES)} "
                        "(default: %(default)s)")
    parser.add_argument("--method", choices=["lpa", "kmeans", "ward"], default="lpa",
                        help="latent profile analysis (default) or k-means / Ward clustering")
    parser.add_argument("--people", metavar="P", help="people file (person, role, level)")
    parser.add_argument("--wave", default=None, help="wave to use (default: the latest)")
    parser.add_argument("--n-starts", type=int, default=20, metavar="N",
                        help="EM starts per model and k (default %(default)s)")
    parser.add_argument("--bootstrap", type=int, default=100, metavar="B",
                        help="bootstrap resamples for stability (default %(default)s, 0: none)")
    parser.add_argument("--blrt", type=int, default=0, metavar="B",
                        help="bootstrap likelihood-ratio test with B resamples (default: off)")
    parser.add_argument("--no-vlmr", action="store_true", help="skip the VLMR test")
    parser.add_argument("--seed", type=int, default=None, metavar="S", help="random seed")
    parser.add_argument("--jobs", type=int, default=1, metavar="J",
                        help="parallel workers (default %(default)s)")
    parser.add_argument("--out", default=None, metavar="DIR",
                        help="new output folder (default: profiles-<timestamp>)")
    parser.set_defaults(func=run)


def _read(path_text: str, what: str) -> pd.DataFrame:
    from workbench.tables.data import read_table

    path = Path(path_text)
    if not path.is_file():
        raise InputError([Problem(str(path), None, None, f"{what} file not found")])
    frame = read_table(path).replace("", np.nan)
    return frame


def _numeric(frame: pd.DataFrame, path: str) -> pd.DataFrame:
    """Typed scores: numbers where the contract expects them, with the file's row numbers."""
    text = {"ratee", "rater", "source", "skill", "person", "date", "subset"}
    problems = []
    out = frame.copy()
    for col in out.columns:
        if col in text:
            continue
        values = pd.to_numeric(out[col], errors="coerce")
        bad = values.isna() & out[col].notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
            problems.append(Problem(path, row, col, "not a number", str(out[col][bad].iloc[0])))
            continue
        out[col] = values
    if problems:
        raise InputError(problems)
    return out


def run(args) -> int:
    from workbench.profiles.select import find_profiles
    from workbench.tables.writers import new_output_dir, write_csv

    scores = _numeric(_read(args.scores, "scores"), args.scores)
    if not {"ratee", "skill", "score"} <= set(scores.columns) and "ratee" not in scores.columns:
        raise InputError([Problem(args.scores, None, None,
                                  "expected columns ratee, skill, score (calibrated scores) "
                                  "or a 'ratee' column followed by one column per skill")])
    people = None
    if args.people:
        people = _read(args.people, "people")
    wave = args.wave
    if wave is not None:
        try:
            wave = int(wave)
        except ValueError:
            raise ConfigError(f"--wave {args.wave!r}: must be a whole number") from None
    out = new_output_dir(args.out or f"profiles-{time.strftime('%Y%m%d-%H%M%S')}")
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = find_profiles(scores, k_max=args.k_max, models=tuple(args.models),
                            method=args.method, n_starts=args.n_starts,
                            n_bootstrap=args.bootstrap, blrt=args.blrt > 0,
                            n_blrt=max(args.blrt, 1), vlmr=not args.no_vlmr, people=people,
                            wave=wave, random_state=args.seed, n_jobs=args.jobs)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    write_csv(res.assignments, out / "profiles.csv")
    write_csv(res.profile_summary, out / "profile_summary.csv")
    write_csv(res.model_selection, out / "model_selection.csv")
    write_csv(res.means, out / "profile_means.csv")
    if res.stability is not None:
        write_csv(res.stability, out / "stability.csv")
    if res.composition is not None:
        write_csv(res.composition, out / "composition.csv")
    for name, fig in (("profile_means.png", res.plot_means()), ("bic.png", res.plot_bic()),
                      ("projection.png", res.plot_projection())):
        fig.savefig(out / name, dpi=120)
    print(res.summary())
    print(f"\n... done in {time.perf_counter() - started:.1f} s; wrote {out}", file=sys.stderr)
    return 0
