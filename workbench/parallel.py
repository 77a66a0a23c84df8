"""One parallelism setting for every stage: ``n_jobs``, with scikit-learn's meaning.

``n_jobs`` is the number of workers a stage may use (calibration's threads, the profiles
stage's forked fits, the batch runner's processes):

* ``None``: one worker, unless the call runs inside :func:`parallel_config`, whose
  ``n_jobs`` then applies (as in scikit-learn and joblib);
* a positive integer: that many workers;
* ``-1``: every core this process may use; ``-k``: every core but ``k - 1`` (at least one);
* ``0``, NaN, infinities and non-integers are refused with a ConfigError.

:func:`check_n_jobs` checks the value (every ``n_jobs`` keyword goes through it) and
:func:`resolve_n_jobs` turns it into a number of workers. The command line keeps "every
core" as its default (``--jobs -1``).

Examples
--------
>>> resolve_n_jobs(None)
1
>>> resolve_n_jobs(2)
2
>>> resolve_n_jobs(-1) == available_cores()
True
>>> with parallel_config(n_jobs=3):
...     resolve_n_jobs(None), resolve_n_jobs(1)
(3, 1)
>>> check_n_jobs(0)
Traceback (most recent call last):
...
workbench.errors.ConfigError: n_jobs=0: must be a whole number other than 0 (None: one \
worker, -1: every core)
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import numbers
import os

from workbench.errors import ConfigError

__all__ = ["available_cores", "check_n_jobs", "resolve_n_jobs", "parallel_config"]

#: The ``n_jobs`` of the innermost :func:`parallel_config` (None outside any).
_CONTEXT_N_JOBS: contextvars.ContextVar = contextvars.ContextVar("workbench_n_jobs",
                                                                  default=None)


def available_cores() -> int:
    """The cores this process may use (its CPU affinity on Linux), at least one.

    Examples
    --------
    >>> available_cores() >= 1
    True
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def check_n_jobs(n_jobs, name: str = "n_jobs"):
    """Return ``n_jobs`` (None or a non-zero int); else raise ConfigError naming the value.

    Examples
    --------
    >>> check_n_jobs(-2), check_n_jobs(None), check_n_jobs(4.0)
    (-2, None, 4)
    >>> check_n_jobs(float("nan"))
    Traceback (most recent call last):
    ...
    workbench.errors.ConfigError: n_jobs=nan: must be a whole number other than 0 (None: one \
worker, -1: every core)
    """
    if n_jobs is None:
        return None
    rule = "must be a whole number other than 0 (None: one worker, -1: every core)"
    shown = n_jobs.item() if hasattr(n_jobs, "item") else n_jobs
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Real):
        raise ConfigError(f"{name}={shown!r}: {rule}")
    if not isinstance(n_jobs, numbers.Integral):
        value = float(n_jobs)
        if not math.isfinite(value) or not value.is_integer():
            raise ConfigError(f"{name}={value!r}: {rule}")
    n_jobs = int(n_jobs)
    if n_jobs == 0:
        raise ConfigError(f"{name}=0: {rule}")
    return n_jobs


def resolve_n_jobs(n_jobs, name: str = "n_jobs") -> int:
    """The number of workers for ``n_jobs`` (see the module docstring), at least one.

    Examples
    --------
    >>> resolve_n_jobs(-available_cores() - 5)
    1
    >>> resolve_n_jobs(-2) == max(1, available_cores() - 1)
    True
    """
    n_jobs = check_n_jobs(n_jobs, name)
    if n_jobs is None:
        n_jobs = _CONTEXT_N_JOBS.get()
        if n_jobs is None:
            return 1
    if n_jobs < 0:
        return max(1, available_cores() + 1 + n_jobs)
    return n_jobs


@contextlib.contextmanager
def parallel_config(*, n_jobs=None):
    """Context manager: ``n_jobs=None`` inside it means this ``n_jobs``.

    An explicit ``n_jobs`` given to a function still wins; ``parallel_config(n_jobs=None)``
    restores the default (one worker). Nested contexts apply the innermost.

    Examples
    --------
    >>> with parallel_config(n_jobs=-1):
    ...     resolve_n_jobs(None) == available_cores()
    True
    >>> resolve_n_jobs(None)
    1
    """
    token = _CONTEXT_N_JOBS.set(check_n_jobs(n_jobs))
    try:
        yield
    finally:
        _CONTEXT_N_JOBS.reset(token)
