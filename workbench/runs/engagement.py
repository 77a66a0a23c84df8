"""Engagement files: which client, which data, which column mapping, which notebook parameters.

An engagement file is a small YAML document that drives a batch run (``workbench run``)::

    engagement: acme-2026            # short name: reports go to reports/<engagement>/<run-id>/
    client: ACME Ltd                 # shown on the client report
    random_state: 2026               # optional: given to every notebook that has random_state
    data:                            # paths relative to this file's folder
      folder: exports                # ratings.csv, people.xlsx, ... found by name, and/or
      ratings: exports/360_q1.xlsx   # one file per table
    mapping:                         # same format as ``workbench validate --mapping``
      columns: {ratings: {Employee: ratee, Reviewer: rater}}
      source_labels: {Line Manager: manager}
    notebooks:                       # values override notebook defaults
      01_calibrate_raters: {n_bootstrap: 200}
      02_skill_profiles: {k_max: 6}
      03_learning_impact: {skip: "no training records this round"}

Every analysis notebook (:data:`DEFAULT_NOTEBOOKS`) runs, in its order, whether the file lists
it or not, unless the file says ``skip:`` with the reason; the report then says what was
skipped, why, and what that changes (:data:`SKIP_CONSEQUENCES`). An engagement that lists only
notebooks of its own (``.ipynb`` paths) runs just those.

The file is checked before anything runs and every problem is listed at once: unknown keys,
missing files, unknown notebooks or parameters, and values whose type does not match the
``name: type = default`` declaration in the notebook's ``parameters`` cell.

Examples
--------
>>> from workbench.runs.engagement import load_engagement
>>> eng = load_engagement("data/demo/engagement.yaml")      # doctest: +SKIP
>>> [step.name for step in eng.notebooks]                    # doctest: +SKIP
['01_calibrate_raters', '02_skill_profiles', '03_learning_impact', '04_learning_plans']
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from workbench.checks import check_integer
from workbench.errors import ConfigError, Problem, WorkbenchError, format_problems
from workbench.runs.parameters import NotebookSpec, check_values, notebook_spec, resolve_path
from workbench.runs.snapshot import SNAPSHOT_FILE, open_snapshot
from workbench.tables.columns import SUFFIXES, TABLES
from workbench.tables.mapping import ColumnMapping, read_yaml
from workbench.tables.organisation import Organisation, find_table_files, load_organisation

__all__ = [
    "EngagementError",
    "Engagement",
    "NotebookStep",
    "DEFAULT_NOTEBOOKS",
    "PIPELINE_PARAMETERS",
    "notebooks_dir",
    "notebook_parameters",
    "check_parameters",
    "load_engagement",
    "open_organisation",
    "check_notebook_parameters",
    "SKIP_CONSEQUENCES",
]

#: What skipping an analysis changes, said in the report next to the engagement's reason.
SKIP_CONSEQUENCES = {
    "01_calibrate_raters": "The later analyses calibrate the ratings themselves; the report "
                           "does not describe the calibration or the survey's reliability.",
    "02_skill_profiles": "The report has no skill profiles, and the learning plans use no "
                         "profile-based rules.",
    "03_learning_impact": "The report does not say whether training worked, and the learning "
                          "plans expect the gains the catalogue states (or a small default "
                          "gain) instead of gains measured in this organisation.",
    "04_learning_plans": "There are no learning plans, person pages or plans workbook.",
    "05_progression_and_outcomes": "The report has no readiness, bench strength or outcome "
                                   "analyses.",
}

#: The analyses a batch run executes, in order, when the engagement names none.
DEFAULT_NOTEBOOKS = (
    "01_calibrate_raters",
    "02_skill_profiles",
    "03_learning_impact",
    "04_learning_plans",
    "05_progression_and_outcomes",
)

#: Parameters the pipeline sets itself; an engagement file may not set them.
PIPELINE_PARAMETERS = ("data_dir", "engagement_file", "output_dir")

TOP_KEYS = ("engagement", "client", "description", "random_state", "data", "mapping", "notebooks")
DATA_KEYS = ("folder", "waves") + tuple(TABLES)
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class EngagementError(ConfigError):
    """An engagement file is invalid; ``problems`` lists every problem found.

    Parameters
    ----------
    problems : list of Problem
    """

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__(format_problems(self.problems))


@dataclass(frozen=True)
class NotebookStep:
    """One notebook of a run with the parameters the engagement gives it."""

    name: str
    path: Path
    parameters: dict = field(default_factory=dict)
    spec: NotebookSpec | None = None
    skip: str | None = None

    @property
    def needs(self) -> tuple:
        """The tables this notebook cannot run without."""
        return self.spec.needs if self.spec is not None else ("ratings",)


@dataclass(frozen=True)
class Engagement:
    """A validated engagement file.

    Attributes
    ----------
    name : str
        Short name; reports go to ``<reports>/<name>/<run-id>/``.
    client : str
        Client name shown on the report.
    path : Path
        The engagement file (absolute).
    folder : Path or None
        Data folder (absolute), when given.
    files : dict
        Table name -> explicit file (absolute).
    mapping : ColumnMapping
    notebooks : tuple of NotebookStep
    random_state : int or None
    description : str
    """

    name: str
    client: str
    path: Path
    folder: Path | None
    files: dict
    mapping: ColumnMapping
    notebooks: tuple
    random_state: int | None = None
    description: str = ""
    waves: tuple | None = None

    def input_files(self) -> dict[str, Path]:
        """Every data file the run reads (table -> path), found as the loader finds them."""
        found = find_table_files(self.folder) if self.folder is not None else {}
        found.update(self.files)
        instrument = self.mapping.survey.get("instrument")
        places = [Path(found["ratings"]).parent] if "ratings" in found else []
        places += [self.folder] if self.folder is not None else []
        names = [instrument] if isinstance(instrument, str) else [
            f"instrument{suffix}" for suffix in SUFFIXES]
        for place in places:  # the survey's instrument is an input too (as the reader finds it)
            hits = [Path(place) / name for name in names if (Path(place) / name).is_file()]
            if hits and "instrument" not in found:
                found["instrument"] = hits[0]
        return {table: Path(path) for table, path in found.items()}

    def load_organisation(self) -> Organisation:
        """Load and validate the data (raises InputError listing every problem)."""
        return load_organisation(self.folder, mapping=self.mapping, waves=self.waves,
                                 **self.files)


def notebooks_dir() -> Path:
    """The folder holding the workbench notebooks (``notebooks/`` next to the package)."""
    return Path(__file__).resolve().parents[2] / "notebooks"


def notebook_parameters(path: str | Path) -> dict:
    """Parameters declared in a notebook's ``parameters`` cell, as specs.

    Returns
    -------
    dict
        name -> :class:`workbench.runs.parameters.ParameterSpec` (type, default, allowed values).
    """
    return notebook_spec(path).parameters


def _problem(file: str, where: str | None, message: str, value: str | None = None) -> Problem:
    """A problem at a key of the engagement file (``notebooks.01_calibrate_raters.k_max``)."""
    text = f"{where}: {message}" if where else message
    return Problem(file, None, None, text, value)


def check_parameters(spec: NotebookSpec, given: Mapping, *, file: str) -> list:
    """Problems with ``given`` parameter values for a notebook (every one, as Problems).

    A value must name a declared parameter, not one the pipeline sets, have the declared type
    (``int`` accepts whole numbers only, ``float`` any number) and lie among the values the
    parameter's help declares (see :mod:`workbench.runs.parameters`).
    """
    return [
        _problem(file, f"notebooks.{spec.name}.{name}", message)
        for name, message in check_values(spec, given, reserved=PIPELINE_PARAMETERS,
                                          base=Path(file).parent)
    ]


def _read_yaml(path: Path):
    try:
        spec = read_yaml(path, what="engagement file")
    except ConfigError as exc:  # missing, a folder, unreadable, not UTF-8, not YAML
        raise EngagementError([_problem(str(path), None, str(exc).split(": ", 1)[-1])]) from None
    if not isinstance(spec, Mapping):
        raise EngagementError(
            [_problem(str(path), None, "must be a mapping of keys (engagement, client, data)")]
        )
    return spec


def _check_data(spec, base: Path, file: str, problems: list):
    data = spec.get("data")
    folder, files = None, {}
    if data is None:
        problems.append(_problem(file, "data", "missing: say where the data files are"))
        return folder, files
    if isinstance(data, str):
        data = {"folder": data}
    if not isinstance(data, Mapping):
        problems.append(_problem(file, "data", "must be a folder or a mapping", repr(data)))
        return folder, files
    for key in data:
        if key not in DATA_KEYS:
            problems.append(
                _problem(file, f"data.{key}", f"unknown key (allowed: {', '.join(DATA_KEYS)})")
            )
    for key in DATA_KEYS:
        if key not in data or key == "waves":
            continue
        value = data[key]
        if not isinstance(value, str) or not value.strip():
            problems.append(_problem(file, f"data.{key}", "must be a path", repr(value)))
            continue
        path = (base / value).resolve()
        if key == "folder":
            if not path.is_dir():
                problems.append(
                    _problem(file, "data.folder", f"folder not found in {base}", value)
                )
            else:
                folder = path
        elif not path.is_file():
            problems.append(_problem(file, f"data.{key}", f"file not found in {base}", value))
        else:
            files[key] = path
    if folder is None and "ratings" not in files and "folder" not in data and not problems:
        problems.append(
            _problem(file, "data", "give a folder or at least a ratings file")
        )
    return folder, files


def _check_waves(spec, file: str, problems: list) -> tuple | None:
    """``data.waves``: the waves of the ratings to use (a list of wave numbers or labels)."""
    data = spec.get("data")
    if not isinstance(data, Mapping) or data.get("waves") is None:
        return None
    waves = data["waves"]
    if isinstance(waves, (str, int)) and not isinstance(waves, bool):
        waves = [waves]
    if (not isinstance(waves, list) or not waves
            or not all(isinstance(w, (str, int)) and not isinstance(w, bool) for w in waves)):
        problems.append(_problem(file, "data.waves", "must be a list of waves, e.g. [1, 2]",
                                 repr(data["waves"])))
        return None
    return tuple(waves)


def _check_needs(steps, folder, files, file: str) -> list:
    """Every notebook's needed tables are among the data files (else nothing can run)."""
    try:
        available = set(find_table_files(folder)) if folder is not None else set()
    except WorkbenchError as exc:
        return [_problem(file, "data.folder", str(exc))]
    available |= set(files)
    problems = []
    for step in steps:
        if step.skip:
            continue
        missing = [t for t in step.needs if t not in available]
        if missing:
            problems.append(_problem(
                file, f"notebooks.{step.name}",
                f"needs the {', '.join(missing)} table(s), which the data do not have "
                f"(found: {', '.join(sorted(available)) or 'none'}); add the file(s) or "
                f"skip it with the reason (notebooks: {step.name}: {{skip: \"why\"}})"))
    return problems


def _check_notebooks(spec, base: Path, file: str, random_state, problems: list, where: Path):
    """Check the engagement's notebook list and each notebook's parameters against what the
    notebook declares; every problem is added to ``problems``.
    """
    raw = spec.get("notebooks")
    if raw is None:
        raw = {name: {} for name in DEFAULT_NOTEBOOKS}
    if isinstance(raw, list):
        raw = {name: {} for name in raw} if all(isinstance(n, str) for n in raw) else raw
    if not isinstance(raw, Mapping) or not raw:
        problems.append(
            _problem(file, "notebooks", "must map notebook names to parameters", repr(raw))
        )
        return ()
    if any(str(name) in DEFAULT_NOTEBOOKS for name in raw):
        # every analysis runs unless skipped with a reason, in the analyses' order
        listed = {str(k): v for k, v in raw.items()}
        raw = {name: listed.pop(name, {}) for name in DEFAULT_NOTEBOOKS} | listed
    steps = []
    for name, params in raw.items():
        name = str(name)
        params = {} if params is None else params
        if not isinstance(params, Mapping):
            problems.append(
                _problem(file, f"notebooks.{name}", "parameters must be a mapping",
                        repr(params))
            )
            continue
        params = dict(params)
        skip = params.pop("skip", None)
        if skip is not None and (not isinstance(skip, str) or not skip.strip()):
            problems.append(_problem(file, f"notebooks.{name}.skip",
                                     "give the reason for skipping, as text "
                                     "(it is said in the report)", repr(skip)))
            skip = None
        candidate = Path(name)
        if candidate.suffix == ".ipynb":
            path = (base / candidate).resolve()
            name = candidate.stem
        else:
            path = where / f"{name}.ipynb"
        if not path.is_file():
            known = ", ".join(sorted(p.stem for p in where.glob("[0-9]*.ipynb")))
            problems.append(
                _problem(file, f"notebooks.{name}", f"no such notebook (known: {known})")
            )
            continue
        try:
            spec_ = notebook_spec(path)
        except ConfigError as exc:
            problems.append(_problem(file, f"notebooks.{name}", str(exc)))
            continue
        spec_ = NotebookSpec(name=name, path=path, parameters=spec_.parameters)
        params = {str(k): v for k, v in params.items()}
        if random_state is not None and "random_state" in spec_.parameters:
            params.setdefault("random_state", random_state)
        problems += check_parameters(spec_, params, file=file)
        for pname, pspec in spec_.parameters.items():
            # a file a notebook reads is passed on as an absolute path: the kernel runs in
            # the notebooks' folder, not the engagement's
            if pspec.file and isinstance(params.get(pname), str) and params[pname].strip():
                params[pname] = str(resolve_path(params[pname], base))
        steps.append(NotebookStep(name=name, path=path, parameters=params, spec=spec_,
                                  skip=skip.strip() if skip else None))
    return tuple(steps)


def load_engagement(
    path: str | Path, *, notebooks: str | Path | None = None, check_notebooks: bool = True
) -> Engagement:
    """Read and check an engagement file; raise one error listing every problem.

    Parameters
    ----------
    path : path
        The engagement YAML file. Data paths in it are relative to its folder.
    notebooks : path, optional
        Folder with the notebooks (default: the workbench's ``notebooks/``).
    check_notebooks : bool
        Check the notebooks and their parameters (a notebook reading its data skips this).

    Returns
    -------
    Engagement

    Raises
    ------
    EngagementError
        (a ConfigError) listing unknown keys, missing files, unknown notebooks or parameters,
        and parameter values of the wrong type.

    Examples
    --------
    >>> eng = load_engagement("data/demo/engagement.yaml")   # doctest: +SKIP
    >>> eng.client                                            # doctest: +SKIP
    'Demo Organisation (synthetic)'
    """
    path = Path(path).resolve()
    file = str(path)
    spec = _read_yaml(path)
    base = path.parent
    problems: list[Problem] = []
    for key in spec:
        if key not in TOP_KEYS:
            problems.append(
                _problem(file, str(key), f"unknown key (allowed: {', '.join(TOP_KEYS)})")
            )
    name = spec.get("engagement")
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        problems.append(
            _problem(
                file,
                "engagement",
                "missing or invalid: a short name of letters, digits, '-', '_' or '.'",
                None if name is None else repr(name),
            )
        )
    client = spec.get("client")
    if not isinstance(client, str) or not client.strip():
        problems.append(_problem(file, "client", "missing: the client's name for the report"))
    description = spec.get("description", "")
    if not isinstance(description, str):
        problems.append(_problem(file, "description", "must be text", repr(description)))
    random_state = spec.get("random_state")
    if random_state is not None:
        try:
            if not isinstance(random_state, int):  # 7.0 in YAML is a typo, not a seed
                raise ConfigError(f"random_state={random_state!r}: must be a whole number")
            random_state = check_integer("random_state", random_state, low=0, high=2**32 - 1)
        except ConfigError as exc:
            problems.append(_problem(file, "random_state", str(exc).split(": ", 1)[-1],
                                     repr(random_state)))
            random_state = None
    folder, files = _check_data(spec, base, file, problems)
    waves = _check_waves(spec, file, problems)
    mapping = ColumnMapping()
    try:
        mapping = ColumnMapping.from_dict(spec.get("mapping"))
    except ConfigError as exc:
        problems.append(_problem(file, "mapping", str(exc)))
    where = Path(notebooks) if notebooks is not None else notebooks_dir()
    steps = ()
    if check_notebooks:
        steps = _check_notebooks(spec, base, file, random_state, problems, where)
    elif "notebooks" in spec and not isinstance(spec["notebooks"], (Mapping, list, type(None))):
        problems.append(_problem(file, "notebooks", "must map notebook names to parameters"))
    if not problems:
        problems += _check_needs(steps, folder, files, file)
    if problems:
        raise EngagementError(problems)
    return Engagement(
        name=name,
        client=client.strip(),
        path=path,
        folder=folder,
        files=files,
        mapping=mapping,
        notebooks=steps,
        random_state=random_state,
        description=description or "",
        waves=waves,
    )


def open_organisation(data_dir: str | Path = "", engagement_file: str | Path = "") -> Organisation:
    """The organisation a notebook analyses: from an engagement file when given, else a folder.

    Parameters
    ----------
    data_dir : path
        Folder with ratings.csv, people.csv, ... (used when ``engagement_file`` is empty).
    engagement_file : path, optional
        Engagement YAML; its data files and column mapping are used.

    Examples
    --------
    >>> org = open_organisation("data/demo")     # doctest: +SKIP
    """
    if engagement_file:
        return load_engagement(engagement_file, check_notebooks=False).load_organisation()
    if not data_dir:
        raise ConfigError("give data_dir (a folder with ratings.csv, ...) or engagement_file")
    if (Path(data_dir) / SNAPSHOT_FILE).is_file():  # a run's validated copy of its inputs
        return open_snapshot(data_dir)
    return load_organisation(data_dir)


#: Names IPython puts in a notebook's namespace (not parameters).
_IPYTHON_NAMES = frozenset({"In", "Out", "exit", "quit", "get_ipython", "open"})


def check_notebook_parameters(name: str, namespace: Mapping, *,
                              notebooks: str | Path | None = None) -> None:
    """A notebook's first check, right after its parameters: every name and value, at once.

    Every notebook calls this in the cell after its ``parameters`` cell (after papermill's
    injected values too), so a misspelt parameter (papermill only warns: "Passed unknown
    parameter") or a value outside the declared ones stops the notebook before anything is
    computed or written, with the nearest valid name.

    Parameters
    ----------
    name : str
        The notebook's name (``01_calibrate_raters``); its declarations are read from the
        workbench's notebook of that name.
    namespace : mapping
        The notebook's ``globals()``: the values of the parameters cell and the injected ones.
        Modules, functions, classes and private names are not parameters and are ignored.

    Raises
    ------
    ConfigError
        Listing every unknown parameter (with the nearest valid name) and every bad value.

    Examples
    --------
    >>> check_notebook_parameters("02_skill_profiles", {"k_max": 4, "random_state": 1})
    >>> check_notebook_parameters("02_skill_profiles", {"k_mx": 4})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    workbench.errors.ConfigError: notebook 02_skill_profiles: parameter 'k_mx': unknown \
parameter; did you mean 'k_max'? (known: ...)
    """
    import types

    folder = Path(notebooks) if notebooks is not None else notebooks_dir()
    spec = notebook_spec(folder / f"{name}.ipynb")
    given = {
        key: value for key, value in namespace.items()
        if not key.startswith("_") and key not in _IPYTHON_NAMES
        and not isinstance(value, types.ModuleType) and not callable(value)
    }
    problems = check_values(spec, given, base=Path.cwd())
    if problems:
        raise ConfigError("; ".join(
            f"notebook {name}: parameter {param!r}: {message}" for param, message in problems))
