"""The plans' configuration: defaults, the one check of every value, and the rules.

A plans configuration is a mapping (the ``plans`` section of an engagement file, or a dict);
:func:`check_config` merges it over :data:`DEFAULT_CONFIG`, checks every value through
:mod:`workbench.checks` and returns the checked copy. Rules shift the mix of activities for
groups of people (``{"when": {"persona": "Newcomer"}, "prefer_kinds": ["course"]}``).

Examples
--------
>>> check_config({"n_focus": 3})["n_focus"]
3
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

import numpy as np

from workbench.checks import check_alpha, check_choice, check_integer, check_interval
from workbench.errors import ConfigError
from workbench.plans.confidentiality import EXEMPT_SOURCES
from workbench.tables.data import ACTIVITY_KINDS, GAP_TYPES

__all__ = [
    "DEFAULT_CONFIG",
    "PRIORITY_FORMULAS",
    "KNOWLEDGE_KINDS",
    "BEHAVIOUR_KINDS",
    "RULE_KEYS",
    "check_config",
    "check_rules",
]

KNOWLEDGE_KINDS = ["course", "reading", "case_study", "mentoring"]
BEHAVIOUR_KINDS = ["role_play", "coaching", "stretch_assignment", "observation", "mentoring"]

DEFAULT_CONFIG = {
    "n_focus": 2,
    "gap_probability": 0.7,
    "priority": "weight_x_shortfall",
    "stretch": "next_level",
    "stretch_step": 0.5,
    "next_role": {},
    "hours_per_week": 3.0,
    "weeks": 12,
    "checkin_every": 2,
    "activities_per_skill": 2,
    "kinds_by_gap_type": {"knowledge": KNOWLEDGE_KINDS, "behaviour": BEHAVIOUR_KINDS},
    "rules": [],
    "rule_bonus": 0.05,
    "default_gain": 0.1,
    "default_gain_se": 0.1,
    "alpha": 0.05,
    "mentors": True,
    "mentor_capacity": 2,
    "mentor_confidence": 0.8,
    "mentor_candidates": None,
    "mentor_costs": {},
    "mentor_block_size": 1000,
    "role_families": {},
    "min_raters": 3,
    "exempt_sources": list(EXEMPT_SOURCES),
    "min_cell": 5,
    "wave": "latest",
    "scale_max": None,
    "evidence": "manager and peer re-rating",
    "n_strengths": 3,
}

PRIORITY_FORMULAS = {
    "weight_x_shortfall": lambda f: f["weight"] * f["expected_shortfall"],
    "shortfall": lambda f: f["expected_shortfall"],
    "weight_x_gap": lambda f: f["weight"] * np.maximum(f["gap"], 0.0),
    "weight_x_probability": lambda f: f["weight"] * f["p_below"],
}

RULE_KEYS = ("persona", "level", "role", "team", "location", "skill", "gap_type", "focus_type")


def _named(key):
    return f"plans config: {key}"


def check_config(config=None) -> dict:
    """Merge ``config`` over :data:`DEFAULT_CONFIG` and check every value; return the result.

    Every value is checked through :mod:`workbench.checks`; all problems are reported at once.

    Raises
    ------
    ConfigError
        Naming each bad key and value (unknown keys too).

    Examples
    --------
    >>> check_config({"hours_per_week": 4})["hours_per_week"]
    4.0
    >>> check_config({"n_focus": 4})
    Traceback (most recent call last):
    ...
    workbench.errors.ConfigError: plans config: n_focus=4: must be between 1 and 3 (inclusive)
    """
    if config is None:
        config = {}
    if not isinstance(config, Mapping):
        raise ConfigError(f"plans config must be a mapping, got {type(config).__name__}")
    unknown = sorted(set(config) - set(DEFAULT_CONFIG), key=str)
    if unknown:
        raise ConfigError(
            f"plans config: unknown key(s) {unknown}; known keys: {sorted(DEFAULT_CONFIG)}"
        )
    cfg = copy.deepcopy(DEFAULT_CONFIG)
    cfg.update(copy.deepcopy(dict(config)))
    problems = []

    def run(check, *args, **kw):
        try:
            return check(*args, **kw)
        except ConfigError as exc:
            problems.append(f"plans config: {exc}")
            return None

    integers = {"n_focus": (1, 3), "weeks": (2, 52), "checkin_every": (1, 52),
                "activities_per_skill": (1, 5), "mentor_capacity": (0, 50),
                "min_cell": (1, 10_000), "n_strengths": (0, 20)}
    for key, (lo, hi) in integers.items():
        cfg[key] = run(check_integer, key, cfg[key], low=lo, high=hi)
    for key, lo, hi, inclusive in (("gap_probability", 0.5, 1.0, "neither"),
                                   ("stretch_step", 0.0, 5.0, "both"),
                                   ("hours_per_week", 0.0, 168.0, "right"),
                                   ("mentor_confidence", 0.5, 1.0, "neither"),
                                   ("rule_bonus", 0.0, 10.0, "both"),
                                   ("default_gain", 0.0, 5.0, "both"),
                                   ("default_gain_se", 0.0, 5.0, "both")):
        cfg[key] = run(check_interval, key, cfg[key], low=lo, high=hi, inclusive=inclusive)
    cfg["alpha"] = run(check_alpha, cfg["alpha"])
    if cfg["mentor_candidates"] is not None:
        cfg["mentor_candidates"] = run(check_integer, "mentor_candidates",
                                       cfg["mentor_candidates"], low=1, high=100_000)
    if cfg["mentor_block_size"] is not None:
        cfg["mentor_block_size"] = run(check_integer, "mentor_block_size",
                                       cfg["mentor_block_size"], low=2, high=10_000_000)
    if cfg["scale_max"] is not None:
        cfg["scale_max"] = run(check_interval, "scale_max", cfg["scale_max"])
    if not callable(cfg["priority"]):
        run(check_choice, "priority", cfg["priority"], tuple(PRIORITY_FORMULAS))
    run(check_choice, "stretch", cfg["stretch"], ("next_level", "none"))
    run(check_choice, "mentors", cfg["mentors"], (True, False))
    if not (cfg["wave"] in ("latest", None) or isinstance(cfg["wave"], int | np.integer)):
        problems.append(f"plans config: wave={cfg['wave']!r}: must be 'latest', a wave number "
                        "or null")
    for key in ("next_role", "role_families", "mentor_costs"):
        if not isinstance(cfg[key], Mapping):
            problems.append(f"plans config: {key}={cfg[key]!r}: must be a mapping")
    if isinstance(cfg["mentor_costs"], Mapping):
        for name, value in cfg["mentor_costs"].items():  # a NaN cost would void the matching
            run(check_interval, f"mentor_costs[{name!r}]", value)
    kinds = cfg["kinds_by_gap_type"]
    if not isinstance(kinds, Mapping) or set(kinds) - set(GAP_TYPES):
        problems.append(f"plans config: kinds_by_gap_type must map {list(GAP_TYPES)} to "
                        "activity kinds")
    else:
        for gap_type, listed in kinds.items():
            bad = sorted(set(listed) - set(ACTIVITY_KINDS))
            if bad:
                problems.append(f"plans config: kinds_by_gap_type[{gap_type!r}] has unknown "
                                f"kind(s) {bad}; known: {list(ACTIVITY_KINDS)}")
    try:
        cfg["rules"] = check_rules(cfg["rules"])
    except ConfigError as exc:
        problems.append(str(exc))
    if problems:
        raise ConfigError("\n".join(problems))
    return cfg


def check_rules(rules) -> list:
    """Check and normalise a list of rules (each ``when``, ``prefer_kinds``/``avoid_kinds``).

    Examples
    --------
    >>> check_rules([{"when": {"level": "new"}, "prefer_kinds": "course"}])[0]["note"]
    'prefer course (level new)'
    """
    if rules is None:
        return []
    if not isinstance(rules, list | tuple):
        raise ConfigError(f"plans config: rules={rules!r}: must be a list of mappings")
    return [_check_rule(i, rule) for i, rule in enumerate(rules)]


def _check_rule(i, rule):
    where = f"plans config: rules[{i}]"
    if not isinstance(rule, Mapping):
        raise ConfigError(f"{where} must be a mapping with 'when' and 'prefer_kinds'")
    unknown = set(rule) - {"when", "prefer_kinds", "avoid_kinds", "note"}
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)}")
    when = rule.get("when") or {}
    if not isinstance(when, Mapping):
        raise ConfigError(f"{where}.when must be a mapping")
    bad_keys = set(when) - set(RULE_KEYS)
    if bad_keys:
        raise ConfigError(f"{where}.when: unknown key(s) {sorted(bad_keys)}; use {RULE_KEYS}")
    out = {"when": {k: _as_list(v) for k, v in when.items()}}
    for key in ("prefer_kinds", "avoid_kinds"):
        kinds = _as_list(rule.get(key) or [])
        unknown_kinds = set(kinds) - set(ACTIVITY_KINDS)
        if unknown_kinds:
            raise ConfigError(
                f"{where}.{key}: unknown kind(s) {sorted(unknown_kinds)}; "
                f"known: {list(ACTIVITY_KINDS)}"
            )
        out[key] = kinds
    if not out["prefer_kinds"] and not out["avoid_kinds"]:
        raise ConfigError(f"{where}: give prefer_kinds and/or avoid_kinds")
    out["note"] = str(rule.get("note") or _rule_note(out))
    return out


def _as_list(value):
    if isinstance(value, list | tuple | set):
        return [str(v) for v in value]
    return [str(value)]


def _rule_note(rule):
    cond = ", ".join(f"{k} {'/'.join(v)}" for k, v in rule["when"].items()) or "everyone"
    parts = []
    if rule["prefer_kinds"]:
        parts.append("prefer " + "/".join(k.replace("_", " ") for k in rule["prefer_kinds"]))
    if rule["avoid_kinds"]:
        parts.append("avoid " + "/".join(k.replace("_", " ") for k in rule["avoid_kinds"]))
    return f"{' and '.join(parts)} ({cond})"
