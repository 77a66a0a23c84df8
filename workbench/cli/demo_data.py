"""``workbench demo-data --out DIR``: write a generated organisation with its truth."""

from __future__ import annotations

from workbench.checks import check_integer
from workbench.synth.generator import generate_organisation, write_organisation
from workbench.tables.writers import new_output_dir


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
    parser.set_defaults(func=run)


def run(args) -> int:
    people = check_integer("--people", args.people, low=30, high=200_000)
    skills = check_integer("--skills", args.skills, low=6, high=10)
    profiles = check_integer("--profiles", args.profiles, low=3, high=5)
    org = generate_organisation(people, seed=args.seed, n_skills=skills, n_profiles=profiles)
    # the folder is made only once there is something to write: a refused run leaves none
    out = new_output_dir(args.out)
    write_organisation(org, out, fmt=args.format)
    print(f"wrote {len(org.people)} people, {len(org.ratings)} ratings to {out} (truth in "
          f"{out / 'truth'})")
    return 0
