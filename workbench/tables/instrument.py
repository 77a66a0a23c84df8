"""The instrument (which item measures which competency) and the response scale (its labels).

A 360 instrument measures each competency (``skill``) with several behavioural items, some of
them reverse-keyed ("Avoids giving difficult feedback"). The instrument says, for each item:

========  =====================================================================================
item      the item's id (kept in the ratings' ``item`` column)
column    its column in the export: the question id (``Q3_2``) or the header text
          (``Gives clear direction``, ``Communication [Gives clear direction]``); default: item
skill     the competency it measures (one per item)
reverse   whether it is reverse-keyed (yes/no; default no)
text      the item's wording (optional)
========  =====================================================================================

It comes as ``instrument.csv`` (or .xlsx) beside the ratings, a file named in the mapping's
``survey: {instrument: ...}``, or the same rows inline under ``survey: {instrument: [...]}``.

The response scale turns answers into scores: numbers as they are, ``"4 - Often"`` style
labels by their leading number, and text labels by the mapping's ``survey: {labels: {...}}``
or the scale file's labels. The "not observed" labels ("N/A", "Not observed", "Unable to rate",
"Don't know", blank, and any in ``survey: {not_observed: [...]}``) are missing answers, never
scores. A reverse-keyed answer ``x`` scores ``min + max - x`` on a declared range.

Examples
--------
>>> inst = instrument_from_rows([
...     {"item": "C1", "skill": "Communication"},
...     {"item": "C2", "skill": "Communication", "reverse": "yes"}], file="<mapping>")
>>> inst.items[["item", "column", "skill", "reverse"]].to_dict("records")[1]
{'item': 'C2', 'column': 'C2', 'skill': 'Communication', 'reverse': True}
>>> scale = ResponseScale(labels={"Strongly disagree": 1, "Strongly agree": 5}, low=1, high=5)
>>> scale.score(pd.Series(["Strongly agree", "N/A", "3 - Sometimes", "2", "Maybe"]))
(array([ 5., nan,  3.,  2., nan]), array([False,  True, False, False, False]), array([False, False, False, False,  True]))
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import InputError, Problem
from workbench.tables.mapping import normalise_header
from workbench.tables.readers import read_table

__all__ = [
    "INSTRUMENT_COLUMNS",
    "NOT_OBSERVED_LABELS",
    "Instrument",
    "ResponseScale",
    "load_instrument",
    "instrument_from_rows",
]

INSTRUMENT_COLUMNS = ("item", "column", "skill", "reverse", "text")
#: Answers that mean "no rating" (compared without case, spaces and punctuation).
NOT_OBSERVED_LABELS = (
    "", "N/A", "NA", "Not applicable", "Not observed", "Unable to rate", "Unable to judge",
    "Don't know", "Do not know", "Cannot say", "No opinion", "Not able to rate",
)
_ALIASES = {"competency": "skill", "competence": "skill", "dimension": "skill",
            "scale": "skill", "item_id": "item", "question": "column", "question_id": "column",
            "export_column": "column", "header": "column", "reversed": "reverse",
            "reverse_keyed": "reverse", "reverse_scored": "reverse", "item_text": "text",
            "wording": "text"}
_TRUE = {"true", "yes", "y", "1", "r", "reverse", "reversed", "x"}
_FALSE = {"false", "no", "n", "0", ""}
# "4 - Often", "4 = Often", "4. Often", "(4) Often", "4: Often"
_LEADING_NUMBER = re.compile(r"^\(?\s*([-+]?\d+(?:[.,]\d+)?)\s*\)?\s*(?:[-\u2013\u2014=:.)]|\s)\s*\S")


def label_key(text) -> str:
    """How answer labels are compared: Unicode-normalised (NFKC), case, spaces and punctuation
    ignored; letters of every script kept.

    Examples
    --------
    >>> label_key(" Don’t  know ") == label_key("don't know")
    True
    >>> label_key("Stimme völlig zu"), label_key("N/A")
    ('stimmevölligzu', 'na')
    """
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", str(text)).casefold())


@dataclass(frozen=True)
class Instrument:
    """Items and the competency each measures.

    Attributes
    ----------
    items : DataFrame
        item, column, skill, reverse (bool), text, one row per item, in the instrument's order.
    file : str
        Where it was read from (a file, or ``<mapping>`` for rows in the mapping YAML).
    """

    items: pd.DataFrame
    file: str = "<mapping>"
    rows: tuple = ()

    def row_of(self, item: str) -> int | None:
        """The item's row in the instrument file (or its position in the mapping's list)."""
        at = self.items.index[self.items["item"] == item]
        return self.rows[at[0]] if len(at) and len(self.rows) > at[0] else None

    @property
    def skills(self) -> list[str]:
        return list(dict.fromkeys(self.items["skill"]))

    @property
    def reversed_items(self) -> list[str]:
        return self.items.loc[self.items["reverse"], "item"].tolist()


def instrument_from_rows(rows: Sequence[Mapping] | pd.DataFrame, *, file: str = "<mapping>",
                         row_numbers: Sequence[int] | None = None) -> Instrument:
    """Check instrument rows (dicts, or a table of text) and return the :class:`Instrument`.

    Raises
    ------
    InputError
        Every problem at once, each with file, row and column: a missing item id or skill, a
        reverse flag that is not yes/no, an item mapped to two competencies, an item listed
        twice, two items on one export column.
    """
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(
        [dict(r) if isinstance(r, Mapping) else {"item": r} for r in rows])
    frame = frame.rename(columns=lambda c: _ALIASES.get(normalise_header(c), normalise_header(c)))
    numbers = list(row_numbers) if row_numbers is not None else [None] * len(frame)
    problems = []
    if frame.empty:
        problems.append(Problem(file, None, None, "the instrument lists no items"))
    for name in ("item", "skill"):
        if name not in frame:
            problems.append(Problem(file, None, name, f"the instrument has no '{name}' column "
                                    f"(columns: {', '.join(map(str, frame.columns)) or 'none'})"))
    if problems:
        raise InputError(problems)
    text = frame.reindex(columns=list(INSTRUMENT_COLUMNS)).astype(object).fillna("").astype(str)
    text = text.apply(lambda col: col.str.strip())
    text["column"] = text["column"].where(text["column"] != "", text["item"])
    for i, row in enumerate(text.itertuples(index=False)):
        for name in ("item", "skill"):
            if getattr(row, name) == "":
                problems.append(Problem(file, numbers[i], name, f"'{name}' is empty"))
        if row.reverse.lower() not in _TRUE | _FALSE:
            problems.append(Problem(file, numbers[i], "reverse",
                                    "'reverse' is not yes/no (true/false, 1/0)", row.reverse))
    first: dict[str, int] = {}
    for i, (item, skill) in enumerate(zip(text["item"], text["skill"], strict=True)):
        if item == "":
            continue
        if item in first:
            other = text["skill"].iat[first[item]]
            message = (f"item {item!r} is mapped to two competencies ({other!r} and {skill!r}); "
                       "an item measures one competency" if other != skill else
                       f"item {item!r} is listed twice")
            problems.append(Problem(file, numbers[i], "item", message, item))
        else:
            first[item] = i
    seen: dict[str, int] = {}
    for i, column in enumerate(text["column"]):
        key = normalise_header(column)
        if key in seen and text["item"].iat[seen[key]] != text["item"].iat[i]:
            problems.append(Problem(
                file, numbers[i], "column", f"items {text['item'].iat[seen[key]]!r} and "
                f"{text['item'].iat[i]!r} both read the export column {column!r}", column))
        seen.setdefault(key, i)
    if problems:
        raise InputError(problems)
    text["reverse"] = text["reverse"].str.lower().isin(_TRUE)
    return Instrument(text.reset_index(drop=True), file, tuple(numbers))


def load_instrument(source: str | Path | Sequence[Mapping]) -> Instrument:
    """An :class:`Instrument` from a file (csv, xlsx, parquet) or the mapping's inline rows.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "instrument.csv"
    >>> _ = path.write_text("item,competency,reverse\\nF1,Feedback,no\\nF2,Feedback,yes\\n")
    >>> load_instrument(path).reversed_items
    ['F2']
    """
    if isinstance(source, (str, Path)):
        frame = read_table(source, expected=INSTRUMENT_COLUMNS + tuple(_ALIASES), row_index=True,
                           table="instrument")
        return instrument_from_rows(frame, file=str(source), row_numbers=frame.index.tolist())
    return instrument_from_rows(source, file="<mapping survey.instrument>",
                                row_numbers=[i + 1 for i in range(len(source))])


@dataclass(frozen=True)
class ResponseScale:
    """How answers become scores: labels, "not observed" labels and the scale's range.

    Parameters
    ----------
    labels : dict
        ``{label: value}`` ("Strongly agree": 5); compared without case and punctuation.
    not_observed : sequence of str
        Labels that mean no rating (default :data:`NOT_OBSERVED_LABELS`).
    low, high : float or None
        The scale's range, needed to reverse-score (``low + high - x``); None when no range was
        declared (no labels, no scale file, no ``survey: {scale: ...}``).
    """

    labels: Mapping = field(default_factory=dict)
    not_observed: Sequence[str] = NOT_OBSERVED_LABELS
    low: float | None = None
    high: float | None = None

    @property
    def declared(self) -> bool:
        return self.low is not None and self.high is not None

    def score(self, answers: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(scores, not-observed mask, unknown-label mask) of a column of answers (text).

        Each distinct answer is looked at once, so a 2-million-cell export costs one pass.
        """
        codes, uniques = pd.factorize(answers.fillna("").astype(str), sort=False)
        values = np.full(len(uniques), np.nan)
        missing = np.zeros(len(uniques), bool)
        unknown = np.zeros(len(uniques), bool)
        labels = {label_key(k): float(v) for k, v in self.labels.items()}
        absent = {label_key(v) for v in self.not_observed} - {""}
        absent_as_written = {str(v).strip() for v in self.not_observed}
        for k, answer in enumerate(uniques):
            key = label_key(answer)
            # a label of punctuation only ("-", "?") is not observed only when listed as such
            if answer.strip() in absent_as_written or (key and key in absent):
                missing[k] = True
            elif key in labels:
                values[k] = labels[key]
            else:
                number = _number(answer)
                if number is None:
                    unknown[k] = True
                else:
                    values[k] = number
        if len(codes) == 0:
            return np.array([]), np.array([], bool), np.array([], bool)
        return values[codes], missing[codes], unknown[codes]


def _number(answer: str) -> float | None:
    """The answer's number: the whole answer ("3.5", "3,5"), else a leading number before its
    label ("1 - Never", "(2) Rarely"). The whole answer is tried first, so "3.5" is never read as
    a "3." with the label "5"."""
    text = answer.strip()
    value = _float(text)
    if value is None:
        match = _LEADING_NUMBER.match(text)
        value = _float(match.group(1)) if match else None
    return value if value is not None and np.isfinite(value) else None


def _float(text: str) -> float | None:
    try:
        return float(text.replace(",", "."))
    except ValueError:
        return None
