"""Bench strength per role, and internal mobility: who could fill an open role.

**Bench.** Among the people with a role on their path (its candidates), the number truly
ready is a sum of independent Bernoulli(``p_i``) draws (each person's readiness probability;
people's score errors are treated as independent, which ignores the small error shared
through common raters' leniency estimates). Its distribution is Poisson-binomial: the expected
count is ``sum p_i`` and the interval holds the ``alpha/2`` and ``1 - alpha/2`` quantiles of
the exact distribution (computed by convolution up to 4,000 candidates; beyond, the normal
approximation with mean ``sum p`` and variance ``sum p (1 - p)``, rounded outwards). The same
for readiness by the plans' horizon. A role has *no ready successor* when nobody is in the
``ready_now`` band; its bench *depends on one person* when exactly one is; and a person who is
the only ready successor of several roles carries several moves at once
(:func:`single_successors`, analyst only: it names people).

**Mobility.** :func:`rank_candidates` ranks everyone assessed for an open role by their
readiness probability. Probabilities within ``tie_margin`` of the one above are a tie (the
same ``rank``): a difference of a few points is within what the scores' errors and the
model's assumptions can tell apart.

Examples
--------
>>> poisson_binomial_interval([0.5, 0.5])
(0, 2)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from workbench.checks import check_alpha, check_interval
from workbench.errors import ConfigError

__all__ = ["poisson_binomial_interval", "bench_strength", "single_successors",
           "rank_candidates", "band_distribution", "weakest_bench"]

_EXACT_MAX = 4000


def poisson_binomial_interval(p, *, alpha=0.05) -> tuple[int, int]:
    """Central ``1 - alpha`` interval of a sum of independent Bernoulli(p_i) draws.

    Returns
    -------
    (low, high)
        The largest ``low`` with ``P(S < low) <= alpha/2`` and the smallest ``high`` with
        ``P(S > high) <= alpha/2``.

    Examples
    --------
    >>> poisson_binomial_interval([0.9] * 10)
    (7, 10)
    """
    alpha = check_alpha(alpha)
    p = np.asarray(p, dtype=float)
    p = p[np.isfinite(p)]
    if len(p) == 0:
        return 0, 0
    if len(p) > _EXACT_MAX:
        mean, sd = p.sum(), np.sqrt((p * (1 - p)).sum())
        z = norm.ppf(1 - alpha / 2)
        return (int(max(0, np.floor(mean - z * sd - 0.5))),
                int(min(len(p), np.ceil(mean + z * sd + 0.5))))
    pmf = np.zeros(len(p) + 1)
    pmf[0] = 1.0
    for k, q in enumerate(p, start=1):
        pmf[1:k + 1] = pmf[1:k + 1] * (1 - q) + pmf[:k] * q
        pmf[0] *= 1 - q
    cdf = np.cumsum(pmf)
    low = int(np.searchsorted(cdf, alpha / 2 + 1e-12, side="left"))
    high = int(np.searchsorted(cdf, 1 - alpha / 2 - 1e-12, side="left"))
    return low, min(high, len(p))


def _on_path(readiness):
    return readiness[readiness["band"] != "not_on_path"]


def bench_strength(readiness, *, alpha=0.05) -> pd.DataFrame:
    """Expected ready-now and ready-by-the-horizon counts per role, with intervals.

    Parameters
    ----------
    readiness : DataFrame
        From :func:`workbench.progression.readiness.readiness_table` (role, p_ready,
        p_ready_horizon, band).

    Returns
    -------
    DataFrame
        role, measure ("ready_now" or "ready_by_horizon"), estimate (expected count), ci_low,
        ci_high (Poisson-binomial interval), n (candidates assessed), in_band (people whose
        band says so: ready now; ready now or within the horizon), no_ready_successor,
        depends_on_one_person (ready_now rows; exactly one person in the ready_now band).
        Role-level: no person is named.
    """
    alpha = check_alpha(alpha)
    rows = []
    frame = _on_path(readiness)
    frame = frame[frame["band"] != "not_assessed"]
    for role, group in frame.groupby("role", sort=True):
        ready = int((group["band"] == "ready_now").sum())
        soon = int(group["band"].isin(["ready_now", "ready_in_horizon"]).sum())
        for measure, column, in_band in (("ready_now", "p_ready", ready),
                                         ("ready_by_horizon", "p_ready_horizon", soon)):
            p = group[column].to_numpy(float)
            if measure == "ready_by_horizon" and not np.isfinite(p).any():
                continue
            low, high = poisson_binomial_interval(p, alpha=alpha)
            rows.append({"role": role, "measure": measure, "estimate": float(np.nansum(p)),
                         "ci_low": low, "ci_high": high, "n": int(np.isfinite(p).sum()),
                         "in_band": in_band, "no_ready_successor": ready == 0,
                         "depends_on_one_person": ready == 1})
    return pd.DataFrame(rows, columns=["role", "measure", "estimate", "ci_low", "ci_high", "n",
                                       "in_band", "no_ready_successor",
                                       "depends_on_one_person"])


def single_successors(readiness) -> pd.DataFrame:
    """People who are the only ready-now successor of a role, and how many moves hang on them.

    Analyst only: it names people.

    Returns
    -------
    DataFrame
        person, n_roles (roles whose ready-now bench is this person alone), roles (joined by
        "; ").
    """
    ready = _on_path(readiness)
    ready = ready[ready["band"] == "ready_now"]
    counts = ready.groupby("role")["person"].transform("size")
    alone = ready[counts == 1]
    out = alone.groupby("person", sort=True)["role"].agg(
        n_roles="size", roles=lambda r: "; ".join(sorted(map(str, r)))).reset_index()
    return out.sort_values(["n_roles", "person"], ascending=[False, True],
                           kind="stable").reset_index(drop=True)


def band_distribution(readiness) -> pd.DataFrame:
    """How many people of each role's path fall in each band (role-level, no names).

    Returns
    -------
    DataFrame
        role, then one column per band in :data:`~workbench.progression.readiness.BANDS`
        order, and n.
    """
    from workbench.progression.readiness import BANDS

    table = pd.crosstab(readiness["role"], readiness["band"])
    table = table.reindex(columns=[b for b in BANDS if b in table.columns or b in (
        "ready_now", "ready_in_horizon", "ready_later")], fill_value=0)
    table["n"] = table.sum(axis=1)
    table.columns.name = None
    return table.reset_index()


def rank_candidates(readiness, role, *, tie_margin=0.05) -> pd.DataFrame:
    """Candidates for an open role, by readiness probability, with ties marked.

    Parameters
    ----------
    readiness : DataFrame
        A readiness table that assessed ``role`` (``readiness_table(..., roles=[role])``).
    role : str
        The open role.
    tie_margin : float
        Probabilities closer than this to the previous candidate's share its rank.

    Returns
    -------
    DataFrame
        rank (ties share it), person, current_role, relation, p_ready, p_ready_horizon,
        n_below, weighted_gap, band, tie (shares its rank with another candidate).

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"person": ["a", "b", "c"], "current_role": "X", "role": "R",
    ...                   "relation": "next", "p_ready": [0.80, 0.78, 0.4],
    ...                   "p_ready_horizon": float("nan"), "n_below": 0, "weighted_gap": 0.0,
    ...                   "band": "ready_now"})
    >>> rank_candidates(r, "R")[["rank", "person", "tie"]].to_dict("records")
    [{'rank': 1, 'person': 'a', 'tie': True}, {'rank': 1, 'person': 'b', 'tie': True}, {'rank': 3, 'person': 'c', 'tie': False}]
    """
    tie_margin = check_interval("tie_margin", tie_margin, low=0, high=1)
    group = readiness[(readiness["role"] == role) & readiness["p_ready"].notna()]
    if group.empty:
        raise ConfigError(f"role={role!r}: nobody was assessed for this role; assess it with "
                          "readiness_table(..., roles=[role])")
    group = group.sort_values(["p_ready", "person"], ascending=[False, True], kind="stable")
    p = group["p_ready"].to_numpy(float)
    new_rank = np.r_[True, (p[:-1] - p[1:]) > tie_margin]
    position = np.arange(1, len(p) + 1)
    rank = np.maximum.accumulate(np.where(new_rank, position, 0))
    counts = pd.Series(rank).map(pd.Series(rank).value_counts()).to_numpy()
    out = group.assign(rank=rank, tie=counts > 1)
    return out[["rank", "person", "current_role", "relation", "p_ready", "p_ready_horizon",
                "n_below", "weighted_gap", "band", "tie"]].reset_index(drop=True)


def weakest_bench(bench) -> str | None:
    """The role with the weakest bench: the fewest people expected ready now (ties: the fewest
    expected by the horizon, then the role's name).

    Examples
    --------
    >>> import pandas as pd
    >>> b = pd.DataFrame({"role": ["A", "B", "A", "B"], "measure": ["ready_now"] * 2
    ...                   + ["ready_by_horizon"] * 2, "estimate": [2.5, 0.4, 3.0, 1.0]})
    >>> weakest_bench(b)
    'B'
    """
    if bench is None or len(bench) == 0:
        return None
    wide = bench.pivot_table(index="role", columns="measure", values="estimate",
                             aggfunc="first")
    order = [c for c in ("ready_now", "ready_by_horizon") if c in wide.columns]
    return str(wide.reset_index().sort_values(order + ["role"], kind="stable")["role"].iloc[0])
