"""Career paths: which role follows which, checked against the framework and the people.

A *paths table* has one row per move: ``role`` -> ``next_role`` (optional ``typical_months``,
the usual time in ``role`` before the move, and ``lateral``, yes when the move is a stated
lateral one). People may carry a ``target_role``. :func:`check_paths` is the one place that
accepts paths and lists every problem at once (file, row, column, value):

* a ``next_role`` or ``target_role`` that is not a role of the framework;
* a role on a path with no requirements in the framework (its readiness would be "ready" by
  default, which no one means);
* a path that cycles (A -> B -> A, or A -> A) unless every move of the cycle is stated
  ``lateral`` (or ``allow_cycles=True``): an unstated cycle is usually a typo in one row;
* a negative ``typical_months``.

:func:`path_destinations` lists, for each person, the roles on their path: the next role(s)
of their current role and their target role (with the number of moves to it and the summed
typical months, found by a breadth-first search over the paths).

Examples
--------
>>> import pandas as pd
>>> fw = pd.DataFrame({"role": ["A", "B"], "skill": "S", "required_level": [3.0, 4.0]})
>>> paths = pd.DataFrame({"role": ["A", "B"], "next_role": ["B", "A"]})
>>> check_paths(paths, fw)
Traceback (most recent call last):
...
workbench.errors.InputError: 2 error(s):
  ERROR   paths, row 2, column 'next_role': the path cycles (A -> B -> A); state the moves as lateral (column 'lateral') if they are meant (value: 'B')
  ERROR   paths, row 3, column 'next_role': the path cycles (B -> A -> B); state the moves as lateral (column 'lateral') if they are meant (value: 'A')
>>> check_paths(paths.iloc[:1], fw)[["role", "next_role"]].to_dict("records")
[{'role': 'A', 'next_role': 'B'}]
"""

from __future__ import annotations

from collections import deque

import numpy as np
import pandas as pd

from workbench.errors import ConfigError, InputError, Problem

__all__ = ["PATH_COLUMNS", "check_paths", "check_target_roles", "path_destinations",
           "framework_requirements"]

#: The columns of a checked paths table.
PATH_COLUMNS = ["role", "next_role", "typical_months", "lateral"]


def _source(frame, default):
    return str(frame.attrs.get("file", default)) if isinstance(frame, pd.DataFrame) else default


def _ids(series):
    values = [None if v is None or (not isinstance(v, str) and pd.isna(v))
              or str(v).strip() == "" else str(v).strip() for v in series]
    return pd.Series(values, index=series.index, dtype=object)


def framework_requirements(framework, *, source="framework") -> pd.DataFrame:
    """role, skill, required_level, weight (1 when absent) from a framework table.

    Raises
    ------
    InputError
        A missing column or a required level that is not a number (row and value named).

    Examples
    --------
    >>> import pandas as pd
    >>> fw = pd.DataFrame({"role": ["A"], "skill": ["S"], "required_level": ["3"]})
    >>> framework_requirements(fw).to_dict("records")
    [{'role': 'A', 'skill': 'S', 'required_level': 3.0, 'weight': 1.0}]
    """
    if not isinstance(framework, pd.DataFrame):
        raise ConfigError(f"framework: expected a DataFrame, got {type(framework).__name__}")
    source = _source(framework, source)
    missing = [c for c in ("role", "skill", "required_level") if c not in framework]
    if missing:
        raise InputError([Problem(source, None, missing[0],
                                  f"missing column(s) {', '.join(missing)}")])
    fw = framework.copy()
    fw["role"], fw["skill"] = _ids(fw["role"]), _ids(fw["skill"])
    level = pd.to_numeric(fw["required_level"], errors="coerce")
    weight = pd.to_numeric(fw["weight"], errors="coerce") if "weight" in fw else pd.Series(
        1.0, index=fw.index)
    problems = [Problem(source, int(i) + 2, "required_level", "not a number",
                        str(fw.at[i, "required_level"])) for i in fw.index[level.isna()]]
    problems += [Problem(source, int(i) + 2, "weight", "weight must be a number >= 0",
                         str(fw.at[i, "weight"]))
                 for i in fw.index[weight.notna() & (weight < 0)]]
    if problems:
        raise InputError(problems)
    fw = fw.assign(required_level=level.astype(float), weight=weight.fillna(1.0).astype(float))
    fw = fw.dropna(subset=["role", "skill"]).drop_duplicates(["role", "skill"])
    return fw[["role", "skill", "required_level", "weight"]].reset_index(drop=True)


def _cycles(edges):
    """The edges (role, next_role) that lie on a cycle of the directed graph."""
    graph = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)

    def reaches(start, goal):
        seen, todo = set(), deque([start])
        while todo:
            node = todo.popleft()
            if node == goal:
                return True
            if node in seen:
                continue
            seen.add(node)
            todo.extend(graph.get(node, ()))
        return False

    return {(a, b) for a, b in edges if reaches(b, a)}


def _cycle_text(a, b, edges):
    """A readable cycle through the move a -> b (shortest way back from b to a)."""
    graph = {}
    for x, y in edges:
        graph.setdefault(x, []).append(y)
    back, todo = {b: None}, deque([b])
    while todo:
        node = todo.popleft()
        if node == a:
            break
        for nxt in sorted(graph.get(node, ())):
            if nxt not in back:
                back[nxt] = node
                todo.append(nxt)
    chain, node = [], a
    while node is not None:
        chain.append(node)
        node = back.get(node)
    return " -> ".join([a, *reversed(chain)]) if a != b else f"{a} -> {a}"


def check_paths(paths, framework, *, allow_cycles=False, source="paths") -> pd.DataFrame:
    """Check a paths table against the framework; return role, next_role, typical_months, lateral.

    Parameters
    ----------
    paths : DataFrame
        role, next_role[, typical_months, lateral] (as :func:`workbench.tables.load_table`
        reads ``paths.csv``; its file name is used in messages).
    framework : DataFrame
        role, skill, required_level[, weight].
    allow_cycles : bool
        Accept cycles without stating each move ``lateral``.
    source : str
        How to name the paths in messages when they do not come from a file.

    Returns
    -------
    DataFrame
        role, next_role, typical_months (NaN when not given), lateral (bool).

    Raises
    ------
    InputError
        Every problem at once (see the module docstring), with file, row, column and value.
    """
    if not isinstance(paths, pd.DataFrame):
        raise ConfigError(f"paths: expected a DataFrame, got {type(paths).__name__}")
    source = _source(paths, source)
    fw = framework_requirements(framework)
    missing = [c for c in ("role", "next_role") if c not in paths]
    if missing:
        raise InputError([Problem(source, None, missing[0],
                                  f"missing column(s) {', '.join(missing)}")])
    frame = paths.copy()
    frame["role"], frame["next_role"] = _ids(frame["role"]), _ids(frame["next_role"])
    months = (pd.to_numeric(frame["typical_months"], errors="coerce")
              if "typical_months" in frame else pd.Series(np.nan, index=frame.index))
    lateral = (frame["lateral"].map(lambda v: str(v).strip().lower() in
                                    ("true", "yes", "y", "1", "1.0"))
               if "lateral" in frame else pd.Series(False, index=frame.index))
    roles = set(fw["role"])
    problems = []
    for i in frame.index:
        row = int(i) + 2
        for column in ("role", "next_role"):
            value = frame.at[i, column]
            if value is None:
                problems.append(Problem(source, row, column, f"'{column}' is empty"))
            elif value not in roles:
                problems.append(Problem(source, row, column,
                                        "role has no requirements in the framework (not among "
                                        "its roles)", value))
        if "typical_months" in frame and pd.notna(frame.at[i, "typical_months"]) and str(
                frame.at[i, "typical_months"]).strip() != "":
            if not np.isfinite(months[i]) or months[i] < 0:
                problems.append(Problem(source, row, "typical_months",
                                        "'typical_months' must be a number >= 0",
                                        str(frame.at[i, "typical_months"])))
    edges = [(a, b) for a, b in zip(frame["role"], frame["next_role"], strict=True)
             if a is not None and b is not None]
    on_cycle = _cycles(edges) if not allow_cycles else set()
    for i in frame.index:
        key = (frame.at[i, "role"], frame.at[i, "next_role"])
        if key in on_cycle and not lateral[i]:
            problems.append(Problem(
                source, int(i) + 2, "next_role",
                f"the path cycles ({_cycle_text(*key, edges)}); state the moves as lateral "
                "(column 'lateral') if they are meant", key[1]))
    dup = frame.duplicated(["role", "next_role"], keep="first")
    for i in frame.index[dup]:
        problems.append(Problem(source, int(i) + 2, "next_role",
                                "(role, next_role): listed on an earlier row",
                                f"{frame.at[i, 'role']} / {frame.at[i, 'next_role']}"))
    if problems:
        raise InputError(problems)
    out = frame.assign(typical_months=months.astype(float), lateral=lateral.astype(bool))
    return out[PATH_COLUMNS].reset_index(drop=True)


def check_target_roles(people, framework, *, source="people") -> pd.DataFrame:
    """person, role, target_role (None when not given) with every unknown role listed.

    Raises
    ------
    InputError
        A ``target_role`` (or a current ``role``) that the framework does not list.
    """
    if not isinstance(people, pd.DataFrame):
        raise ConfigError(f"people: expected a DataFrame, got {type(people).__name__}")
    source = _source(people, source)
    missing = [c for c in ("person", "role") if c not in people]
    if missing:
        raise InputError([Problem(source, None, missing[0],
                                  f"missing column(s) {', '.join(missing)}")])
    roles = set(framework_requirements(framework)["role"])
    frame = people.copy()
    frame["person"], frame["role"] = _ids(frame["person"]), _ids(frame["role"])
    frame["target_role"] = _ids(frame["target_role"]) if "target_role" in frame else None
    target = frame["target_role"]
    bad = target.notna() & ~target.isin(roles)
    problems = [Problem(source, int(i) + 2, "target_role",
                        "target role has no requirements in the framework (not among its "
                        "roles)", target[i]) for i in frame.index[bad]]
    if problems:
        raise InputError(problems)
    return frame[["person", "role", "target_role"]].reset_index(drop=True)


def _routes(paths):
    """{role: {destination: (moves, months)}} by breadth-first search (fewest moves first)."""
    graph = {}
    for row in paths.itertuples(index=False):
        graph.setdefault(row.role, []).append((row.next_role, row.typical_months))
    routes = {}
    for start in graph:
        best, todo = {}, deque([(start, 0, 0.0)])
        while todo:
            node, moves, months = todo.popleft()
            for nxt, m in graph.get(node, ()):
                if nxt == start or nxt in best:
                    continue
                best[nxt] = (moves + 1, months + (m if np.isfinite(m) else np.nan))
                todo.append((nxt, moves + 1, best[nxt][1]))
        routes[start] = best
    return routes


def path_destinations(people, paths, framework) -> pd.DataFrame:
    """The roles on each person's path: their role's next role(s) and their target role.

    Parameters
    ----------
    people : DataFrame
        person, role[, target_role].
    paths : DataFrame
        A paths table (checked by :func:`check_paths`).
    framework : DataFrame
        The framework (roles with their requirements).

    Returns
    -------
    DataFrame
        person, current_role, role (the destination), relation ("next", "target" or
        "next, target"), moves (1 for a next role; the fewest moves to a target, NaN when no
        path leads there), typical_months (summed along the route; NaN when not given).

    Examples
    --------
    >>> import pandas as pd
    >>> fw = pd.DataFrame({"role": ["A", "B", "C"], "skill": "S", "required_level": 3.0})
    >>> paths = pd.DataFrame({"role": ["A", "B"], "next_role": ["B", "C"],
    ...                       "typical_months": [12, 24]})
    >>> people = pd.DataFrame({"person": ["p", "q"], "role": ["A", "A"],
    ...                        "target_role": [None, "C"]})
    >>> path_destinations(people, paths, fw)[["person", "role", "relation", "moves"]]
      person role relation  moves
    0      p    B     next    1.0
    1      q    B     next    1.0
    2      q    C   target    2.0
    """
    checked = check_paths(paths, framework, allow_cycles=True)
    who = check_target_roles(people, framework).rename(columns={"role": "current_role"})
    who = who.assign(order=np.arange(len(who)))
    nexts = who[["order", "person", "current_role"]].merge(
        checked[["role", "next_role", "typical_months"]].rename(
            columns={"role": "current_role", "next_role": "role"}), on="current_role")
    nexts = nexts.assign(relation="next", moves=1.0)
    routes = _routes(checked)
    targets = who[who["target_role"].notna() & (who["target_role"] != who["current_role"])]
    pairs = {(a, b): routes.get(a, {}).get(b, (np.nan, np.nan))
             for a, b in set(zip(targets["current_role"], targets["target_role"], strict=True))}
    found = [pairs[k] for k in zip(targets["current_role"], targets["target_role"],
                                   strict=True)]
    targets = targets.assign(role=targets["target_role"], relation="target",
                             moves=[float(f[0]) for f in found],
                             typical_months=[f[1] for f in found])
    both = nexts.merge(targets[["order", "role"]], on=["order", "role"], how="left",
                       indicator=True)["_merge"].eq("both").to_numpy()
    nexts.loc[both, "relation"] = "next, target"
    hit = targets.merge(nexts[["order", "role"]], on=["order", "role"], how="left",
                        indicator=True)["_merge"].eq("both").to_numpy()
    out = pd.concat([nexts, targets[~hit]], ignore_index=True)
    out["rank"] = np.where(out["relation"] == "target", 1, 0)
    out = out.sort_values(["order", "rank"], kind="stable")
    return out[["person", "current_role", "role", "relation", "moves",
                "typical_months"]].reset_index(drop=True)
