"""``workbench impact``: did the training raise the skills? Effects, power and figures."""

from __future__ import annotations

import importlib.util
import sys

from workbench.errors import ConfigError


def register(sub) -> None:
    parser = sub.add_parser(
        "impact",
        help="estimate the learning impact of completed activities between two waves",
        description="Calibrate both rating waves jointly (workbench.calibration.calibrate), compare people "
        "who completed training on a skill with those who did not (ANCOVA, "
        "difference-in-differences, paired change), estimate each activity's effect "
        "(partially pooled), individual reliable change and the power of the design. Writes "
        "effects_by_skill.csv, effects_by_activity.csv, individual_change.csv, power.csv, "
        "rtm.csv, design.csv, summary.txt and PNG figures to a new folder. Exit code 2 for "
        "invalid input.",
    )
    parser.add_argument("--ratings", required=True, metavar="R", help="ratings file (2 waves)")
    parser.add_argument("--enrollments", required=True, metavar="E", help="enrollments file")
    parser.add_argument("--people", metavar="P", help="people file (team, role, level)")
    parser.add_argument("--catalog", metavar="C",
                        help="catalog file (which skills each activity targets)")
    parser.add_argument("--mapping", metavar="YAML", help="column mapping (YAML)")
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
    parser.add_argument("--raw-means", action="store_true",
                        help="use raw means of non-self ratings instead of calibrated scores")
    parser.set_defaults(func=run)


def _scores(org, raw: bool):
    """Calibrated scores of both waves (joint), or raw means when asked or unavailable."""
    from workbench.tables.scores import raw_scores

    if not raw and importlib.util.find_spec("workbench.calibration.calibrate") is not None:
        from workbench.calibration.calibrate import calibrate_ratings

        return calibrate_ratings(org.ratings, waves="joint"), "calibrated (joint waves)"
    return raw_scores(org.ratings), "raw means of non-self ratings (not calibrated)"


def run(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from workbench.cli._common import print_warnings
    from workbench.impact.estimate import estimate_impact
    from workbench.impact.figures import plot_effects_forest, plot_pre_post, plot_rci_by_team
    from workbench.tables.data import load_organisation
    from workbench.tables.writers import new_output_dir, write_csv

    if not 0 < args.alpha < 1:
        raise ConfigError(f"--alpha {args.alpha}: must be between 0 and 1")
    if args.target_effect <= 0:
        raise ConfigError(f"--target-effect {args.target_effect}: must be positive")
    org = load_organisation(None, ratings=args.ratings, enrollments=args.enrollments,
                            people=args.people, catalog=args.catalog, mapping=args.mapping)
    print_warnings(org.problems)
    if org.enrollments is None or org.enrollments.empty:
        raise ConfigError(f"{args.enrollments}: no enrollments to evaluate")
    scores, source = _scores(org, args.raw_means)
    result = estimate_impact(scores, org.enrollments, people=org.people, catalog=org.catalog,
                             alpha=args.alpha, correction=args.correction,
                             noncompleters=args.noncompleters, design=args.design,
                             target_effect=args.target_effect)
    out = new_output_dir(args.out)
    tables = {
        "effects_by_skill": result.effects_by_skill,
        "effects_by_activity": result.effects_by_activity,
        "individual_change": result.individual_change,
        "power": result.power,
        "rtm": result.rtm,
        "paired_change": result.paired,
        "design": result.design,
    }
    for name, frame in tables.items():
        write_csv(frame, out / f"{name}.csv")
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
    print(f"\nwrote {len(tables)} tables and {len(figures)} figures to {out}", file=sys.stderr)
    return 0
