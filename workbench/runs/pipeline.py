"""Running one engagement: check everything, then execute its notebooks into a new run folder.

A run of an engagement writes ``<reports>/<engagement>/<run-id>/`` with::

    README.txt                   what each folder holds and what may be sent
    client/                      what may go to the client, nothing else:
      report.html                the client report: every notebook's results, no code
      plans.xlsx, people/<team>/ the plans workbook and one page per person
    analyst/                     never sent (:mod:`workbench.runs.layout`):
      manifest.json              inputs' SHA-256, parameters, seeds, versions, commit, timings
      inputs/                    the validated copy of the data
      notebooks/*.ipynb          the executed notebooks (a failed one stays for debugging)
      outputs/<notebook>/        the tables (CSV, Excel) and figures each notebook wrote
      failure.html               when a notebook failed: what failed, and where

Everything is checked before the run folder exists: the engagement file, every notebook
parameter against the values its ``parameters`` cell declares
(:mod:`workbench.runs.parameters`), the tables each notebook needs, the data (every problem
in one report), the kernel and the reports folder. When anything is wrong, nothing runs and no
folder is left behind. Nothing is ever overwritten: the run id is a UTC timestamp plus a random
suffix and the folder is created exclusively. Later notebooks read what earlier ones saved
(:data:`HANDOVER`) instead of fitting the same models again.

Examples
--------
>>> from workbench.runs.pipeline import run_engagement
>>> result = run_engagement("data/demo/engagement.yaml")    # doctest: +SKIP
>>> result.report                                            # doctest: +SKIP
PosixPath('reports/demo/20260101T120000Z-1a2b3c/client/report.html')
"""

from __future__ import annotations

import platform
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from workbench.errors import WorkbenchError, format_problems
from workbench.escaping import escape_html
from workbench.results import Result
from workbench.runs.engagement import Engagement, EngagementError, load_engagement
from workbench.runs.execute import KERNEL_NAME, NotebookFailure, execute_notebook, kernel_check
from workbench.runs.layout import ANALYST, CLIENT, assemble_client, withhold_client, write_readme
from workbench.runs.manifest import (
    file_sha256,
    git_commit,
    new_run_folder,
    package_versions,
    seeds_of,
    utc_now,
    write_manifest,
)
from workbench.runs.snapshot import SNAPSHOT, snapshot_inputs

__all__ = ["HANDOVER", "RunResult", "prepare_run", "run_engagement", "skip_reason"]

#: What a notebook hands to later ones: parameter -> (notebook, file in its output folder).
#: A later notebook that declares the parameter gets the path when that notebook ran earlier in
#: the same run (and the engagement does not set the parameter), so it reads the earlier
#: result instead of fitting the same model again.
HANDOVER = {
    "scores_file": ("01_calibrate_raters", "calibrated_scores.csv"),
    "variance_file": ("01_calibrate_raters", "variance_components.csv"),
    "profiles_file": ("02_skill_profiles", "profile_assignments.csv"),
    "impact_file": ("03_learning_impact", "effects_by_activity.csv"),
    "plans_file": ("04_learning_plans", "plans/plans.csv"),
}


def _cpu_seconds() -> float:
    """CPU seconds (user + system) of this process and of its finished children (a notebook's
    kernel is counted once it has exited)."""
    import resource

    return sum(u.ru_utime + u.ru_stime for u in (resource.getrusage(resource.RUSAGE_SELF),
                                                  resource.getrusage(resource.RUSAGE_CHILDREN)))


def skip_reason(step, available) -> str | None:
    """Why a run skips this notebook (None: it runs): the engagement says ``skip:`` with a
    reason, or none of its optional tables is there."""
    if getattr(step, "skip", None):
        return f"skipped: {step.skip}"
    optional = step.spec.skipped_without if step.spec is not None else ()
    if optional and not set(optional) & set(available):
        return (f"skipped: the data have no {' or '.join(optional)} table (optional inputs "
                "this notebook analyses)")
    return None


@dataclass
class RunResult(Result):
    """What a run produced.

    Attributes
    ----------
    engagement : str
    run_dir : Path
    status : {"succeeded", "failed", "withheld"}
        "withheld": every notebook ran, but the check of the client folder found something
        that must not be sent (``manifest["client_problems"]``); the folder's files were
        moved to ``analyst/client_withheld/`` and ``client/`` is left empty.
    report : Path or None
        ``client/report.html``, the short failure page ``analyst/failure.html``, or the
        withheld report ``analyst/client_withheld/report.html``.
    manifest : dict
        The content of ``manifest.json``.
    failure : NotebookFailure or None

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from workbench.synth.engagement import write_engagement
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_engagement(root)  # tiny.yaml: 30 generated people, notebook 00
    >>> run = run_engagement(root / "tiny.yaml", reports=root / "reports", progress=False)
    >>> isinstance(run, RunResult), run.ok, run.engagement
    (True, True, 'tiny')
    """

    title = "Engagement run"

    engagement: str
    run_dir: Path
    status: str
    report: Path | None = None
    manifest: dict = field(default_factory=dict)
    failure: NotebookFailure | None = None

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"

    @property
    def client_dir(self) -> Path:
        """``client/``: what may be handed to the client."""
        return self.run_dir / CLIENT

    @property
    def analyst_dir(self) -> Path:
        """``analyst/``: manifest, inputs, notebooks and every output; never sent."""
        return self.run_dir / ANALYST

    @property
    def settings(self) -> dict:
        """The run's seeds per notebook (its parameters are in the manifest)."""
        return dict(self.manifest.get("seeds", {}))

    def _sections(self) -> list:
        notebooks = pd.DataFrame(
            [(e["name"], e["status"], e.get("seconds"), e.get("cpu_seconds"))
             for e in self.manifest.get("notebooks", [])],
            columns=["notebook", "status", "seconds", "cpu_seconds"],
        )
        sections = [("", f"{self.engagement}: {self.status}, in {self.run_dir}"),
                    ("Notebooks", notebooks)]
        if self.failure is not None:
            sections.append(("Failure", str(self.failure)))
        if self.report is not None:
            sections.append(("Report", str(self.report)))
        return sections


def prepare_run(engagement: str | Path | Engagement):
    """Check everything a run needs before it starts; return (engagement, organisation).

    The engagement file's problems and the data's problems are reported together when the
    file says where the data are.

    Raises
    ------
    EngagementError or InputError
        Listing every problem in the engagement file, the notebook parameters and the data.
    """
    from workbench.progression.inputs import check_progression_inputs

    if isinstance(engagement, Engagement):
        org = engagement.load_organisation()
        _check_against_data(engagement, org)
        check_progression_inputs(org)
        return engagement, org
    try:
        eng = load_engagement(engagement)
    except EngagementError as exc:
        problems = list(exc.problems)
        try:
            # the data are checked too, so that one report lists everything
            load_engagement(engagement, check_notebooks=False).load_organisation()
        except WorkbenchError as data_exc:
            problems += [p for p in getattr(data_exc, "problems", []) if p not in problems]
        raise EngagementError(problems) from None
    org = eng.load_organisation()
    _check_against_data(eng, org)
    check_progression_inputs(org)
    return eng, org


_ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")

#: The notebook that fits the many-facet Rasch model (for model=rasch, and beside the linear
#: model with compare_models), so the ratings must then be whole numbers.
RASCH_NOTEBOOK = "01_calibrate_raters"


def _check_against_data(eng: Engagement, org) -> None:
    """What only the data can refute, before any notebook starts (issue 26): date parameters
    (declared ``(a date)``, given or default) within two years of the ratings' dates, and
    whole-number scores when the Rasch model will be fitted (``model: rasch`` or
    ``compare_models: true`` in notebook 01). Every problem is named."""
    from workbench.calibration.rasch.calibrate import check_categories
    from workbench.errors import InputError

    problems = _date_problems(eng, org) + _wave_problems(eng, org)
    if any(_fits_rasch(step) for step in eng.notebooks):
        try:
            check_categories(org.ratings, org.files.get("ratings", "ratings"),
                             rows=org.rows.get("ratings"))
        except InputError as exc:
            problems += [replace(p, message=f"notebooks.{RASCH_NOTEBOOK} fits the Rasch model: "
                                 f"{p.message}") for p in exc.problems]
    if problems:
        raise EngagementError(problems)


def _fits_rasch(step) -> bool:
    """Whether this notebook step will fit the Rasch model: notebook 01 with ``model: rasch`` or
    ``compare_models: true`` (given, or the notebook's default)."""
    if step.name != RASCH_NOTEBOOK or step.skip:
        return False
    declared = step.spec.parameters if step.spec is not None else {}

    def value(name):
        spec = declared.get(name)
        return step.parameters.get(name, spec.default if spec is not None else None)

    return value("model") == "rasch" or bool(value("compare_models"))


def _wave_problems(eng: Engagement, org) -> list:
    """``waves: pooled`` fits one wave: with several in the data it would fail in the notebook."""
    from workbench.errors import Problem

    if "wave" not in org.ratings:
        return []
    found = sorted(org.ratings["wave"].dropna().unique().tolist())
    problems = []
    for step in eng.notebooks:
        declared = step.spec.parameters if step.spec is not None and not step.skip else {}
        spec = declared.get("waves")
        if spec is None or not spec.choices or "pooled" not in spec.choices:
            continue
        if step.parameters.get("waves", spec.default) == "pooled" and len(found) > 1:
            problems.append(Problem(
                str(eng.path), None, None,
                f"notebooks.{step.name}.waves: 'pooled' calibrates one wave, but the ratings "
                f"hold {len(found)} waves ({', '.join(map(str, found))}); set waves: joint "
                f"(all waves on one scale) or keep one wave with data.waves: [{found[-1]}]",
                "pooled"))
    return problems


def _date_problems(eng: Engagement, org) -> list:
    from workbench.checks import check_date_near
    from workbench.errors import ConfigError, Problem

    if "date" not in org.ratings:
        return []
    problems = []
    for step in eng.notebooks:
        declared = step.spec.parameters if step.spec is not None and not step.skip else {}
        for name, spec in declared.items():
            value = step.parameters.get(name, spec.default)
            # a declared date, or ISO dates inside a text such as wave_dates "1:2026-01-19"
            days = [value] if spec.date else [] if spec.file or not isinstance(value, str) \
                else _ISO_DATE.findall(value)
            for day in days:
                try:
                    check_date_near(name, day, org.ratings["date"], what="the ratings")
                except ConfigError as exc:
                    given = "" if name in step.parameters else " (the notebook's default)"
                    problems.append(Problem(str(eng.path), None, None,
                                            f"notebooks.{step.name}.{name}{given}: "
                                            f"{str(exc).split(': ', 1)[-1]}", str(value)))
    return problems


def _step_parameters(eng: Engagement, step, output_dir: Path, done=(), snapshot=None) -> dict:
    declared = step.spec.parameters if step.spec is not None else {}
    params = {
        "data_dir": str(eng.folder) if eng.folder is not None else "",
        "engagement_file": str(eng.path),
        "output_dir": str(output_dir),
    }
    if snapshot is not None:
        params["data_dir"], params["engagement_file"] = str(snapshot), ""
    for name, (notebook, file) in HANDOVER.items():
        if name in declared and notebook in done:
            params[name] = str(output_dir.parent / notebook / file)
    params.update(step.parameters)
    return params


def _new_manifest(eng: Engagement, run_id: str, org, kernel_name: str) -> dict:
    inputs = {
        table: {"path": str(path), "sha256": file_sha256(path)}
        for table, path in sorted(eng.input_files().items())
    }
    inputs["engagement_file"] = {"path": str(eng.path), "sha256": file_sha256(eng.path)}
    return {
        "engagement": eng.name,
        "client": eng.client,
        "run_id": run_id,
        "status": "running",
        "started": utc_now(),
        "finished": None,
        "inputs": inputs,
        "data_warnings": len(org.warnings),
        "notebooks": [],
        "seeds": {},
        "versions": package_versions(),
        "git": git_commit(),
        "platform": {"system": platform.platform(), "executable": sys.executable},
        "kernel": kernel_name,
        "failure": None,
        "report": None,
    }


def run_engagement(
    engagement: str | Path | Engagement,
    *,
    reports: str | Path = "reports",
    progress: bool | Callable[[str], None] = True,
    kernel_name: str = KERNEL_NAME,
    start_timeout: int = 120,
) -> RunResult:
    """Run an engagement's notebooks with papermill into a new run folder.

    Parameters
    ----------
    engagement : path or Engagement
        The engagement file (checked first; see :func:`workbench.runs.engagement.load_engagement`).
    reports : path
        Root folder of all reports; the run goes to ``<reports>/<engagement>/<run-id>/``.
    progress : bool or callable
        Print one line per notebook (or pass a function that receives the lines).
    kernel_name : str
        Jupyter kernel (the environment's ``python3``).
    start_timeout : int
        Seconds to wait for a kernel to start.

    Returns
    -------
    RunResult
        ``status`` is "failed" when a notebook raised; the failure names notebook, cell and
        error; the executed notebook, any outputs and a short ``report.html`` saying what
        failed stay in the run folder. It is "withheld" when the check of ``client/`` found a
        rater id, a file of the wrong kind or a path there: nothing is left to send.

    Raises
    ------
    ConfigError, InputError
        Before anything runs (and before the run folder exists), for an invalid engagement,
        parameter, data file, kernel or reports folder.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from workbench.synth.engagement import write_engagement
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_engagement(root)  # tiny.yaml: 30 generated people, notebook 00
    >>> run = run_engagement(root / "tiny.yaml", reports=root / "reports", progress=False)
    >>> run.status, run.report.name, run.report.parent == run.client_dir
    ('succeeded', 'report.html', True)
    """
    say = progress if callable(progress) else (print if progress else (lambda _msg: None))
    eng, org = prepare_run(engagement)
    if org.warnings:
        say(format_problems(org.warnings[:20]) + (
            f"\n  ... and {len(org.warnings) - 20} more" if len(org.warnings) > 20 else ""))
    kernel_warning = kernel_check() if kernel_name == KERNEL_NAME else None
    if kernel_warning:
        say(f"warning: {kernel_warning}")
    run_id, run_dir = new_run_folder(reports, eng.name)
    work = run_dir / ANALYST
    (run_dir / CLIENT).mkdir()
    work.mkdir()
    (work / "notebooks").mkdir()
    (work / "outputs").mkdir()
    manifest = _new_manifest(eng, run_id, org, kernel_name)
    snapshot = snapshot_inputs(org, work / SNAPSHOT)
    manifest["snapshot"] = SNAPSHOT
    write_manifest(work, manifest)
    say(f"client folder (may be sent): {run_dir / CLIENT}")
    say(f"run {eng.name}/{run_id} -> {run_dir}")
    failure, executed = None, []
    total = len(eng.notebooks)
    available = set(eng.input_files())
    for i, step in enumerate(eng.notebooks, start=1):
        reason = skip_reason(step, available)
        if reason is not None:
            manifest["notebooks"].append({"name": step.name, "source": str(step.path),
                                          "status": "skipped", "reason": reason,
                                          "seconds": 0.0})
            write_manifest(work, manifest)
            say(f"[{i}/{total}] {step.name} {reason}")
            continue
        done = {e["name"] for e in manifest["notebooks"] if e["status"] == "succeeded"}
        params = _step_parameters(eng, step, work / "outputs" / step.name, done, snapshot)
        executed_path = work / "notebooks" / f"{step.name}.ipynb"
        declared = step.spec.parameters if step.spec is not None else {}
        entry = {
            "name": step.name,
            "source": str(step.path),
            "source_sha256": file_sha256(step.path),
            "parameters": params,
            # the values every other parameter took (the declared defaults)
            "defaults": {n: s.default for n, s in declared.items() if n not in params},
            "status": "running",
            "seconds": None,
        }
        manifest["notebooks"].append(entry)
        seeds = seeds_of({**entry["defaults"], **params})
        if seeds:
            manifest["seeds"][step.name] = seeds
        write_manifest(work, manifest)
        say(f"[{i}/{total}] {step.name} ...")
        started, cpu_started = time.perf_counter(), _cpu_seconds()
        failure = execute_notebook(step.path, executed_path, params, name=step.name,
                                   kernel_name=kernel_name, start_timeout=start_timeout)
        entry["seconds"] = round(time.perf_counter() - started, 3)
        entry["cpu_seconds"] = round(_cpu_seconds() - cpu_started, 3)
        entry["executed"] = str(executed_path.relative_to(work))
        if failure is not None:
            entry["status"] = "failed"
            say(f"[{i}/{total}] {step.name} FAILED after {entry['seconds']:.1f} s: {failure}")
            break
        entry["status"] = "succeeded"
        executed.append(executed_path)
        say(f"[{i}/{total}] {step.name} done in {entry['seconds']:.1f} s")
    if failure is None:
        report = _build_run_report(eng, run_id, run_dir / CLIENT, executed,
                                   [e for e in manifest["notebooks"] if e["status"] == "skipped"])
        assemble_client(run_dir)
        manifest["client_problems"] = _check_client(run_dir, org, say)
        if manifest["client_problems"]:
            report = withhold_client(run_dir) / report.name
    else:
        report = _build_failure_report(eng, run_id, work, failure, manifest)
    manifest["report"] = report.relative_to(run_dir).as_posix()
    manifest["status"] = ("failed" if failure else
                          "withheld" if manifest.get("client_problems") else "succeeded")
    manifest["failure"] = None if failure is None else failure.to_dict()
    manifest["finished"] = utc_now()
    manifest["outputs"] = sorted(
        str(p.relative_to(work)) for p in (work / "outputs").rglob("*") if p.is_file()
    )
    manifest["client"] = sorted(
        p.relative_to(run_dir).as_posix() for p in (run_dir / CLIENT).rglob("*") if p.is_file()
    )
    write_manifest(work, manifest)
    write_readme(run_dir, engagement=eng.name, client=eng.client, run_id=run_id,
                 status=manifest["status"],
                 skipped={e["name"]: e["reason"] for e in manifest["notebooks"]
                          if e["status"] == "skipped"})
    say(f"report: {report}")
    return RunResult(eng.name, run_dir, manifest["status"], report, manifest, failure)


def _check_client(run_dir: Path, org, say) -> list:
    """Check the whole client folder before anyone sends it; say and return every problem."""
    from workbench.reporting.disclosure import client_folder_problems
    from workbench.runs.layout import PLANS_OUTPUT

    plans = run_dir / ANALYST / PLANS_OUTPUT / "plans.json"
    problems = client_folder_problems(run_dir / CLIENT, org.ratings["rater"].astype(str).unique(),
                                      people=org.people, plans=plans if plans.is_file() else [])
    for row in problems.itertuples(index=False):
        say(f"{CLIENT}/{row.file} ({row.location}): {row.value}: must not be sent")
    return problems.to_dict("records")


def _build_run_report(eng: Engagement, run_id: str, client_dir: Path, executed: list,
                      skipped: list) -> Path:
    import nbformat

    from workbench.reporting.html_report import build_report, notebook_title
    from workbench.runs.engagement import SKIP_CONSEQUENCES

    left_out = [
        (notebook_title(nbformat.read(entry["source"], as_version=4), entry["name"]),
         entry["reason"].removeprefix("skipped: "), SKIP_CONSEQUENCES.get(entry["name"], ""))
        for entry in skipped
    ]
    return build_report(
        executed,
        client_dir / "report.html",
        skipped=left_out,
        title="Talent analytics report",
        client=eng.client,
        run_id=run_id,
        note=eng.description,
    )


def _build_failure_report(eng: Engagement, run_id: str, analyst_dir: Path,
                          failure: NotebookFailure, manifest: dict) -> Path:
    """A short page for the consultant: which notebook failed, where, and what ran before.

    It shows the error message but no code and no data, like the client report.
    """
    ran = "".join(
        f"<li>{escape_html(e['name'])}: {escape_html(e['status'])}</li>"
        for e in manifest["notebooks"]
    )
    not_run = [s.name for s in eng.notebooks
               if s.name not in {e["name"] for e in manifest["notebooks"]}]
    where = f"cell {failure.cell}" if failure.cell is not None else "before its first cell"
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Run failed: {escape_html(eng.name)}</title>
<style>body{{font-family:sans-serif;max-width:48em;margin:2em auto;color:#222}}
.error{{background:#fde8e8;border-left:4px solid #c0392b;padding:.5em 1em}}</style></head>
<body><h1>Run failed</h1>
<p>{escape_html(eng.client)}: engagement <b>{escape_html(eng.name)}</b>, run {escape_html(run_id)}.</p>
<div class="error"><p>Notebook <b>{escape_html(failure.notebook)}</b> stopped at {where}
with <b>{escape_html(failure.error)}</b>:</p><p>{escape_html(failure.message)}</p></div>
<h2>Notebooks</h2><ul>{ran}{"".join(f"<li>{escape_html(n)}: not run</li>" for n in not_run)}</ul>
<p>No client report was made. The executed notebook is in
<code>notebooks/{escape_html(failure.notebook)}.ipynb</code>; <code>manifest.json</code> records
the parameters, inputs and versions of this run.</p></body></html>
"""
    path = analyst_dir / "failure.html"
    with path.open("x", encoding="utf-8") as handle:
        handle.write(page)
    return path


