"""``workbench plans``: personalised learning plans, mentors and training demand."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from workbench.cli._common import add_scale_option, scale_from_args
from workbench.errors import ConfigError
from workbench.tables.data import Scale, load_scale, load_table, read_table, read_yaml


def register(sub) -> None:
    """Add the ``plans`` subcommand and its options to ``subparsers``."""
    parser = sub.add_parser(
        "plans",
        help="build learning plans, mentor pairs and training demand",
        description="Turn calibrated scores into personalised learning plans (focus skills, "
        "catalog activities chosen for the largest expected gain within a weekly hours budget, "
        "12-week targets the activities can deliver, check-ins), match mentors optimally, and "
        "write plans.csv (LMS import), plans.json, one printable page per person (Markdown "
        "and HTML), an Excel workbook and gap heat maps. With --impact, the expected gains are "
        "the per-activity effects measured by 'workbench impact'.",
    )
    parser.add_argument("--scores", required=True, metavar="S",
                        help="calibrated scores: person (or ratee), skill, score, se "
                        "(CSV, Excel, Parquet; each person's latest wave is used)")
    parser.add_argument("--people", required=True, metavar="P", help="people file")
    parser.add_argument("--framework", required=True, metavar="F", help="framework file")
    parser.add_argument("--catalog", required=True, metavar="C", help="learning catalog file")
    parser.add_argument("--ratings", metavar="R",
                        help="raw ratings, for per-source scores shown under confidentiality")
    parser.add_argument("--profiles", metavar="PR",
                        help="profile assignments: person (or ratee), profile, persona")
    parser.add_argument("--impact", metavar="FILE",
                        help="measured per-activity effects (effects_by_activity.csv of "
                        "'workbench impact': activity, skill, estimate, se); without it the "
                        "catalog's expected_gain or a conservative default is used")
    parser.add_argument("--paths", metavar="FILE",
                        help="career paths (role, next_role): person pages show readiness for "
                        "the next role; needed for --toward next")
    parser.add_argument("--toward", choices=["current", "next", "target"], default="current",
                        help="the role the plans aim at: the current role (default), the next "
                        "on the career path or the person's target_role; current-role gaps "
                        "left out are listed in issues.csv")
    parser.add_argument("--budget", type=float, metavar="AMOUNT",
                        help="also choose the planned activities with the most expected gain "
                        "whose catalog cost stays within this budget (budget_allocation.csv; "
                        "an exact 0/1 knapsack)")
    add_scale_option(parser)
    parser.add_argument("--config", metavar="YAML",
                        help="plans configuration (a mapping, or an engagement file with a "
                        "'plans' section)")
    parser.add_argument("--start", metavar="DATE", help="first day of the plans (YYYY-MM-DD)")
    parser.add_argument("--focus", type=int, metavar="N", help="focus skills per person (1-3)")
    parser.add_argument("--seed", type=int, default=None,
                        help="random state of the mentor sampling (default 2026)")
    parser.add_argument("--out", required=True, metavar="DIR", help="new output folder")
    parser.set_defaults(func=run)


def _read_config(path):
    if path is None:
        return {}
    spec = read_yaml(path, what="configuration file")
    if spec is None:
        return {}
    if not isinstance(spec, Mapping):
        raise ConfigError(f"{path}: the configuration must be a mapping")
    if "plans" in spec:
        spec = spec["plans"] or {}
    return dict(spec)


def _read_scale(args):
    """The scale of ``--scale`` (two numbers or a scale file); None: 1 to 5."""
    scale = scale_from_args(args)
    if scale is None or isinstance(scale, Scale):
        return scale
    return replace(load_scale(scale), source=str(scale))


def run(args) -> int:
    """Run ``workbench plans``: read scores, people, framework, catalog and the optional
    tables, build the plans and write every output into the new ``--out`` folder.
    """
    if args.budget is not None:
        from workbench.checks import check_interval

        check_interval("--budget", args.budget, low=0)
    from workbench.checks import check_random_state
    from workbench.plans import build_plans, check_config

    config = _read_config(args.config)
    if args.focus is not None:
        if "n_focus" in config and config["n_focus"] != args.focus:
            # one of the two would be silently ignored
            raise ConfigError(f"--focus {args.focus} and n_focus: {config['n_focus']!r} in "
                              f"{args.config}: give the number of focus skills once")
        config["n_focus"] = args.focus
    check_config(config)
    check_random_state(args.seed, name="--seed")
    scale = _read_scale(args)
    people = load_table(args.people, "people")
    framework = load_table(args.framework, "framework", scale=scale)
    catalog = load_table(args.catalog, "catalog", scale=scale)
    ratings = load_table(args.ratings, "ratings", scale=scale) if args.ratings else None
    paths = load_table(args.paths, "paths") if args.paths else None
    profiles = None
    if args.profiles:
        profiles = read_table(args.profiles)
        profiles.columns = [c.strip().lower() for c in profiles.columns]
    planset = build_plans(args.scores, people, framework, catalog, ratings=ratings,
                          profiles=profiles, impact=args.impact, config=config,
                          start=args.start, scale=scale,
                          random_state=args.seed, paths=paths, toward=args.toward)
    allocation = None
    if args.budget is not None:
        from workbench.progression.costs import allocate_budget

        allocation = allocate_budget(planset.plans, budget=args.budget)
    out = planset.save(args.out)
    if allocation is not None:
        from workbench.writers import write_csv

        write_csv(allocation, out / "budget_allocation.csv")
        print(f"Budget {args.budget:g}: {int(allocation['chosen'].sum())} of "
              f"{len(allocation)} planned activities, expected gain "
              f"{allocation.attrs['total_gain']:.2f} points for "
              f"{allocation.attrs['total_cost']:g}")
    print(planset.summary())
    print(f"\nPlans written to {out}")
    return 0
