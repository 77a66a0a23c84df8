"""``workbench outcomes``: criterion validity of the 360, learning impact at level 4,
mediation, leaving (Cox) and cost-effectiveness. See ``workbench progression`` for why these
are two subcommands."""

from __future__ import annotations

import sys

from workbench.cli.progression import add_data_options, calibrate, check_out, load

TABLE_OPTIONS = ("ratings", "people", "outcomes", "enrollments", "catalog")


def register(sub) -> None:
    parser = sub.add_parser(
        "outcomes",
        help="do calibrated scores predict business outcomes; did training change them; "
        "cost-effectiveness",
        description="Calibrate the ratings, then relate the scores to later business outcomes "
        "(outcomes.csv: person, metric, value, date[, higher_is_better]): criterion validity of "
        "calibrated scores and raw averages, outcome change of the trained against the "
        "untrained per activity (difference in differences, partially pooled), the part that "
        "runs through the skill gain, leaving as a time-to-event (Cox) model and the cost per "
        "unit gained. Writes validity.csv, outcome_did.csv, outcome_effects_by_activity.csv, "
        "outcome_mediation.csv, leaving.csv, cost_effectiveness.csv to a new folder. Exit code "
        "2 for invalid input.",
    )
    add_data_options(parser, TABLE_OPTIONS)
    parser.add_argument("--impact", metavar="FILE", help="effects_by_activity.csv of `workbench "
                        "impact` (the cost per skill point)")
    parser.add_argument("--first-assessment", metavar="DATE", default="",
                        help="date of the first survey (default: its earliest rating date)")
    parser.add_argument("--second-assessment", metavar="DATE", default="",
                        help="date of the second survey (default: the last wave's earliest "
                        "rating date)")
    parser.add_argument("--hourly-cost", type=float, default=0.0,
                        help="cost of an hour of a learner's time (cost-effectiveness)")
    parser.add_argument("--alpha", type=float, default=0.05, help="1 - confidence level")
    parser.set_defaults(func=run)


def run(args) -> int:
    from workbench.checks import check_alpha, check_interval
    from workbench.errors import ConfigError
    from workbench.progression import analyse_outcomes, survey_dates
    from workbench.tables.scores import raw_scores

    check_alpha(args.alpha, "--alpha")
    check_interval("--hourly-cost", args.hourly_cost, low=0)
    check_out(args.out)
    org = load(args, TABLE_OPTIONS)
    if org.outcomes is None:
        raise ConfigError("no outcomes table: give --outcomes FILE or an outcomes.csv in --data")
    first, second = survey_dates(org.ratings, first=args.first_assessment,
                                 second=args.second_assessment)
    result = analyse_outcomes(calibrate(org), org.outcomes, first_assessment=first,
                              second_assessment=second, raw=raw_scores(org.ratings),
                              people=org.people, enrollments=org.enrollments,
                              catalog=org.catalog, skill_effects=args.impact,
                              hourly_cost=args.hourly_cost, alpha=args.alpha)
    out = result.save(args.out)
    with (out / "summary.txt").open("x", encoding="utf-8") as handle:
        handle.write(result.summary() + "\n")
    print(result.summary())
    print(f"\nwrote the outcome tables to {out}", file=sys.stderr)
    return 0
