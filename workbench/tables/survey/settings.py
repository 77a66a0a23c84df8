"""The mapping's ``survey:`` section checked (:class:`SurveySettings`; the export shapes it
may name, :data:`FORMATS`), and what it implies: the response scale answers are scored on
(:func:`response_scale`) and the instrument (:func:`find_instrument`).

Examples
--------
>>> from workbench.tables.mapping import as_mapping
>>> SurveySettings.from_mapping(as_mapping({"survey": {"format": "grid"}})).format
'grid'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from workbench.errors import ConfigError, InputError, Problem
from workbench.tables.columns import SUFFIXES, Scale
from workbench.tables.instrument import (
    NOT_OBSERVED_LABELS,
    ResponseScale,
    load_instrument,
)
from workbench.tables.mapping import ColumnMapping

__all__ = ["FORMATS", "SurveySettings"]


FORMATS = ("auto", "long", "wide", "qualtrics", "surveymonkey", "grid")
_SETTINGS_KEYS = ("format", "instrument", "labels", "not_observed", "scale", "response_id",
                  "finished", "unfinished", "strict")


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


def response_scale(settings: SurveySettings, scale: Scale, scale_declared: bool):
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


def find_instrument(settings: SurveySettings, path: Path, folder):
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
