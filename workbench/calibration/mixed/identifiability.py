"""Which random terms of the calibration model the design can separate, decided before fitting.

A random term can only be estimated when the ratings tell it apart from the residual and from
every other term kept. From the design alone (who rated whom on which skill), a term is
dropped, in the order of :data:`PRIORITY`, when

* it has fewer than two levels (nothing varies);
* each of its levels holds a single rating: it is the residual under another name (e.g.
  ``rater:ratee`` when every rater rates each ratee on one item only);
* its levels group the ratings exactly as a term already kept does (e.g. ``ratee:skill`` when
  there is one skill only, which is ``ratee``; ``rater`` when every rater rates one ratee only,
  which is then ``rater:ratee``).

The largest identifiable model is what is left; :func:`identifiable_terms` returns it with a
table of the dropped terms and the reason in words. The calibrated score needs ``ratee`` or
``ratee:skill``: when neither survives, nothing identifiable remains and
:class:`~workbench.errors.ModelError` says what to change.

Examples
--------
>>> import pandas as pd
>>> r = pd.DataFrame({"ratee": list("aabbcc"), "rater": list("xyxzyz"),
...                   "skill": "S", "wave": 1})
>>> kept, dropped = identifiable_terms(r, ("ratee", "ratee:skill", "rater", "rater:ratee"))
>>> kept
('ratee', 'rater')
>>> dropped["term"].tolist()
['ratee:skill', 'rater:ratee']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.errors import ModelError

__all__ = ["identifiable_terms", "PRIORITY"]

#: Order in which terms are kept (earlier terms win when two group the ratings alike).
PRIORITY = ("ratee", "ratee:skill", "rater", "rater:ratee", "rater:skill", "rater:ratee:skill")


def _codes(data: pd.DataFrame, term: str, joint: bool) -> np.ndarray:
    parts = term.split(":")
    if joint and "ratee" in parts:  # ratee-level terms are nested in the wave
        parts = [*parts, "wave"]
    key = np.zeros(len(data), dtype=np.int64)
    for part in parts:
        codes, uniques = pd.factorize(data[part], sort=False)
        key = key * (len(uniques) + 1) + codes
    return pd.factorize(key)[0]


def _same_grouping(a: np.ndarray, b: np.ndarray) -> bool:
    pairs = pd.factorize(a.astype(np.int64) * (int(b.max()) + 1) + b)[0]
    n_pairs = int(pairs.max()) + 1
    return n_pairs == int(a.max()) + 1 == int(b.max()) + 1


def identifiable_terms(data: pd.DataFrame, terms, *, joint: bool = False):
    """The requested terms the design can separate, and the dropped ones with the reason.

    Parameters
    ----------
    data : DataFrame
        Ratings with ``ratee``, ``rater``, ``skill`` (and ``wave`` when ``joint``).
    terms : sequence of str
        Requested terms (from :data:`PRIORITY`); the order of the result follows ``terms``.
    joint : bool
        Ratee-level terms are nested in the wave (joint calibration of several waves).

    Returns
    -------
    kept : tuple of str
    dropped : DataFrame
        ``term``, ``reason``.

    Raises
    ------
    ModelError
        When neither ``ratee`` nor ``ratee:skill`` can be kept (nothing to calibrate).
    """
    n = len(data)
    order = sorted(terms, key=lambda t: PRIORITY.index(t) if t in PRIORITY else len(PRIORITY))
    kept, codes, dropped = [], {}, []
    for term in order:
        c = _codes(data, term, joint)
        levels = int(c.max()) + 1 if n else 0
        if levels < 2:
            dropped.append((term, f"'{term}' has a single level in the ratings"))
            continue
        if levels >= n:
            dropped.append((term, f"each of the {levels} levels of '{term}' holds a single "
                                  "rating, so it cannot be told apart from the residual"
                            + _hint(term)))
            continue
        twin = next((k for k in kept if _same_grouping(c, codes[k])), None)
        if twin is not None:
            dropped.append((term, f"'{term}' groups the ratings exactly as '{twin}' does "
                                  f"({levels} levels), so the two cannot be separated"
                            + _hint(term)))
            continue
        kept.append(term)
        codes[term] = c
    if not {"ratee", "ratee:skill"} & set(kept):
        reasons = "; ".join(r for _, r in dropped) or "no ratee term requested"
        raise ModelError("nothing identifiable to calibrate: the calibrated score needs "
                         f"'ratee' or 'ratee:skill' ({reasons}); collect several ratings per "
                         "ratee (more raters or more items)")
    kept_in_order = tuple(t for t in terms if t in kept)
    return kept_in_order, pd.DataFrame(dropped, columns=["term", "reason"])


def _hint(term: str) -> str:
    return {
        "rater:ratee": " (halo needs raters who rate a ratee on two or more items)",
        "ratee:skill": " (needs two or more skills per ratee and several ratings per skill)",
        "rater": " (leniency needs raters who rate two or more ratees)",
        "rater:ratee:skill": " (needs raters who answer two or more items of a competency)",
        "ratee": " (needs ratees with two or more ratings)",
    }.get(term, "")
