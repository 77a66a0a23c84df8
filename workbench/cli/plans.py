"""``workbench plans``: personalised learning plans, mentors and training demand."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from workbench.errors import ConfigError, InputError, Problem
from workbench.tables.data import load_table, read_table, read_yaml


def register(sub) -> None:
    parser = sub.add_parser(
        "plans",
        help="build learning plans, mentor pairs and training demand",
        description="Turn calibrated scores into personalised learning plans (focus skills, "
        "catalog activities scheduled within a weekly hours budget, SMART goals, check-ins), "
        "match mentors optimally, and write plans.csv (LMS import), plans.json, one page per "
        "person (Markdown and HTML), an Excel workbook and gap heat maps.",
    )
    parser.add_argument("--scores", required=True, metavar="S",
                        help="calibrated scores: ratee, skill, score, se (CSV, Excel, Parquet)")
    parser.add_argument("--people", required=True, metavar="P", help="people file")
    parser.add_argument("--framework", required=True, metavar="F", help="framework file")
    parser.add_argument("--catalog", required=True, metavar="C", help="learning catalog file")
    parser.add_argument("--ratings", metavar="R",
                        help="raw ratings, for per-source scores shown under confidentiality")
    parser.add_argument("--profiles", metavar="PR", help="profiles: ratee, profile, persona")
    parser.add_argument("--config", metavar="YAML",
                        help="plans configuration (a mapping, or an engagement file with a "
                        "'plans' section)")
    parser.add_argument("--start", metavar="DATE", help="first day of the plans (YYYY-MM-DD)")
    parser.add_argument("--focus", type=int, metavar="N", help="focus skills per person (1-3)")
    parser.add_argument("--seed", type=int, default=None, help="random state (mentor sampling)")
    parser.add_argument("--out", required=True, metavar="DIR", help="new output folder")
    parser.set_defaults(func=run)


def _read_config(path):
    if path is None:
        return {}
    spec = read_yaml(path, what="configuration file")
    if spec is None:
        return {}
    if not isinstance(spec, Mapping):
        raise ConfigError(f"{path}: the configuration must be a mapping")
    if "plans" in spec:
        spec = spec["plans"] or {}
    return dict(spec)


def _read_scores(path):
    frame = read_table(path)
    frame = frame.rename(columns={c: c.strip().lower() for c in frame.columns})
    missing = [c for c in ("ratee", "skill", "score", "se") if c not in frame]
    if "ratee" in missing and "person" in frame:
        missing.remove("ratee")
    if missing:
        raise InputError([Problem(str(path), None, None,
                                  f"column(s) {missing} missing; expected ratee, skill, score, "
                                  "se")])
    problems = []
    for col in ("score", "se") + (("wave",) if "wave" in frame else ()):
        values = pd.to_numeric(frame[col].str.replace(",", ".", regex=False), errors="coerce")
        bad = values.isna() & (frame[col] != "")
        for i in bad[bad].index[:10]:
            problems.append(Problem(str(path), int(i) + 2, col, "not a number", frame.at[i, col]))
        frame[col] = values
    if problems:
        raise InputError(problems)
    return frame


def run(args) -> int:
    from workbench.plans.build import build_plans, write_plans

    config = _read_config(args.config)
    if args.focus is not None:
        config["n_focus"] = args.focus
    scores = _read_scores(args.scores)
    people = load_table(args.people, "people")
    framework = load_table(args.framework, "framework")
    catalog = load_table(args.catalog, "catalog")
    ratings = load_table(args.ratings, "ratings") if args.ratings else None
    profiles = None
    if args.profiles:
        profiles = read_table(args.profiles)
        profiles.columns = [c.strip().lower() for c in profiles.columns]
    planset = build_plans(scores, people, framework, catalog, ratings=ratings,
                          profiles=profiles, config=config, start=args.start,
                          random_state=args.seed)
    out = write_plans(planset, args.out)
    print(planset.summary())
    print(f"\nPlans written to {out}")
    return 0
