"""Optimal mentor matching across the whole organisation.

A *need* is one person's focus skill with a target level. A colleague can mentor that need when
their calibrated score is **confidently** above the target: the one-sided lower bound
``score - z * se`` (``z = Phi^-1(confidence)``, 80 % by default) exceeds the target. Each mentor
takes at most ``capacity`` mentees (2 by default, across all skills).

The pairing is a min-cost assignment, solved exactly, not greedily::

    minimise  sum_{matched (i, j)} cost[i, j]  +  sum_{unmatched i} unmatched_cost[i]

    cost[i, j] = base + other_family * [family differs] + same_team * [same team]
                 + other_location * [location differs] - margin_reward * min(margin, margin_cap)

where ``margin`` is the mentor's lower bound minus the target. The unmatched cost of a need is
above any match cost (so every need that can be matched is) plus its normalised priority (so
scarce mentors go to the most pressing needs). Capacity becomes ``capacity`` copies ("slots")
of each mentor's column; the sparse bipartite graph is solved with
:func:`scipy.sparse.csgraph.min_weight_full_bipartite_matching` (LAPJVsp), one connected
component at a time, oriented so that the smaller side is the one fully matched.

An organisation that fits in one block (``block_size``, 1000 people by default) is solved
with every eligible mentor as a candidate: the assignment is then exactly optimal
(``MentorMatching.exact``). Larger organisations stay tractable by

* pruning: each need keeps ``candidates`` (16) mentors, a third from each of three tiers (same
  family and location, same family, anyone), half of each tier the *tightest fits* (the lowest
  lower bounds above the target: mentors that needs with higher targets cannot use) and half
  drawn at random (``random_state``);
* blocks: people are dealt round-robin (ordered by family, location and team, so each block is
  a representative sample) into blocks solved exactly one by one; a second round then solves
  the needs still open against every mentor with capacity left, across blocks.

Each round is an exact min-cost assignment; the whole is not guaranteed optimal (measured 9 %
above the optimum on 300 people cut into blocks of 100; tests/plans/test_mentors.py).

Examples
--------
>>> import pandas as pd
>>> scores = pd.DataFrame({"ratee": ["a", "b", "c"], "skill": "Delegation",
...                        "score": [2.0, 4.6, 4.4], "se": 0.2})
>>> people = pd.DataFrame({"person": ["a", "b", "c"], "role": "Team Lead",
...                        "team": ["T1", "T1", "T2"]})
>>> needs = pd.DataFrame({"person": ["a"], "skill": ["Delegation"], "target_level": [3.5]})
>>> match_mentors(needs, scores, people).matches[["person", "mentor"]].to_dict("records")
[{'person': 'a', 'mentor': 'c'}]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components, min_weight_full_bipartite_matching
from scipy.stats import norm

from workbench.checks import check_integer, check_interval, check_random_state
from workbench.errors import ConfigError, InputError, ModelError
from workbench.results import Result
from workbench.tables.scores import as_scores

__all__ = [
    "DEFAULT_MENTOR_COSTS",
    "MentorMatching",
    "match_mentors",
    "solve_capacitated_assignment",
]

DEFAULT_MENTOR_COSTS = {
    "base": 1.0,
    "other_family": 1.0,
    "same_team": 2.0,
    "other_location": 0.25,
    "margin_reward": 0.5,
    "margin_cap": 1.0,
}


@dataclass(frozen=True)
class MentorMatching(Result):
    """Result of :func:`match_mentors`.

    Attributes
    ----------
    matches : DataFrame
        person, skill, target_level, mentor, mentor_score, mentor_lower, cost, same_team,
        same_family, same_location: one row per matched need.
    unmatched : DataFrame
        person, skill, target_level, n_eligible, reason: needs left without a mentor.
    total_cost : float
        Objective value: match costs plus unmatched costs.
    exact : bool
        True when no eligible mentor was pruned from any candidate list (the assignment is then
        optimal for the full problem, not only for the pruned graph).
    n_edges : int
        Candidate (need, mentor) pairs in the solved graph.
    load : DataFrame
        mentor, n_mentees.
    settings : dict
        capacity, confidence, candidates, block_size, costs.
    """

    title = "Mentor matching"

    matches: pd.DataFrame
    unmatched: pd.DataFrame
    total_cost: float
    exact: bool
    n_edges: int
    load: pd.DataFrame = field(default_factory=pd.DataFrame)
    settings: dict = field(default_factory=dict)

    def _sections(self):
        n = len(self.matches) + len(self.unmatched)
        return [("", f"{len(self.matches)} of {n} needs matched, {len(self.unmatched)} "
                     f"unmatched; total cost {self.total_cost:.3f}; "
                     f"{'exact' if self.exact else 'optimal on pruned candidate lists'}"),
                ("Needs without a mentor", self.unmatched)]

    def _files(self):
        return {"mentors.csv": self.matches, "unmatched_needs.csv": self.unmatched}


def solve_capacitated_assignment(need, mentor, cost, capacity, unmatched_cost):
    """Min-cost assignment of needs to mentors with capacities (exact).

    Parameters
    ----------
    need, mentor : array of int
        Edge end points: need index (0..n_needs-1) and mentor index (0..n_mentors-1).
    cost : array of float
        Cost of each edge.
    capacity : array of int
        Capacity of each mentor (length n_mentors).
    unmatched_cost : array of float
        Cost of leaving each need unmatched (length n_needs).

    Returns
    -------
    assigned : ndarray of int
        For each need, the mentor index, or -1 when left unmatched.

    Notes
    -----
    Each mentor becomes ``capacity`` slot columns; a need's private dummy column carries its
    unmatched cost. When mentor slots are fewer than needs the problem is transposed (slots as
    rows, each with an "empty" dummy), with edge weight ``cost - unmatched_cost + K`` so that
    both formulations have the same optimum. Connected components are solved separately.

    Examples
    --------
    >>> solve_capacitated_assignment([0, 0, 1], [0, 1, 0], [1.0, 2.0, 1.5], [1, 1], [9.0, 9.0])
    array([1, 0])
    """
    need = np.asarray(need, dtype=np.int64)
    mentor = np.asarray(mentor, dtype=np.int64)
    cost = np.asarray(cost, dtype=float)
    capacity = np.asarray(capacity, dtype=np.int64)
    unmatched_cost = np.asarray(unmatched_cost, dtype=float)
    n_needs, n_mentors = len(unmatched_cost), len(capacity)
    if not (len(need) == len(mentor) == len(cost)):
        raise ConfigError("need, mentor and cost must have the same length")
    if not np.all(np.isfinite(cost)) or not np.all(np.isfinite(unmatched_cost)):
        raise ConfigError("costs must be finite numbers")
    assigned = np.full(n_needs, -1, dtype=np.int64)
    keep = capacity[mentor] > 0 if len(mentor) else np.zeros(0, bool)
    need, mentor, cost = need[keep], mentor[keep], cost[keep]
    if len(need) == 0:
        return assigned
    graph = sparse.coo_matrix(
        (np.ones(len(need)), (need, n_needs + mentor)), shape=(n_needs + n_mentors,) * 2
    )
    _, label = connected_components(graph, directed=False)
    order = np.argsort(label[need], kind="stable")
    bounds = np.flatnonzero(np.diff(label[need][order])) + 1
    for part in np.split(order, bounds):
        _solve_component(need[part], mentor[part], cost[part], capacity, unmatched_cost, assigned)
    return assigned


def _solve_component(need, mentor, cost, capacity, unmatched_cost, assigned):
    needs, need_local = np.unique(need, return_inverse=True)
    mentors, mentor_local = np.unique(mentor, return_inverse=True)
    cap = capacity[mentors]
    slot_start = np.concatenate([[0], np.cumsum(cap)[:-1]])
    n_slots = int(cap.sum())
    # One edge per (need, slot of its mentor); a tiny per-slot increment makes ties
    # deterministic without changing which solution is optimal beyond 1e-9 per slot.
    reps = cap[mentor_local]
    e_need = np.repeat(need_local, reps)
    e_slot = np.repeat(slot_start[mentor_local], reps) + _ranges(reps)
    e_cost = np.repeat(cost, reps) + 1e-9 * (_ranges(reps))
    u = unmatched_cost[needs]
    n = len(needs)
    span = max(float(np.max(np.abs(e_cost))), float(np.max(np.abs(u)))) + 1.0
    if n <= n_slots:
        rows = np.concatenate([e_need, np.arange(n)])
        cols = np.concatenate([e_slot, n_slots + np.arange(n)])
        weights = np.concatenate([e_cost, u]) + span  # strictly positive: zeros mean "no edge"
        matrix = sparse.csr_matrix((weights, (rows, cols)), shape=(n, n_slots + n))
        row_ind, col_ind = _matching(matrix)
        taken = col_ind < n_slots
        slot_of_need = np.full(n, -1)
        slot_of_need[row_ind[taken]] = col_ind[taken]
    else:
        big = 3.0 * span
        rows = np.concatenate([e_slot, np.arange(n_slots)])
        cols = np.concatenate([e_need, n + np.arange(n_slots)])
        weights = np.concatenate([e_cost - u[e_need] + big, np.full(n_slots, big)])
        matrix = sparse.csr_matrix((weights, (rows, cols)), shape=(n_slots, n + n_slots))
        row_ind, col_ind = _matching(matrix)
        taken = col_ind < n
        slot_of_need = np.full(n, -1)
        slot_of_need[col_ind[taken]] = row_ind[taken]
    slot_mentor = np.repeat(np.arange(len(mentors)), cap)
    ok = slot_of_need >= 0
    assigned[needs[ok]] = mentors[slot_mentor[slot_of_need[ok]]]


def _ranges(counts):
    """[0..c0-1, 0..c1-1, ...] for an array of counts."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total) - starts


def _matching(matrix):
    try:
        return min_weight_full_bipartite_matching(matrix)
    except ValueError as exc:  # cannot happen with dummy columns; keep the message clean
        raise ModelError(f"mentor assignment could not be solved: {exc}") from None


def _lookup(frame, key, column, default):
    if frame is None or column not in frame:
        return pd.Series(default, index=key.index, dtype=object)
    mapping = frame.drop_duplicates("person").set_index("person")[column]
    return key.map(mapping)


def _check_costs(costs):
    merged = dict(DEFAULT_MENTOR_COSTS)
    for name, value in (costs or {}).items():
        if name not in DEFAULT_MENTOR_COSTS:
            raise ConfigError(
                f"mentor_costs: unknown key {name!r}; expected {sorted(DEFAULT_MENTOR_COSTS)}"
            )
        try:
            merged[name] = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"mentor_costs[{name!r}] must be a number, got {value!r}") from None
    return merged


def _candidates(needs, pool, keys, m, rng):
    """Candidate (need row, pool row) pairs: every eligible mentor when few, else a sample.

    ``keys`` is a list of (need_key, pool_key) integer code arrays; within each key group the
    pool is sorted by lower bound, so the eligible mentors (lower > target) are a suffix.
    """
    pairs_need, pairs_pool = [], []
    target = needs["target_level"].to_numpy(float)
    lower = pool["lower"].to_numpy(float)
    n_eligible = None
    for need_key, pool_key in keys:
        # one sorted array of key * 1000 + (lower + 100): within a key the eligible mentors
        # (lower > target) are the suffix found by a single vectorised searchsorted
        order = np.lexsort((lower, pool_key))
        comp = pool_key[order] * 1000.0 + (np.clip(lower[order], -99, 99) + 100.0)
        start = np.searchsorted(comp, need_key * 1000.0 + (np.clip(target, -99, 99) + 100.0),
                                side="right")
        group_end = np.searchsorted(comp, need_key * 1000.0 + 999.0, side="right")
        count = group_end - start
        if n_eligible is None:
            n_eligible = count
        take_all = count <= m
        k = np.where(take_all, count, m)
        rows = np.repeat(np.arange(len(needs)), k)
        offsets = _ranges(k)
        # half the sample are the tightest fits (lowest lower bound above the target: mentors
        # that needs with higher targets cannot use), half are drawn at random
        rand = np.floor(rng.random(len(rows)) * np.repeat(count, k)).astype(np.int64)
        tight = offsets < (m + 1) // 2
        offsets = np.where(np.repeat(take_all, k) | tight, offsets, rand)
        pairs_need.append(rows)
        pairs_pool.append(order[np.repeat(start, k) + offsets])
    return np.concatenate(pairs_need), np.concatenate(pairs_pool), n_eligible


def match_mentors(
    needs,
    scores,
    people,
    *,
    capacity=2,
    confidence=0.8,
    candidates=None,
    costs=None,
    role_families=None,
    block_size=1000,
    random_state=None,
    load=None,
):
    """Assign mentors to development needs optimally (min-cost, capacity-constrained).

    Parameters
    ----------
    needs : DataFrame
        person, skill, target_level and optionally priority (higher = more pressing).
    scores : DataFrame
        Calibrated scores: ratee (or person), skill, score, se.
    people : DataFrame
        person, role, team and optionally location.
    capacity : int
        Mentees per mentor, across all skills.
    confidence : float
        Level of the one-sided lower bound that must exceed the target (0.5 to 0.999).
    candidates : int or None
        Candidate mentors kept per need (pruning for large organisations). None: every
        eligible mentor when the organisation fits in one block (the assignment is then exact),
        16 otherwise.
    costs : dict, optional
        Overrides of :data:`DEFAULT_MENTOR_COSTS`.
    role_families : dict, optional
        role -> family; a role not listed is its own family.
    block_size : int or None
        Organisations larger than this are cut into blocks of about this many people (ordered by
        role family, location and team, so that the cheapest pairs stay together); mentees are
        matched with mentors of their own block, each block solved exactly. None: one block.
    random_state : int or Generator, optional
        Seeds the sampling of candidates when a need has more eligible mentors than kept
        (default :data:`workbench.checks.DEFAULT_SEED`).
    load : Series, optional
        Mentees each mentor already has (mentor id -> count), e.g. from an earlier round;
        their capacity is reduced by it.

    Returns
    -------
    MentorMatching

    Examples
    --------
    >>> import pandas as pd
    >>> scores = pd.DataFrame({"ratee": ["a", "b"], "skill": "Coaching",
    ...                        "score": [2.0, 4.5], "se": 0.1})
    >>> people = pd.DataFrame({"person": ["a", "b"], "role": "Lead", "team": ["T1", "T2"]})
    >>> needs = pd.DataFrame({"person": ["a"], "skill": ["Coaching"], "target_level": [4.0]})
    >>> match_mentors(needs, scores, people).matches["mentor"].tolist()
    ['b']
    """
    capacity = check_integer("mentor capacity", capacity, low=0)
    confidence = check_interval("mentor confidence", confidence, low=0.5, high=1,
                                inclusive="left")
    if candidates is not None:
        candidates = check_integer("mentor candidates", candidates, low=1)
    if block_size is not None:
        block_size = check_integer("block_size", block_size, low=2)
    w = _check_costs(costs)
    settings = {"capacity": capacity, "confidence": confidence, "candidates": candidates,
                "block_size": block_size, "costs": w}
    families = dict(role_families or {})
    scores = as_scores(scores)
    for col in ("person", "skill", "target_level"):
        if col not in needs:
            raise InputError(f"needs: column '{col}' is missing")
    needs = needs.reset_index(drop=True).copy()
    if "priority" not in needs:
        needs["priority"] = 0.0
    rng = check_random_state(random_state)
    z = norm.ppf(float(confidence))

    pool = scores.dropna(subset=["score", "se"]).copy()
    pool["lower"] = pool["score"] - z * pool["se"]
    people = people.drop_duplicates("person")
    info = people.set_index("person")
    role = info["role"] if "role" in info else pd.Series(dtype=object)
    fam_map = role.map(lambda r: families.get(r, r))
    for frame, col in ((pool, "person"), (needs, "person")):
        frame["family"] = frame[col].map(fam_map).fillna("?")
        frame["team"] = frame[col].map(info["team"]).fillna("?") if "team" in info else "?"
        has_loc = "location" in info
        frame["location"] = frame[col].map(info["location"]).fillna("?") if has_loc else "?"
    pool = pool[pool["person"].isin(info.index)].reset_index(drop=True)
    for col in ("person", "family", "team", "location"):
        both = pd.concat([needs[col], pool[col]], ignore_index=True).astype(str)
        codes = pd.factorize(both)[0]
        needs[col + "_c"] = codes[: len(needs)]
        pool[col + "_c"] = codes[len(needs):]

    empty_matches = pd.DataFrame(
        columns=["person", "skill", "target_level", "mentor", "mentor_score", "mentor_lower",
                 "cost", "same_team", "same_family", "same_location"]
    )
    if len(needs) == 0 or len(pool) == 0 or capacity == 0:
        unmatched = needs[["person", "skill", "target_level"]].copy()
        unmatched["n_eligible"] = 0
        unmatched["reason"] = "no colleague is confidently above the target in this skill"
        total = float(len(needs)) * _unmatched_base(w)
        return MentorMatching(empty_matches, unmatched, total, True, 0, settings=settings)

    n_blocks = 1
    if block_size is not None:
        n_blocks = int(np.ceil(len(info) / block_size))
    block = _blocks(info, fam_map, n_blocks)
    needs["block"] = needs["person"].map(block).fillna(-1).astype(int)
    pool["block"] = pool["person"].map(block).astype(int)
    prio = np.nan_to_num(needs["priority"].to_numpy(float), nan=0.0)
    spread = prio.max() - prio.min() if len(prio) else 0.0
    prio_norm = (prio - prio.min()) / spread if spread > 0 else np.zeros_like(prio)
    unmatched_cost = _unmatched_base(w) + prio_norm
    n_eligible = _eligible_counts(needs, pool)
    every = candidates is None and n_blocks == 1
    if candidates is None:
        candidates = max(int(n_eligible.max()), 1) if every and len(n_eligible) else 16
    # each of the three tiers contributes a third of the candidates, or all of them when every
    # eligible mentor is wanted
    per_tier = candidates if every else max(1, -(-candidates // 3))
    exact = bool(np.all(n_eligible <= per_tier)) and n_blocks == 1

    # Round 1 solves each block exactly; with several blocks, round 2 solves the needs still
    # open against every mentor with capacity left, across blocks.
    cap_left = np.full(int(pool["person_c"].max()) + 1 if len(pool) else 0, capacity)
    if load is not None and len(load):
        # mentees taken in an earlier round use up capacity
        codes = pool.drop_duplicates("person").set_index("person")["person_c"]
        taken = pd.Series(load).reindex(codes.index).fillna(0).to_numpy(int)
        cap_left[codes.to_numpy()] = np.maximum(capacity - taken, 0)
    chosen = np.full(len(needs), -1, dtype=np.int64)
    chosen_cost = np.full(len(needs), np.nan)
    n_edges = 0
    for blocked in ([True, False] if n_blocks > 1 else [False]):
        todo = np.flatnonzero((chosen < 0) & (n_eligible > 0))
        free = cap_left[pool["person_c"].to_numpy()] > 0
        if len(todo) == 0 or not free.any():
            break
        sub_needs = needs.iloc[todo].reset_index(drop=True)
        sub_pool = pool[free].reset_index().rename(columns={"index": "_row"})
        if not blocked:
            sub_needs["block"] = 0
            sub_pool["block"] = 0
        need_rows, pool_rows, _ = _candidates(sub_needs, sub_pool, _codes(sub_needs, sub_pool),
                                              per_tier, rng)
        ni, pj, cost = _edges(sub_needs, sub_pool, need_rows, pool_rows, candidates, w)
        n_edges += len(ni)
        mentor_ids, mentor_idx = np.unique(sub_pool["person_c"].to_numpy()[pj],
                                           return_inverse=True)
        assigned = solve_capacitated_assignment(
            ni, mentor_idx, cost, cap_left[mentor_ids], unmatched_cost[todo],
        )
        hit = assigned[ni] == mentor_idx
        chosen[todo[ni[hit]]] = sub_pool["_row"].to_numpy()[pj[hit]]
        chosen_cost[todo[ni[hit]]] = cost[hit]
        np.subtract.at(cap_left, mentor_ids[mentor_idx[hit]], 1)
    matches, unmatched = _results(needs, pool, chosen, chosen_cost, n_eligible)
    total = float(np.nansum(chosen_cost) + unmatched_cost[chosen < 0].sum())
    load = matches.groupby("mentor").size().rename("n_mentees").reset_index()
    return MentorMatching(matches, unmatched, total, exact, int(n_edges), load, settings)


def _edges(needs, pool, need_rows, pool_rows, m, w):
    """Unique candidate pairs without self-pairs, the ``m`` cheapest per need, with costs."""
    n_pool = max(len(pool), 1)
    key = np.sort(need_rows.astype(np.int64) * n_pool + pool_rows)
    key = key[np.r_[True, key[1:] != key[:-1]]] if len(key) else key
    ni, pj = key // n_pool, key % n_pool
    keep = needs["person_c"].to_numpy()[ni] != pool["person_c"].to_numpy()[pj]
    ni, pj = ni[keep], pj[keep]
    cost = _pair_cost(needs, pool, ni, pj, w)
    order = np.lexsort((cost, ni))
    ni, pj, cost = ni[order], pj[order], cost[order]
    first = np.r_[0, np.flatnonzero(np.diff(ni)) + 1]
    rank = np.arange(len(ni)) - np.repeat(first, np.diff(np.r_[first, len(ni)]))
    keep = rank < m
    return ni[keep], pj[keep], cost[keep]


def _unmatched_base(w):
    # Above the dearest possible match, so a need that can be matched always is.
    return w["base"] + w["other_family"] + w["same_team"] + w["other_location"] + 1.0


def _blocks(info, fam_map, n_blocks):
    """Block of each person: consecutive people ordered by family, location, team."""
    order = pd.DataFrame({
        "family": fam_map.reindex(info.index).astype(str).to_numpy(),
        "location": info["location"].astype(str).to_numpy() if "location" in info else "",
        "team": info["team"].astype(str).to_numpy() if "team" in info else "",
        "who": info.index.astype(str),
    }, index=info.index).sort_values(["family", "location", "team", "who"])
    rank = np.arange(len(order))
    return pd.Series(rank % n_blocks, index=order.index)


def _codes(needs, pool):
    """Integer group keys (block, skill[, family[, location]]) for needs and pool."""
    keys = []
    def code(col):
        both = pd.concat([needs[col], pool[col]], ignore_index=True).astype(str)
        c = pd.factorize(both)[0].astype(np.int64)
        return c, int(c.max()) + 1 if len(c) else 1
    block, nb = code("block")
    skill, ns = code("skill")
    fam, nf = code("family")
    loc, nl = code("location")
    k1 = block * ns + skill
    k2 = k1 * nf + fam
    k3 = k2 * nl + loc
    n = len(needs)
    # the whole-skill key first: its eligible counts tell whether pruning dropped anyone
    for k in (k1, k2, k3):
        keys.append((k[:n], k[n:]))
    return keys


def _pair_cost(needs, pool, ni, pj, w):
    same_team = needs["team_c"].to_numpy()[ni] == pool["team_c"].to_numpy()[pj]
    same_family = needs["family_c"].to_numpy()[ni] == pool["family_c"].to_numpy()[pj]
    same_loc = needs["location_c"].to_numpy()[ni] == pool["location_c"].to_numpy()[pj]
    margin = pool["lower"].to_numpy()[pj] - needs["target_level"].to_numpy(float)[ni]
    return (
        w["base"]
        + w["other_family"] * ~same_family
        + w["same_team"] * same_team
        + w["other_location"] * ~same_loc
        - w["margin_reward"] * np.minimum(margin, w["margin_cap"])
    )


def _results(needs, pool, chosen, chosen_cost, n_eligible):
    ni = np.flatnonzero(chosen >= 0)
    pj = chosen[ni]
    matches = pd.DataFrame({
        "person": needs["person"].to_numpy()[ni],
        "skill": needs["skill"].to_numpy()[ni],
        "target_level": needs["target_level"].to_numpy(float)[ni],
        "mentor": pool["person"].to_numpy()[pj],
        "mentor_score": pool["score"].to_numpy(float)[pj],
        "mentor_lower": pool["lower"].to_numpy(float)[pj],
        "cost": chosen_cost[ni],
        "same_team": needs["team"].to_numpy()[ni] == pool["team"].to_numpy()[pj],
        "same_family": needs["family"].to_numpy()[ni] == pool["family"].to_numpy()[pj],
        "same_location": needs["location"].to_numpy()[ni] == pool["location"].to_numpy()[pj],
    })
    left = np.flatnonzero(chosen < 0)
    unmatched = needs.loc[left, ["person", "skill", "target_level"]].reset_index(drop=True)
    unmatched["n_eligible"] = n_eligible[left]
    unmatched["reason"] = np.where(
        n_eligible[left] == 0,
        "no colleague is confidently above the target in this skill",
        "every eligible mentor is already at capacity",
    )
    return matches.sort_values(["person", "skill"]).reset_index(drop=True), unmatched


def _eligible_counts(needs, pool):
    """How many colleagues are confidently above each need's target in its skill."""
    counts = np.zeros(len(needs), dtype=np.int64)
    by_skill = {k: np.sort(v.to_numpy(float)) for k, v in pool.groupby("skill")["lower"]}
    target = needs["target_level"].to_numpy(float)
    for skill, rows in needs.groupby("skill").indices.items():
        lows = by_skill.get(skill)
        if lows is None:
            continue
        counts[rows] = len(lows) - np.searchsorted(lows, target[rows], side="right")
    # a person is never their own mentor: drop them if counted (they cannot be above their
    # own target when they have a gap, but a stretch target may be below a high lower bound)
    own = needs[["person", "skill"]].merge(pool[["person", "skill", "lower"]], how="left")
    counts -= (own["lower"].to_numpy(float) > target).astype(np.int64)
    return counts
