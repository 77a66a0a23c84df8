"""Many engagements at once: a local process pool or a Dask cluster.

Every engagement file and its data are checked first; when any is invalid nothing runs. A
Dask address is checked before connecting (``tcp://host:8786``: scheme, host and port).

Examples
--------
>>> check_dask_address("tcp://scheduler:8786")
'tcp://scheduler:8786'
>>> check_dask_address("notanaddress")
Traceback (most recent call last):
...
workbench.errors.ConfigError: --dask 'notanaddress': not a scheduler address; expected \
tcp://HOST:PORT (e.g. tcp://scheduler:8786)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

from workbench.errors import ConfigError, WorkbenchError
from workbench.parallel import resolve_n_jobs

__all__ = ["run_batch", "check_dask_address"]

_ADDRESS = re.compile(r"^(tcp|tls|ucx|ws|wss)://([^:/\s]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$")
# a scheduler in this process (distributed.LocalCluster(processes=False))
_IN_PROCESS = re.compile(r"^inproc://\S+/\d+/\d+$")


def check_dask_address(address: str) -> str:
    """Return a Dask scheduler address if it has a scheme, a host and a port (1 to 65535)."""
    if _IN_PROCESS.match(str(address).strip()):
        return str(address).strip()
    match = _ADDRESS.match(str(address).strip())
    if not match or not 0 < int(match.group(3)) < 65536:
        raise ConfigError(f"--dask {address!r}: not a scheduler address; expected "
                          "tcp://HOST:PORT (e.g. tcp://scheduler:8786)")
    return str(address).strip()


def _run_quietly(path: str, reports: str) -> dict:
    """Run one engagement in a worker; return a plain (picklable) summary."""
    import contextvars

    from workbench.runs.pipeline import run_engagement

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

    Parameters
    ----------
    engagements : list of paths
    reports : path
    jobs : int
        Processes on this machine (ignored with Dask), counted as ``n_jobs`` is
        (:mod:`workbench.parallel`: -1 every core).
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

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from workbench.synth.engagement import write_engagement
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_engagement(root)  # tiny.yaml: 30 generated people, notebook 00
    >>> [r["status"] for r in run_batch([root / "tiny.yaml"], reports=root / "reports",
    ...                                 progress=False)]
    ['succeeded']
    """
    from workbench.runs.pipeline import prepare_run
    from workbench.writers import new_output_dir

    say = progress if callable(progress) else (print if progress else (lambda _msg: None))
    jobs = resolve_n_jobs(jobs, "jobs")
    if dask_address is not None:
        dask_address = check_dask_address(dask_address)
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
    reports = str(new_output_dir(Path(reports).absolute(), allow_existing=True))
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
        except (OSError, ValueError, TypeError) as exc:
            raise ConfigError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    try:
        futures = client.map(_run_quietly, paths, reports=reports, pure=False)
        return client.gather(futures)
    finally:
        if own:
            client.close()
