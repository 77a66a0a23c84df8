"""Export shapes and platform headers: which platform wrote a file (:func:`detect_shape`), the
platforms' metadata columns (:data:`METADATA_COLUMNS`), the file read as text cells
(:func:`read_export`), and its header rows resolved into one row per response with the names an
instrument may use for each column (:func:`resolve_headers`: Qualtrics' question-text row,
SurveyMonkey's sub-question row, ``Question [Item]`` grids).

Examples
--------
>>> frame = pd.DataFrame({"Q1_1": ["Feedback - Gives praise", '{"ImportId":"QID1_1"}', "4"]})
>>> export = resolve_headers(frame, "qualtrics")
>>> export.names["Q1_1"], len(export.frame)
(['Q1_1', 'Feedback - Gives praise', 'Gives praise'], 1)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from workbench.errors import InputError
from workbench.tables.columns import CONTRACTS
from workbench.tables.instrument import (
    label_key,
)
from workbench.tables.mapping import ColumnMapping, normalise_header
from workbench.tables.readers import read_table

__all__ = ["METADATA_COLUMNS", "detect_shape"]


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
_GRID = re.compile(r"^(?P<question>.*?)\s*\[(?P<item>[^\[\]]+)\]\s*$")
_DASH = re.compile(r"^(?P<question>.+?)\s+[-\u2013]\s+(?P<item>[^-\u2013]+)$")
_SINGLE_ANSWER = {"", "response", "openendedresponse", "other"}


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
class Export:
    """An export with its header rows resolved: the responses and each column's names."""

    frame: pd.DataFrame          # one row per response, index = row number in the file
    names: dict                  # column -> the names an instrument may use for it
    header_row: int


def resolve_headers(frame: pd.DataFrame, shape: str) -> Export:
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
    return Export(frame, names, header_row)


def read_export(path: Path, mapping: ColumnMapping) -> pd.DataFrame:
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


def platform(shape: str, export: Export) -> str:
    """The platform behind a shape: a grid export with a Timestamp column is Google Forms'."""
    if shape == "grid" and "timestamp" in {label_key(c) for c in export.frame.columns}:
        return "googleforms"
    return shape
