"""``workbench demo``: the README's main job, the whole pipeline on the bundled demo data."""

from __future__ import annotations

from pathlib import Path

from workbench.cli._common import say_run_failed


def demo_data_dir() -> Path:
    """The bundled demo organisation (``data/demo`` in the repository)."""
    return Path(__file__).resolve().parents[2] / "data" / "demo"


def register(sub) -> None:
    parser = sub.add_parser(
        "demo",
        help="run the whole pipeline on the bundled demo organisation",
        description="Run every analysis (calibration, skill profiles, learning impact, "
        "learning plans) on the bundled demo organisation (data/demo/engagement.yaml) into "
        "REPORTS/demo/<run-id>/ and print where the report is.",
    )
    parser.add_argument("--reports", default="reports", metavar="DIR",
                        help="root folder of the reports (default: ./reports)")
    parser.set_defaults(func=run)


def run(args) -> int:
    from workbench.runs.pipeline import run_engagement

    result = run_engagement(demo_data_dir() / "engagement.yaml", reports=args.reports)
    if not result.ok:
        return say_run_failed("workbench demo", result)
    print()
    print(f"For the client:        {result.client_dir.resolve()}")
    print(f"Report for the client: {result.report.resolve()}")
    print(f"For the analyst only:  {result.analyst_dir.resolve()} (never send)")
    return 0
