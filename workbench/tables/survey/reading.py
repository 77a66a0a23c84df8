"""Survey exports as they come: one row per response, one column per item, turned long.

A 360 platform exports one row per response (who was rated, who rated, the relationship, then
one column per question). :func:`read_survey` recognises the shape, reads the items through the
instrument (:mod:`workbench.tables.instrument`) and returns the ratings contract of
:mod:`workbench.tables.columns` with an ``item`` column, plus a :class:`SurveyReading` that says
what it understood. The shapes (``survey: {format: ...}`` in the mapping; ``auto`` detects):

``long``
    the contract's own shape (one row per rating, with ``skill`` and ``score``): not read here.
``wide``
    one header row; items are columns named by a question id or the question text.
``qualtrics``
    Qualtrics' CSV: column ids (``Q1_1``), then a row of question texts and a row of
    ``{"ImportId": ...}``; metadata StartDate, EndDate, Status, IPAddress, Progress,
    Duration (in seconds), Finished, RecordedDate, ResponseId, ...
``surveymonkey``
    SurveyMonkey's CSV/XLSX: a row of question texts (blank over the later columns of a grid
    question), then a row of sub-questions ("Response" for a single answer); metadata
    Respondent ID, Collector ID, Start Date, End Date, IP Address, ...
``grid``
    LimeSurvey and Google Forms: grid questions as ``Question [Item]`` columns; metadata
    Timestamp (Google Forms), Response ID, Date submitted, Last page, ... (LimeSurvey).

Id columns come from the mapping's ``columns: {ratings: {...}}`` (ratee, rater, source, wave,
date) or by their contract names. Without a rater column the response id (``ResponseId``,
``Respondent ID``, ``Response ID`` or ``survey: {response_id: ...}``) is the rater: each
response is its own rater (``anonymous_raters``), a self rating's rater is the ratee.

**Unfinished responses** (Qualtrics ``Finished`` false, LimeSurvey without ``Date submitted``,
or the column named ``survey: {finished: ...}``) are dropped by default and counted;
``survey: {unfinished: keep}`` keeps their answers (unanswered items count as not observed).

**Not observed** answers have no ratings row; they are counted per item, skill, source and wave
(``item_counts``). Metadata columns are dropped and listed; a column that looks like an item but
is not in the instrument is a warning (an error with ``survey: {strict: true}``), as is an item
of the instrument missing from the export.

Examples
--------
>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "ratings.csv").write_text(
...     "ResponseId,Ratee,Relationship,Finished,Q1,Q2\\n"
...     "R_1,p1,Peer,True,Agree,N/A\\nR_2,p1,Self,True,Strongly agree,Disagree\\n")
>>> mapping = {"columns": {"ratings": {"Ratee": "ratee", "Relationship": "source"}},
...            "survey": {"instrument": [{"item": "Q1", "skill": "Feedback"},
...                                      {"item": "Q2", "skill": "Feedback", "reverse": True}],
...                       "labels": {"Strongly disagree": 1, "Disagree": 2, "Neutral": 3,
...                                  "Agree": 4, "Strongly agree": 5}}}
>>> ratings, problems, rows, reading = read_survey(folder / "ratings.csv", mapping=mapping)
>>> ratings[["ratee", "rater", "source", "item", "score"]].to_dict("records")
... # doctest: +NORMALIZE_WHITESPACE
[{'ratee': 'p1', 'rater': 'R_1', 'source': 'peer', 'item': 'Q1', 'score': 4.0},
 {'ratee': 'p1', 'rater': 'p1', 'source': 'self', 'item': 'Q1', 'score': 5.0},
 {'ratee': 'p1', 'rater': 'p1', 'source': 'self', 'item': 'Q2', 'score': 4.0}]
>>> reading.shape, reading.anonymous_raters, rows.tolist()
('wide', True, [2, 3, 3])
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from workbench.errors import InputError
from workbench.tables.columns import Scale
from workbench.tables.instrument import (
    label_key,
)
from workbench.tables.mapping import as_mapping, normalise_header
from workbench.tables.readers import read_table
from workbench.tables.survey.export_columns import (
    finished_mask,
    id_columns,
    items_like,
    match_items,
    no_instrument,
    reverse_problems,
    unknown_columns,
)
from workbench.tables.survey.long_items import read_long_items
from workbench.tables.survey.report import summarise_reading
from workbench.tables.survey.settings import (
    SurveySettings,
    find_instrument,
    response_scale,
)
from workbench.tables.survey.shapes import (
    METADATA_COLUMNS,
    detect_shape,
    platform,
    read_export,
    resolve_headers,
)
from workbench.tables.survey.wide_to_long import melt_responses, type_responses
from workbench.tables.validate import load_rows

__all__ = ["read_survey", "read_ratings", "looks_like_survey"]


def read_survey(path, *, mapping=None, scale: Scale | None = None, scale_declared: bool = False,
                waves=None, folder=None, _frame=None):
    """Read a survey export into the ratings contract with items.

    Parameters
    ----------
    path : path
        The export (csv, xlsx, parquet); never modified.
    mapping : ColumnMapping, dict or path, optional
        Id columns (``columns: {ratings: ...}``), relationship labels and the ``survey``
        section (:class:`SurveySettings`).
    scale : Scale, optional
        The rating scale scores must lie on (default 1 to 5).
    scale_declared : bool
        Whether ``scale`` came from a scale file (its labels then map answers and its range
        reverse-scores items).
    waves : list, optional
        The waves to use, as in :func:`workbench.tables.validate.load_table`.
    folder : path, optional
        The data folder, where ``instrument.csv`` is also looked for.

    Returns
    -------
    tuple or None
        None when the file is in the contract's long shape (read it as a table); otherwise
        ``(ratings, problems, row_numbers, reading)``: the typed ratings (``item`` column;
        ``attrs["anonymous_raters"]``), the problems found (warnings only when ``ratings`` is
        not None), each rating's row in the file, and the :class:`SurveyReading` (with the
        not-observed counts, ``reading.item_counts``).

    Raises
    ------
    InputError
        The file cannot be read, or a wide export has no instrument.
    ConfigError
        The mapping's ``survey`` section is invalid.
    """
    path, mapping, scale = Path(path), as_mapping(mapping), scale or Scale()
    settings = SurveySettings.from_mapping(mapping)
    if settings.format == "long":
        return None
    frame = read_export(path, mapping) if _frame is None else _frame
    shape = settings.format if settings.format != "auto" else detect_shape(frame, mapping)
    if shape == "long":
        return None
    file = str(path)
    export = resolve_headers(frame, shape)
    rscale = response_scale(settings, scale, scale_declared)
    ids, response, problems = id_columns(export, mapping, settings, file)
    instrument = find_instrument(settings, path, folder)
    if instrument is None:
        if settings.format == "auto" and shape == "wide" and not items_like(
                export, ids, response, rscale):
            return None  # nothing item-like: a long file with a column missing, say so
        raise no_instrument(export, ids, response, rscale, file)
    found, item_problems = match_items(export, instrument, file, settings.strict)
    problems += item_problems
    problems += reverse_problems(instrument, found, rscale)
    used = set(ids.values()) | set(found.values()) | {response}
    dropped = [c for c in export.frame.columns if c not in used]
    problems += unknown_columns(export, dropped, rscale, file, settings.strict)
    if any(p.severity == "error" for p in problems):
        return None, problems, np.array([], int), None
    finished, finished_by = finished_mask(export.frame, settings)
    n_read = len(export.frame)
    keep = finished if settings.unfinished == "drop" else np.ones(n_read, bool)
    responses = export.frame.loc[keep]
    typed, found_problems, rows = type_responses(responses, ids, response, mapping, scale,
                                                  file, waves, platform(shape, export))
    problems += found_problems
    if any(p.severity == "error" for p in problems):
        return None, problems, np.array([], int), None
    at = responses.index.get_indexer(rows)
    answers = {item: responses[column].to_numpy(object)[at] for item, column in found.items()}
    ratings, long_rows, counts, label_table, score_problems = melt_responses(
        typed, rows, answers, instrument, found, rscale, scale, file)
    problems += score_problems
    if any(p.severity == "error" for p in problems):
        return None, problems, np.array([], int), None
    # the counts travel beside the ratings (Organisation.item_counts, reading.item_counts), not
    # in attrs: pandas compares and deep-copies attrs in every concat, a table there breaks it
    if "rater" not in ids:  # in the data, so a ratings file written from it keeps it
        ratings["anonymous_rater"] = True
    ratings.attrs.update(file=file, anonymous_raters="rater" not in ids)
    reading = summarise_reading(file, shape, n_read, int((~finished).sum()), finished_by, settings,
                       typed, ratings, instrument, found, counts, label_table, dropped,
                       "rater" not in ids, problems)
    return ratings, problems, long_rows, reading


def read_ratings(path, *, mapping=None, scale=None, scale_declared=False, waves=None,
                 folder=None):
    """Read a ratings file in either shape: ``(typed, problems, row_numbers, reading)``.

    A survey export goes through :func:`read_survey`; a file in the contract's long shape
    through :func:`workbench.tables.validate.load_rows` (read once; ``reading`` is None).
    Problems of the file are returned, not raised, as :func:`load_rows` does.
    """
    path, mapping, scale = Path(path), as_mapping(mapping), scale or Scale()
    frame = None
    try:
        settings = SurveySettings.from_mapping(mapping)
        if settings.format != "long":
            frame = read_export(path, mapping)
            read = read_survey(path, mapping=mapping, scale=scale,
                               scale_declared=scale_declared, waves=waves, folder=folder,
                               _frame=frame)
            if read is not None:
                return read
            if not frame.attrs.get("blank_header"):
                read = read_long_items(frame, path, mapping, settings, scale, scale_declared,
                                  waves, folder)
                if read is not None:
                    return read
    except InputError as exc:
        return None, exc.problems, np.array([], dtype=int), None
    if frame is not None and frame.attrs.get("blank_header"):
        frame = None  # a long file with a ragged right end: the table reader says where
    typed, problems, rows = load_rows(path, "ratings", mapping, scale, waves=waves,
                                      frame=frame)
    return typed, problems, rows, None


def looks_like_survey(path: str | Path, mapping=None) -> bool:
    """Whether a file not named after a table is a survey export (read as the ratings).

    Examples
    --------
    >>> looks_like_survey("no/such/file.csv")
    False
    """
    try:
        frame = read_table(path, row_index=True)
    except InputError:
        return False
    shape = detect_shape(frame, as_mapping(mapping))
    if shape in ("qualtrics", "surveymonkey", "grid", "long"):
        return shape != "long" or {"ratee", "rater"} <= {normalise_header(c) for c in frame}
    keys = {label_key(c) for c in frame.columns}
    return bool(keys & (METADATA_COLUMNS | {"ratee", "relationship"}))
