"""The columns of a resolved export: which give the ids (ratee, rater, source, wave, date) and
the response id (:func:`id_columns`), which hold the instrument's items (:func:`match_items`),
which look like items but are not in it (:func:`unknown_columns`, :func:`items_like`), which
responses are finished (:func:`finished_mask`), and the problems each finds. The internal
interface of :mod:`workbench.tables.survey.reading`.

Examples
--------
>>> frame = pd.DataFrame({"Finished": ["True", "False"]})
>>> finished_mask(frame, SurveySettings())[0].tolist()
[True, False]
"""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd

from workbench.errors import ConfigError, InputError, Problem
from workbench.tables.instrument import (
    Instrument,
    ResponseScale,
    label_key,
)
from workbench.tables.mapping import ColumnMapping, normalise_header
from workbench.tables.survey.settings import (
    SurveySettings,
)
from workbench.tables.survey.shapes import (
    METADATA_COLUMNS,
    Export,
)

__all__: list[str] = []


_RESPONSE_IDS = tuple(label_key(c) for c in ("ResponseId", "Respondent ID", "Response ID", "id"))
_FINISHED = tuple(label_key(c) for c in ("Finished", "Completed", "Complete"))
_SUBMITTED = tuple(label_key(c) for c in ("Date submitted", "submitdate"))
#: The platforms' completion times, read as the survey date when no date column is given:
#: Qualtrics, SurveyMonkey, Google Forms, LimeSurvey (in this order of preference).
TIMESTAMPS = tuple(label_key(c) for c in ("RecordedDate", "EndDate", "End Date", "Timestamp",
                                          "Date submitted", "submitdate"))
_YES = {"true", "1", "yes", "y", "finished", "complete", "completed", "t"}
_ID_COLUMNS = ("ratee", "rater", "source", "wave", "date")
# Id columns recognised by name without a mapping (besides the contract's own names).
_ID_ALIASES = {"relationship": "source", "rater_relationship": "source",
               "relationship_to_ratee": "source", "ratee_id": "ratee", "rater_id": "rater",
               "subject": "ratee", "subject_id": "ratee", "assessor": "rater",
               "assessor_id": "rater", "survey_wave": "wave", "round": "wave"}
# An item-like column: short answers, few distinct ones.
_MAX_DISTINCT_ANSWERS = 15


def _key(text) -> str:
    return " ".join(unicodedata.normalize("NFKC", str(text)).casefold().split())


def match_items(export: Export, instrument: Instrument, file: str, strict: bool):
    """{item: export column}, and the problems (missing items, ambiguous names)."""
    full, part = {}, {}
    for column, names in export.names.items():
        full.setdefault(_key(names[0]), []).append(column)
        for name in names[1:]:
            part.setdefault(_key(name), []).append(column)
    found, problems, missing = {}, [], []
    rows = instrument.items
    for item, column in zip(rows["item"], rows["column"], strict=True):
        hits = full.get(_key(column)) or part.get(_key(column)) or []
        if len(hits) == 1:
            found[item] = hits[0]
        elif len(hits) > 1:
            problems.append(Problem(instrument.file, instrument.row_of(item), "column",
                                    f"item {item!r}: {len(hits)} columns of {file} match "
                                    f"{column!r} ({', '.join(map(str, hits))}); name the column "
                                    "by its full header", column))
        else:
            missing.append(item)
    if missing:
        problems.append(Problem(
            file, export.header_row, None,
            f"{len(missing)} item(s) of the instrument are not in the export: "
            f"{', '.join(missing)}", None, "error" if strict else "warning"))
    return found, problems


def id_columns(export: Export, mapping: ColumnMapping, settings: SurveySettings, file: str):
    """{contract name: client column} for the id columns, the response id, and problems."""
    columns = list(export.frame.columns)
    by_key = {_key(n): c for c, names in export.names.items() for n in names}
    rename = mapping.rename_for("ratings")
    ids, problems = {}, []
    for client, target in rename.items():
        if target not in _ID_COLUMNS and target != "comment":
            continue
        column = client if client in export.frame.columns else by_key.get(_key(client))
        if column is None:
            problems.append(Problem(
                file, export.header_row, client,
                f"the mapping reads '{target}' from column {client!r}, which is not in the "
                f"file's header (row {export.header_row}; columns: "
                f"{', '.join(map(str, columns[:30]))}{', ...' if len(columns) > 30 else ''})"))
        else:
            ids[target] = column
    for column in columns:
        target = normalise_header(column)
        target = _ID_ALIASES.get(target, target)
        if target in _ID_COLUMNS and target not in ids:
            ids[target] = column
    if "date" not in ids:  # the platform's completion time gives the date
        keys = {label_key(c): c for c in columns}
        stamp = next((keys[k] for k in TIMESTAMPS if k in keys
                      and (export.frame[keys[k]].str.strip() != "").any()), None)
        if stamp is not None:
            ids["date"] = stamp
    response = None
    if settings.response_id is not None:
        response = by_key.get(_key(settings.response_id))
        if response is None:
            problems.append(Problem(file, export.header_row, settings.response_id,
                                    "the mapping's survey: {response_id: ...} names a column "
                                    "that is not in the file's header"))
    else:
        response = next((c for c in columns if label_key(c) in _RESPONSE_IDS), None)
    for needed in ("ratee", "source"):
        if needed not in ids:
            problems.append(Problem(
                file, export.header_row, None,
                f"no column gives '{needed}'; name it in the mapping "
                f"(columns: {{ratings: {{<your column>: {needed}}}}})"))
    if "rater" not in ids and response is None:
        problems.append(Problem(
            file, export.header_row, None,
            "no column gives 'rater' and no response id was found; map the rater column, or "
            "name the response id (survey: {response_id: <column>}) to treat each response "
            "as its own rater"))
    return ids, response, problems


def finished_mask(frame: pd.DataFrame, settings: SurveySettings) -> tuple[np.ndarray, str]:
    """Which responses are finished, and the column that said so ("" when none did)."""
    keys = {label_key(c): c for c in frame.columns}
    if settings.finished is not None:
        column = keys.get(label_key(settings.finished))
        if column is None:
            raise ConfigError(f"survey: finished column {settings.finished!r} is not in the "
                              "export")
    else:
        column = next((keys[k] for k in _FINISHED if k in keys), None)
        if column is None:
            column = next((keys[k] for k in _SUBMITTED if k in keys), None)
            if column is not None:
                return (frame[column] != "").to_numpy(), str(column)
    if column is None:
        return np.ones(len(frame), bool), ""
    return frame[column].str.lower().isin(_YES).to_numpy(), str(column)


def _item_like(values: pd.Series, scale: ResponseScale) -> bool:
    answers = values[values != ""]
    if answers.empty:
        return False
    distinct = answers.unique()
    if len(distinct) > _MAX_DISTINCT_ANSWERS:
        return False
    _, absent, unknown = scale.score(pd.Series(distinct))
    return bool(unknown.sum() <= max(1, len(distinct) // 3) and (~absent & ~unknown).any())


def items_like(export: Export, ids, response, rscale) -> list:
    taken = set(ids.values()) | {response}
    return [c for c in export.frame.columns
            if c not in taken and label_key(c) not in METADATA_COLUMNS
            and _item_like(export.frame[c], rscale)]


def no_instrument(export: Export, ids, response, rscale, file) -> InputError:
    items = items_like(export, ids, response, rscale)
    shown = ", ".join(map(str, items[:20])) + (", ..." if len(items) > 20 else "")
    example = "\n".join(f"      - {{item: {c}, skill: <competency>}}" for c in items[:3])
    id_lines = "".join(f"\n      {c}: {t}" for t, c in ids.items()) or \
        "\n      <ratee column>: ratee\n      <relationship column>: source"
    message = (
        f"this looks like a survey export in wide form (one row per response, one column per "
        f"item): {len(items)} item-like column(s) found ({shown}). Say which competency each "
        "item measures: an instrument.csv beside it (columns item, skill, reverse, text) or "
        "a 'survey' section in the mapping YAML, e.g.\n"
        f"  columns:\n    ratings:{id_lines}\n  survey:\n    instrument:\n{example}\n"
        "      ...\n    labels: {Strongly disagree: 1, Disagree: 2, Neutral: 3, Agree: 4, "
        "Strongly agree: 5}\n(see docs/survey_exports.md)")
    return InputError([Problem(file, export.header_row, None, message)])


def reverse_problems(instrument: Instrument, found: dict, rscale: ResponseScale):
    if rscale.declared:
        return []
    rows = instrument.items
    return [Problem(instrument.file, instrument.row_of(item), "reverse",
                    f"item {item!r} is reverse-keyed but the response scale has no "
                    "declared range to reverse it on; declare survey: {scale: {min: 1, max: 5}} "
                    "or survey: {labels: ...}, or give a scale file", item)
            for item, rev in zip(rows["item"], rows["reverse"], strict=True)
            if rev and item in found]


def unknown_columns(export: Export, dropped, rscale, file, strict) -> list[Problem]:
    unknown = [c for c in dropped if label_key(c) not in METADATA_COLUMNS
               and _item_like(export.frame[c], rscale)]
    if not unknown:
        return []
    return [Problem(file, export.header_row, None,
                    f"{len(unknown)} column(s) look like items but are not in the instrument "
                    f"(not read): {', '.join(map(str, unknown))}", None,
                    "error" if strict else "warning")]
