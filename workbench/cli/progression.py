"""``workbench progression``: readiness for the next or target role, bench strength, mobility.

One of two subcommands for issue 23 (with ``workbench outcomes``): they read different inputs
(paths and the framework here; outcomes, enrollments and costs there), answer different
questions (who is ready for which role; does the 360 and the training relate to results) and
write different folders, so each has its own options and help.
"""

from __future__ import annotations

import sys

from workbench.cli._common import add_mapping_option, add_scale_option
from workbench.errors import ConfigError
from workbench.writers import check_output_dir

TABLE_OPTIONS = ("ratings", "people", "framework", "paths")


def add_data_options(parser, tables) -> None:
    """``--data DIR`` and one ``--<table> FILE`` per table (explicit files override the folder)."""
    parser.add_argument("--data", metavar="DIR", help="folder with ratings.csv, people.csv, ...")
    for table in tables:
        parser.add_argument(f"--{table}", metavar="FILE", help=f"{table} file (overrides --data)")
    add_mapping_option(parser)
    add_scale_option(parser)
    parser.add_argument("--out", required=True, metavar="DIR", help="new output folder")


def check_out(path) -> None:
    """The output folder must be new or empty (checked before anything is fitted)."""
    check_output_dir(path)


def load(args, tables):
    from workbench.cli._common import mapping_from_args, print_warnings, scale_from_args
    from workbench.tables.organisation import load_organisation

    if args.data is None and getattr(args, "ratings", None) is None:
        raise ConfigError("give --data DIR (a folder with the tables) or the files one by one "
                          f"(--{' --'.join(tables)})")
    explicit = {t: getattr(args, t) for t in tables if getattr(args, t, None) is not None}
    org = load_organisation(args.data, mapping=mapping_from_args(args),
                            scale=scale_from_args(args), **explicit)
    print_warnings(org.problems)
    return org


def calibrate(org):
    import warnings

    from workbench.calibration import calibrate_ratings

    with warnings.catch_warnings():
        warnings.simplefilter("default")
        return calibrate_ratings(org.ratings, waves="joint")


def register(sub) -> None:
    parser = sub.add_parser(
        "progression",
        help="readiness for the next or target role, bench strength per role, candidates "
        "for an open role",
        description="Calibrate the ratings, then for every person and every role on their "
        "career path (paths.csv: role, next_role; people's target_role) compute the probability "
        "of meeting every requirement of the framework, the readiness band (ready now, ready "
        "within the plan if its expected gains are realised, ready later) and per role the "
        "expected number ready with an interval. Writes bench.csv and readiness_by_role.csv "
        "(role-level) and analyst/ (person-level) to a new folder. Exit code 2 for invalid "
        "input.",
    )
    add_data_options(parser, TABLE_OPTIONS)
    parser.add_argument("--plans", metavar="FILE", help="plans.csv of `workbench plans` (the "
                        "expected gains by the plans' horizon)")
    parser.add_argument("--open-role", metavar="ROLE", help="also rank everyone for this open "
                        "role (analyst/candidates.csv)")
    parser.add_argument("--probability", type=float, default=0.5,
                        help="probability of meeting every requirement that counts as ready")
    parser.add_argument("--tie-margin", type=float, default=None,
                        help="with --open-role: candidates closer than this in probability "
                        "share a rank (default 0.05)")
    parser.add_argument("--alpha", type=float, default=0.05, help="1 - confidence level")
    parser.set_defaults(func=run)


def run(args) -> int:
    from workbench.checks import check_alpha, check_interval
    from workbench.progression import assess_readiness
    from workbench.writers import write_csv

    check_alpha(args.alpha, "--alpha")
    check_interval("--probability", args.probability, low=0, high=1, inclusive="neither")
    if args.tie_margin is not None and not args.open_role:
        raise ConfigError("--tie-margin ranks the candidates for --open-role; without an open "
                          "role it would be ignored: give --open-role ROLE or leave it out")
    tie_margin = 0.05 if args.tie_margin is None else args.tie_margin
    check_interval("--tie-margin", tie_margin, low=0, high=1)
    check_out(args.out)
    org = load(args, TABLE_OPTIONS)
    if org.people is None or org.framework is None:
        raise ConfigError("readiness needs the people and framework tables")
    cal = calibrate(org)
    result = assess_readiness(cal, org.people, org.framework, org.paths, plans=args.plans,
                              probability=args.probability, alpha=args.alpha)
    candidates = None
    if args.open_role:
        mobility = assess_readiness(cal, org.people, org.framework, org.paths,
                                    roles=[args.open_role], probability=args.probability)
        candidates = mobility.candidates(args.open_role, tie_margin=tie_margin)
    out = result.save(args.out)
    if candidates is not None:
        write_csv(candidates, out / "analyst" / "candidates.csv")
    with (out / "summary.txt").open("x", encoding="utf-8") as handle:
        handle.write(result.summary() + "\n")
    print(result.summary())
    print(f"\nwrote the readiness tables to {out}", file=sys.stderr)
    return 0
