"""Scores from a synthetic organisation's truth: a fast score source with known standard errors.

Tests, examples and benchmarks that need scores with honest SEs, but not the cost of a
calibration, take the true scores and add Normal noise of a known SD. The result is a scores
table in the contract of :mod:`workbench.tables.scores` (``estimator="truth"``) that keeps the
``true_score`` column for checks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.checks import check_random_state
from workbench.errors import ConfigError

__all__ = ["truth_scores"]


def truth_scores(truth, *, se=0.2, wave=None, random_state=None) -> pd.DataFrame:
    """True score plus Normal(0, se) noise, with ``se`` as the known standard error.

    Parameters
    ----------
    truth : SyntheticOrganisation or DataFrame
        An organisation from :func:`~workbench.synth.generator.generate_organisation`, or its
        ``truth["true_scores"]`` table (person, skill, wave, true_score).
    se : float or (float, float)
        The SE of every score, or a ``(low, high)`` range from which each person-skill-wave SE
        is drawn uniformly (as calibrated SEs vary with the number of raters).
    wave : None or int
        Keep one wave; None keeps all.
    random_state : int, Generator or None

    Returns
    -------
    DataFrame
        person, skill, wave, score, se, estimator ("truth"), true_score.

    Examples
    --------
    >>> from workbench.synth.generator import generate_organisation
    >>> org = generate_organisation(60, seed=0, n_waves=1)
    >>> truth_scores(org, random_state=0).columns.tolist()
    ['person', 'skill', 'wave', 'score', 'se', 'estimator', 'true_score']
    """
    table = truth.truth["true_scores"] if hasattr(truth, "truth") else truth
    if not isinstance(table, pd.DataFrame) or not {"person", "skill", "true_score"} <= set(table):
        raise ConfigError("truth: expected a synthetic organisation or its true_scores table")
    if wave is not None:
        table = table[table["wave"] == wave]
    rng = check_random_state(random_state)
    n = len(table)
    if np.ndim(se) == 0:
        sds = np.full(n, float(se))
    else:
        low, high = se
        sds = rng.uniform(low, high, n)
    out = table[[c for c in ("person", "skill", "wave") if c in table.columns]].copy()
    true = table["true_score"].to_numpy(float)
    out["score"] = true + rng.normal(0, 1, n) * sds
    out["se"] = sds
    out["estimator"] = "truth"
    out["true_score"] = true
    return out.reset_index(drop=True)
