"""``workbench run ENGAGEMENT.yaml`` and ``workbench run --batch DIR``: papermill batch runs."""

from __future__ import annotations

from pathlib import Path

from workbench.cli._common import say_run_failed
from workbench.errors import ConfigError


def register(sub) -> None:
    parser = sub.add_parser(
        "run",
        help="run an engagement's notebooks into a new report folder",
        description="Check an engagement file (data, column mapping, notebook parameters) and "
        "its data, then execute its notebooks with papermill into "
        "REPORTS/<engagement>/<run-id>/: client/ (report.html, plans.xlsx, person pages by "
        "team: what may be sent), analyst/ (executed notebooks, inputs, tables, figures, "
        "manifest.json: never sent) and README.txt. Exit code 0 when every run "
        "succeeded, 1 when a notebook failed, 2 for invalid input or a client folder that "
        "holds something that must not be sent (a rater id, a path; nothing is left to send).",
    )
    parser.add_argument("engagement", nargs="?", metavar="ENGAGEMENT.yaml",
                        help="engagement file")
    parser.add_argument("--batch", metavar="DIR",
                        help="run every *.yaml engagement file in DIR")
    parser.add_argument("--jobs", type=int, default=1, metavar="N",
                        help="engagements run at once on this machine (with --batch)")
    parser.add_argument("--dask", metavar="ADDRESS",
                        help="submit the batch to a Dask scheduler, e.g. tcp://host:8786")
    parser.add_argument("--reports", default="reports", metavar="DIR",
                        help="root folder of the reports (default: ./reports)")
    parser.add_argument("--zip-client", action="store_true",
                        help="also write client.zip beside client/: the folder that may be sent")
    parser.set_defaults(func=run)


def run(args) -> int:
    from workbench.runs.batch import check_dask_address, run_batch
    from workbench.runs.pipeline import run_engagement

    if (args.engagement is None) == (args.batch is None):
        raise ConfigError("give either one ENGAGEMENT.yaml or --batch DIR")
    if args.batch is not None and args.zip_client:
        raise ConfigError("--zip-client goes with one ENGAGEMENT.yaml, not --batch")
    if args.batch is None and (args.dask or args.jobs != 1):
        raise ConfigError("--jobs and --dask go with --batch DIR")
    if args.dask is not None:
        check_dask_address(args.dask)
    if args.batch is not None:
        folder = Path(args.batch)
        if not folder.is_dir():
            raise ConfigError(f"{folder}: batch folder not found")
        files = sorted(list(folder.glob("*.yaml")) + list(folder.glob("*.yml")))
        if not files:
            raise ConfigError(f"{folder}: no *.yaml engagement files")
        results = run_batch(files, reports=args.reports, jobs=args.jobs, dask_address=args.dask)
        return 0 if all(r["status"] == "succeeded" for r in results) else 1
    result = run_engagement(args.engagement, reports=args.reports)
    if not result.ok:
        return say_run_failed("workbench run", result)
    if args.zip_client:
        from workbench.runs.layout import zip_client

        print(f"client zip (may be sent): {zip_client(result.run_dir)}")
    return 0
