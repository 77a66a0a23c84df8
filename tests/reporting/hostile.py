"""A hostile organisation: markup and spreadsheet formulas in every text column of every input.

The generated organisation of the run tests (``workbench.synth``, with the progression
stage's paths and outcomes and three behavioural items per skill) with each value of every id
and text column prefixed by a payload (in turn), the same value the same way in every file, so
the organisation is still consistent; its truth is unchanged. Controlled vocabularies (rating
sources, activity kinds, gap types) are not free text: a payload there is refused as input.
People get a ``name`` column and ratings a ``comment`` column, both hostile too.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from workbench.synth.generator import generate_organisation, write_organisation

#: What a hostile cell may start with: script-running markup and spreadsheet formulas.
HTML_PAYLOADS = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
)
FORMULA_PAYLOADS = ('=HYPERLINK("http://x")', "+1+1", "@SUM(A1)", "-2+3", "\t=1+1", "\r=1+1")
PAYLOADS = HTML_PAYLOADS + FORMULA_PAYLOADS

#: Columns that hold the same kind of id across files (one mapping each).
ID_KINDS = {
    "person": [("ratings", "ratee"), ("ratings", "rater"), ("people", "person"),
               ("people", "manager"), ("enrollments", "person"), ("outcomes", "person")],
    "role": [("people", "role"), ("people", "target_role"), ("framework", "role"),
             ("paths", "role"), ("paths", "next_role")],
    "metric": [("outcomes", "metric")],
    "team": [("people", "team")],
    "skill": [("ratings", "skill"), ("framework", "skill"), ("catalog", "skill"),
              ("instrument", "skill")],
    "item": [("ratings", "item"), ("instrument", "item")],
    "activity": [("catalog", "activity"), ("enrollments", "activity")],
}
#: Free text columns (each value on its own).
TEXT_COLUMNS = [("catalog", "title"), ("catalog", "modality"), ("framework", "skill_group"),
                ("people", "level"), ("people", "location"), ("people", "name"),
                ("ratings", "comment"), ("scale", "label"), ("outcomes", "period"),
                ("instrument", "text")]


def _hostile_values(values, start: int) -> dict:
    """``{value: payload + value}`` with the payloads in turn, from ``start``."""
    distinct = sorted({v for v in values if isinstance(v, str) and v})
    return {v: PAYLOADS[(start + i) % len(PAYLOADS)] + v for i, v in enumerate(distinct)}


def make_hostile_data(folder: Path, *, n_people: int, seed: int) -> dict:
    """Write the hostile organisation's csv files into ``folder``; returns the id mappings.

    Returns
    -------
    dict
        ``{kind: {original: hostile}}`` for the id kinds and the text columns.
    """
    org = generate_organisation(n_people, seed=seed, progression=True, items_per_skill=3)
    plain = folder.parent / f"{folder.name}-plain"
    write_organisation(org, plain)
    tables = {p.stem: pd.read_csv(p, dtype=str, keep_default_na=False)
              for p in sorted(plain.glob("*.csv"))}
    tables["people"]["name"] = [f"Name {p}" for p in tables["people"]["person"]]
    tables["ratings"]["comment"] = [
        f"Comment {i}" if i % 40 == 0 else "" for i in range(len(tables["ratings"]))]
    mappings = {}
    for k, (kind, columns) in enumerate(ID_KINDS.items()):
        values = [v for table, column in columns for v in tables[table][column]]
        mappings[kind] = _hostile_values(values, start=k)
        for table, column in columns:
            tables[table][column] = tables[table][column].map(
                lambda v, m=mappings[kind]: m.get(v, v))
    for k, (table, column) in enumerate(TEXT_COLUMNS):
        mapping = _hostile_values(tables[table][column], start=k)
        mappings[f"{table}.{column}"] = mapping
        tables[table][column] = tables[table][column].map(lambda v, m=mapping: m.get(v, v))
    folder.mkdir(parents=True)
    for name, frame in tables.items():
        # every cell quoted: a carriage return inside a cell is data, not a line end
        frame.to_csv(folder / f"{name}.csv", index=False, quoting=csv.QUOTE_ALL,
                     lineterminator="\r\n")
    return mappings
