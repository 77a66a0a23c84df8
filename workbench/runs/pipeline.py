"""Batch runs: execute an engagement's notebooks with papermill into a new run folder.

A run of an engagement writes ``<reports>/<engagement>/<run-id>/`` with::

    report.html          the client report: every notebook's results, no code
    manifest.json        inputs' SHA-256, parameters, seeds, versions, git commit, timings, status
    notebooks/*.ipynb    the executed notebooks (a failed one stays for debugging)
    outputs/<notebook>/  the tables (CSV, Excel) and figures each notebook wrote

Nothing is ever overwritten: the run id is a UTC timestamp plus a random suffix and the folder
is created exclusively. Everything is checked before the first notebook starts: the engagement
file, each notebook's parameters against the types its ``parameters`` cell declares, and the
input data (one report listing every problem). A failing notebook stops the run; the manifest
names the notebook, the cell and the error.

Examples
--------
>>> from workbench.runs.pipeline import run_engagement
>>> result = run_engagement("data/demo/engagement.yaml")    # doctest: +SKIP
>>> result.report                                            # doctest: +SKIP
PosixPath('reports/demo/20260101T120000Z-1a2b3c/report.html')
"""

from __future__ import annotations

import hashlib
import json
import platform
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from workbench.errors import ConfigError, WorkbenchError
from workbench.runs.engagement import Engagement, load_engagement, notebook_parameters

_CWD_LOCK = threading.Lock()

__all__ = [
    "RunResult",
    "NotebookFailure",
    "KERNEL_NAME",
    "new_run_id",
    "new_run_folder",
    "prepare_run",
    "run_engagement",
    "run_batch",
    "file_sha256",
]

KERNEL_NAME = "python3"

_VERSIONED = (
    "workbench",
    "numpy",
    "pandas",
    "scipy",
    "scikit-learn",
    "statsmodels",
    "matplotlib",
    "seaborn",
    "papermill",
    "nbconvert",
    "ipykernel",
)


@dataclass(frozen=True)
class NotebookFailure:
    """Where a run stopped: notebook, cell (1-based, in the executed notebook) and error."""

    notebook: str
    cell: int | None
    error: str
    message: str
    source: str = ""

    def __str__(self) -> str:
        where = f"notebook {self.notebook}"
        if self.cell is not None:
            first = self.source.strip().splitlines()[0] if self.source.strip() else ""
            where += f", cell {self.cell}" + (f" ({first[:60]})" if first else "")
        return f"{where}: {self.error}: {self.message}"


@dataclass
class RunResult:
    """What a run produced.

    Attributes
    ----------
    engagement : str
    run_dir : Path
    status : {"succeeded", "failed"}
    report : Path or None
        ``report.html`` (None when the run failed).
    manifest : dict
        The content of ``manifest.json``.
    failure : NotebookFailure or None
    """

    engagement: str
    run_dir: Path
    status: str
    report: Path | None = None
    manifest: dict = field(default_factory=dict)
    failure: NotebookFailure | None = None

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def new_run_id() -> str:
    """A new run id: UTC timestamp plus a random suffix, e.g. ``20261125T123504Z-3fa9c1``."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def new_run_folder(reports: str | Path, engagement: str) -> tuple[str, Path]:
    """Create ``<reports>/<engagement>/<run-id>/`` exclusively (never an existing folder)."""
    parent = Path(reports).resolve() / engagement
    parent.mkdir(parents=True, exist_ok=True)
    for _ in range(100):
        run_id = new_run_id()
        folder = parent / run_id
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return run_id, folder
    raise ConfigError(f"{parent}: could not create a new run folder")  # pragma: no cover


def _git_commit() -> dict:
    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": bool(dirty)}


def _versions() -> dict:
    found = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def _kernel_check() -> str | None:
    """A warning when the 'python3' kernel does not run this environment's Python."""
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        argv = KernelSpecManager().get_kernel_spec(KERNEL_NAME).argv
    except Exception as exc:  # no kernel at all: papermill would fail on every notebook
        raise ConfigError(
            f"no Jupyter kernel named {KERNEL_NAME!r} ({exc}); install it with "
            f"'{sys.executable} -m ipykernel install --sys-prefix --name {KERNEL_NAME}'"
        ) from None
    python = argv[0] if argv else ""
    if python in ("python", "python3", "{python}"):
        return None
    if Path(python).resolve().parent != Path(sys.executable).resolve().parent:
        return (
            f"kernel {KERNEL_NAME!r} runs {python}, not this environment's {sys.executable}; "
            f"reinstall it with '{sys.executable} -m ipykernel install --sys-prefix "
            f"--name {KERNEL_NAME}'"
        )
    return None


def _literal(text):
    """A default's source text as its value (the text itself when it is not a literal)."""
    import ast

    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError):
        return text


def _seeds(parameters: dict) -> dict:
    return {
        name: value
        for name, value in parameters.items()
        if name == "random_state" or "seed" in name.lower()
    }


def _write_manifest(run_dir: Path, manifest: dict) -> None:
    tmp = run_dir / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
    tmp.replace(run_dir / "manifest.json")


def prepare_run(engagement: str | Path | Engagement):
    """Check everything a run needs before it starts; return (engagement, organisation).

    Raises
    ------
    ConfigError or InputError
        Listing every problem in the engagement file, the notebook parameters or the data.
    """
    eng = engagement if isinstance(engagement, Engagement) else load_engagement(engagement)
    org = eng.load_organisation()
    return eng, org


#: What a notebook hands to later ones: parameter -> (notebook, file in its output folder).
#: A later notebook that declares the parameter gets the path when that notebook ran earlier in
#: the same run (and the engagement does not set the parameter), so it reads the earlier
#: result instead of fitting the same model again.
HANDOVER = {
    "scores_file": ("01_calibrate_raters", "calibrated_scores.csv"),
    "profiles_file": ("02_skill_profiles", "profile_assignments.csv"),
    "impact_file": ("03_learning_impact", "effects_by_activity.csv"),
}


def _step_parameters(eng: Engagement, step, output_dir: Path, declared=(), done=()) -> dict:
    params = {
        "data_dir": str(eng.folder) if eng.folder is not None else "",
        "engagement_file": str(eng.path),
        "output_dir": str(output_dir),
    }
    for name, (notebook, file) in HANDOVER.items():
        if name in declared and notebook in done:
            params[name] = str(output_dir.parent / notebook / file)
    params.update(step.parameters)
    return params


def _failure_from(step_name: str, exc: BaseException) -> NotebookFailure:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        return NotebookFailure(
            notebook=step_name,
            cell=int(exc.cell_index) + 1,
            error=str(exc.ename),
            message=str(exc.evalue),
            source=str(exc.source),
        )
    return NotebookFailure(step_name, None, type(exc).__name__, str(exc))


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
        error, the executed notebook and any outputs stay in the run folder.

    Raises
    ------
    ConfigError, InputError
        Before anything runs, for an invalid engagement, parameter or data file.
    """
    import papermill as pm

    say = progress if callable(progress) else (print if progress else (lambda _msg: None))
    eng, org = prepare_run(engagement)
    if org.warnings:
        from workbench.errors import format_problems

        say(format_problems(org.warnings[:20]) + (
            f"\n  ... and {len(org.warnings) - 20} more" if len(org.warnings) > 20 else ""))
    kernel_warning = _kernel_check() if kernel_name == KERNEL_NAME else None
    if kernel_warning:
        say(f"warning: {kernel_warning}")
    run_id, run_dir = new_run_folder(reports, eng.name)
    (run_dir / "notebooks").mkdir()
    (run_dir / "outputs").mkdir()
    inputs = {
        table: {"path": str(path), "sha256": file_sha256(path)}
        for table, path in sorted(eng.input_files().items())
    }
    inputs["engagement_file"] = {"path": str(eng.path), "sha256": file_sha256(eng.path)}
    manifest = {
        "engagement": eng.name,
        "client": eng.client,
        "run_id": run_id,
        "status": "running",
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "finished": None,
        "inputs": inputs,
        "data_warnings": len(org.warnings),
        "notebooks": [],
        "seeds": {},
        "versions": _versions(),
        "git": _git_commit(),
        "platform": {"system": platform.platform(), "executable": sys.executable},
        "kernel": kernel_name,
        "failure": None,
        "report": None,
    }
    _write_manifest(run_dir, manifest)
    say(f"run {eng.name}/{run_id} -> {run_dir}")
    failure = None
    executed = []
    total = len(eng.notebooks)
    for i, step in enumerate(eng.notebooks, start=1):
        out_dir = run_dir / "outputs" / step.name
        declared = notebook_parameters(step.path)
        done = {e["name"] for e in manifest["notebooks"] if e["status"] == "succeeded"}
        params = _step_parameters(eng, step, out_dir, declared, done)
        executed_path = run_dir / "notebooks" / f"{step.name}.ipynb"
        entry = {
            "name": step.name,
            "source": str(step.path),
            "source_sha256": file_sha256(step.path),
            "parameters": params,
            # the values every other parameter took (literal source text of the defaults)
            "defaults": {
                name: _literal(spec.get("default"))
                for name, spec in declared.items()
                if name not in params
            },
            "status": "running",
            "seconds": None,
        }
        manifest["notebooks"].append(entry)
        seeds = _seeds({**entry["defaults"], **params})
        if seeds:
            manifest["seeds"][step.name] = seeds
        _write_manifest(run_dir, manifest)
        say(f"[{i}/{total}] {step.name} ...")
        started = time.perf_counter()
        try:
            # papermill changes the whole process's working directory for the kernel start;
            # two runs in threads of one process (a Dask worker) would otherwise restore each
            # other's directory and leave the process in the wrong one.
            with _CWD_LOCK:
                pm.execute_notebook(
                    str(step.path),
                    str(executed_path),
                    parameters=params,
                    kernel_name=kernel_name,
                    progress_bar=False,
                    cwd=str(step.path.parent),
                    start_timeout=start_timeout,
                    # the kernel's own log (transport notices) is noise for the user; cell
                    # errors still come back through papermill
                    extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
                )
        except Exception as exc:  # papermill or kernel failure: recorded, the run stops
            failure = _failure_from(step.name, exc)
        entry["seconds"] = round(time.perf_counter() - started, 3)
        entry["executed"] = str(executed_path.relative_to(run_dir))
        if failure is not None:
            entry["status"] = "failed"
            say(f"[{i}/{total}] {step.name} FAILED after {entry['seconds']:.1f} s: {failure}")
            break
        entry["status"] = "succeeded"
        executed.append(executed_path)
        say(f"[{i}/{total}] {step.name} done in {entry['seconds']:.1f} s")
    report = None
    if failure is None:
        report = _build_run_report(eng, run_id, run_dir, executed)
        manifest["report"] = report.name
    manifest["status"] = "failed" if failure else "succeeded"
    manifest["failure"] = None if failure is None else {
        "notebook": failure.notebook,
        "cell": failure.cell,
        "error": failure.error,
        "message": failure.message,
        "source": failure.source,
    }
    manifest["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    manifest["outputs"] = sorted(
        str(p.relative_to(run_dir)) for p in (run_dir / "outputs").rglob("*") if p.is_file()
    )
    _write_manifest(run_dir, manifest)
    if report is not None:
        say(f"report: {report}")
    return RunResult(eng.name, run_dir, manifest["status"], report, manifest, failure)


def _build_run_report(eng: Engagement, run_id: str, run_dir: Path, executed: list) -> Path:
    from workbench.reporting.html_report import build_report

    return build_report(
        executed,
        run_dir / "report.html",
        title="Talent analytics report",
        client=eng.client,
        run_id=run_id,
        note=eng.description,
    )


# --------------------------------------------------------------------------------------------
# Batches: many engagements in parallel, on this machine or on a Dask cluster
# --------------------------------------------------------------------------------------------


def _run_quietly(path: str, reports: str) -> dict:
    """Run one engagement in a worker; return a plain (picklable) summary."""
    import contextvars

    lines = []
    try:
        # An empty context: worker threads (Dask with threads) may inherit another thread's
        # event loop through jupyter's context variable, and two kernels cannot share a loop.
        result = contextvars.Context().run(
            run_engagement, path, reports=reports, progress=lines.append
        )
    except WorkbenchError as exc:
        return {"engagement_file": path, "status": "invalid", "error": str(exc), "log": lines}
    return {
        "engagement_file": path,
        "engagement": result.engagement,
        "status": result.status,
        "run_dir": str(result.run_dir),
        "report": str(result.report) if result.report else None,
        "error": str(result.failure) if result.failure else None,
        "log": lines,
    }


def run_batch(
    engagements: Sequence[str | Path],
    *,
    reports: str | Path = "reports",
    jobs: int = 1,
    dask_address: str | None = None,
    dask_client=None,
    progress: bool | Callable[[str], None] = True,
) -> list[dict]:
    """Run many engagements in parallel: a local process pool or a Dask cluster.

    Every engagement file and its data are checked first; when any is invalid nothing runs.

    Parameters
    ----------
    engagements : list of paths
    reports : path
    jobs : int
        Processes on this machine (ignored with Dask).
    dask_address : str, optional
        Scheduler address (``tcp://host:8786``); each engagement becomes one task.
    dask_client : distributed.Client, optional
        An existing client (instead of an address).
    progress : bool or callable

    Returns
    -------
    list of dict
        One summary per engagement, in input order: engagement, status ("succeeded" or
        "failed"), run_dir, report, error.

    Raises
    ------
    ConfigError or InputError
        Listing the problems of every invalid engagement, before anything runs.
    """
    say = progress if callable(progress) else (print if progress else (lambda _msg: None))
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ConfigError(f"jobs must be a whole number >= 1, got {jobs!r}")
    paths = [str(Path(p).resolve()) for p in engagements]
    if not paths:
        raise ConfigError("no engagement files to run")
    invalid = []
    for path in paths:
        try:
            prepare_run(path)
        except WorkbenchError as exc:
            invalid.append(f"{path}:\n{exc}")
    if invalid:
        raise ConfigError(
            f"{len(invalid)} of {len(paths)} engagement(s) invalid; nothing was run.\n"
            + "\n".join(invalid)
        )
    reports = str(Path(reports).resolve())
    say(f"running {len(paths)} engagement(s)")
    if dask_client is not None or dask_address:
        results = _run_on_dask(paths, reports, dask_address, dask_client)
    else:
        results = _run_on_pool(paths, reports, jobs)
    for res in results:
        where = res.get("report") or res.get("run_dir") or ""
        say(f"{res['status']:>9}  {res.get('engagement', res['engagement_file'])}  {where}"
            + (f"\n           {res['error']}" if res.get("error") else ""))
    return results


def _run_on_pool(paths: list[str], reports: str, jobs: int) -> list[dict]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if jobs == 1 or len(paths) == 1:
        return [_run_quietly(p, reports) for p in paths]
    # spawn, not fork: the parent may hold threads (zmq, BLAS) that fork would copy half-made
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(jobs, len(paths)), mp_context=context) as pool:
        return list(pool.map(_run_quietly, paths, [reports] * len(paths)))


def _run_on_dask(paths: list[str], reports: str, address: str | None, client) -> list[dict]:
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - dask[distributed] is a dependency
        raise ConfigError("--dask needs dask.distributed (pip install 'dask[distributed]')") from None
    own = client is None
    if own:
        try:
            client = Client(address, timeout="20s")
        except OSError as exc:
            raise ConfigError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    try:
        futures = client.map(_run_quietly, paths, reports=reports, pure=False)
        return client.gather(futures)
    finally:
        if own:
            client.close()
