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
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from workbench.errors import ConfigError
from workbench.tables.columns import SOURCES, TABLES
from workbench.tables.formats import DECIMAL_MARKS, parse_date_format

__all__ = [
    "ColumnMapping",
    "read_yaml",
    "as_mapping",
    "normalise_header",
    "regular_file_problem",
    "MAX_YAML_BYTES",
    "MAX_YAML_NODES",
    "MAX_YAML_DEPTH",
]

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
    """'Direct Report' -> 'direct_report': how headers and labels are compared (Unicode NFC,
    invisible format characters such as a zero-width space dropped, case-folded).

    Examples
    --------
    >>> normalise_header(" Required-Level "), normalise_header("Line\u200b Manager")
    ('required_level', 'line_manager')
    """
    text = unicodedata.normalize("NFC", str(text))
    if not text.isascii():
        text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return re.sub(r"[\s\-/]+", "_", text.strip().lower())


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
    date_format : dict
        ``{"*": "DD.MM.YYYY"}`` (every table) or ``{table: format}``: the order of day, month
        and year of the dates (``DD.MM.YYYY``, ``MM/DD/YYYY``, ``YYYY-MM-DD``; any of ``-./``
        between). In YAML: ``date_format: DD.MM.YYYY`` or ``date_format: {ratings: ...}``.
        Without it the order is detected from the file and said (see
        :mod:`workbench.tables.formats`).
    decimal_mark : dict
        ``{"*": ","}`` or ``{table: mark}``: the decimal mark of the numbers (``.`` or ``,``),
        which decides values such as ``1,600``; detected from the file without it.
    survey : dict
        How a survey export (one row per response, one column per item) is read: its format,
        instrument, response labels, response id, unfinished policy; checked and explained in
        :mod:`workbench.tables.survey` (``SurveySettings``).
    scale : tuple or None
        ``scale: [MIN, MAX]`` in the file: the rating scale of the data (e.g. ``[0, 100]`` for
        test scores), for every command that reads it; None: a scale file or 1 to 5.

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
    scale: tuple | None = None
    date_format: dict = field(default_factory=dict)
    decimal_mark: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, spec: Mapping | None) -> ColumnMapping:
        """A mapping from its dict form; every bad entry is named in one ConfigError."""
        if spec is None:
            return cls()
        if not isinstance(spec, Mapping):
            raise ConfigError(f"column mapping must be a mapping, got {type(spec).__name__}")
        problems = []
        unknown = set(map(str, spec)) - {"columns", "source_labels", "survey", "scale",
                                         "date_format", "decimal_mark"}
        if unknown:
            problems.append(f"unknown key(s) {sorted(unknown)}; expected 'columns', "
                            "'source_labels', 'survey', 'scale', 'date_format' and/or "
                            "'decimal_mark'")
        formats = {}
        for key, check, allowed in (
            ("date_format", parse_date_format, "DD.MM.YYYY, MM/DD/YYYY or YYYY-MM-DD"),
            ("decimal_mark", lambda v: v if v in DECIMAL_MARKS else None, "'.' or ','"),
        ):
            value = spec.get(key)
            if value is None:
                continue
            per_table = dict(value) if isinstance(value, Mapping) else {"*": value}
            for table, given in per_table.items():
                if table != "*" and table not in TABLES:
                    problems.append(f"'{key}' names the table {table!r}, which is not one of "
                                    f"{', '.join(TABLES)}")
                elif check(given) is None:
                    problems.append(f"'{key}'" + (f" of {table}" if table != "*" else "")
                                    + f" must be {allowed}, got {given!r}")
            formats[key] = per_table
        survey = spec.get("survey") or {}
        if not isinstance(survey, Mapping):
            problems.append(f"'survey' must be a mapping, got {type(survey).__name__}")
            survey = {}
        scale = spec.get("scale")
        if isinstance(scale, Mapping):
            scale = [scale.get("min"), scale.get("max")]
        if scale is not None:
            try:
                low, high = (float(v) for v in scale)
                if not (np.isfinite(low) and np.isfinite(high) and low < high):
                    raise ValueError
                scale = (low, high)
            except (TypeError, ValueError):
                problems.append(f"'scale' must be [MIN, MAX] with MIN below MAX, got {scale!r}")
                scale = None
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
                   survey=dict(survey), scale=scale,
                   date_format=formats.get("date_format", {}),
                   decimal_mark=formats.get("decimal_mark", {}))

    @classmethod
    def from_yaml(cls, path: str | Path) -> ColumnMapping:
        """Read a mapping file (or the ``mapping`` section of an engagement file)."""
        spec = read_yaml(path, what="column mapping file")
        if isinstance(spec, Mapping) and "mapping" in spec:
            spec = spec["mapping"]
        mapping = cls.from_dict(spec)
        instrument = mapping.survey.get("instrument")
        if isinstance(instrument, str) and (Path(path).parent / instrument).exists():
            # an instrument file named in the mapping is found beside the mapping file
            mapping.survey["instrument"] = str(Path(path).parent / instrument)
        return mapping

    def rename_for(self, table: str) -> dict:
        """``{client_column: contract_column}`` for one table."""
        if any(isinstance(v, Mapping) for v in self.columns.values()):
            return {str(k): v for k, v in (self.columns.get(table) or {}).items()}
        return {str(k): v for k, v in self.columns.items()}

    def date_order_for(self, table: str) -> str | None:
        """The order of day, month and year the mapping states for a table's dates
        (``"DMY"``, ``"MDY"``, ``"YMD"``), or None to detect it from the file."""
        given = self.date_format.get(table, self.date_format.get("*"))
        return None if given is None else parse_date_format(given)

    def decimal_mark_for(self, table: str) -> str | None:
        """The decimal mark the mapping states for a table's numbers, or None to detect it."""
        return self.decimal_mark.get(table, self.decimal_mark.get("*"))

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


#: A mapping, engagement or plans configuration file is a few kilobytes; past this it is refused
#: before it is parsed.
MAX_YAML_BYTES = 1_000_000
#: Nodes a YAML document may hold with every alias expanded (a "billion laughs" file of a few
#: hundred bytes expands to billions of nodes when a later step walks it).
MAX_YAML_NODES = 100_000
#: How deeply lists and mappings may nest.
MAX_YAML_DEPTH = 50


def regular_file_problem(path: Path) -> str | None:
    """Why ``path`` cannot be read as an input file, or None when it is a regular file.

    A named pipe or a device would block the reader (or never end), so it is refused before
    it is opened. Looking at a path never opens it.

    Examples
    --------
    >>> regular_file_problem(Path("/dev/null"))
    'is not a regular file (a device); give a file'
    """
    import stat

    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return ("broken link: the file it points to is missing" if path.is_symlink()
                else "file not found")
    except OSError as exc:  # a name too long even to look at, a loop of links
        return f"cannot be opened ({exc.strerror or exc})"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    kind = ("a named pipe" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a device")
    return f"is not a regular file ({kind}); give a file"


def _yaml_limits(node) -> str | None:
    """Why a composed YAML document is too large or too deep once aliases are expanded.

    Each node's expanded size is computed once (aliases share nodes), so checking a hostile
    document takes time in proportion to its text, not to its expansion.
    """
    import yaml

    sizes: dict[int, int] = {}
    depths: dict[int, int] = {}
    busy: set[int] = set()
    # iterative post-order walk: a deeply nested document must not hit Python's recursion limit
    stack = [(node, False)]
    while stack:
        current, done = stack.pop()
        key = id(current)
        if isinstance(current, yaml.MappingNode):
            children = [n for pair in current.value for n in pair]
        elif isinstance(current, yaml.SequenceNode):
            children = list(current.value)
        else:
            children = []
        if done:
            busy.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in children)
            depths[key] = 1 + max((depths[id(c)] for c in children), default=0)
            if sizes[key] > MAX_YAML_NODES:
                return (f"expands to more than {MAX_YAML_NODES:,} values (aliases repeated "
                        "inside aliases); a configuration file is never that large")
            if depths[key] > MAX_YAML_DEPTH:
                return f"nests lists or mappings more than {MAX_YAML_DEPTH} levels deep"
            continue
        if key in sizes:
            continue
        if key in busy:
            return "an alias refers to a list or mapping that contains it (a loop)"
        busy.add(key)
        stack.append((current, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)
    return None


def read_yaml(path: str | Path, *, what: str = "file") -> object:
    """Read a YAML file (UTF-8, BOM tolerated) within limits of size, depth and aliases.

    A missing, unreadable, non-regular (a named pipe, a device) or bad file is a ConfigError
    naming the file, and so is one larger than :data:`MAX_YAML_BYTES`, nested deeper than
    :data:`MAX_YAML_DEPTH` or expanding (through aliases) to more than
    :data:`MAX_YAML_NODES` values: a small hostile file cannot take minutes or gigabytes.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "bomb.yaml"
    >>> _ = path.write_text("a: &a [x, x, x, x, x, x, x, x, x, x]\\n"
    ...                     + "".join(f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, "
    ...                               f"*{p}, *{p}, *{p}]\\n" for p, c in zip("abcde", "bcdef")))
    >>> read_yaml(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    workbench.errors.ConfigError: ...bomb.yaml: expands to more than 100,000 values (aliases repeated inside aliases); a configuration file is never that large
    """
    import yaml

    path = Path(path)
    problem = regular_file_problem(path)
    if problem is not None:
        if problem == "file not found":
            problem = f"{what} not found"
        elif problem == "is a folder, not a file":
            problem = f"is a folder; expected the {what}"
        raise ConfigError(f"{path}: {problem}")
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_YAML_BYTES + 1)
        if len(raw) > MAX_YAML_BYTES:
            raise ConfigError(f"{path}: the {what} is larger than {MAX_YAML_BYTES:,} bytes; "
                              "it should be a few kilobytes")
        text = raw.decode("utf-8-sig")
    except PermissionError:
        raise ConfigError(f"{path}: {what} cannot be read (permission denied)") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: {what} is not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"{path}: {what} cannot be read ({exc.strerror or exc})") from None
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        problem = _yaml_limits(node)
        if problem is not None:
            raise ConfigError(f"{path}: {problem}")
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    except RecursionError:
        raise ConfigError(f"{path}: nests lists or mappings more than "
                          f"{MAX_YAML_DEPTH} levels deep") from None
    finally:
        loader.dispose()
