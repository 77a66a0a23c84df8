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

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import ConfigError, InputError, Problem
from workbench.results import Result
from workbench.tables.columns import CONTRACTS, ITEM_COUNT_COLUMNS, SUFFIXES, Scale
from workbench.tables.instrument import (
    NOT_OBSERVED_LABELS,
    Instrument,
    ResponseScale,
    label_key,
    load_instrument,
)
from workbench.tables.mapping import ColumnMapping, as_mapping, normalise_header
from workbench.tables.readers import read_table
from workbench.tables.validate import MAX_ROWS_PER_PROBLEM, check_frame, load_rows

__all__ = [
    "FORMATS",
    "METADATA_COLUMNS",
    "SurveySettings",
    "SurveyReading",
    "detect_shape",
    "read_survey",
    "read_ratings",
    "looks_like_survey",
]

FORMATS = ("auto", "long", "wide", "qualtrics", "surveymonkey", "grid")
_SETTINGS_KEYS = ("format", "instrument", "labels", "not_observed", "scale", "response_id",
                  "finished", "unfinished", "strict")
#: Platform columns that are never items (compared without case, spaces and punctuation).
METADATA_COLUMNS = frozenset(label_key(c) for c in (
    # Qualtrics
    "StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)",
    "Finished", "RecordedDate", "ResponseId", "RecipientLastName", "RecipientFirstName",
    "RecipientEmail", "ExternalReference", "ExternalDataReference", "LocationLatitude",
    "LocationLongitude", "DistributionChannel", "UserLanguage", "Q_RecaptchaScore",
    # SurveyMonkey
    "Respondent ID", "Collector ID", "Start Date", "End Date", "IP Address", "Email Address",
    "First Name", "Last Name", "Custom Data 1", "Custom Data",
    # LimeSurvey, Google Forms
    "Response ID", "id", "Date submitted", "submitdate", "Last page", "lastpage",
    "Start language", "startlanguage", "Seed", "Date started", "startdate",
    "Date last action", "datestamp", "IP address", "ipaddr", "Referrer URL", "refurl", "Token",
    "Timestamp", "Email", "Total time", "interviewtime",
))
_RESPONSE_IDS = tuple(label_key(c) for c in ("ResponseId", "Respondent ID", "Response ID", "id"))
_FINISHED = tuple(label_key(c) for c in ("Finished", "Completed", "Complete"))
_SUBMITTED = tuple(label_key(c) for c in ("Date submitted", "submitdate"))
#: The platforms' completion times, read as the survey date when no date column is given:
#: Qualtrics, SurveyMonkey, Google Forms, LimeSurvey (in this order of preference).
_TIMESTAMPS = tuple(label_key(c) for c in ("RecordedDate", "EndDate", "End Date", "Timestamp",
                                           "Date submitted", "submitdate"))
#: SurveyMonkey writes 11/08/2026 10:41:22 AM and Google Forms 11/8/2026 10:41:22 (a form in
#: the default US locale): month first unless the mapping's date_format says otherwise.
_MONTH_FIRST = {"surveymonkey": "MM/DD/YYYY", "googleforms": "MM/DD/YYYY"}
_YES = {"true", "1", "yes", "y", "finished", "complete", "completed", "t"}
_ID_COLUMNS = ("ratee", "rater", "source", "wave", "date")
# Id columns recognised by name without a mapping (besides the contract's own names).
_ID_ALIASES = {"relationship": "source", "rater_relationship": "source",
               "relationship_to_ratee": "source", "ratee_id": "ratee", "rater_id": "rater",
               "subject": "ratee", "subject_id": "ratee", "assessor": "rater",
               "assessor_id": "rater", "survey_wave": "wave", "round": "wave"}
_GRID = re.compile(r"^(?P<question>.*?)\s*\[(?P<item>[^\[\]]+)\]\s*$")
_DASH = re.compile(r"^(?P<question>.+?)\s+[-\u2013]\s+(?P<item>[^-\u2013]+)$")
_SINGLE_ANSWER = {"", "response", "openendedresponse", "other"}
# An item-like column: short answers, few distinct ones.
_MAX_DISTINCT_ANSWERS = 15


@dataclass(frozen=True)
class SurveySettings:
    """The mapping's ``survey:`` section, checked.

    Attributes
    ----------
    format : {"auto", "long", "wide", "qualtrics", "surveymonkey", "grid"}
    instrument : str, Path, list of dict or None
        A file, or the rows inline; None: ``instrument.csv`` (or .xlsx) beside the ratings.
    labels : dict
        ``{answer label: value}``.
    not_observed : tuple of str
        Labels meaning no rating, added to :data:`NOT_OBSERVED_LABELS`.
    scale : dict
        ``{min: 1, max: 5}``: the range reverse-keyed items are scored on.
    response_id, finished : str or None
        The response-id and finished columns, when the platform's names are not used.
    unfinished : {"drop", "keep"}
    strict : bool
        Columns not in the instrument and items missing from the export are errors.
    """

    format: str = "auto"
    instrument: object = None
    labels: Mapping = field(default_factory=dict)
    not_observed: tuple = ()
    scale: Mapping = field(default_factory=dict)
    response_id: str | None = None
    finished: str | None = None
    unfinished: str = "drop"
    strict: bool = False

    @classmethod
    def from_mapping(cls, mapping: ColumnMapping) -> SurveySettings:
        """Check ``mapping.survey``; every bad entry is named in one ConfigError."""
        spec = dict(mapping.survey or {})
        problems = []
        unknown = sorted(set(map(str, spec)) - set(_SETTINGS_KEYS))
        if unknown:
            problems.append(f"unknown key(s) {unknown}; expected {', '.join(_SETTINGS_KEYS)}")
        fmt = str(spec.get("format", "auto")).lower()
        if fmt not in FORMATS:
            problems.append(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
        unfinished = str(spec.get("unfinished", "drop")).lower()
        if unfinished not in ("drop", "keep"):
            problems.append(f"unfinished {unfinished!r} is not 'drop' or 'keep'")
        labels = spec.get("labels") or {}
        if not isinstance(labels, Mapping):
            problems.append("labels must map each answer label to its value")
            labels = {}
        for label, value in labels.items():
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                problems.append(f"label {label!r} maps to {value!r}, which is not a number")
        not_observed = spec.get("not_observed") or ()
        if isinstance(not_observed, str) or not isinstance(not_observed, (list, tuple)):
            problems.append("not_observed must be a list of labels")
            not_observed = ()
        scale = spec.get("scale") or {}
        if not isinstance(scale, Mapping) or set(scale) - {"min", "max"} or (
                scale and not all(isinstance(scale.get(k), (int, float)) for k in ("min", "max"))):
            problems.append(f"scale must be {{min: <number>, max: <number>}}, got {scale!r}")
            scale = {}
        elif scale and scale["min"] >= scale["max"]:
            problems.append(f"scale min ({scale['min']}) must be below max ({scale['max']})")
        instrument = spec.get("instrument")
        if instrument is not None and not isinstance(instrument, (str, Path, list)):
            problems.append("instrument must be a file name or a list of items")
        strict = spec.get("strict", False)
        if not isinstance(strict, bool):
            problems.append(f"strict must be true or false, got {strict!r}")
        if problems:
            raise ConfigError("column mapping, survey: " + "; ".join(problems))
        return cls(format=fmt, instrument=instrument, labels=dict(labels),
                   not_observed=tuple(map(str, not_observed)), scale=dict(scale),
                   response_id=spec.get("response_id"), finished=spec.get("finished"),
                   unfinished=unfinished, strict=strict)


@dataclass(frozen=True)
class SurveyReading(Result):
    """What :func:`read_survey` understood of an export (``workbench validate`` prints it).

    Attributes
    ----------
    file, shape : str
        The export and the shape detected (or named).
    overview : DataFrame
        quantity, n: responses in the file, unfinished ones (and the policy), responses used,
        ratings, not-observed answers, items, competencies.
    items_per_skill : DataFrame
        skill, n_items, items, reversed.
    responses_per_source : DataFrame
        source, wave, n_responses, n_ratees.
    labels : DataFrame
        label, value, n: each distinct text answer and what it became (NaN: not observed).
    not_observed_by_item, not_observed_by_source : DataFrame
        item (skill) or source, n_responses, n_not_observed, rate.
    item_counts : DataFrame
        The counts behind them (:data:`ITEM_COUNT_COLUMNS`).
    instrument_items : DataFrame
        The instrument's rows for the items read (item, column, skill, reverse (bool), text):
        the item table as data, for the psychometrics (never rebuilt from the text above).
    dropped_columns : tuple of str
        Columns of the export not read (metadata and others).
    anonymous_raters : bool
    warnings : tuple of Problem
    """

    title = "Survey export"

    file: str
    shape: str
    overview: pd.DataFrame
    items_per_skill: pd.DataFrame
    responses_per_source: pd.DataFrame
    labels: pd.DataFrame
    not_observed_by_item: pd.DataFrame
    not_observed_by_source: pd.DataFrame
    item_counts: pd.DataFrame
    instrument_items: pd.DataFrame | None = None
    dropped_columns: tuple = ()
    anonymous_raters: bool = False
    warnings: tuple = ()
    settings: dict = field(default_factory=dict)

    def _sections(self) -> list:
        raters = ("none named: each response is its own rater (anonymous)"
                  if self.anonymous_raters else "named in the export")
        sections = [
            ("", f"{self.file}: read as a {self.shape} export; raters {raters}"),
            ("", self.overview),
            ("Items per competency", self.items_per_skill),
            ("Responses per relationship", self.responses_per_source),
            ("Answer labels mapped", self.labels),
            ("Not observed, per item", self.not_observed_by_item),
            ("Not observed, per relationship", self.not_observed_by_source),
        ]
        if self.dropped_columns:
            sections.append((f"{len(self.dropped_columns)} column(s) not read",
                             ", ".join(self.dropped_columns)))
        return sections

    def _files(self) -> dict:
        return {
            "survey_items_per_skill.csv": self.items_per_skill,
            "survey_responses_per_source.csv": self.responses_per_source,
            "survey_labels.csv": self.labels,
            "survey_not_observed_by_item.csv": self.not_observed_by_item,
            "survey_not_observed_by_source.csv": self.not_observed_by_source,
            "survey_instrument_items.csv": self.instrument_items,
        }


# --------------------------------------------------------------------------------------------
# Shapes
# --------------------------------------------------------------------------------------------


def _first_rows(frame: pd.DataFrame, n: int) -> list[list[str]]:
    return [list(frame.iloc[i]) for i in range(min(n, len(frame)))]


def detect_shape(frame: pd.DataFrame, mapping: ColumnMapping | None = None) -> str:
    """The shape of an export read by :func:`~workbench.tables.readers.read_table`.

    Examples
    --------
    >>> detect_shape(pd.DataFrame({"ratee": ["a"], "skill": ["S"], "score": ["3"]}))
    'long'
    >>> detect_shape(pd.DataFrame({"Timestamp": ["x"], "Ratee": ["a"],
    ...                            "Feedback [Gives praise]": ["4"]}))
    'grid'
    """
    rows = _first_rows(frame, 2)
    if len(rows) == 2 and any(str(c).lstrip().startswith('{"ImportId"') for c in rows[1]):
        return "qualtrics"
    keys = [label_key(c) for c in frame.columns]
    if {"respondentid", "collectorid"} & set(keys) and rows:
        first = rows[0]
        at = next(i for i, k in enumerate(keys) if k in ("respondentid", "collectorid"))
        if first[at] == "" and any(label_key(c) in _SINGLE_ANSWER - {""} for c in first):
            return "surveymonkey"
    rename = (mapping or ColumnMapping()).rename_for("ratings")
    named = {rename.get(c, normalise_header(c)) for c in frame.columns}
    if {"skill", "score"} <= named:
        return "long"
    others = [c for c, k in zip(frame.columns, keys, strict=True) if k not in METADATA_COLUMNS]
    if others and sum(bool(_GRID.match(str(c))) for c in others) >= max(1, len(others) // 3):
        return "grid"
    return "wide"


@dataclass
class _Export:
    """An export with its header rows resolved: the responses and each column's names."""

    frame: pd.DataFrame          # one row per response, index = row number in the file
    names: dict                  # column -> the names an instrument may use for it
    header_row: int


def _resolve_headers(frame: pd.DataFrame, shape: str) -> _Export:
    header_row = frame.attrs.get("header_row", 1)
    names = {c: [str(c)] for c in frame.columns}
    if shape == "qualtrics":
        texts = list(frame.iloc[0]) if len(frame) else []
        for c, text in zip(frame.columns, texts, strict=False):
            if text:
                names[c].append(text)
                match = _DASH.match(text)
                if match:
                    names[c].append(match["item"])
        frame = frame.iloc[2:]
    elif shape == "surveymonkey":
        subs = list(frame.iloc[0]) if len(frame) else []
        question, header = "", {}
        for c, sub in zip(frame.columns, subs, strict=False):
            if not str(c).startswith("<column "):
                question = str(c)
            single = label_key(sub) in _SINGLE_ANSWER
            full = question if single else f"{question} - {sub}"
            header[c] = full
            names[c] = [full] + ([] if single else [sub])
        frame = frame.iloc[1:].rename(columns=header)
        names = {header[c]: v for c, v in names.items()}
    else:
        for c in frame.columns:
            match = _GRID.match(str(c)) or _DASH.match(str(c))
            if match:
                names[c].append(match["item"])
    return _Export(frame, names, header_row)


# --------------------------------------------------------------------------------------------
# Columns: ids, items, metadata
# --------------------------------------------------------------------------------------------


def _key(text) -> str:
    return " ".join(unicodedata.normalize("NFKC", str(text)).casefold().split())


def _match_items(export: _Export, instrument: Instrument, file: str, strict: bool):
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


def _id_columns(export: _Export, mapping: ColumnMapping, settings: SurveySettings, file: str):
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
        stamp = next((keys[k] for k in _TIMESTAMPS if k in keys
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


def _finished_mask(frame: pd.DataFrame, settings: SurveySettings) -> tuple[np.ndarray, str]:
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


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def _response_scale(settings: SurveySettings, scale: Scale, scale_declared: bool):
    labels = dict(settings.labels)
    if scale_declared:
        labels = {**{v: k for k, v in scale.anchors.items() if v}, **labels}
    if settings.scale:
        low, high = float(settings.scale["min"]), float(settings.scale["max"])
    elif settings.labels:
        values = [float(v) for v in settings.labels.values()]
        low, high = min(values), max(values)
    elif scale_declared:
        low, high = scale.min, scale.max
    else:
        low = high = None
    return ResponseScale(labels=labels, not_observed=NOT_OBSERVED_LABELS + settings.not_observed,
                         low=low, high=high)


def _find_instrument(settings: SurveySettings, path: Path, folder):
    if isinstance(settings.instrument, list):
        return load_instrument(settings.instrument)
    if settings.instrument is not None:
        given = Path(settings.instrument)
        for candidate in (given, path.parent / given,
                          *((Path(folder) / given,) if folder is not None else ())):
            if candidate.exists():
                return load_instrument(candidate)
        raise InputError([Problem(str(given), None, None, "instrument file not found (the "
                                  "mapping's survey: {instrument: ...})")])
    places = [path.parent] + ([Path(folder)] if folder is not None else [])
    for place in places:
        for suffix in SUFFIXES:
            if (place / f"instrument{suffix}").exists():
                return load_instrument(place / f"instrument{suffix}")
    return None


def _items_like(export: _Export, ids, response, rscale) -> list:
    taken = set(ids.values()) | {response}
    return [c for c in export.frame.columns
            if c not in taken and label_key(c) not in METADATA_COLUMNS
            and _item_like(export.frame[c], rscale)]


def _no_instrument(export: _Export, ids, response, rscale, file) -> InputError:
    items = _items_like(export, ids, response, rscale)
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
    frame = _read_export(path, mapping) if _frame is None else _frame
    shape = settings.format if settings.format != "auto" else detect_shape(frame, mapping)
    if shape == "long":
        return None
    file = str(path)
    export = _resolve_headers(frame, shape)
    rscale = _response_scale(settings, scale, scale_declared)
    ids, response, problems = _id_columns(export, mapping, settings, file)
    instrument = _find_instrument(settings, path, folder)
    if instrument is None:
        if settings.format == "auto" and shape == "wide" and not _items_like(
                export, ids, response, rscale):
            return None  # nothing item-like: a long file with a column missing, say so
        raise _no_instrument(export, ids, response, rscale, file)
    found, item_problems = _match_items(export, instrument, file, settings.strict)
    problems += item_problems
    problems += _reverse_problems(instrument, found, rscale)
    used = set(ids.values()) | set(found.values()) | {response}
    dropped = [c for c in export.frame.columns if c not in used]
    problems += _unknown_columns(export, dropped, rscale, file, settings.strict)
    if any(p.severity == "error" for p in problems):
        return None, problems, np.array([], int), None
    finished, finished_by = _finished_mask(export.frame, settings)
    n_read = len(export.frame)
    keep = finished if settings.unfinished == "drop" else np.ones(n_read, bool)
    responses = export.frame.loc[keep]
    typed, found_problems, rows = _type_responses(responses, ids, response, mapping, scale,
                                                  file, waves, _platform(shape, export))
    problems += found_problems
    if any(p.severity == "error" for p in problems):
        return None, problems, np.array([], int), None
    at = responses.index.get_indexer(rows)
    answers = {item: responses[column].to_numpy(object)[at] for item, column in found.items()}
    ratings, long_rows, counts, label_table, score_problems = _melt(
        typed, rows, answers, instrument, found, rscale, scale, file)
    problems += score_problems
    if any(p.severity == "error" for p in problems):
        return None, problems, np.array([], int), None
    # the counts travel beside the ratings (Organisation.item_counts, reading.item_counts), not
    # in attrs: pandas compares and deep-copies attrs in every concat, a table there breaks it
    if "rater" not in ids:  # in the data, so a ratings file written from it keeps it
        ratings["anonymous_rater"] = True
    ratings.attrs.update(file=file, anonymous_raters="rater" not in ids)
    reading = _reading(file, shape, n_read, int((~finished).sum()), finished_by, settings,
                       typed, ratings, instrument, found, counts, label_table, dropped,
                       "rater" not in ids, problems)
    return ratings, problems, long_rows, reading


def _read_export(path: Path, mapping: ColumnMapping) -> pd.DataFrame:
    """The file as text cells. A grid question's text sits over its first column only, so a
    ragged right end is read again keeping blank-headed columns (``attrs["blank_header"]``)."""
    expected = ([c.name for c in CONTRACTS["ratings"]] + list(mapping.rename_for("ratings"))
                + ["ResponseId", "Respondent ID"])
    try:
        return read_table(path, expected=expected, table="ratings", row_index=True)
    except InputError as exc:
        if not any("more cells than the header" in p.message for p in exc.problems):
            raise
    frame = read_table(path, expected=expected, table="ratings", row_index=True,
                       blank_header=True)
    frame.attrs["blank_header"] = True
    return frame


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
            frame = _read_export(path, mapping)
            read = read_survey(path, mapping=mapping, scale=scale,
                               scale_declared=scale_declared, waves=waves, folder=folder,
                               _frame=frame)
            if read is not None:
                return read
            if not frame.attrs.get("blank_header"):
                read = _read_long(frame, path, mapping, settings, scale, scale_declared,
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


def _read_long(frame, path, mapping, settings, scale, scale_declared, waves, folder):
    """A long file with an ``item`` column read through the instrument, as its export would be.

    Its scores are the answers as given (numbers, or the response scale's labels): reverse-keyed
    items are reverse-scored here, and a "not observed" answer (its label, a blank score, or no
    row at all for an item of the instrument) is counted, not scored. Each response (ratee,
    rater, source, wave) is one row of the wide export; the rest is :func:`_melt`'s, so the
    two read the same. None when there is no item column or no instrument (read as scored).
    """
    rename = mapping.rename_for("ratings")
    named = {rename.get(c, normalise_header(c)): c for c in frame.columns}
    if not {"item", "score"} <= set(named):
        return None
    instrument = _find_instrument(settings, path, folder)
    if instrument is None:
        return None
    file, score_col, item_col = str(path), named["score"], named["item"]
    rscale = _response_scale(settings, scale, scale_declared)
    if not rscale.declared:  # its scores are checked on the scale in use: that is the range
        rscale = replace(rscale, low=float(scale.min), high=float(scale.max))
    text = frame[score_col].fillna("").astype(str)
    value, missing, unknown = rscale.score(text)
    problems = _unknown_label_problems(frame, text, unknown, file, score_col)
    # typed and checked (ids, duplicates, waves, the scale) through the one typing path; a
    # label by its value, a not-observed or unknown answer by a placeholder on the scale
    given = np.where(missing | unknown, float(scale.min), value)
    typed, found_problems, rows = check_frame(frame.assign(**{score_col: given.astype(str)}),
                                              "ratings", mapping, scale, file=file,
                                              waves=waves)
    problems += found_problems
    items = instrument.items.set_index("item")
    problems += _long_item_problems(typed, rows, items, instrument, file, named,
                                    settings.strict)
    present = set(typed["item"].dropna())
    found = {item: str(item_col) for item in instrument.items["item"] if item in present}
    problems += _reverse_problems(instrument, found, rscale)
    if any(p.severity == "error" for p in problems):
        return None, problems, np.array([], int), None
    keys = [c for c in ("ratee", "rater", "source", "wave") if c in typed]
    response = typed.groupby(keys, sort=False, dropna=False).ngroup().to_numpy()
    first = np.unique(response, return_index=True)[1]
    responses = typed.iloc[first].drop(columns=["skill", "score", "item"]).reset_index(
        drop=True)
    column = {item: k for k, item in enumerate(found)}
    at = typed["item"].map(column).to_numpy()
    by_row = pd.Series(text.to_numpy(), index=frame.index)
    cells = np.full((len(responses), len(found)), "", dtype=object)
    cells[response, at] = by_row.loc[rows].to_numpy(object)
    where = np.zeros(cells.shape, dtype=np.int64)
    where[response, at] = rows
    answers = {item: cells[:, k] for item, k in column.items()}
    ratings, _, counts, label_table, _ = _melt(responses, np.asarray(rows)[first], answers,
                                               instrument, found, rscale, scale, file)
    answered = ~pd.Series(missing, index=frame.index).loc[rows].to_numpy()
    seen = np.zeros(cells.shape, bool)
    seen[response[answered], at[answered]] = True
    anonymous = bool(typed.attrs.get("anonymous_raters", False))
    ratings.attrs.update(file=file, anonymous_raters=anonymous)
    reading = _reading(file, "long", len(responses), 0, "", settings, responses, ratings,
                       instrument, found, counts, label_table, [], anonymous, problems)
    return ratings, problems, where[seen], reading


def _unknown_label_problems(frame, text, unknown, file, column):
    """Each unknown answer label once, with its count and first row."""
    rows = frame.index.to_numpy()
    labels = pd.Series(rows[unknown]).groupby(text[unknown].to_numpy(), sort=False)
    return [Problem(file, int(at.iat[0]), column, f"unknown response label ({len(at)} "
                    "answer(s)); map it under survey: {labels: ...} or list it under survey: "
                    "{not_observed: [...]}", label)
            for label, at in labels]


def _long_item_problems(typed, rows, items, instrument, file, named, strict):
    """Items not in the instrument, a skill that is not the instrument's, items never rated."""
    problems = []
    rows = np.asarray(rows)
    known = typed["item"].isin(items.index).to_numpy()
    for item, at in pd.Series(rows[~known]).groupby(typed["item"].to_numpy()[~known],
                                                    sort=False, dropna=False):
        problems.append(Problem(file, int(at.iat[0]), named["item"],
                                f"item not in the instrument ({instrument.file}; "
                                f"{len(at)} row(s))", item))
    skill = typed["item"].map(items["skill"]).to_numpy()
    other = known & (typed["skill"].to_numpy() != skill)
    for r, item, given, expected in list(zip(rows[other], typed["item"].to_numpy()[other],
                                             typed["skill"].to_numpy()[other], skill[other],
                                             strict=True))[:MAX_ROWS_PER_PROBLEM]:
        problems.append(Problem(file, int(r), named["skill"], f"item {item!r} measures "
                                f"{expected!r} in the instrument ({instrument.file})", given))
    missing = [i for i in items.index if i not in set(typed["item"])]
    if missing:
        problems.append(Problem(file, None, named["item"], f"{len(missing)} item(s) of the "
                                f"instrument are not in the file: {', '.join(missing)}", None,
                                "error" if strict else "warning"))
    return problems


def _reverse_problems(instrument: Instrument, found: dict, rscale: ResponseScale):
    if rscale.declared:
        return []
    rows = instrument.items
    return [Problem(instrument.file, instrument.row_of(item), "reverse", f"item {item!r} is reverse-keyed but the response scale has no "
                    "declared range to reverse it on; declare survey: {scale: {min: 1, max: 5}} "
                    "or survey: {labels: ...}, or give a scale file", item)
            for item, rev in zip(rows["item"], rows["reverse"], strict=True)
            if rev and item in found]


def _unknown_columns(export: _Export, dropped, rscale, file, strict) -> list[Problem]:
    unknown = [c for c in dropped if label_key(c) not in METADATA_COLUMNS
               and _item_like(export.frame[c], rscale)]
    if not unknown:
        return []
    return [Problem(file, export.header_row, None,
                    f"{len(unknown)} column(s) look like items but are not in the instrument "
                    f"(not read): {', '.join(map(str, unknown))}", None,
                    "error" if strict else "warning")]


def _type_responses(responses, ids, response, mapping, scale, file, waves, shape):
    """Type the id columns once per response through the contract's one typing path."""
    frame = pd.DataFrame({column: responses[column] for column in ids.values()},
                         index=responses.index)
    if "rater" not in ids:
        source = responses[ids["source"]]
        is_self = source.map(lambda v: mapping.source_for(v) == "self" if v else False)
        frame["rater"] = responses[response].where(~is_self.astype(bool),
                                                   responses[ids["ratee"]])
    # one placeholder rating per response: its duplicates are repeated responses
    frame["skill"], frame["score"] = "<response>", repr(float(scale.min))
    stamp = "date" in ids and label_key(ids["date"]) in _TIMESTAMPS
    date_format = dict(mapping.date_format)
    if stamp and mapping.date_order_for("ratings") is None and shape in _MONTH_FIRST:
        date_format["ratings"] = _MONTH_FIRST[shape]
    id_mapping = ColumnMapping(columns={"ratings": {c: t for t, c in ids.items()}},
                               source_labels=mapping.source_labels, date_format=date_format,
                               decimal_mark=dict(mapping.decimal_mark))
    typed, problems, rows = check_frame(frame, "ratings", id_mapping, scale, file=file,
                                        waves=waves)
    if stamp:  # a completion time: its day is the survey date
        typed["date"] = typed["date"].dt.normalize()
    problems = [_as_response_problem(p) for p in problems]
    return typed, problems, rows


def _platform(shape: str, export: _Export) -> str:
    """The platform behind a shape: a grid export with a Timestamp column is Google Forms'."""
    if shape == "grid" and "timestamp" in {label_key(c) for c in export.frame.columns}:
        return "googleforms"
    return shape


def _as_response_problem(problem: Problem) -> Problem:
    if "duplicate rating" not in problem.message:
        return problem
    column = ", ".join(c for c in (problem.column or "").split(", ") if c != "skill")
    return Problem(problem.file, problem.row, column,
                   "duplicate response: the same ratee, rater and wave on an earlier row",
                   (problem.value or "").replace(" / <response>", ""), problem.severity)


def _melt(typed, rows, answers, instrument, found, rscale, scale, file):
    """Responses x items -> one rating per answered item; counts of not observed; labels."""
    items = instrument.items.set_index("item").loc[list(found)]
    n = len(typed)
    scores = np.empty((n, len(found)))
    absent = np.zeros((n, len(found)), bool)
    unknown_labels, off_scale, label_counts = {}, [], {}
    for k, item in enumerate(found):
        values = pd.Series(answers[item], dtype=object)
        score, missing, unknown = rscale.score(values)
        for position in np.flatnonzero(unknown):
            label = values.iat[position]
            count, where = unknown_labels.get(label, (0, (int(rows[position]), found[item])))
            unknown_labels[label] = (count + 1, where)
        bad = ~missing & ~unknown & ~scale.contains(np.nan_to_num(score, nan=scale.min))
        off_scale += [(int(rows[p]), found[item], values.iat[p]) for p in np.flatnonzero(bad)]
        text = ~missing & ~unknown & ~values.str.fullmatch(r"\s*[-+]?\d+([.,]\d+)?\s*").fillna(
            False).to_numpy()
        for label, count in values[text | missing].value_counts().items():
            label_counts[label] = label_counts.get(label, 0) + int(count)
        if items.at[item, "reverse"]:
            score = rscale.low + rscale.high - score
        scores[:, k], absent[:, k] = score, missing | unknown
    problems = [Problem(file, row, column, f"unknown response label ({count} answer(s)); map it "
                        "under survey: {labels: ...} or list it under survey: {not_observed: "
                        "[...]}", label)
                for label, (count, (row, column)) in unknown_labels.items()]
    problems += [Problem(file, row, column, f"the answer is off the rating scale ({scale.min:g} "
                         f"to {scale.max:g})", value)
                 for row, column, value in off_scale[:MAX_ROWS_PER_PROBLEM]]
    if len(off_scale) > MAX_ROWS_PER_PROBLEM:
        problems.append(Problem(file, None, None, f"... and {len(off_scale) - MAX_ROWS_PER_PROBLEM}"
                                " more answer(s) off the rating scale"))
    keep = ~absent.ravel()
    ratee_cols = [c.name for c in CONTRACTS["ratings"] if c.name in typed and c.name != "skill"
                  and c.name != "score"]
    long = {name: np.repeat(typed[name].to_numpy(), len(found))[keep] for name in ratee_cols}
    long["skill"] = np.tile(items["skill"].to_numpy(object), n)[keep]
    long["score"] = scores.ravel()[keep]
    long["item"] = np.tile(np.array(list(found), dtype=object), n)[keep]
    if "comment" in long:  # one comment per response, on its first answered item, not on all
        response = np.repeat(np.arange(n), len(found))[keep]
        first = np.zeros(len(response), bool)
        first[np.unique(response, return_index=True)[1]] = True
        long["comment"] = np.where(first, long["comment"], None)
    order = [c.name for c in CONTRACTS["ratings"] if c.name in long]
    ratings = pd.DataFrame({c: long[c] for c in order})
    counts = _item_counts(typed, absent, found, items)
    labels = _label_table(label_counts, rscale)
    return ratings, np.repeat(rows, len(found))[keep], counts, labels, problems


def _item_counts(typed, absent, found, items) -> pd.DataFrame:
    n = len(typed)
    frame = pd.DataFrame({
        "item": np.tile(np.array(list(found), dtype=object), n),
        "skill": np.tile(items["skill"].to_numpy(object), n),
        "source": np.repeat(typed["source"].to_numpy(object), len(found)),
        "wave": np.repeat(typed["wave"].to_numpy(), len(found)),
        "n_not_observed": absent.ravel().astype(int),
    })
    counts = (frame.groupby(["item", "skill", "source", "wave"], sort=False)
              .agg(n_responses=("n_not_observed", "size"), n_not_observed=("n_not_observed", "sum"))
              .reset_index())
    return counts[list(ITEM_COUNT_COLUMNS)]


def _label_table(label_counts: dict, rscale: ResponseScale) -> pd.DataFrame:
    labels = pd.DataFrame({"label": list(label_counts), "n": list(label_counts.values())})
    if labels.empty:
        return pd.DataFrame(columns=["label", "value", "n"])
    values, _, _ = rscale.score(labels["label"])
    labels.insert(1, "value", values)
    labels["label"] = labels["label"].where(labels["label"] != "", "(blank)")
    return labels.sort_values(["value", "label"], na_position="last").reset_index(drop=True)


def _rate(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    out = frame.groupby(by, sort=False)[["n_responses", "n_not_observed"]].sum().reset_index()
    out["rate"] = out["n_not_observed"] / out["n_responses"].where(out["n_responses"] > 0)
    return out


def _reading(file, shape, n_read, n_unfinished, finished_by, settings, typed, ratings,
             instrument, found, counts, label_table, dropped, anonymous, problems):
    items = instrument.items[instrument.items["item"].isin(list(found))]
    per_skill = (items.groupby("skill", sort=False)
                 .agg(n_items=("item", "size"), items=("item", ", ".join),
                      reversed=("reverse", lambda r: ", ".join(items.loc[r.index[r], "item"])))
                 .reset_index())
    per_source = (typed.groupby(["source", "wave"])
                  .agg(n_responses=("ratee", "size"), n_ratees=("ratee", "nunique"))
                  .reset_index())
    policy = (f"{settings.unfinished}ped" if settings.unfinished == "drop" else "kept")
    overview = pd.DataFrame([
        ("responses in the file", n_read),
        (f"unfinished responses ({policy}; from '{finished_by or 'none'}')", n_unfinished),
        ("responses used", len(typed)),
        ("ratings (answered items)", len(ratings)),
        ("not observed answers", int(counts["n_not_observed"].sum())),
        ("items", len(found)),
        ("competencies", items["skill"].nunique()),
        ("reversed items", int(items["reverse"].sum())),
    ], columns=["quantity", "n"])
    return SurveyReading(
        file=file, shape=shape, overview=overview, items_per_skill=per_skill,
        responses_per_source=per_source, labels=label_table,
        not_observed_by_item=_rate(counts, ["item", "skill"]),
        not_observed_by_source=_rate(counts, ["source", "wave"]),
        item_counts=counts, instrument_items=items.reset_index(drop=True),
        dropped_columns=tuple(map(str, dropped)),
        anonymous_raters=anonymous, warnings=tuple(p for p in problems if p.severity != "error"),
        settings={"format": settings.format, "unfinished": settings.unfinished,
                  "strict": settings.strict, "instrument": instrument.file},
    )


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
