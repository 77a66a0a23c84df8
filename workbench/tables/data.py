"""Data contracts and loaders: ratings, people, framework, catalog, enrollments and scale.

Every table is long-format and readable from CSV (UTF-8 with or without BOM, or cp1252; comma,
semicolon, tab or pipe separated), Excel (.xlsx, first sheet) or Parquet. Client exports use their
own column names and source labels; a :class:`ColumnMapping` renames them. Validation runs on every
load and collects **every** problem (file, row, column, value) into one :class:`InputError`.

Row numbers are those a spreadsheet shows: the header is row 1, the first data row is row 2.

Examples
--------
>>> from workbench.tables.data import load_organisation, summarise_organisation
>>> org = load_organisation("data/demo")            # doctest: +SKIP
>>> print(summarise_organisation(org).summary())    # doctest: +SKIP
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import ConfigError, InputError, Problem

__all__ = [
    "SOURCES",
    "ACTIVITY_KINDS",
    "GAP_TYPES",
    "TABLES",
    "Scale",
    "ColumnMapping",
    "Organisation",
    "OrganisationSummary",
    "InputWarning",
    "read_table",
    "read_yaml",
    "load_table",
    "load_ratings",
    "load_people",
    "load_framework",
    "load_catalog",
    "load_enrollments",
    "load_scale",
    "load_organisation",
    "find_table_files",
    "summarise_organisation",
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
TABLES = ("ratings", "people", "framework", "catalog", "enrollments", "scale")
SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".parquet", ".pq")

# Most problems of one kind are listed row by row; past this many the rest are counted.
MAX_ROWS_PER_PROBLEM = 25

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

_TRUE = {"true", "yes", "y", "1", "1.0", "t", "completed", "done"}
_FALSE = {"false", "no", "n", "0", "0.0", "f", "not completed", "dropped"}


class InputWarning(UserWarning):
    """A problem in the input that does not stop the analysis (e.g. a rater missing from people)."""


@dataclass(frozen=True)
class _Col:
    name: str
    kind: str  # id | text | number | date | bool | choice
    required: bool = True
    default: object = None
    choices: tuple = ()


CONTRACTS: dict[str, tuple[_Col, ...]] = {
    "ratings": (
        _Col("ratee", "id"),
        _Col("rater", "id"),
        _Col("source", "choice", choices=SOURCES),
        _Col("skill", "id"),
        _Col("score", "number"),
        _Col("wave", "wave", required=False, default=1),
        _Col("date", "date", required=False),
        _Col("comment", "text", required=False),
    ),
    "people": (
        _Col("person", "id"),
        _Col("role", "id"),
        _Col("team", "id"),
        _Col("manager", "text", required=False),
        _Col("level", "text", required=False),
        _Col("tenure", "number", required=False),
        _Col("location", "text", required=False),
    ),
    "framework": (
        _Col("role", "id"),
        _Col("skill", "id"),
        _Col("required_level", "number"),
        _Col("weight", "number", required=False, default=1.0),
        _Col("skill_group", "text", required=False),
        _Col("gap_type", "choice", required=False, choices=GAP_TYPES),
    ),
    "catalog": (
        _Col("activity", "id"),
        _Col("title", "text"),
        _Col("skill", "id"),
        _Col("kind", "choice", choices=ACTIVITY_KINDS),
        _Col("gap_type", "choice", choices=GAP_TYPES),
        _Col("level_from", "number"),
        _Col("level_to", "number"),
        _Col("hours", "number"),
        _Col("weeks", "number"),
        _Col("cost", "number", required=False),
        _Col("modality", "text", required=False),
        _Col("expected_gain", "number", required=False),
        _Col("expected_gain_se", "number", required=False),
    ),
    "enrollments": (
        _Col("person", "id"),
        _Col("activity", "id"),
        _Col("start", "date"),
        _Col("end", "date"),
        _Col("completed", "bool"),
    ),
    "scale": (
        _Col("value", "number"),
        _Col("label", "text", required=False),
    ),
}


# --------------------------------------------------------------------------------------------
# Scale and column mapping
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    """The rating scale: its lowest and highest points and the anchor labels.

    Examples
    --------
    >>> Scale().max
    5.0
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

    def __post_init__(self):
        if not (np.isfinite(self.min) and np.isfinite(self.max)) or self.min >= self.max:
            raise ConfigError(f"scale: min ({self.min}) must be below max ({self.max})")

    def contains(self, values) -> np.ndarray:
        values = np.asarray(values, dtype=float)
        return (values >= self.min) & (values <= self.max)


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

    Examples
    --------
    >>> m = ColumnMapping.from_dict({"columns": {"ratings": {"Employee": "ratee"}},
    ...                              "source_labels": {"LM": "manager"}})
    >>> m.rename_for("ratings")["Employee"]
    'ratee'
    """

    columns: dict = field(default_factory=dict)
    source_labels: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, spec: Mapping | None) -> ColumnMapping:
        if spec is None:
            return cls()
        if not isinstance(spec, Mapping):
            raise ConfigError(f"column mapping must be a mapping, got {type(spec).__name__}")
        unknown = set(spec) - {"columns", "source_labels"}
        if unknown:
            raise ConfigError(
                f"column mapping: unknown key(s) {sorted(unknown)}; expected 'columns' and/or "
                "'source_labels'"
            )
        columns = dict(spec.get("columns") or {})
        labels = dict(spec.get("source_labels") or {})
        for label, source in labels.items():
            if source not in SOURCES:
                raise ConfigError(
                    f"column mapping: source label {label!r} maps to {source!r}, "
                    f"which is not one of {', '.join(SOURCES)}"
                )
        return cls(columns=columns, source_labels={str(k): v for k, v in labels.items()})

    @classmethod
    def from_yaml(cls, path: str | Path) -> ColumnMapping:
        spec = read_yaml(path, what="column mapping file")
        if isinstance(spec, Mapping) and "mapping" in spec:
            spec = spec["mapping"]
        return cls.from_dict(spec)

    def rename_for(self, table: str) -> dict:
        if any(isinstance(v, Mapping) for v in self.columns.values()):
            return dict(self.columns.get(table) or {})
        return dict(self.columns)

    def source_for(self, label: str) -> str | None:
        if label in self.source_labels:
            return self.source_labels[label]
        key = re.sub(r"[\s\-/]+", "_", label.strip().lower())
        for client, source in self.source_labels.items():
            if re.sub(r"[\s\-/]+", "_", client.strip().lower()) == key:
                return source
        return _SOURCE_ALIASES.get(key)


def read_yaml(path: str | Path, *, what: str = "file") -> object:
    """Read a YAML file (UTF-8, BOM tolerated); a missing file or bad YAML is a ConfigError."""
    import yaml

    path = Path(path)
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: {what} not found") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None


# --------------------------------------------------------------------------------------------
# Reading files
# --------------------------------------------------------------------------------------------


def _decode(raw: bytes) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="strict")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _sniff_separator(text: str) -> str:
    head = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(head, delimiters=",;\t|").delimiter
    except csv.Error:
        counts = {sep: head.count(sep) for sep in ",;\t|"}
        return max(counts, key=counts.get) if max(counts.values()) else ","


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV, Excel or Parquet file into a DataFrame of strings (missing cells are "").

    Nothing is interpreted yet: typing and validation happen in :func:`load_table`.

    Raises
    ------
    InputError
        When the file is missing, empty or cannot be parsed in its format.
    """
    path = Path(path)
    name = str(path)

    def fail(message):
        return InputError([Problem(name, None, None, message)])

    if not path.exists():
        raise fail("file not found")
    if path.is_dir():
        raise fail("is a folder, not a file")
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            frame = pd.read_excel(path, sheet_name=0, dtype=str, keep_default_na=False)
        elif suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
            frame = frame.astype(object).where(frame.notna(), "").astype(str)
        else:
            raw = path.read_bytes()
            if not raw.strip():
                raise fail("the file is empty")
            if b"\x00" in raw:
                raise fail("the file is binary (contains NUL bytes), not a text CSV")
            text = _decode(raw)
            frame = pd.read_csv(
                io.StringIO(text),
                sep=_sniff_separator(text),
                dtype=str,
                keep_default_na=False,
                skipinitialspace=True,
                skip_blank_lines=True,
            )
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parser failure is a user-input problem
        kind = {".xlsx": "Excel", ".xlsm": "Excel", ".parquet": "Parquet", ".pq": "Parquet"}
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise fail(f"cannot be read as {kind.get(suffix, 'CSV')}: {detail}") from None
    frame.columns = [str(c).replace("\ufeff", "").strip() for c in frame.columns]
    if frame.shape[1] == 0:
        raise fail("the file has no columns")
    if len(frame) == 0:
        raise fail("the file has a header but no data rows")
    frame = frame.fillna("").astype(str)
    for col in frame.columns:
        frame[col] = frame[col].str.strip()
    return frame.reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Typing and validating one table
# --------------------------------------------------------------------------------------------


class _Collector:
    """Collects problems, listing at most MAX_ROWS_PER_PROBLEM rows per (column, message)."""

    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []

    def whole(self, message, column=None, severity="error"):
        self.problems.append(Problem(self.file, None, column, message, None, severity))

    def rows(self, mask, frame_values, column, message, severity="error"):
        """Flag the rows where ``mask`` is true; ``frame_values`` gives the shown values."""
        idx = np.flatnonzero(np.asarray(mask, dtype=bool))
        if idx.size == 0:
            return
        values = np.asarray(frame_values, dtype=object)
        for i in idx[:MAX_ROWS_PER_PROBLEM]:
            value = values[i]
            self.problems.append(
                Problem(self.file, int(i) + 2, column, message, str(value), severity)
            )
        if idx.size > MAX_ROWS_PER_PROBLEM:
            self.problems.append(
                Problem(
                    self.file,
                    None,
                    column,
                    f"... and {idx.size - MAX_ROWS_PER_PROBLEM} more row(s) with the same "
                    f"problem ({message})",
                    None,
                    severity,
                )
            )


def _match_columns(frame: pd.DataFrame, table: str, mapping: ColumnMapping, out: _Collector):
    """Rename client columns to contract names; return (frame, {contract: client})."""
    contract = {c.name for c in CONTRACTS[table]}
    rename = mapping.rename_for(table)
    origin: dict[str, str] = {}
    for client in frame.columns:
        target = rename.get(client)
        if target is None:
            key = re.sub(r"[\s\-]+", "_", client.strip().lower())
            target = key if key in contract else None
        if target is None or target not in contract:
            continue
        if target in origin:
            out.whole(
                f"columns '{origin[target]}' and '{client}' both map to '{target}'", column=client
            )
            continue
        origin[target] = client
    frame = frame[list(origin.values())].copy()
    frame.columns = list(origin.keys())
    return frame, origin


def _parse_numbers(values: pd.Series) -> np.ndarray:
    cleaned = values.str.replace(",", ".", regex=False)
    with np.errstate(all="ignore"):
        numbers = pd.to_numeric(cleaned, errors="coerce").to_numpy(dtype=float)
    return numbers


def _parse_dates(values: pd.Series) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(values, errors="coerce", format="mixed", dayfirst=False)
    return parsed


def _type_table(
    frame: pd.DataFrame,
    table: str,
    origin: dict,
    out: _Collector,
    mapping: ColumnMapping,
    scale: Scale,
) -> pd.DataFrame:
    typed = {}
    n = len(frame)
    for col in CONTRACTS[table]:
        shown = origin.get(col.name, col.name)
        if col.name not in frame.columns:
            if col.required:
                out.whole(
                    f"required column '{col.name}' is missing "
                    f"(columns found: {', '.join(origin.values()) or 'none matching'})",
                    column=col.name,
                )
            elif col.default is not None:
                typed[col.name] = pd.Series([col.default] * n)
            continue
        raw = frame[col.name]
        empty = (raw == "").to_numpy()
        if col.required and empty.any():
            out.rows(empty, raw, shown, f"'{col.name}' is empty")
        if col.kind in ("id", "text"):
            typed[col.name] = raw.where(~empty, None) if not col.required else raw
        elif col.kind == "number":
            numbers = _parse_numbers(raw)
            bad = ~empty & ~np.isfinite(numbers)
            out.rows(bad, raw, shown, f"'{col.name}' is not a finite number")
            typed[col.name] = numbers
            if col.default is not None:
                typed[col.name] = np.where(empty, col.default, numbers)
        elif col.kind == "wave":
            numbers = _parse_numbers(raw)
            is_int = np.isfinite(numbers) & (np.abs(numbers) < 1e9)
            is_int &= np.equal(np.mod(np.where(is_int, numbers, 0), 1), 0)
            if (is_int | empty).all():
                typed[col.name] = np.where(empty, col.default, numbers).astype(np.int64)
            else:
                typed[col.name] = raw.where(~empty, str(col.default))
        elif col.kind == "date":
            dates = _parse_dates(raw)
            bad = ~empty & dates.isna().to_numpy()
            out.rows(bad, raw, shown, f"'{col.name}' is not a date")
            typed[col.name] = dates
        elif col.kind == "bool":
            low = raw.str.lower()
            is_true = low.isin(_TRUE).to_numpy()
            is_false = low.isin(_FALSE).to_numpy()
            bad = ~empty & ~is_true & ~is_false
            out.rows(bad, raw, shown, f"'{col.name}' is not yes/no (true/false, 1/0)")
            typed[col.name] = is_true
        elif col.kind == "choice":
            if col.name == "source":
                lookup = {v: (mapping.source_for(v) if v else None) for v in raw.unique()}
                mapped = raw.map(lookup)
                bad = ~empty & mapped.isna().to_numpy()
                out.rows(
                    bad,
                    raw,
                    shown,
                    "unknown source label; expected one of "
                    f"{', '.join(SOURCES)} (or map it in the column mapping's source_labels)",
                )
                typed[col.name] = mapped
            else:
                norm = raw.str.lower().str.replace(r"[\s\-]+", "_", regex=True)
                norm = norm.replace({"behavior": "behaviour", "behavioral": "behaviour"})
                bad = ~empty & ~norm.isin(col.choices).to_numpy()
                out.rows(bad, raw, shown, f"'{col.name}' must be one of {', '.join(col.choices)}")
                typed[col.name] = norm.where(~empty, None)
    return pd.DataFrame(typed, index=frame.index)


def _check_rules(typed: pd.DataFrame, table: str, origin: dict, out: _Collector, scale: Scale):
    """Contract rules that concern more than one cell of a row or more than one row."""

    def shown(name):
        return origin.get(name, name)

    def on_scale(name):
        if name not in typed:
            return
        values = typed[name].to_numpy(dtype=float)
        off = np.isfinite(values) & ~scale.contains(values)
        out.rows(
            off,
            values,
            shown(name),
            f"'{name}' is off the rating scale ({scale.min:g} to {scale.max:g})",
        )

    def duplicates(keys, what):
        if not set(keys) <= set(typed.columns):
            return
        dup = typed.duplicated(subset=keys, keep="first").to_numpy()
        label = np.full(len(typed), "", dtype=object)
        flagged = np.flatnonzero(dup)[:MAX_ROWS_PER_PROBLEM]
        label[flagged] = [" / ".join(map(str, row)) for row in typed[keys].to_numpy()[flagged]]
        out.rows(dup, label, ", ".join(shown(k) for k in keys), f"duplicate {what}")

    if table == "ratings":
        on_scale("score")
        keys = ["ratee", "rater", "skill", "wave"]
        duplicates(keys, "rating: the same (ratee, rater, skill, wave) appears on an earlier row")
        if {"source", "ratee", "rater"} <= set(typed.columns):
            same = (typed["ratee"] == typed["rater"]).to_numpy()
            is_self = (typed["source"] == "self").to_numpy()
            out.rows(
                is_self & ~same,
                typed["rater"],
                shown("rater"),
                "a self rating whose rater is not the ratee",
            )
            out.rows(
                same & ~is_self & typed["source"].notna().to_numpy(),
                typed["source"],
                shown("source"),
                "the rater is the ratee but the source is not 'self'",
            )
    elif table == "people":
        duplicates(["person"], "person: listed on an earlier row")
    elif table == "framework":
        on_scale("required_level")
        duplicates(["role", "skill"], "(role, skill): listed on an earlier row")
        if "weight" in typed:
            w = typed["weight"].to_numpy(dtype=float)
            out.rows(np.isfinite(w) & (w < 0), w, shown("weight"), "'weight' is negative")
    elif table == "catalog":
        on_scale("level_from")
        on_scale("level_to")
        duplicates(["activity", "skill"], "(activity, skill): listed on an earlier row")
        if {"level_from", "level_to"} <= set(typed.columns):
            lo, hi = typed["level_from"].to_numpy(float), typed["level_to"].to_numpy(float)
            out.rows(lo > hi, hi, shown("level_to"), "'level_to' is below 'level_from'")
        for name in ("hours", "weeks", "cost"):
            if name in typed:
                v = typed[name].to_numpy(dtype=float)
                out.rows(np.isfinite(v) & (v < 0), v, shown(name), f"'{name}' is negative")
    elif table == "enrollments":
        if {"start", "end"} <= set(typed.columns):
            late = (typed["end"] < typed["start"]).to_numpy()
            out.rows(late, typed["end"].astype(str), shown("end"), "'end' is before 'start'")
    elif table == "scale":
        duplicates(["value"], "scale value: listed on an earlier row")


def _load(path, table, mapping, scale):
    """Read, map, type and check one table; return (typed frame or None, problems)."""
    path = Path(path)
    out = _Collector(str(path))
    try:
        frame = read_table(path)
    except InputError as exc:
        return None, exc.problems
    frame, origin = _match_columns(frame, table, mapping, out)
    typed = _type_table(frame, table, origin, out, mapping, scale)
    _check_rules(typed, table, origin, out, scale)
    typed.attrs["file"] = str(path)
    return typed, out.problems


def _raise_or_warn(problems):
    if any(p.severity == "error" for p in problems):
        raise InputError(problems)
    for p in problems:
        warnings.warn(str(p), InputWarning, stacklevel=3)


def load_table(
    path: str | Path,
    table: str,
    *,
    mapping: ColumnMapping | Mapping | None = None,
    scale: Scale | None = None,
) -> pd.DataFrame:
    """Load and validate one table of the given contract.

    Parameters
    ----------
    path : str or Path
        CSV, Excel (.xlsx) or Parquet file. Never modified.
    table : {"ratings", "people", "framework", "catalog", "enrollments", "scale"}
        Which contract the file follows.
    mapping : ColumnMapping or dict, optional
        Client column names and source labels.
    scale : Scale, optional
        The rating scale scores and levels must lie on (default 1 to 5).

    Returns
    -------
    pandas.DataFrame
        The table with contract column names and types.

    Raises
    ------
    InputError
        Listing every problem found in the file, each with file, row and column.
    """
    if table not in CONTRACTS:
        raise ConfigError(f"unknown table {table!r}; expected one of {', '.join(TABLES)}")
    mapping = mapping if isinstance(mapping, ColumnMapping) else ColumnMapping.from_dict(mapping)
    typed, problems = _load(path, table, mapping, scale or Scale())
    _raise_or_warn(problems)
    return typed


def load_ratings(path, *, mapping=None, scale=None) -> pd.DataFrame:
    """Load a ratings file: ratee, rater, source, skill, score, wave (default 1), date, comment.

    Examples
    --------
    >>> ratings = load_ratings("data/demo/ratings.csv")   # doctest: +SKIP
    >>> sorted(ratings["source"].unique())                # doctest: +SKIP
    ['direct_report', 'manager', 'peer', 'self']
    """
    return load_table(path, "ratings", mapping=mapping, scale=scale)


def load_people(path, *, mapping=None) -> pd.DataFrame:
    """Load a people file: person, role, team, manager, level, tenure, location."""
    return load_table(path, "people", mapping=mapping)


def load_framework(path, *, mapping=None, scale=None) -> pd.DataFrame:
    """Load a competency framework: role, skill, required_level, weight, skill_group, gap_type."""
    return load_table(path, "framework", mapping=mapping, scale=scale)


def load_catalog(path, *, mapping=None, scale=None) -> pd.DataFrame:
    """Load a learning catalog: activity, title, skill, kind, gap_type, levels, hours, weeks."""
    return load_table(path, "catalog", mapping=mapping, scale=scale)


def load_enrollments(path, *, mapping=None) -> pd.DataFrame:
    """Load enrollments: person, activity, start, end, completed."""
    return load_table(path, "enrollments", mapping=mapping)


def _scale_from_table(typed: pd.DataFrame) -> Scale:
    values = typed["value"].to_numpy(dtype=float)
    labels = typed["label"] if "label" in typed else pd.Series([None] * len(typed))
    anchors = {float(v): (str(lab) if lab else "") for v, lab in zip(values, labels, strict=True)}
    return Scale(min=float(np.nanmin(values)), max=float(np.nanmax(values)), anchors=anchors)


def load_scale(path, *, mapping=None) -> Scale:
    """Load a scale file with columns value and label (one row per anchor)."""
    typed = load_table(path, "scale", mapping=mapping, scale=Scale(-1e12, 1e12, {}))
    return _scale_from_table(typed)


# --------------------------------------------------------------------------------------------
# The organisation: all tables together, with cross-table checks
# --------------------------------------------------------------------------------------------


@dataclass
class Organisation:
    """All tables of one engagement, validated together.

    Attributes
    ----------
    ratings, people, framework, catalog, enrollments : DataFrame or None
        The typed tables (None when not given).
    scale : Scale
    files : dict
        Table name -> path it was read from.
    problems : list of Problem
        Warnings found while loading (errors raise instead).
    """

    ratings: pd.DataFrame
    people: pd.DataFrame | None = None
    framework: pd.DataFrame | None = None
    catalog: pd.DataFrame | None = None
    enrollments: pd.DataFrame | None = None
    scale: Scale = field(default_factory=Scale)
    files: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity != "error"]

    @property
    def skills(self) -> list[str]:
        return sorted(self.ratings["skill"].dropna().unique().tolist())

    @property
    def waves(self) -> list:
        return sorted(self.ratings["wave"].dropna().unique().tolist())


def find_table_files(folder: str | Path) -> dict[str, Path]:
    """Find ``ratings.csv``, ``people.xlsx``, ... in a folder (any supported suffix)."""
    folder = Path(folder)
    found = {}
    for table in TABLES:
        for suffix in SUFFIXES:
            candidate = folder / f"{table}{suffix}"
            if candidate.exists():
                found[table] = candidate
                break
    return found


def _missing_ids(values, known, rows_of, file, column, what, severity="warning"):
    problems = []
    present = {v for v in pd.unique(pd.Series(values)) if isinstance(v, str) and v != ""}
    missing = sorted(present - set(known), key=str)
    for value in missing[:MAX_ROWS_PER_PROBLEM]:
        problems.append(Problem(file, rows_of.get(value), column, what, str(value), severity))
    if len(missing) > MAX_ROWS_PER_PROBLEM:
        problems.append(
            Problem(
                file,
                None,
                column,
                f"... and {len(missing) - MAX_ROWS_PER_PROBLEM} more value(s): {what}",
                None,
                severity,
            )
        )
    return problems


def _first_rows(frame: pd.DataFrame, column: str) -> dict:
    first = frame[column].drop_duplicates(keep="first")
    return {v: int(i) + 2 for i, v in first.items()}


def _cross_checks(tables: dict, files: dict) -> list[Problem]:
    problems = []
    ratings, people = tables.get("ratings"), tables.get("people")
    framework, catalog = tables.get("framework"), tables.get("catalog")
    enrollments = tables.get("enrollments")
    if ratings is not None and people is not None and "person" in people:
        known = people["person"].dropna()
        for col in ("ratee", "rater"):
            if col in ratings:
                problems += _missing_ids(
                    ratings[col].dropna(),
                    known,
                    _first_rows(ratings, col),
                    files["ratings"],
                    col,
                    f"{col} is not in the people file",
                )
        if "manager" in people:
            managers = people["manager"].dropna()
            problems += _missing_ids(
                managers[managers != ""],
                known,
                _first_rows(people, "manager"),
                files["people"],
                "manager",
                "manager is not in the people file",
            )
    if ratings is not None and framework is not None and "skill" in framework:
        if "skill" in ratings:
            problems += _missing_ids(
                ratings["skill"].dropna(),
                framework["skill"].dropna(),
                _first_rows(ratings, "skill"),
                files["ratings"],
                "skill",
                "skill is not in the framework",
            )
    if people is not None and framework is not None and "role" in people and "role" in framework:
        problems += _missing_ids(
            people["role"].dropna(),
            framework["role"].dropna(),
            _first_rows(people, "role"),
            files["people"],
            "role",
            "role has no framework (no required levels)",
        )
    if catalog is not None and framework is not None and "skill" in catalog:
        problems += _missing_ids(
            catalog["skill"].dropna(),
            framework["skill"].dropna(),
            _first_rows(catalog, "skill"),
            files["catalog"],
            "skill",
            "catalog skill is not in the framework",
        )
    if enrollments is not None:
        if catalog is not None and "activity" in enrollments and "activity" in catalog:
            problems += _missing_ids(
                enrollments["activity"].dropna(),
                catalog["activity"].dropna(),
                _first_rows(enrollments, "activity"),
                files["enrollments"],
                "activity",
                "activity is not in the catalog",
                severity="error",
            )
        if people is not None and "person" in enrollments and "person" in people:
            problems += _missing_ids(
                enrollments["person"].dropna(),
                people["person"].dropna(),
                _first_rows(enrollments, "person"),
                files["enrollments"],
                "person",
                "enrolled person is not in the people file",
            )
    return problems


def load_organisation(
    folder: str | Path | None = None,
    *,
    ratings: str | Path | None = None,
    people: str | Path | None = None,
    framework: str | Path | None = None,
    catalog: str | Path | None = None,
    enrollments: str | Path | None = None,
    scale: str | Path | Scale | None = None,
    mapping: ColumnMapping | Mapping | str | Path | None = None,
) -> Organisation:
    """Load and validate every table of an engagement at once.

    Files are found in ``folder`` by name (``ratings.csv``, ``people.xlsx``, ...) unless given
    one by one. All problems from all files, including cross-file ones (raters missing from
    people, skills missing from the framework), are collected into one report.

    Parameters
    ----------
    folder : path, optional
        Folder with files named after the tables.
    ratings, people, framework, catalog, enrollments, scale : path, optional
        Explicit files (override the folder).
    mapping : ColumnMapping, dict or path to YAML, optional
        Client column names and source labels.

    Returns
    -------
    Organisation

    Raises
    ------
    InputError
        One report listing every error (and the warnings) across all files.

    Examples
    --------
    >>> org = load_organisation("data/demo")   # doctest: +SKIP
    >>> len(org.people)                          # doctest: +SKIP
    300
    """
    if isinstance(mapping, (str, Path)):
        mapping = ColumnMapping.from_yaml(mapping)
    elif not isinstance(mapping, ColumnMapping):
        mapping = ColumnMapping.from_dict(mapping)
    paths = find_table_files(folder) if folder is not None else {}
    if folder is not None and not Path(folder).is_dir():
        raise InputError([Problem(str(folder), None, None, "folder not found")])
    explicit = {
        "ratings": ratings,
        "people": people,
        "framework": framework,
        "catalog": catalog,
        "enrollments": enrollments,
    }
    for table, path in explicit.items():
        if path is not None:
            paths[table] = Path(path)
    if isinstance(scale, Scale):
        paths.pop("scale", None)
    elif scale is not None:
        paths["scale"] = Path(scale)
    if "ratings" not in paths:
        where = f" in {folder}" if folder is not None else ""
        raise InputError([Problem(str(folder or "<input>"), None, None, f"no ratings file{where}")])

    problems: list[Problem] = []
    the_scale = scale if isinstance(scale, Scale) else Scale()
    if "scale" in paths:
        typed, found = _load(paths["scale"], "scale", mapping, Scale(-1e12, 1e12, {}))
        problems += found
        if typed is not None and not any(p.severity == "error" for p in found):
            try:
                the_scale = _scale_from_table(typed)
            except ConfigError as exc:
                problems.append(Problem(str(paths["scale"]), None, "value", str(exc)))
    tables = {}
    for table in ("ratings", "people", "framework", "catalog", "enrollments"):
        if table in paths:
            typed, found = _load(paths[table], table, mapping, the_scale)
            problems += found
            tables[table] = typed
    files = {t: str(p) for t, p in paths.items()}
    problems += _cross_checks({k: v for k, v in tables.items() if v is not None}, files)
    if any(p.severity == "error" for p in problems):
        raise InputError(problems)
    return Organisation(
        ratings=tables["ratings"],
        people=tables.get("people"),
        framework=tables.get("framework"),
        catalog=tables.get("catalog"),
        enrollments=tables.get("enrollments"),
        scale=the_scale,
        files=files,
        problems=problems,
    )


# --------------------------------------------------------------------------------------------
# Summary
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrganisationSummary:
    """Counts that tell a consultant what data arrived.

    Attributes
    ----------
    overview : DataFrame
        One row per quantity (people, ratees, raters, ratings, skills, waves, ...).
    ratings_per_source : DataFrame
        source, wave, n_ratings, n_raters, n_ratees.
    raters_per_ratee : DataFrame
        source, wave, mean, min, max raters per ratee (among ratees with that source).
    coverage_per_skill : DataFrame
        skill, wave, n_ratings, n_ratees, coverage (share of ratees rated in the skill).
    """

    overview: pd.DataFrame
    ratings_per_source: pd.DataFrame
    raters_per_ratee: pd.DataFrame
    coverage_per_skill: pd.DataFrame
    warnings: tuple = ()

    def summary(self) -> str:
        parts = ["Organisation summary", "", self.overview.to_string(index=False), ""]
        parts += ["Ratings per source", self.ratings_per_source.to_string(index=False), ""]
        parts += ["Raters per ratee", self.raters_per_ratee.round(2).to_string(index=False), ""]
        parts += ["Coverage per skill", self.coverage_per_skill.round(3).to_string(index=False)]
        if self.warnings:
            parts += ["", f"{len(self.warnings)} warning(s):"]
            parts += [f"  WARNING {w}" for w in self.warnings[:50]]
            if len(self.warnings) > 50:
                parts.append(f"  ... and {len(self.warnings) - 50} more")
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        return (
            "<h4>Organisation summary</h4>"
            + self.overview.to_html(index=False)
            + "<h4>Ratings per source</h4>"
            + self.ratings_per_source.to_html(index=False)
            + "<h4>Raters per ratee</h4>"
            + self.raters_per_ratee.round(2).to_html(index=False)
            + "<h4>Coverage per skill</h4>"
            + self.coverage_per_skill.round(3).to_html(index=False)
        )


def summarise_organisation(org: Organisation) -> OrganisationSummary:
    """Summarise an organisation: who rated whom, how often, in which skills.

    Examples
    --------
    >>> print(summarise_organisation(load_organisation("data/demo")).summary())  # doctest: +SKIP
    """
    r = org.ratings
    overview = pd.DataFrame(
        [
            ("people", len(org.people) if org.people is not None else np.nan),
            ("ratees", r["ratee"].nunique()),
            ("raters", r["rater"].nunique()),
            ("ratings", len(r)),
            ("skills", r["skill"].nunique()),
            ("waves", r["wave"].nunique()),
            ("roles", org.people["role"].nunique() if org.people is not None else np.nan),
            ("teams", org.people["team"].nunique() if org.people is not None else np.nan),
            ("activities", org.catalog["activity"].nunique() if org.catalog is not None else 0),
            ("enrollments", len(org.enrollments) if org.enrollments is not None else 0),
        ],
        columns=["quantity", "n"],
    )
    per_source = (
        r.groupby(["source", "wave"])
        .agg(n_ratings=("score", "size"), n_raters=("rater", "nunique"), n_ratees=("ratee", "nunique"))
        .reset_index()
    )
    raters = r.groupby(["source", "wave", "ratee"])["rater"].nunique().rename("raters")
    per_ratee = (
        raters.groupby(["source", "wave"])
        .agg(mean="mean", min="min", max="max")
        .reset_index()
    )
    n_ratees = r.groupby("wave")["ratee"].nunique().rename("ratees_in_wave")
    coverage = (
        r.groupby(["skill", "wave"])
        .agg(n_ratings=("score", "size"), n_ratees=("ratee", "nunique"))
        .reset_index()
        .merge(n_ratees, on="wave")
    )
    coverage["coverage"] = coverage["n_ratees"] / coverage["ratees_in_wave"]
    coverage = coverage.drop(columns="ratees_in_wave")
    return OrganisationSummary(
        overview=overview,
        ratings_per_source=per_source,
        raters_per_ratee=per_ratee,
        coverage_per_skill=coverage,
        warnings=tuple(org.warnings),
    )
