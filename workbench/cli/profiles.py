"""``workbench profiles CALIBRATED_SCORES``: skill profiles (latent profile analysis) and personas."""

from __future__ import annotations

import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.cli._common import add_scale_option, scale_from_args
from workbench.errors import ConfigError, InputError, Problem
from workbench.tables.data import Scale, load_scale
from workbench.writers import check_output_dir


def register(sub) -> None:
    """Add the ``profiles`` subcommand and its options to ``subparsers``."""
    from workbench.checks import DEFAULT_SEED
    from workbench.profiles.select import DEFAULT_MODELS
    from workbench.profiles.structures import STRUCTURES

    parser = sub.add_parser(
        "profiles",
        help="find skill profiles (latent profile analysis) and describe them as personas",
        description="Fit Gaussian mixtures (mclust covariance structures, k = 1..K) to "
        "calibrated scores, choose one by BIC and write profile_assignments.csv (person, "
        "profile, probability, persona), profile_summary.csv (size, persona, means per "
        "skill), model_selection.csv, profile_means.csv, stability.csv, settings.json and "
        "figures to a new folder.",
    )
    parser.add_argument("scores", metavar="CALIBRATED_SCORES",
                        help="calibrated_scores.csv from 'workbench calibrate' (person, skill, "
                        "score[, se][, wave]), a person x skill matrix, or ratings (raw means "
                        "of non-self ratings, with a warning)")
    parser.add_argument("--k-max", type=int, default=8, metavar="K",
                        help="largest number of profiles tried (default %(default)s)")
    parser.add_argument("--models", nargs="+", default=None, metavar="M",
                        help=f"covariance structures, among {' '.join(STRUCTURES)} "
                        f"(default: {' '.join(DEFAULT_MODELS)}; lpa only)")
    parser.add_argument("--method", choices=["lpa", "kmeans", "ward"], default="lpa",
                        help="latent profile analysis (default) or k-means / Ward clustering")
    parser.add_argument("--people", metavar="P", help="people file (person, role, level)")
    parser.add_argument("--wave", default=None, help="wave to use (default: each person's "
                        "latest)")
    add_scale_option(parser)
    parser.add_argument("--n-starts", type=int, default=None, metavar="N",
                        help="EM starts per model and k (lpa), or k-means starts (default 10; "
                        "not for ward)")
    parser.add_argument("--bootstrap", type=int, default=100, metavar="B",
                        help="bootstrap resamples for stability (default %(default)s, 0: none)")
    parser.add_argument("--blrt", type=int, default=0, metavar="B",
                        help="bootstrap likelihood-ratio test with B resamples (default: off; "
                        "lpa only)")
    parser.add_argument("--no-vlmr", action="store_true", help="skip the VLMR test (lpa only)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, metavar="S",
                        help="random seed (default %(default)s: the same input gives the same "
                        "output)")
    parser.add_argument("--jobs", type=int, default=-1, metavar="J",
                        help="parallel workers (default -1: every core; the results do not "
                        "depend on it)")
    parser.add_argument("--out", default=None, metavar="DIR",
                        help="new output folder (default: profiles-<timestamp>)")
    parser.set_defaults(func=run)


def _read(path_text: str, what: str) -> pd.DataFrame:
    from workbench.tables.data import read_table

    path = Path(path_text)
    if not path.is_file():
        raise InputError([Problem(str(path), None, None, f"{what} file not found")])
    return read_table(path).replace("", np.nan)


def _numeric(frame: pd.DataFrame, path: str) -> pd.DataFrame:
    """A person x skill matrix with numbers in every skill column (the file's row numbers)."""
    problems = []
    out = frame.copy()
    for col in out.columns:
        if col in ("person", "ratee"):
            continue
        values = pd.to_numeric(out[col], errors="coerce")
        bad = values.isna() & out[col].notna()
        for index in np.flatnonzero(bad.to_numpy())[:25]:
            problems.append(Problem(path, int(index) + 2, col, "not a number",
                                    str(out[col].iloc[index])))
        out[col] = values
    if problems:
        raise InputError(problems)
    return out


def _scores_input(path: str):
    """A long scores file goes to as_scores as a path (typed and checked there, errors name
    the file); a person x skill matrix is typed here."""
    frame = _read(path, "scores")
    if "skill" in frame.columns or {"rater", "source"} <= set(frame.columns):
        if {"rater", "source"} <= set(frame.columns):
            return frame.assign(score=pd.to_numeric(frame["score"], errors="coerce"))
        return path
    if not {"person", "ratee"} & set(frame.columns):
        raise InputError([Problem(path, None, None,
                                  "expected columns person, skill, score (calibrated scores) "
                                  "or a 'person' column followed by one column per skill")])
    return _numeric(frame, path)


def _check_options(args) -> None:
    """Values and combinations of options, before any file is read: an option the chosen
    method does not use is an error, not silently ignored."""
    from workbench.checks import check_integer

    scale_from_args(args)
    check_integer("--blrt", args.blrt, low=0)
    used_by = {"--models": ("lpa",), "--blrt": ("lpa",), "--no-vlmr": ("lpa",),
               "--n-starts": ("lpa", "kmeans")}
    given = {"--models": args.models is not None, "--blrt": args.blrt > 0,
             "--no-vlmr": args.no_vlmr, "--n-starts": args.n_starts is not None}
    ignored = [name for name, methods in used_by.items()
               if given[name] and args.method not in methods]
    if ignored:
        listed = "; ".join(f"{name} is used only with --method {' or '.join(used_by[name])}"
                           for name in ignored)
        raise ConfigError(f"--method {args.method}: {listed}; leave "
                          f"{'them' if len(ignored) > 1 else 'it'} out or change the method")


def run(args) -> int:
    from workbench.profiles.select import DEFAULT_MODELS, find_profiles

    _check_options(args)
    scores = _scores_input(args.scores)
    people = _read(args.people, "people") if args.people else None
    wave = args.wave
    if wave is not None:
        try:
            wave = int(wave)
        except ValueError:
            raise ConfigError(f"--wave {args.wave!r}: must be a whole number") from None
    scale = scale_from_args(args)
    if isinstance(scale, Path):
        scale = replace(load_scale(scale), source=str(scale))
    out = Path(args.out or f"profiles-{time.strftime('%Y%m%d-%H%M%S')}")
    check_output_dir(out)  # before the fit; nothing is created until the results are written
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = find_profiles(scores, k_max=args.k_max, models=tuple(args.models or DEFAULT_MODELS),
                            method=args.method,
                            n_starts=10 if args.n_starts is None else args.n_starts,
                            n_bootstrap=args.bootstrap, blrt=args.blrt > 0,
                            n_blrt=max(args.blrt, 1), vlmr=not args.no_vlmr, people=people,
                            wave=wave, scale=scale if scale is not None else Scale(),
                            random_state=args.seed,
                            n_jobs=args.jobs, source=args.scores)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    try:
        res.save(out, figures=True)
    except OSError as exc:
        raise ConfigError(f"{out}: cannot write the results ({exc.strerror or exc})") from None
    print(res.summary())
    print(f"\n... done in {time.perf_counter() - started:.1f} s; wrote {out}", file=sys.stderr)
    return 0
