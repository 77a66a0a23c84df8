"""One way to check options: choices, intervals, alpha, integers, seeds.

The error policy of the whole package (see :mod:`workbench.errors`):

* :class:`~workbench.errors.ConfigError` for an option or parameter value (these helpers);
* :class:`~workbench.errors.InputError` for data, naming file, row, column and value;
* :class:`~workbench.errors.ModelError` only when a model cannot be identified or fitted.

Every helper returns the checked (and normalised) value, so a function starts with a few lines
such as ``alpha = check_alpha(alpha)`` and then trusts its arguments. Messages name the option
and the bad value, like scikit-learn's parameter validation.

Examples
--------
>>> check_choice("waves", "joint", ("pooled", "joint"))
'joint'
>>> check_interval("gap_probability", 0.7, low=0.5, high=1, inclusive="left")
0.7
>>> check_alpha(0.05)
0.05
>>> check_alpha(1.5)
Traceback (most recent call last):
...
workbench.errors.ConfigError: alpha=1.5: must be between 0 and 1 (exclusive)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

import numpy as np

from workbench.errors import ConfigError

__all__ = [
    "DEFAULT_SEED",
    "DATE_MARGIN_DAYS",
    "check_alpha",
    "check_choice",
    "check_choices",
    "check_date_near",
    "check_integer",
    "check_interval",
    "check_random_state",
    "check_scale",
]

#: The seed every command and function uses when none is given: same input, same output.
DEFAULT_SEED = 2026

_INCLUSIVE = ("both", "left", "right", "neither")

#: How far (days) a date option may lie outside the dates of the data it concerns: two years.
DATE_MARGIN_DAYS = 731


def _plain(value):
    """``np.int64(3)`` -> ``3`` for messages."""
    return value.item() if isinstance(value, np.generic) else value


def check_choice(name: str, value, choices: Iterable):
    """Return ``value`` if it is one of ``choices``; else raise ConfigError listing them.

    Examples
    --------
    >>> check_choice("correction", "holm", ("holm", "fdr_bh"))
    'holm'
    """
    choices = tuple(choices)
    if value not in choices:
        listed = ", ".join(repr(_plain(c)) for c in choices)
        raise ConfigError(f"{name}={_plain(value)!r}: must be one of {listed}")
    return value


def check_choices(name: str, values, choices: Iterable) -> tuple:
    """Check a sequence of options (e.g. several model structures); every bad value is named.

    Examples
    --------
    >>> check_choices("models", ["EII", "VVV"], ("EII", "VII", "VVV"))
    ('EII', 'VVV')
    """
    if isinstance(values, str):
        values = (values,)
    values = tuple(values)
    choices = tuple(choices)
    bad = [v for v in values if v not in choices]
    if bad:
        raise ConfigError(f"{name}: {', '.join(repr(_plain(b)) for b in bad)} not among "
                          f"{', '.join(repr(_plain(c)) for c in choices)}")
    if not values:
        raise ConfigError(f"{name}: give at least one value")
    return values


def check_interval(name: str, value, *, low=None, high=None, inclusive: str = "both") -> float:
    """Return ``value`` as a float if it is a finite number within [low, high].

    ``inclusive`` is one of "both", "left", "right", "neither".

    Examples
    --------
    >>> check_interval("hours_per_week", 3, low=0, inclusive="neither")
    3.0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{name}={_plain(value)!r}: must be a number")
    value = float(value)
    if not math.isfinite(value):
        raise ConfigError(f"{name}={value!r}: must be a finite number")
    closed_low = inclusive in ("both", "left")
    closed_high = inclusive in ("both", "right")
    too_low = low is not None and (value < low if closed_low else value <= low)
    too_high = high is not None and (value > high if closed_high else value >= high)
    if too_low or too_high:
        raise ConfigError(f"{name}={_plain(value)!r}: {_range_text(low, high, inclusive)}")
    return value


def _range_text(low, high, inclusive):
    if inclusive not in _INCLUSIVE:
        raise ValueError(f"inclusive={inclusive!r}")
    if low is not None and high is not None:
        tail = {"both": "inclusive", "neither": "exclusive", "left": f"{high} excluded",
                "right": f"{low} excluded"}[inclusive]
        return f"must be between {low} and {high} ({tail})"
    if low is not None:
        return f"must be {'at least' if inclusive in ('both', 'left') else 'above'} {low}"
    return f"must be {'at most' if inclusive in ('both', 'right') else 'below'} {high}"


def check_integer(name: str, value, *, low=None, high=None) -> int:
    """Return ``value`` as an int if it is a whole number within [low, high].

    Examples
    --------
    >>> check_integer("k_max", 6, low=1, high=12)
    6
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and not math.isfinite(float(value)):
            raise ConfigError(f"{name}={float(value)!r}: must be a finite whole number")
        if isinstance(value, numbers.Real) and float(value).is_integer():
            value = int(value)
        else:
            raise ConfigError(f"{name}={_plain(value)!r}: must be a whole number")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ConfigError(f"{name}={value}: {_range_text(low, high, 'both')}")
    return value


def check_scale(name: str, value) -> tuple[float, float]:
    """Return a rating scale's ``(min, max)`` as two finite floats with min below max.

    ``value`` is a ``(min, max)`` pair or anything with ``min`` and ``max`` attributes (a
    :class:`~workbench.tables.columns.Scale`). NaN and infinities are refused: a scale of
    ``(nan, nan)`` would switch off every check against it.

    Examples
    --------
    >>> check_scale("scale", (1, 5))
    (1.0, 5.0)
    >>> check_scale("--scale", (1, float("inf")))
    Traceback (most recent call last):
    ...
    workbench.errors.ConfigError: --scale=(1, inf): MIN and MAX must be finite numbers, MIN below MAX
    """
    if hasattr(value, "min") and hasattr(value, "max") and not isinstance(
            value, tuple | list | np.ndarray):
        pair = (value.min, value.max)
    else:
        try:
            pair = tuple(value)
        except TypeError:
            pair = ()
    shown = tuple(_plain(v) for v in pair) if len(pair) == 2 else _plain(value)
    bad = ConfigError(f"{name}={shown!r}: MIN and MAX must be finite numbers, MIN below MAX")
    if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, numbers.Real)
                             for v in pair):
        raise bad
    low, high = float(pair[0]), float(pair[1])
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise bad
    return low, high


def check_date_near(name: str, value, dates, *, what: str,
                    margin_days: int = DATE_MARGIN_DAYS):
    """Return ``value`` if it lies within ``margin_days`` of the dates in ``dates``.

    A date option (the plans' first day, an assessment date) far from the data's own dates is
    a typo (``2062`` for ``2026``, ``0202``); the message states the data's range. ``dates``
    with no valid date leaves ``value`` unchecked. ``what`` names the dates in the message.

    Examples
    --------
    >>> check_date_near("start", "2027-01-04", ["2026-02-03", "2026-07-13"], what="the ratings")
    '2027-01-04'
    >>> check_date_near("start", "2062-01-04", ["2026-02-03", "2026-07-13"], what="the ratings")
    Traceback (most recent call last):
    ...
    workbench.errors.ConfigError: start=2062-01-04: more than 2 years after the dates of the ratings (2026-02-03 to 2026-07-13); check the year
    """
    import pandas as pd

    day = pd.to_datetime(value, errors="coerce")
    if pd.isna(day):
        raise ConfigError(f"{name}={value!r}: must be a date like 2027-01-04")
    known = pd.to_datetime(pd.Series(list(dates), dtype=object), errors="coerce").dropna()
    if known.empty:
        return value
    first, last = known.min(), known.max()
    margin = pd.Timedelta(days=margin_days)
    years = f"{margin_days / 365.25:.0f} years" if margin_days >= 365 else f"{margin_days} days"
    side = "before" if day < first - margin else "after" if day > last + margin else None
    if side:
        raise ConfigError(f"{name}={day:%Y-%m-%d}: more than {years} {side} the dates of "
                          f"{what} ({first:%Y-%m-%d} to {last:%Y-%m-%d}); check the year")
    return value


def check_alpha(alpha, name: str = "alpha") -> float:
    """Return ``alpha`` (1 - confidence level) if it lies strictly between 0 and 1.

    Examples
    --------
    >>> check_alpha(0.1)
    0.1
    """
    return check_interval(name, alpha, low=0, high=1, inclusive="neither")


def check_random_state(random_state, name: str = "random_state") -> np.random.Generator:
    """A numpy Generator from a seed, a Generator or None (None: :data:`DEFAULT_SEED`).

    Randomness comes only through this: the same input and the same seed give the same output,
    and leaving the seed out still gives the same output every run.

    Examples
    --------
    >>> int(check_random_state(None).integers(100)) == int(check_random_state(2026).integers(100))
    True
    """
    if random_state is None:
        return np.random.default_rng(DEFAULT_SEED)
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    seed = check_integer(name, random_state, low=0, high=2**63 - 1)
    return np.random.default_rng(seed)
