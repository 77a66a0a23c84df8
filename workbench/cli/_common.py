"""Options and helpers shared by several subcommands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from workbench.errors import InputError, Problem, format_problems
from workbench.tables.data import TABLES, ColumnMapping, load_organisation


def add_mapping_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--mapping",
        metavar="YAML",
        help="column mapping: client column names and source labels (YAML with 'columns' and "
        "'source_labels', or an engagement file with a 'mapping' section)",
    )


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


def organisation_from_paths(paths: list[str], mapping: ColumnMapping):
    """Load an organisation from folders and/or files named after their tables."""
    folder, files, unknown = None, {}, []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            folder = path
        else:
            table = table_of(path)
            if table is None:
                unknown.append(
                    Problem(
                        str(path),
                        None,
                        None,
                        "cannot tell which table this file is; name it after one of "
                        f"{', '.join(TABLES)} (e.g. ratings.csv)",
                    )
                )
            else:
                files[table] = path
    if unknown:
        raise InputError(unknown)
    return load_organisation(folder, mapping=mapping, **files)


def print_warnings(problems) -> None:
    warnings = [p for p in problems if p.severity != "error"]
    if warnings:
        print(format_problems(warnings), file=sys.stderr)
