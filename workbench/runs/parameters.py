"""What values a notebook's parameters accept, read from its ``parameters`` cell, and the check.

Each notebook declares its parameters once, one per line, ``name: type = default  # help``
(papermill's format, so ``papermill --help-notebook`` lists them). The help text carries the
allowed values in a small machine-readable grammar, in parentheses:

================================  ==============================================================
``(one of: joint, pooled)``       a choice (text values, separated by commas)
``(1 to 3)``                      a number in a closed range
``(at least 0)`` ``(above 0)``    a lower bound, inclusive or exclusive
``(at most 9)`` ``(below 1)``     an upper bound, inclusive or exclusive
``(a date)``                      an ISO date, ``2027-01-04``
``(workers)``                     a number of workers, ``n_jobs``: a whole number other than 0
                                  (-1 every core; :func:`workbench.parallel.check_n_jobs`)
``(a file)``                      a path to an existing file, or empty (relative paths are
                                  relative to the engagement file's folder)
``(needs: enrollments, catalog)`` the tables the notebook cannot run without (any parameter,
                                  usually ``data_dir``)
``(skipped without: paths, ...)`` a run skips the notebook, saying why, when the data have
                                  none of these tables (optional inputs)
================================  ==============================================================

:func:`notebook_spec` parses a notebook into a :class:`NotebookSpec`; :func:`check_values`
checks an engagement's values against it with :mod:`workbench.checks` (the package's one way to
check options) and returns **every** problem, so ``workbench run`` reports them all before any
notebook starts. The package's own functions check the same values again with the same helpers
when a notebook runs outside the pipeline; a test keeps the notebooks' choices equal to the
package's (``calibrate.WAVES``, ``estimate.CORRECTIONS``).

Examples
--------
>>> spec = parse_help("gap_probability", "float", "0.7", "certainty needed (0.5 to 0.999)")
>>> spec.low, spec.high
(0.5, 0.999)
>>> check_value(spec, 1.5)
'must be between 0.5 and 0.999 (inclusive), got 1.5'
>>> check_value(parse_help("start", "str", "'2027-01-04'", "first day (a date)"), "next monday")
"must be a date like 2027-01-04, got 'next monday'"
>>> check_value(parse_help("n_jobs", "int", "-1", "threads (workers) (at least -64)"), 0)
'must be a whole number other than 0 (None: one worker, -1: every core), got 0'
"""

from __future__ import annotations

import ast
import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from workbench.checks import check_choice, check_integer, check_interval
from workbench.errors import ConfigError
from workbench.parallel import check_n_jobs

__all__ = [
    "ParameterSpec",
    "NotebookSpec",
    "parse_help",
    "notebook_spec",
    "check_value",
    "check_values",
    "resolve_path",
]

_CHOICES = re.compile(r"\(one of:\s*([^)]*)\)")
_RANGE = re.compile(r"\((-?\d+(?:\.\d+)?) to (-?\d+(?:\.\d+)?)\)")
_BOUND = re.compile(r"\((at least|above|at most|below) (-?\d+(?:\.\d+)?)\)")
_DATE = re.compile(r"\(a date\)")
_WORKERS = re.compile(r"\(workers\)")
_FILE = re.compile(r"\(a file\)")
_NEEDS = re.compile(r"\(needs:\s*([^)]*)\)")
_SKIP = re.compile(r"\(skipped without:\s*([^)]*)\)")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

_TYPE_CHECKS = {
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "str": lambda v: isinstance(v, str),
    "bool": lambda v: isinstance(v, bool),
    "list": lambda v: isinstance(v, (list, tuple)),
    "dict": lambda v: isinstance(v, Mapping),
    "none": lambda v: v is None,
}


def _alternatives(type_name: str | None) -> tuple[str, ...] | None:
    """'int | None' -> ('int', 'none'); None when the type cannot be checked."""
    if not type_name or type_name == "None":
        return None
    text = type_name.strip()
    optional = re.fullmatch(r"(?:typing\.)?Optional\[(.*)\]", text)
    if optional:
        text = optional.group(1) + " | None"
    names = []
    for part in text.split("|"):
        base = re.sub(r"\[.*\]$", "", part.strip()).lower()
        base = {"nonetype": "none", "typing.list": "list", "typing.dict": "dict"}.get(base, base)
        if base not in _TYPE_CHECKS:
            return None
        names.append(base)
    return tuple(names)


def _literal(text):
    """A default's source text as its value (the text itself when it is not a literal)."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError):
        return text


@dataclass(frozen=True)
class ParameterSpec:
    """The allowed values of one notebook parameter.

    Attributes
    ----------
    name, type : str
        As declared (``type`` is papermill's inferred type name, or None).
    default : object
        The declared default's value.
    help : str
    choices : tuple
        Allowed values (empty: any).
    low, high : float or None
        Bounds of a number; ``inclusive`` as in :func:`workbench.checks.check_interval`.
    date : bool
        The value is an ISO date.
    workers : bool
        The value is a number of workers (``n_jobs``): a whole number other than 0.
    file : bool
        The value is an existing file's path, or empty.
    needs : tuple of str
        Tables the notebook needs.
    skipped_without : tuple of str
        Optional tables: without any of them a run skips the notebook.
    """

    name: str
    type: str | None
    default: object
    help: str = ""
    choices: tuple = ()
    low: float | None = None
    high: float | None = None
    inclusive: str = "both"
    date: bool = False
    workers: bool = False
    file: bool = False
    needs: tuple = ()
    skipped_without: tuple = ()


def _number(text: str) -> float | int:
    """'3' -> 3 and '0.5' -> 0.5, so messages read as the notebook wrote them."""
    value = float(text)
    return int(value) if value.is_integer() else value


def _bounds(help_text: str) -> tuple[float | None, float | None, str]:
    match = _RANGE.search(help_text)
    if match:
        return _number(match.group(1)), _number(match.group(2)), "both"
    low = high = None
    closed_low = closed_high = True
    for word, number in _BOUND.findall(help_text):
        if word in ("at least", "above"):
            low, closed_low = _number(number), word == "at least"
        else:
            high, closed_high = _number(number), word == "at most"
    inclusive = {(True, True): "both", (True, False): "left", (False, True): "right",
                 (False, False): "neither"}[(closed_low, closed_high)]
    return low, high, inclusive


def parse_help(name: str, type_name: str | None, default: str, help_text: str) -> ParameterSpec:
    """A ParameterSpec from one declaration's parts (see the grammar above).

    Examples
    --------
    >>> parse_help("waves", "str", "'joint'", "how waves share a scale (one of: joint, pooled)")
    ... # doctest: +ELLIPSIS
    ParameterSpec(name='waves', type='str', default='joint', ..., choices=('joint', 'pooled'), ...)
    """
    help_text = help_text or ""
    choices = _CHOICES.search(help_text)
    needs = _NEEDS.search(help_text)
    skip = _SKIP.search(help_text)
    low, high, inclusive = _bounds(help_text)
    return ParameterSpec(
        name=name,
        type=type_name,
        default=_literal(default) if isinstance(default, str) else default,
        help=help_text,
        choices=tuple(c.strip() for c in choices.group(1).split(",") if c.strip())
        if choices else (),
        low=low,
        high=high,
        inclusive=inclusive,
        date=bool(_DATE.search(help_text)),
        workers=bool(_WORKERS.search(help_text)),
        file=bool(_FILE.search(help_text)),
        needs=tuple(t.strip() for t in needs.group(1).split(",") if t.strip()) if needs else (),
        skipped_without=tuple(t.strip() for t in skip.group(1).split(",") if t.strip())
        if skip else (),
    )


@dataclass(frozen=True)
class NotebookSpec:
    """A notebook's parameters and the tables it needs."""

    name: str
    path: Path
    parameters: dict = field(default_factory=dict)

    @property
    def needs(self) -> tuple:
        """Tables the notebook cannot run without (always includes ratings)."""
        tables = ["ratings"]
        for spec in self.parameters.values():
            tables += [t for t in spec.needs if t not in tables]
        return tuple(tables)

    @property
    def skipped_without(self) -> tuple:
        """Optional tables: a run skips the notebook when the data have none of them."""
        tables = []
        for spec in self.parameters.values():
            tables += [t for t in spec.skipped_without if t not in tables]
        return tuple(tables)


def notebook_spec(path: str | Path) -> NotebookSpec:
    """Parse a notebook's ``parameters`` cell into a NotebookSpec.

    Raises
    ------
    ConfigError
        When the notebook cannot be read.
    """
    import papermill as pm

    path = Path(path)
    try:
        declared = pm.inspect_notebook(str(path))
    except Exception as exc:  # noqa: BLE001 - a broken notebook is a configuration problem
        raise ConfigError(f"{path}: cannot read the notebook's parameters ({exc})") from None
    parameters = {
        name: parse_help(name, d.get("inferred_type_name"), d.get("default"), d.get("help"))
        for name, d in declared.items()
    }
    return NotebookSpec(name=path.stem, path=path, parameters=parameters)


def check_value(spec: ParameterSpec, value, *, base: Path | None = None) -> str | None:
    """What is wrong with ``value`` for this parameter, or None when it is allowed.

    ``base`` is the folder relative file paths start from (the engagement file's).
    """
    alternatives = _alternatives(spec.type)
    if alternatives and not any(_TYPE_CHECKS[t](value) for t in alternatives):
        return f"must be {spec.type}, got {type(value).__name__} {value!r}"
    if value is None:
        return None
    if not _finite(value):
        # YAML's .nan and .inf: every comparison with NaN is false, so no bound would catch it
        return f"must be a finite number, got {value!r}"
    try:
        if spec.choices:
            check_choice(spec.name, value, spec.choices)
        if (spec.low is not None or spec.high is not None) and not isinstance(value, str):
            if alternatives == ("int",):
                check_integer(spec.name, value)
            check_interval(spec.name, value, low=spec.low, high=spec.high,
                           inclusive=spec.inclusive)
        if spec.workers:
            check_n_jobs(value, spec.name)
    except ConfigError as exc:
        # "name=value: must ..." -> "must ..., got value" (the caller names the parameter)
        text = str(exc).split(": ", 1)[-1]
        return f"{text}, got {value!r}"
    if spec.date and not _is_date(value):
        return f"must be a date like 2027-01-04, got {value!r}"
    if spec.file and isinstance(value, str) and value.strip():
        path = resolve_path(value, base)
        if not path.is_file():
            return f"file not found: {path}"
    return None


def _finite(value) -> bool:
    """No NaN or infinity anywhere in ``value`` (numbers inside lists and mappings too)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list | tuple):
        return all(_finite(v) for v in value)
    if isinstance(value, Mapping):
        return all(_finite(v) for v in value.values())
    return True


def resolve_path(value: str, base: Path | None) -> Path:
    """A parameter's file path, relative paths taken from ``base``."""
    path = Path(value.strip()).expanduser()
    return path if path.is_absolute() or base is None else (base / path).resolve()


def _is_date(value) -> bool:
    import datetime as dt

    if isinstance(value, dt.date):
        return True
    if not isinstance(value, str) or not _ISO_DATE.match(value.strip()):
        return False
    try:
        dt.date.fromisoformat(value.strip())
    except ValueError:
        return False
    return True


def check_values(spec: NotebookSpec, given: Mapping, *, reserved=(),
                 base: Path | None = None) -> list[tuple[str, str]]:
    """Every problem with ``given`` values: ``[(parameter, message), ...]`` (empty when fine).

    ``reserved`` names parameters the pipeline sets itself (a file may not set them); ``base``
    is the folder relative file paths start from.

    Examples
    --------
    >>> spec = NotebookSpec("nb", Path("nb.ipynb"), {
    ...     "k": parse_help("k", "int", "3", "(1 to 12)"),
    ...     "c": parse_help("c", "str", "'holm'", "(one of: holm, fdr_bh)")})
    >>> check_values(spec, {"k": 0, "c": "bonferroni", "z": 1})
    ... # doctest: +NORMALIZE_WHITESPACE
    [('k', 'must be between 1 and 12 (inclusive), got 0'),
     ('c', "must be one of 'holm', 'fdr_bh', got 'bonferroni'"),
     ('z', 'unknown parameter (known: k, c)')]
    >>> check_values(spec, {"kk": 2})
    [('kk', "unknown parameter; did you mean 'k'? (known: k, c)")]
    """
    problems = []
    for name, value in given.items():
        if name in reserved:
            problems.append((name, "is set by the pipeline; remove it from the file"))
        elif name not in spec.parameters:
            names = [n for n in spec.parameters if n not in reserved]
            near = difflib.get_close_matches(str(name), names, n=1, cutoff=0.6)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            problems.append((name, f"unknown parameter{hint} (known: {', '.join(names)})"))
        else:
            message = check_value(spec.parameters[name], value, base=base)
            if message:
                problems.append((name, message))
    return problems
