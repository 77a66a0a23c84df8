"""The ``workbench`` command line: one module per subcommand in this package.

Each module ``workbench/cli/<name>.py`` defines ``register(subparsers)`` which adds its parser
and sets ``func``; subcommands are found at start-up. The exit codes are the contract:

* 0: done;
* 2: the user's input or options are wrong (any WorkbenchError, a usage error, or a file the
  operating system refuses): one report without a traceback, nothing written;
* 1: the run itself failed (a notebook raised, or an internal error): one readable line; the
  traceback only with ``--debug``.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import traceback
import warnings

from workbench.errors import WorkbenchError

__all__ = ["main", "build_parser"]

# Listed first, in this order, in --help; other modules follow alphabetically.
ORDER = ["validate", "demo_data", "calibrate", "check_design", "profiles", "impact", "plans",
         "progression", "outcomes", "run", "demo"]


def build_parser() -> argparse.ArgumentParser:
    from workbench._version import __version__

    parser = argparse.ArgumentParser(
        prog="workbench",
        description="Talent-analytics workbench: calibrate 360 ratings, find skill profiles, "
        "measure learning impact and build learning plans.",
    )
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback when something fails unexpectedly")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    names = [m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")]
    names.sort(key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))
    for name in names:
        module = importlib.import_module(f"{__name__}.{name}")
        module.register(sub)
    for subparser in sub.choices.values():
        # also after the subcommand; SUPPRESS keeps a --debug given before it
        subparser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                               help="show the full traceback when something fails unexpectedly")
    return parser


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    # a warning is for the user: what happened, not where in the package it was raised
    return f"warning: {message}\n"


def _unrecognized(argv, extra) -> str:
    """argparse's message for arguments no option took, naming the option they followed when
    it was given as ``--option=value`` (``--scale=-1 5``: the 5 is not part of --scale)."""
    text = f"workbench: error: unrecognized arguments: {' '.join(extra)}"
    at = argv.index(extra[0]) if extra[0] in argv else 0
    before = argv[at - 1] if at > 0 else ""
    if before.startswith("--") and "=" in before:
        option = before.split("=", 1)[0]
        return text + (f" (after {before}: {option}=VALUE takes one value; give several "
                       f"after a space, e.g. {option} -1 5)")
    options = [a for a in argv[:at] if a.startswith("--")]
    if options and extra[0].startswith("-") and _number(extra[0]):
        option = options[-1].split("=", 1)[0]
        text += (f" ({extra[0]} is read as an option, not as a value of {option}; only plain "
                 f"negative numbers such as -1 are taken as values)")
    return text


def _number(text) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (0 ok, 2 user error, 1 failed run or internal error)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
    except SystemExit as exc:  # usage errors (2), --help and --version (0)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    if extra:
        print(_unrecognized(argv, extra), file=sys.stderr)
        return 2
    command = f"workbench {args.command}"
    shown = warnings.formatwarning
    warnings.formatwarning = _one_line_warning
    try:
        from workbench.cli._common import check_common_options

        check_common_options(args)
        code = args.func(args)
    except WorkbenchError as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{command}: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        # a file or folder the operating system refused (a name too long, no permission, a
        # full disk) that no check above caught: the user's to fix, so a usage error
        if args.debug:
            traceback.print_exc()
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"{command}: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback
        if args.debug:
            traceback.print_exc()
        detail = " ".join(str(exc).split())[:300] or "(no message)"
        print(f"{command}: internal error ({type(exc).__name__}: {detail}); this is a bug in "
              "the workbench, not in your input" + ("" if args.debug else
              "; run again with --debug for the traceback"), file=sys.stderr)
        return 1
    finally:
        warnings.formatwarning = shown
    return int(code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
