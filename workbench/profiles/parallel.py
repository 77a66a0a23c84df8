"""Seeds, workers and BLAS threads for the repeated fits of the profiles stage (grid, donor
refits, BLRT, bootstrap).

Every repeated fit gets its own seed spawned from one root seed (numpy's ``SeedSequence``),
so a given ``random_state`` gives the same numbers whatever the number of workers.
:func:`parallel_map` runs the fits over forked worker processes on Linux (they inherit the
imported modules, the loaded compiled kernels and the data, so a worker costs milliseconds),
threads elsewhere. The EM runs work on small matrices, where BLAS threads only contend with
each other (and with the workers): :func:`one_blas_thread` limits them to one.

Examples
--------
>>> spawn_seeds(1, 2) == spawn_seeds(1, 2)
True
>>> parallel_map(abs, [(-1,), (2,)], n_jobs=1)
[1, 2]
"""

from __future__ import annotations

import threading

import numpy as np

from workbench.checks import DEFAULT_SEED
from workbench.parallel import resolve_n_jobs

__all__ = ["spawn_seeds", "parallel_map", "n_workers", "one_blas_thread"]


_CONTROLLER = None


def one_blas_thread():
    """Context manager: BLAS on one thread.

    threadpoolctl finds the loaded libraries by scanning the process's shared objects (about
    8 ms); the controller is made once per process and reused (it was 6% of a 3,000-person
    grid when made for every fit)."""
    global _CONTROLLER
    if _CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")


def spawn_seeds(random_state, n: int) -> list[int]:
    """``n`` independent integer seeds from a seed, a Generator or None (DEFAULT_SEED)."""
    if isinstance(random_state, np.random.Generator):
        root = np.random.SeedSequence(int(random_state.integers(2**63)))
    else:
        root = np.random.SeedSequence(DEFAULT_SEED if random_state is None else random_state)
    return [int(s.generate_state(1)[0]) for s in root.spawn(n)]


def n_workers(n_jobs) -> int:
    """Workers for ``n_jobs``, as :func:`workbench.parallel.resolve_n_jobs` counts them (None:
    one unless inside ``parallel_config``; -1: every core this process may use)."""
    return resolve_n_jobs(n_jobs)


#: The function and arguments of the running :func:`parallel_map`, inherited by forked
#: workers (they receive indices, not copies of the data); one map at a time per process.
_TASKS: tuple = ()
_TASKS_LOCK = threading.Lock()


def _run_task(i):
    """Task ``i`` of the running map (BLAS is already on one thread: set once per forked
    worker, or around the whole thread pool)."""
    func, arguments = _TASKS
    return func(*arguments[i])


def _forked_worker():
    """A forked worker runs BLAS and OpenMP on one thread: the workers are the parallelism,
    and GNU OpenMP's thread pool (scikit-learn's k-means) does not survive a fork: a
    parallel region with more than one thread would wait forever for it. The libraries are
    looked up afresh (the parent's controller may predate scikit-learn's OpenMP)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)


def parallel_map(func, arguments, n_jobs=None, desc: str = "", progress: bool = False,
                 while_waiting=None) -> list:
    """``[func(*a) for a in arguments]``, over ``n_jobs`` workers when above 1.

    The workers are forked processes (Linux), which inherit the imported modules, the loaded
    compiled kernels and the arguments: none is imported, compiled or copied again, so a
    worker costs milliseconds (joblib's loky workers start fresh interpreters: about 2 s of
    CPU each for the imports and the kernels). Where ``fork`` is unavailable or unsafe
    (Windows, macOS) the workers are threads (the kernels release the GIL). The order of
    the results is that of ``arguments``; ``n_jobs`` has the meaning of
    :mod:`workbench.parallel` (None: one worker unless inside ``parallel_config``).
    ``while_waiting``: a function this process calls once the workers have started (work
    that would otherwise wait for them, such as an import the results will need).
    """
    global _TASKS
    arguments = list(arguments)
    workers = min(n_workers(n_jobs), len(arguments))
    if workers <= 1:
        results = (func(*a) for a in arguments)
        return list(_progress(results, len(arguments), desc) if progress else results)
    with _TASKS_LOCK:
        _TASKS = (func, arguments)
        try:
            return _map_tasks(workers, len(arguments), desc, progress, while_waiting)
        finally:
            _TASKS = ()


def _map_tasks(workers, total, desc, progress, while_waiting):
    """The tasks of ``_TASKS`` over forked processes (Linux) or threads, in order."""
    import multiprocessing
    import sys

    items = range(total)
    if sys.platform.startswith("linux"):
        with multiprocessing.get_context("fork").Pool(workers, _forked_worker) as pool:
            results = pool.imap(_run_task, items)
            if while_waiting is not None:
                while_waiting()
            return list(_progress(results, total, desc) if progress else results)
    from concurrent.futures import ThreadPoolExecutor

    with one_blas_thread(), ThreadPoolExecutor(max_workers=workers) as pool:
        results = pool.map(_run_task, items)
        return list(_progress(results, total, desc) if progress else results)


def _progress(results, total, desc):
    from tqdm.auto import tqdm

    return tqdm(results, total=total, desc=desc)
