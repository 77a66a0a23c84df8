"""Options and helpers shared by several subcommands.

Shared options are added by one function each (``add_mapping_option``, ``add_waves_option`` with
``waves_from_args``) so every subcommand spells and checks them the same way. Options that
several subcommands name alike (``--seed``, ``--jobs``) are checked once for all of them by
:func:`check_common_options`, which :func:`workbench.cli.main` calls before any subcommand runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from workbench.checks import check_integer, check_scale
from workbench.errors import ConfigError, InputError, Problem, format_problems
from workbench.parallel import check_n_jobs
from workbench.tables.columns import SCALE_SETTINGS, SUFFIXES, TABLES, Scale
from workbench.tables.mapping import ColumnMapping
from workbench.tables.organisation import load_organisation
from workbench.tables.survey.reading import looks_like_survey

__all__ = [
    "add_mapping_option",
    "add_scale_option",
    "scale_from_args",
    "add_waves_option",
    "waves_from_args",
    "mapping_from_args",
    "table_of",
    "organisation_from_paths",
    "print_warnings",
    "check_common_options",
    "say_run_failed",
]


def add_mapping_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--mapping",
        metavar="YAML",
        help="column mapping: client column names and source labels (YAML with 'columns' and "
        "'source_labels', or an engagement file with a 'mapping' section)",
    )


def add_scale_option(parser: argparse.ArgumentParser) -> None:
    """``--scale MIN MAX`` or ``--scale FILE``: the rating scale, the same for every command."""
    parser.add_argument(
        "--scale", nargs="+", metavar="MIN MAX | FILE", default=None,
        help="the rating scale of the data: its lowest and highest point (e.g. --scale 0 100 "
        "for test scores) or a scale file (value, label). Default: the mapping's 'scale', "
        "else the data folder's scale file, else 1 to 5. Scores off the scale are refused",
    )


def scale_from_args(args) -> Scale | Path | None:
    """``--scale`` as a Scale (two numbers), a scale file's path (one value) or None.

    Raises
    ------
    ConfigError
        Naming the option and the bad values (not two numbers, MIN not below MAX).
    """
    given = getattr(args, "scale", None)
    if not given:
        return None
    text = " ".join(map(str, given))
    if len(given) == 1:
        path = Path(given[0])
        if not path.is_file():
            raise ConfigError(f"--scale {text}: no such scale file; give the file, or the "
                              "lowest and highest point of the scale (--scale 0 100)")
        return path
    try:
        low, high = (float(v) for v in given)
    except ValueError:
        raise ConfigError(f"--scale {text}: give two numbers, the lowest and highest point of "
                          f"the scale (--scale 0 100), or a scale file ({SCALE_SETTINGS})"
                          ) from None
    low, high = check_scale("--scale", (low, high))
    return Scale(low, high, {}, source=f"--scale {text}")


def add_waves_option(parser: argparse.ArgumentParser) -> None:
    """``--waves W [W ...]``: the waves of the ratings to use (the others are dropped)."""
    parser.add_argument(
        "--waves", nargs="+", metavar="W", default=None,
        help="waves of the ratings to use (default: all; a wave with very few ratings is "
        "refused as a probable typo unless the waves are named here)",
    )


def waves_from_args(args) -> list | None:
    """``--waves 1 2`` as [1, 2] (numbers stay numbers so they match numeric waves)."""
    waves = getattr(args, "waves", None)
    if not waves:
        return None
    return [int(w) if str(w).lstrip("-").isdigit() else w for w in waves]


def mapping_from_args(args) -> ColumnMapping:
    if getattr(args, "mapping", None):
        return ColumnMapping.from_yaml(args.mapping)
    return ColumnMapping()


def table_of(path: Path) -> str | None:
    """Which contract a file follows, from its name: ratings.csv, people_2026.xlsx, ..."""
    stem = path.stem.lower()
    for table in TABLES:
        if stem == table or stem.startswith(table + "_") or stem.startswith(table + "-"):
            return table
    return None


def _path_problem(path: Path) -> Problem | None:
    """A missing path: a folder or a file, told apart by its ending."""
    if path.exists():
        return None
    if path.is_symlink():
        return Problem(str(path), None, None, "broken link: what it points to is missing")
    if path.suffix.lower() in SUFFIXES:
        return Problem(str(path), None, None, "file not found")
    return Problem(str(path), None, None, "folder not found")


def organisation_from_paths(paths: list[str], mapping: ColumnMapping, *, waves=None,
                            scale=None):
    """Load an organisation from folders and/or files named after their tables."""
    folders, files, problems = [], {}, []
    for raw in paths:
        path = Path(raw)
        missing = _path_problem(path)
        if missing is not None:
            problems.append(missing)
        elif path.is_dir():
            folders.append(path)
        else:
            table = table_of(path)
            if table is None and looks_like_survey(path, mapping):
                table = "ratings"  # a platform's export under its own name
            if table is None:
                problems.append(Problem(
                    str(path), None, None,
                    "cannot tell which table this file is; name it after one of "
                    f"{', '.join(TABLES)} (e.g. ratings.csv)"))
            elif table in files:
                problems.append(Problem(str(path), None, None,
                                        f"a second {table} file (first: {files[table]})"))
            else:
                files[table] = path
    if len(folders) > 1:
        problems.append(Problem(", ".join(map(str, folders)), None, None,
                                "give one data folder (and files for single tables)"))
    if problems:
        raise InputError(problems)
    if scale is not None:
        files["scale"] = scale
    return load_organisation(folders[0] if folders else None, mapping=mapping, waves=waves,
                             **files)


def print_warnings(problems) -> None:
    warnings = [p for p in problems if p.severity != "error"]
    if warnings:
        print(format_problems(warnings), file=sys.stderr)


# option name -> check applied to it, for every subcommand that has the option
_COMMON = {
    "seed": lambda v: check_integer("--seed", v, low=0, high=2**32 - 1),
    "random_state": lambda v: check_integer("--random-state", v, low=0, high=2**32 - 1),
    "jobs": lambda v: check_n_jobs(v, "--jobs"),
}


def check_common_options(args: argparse.Namespace) -> None:
    """Check the options several subcommands share (seed, jobs) the same way for all.

    Raises
    ------
    ConfigError
        Naming the option and the bad value (``--seed=-1: must be at least 0``).
    """
    for name, check in _COMMON.items():
        value = getattr(args, name, None)
        if value is not None:
            setattr(args, name, check(value))


def say_run_failed(command: str, result) -> int:
    """Tell where a failed engagement run stopped and where its folder is; return exit code 1.

    A run whose client folder failed its check (status "withheld") is refused in one line
    naming the first file and what it holds, with exit code 2: the data or the engagement
    file put it there, and it is theirs to fix.
    """
    if result.status == "withheld":
        problems = result.manifest.get("client_problems", [])
        first = problems[0]
        files = {p["file"] for p in problems}
        more = (f" ({len(problems) - 1} more problem(s) in {len(files)} file(s))"
                if len(problems) > 1 else "")
        print(f"{command}: client/{first['file']} ({first['location']}): {first['value']}: "
              f"must not be sent{more}; nothing was left to send: client/ is empty, its files "
              f"and the list of problems are in {result.analyst_dir}", file=sys.stderr)
        return 2
    print(f"{command}: run failed in {result.failure}", file=sys.stderr)
    print(f"the executed notebooks, manifest and a short failure.html are in "
          f"{result.analyst_dir}", file=sys.stderr)
    return 1
