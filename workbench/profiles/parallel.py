"""Seeds, workers and BLAS threads for the repeated fits of the profiles stage (grid, BLRT,
bootstrap).

Every repeated fit gets its own seed spawned from one root seed (numpy's ``SeedSequence``),
so a given ``random_state`` gives the same numbers whatever the number of workers.
The EM runs work on small matrices, where BLAS threads only contend with each other (and with
the joblib workers): :func:`one_blas_thread` limits them to one.

Examples
--------
>>> spawn_seeds(1, 2) == spawn_seeds(1, 2)
True
>>> parallel_map(abs, [(-1,), (2,)], n_jobs=1)
[1, 2]
"""

from __future__ import annotations

import numpy as np

from workbench.checks import DEFAULT_SEED

__all__ = ["spawn_seeds", "parallel_map", "one_blas_thread"]


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


def parallel_map(func, arguments, n_jobs=None, desc: str = "", progress: bool = False) -> list:
    """``[func(*a) for a in arguments]``, over ``n_jobs`` joblib workers when above 1.

    The order of the results is that of ``arguments``.
    """
    arguments = list(arguments)
    if n_jobs in (None, 1) or len(arguments) < 2:
        items = arguments
        if progress:
            from tqdm.auto import tqdm

            items = tqdm(arguments, desc=desc)
        return [func(*a) for a in items]
    from joblib import Parallel, delayed

    results = Parallel(n_jobs=n_jobs, return_as="generator")(delayed(func)(*a) for a in arguments)
    if progress:
        from tqdm.auto import tqdm

        results = tqdm(results, total=len(arguments), desc=desc)
    return list(results)
