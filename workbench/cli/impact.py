"""``workbench impact``: did the training raise the skills? Effects, power and figures."""

from __future__ import annotations

import sys

from workbench.cli._common import add_scale_option
from workbench.errors import ConfigError
from workbench.writers import check_output_dir


def register(sub) -> None:
    """Add the ``impact`` subcommand and its options to ``subparsers``."""
    parser = sub.add_parser(
        "impact",
        help="estimate the learning impact of completed activities between two waves",
        description="Calibrate both rating waves jointly (workbench.calibration), compare people "
        "who completed training on a skill between the two assessments with those who did not "
        "(ANCOVA, difference-in-differences, paired change), estimate each activity's effect "
        "(partially pooled), individual reliable change and the power of the design. Writes "
        "effects_by_skill.csv, effects_by_activity.csv, individual_change.csv, power.csv, "
        "rtm.csv, paired_change.csv, design.csv, settings.json, summary.txt and PNG figures to "
        "a new folder. Exit code 2 for invalid input.",
    )
    parser.add_argument("--ratings", required=True, metavar="R", help="ratings file (2 waves)")
    parser.add_argument("--enrollments", required=True, metavar="E", help="enrollments file")
    parser.add_argument("--people", metavar="P", help="people file (team, role, level)")
    parser.add_argument("--catalog", metavar="C",
                        help="catalog file (which skills each activity targets); needed for "
                        "per-skill effects unless --any-training")
    parser.add_argument("--any-training", action="store_true",
                        help="without a catalog: count any completed activity as training on "
                        "every skill (labelled 'any training' in every output)")
    parser.add_argument("--waves", nargs=2, metavar=("PRE", "POST"),
                        help="the pre and post waves to compare (default: the two waves in the "
                        "ratings; needed when there are more, or when a wave has very few "
                        "ratings)")
    parser.add_argument("--wave-dates", metavar="DATES",
                        help="assessment date per wave, e.g. '1=2026-01-19,2=2026-07-13' "
                        "(default: the ratings' date column); training counts only between")
    parser.add_argument("--mapping", metavar="YAML", help="column mapping (YAML)")
    add_scale_option(parser)
    parser.add_argument("--out", required=True, metavar="DIR", help="new output folder")
    parser.add_argument("--alpha", type=float, default=0.05, help="1 - confidence level")
    parser.add_argument("--correction", choices=["holm", "fdr_bh"], default="holm",
                        help="multiplicity correction across skills and activities")
    parser.add_argument("--noncompleters", choices=["exclude", "untrained"], default="exclude",
                        help="how people who did not finish an activity are treated")
    parser.add_argument("--design", choices=["auto", "ancova", "did"], default="auto",
                        help="which estimate is recommended (auto: rule in the output)")
    parser.add_argument("--target-effect", type=float, default=0.2, metavar="POINTS",
                        help="effect (score points) to plan the sample size for")
    parser.add_argument("--error-correlation", type=float, default=None, metavar="RHO",
                        help="correlation of the pre and post scores' errors (same raters in "
                        "both waves); default: computed per person and skill by the joint "
                        "calibration (raters shared between the waves, their lasting "
                        "impressions); a number overrides it, 0 assumes independent errors")
    parser.add_argument("--raw-means", action="store_true",
                        help="use raw means of non-self ratings instead of calibrated scores")
    parser.set_defaults(func=run)


def _check_options(args) -> None:
    """Every option before anything is read or fitted."""
    from workbench.checks import check_alpha, check_interval
    from workbench.impact.panel import assessment_dates

    check_alpha(args.alpha, "--alpha")
    check_interval("--target-effect", args.target_effect, low=0, inclusive="neither")
    if args.error_correlation is not None:
        check_interval("--error-correlation", args.error_correlation, low=-1, high=1,
                       inclusive="neither")
    if args.catalog is not None and args.any_training:
        raise ConfigError("--any-training counts any completed activity on every skill and does "
                          "not use the catalog; give --catalog FILE (per-skill effects) or "
                          "--any-training, not both")
    if args.catalog is None and not args.any_training:
        raise ConfigError("per-skill effects need the catalog (which skills each activity "
                          "targets): give --catalog FILE, or --any-training to estimate the "
                          "effect of completing any activity on every skill")
    if args.wave_dates and args.waves:
        assessment_dates(args.wave_dates, pre_wave=args.waves[0], post_wave=args.waves[1])
    # the output folder is made only when the results are ready (a failed run leaves none);
    # what would stop it is found now, before the calibration runs
    check_output_dir(args.out)


def _scores(ratings, raw: bool):
    """Calibrated scores of both waves (joint), or raw means when asked."""
    from workbench.tables.scores import raw_scores

    if raw:
        return raw_scores(ratings), "raw means of non-self ratings (not calibrated)"
    from workbench.calibration.calibrate import calibrate_ratings

    return calibrate_ratings(ratings, waves="joint"), "calibrated (both waves jointly)"


def run(args) -> int:
    """Run ``workbench impact``: read the ratings, enrollments and optional tables, estimate the
    impact, and write its tables, figures and summary into the new ``--out`` folder.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from workbench.cli._common import print_warnings, scale_from_args, waves_from_args
    from workbench.impact.figures import plot_effects_forest, plot_pre_post, plot_rci_by_team
    from workbench.impact.panel import choose_waves
    from workbench.impact.result import estimate_impact
    from workbench.tables.data import load_organisation

    _check_options(args)
    org = load_organisation(None, ratings=args.ratings, enrollments=args.enrollments,
                            people=args.people, catalog=args.catalog, mapping=args.mapping,
                            waves=waves_from_args(args), scale=scale_from_args(args))
    print_warnings(org.problems)
    if org.enrollments is None or org.enrollments.empty:
        raise ConfigError(f"{args.enrollments}: no enrollments to evaluate")
    # the reader refuses a mistyped wave (or keeps the named ones); the pre and post waves are
    # settled here, before calibrating, so that no other wave becomes a wave of the model
    waves = choose_waves(org.ratings, args.waves, source=f"ratings ({args.ratings})")
    ratings = org.ratings[org.ratings["wave"].isin(waves)]
    scores, source = _scores(ratings, args.raw_means)
    result = estimate_impact(scores, org.enrollments, people=org.people, catalog=org.catalog,
                             waves=waves, dates=args.wave_dates or ratings,
                             training="any" if args.any_training else "targeted",
                             alpha=args.alpha, correction=args.correction,
                             noncompleters=args.noncompleters, design=args.design,
                             target_effect=args.target_effect,
                             error_correlation=args.error_correlation)
    out = result.save(args.out)
    with (out / "summary.txt").open("x", encoding="utf-8") as handle:
        handle.write(f"Scores: {source}\n\n{result.summary()}\n")
    figures = {"forest_by_skill": lambda: plot_effects_forest(result, by="skill"),
               "pre_post": lambda: plot_pre_post(result)}
    if not result.effects_by_activity.empty:
        figures["forest_by_activity"] = lambda: plot_effects_forest(result, by="activity")
    if "team" in result.individual_change and result.individual_change["category"].notna().any():
        figures["rci_by_team"] = lambda: plot_rci_by_team(result)
    for name, make in figures.items():
        fig = make()
        fig.savefig(out / f"{name}.png", dpi=120)
        plt.close(fig)
    print(f"Scores: {source}")
    print(result.summary())
    print(f"\nwrote {len(result._files())} tables and {len(figures)} figures to {out}",
          file=sys.stderr)
    return 0
