"""The ``workbench`` command line: one module per subcommand in this package.

Each module ``workbench/cli/<name>.py`` defines ``register(subparsers)`` which adds its parser
and sets ``func``; subcommands are found at start-up. User errors (any WorkbenchError) print a
clear report without a traceback and exit with code 2.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from workbench.errors import WorkbenchError

__all__ = ["main", "build_parser"]

# Listed first, in this order, in --help; other modules follow alphabetically.
ORDER = ["validate", "demo_data", "calibrate", "profiles", "impact", "plans", "run", "demo"]


def build_parser() -> argparse.ArgumentParser:
    from workbench import __version__

    parser = argparse.ArgumentParser(
        prog="workbench",
        description="Talent-analytics workbench: calibrate 360 ratings, find skill profiles, "
        "measure learning impact and build learning plans.",
    )
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    names = [m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")]
    names.sort(key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))
    for name in names:
        module = importlib.import_module(f"{__name__}.{name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (0 ok, 2 user error, 1 failed run)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = args.func(args)
    except WorkbenchError as exc:
        print(f"workbench {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return int(code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
