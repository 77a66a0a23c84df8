"""The column contracts of the input tables and the rating scale.

One place says which tables exist (ratings, people, framework, catalog, enrollments, scale),
which columns each has, their kind (id, text, number, wave, date, bool, choice), which are
required, their defaults and their allowed values. Readers, validation and the CLI all read
these specs; nothing else lists the columns again.

**The ratings contract with items.** One row per ratee, rater, skill (the competency) and, when
the instrument measures a competency with several behavioural items, ``item``: the item's id
as the instrument names it (text). Without an ``item`` column a ratings table is exactly what
it always was (one score per ratee, rater, skill and wave). With one:

* ``score`` is the item's answer on the rating scale, reverse-scored for reverse-keyed items
  (``min + max - answer``), so a higher score always means more of the skill (a long file read
  with its instrument holds the answers as given and is reverse-scored on reading,
  docs/survey_exports.md);
* the key is (ratee, rater, skill, item, wave): an item belongs to one skill;
* a **"not observed"** answer ("N/A", "Not observed", "Unable to rate", "Don't know", blank) is
  missing, never a low score: it has **no row** in the ratings table (every later stage can
  trust that scores are finite), and it is **counted** instead, per item, skill, source and
  wave, in the item-counts table (:data:`ITEM_COUNT_COLUMNS`; ``Organisation.item_counts``
  and ``SurveyReading.item_counts``; not in ``ratings.attrs``, which pandas compares and
  copies in every concat), whose ``n_not_observed / n_responses`` is the not-observed rate
  psychometrics reports;
* when the export has a response id but no rater identity, each response is its own rater:
  ``rater`` is the response id (the ratee's own id for a self rating) and
  ``Organisation.anonymous_raters`` (and ``ratings.attrs["anonymous_raters"]``) is True.

Survey exports in their own shape (one row per response, one column per item) are turned into
this contract by :mod:`workbench.tables.survey` with the instrument of
:mod:`workbench.tables.instrument`.

Examples
--------
>>> [c.name for c in CONTRACTS["enrollments"]]
['person', 'activity', 'start', 'end', 'completed']
>>> Scale().contains([0, 3, 5]).tolist()
[False, True, True]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from workbench.errors import ConfigError

__all__ = [
    "SOURCES",
    "ACTIVITY_KINDS",
    "GAP_TYPES",
    "TABLES",
    "SUFFIXES",
    "CONTRACTS",
    "ITEM_COUNT_COLUMNS",
    "ColumnSpec",
    "Scale",
    "as_scale",
    "SCALE_SETTINGS",
    "id_columns",
]

SOURCES = ("self", "manager", "peer", "direct_report", "other")
ACTIVITY_KINDS = (
    "course",
    "role_play",
    "coaching",
    "stretch_assignment",
    "case_study",
    "mentoring",
    "observation",
    "reading",
)
GAP_TYPES = ("knowledge", "behaviour")
TABLES = ("ratings", "people", "framework", "catalog", "enrollments", "scale", "paths",
          "outcomes")
#: File endings the readers understand (a table is ``<table><suffix>``, e.g. people.xlsx).
SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".parquet", ".pq")


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a contract.

    Attributes
    ----------
    name : str
        The contract's name of the column.
    kind : {"id", "text", "number", "wave", "date", "bool", "choice"}
        How cells are typed and checked. ``id`` columns are always read as text (``'007'``
        stays ``'007'`` in every file format).
    required : bool
    default : object
        Value of an optional column that is absent (or of its empty cells).
    choices : tuple
        Allowed values of a ``choice`` column.
    """

    name: str
    kind: str
    required: bool = True
    default: object = None
    choices: tuple = ()


_C = ColumnSpec

CONTRACTS: dict[str, tuple[ColumnSpec, ...]] = {
    "ratings": (
        _C("ratee", "id"),
        _C("rater", "id"),
        _C("source", "choice", choices=SOURCES),
        _C("skill", "id"),
        _C("score", "number"),
        _C("wave", "wave", required=False, default=1),
        _C("date", "date", required=False),
        _C("comment", "text", required=False),
        _C("item", "id", required=False),
        _C("anonymous_rater", "bool", required=False),
    ),
    "people": (
        _C("person", "id"),
        _C("role", "id"),
        _C("team", "id"),
        _C("manager", "id", required=False),
        _C("level", "text", required=False),
        _C("tenure", "number", required=False),
        _C("location", "text", required=False),
        _C("target_role", "id", required=False),
    ),
    "framework": (
        _C("role", "id"),
        _C("skill", "id"),
        _C("required_level", "number"),
        _C("weight", "number", required=False, default=1.0),
        _C("skill_group", "text", required=False),
        _C("gap_type", "choice", required=False, choices=GAP_TYPES),
    ),
    "catalog": (
        _C("activity", "id"),
        _C("title", "text"),
        _C("skill", "id"),
        _C("kind", "choice", choices=ACTIVITY_KINDS),
        _C("gap_type", "choice", choices=GAP_TYPES),
        _C("level_from", "number"),
        _C("level_to", "number"),
        _C("hours", "number"),
        _C("weeks", "number"),
        _C("cost", "number", required=False),
        _C("modality", "text", required=False),
        _C("expected_gain", "number", required=False),
        _C("expected_gain_se", "number", required=False),
    ),
    "enrollments": (
        _C("person", "id"),
        _C("activity", "id"),
        _C("start", "date"),
        _C("end", "date"),
        _C("completed", "bool"),
    ),
    "scale": (
        _C("value", "number"),
        _C("label", "text", required=False),
    ),
    # optional inputs of the progression stage (workbench.progression)
    "paths": (
        _C("role", "id"),
        _C("next_role", "id"),
        _C("typical_months", "number", required=False),
        _C("lateral", "bool", required=False),
    ),
    "outcomes": (
        _C("person", "id"),
        _C("metric", "id"),
        _C("value", "number"),
        _C("date", "date", required=False),
        _C("period", "text", required=False),
        _C("higher_is_better", "bool", required=False),
    ),
}


#: Columns of the item-counts table: per item, skill, source and wave, how many responses
#: reached the item (``n_responses``) and how many of them answered "not observed"
#: (``n_not_observed``; those have no row in the ratings table).
ITEM_COUNT_COLUMNS = ("item", "skill", "source", "wave", "n_responses", "n_not_observed")


def id_columns(table: str) -> tuple[str, ...]:
    """The contract columns of ``table`` that hold identifiers (read as text everywhere).

    Examples
    --------
    >>> id_columns("ratings")
    ('ratee', 'rater', 'skill', 'item')
    """
    return tuple(c.name for c in CONTRACTS[table] if c.kind == "id")


#: Where a command's rating scale can come from, in the words every message uses.
SCALE_SETTINGS = "a scale file (scale.csv), a 'scale: [MIN, MAX]' entry in the mapping or --scale"


@dataclass(frozen=True)
class Scale:
    """The rating scale: its lowest and highest points, the anchor labels, and where it came
    from (``source``: a scale file, the mapping, an option; empty for the default 1 to 5).

    One setting for every command: a scale file, the mapping's ``scale`` entry or the
    ``--scale`` option (:func:`as_scale`); messages about scores off the scale name it
    (:meth:`describe`).

    Examples
    --------
    >>> Scale().max
    5.0
    >>> Scale(0, 100, source="--scale 0 100").describe()
    '0 to 100, from --scale 0 100'
    """

    min: float = 1.0
    max: float = 5.0
    anchors: Mapping[float, str] = field(
        default_factory=lambda: {
            1.0: "Needs significant development",
            2.0: "Developing",
            3.0: "Proficient",
            4.0: "Advanced",
            5.0: "Expert",
        }
    )
    source: str = field(default="", compare=False)

    def __post_init__(self):
        if not (np.isfinite(self.min) and np.isfinite(self.max)) or self.min >= self.max:
            where = f"{self.source}: " if self.source else "scale: "
            raise ConfigError(f"{where}min ({self.min:g}) must be below max ({self.max:g})")

    def contains(self, values) -> np.ndarray:
        values = np.asarray(values, dtype=float)
        return (values >= self.min) & (values <= self.max)

    def describe(self) -> str:
        """The scale and where it came from, as messages about off-scale values name it."""
        if self.source:
            return f"{self.min:g} to {self.max:g}, from {self.source}"
        return f"{self.min:g} to {self.max:g}, the default; set another with {SCALE_SETTINGS}"


def as_scale(scale, *, source: str = "") -> Scale | None:
    """A :class:`Scale` from what a user hands in: a Scale, a ``(min, max)`` pair, or None.

    A pair gets no anchor labels (labels come from a scale file). ``source`` says where it
    came from ("--scale 0 100", "the mapping's 'scale'"); a Scale keeps its own.

    Examples
    --------
    >>> as_scale((0, 100), source="--scale 0 100").describe()
    '0 to 100, from --scale 0 100'
    >>> as_scale(None) is None
    True
    """
    if scale is None or isinstance(scale, Scale):
        return scale
    try:
        low, high = (float(v) for v in scale)
    except (TypeError, ValueError):
        raise ConfigError(f"{source or 'scale'}={scale!r}: give the lowest and highest point "
                          "of the scale, e.g. [0, 100]") from None
    return Scale(low, high, {}, source=source or f"scale=({low:g}, {high:g})")
