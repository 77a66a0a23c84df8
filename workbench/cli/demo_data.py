"""``workbench demo-data --out DIR``: write a generated organisation with its truth."""

from __future__ import annotations

import pandas as pd
import yaml

from workbench.checks import check_integer
from workbench.errors import ConfigError
from workbench.synth.exports import EXPORT_SHAPES, export_frame, write_export
from workbench.synth.generator import generate_organisation, write_organisation
from workbench.writers import new_output_dir


def register(sub) -> None:
    parser = sub.add_parser(
        "demo-data",
        help="write a generated organisation with known truth",
        description="Generate a realistic organisation (ratings, people, framework, catalog, "
        "enrollments, scale) and write it to DIR (a new or empty folder), with the truth in "
        "DIR/truth.",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="new or empty folder")
    parser.add_argument("--people", type=int, default=300, metavar="N",
                        help="head count (30 to 200000)")
    parser.add_argument("--seed", type=int, default=0, metavar="K", help="random seed (>= 0)")
    parser.add_argument("--skills", type=int, default=8, help="number of skills (6 to 10)")
    parser.add_argument("--profiles", type=int, default=4, help="latent profiles (3 to 5)")
    parser.add_argument("--format", choices=["csv", "xlsx", "parquet"], default="csv")
    parser.add_argument("--items", type=int, default=None, metavar="K",
                        help="behavioural items per skill (2 to 6; two reverse-keyed in all): "
                        "ratings gain an item column and instrument.csv is written")
    parser.add_argument("--export", choices=EXPORT_SHAPES, default=None, metavar="SHAPE",
                        help="with --items: also write the ratings as a survey export "
                        f"(survey_export.csv; one of {', '.join(EXPORT_SHAPES)}) and the "
                        "mapping that reads it (survey_mapping.yaml)")
    parser.add_argument("--progression", action="store_true",
                        help="also career paths (paths.csv), target roles and business outcomes "
                        "(outcomes.csv) driven by the true skills, with their truth")
    parser.set_defaults(func=run)


def run(args) -> int:
    people = check_integer("--people", args.people, low=30, high=200_000)
    skills = check_integer("--skills", args.skills, low=6, high=10)
    profiles = check_integer("--profiles", args.profiles, low=3, high=5)
    items = None if args.items is None else check_integer("--items", args.items, low=2, high=6)
    if args.export is not None and items is None:
        raise ConfigError("--export needs --items (a survey export has one column per item)")
    org = generate_organisation(people, seed=args.seed, n_skills=skills, n_profiles=profiles,
                                items_per_skill=items, progression=args.progression)
    if args.export is not None:
        frame_mapping = export_frame(org, args.export, seed=args.seed)[1]
        # instrument.csv names each item's column in the export; the long file is read with
        # it too (its item column; reverse-keyed items reverse-scored on reading)
        org.instrument = pd.DataFrame(frame_mapping["survey"]["instrument"])
        # the long file in the order a reader of the export gives: both ways read the same
        order = {item: k for k, item in enumerate(org.instrument["item"])}
        org.ratings = (org.ratings.assign(_k=org.ratings["item"].map(order))
                       .sort_values(["wave", "ratee", "rater", "_k"], kind="stable")
                       .drop(columns="_k").reset_index(drop=True))
    # the folder is made only once there is something to write: a refused run leaves none
    out = new_output_dir(args.out)
    write_organisation(org, out, fmt=args.format)
    print(f"wrote {len(org.people)} people, {len(org.ratings)} ratings to {out} (truth in "
          f"{out / 'truth'})")
    if args.export is not None:
        mapping = write_export(org, out / "survey_export.csv", args.export, seed=args.seed)
        mapping["survey"]["instrument"] = "instrument.csv"
        with (out / "survey_mapping.yaml").open("x", encoding="utf-8") as handle:
            yaml.safe_dump(mapping, handle, sort_keys=False, allow_unicode=True)
        print(f"wrote the ratings as a {args.export} export: {out / 'survey_export.csv'} "
              f"(read it with --mapping {out / 'survey_mapping.yaml'})")
    return 0
