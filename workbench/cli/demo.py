"""``workbench demo``: the README's main job on the bundled demo organisation."""

from __future__ import annotations

from pathlib import Path

from workbench.data import load_organisation, summarise_organisation


def demo_data_dir() -> Path:
    """The bundled demo organisation (``data/demo`` in the repository)."""
    return Path(__file__).resolve().parents[2] / "data" / "demo"


def register(sub) -> None:
    parser = sub.add_parser(
        "demo",
        help="run the main job on the bundled demo organisation",
        description="Validate and summarise the bundled demo organisation (data/demo).",
    )
    parser.set_defaults(func=run)


def run(args) -> int:
    org = load_organisation(demo_data_dir())
    print(summarise_organisation(org).summary())
    return 0
