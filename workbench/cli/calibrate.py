"""``workbench calibrate RATINGS``: calibrated scores, rater effects and their diagnostics."""

from __future__ import annotations

import sys
import time
import warnings
from functools import partial
from pathlib import Path

import pandas as pd

from workbench.cli._common import (
    add_mapping_option,
    add_scale_option,
    mapping_from_args,
    print_warnings,
    scale_from_args,
)
from workbench.errors import InputError, Problem, WorkbenchError
from workbench.tables.data import load_organisation

DEFAULT_TERMS = ["ratee", "ratee:skill", "rater", "rater:ratee"]


def register(sub) -> None:
    """Add the ``calibrate`` subcommand and its options to ``sub`` (argparse subparsers)."""
    parser = sub.add_parser(
        "calibrate",
        help="remove rater leniency, halo and source bias from 360 ratings",
        description="Fit score ~ source + skill + (1|ratee) + (1|ratee:skill) + (1|rater) + "
        "(1|rater:ratee) by REML and write calibrated scores, rater effects, source effects, "
        "variance components (and agreement / reliability tables) to a new folder.",
    )
    parser.add_argument("ratings", metavar="RATINGS", help="ratings file or engagement folder")
    parser.add_argument("--people", metavar="P", help="people file (optional)")
    parser.add_argument("--terms", nargs="+", default=None, metavar="TERM",
                        help="random terms to fit exactly as given (default: the largest "
                        f"identifiable subset of {' '.join(DEFAULT_TERMS)}; add rater:skill, "
                        "drop rater:ratee for no halo)")
    parser.add_argument("--reference", default="others",
                        help="scale of the scores: 'others' (mean non-self source) or a source")
    parser.add_argument("--waves", choices=["auto", "pooled", "joint"], default="auto",
                        help="auto (default): joint when the ratings hold several waves")
    parser.add_argument("--connectivity", choices=["largest", "separate", "error"],
                        default="largest", help="disconnected rater networks (default largest)")
    parser.add_argument("--min-ratings", type=int, default=None, metavar="N",
                        help="leave out ratees with fewer ratings (default 1; linear model)")
    parser.add_argument("--vc-uncertainty", choices=["auto", "none", "delta"], default=None,
                        help="include the variance components' uncertainty in the SEs (delta "
                        "method); auto (default): up to 200 ratees (linear model)")
    parser.add_argument("--model", choices=["linear", "rasch"], default="linear",
                        help="linear mixed model (default) or many-facet Rasch model "
                        "(ordinal; see docs/rasch.md)")
    parser.add_argument("--thresholds", choices=["common", "skill", "rater"], default=None,
                        help="Rasch only: rating scale (common, the default) or partial credit "
                        "per skill or per rater")
    parser.add_argument("--instrument-boot", type=int, default=500, metavar="N",
                        help="ratings with items: bootstrap samples for omega's interval in "
                        "instrument/ (default 500; 0: none; see docs/instrument.md)")
    parser.add_argument("--jobs", type=int, default=-1, metavar="J",
                        help="threads for the linear model (default -1: every core, at most 4 "
                        "used; the estimates do not depend on it)")
    parser.add_argument("--out", default=None, metavar="DIR",
                        help="new output folder (default: calibration-<timestamp>)")
    add_mapping_option(parser)
    add_scale_option(parser)
    parser.set_defaults(func=run)


def _load(args):
    path = Path(args.ratings)
    mapping = mapping_from_args(args)
    scale = scale_from_args(args)
    if path.is_dir():
        return load_organisation(path, mapping=mapping, people=args.people, scale=scale)
    if not path.exists():
        raise InputError([Problem(str(path), None, None, "file not found")])
    return load_organisation(ratings=path, people=args.people, mapping=mapping, scale=scale)


def _frame_of(result) -> pd.DataFrame:
    if isinstance(result, pd.DataFrame):
        return result
    return result.to_frame()


def _extras(cal, scale) -> dict:
    """Agreement and reliability tables; r_wg's null distribution uses the survey's scale."""
    from workbench.calibration.reliability.agreement import self_other_agreement
    from workbench.calibration.reliability.summary import reliability_table

    out = {}
    for name, func in (("agreement.csv", self_other_agreement),
                       ("reliability.csv", partial(reliability_table, scale=scale))):
        try:
            out[name] = _frame_of(func(cal))
        except WorkbenchError as exc:
            print(f"warning: {name} not written: {exc}", file=sys.stderr)
    return out


def _instrument(org, out: Path, n_boot: int) -> None:
    """Ratings with items: the instrument's psychometrics in ``instrument/``
    (docs/instrument.md); a problem there is a warning, the calibration is written."""
    from workbench.calibration.reliability.instrument import estimate_instrument_reliability

    print("Instrument psychometrics (alpha, omega, items, G-study with items) ...",
          file=sys.stderr, flush=True)
    try:
        res = estimate_instrument_reliability(org.ratings, items=org.survey,
                                              item_counts=org.item_counts, scale=org.scale,
                                              n_boot=n_boot)
    except WorkbenchError as exc:
        print(f"warning: instrument tables not written: {exc}", file=sys.stderr)
        return
    res.save(out / "instrument")
    for message in res.flags["message"]:
        print(f"instrument: {message}", file=sys.stderr)


def _progress(n_eval, theta, solver) -> None:
    shown = ", ".join(f"{t:.4f}" for t in theta)
    print(f"  evaluation {n_eval} ({solver}): relative SDs {shown}", file=sys.stderr,
          flush=True)


def _fit(args, ratings, waves, scale):
    """The calibration the options ask for (one place to add another model)."""
    from workbench.calibration.calibrate import calibrate_ratings

    terms = tuple(args.terms) if args.terms else tuple(DEFAULT_TERMS)
    return calibrate_ratings(ratings, terms=terms, reference=args.reference, waves=waves,
                             connectivity=args.connectivity,
                             min_ratings=1 if args.min_ratings is None else args.min_ratings,
                             terms_policy="exact" if args.terms else "identifiable",
                             scale=(float(scale.min), float(scale.max)),
                             progress=_progress, vc_uncertainty=args.vc_uncertainty or "auto",
                             n_jobs=args.jobs)


#: option -> the model it belongs to; given with the other model it would be silently ignored
MODEL_OPTIONS = {"--thresholds": ("thresholds", "rasch"), "--terms": ("terms", "linear"),
                 "--min-ratings": ("min_ratings", "linear"),
                 "--vc-uncertainty": ("vc_uncertainty", "linear")}

#: below this share of the ratees found in the people file, the overlap is stated in a warning
LOW_OVERLAP = 0.5


def _check_options(args) -> None:
    """Options of the other model are errors, every one named, before anything is read."""
    from workbench.checks import check_integer

    check_integer("--instrument-boot", args.instrument_boot, low=0)
    wrong = [f"{option} applies only to --model {model}"
             for option, (name, model) in MODEL_OPTIONS.items()
             if getattr(args, name) is not None and args.model != model]
    if wrong:
        from workbench.errors import ConfigError

        raise ConfigError(f"--model {args.model}: {'; '.join(wrong)}; leave "
                          f"{'them' if len(wrong) > 1 else 'it'} out or choose the other model")


def _check_people(org, args) -> None:
    """``--people`` must describe the people rated: none in common is exit 2, little is said."""
    if not args.people or org.people is None:
        return
    ratees = set(org.ratings["ratee"].astype(str))
    listed = set(org.people["person"].astype(str))
    common = ratees & listed
    where = org.files.get("people", args.people)
    if not common:
        raise InputError([Problem(
            where, None, "person", f"none of the {len(listed)} people in this file is among "
            f"the {len(ratees)} ratees of {org.files.get('ratings', args.ratings)} (first "
            f"ratees: {', '.join(sorted(ratees)[:3])}; first people: "
            f"{', '.join(sorted(listed)[:3])}); is it the people file of this survey?")])
    if len(common) < LOW_OVERLAP * len(ratees):
        print(f"warning: {where}: only {len(common)} of the {len(ratees)} ratees "
              f"({len(common) / len(ratees):.0%}) are in the people file", file=sys.stderr)


def run(args) -> int:
    """Run ``workbench calibrate``: read and check the inputs, fit the chosen model, write
    every output into the new ``--out`` folder and print the summary.
    """
    _check_options(args)
    org = _load(args)
    _check_people(org, args)
    print_warnings(org.problems)
    ratings = org.ratings
    waves = args.waves
    if waves == "auto":
        waves = "joint" if ratings["wave"].nunique() > 1 else "pooled"
    out = Path(args.out or f"calibration-{time.strftime('%Y%m%d-%H%M%S')}")
    _check_new_folder(out)
    if args.model == "rasch":
        from workbench.calibration.rasch.calibrate import check_categories

        source = org.files.get("ratings", args.ratings)
        # before the fit, with the rows as the file shows them (blank and title lines counted)
        check_categories(ratings, source, rows=org.rows.get("ratings"))
        code = _run_rasch(args, ratings, waves, out, source)
        if "item" in ratings.columns:
            _instrument(org, out, args.instrument_boot)
        return code
    print(f"Fitting the rater-bias model to {len(ratings)} ratings of "
          f"{ratings['ratee'].nunique()} ratees by {ratings['rater'].nunique()} raters "
          f"(waves: {waves}) ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cal = _fit(args, ratings, waves, org.scale)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    model = cal.model
    print(f"... done in {time.perf_counter() - started:.1f} s ({model.n_iter} evaluations, "
          f"converged: {model.converged})", file=sys.stderr)
    from workbench.writers import write_csv

    extras = _extras(cal, org.scale)
    out = cal.save(out)
    for name, frame in extras.items():
        write_csv(frame, out / name)
        notes = frame.attrs.get("notes")
        if notes:  # how the table was computed (the ICCs' group sizes)
            notes = [notes] if isinstance(notes, str) else list(notes)
            with (out / name.replace(".csv", "_notes.txt")).open("x", encoding="utf-8") as fh:
                fh.write("\n\n".join(notes) + "\n")
    if "item" in ratings.columns:
        _instrument(org, out, args.instrument_boot)
    print(cal.summary())
    print(f"\nwrote {out}")
    return 0


def _check_new_folder(out: Path) -> None:
    """Refuse an existing, non-empty --out before the (long) fit; nothing is created yet."""
    from workbench.errors import ConfigError

    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"{out}: the output folder already exists and holds files; earlier "
                          "results are never overwritten, so choose a new folder")


def _run_rasch(args, ratings, waves, out, source) -> int:
    """``--model rasch``: the many-facet Rasch calibration's files and its Wright map."""
    from workbench.calibration.rasch.calibrate import calibrate_rasch
    from workbench.calibration.rasch.figures import plot_wright_map
    from workbench.reporting.display import save_figure

    thresholds = args.thresholds or "common"
    print(f"Fitting the many-facet Rasch model to {len(ratings)} ratings (thresholds: "
          f"{thresholds}, waves: {waves}) ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = calibrate_rasch(ratings, thresholds=thresholds, reference=args.reference,
                              waves=waves, connectivity=args.connectivity,
                              source=source)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    print(f"... done in {time.perf_counter() - started:.1f} s ({res.n_iter} Newton steps)",
          file=sys.stderr)
    res.save(out)
    save_figure(plot_wright_map(res), out, "wright_map")
    print(res.summary())
    print(f"\nwrote {out}")
    return 0
