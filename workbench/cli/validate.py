"""``workbench validate PATH...``: check input files against the contracts and summarise them."""

from __future__ import annotations

from workbench.cli._common import (
    add_mapping_option,
    add_scale_option,
    add_waves_option,
    mapping_from_args,
    organisation_from_paths,
    scale_from_args,
    waves_from_args,
)
from workbench.tables.summary import summarise_organisation


def register(sub) -> None:
    parser = sub.add_parser(
        "validate",
        help="check input files and summarise the organisation",
        description="Validate ratings, people, framework, catalog, enrollments and scale files "
        "and, when present, paths and outcomes (a folder, or files named after their table) "
        "and print a summary, or one report listing every problem (exit code 2). Paths and "
        "outcomes are checked across files: roles in the framework, cycles, one direction per "
        "metric, an outcome after the first assessment, and with outcomes every catalog "
        "activity's cost and hours.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="folder or files")
    add_mapping_option(parser)
    add_waves_option(parser)
    add_scale_option(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    from workbench.progression.inputs import check_progression_inputs

    org = organisation_from_paths(args.paths, mapping_from_args(args), waves=waves_from_args(args),
                                  scale=scale_from_args(args))
    check_progression_inputs(org)
    if org.survey is not None:  # what was understood of a survey export, before the counts
        print(org.survey.summary())
        print()
    print(summarise_organisation(org).summary())
    return 0
