"""Client column names and source labels: the :class:`ColumnMapping`, and YAML reading.

Client exports keep their own headers ("Employee ID", "Relationship") and labels ("Line
Manager"). A mapping renames them to the contracts of :mod:`workbench.tables.columns`; labels
not listed are matched case-insensitively to the sources and to common aliases.

Examples
--------
>>> m = ColumnMapping.from_dict({"source_labels": {"LM": "manager"}})
>>> m.source_for("LM"), m.source_for("Line Manager"), m.source_for("Friend")
('manager', 'manager', None)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from workbench.errors import ConfigError
from workbench.tables.columns import SOURCES

__all__ = ["ColumnMapping", "read_yaml", "as_mapping", "normalise_header"]

_SOURCE_ALIASES = {
    "line_manager": "manager",
    "manager": "manager",
    "supervisor": "manager",
    "boss": "manager",
    "direct_report": "direct_report",
    "direct_reports": "direct_report",
    "direct": "direct_report",
    "report": "direct_report",
    "subordinate": "direct_report",
    "peer": "peer",
    "peers": "peer",
    "colleague": "peer",
    "self": "self",
    "self_rating": "self",
    "self_assessment": "self",
    "other": "other",
    "others": "other",
    "customer": "other",
    "client": "other",
}


def normalise_header(text: str) -> str:
    """'Direct Report' -> 'direct_report': how headers and labels are compared.

    Examples
    --------
    >>> normalise_header(" Required-Level ")
    'required_level'
    """
    return re.sub(r"[\s\-/]+", "_", str(text).strip().lower())


@dataclass
class ColumnMapping:
    """How a client's export maps onto the workbench's contracts.

    Parameters
    ----------
    columns : dict
        Either ``{table: {client_column: contract_column}}`` or one flat
        ``{client_column: contract_column}`` applied to every table.
    source_labels : dict
        ``{client_label: source}``, e.g. ``{"Line Manager": "manager"}``. Labels not listed are
        matched case-insensitively to the contract's sources and common aliases.
    survey : dict
        How a survey export (one row per response, one column per item) is read: its format,
        instrument, response labels, response id, unfinished policy; checked and explained in
        :mod:`workbench.tables.survey` (``SurveySettings``).

    Examples
    --------
    >>> m = ColumnMapping.from_dict({"columns": {"ratings": {"Employee": "ratee"}},
    ...                              "source_labels": {"LM": "manager"}})
    >>> m.rename_for("ratings")["Employee"]
    'ratee'
    """

    columns: dict = field(default_factory=dict)
    source_labels: dict = field(default_factory=dict)
    survey: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, spec: Mapping | None) -> ColumnMapping:
        """A mapping from its dict form; every bad entry is named in one ConfigError."""
        if spec is None:
            return cls()
        if not isinstance(spec, Mapping):
            raise ConfigError(f"column mapping must be a mapping, got {type(spec).__name__}")
        problems = []
        unknown = set(map(str, spec)) - {"columns", "source_labels", "survey"}
        if unknown:
            problems.append(f"unknown key(s) {sorted(unknown)}; expected 'columns', "
                            "'source_labels' and/or 'survey'")
        survey = spec.get("survey") or {}
        if not isinstance(survey, Mapping):
            problems.append(f"'survey' must be a mapping, got {type(survey).__name__}")
            survey = {}
        columns, labels = spec.get("columns") or {}, spec.get("source_labels") or {}
        for key, value in (("columns", columns), ("source_labels", labels)):
            if not isinstance(value, Mapping):
                problems.append(f"'{key}' must be a mapping, got {type(value).__name__}")
        if not isinstance(columns, Mapping):
            columns = {}
        if not isinstance(labels, Mapping):
            labels = {}
        for label, source in labels.items():
            if source not in SOURCES:
                problems.append(f"source label {label!r} maps to {source!r}, which is not one "
                                f"of {', '.join(SOURCES)}")
        if problems:
            raise ConfigError("column mapping: " + "; ".join(problems))
        return cls(columns=dict(columns), source_labels={str(k): v for k, v in labels.items()},
                   survey=dict(survey))

    @classmethod
    def from_yaml(cls, path: str | Path) -> ColumnMapping:
        """Read a mapping file (or the ``mapping`` section of an engagement file)."""
        spec = read_yaml(path, what="column mapping file")
        if isinstance(spec, Mapping) and "mapping" in spec:
            spec = spec["mapping"]
        return cls.from_dict(spec)

    def rename_for(self, table: str) -> dict:
        """``{client_column: contract_column}`` for one table."""
        if any(isinstance(v, Mapping) for v in self.columns.values()):
            return {str(k): v for k, v in (self.columns.get(table) or {}).items()}
        return {str(k): v for k, v in self.columns.items()}

    def source_for(self, label: str) -> str | None:
        """The contract source of a client label, or None when it is unknown."""
        if label in self.source_labels:
            return self.source_labels[label]
        key = normalise_header(label)
        for client, source in self.source_labels.items():
            if normalise_header(client) == key:
                return source
        return _SOURCE_ALIASES.get(key)


def as_mapping(mapping: ColumnMapping | Mapping | str | Path | None) -> ColumnMapping:
    """A ColumnMapping from a mapping, its dict form, a YAML file or None (no renaming).

    Examples
    --------
    >>> as_mapping(None).columns
    {}
    """
    if isinstance(mapping, ColumnMapping):
        return mapping
    if isinstance(mapping, (str, Path)):
        return ColumnMapping.from_yaml(mapping)
    return ColumnMapping.from_dict(mapping)


def read_yaml(path: str | Path, *, what: str = "file") -> object:
    """Read a YAML file (UTF-8, BOM tolerated); a missing, unreadable or bad file is a
    ConfigError naming the file."""
    import yaml

    path = Path(path)
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: {what} not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder; expected the {what}") from None
    except PermissionError:
        raise ConfigError(f"{path}: {what} cannot be read (permission denied)") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: {what} is not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"{path}: {what} cannot be read ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
