"""``workbench check-design RATINGS``: would the numbers be right on this survey's design?

Calibrates the ratings, simulates many organisations on exactly their design from the fitted
model, refits them and writes coverage, bias, gap-call accuracy and reliability
(``workbench.calibration.design_check``; docs/calibration.md, "The design check").
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

from workbench.cli._common import (
    add_mapping_option,
    add_scale_option,
    mapping_from_args,
    print_warnings,
    scale_from_args,
)
from workbench.cli.calibrate import DEFAULT_TERMS
from workbench.errors import ConfigError, InputError, Problem


def register(sub) -> None:
    parser = sub.add_parser(
        "check-design",
        help="simulate the survey's own design from the fitted model: coverage, bias, gap "
        "calls, reliability",
        description="Calibrate the ratings, simulate many organisations on exactly their "
        "design (who rated whom, skills, sources, missing cells) from the fitted variance "
        "components, refit each, and report coverage of the score intervals, bias, the share "
        "of gap calls that are right and the reliability achieved.",
    )
    parser.add_argument("ratings", metavar="RATINGS", help="ratings file or engagement folder")
    parser.add_argument("--people", metavar="P", help="people file (roles, for gap calls)")
    parser.add_argument("--framework", metavar="F",
                        help="framework file (required levels, for gap calls)")
    parser.add_argument("--sims", type=int, default=200, metavar="N",
                        help="simulated organisations (default 200; variance components held "
                        "at the fitted values, one solve each)")
    parser.add_argument("--refits", default="auto", metavar="N",
                        help="of those, calibrated from scratch with the variance components "
                        "re-estimated (default auto: about 100,000 ratings refitted in all, 2 "
                        "to 20 refits; none above 1,000 ratees)")
    parser.add_argument("--gap-probability", type=float, default=0.7, metavar="P",
                        help="the plans' threshold for a gap call (default 0.7)")
    parser.add_argument("--rounding", choices=["auto", "whole", "none"], default="auto",
                        help="round simulated ratings to whole points and clip to the scale "
                        "(auto: when the survey's ratings are whole points)")
    parser.add_argument("--terms", nargs="+", default=None, metavar="TERM",
                        help="random terms to fit exactly as given (as in calibrate)")
    parser.add_argument("--reference", default="others",
                        help="scale of the scores: 'others' (mean non-self source) or a source")
    parser.add_argument("--vc-uncertainty", choices=["auto", "none", "delta"], default="auto",
                        help="as in calibrate (default auto)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default fixed)")
    parser.add_argument("--out", default=None, metavar="DIR",
                        help="new output folder (default: design-check-<timestamp>)")
    add_mapping_option(parser)
    add_scale_option(parser)
    parser.set_defaults(func=run)


def _refits(value: str):
    if value == "auto":
        return value
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"--refits={value!r}: must be a whole number or 'auto'") from None


def _load(args):
    from workbench.tables.organisation import load_organisation

    path = Path(args.ratings)
    mapping = mapping_from_args(args)
    scale = scale_from_args(args)
    extra = {k: v for k, v in (("people", args.people), ("framework", args.framework)) if v}
    if path.is_dir():
        return load_organisation(path, mapping=mapping, scale=scale, **extra)
    if not path.exists():
        raise InputError([Problem(str(path), None, None, "file not found")])
    return load_organisation(ratings=path, mapping=mapping, scale=scale, **extra)


def run(args) -> int:
    from workbench.checks import check_integer, check_interval

    n_sims = check_integer("--sims", args.sims, low=2)
    refits = _refits(args.refits)
    check_interval("--gap-probability", args.gap_probability, low=0.5, high=1,
                   inclusive="neither")
    if refits != "auto":
        check_integer("--refits", refits, low=0, high=n_sims)
    out = Path(args.out or f"design-check-{time.strftime('%Y%m%d-%H%M%S')}")
    from workbench.writers import check_output_dir, new_output_dir

    check_output_dir(out)  # before the data are read; created once they are
    org = _load(args)

    created = not out.exists()
    out = new_output_dir(out)  # refused now (a file, a broken link), not after the fits
    try:
        return _check(args, org, out, n_sims, refits)
    except BaseException:
        if created and out.is_dir() and not any(out.iterdir()):
            out.rmdir()  # nothing written: leave nothing behind
        raise


def _check(args, org, out, n_sims, refits) -> int:
    from workbench.calibration.calibrate import calibrate_ratings
    from workbench.calibration.design_check import check_design

    print_warnings(org.problems)
    ratings = org.ratings
    if ratings["wave"].nunique() > 1:
        latest = ratings["wave"].max()
        print(f"note: the ratings hold {ratings['wave'].nunique()} waves; checking the design "
              f"of the latest (wave {latest})", file=sys.stderr)
        ratings = ratings[ratings["wave"] == latest]
    people, framework = org.people, org.framework
    if people is None or framework is None:
        print("note: gap calls need a people and a framework file; not checked",
              file=sys.stderr)
        people = framework = None
    terms = tuple(args.terms) if args.terms else tuple(DEFAULT_TERMS)
    print(f"Calibrating {len(ratings)} ratings of {ratings['ratee'].nunique()} ratees ...",
          file=sys.stderr, flush=True)
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cal = calibrate_ratings(ratings, terms=terms, reference=args.reference,
                                terms_policy="exact" if args.terms else "identifiable",
                                scale=(float(org.scale.min), float(org.scale.max)),
                                vc_uncertainty=args.vc_uncertainty)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    print(f"... done in {time.perf_counter() - started:.1f} s; simulating {n_sims} "
          "organisations on this design ...", file=sys.stderr, flush=True)
    res = check_design(cal, n_sims=n_sims, refits=refits, people=people, framework=framework,
                       gap_probability=args.gap_probability, rounding=args.rounding,
                       random_state=args.seed)
    print(f"... done in {res.settings['seconds']:.1f} s", file=sys.stderr)
    out = res.save(out)
    print(res.summary())
    print(f"\nwrote {out}")
    return 0
