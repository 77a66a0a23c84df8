"""``workbench demo-data --out DIR``: write a generated organisation with its truth."""

from __future__ import annotations

from workbench.synth.generator import generate_organisation, write_organisation


def register(sub) -> None:
    parser = sub.add_parser(
        "demo-data",
        help="write a generated organisation with known truth",
        description="Generate a realistic organisation (ratings, people, framework, catalog, "
        "enrollments, scale) and write it to DIR, with the truth in DIR/truth.",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="new folder to write")
    parser.add_argument("--people", type=int, default=300, metavar="N", help="head count")
    parser.add_argument("--seed", type=int, default=0, metavar="K", help="random seed")
    parser.add_argument("--skills", type=int, default=8, help="number of skills (6 to 10)")
    parser.add_argument("--profiles", type=int, default=4, help="latent profiles (3 to 5)")
    parser.add_argument("--format", choices=["csv", "xlsx", "parquet"], default="csv")
    parser.set_defaults(func=run)


def run(args) -> int:
    org = generate_organisation(
        args.people, seed=args.seed, n_skills=args.skills, n_profiles=args.profiles
    )
    out = write_organisation(org, args.out, fmt=args.format)
    print(f"wrote {len(org.people)} people, {len(org.ratings)} ratings to {out} (truth in "
          f"{out / 'truth'})")
    return 0
