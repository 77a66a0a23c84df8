"""Executing one notebook with papermill, and what a failure looks like.

A failure names the notebook, the cell (1-based, with its first line) and the error; the
executed notebook stays in the run folder for debugging.

Examples
--------
>>> str(NotebookFailure("02_skill_profiles", 4, "KeyError", "'people'", "fit = find(...)"))
"notebook 02_skill_profiles, cell 4 (fit = find(...)): KeyError: 'people'"
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import ConfigError

__all__ = ["KERNEL_NAME", "NotebookFailure", "kernel_check", "execute_notebook", "failure_from"]

KERNEL_NAME = "python3"

# papermill changes the whole process's working directory for the kernel start; two runs in
# threads of one process (a Dask worker) would otherwise restore each other's directory.
_CWD_LOCK = threading.Lock()


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

    def to_dict(self) -> dict:
        return {"notebook": self.notebook, "cell": self.cell, "error": self.error,
                "message": self.message, "source": self.source}


def kernel_check() -> str | None:
    """A warning when the 'python3' kernel does not run this environment's Python.

    Raises
    ------
    ConfigError
        When there is no such kernel at all (papermill would fail on every notebook).
    """
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        argv = KernelSpecManager().get_kernel_spec(KERNEL_NAME).argv
    except Exception as exc:  # noqa: BLE001 - any failure means: no usable kernel
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


def failure_from(step_name: str, exc: BaseException) -> NotebookFailure:
    """A NotebookFailure from papermill's exception (or any other)."""
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


def execute_notebook(
    source: Path, executed: Path, parameters: dict, *, name: str,
    kernel_name: str = KERNEL_NAME, start_timeout: int = 120,
) -> NotebookFailure | None:
    """Run ``source`` with ``parameters`` into ``executed``; the failure, or None."""
    import papermill as pm

    try:
        with _CWD_LOCK:
            pm.execute_notebook(
                str(source),
                str(executed),
                parameters=parameters,
                kernel_name=kernel_name,
                progress_bar=False,
                cwd=str(source.parent),
                start_timeout=start_timeout,
                # the kernel's own log (transport notices) is noise for the user; cell
                # errors still come back through papermill
                extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
            )
    except Exception as exc:  # noqa: BLE001 - papermill or kernel failure: recorded, run stops
        return failure_from(name, exc)
    return None
