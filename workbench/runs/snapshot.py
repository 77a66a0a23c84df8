"""The run's validated copy of its input tables (``inputs/`` in the run folder).

A client's files are read, mapped and checked once, before any notebook runs
(:func:`snapshot_inputs`); every notebook of the run then opens this copy
(:func:`open_snapshot`) instead of parsing a large workbook again. The copy is Parquet in the
workbench's own column names plus ``snapshot.json``: the SHA-256 of each table file, the
rating scale and the warnings found in the client's files, and what the survey reader
understood of a survey export (``survey/``: shape, items per competency, responses per
relationship, labels mapped, not observed, reversed items, dropped columns, unfinished
responses), so notebooks show it. A notebook opens the copy without
checking it again when every file still has its recorded hash; a copy changed or damaged
after the run wrote it is validated in full like any client folder.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from workbench.errors import Problem
from workbench.runs.manifest import file_sha256
from workbench.tables.columns import TABLES, Scale
from workbench.tables.organisation import Organisation, load_organisation
from workbench.tables.survey.report import SurveyReading

__all__ = ["SNAPSHOT", "SNAPSHOT_FILE", "SURVEY", "snapshot_inputs", "open_snapshot"]

#: The run's validated copy of its input tables (in the run folder), read by every notebook.
SNAPSHOT = "inputs"
#: The description of the copy (hashes, scale, warnings) inside the snapshot folder.
SNAPSHOT_FILE = "snapshot.json"
_TABLES = tuple(t for t in TABLES if t != "scale")  # the scale is described in the JSON


def snapshot_inputs(org: Organisation, folder: Path) -> Path:
    """Write the validated tables once, as Parquet, for every notebook of the run to read.

    The manifest keeps the SHA-256 of the client's own files; ``snapshot.json`` keeps those of
    the copies (see :func:`open_snapshot`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from workbench.tables import load_organisation
    >>> org = load_organisation("data/demo")                                # doctest: +SKIP
    >>> snapshot_inputs(org, pathlib.Path(tempfile.mkdtemp()) / "inputs")  # doctest: +SKIP
    """
    folder = Path(folder)
    folder.mkdir()
    files = {}
    for table in _TABLES:
        frame = getattr(org, table, None)
        if frame is not None:
            path = folder / f"{table}.parquet"
            # attrs hold the file name and, for item-level ratings, the item counts (a table):
            # those are written beside it, not into the Parquet metadata
            frame.copy(deep=False).pipe(_without_attrs).to_parquet(path, index=False)
            files[table] = file_sha256(path)
    extra = {}
    if org.item_counts is not None:
        path = folder / "item_counts.parquet"
        org.item_counts.to_parquet(path, index=False)
        extra["item_counts"] = file_sha256(path)
    scale = org.scale
    values = sorted(set(scale.anchors) | {float(scale.min), float(scale.max)})
    path = folder / "scale.parquet"
    pd.DataFrame({"value": values, "label": [scale.anchors.get(v, "") for v in values]}
                 ).to_parquet(path, index=False)
    files["scale"] = file_sha256(path)
    survey = _write_survey(org.survey, folder / SURVEY) if org.survey is not None else None
    description = {
        "files": files,
        "scale": {"min": float(scale.min), "max": float(scale.max),
                  "anchors": [[float(v), label] for v, label in scale.anchors.items()]},
        "warnings": [asdict(p) for p in org.warnings],
        "item_counts": extra.get("item_counts"),
        "anonymous_raters": bool(org.anonymous_raters),
        "survey": survey,
    }
    (folder / SNAPSHOT_FILE).write_text(json.dumps(description, indent=1), encoding="utf-8")
    return folder


def open_snapshot(folder: str | Path) -> Organisation:
    """The organisation in a run's snapshot folder, as :func:`load_organisation` gives it.

    When every table file still has the SHA-256 that :func:`snapshot_inputs` recorded, the
    typed tables are read as they are (they were validated before they were written; a
    5,000-person organisation opens in about a second instead of several). Otherwise the
    folder is loaded and validated in full.

    Examples
    --------
    >>> org = open_snapshot("reports/acme/20270104T090000Z-1a2b3c/inputs")  # doctest: +SKIP
    """
    folder = Path(folder)
    try:
        description = json.loads((folder / SNAPSHOT_FILE).read_text(encoding="utf-8"))
        files = description["files"]
        intact = all(file_sha256(folder / (name + ".parquet")) == digest
                     for name, digest in files.items())
    except (OSError, ValueError, KeyError, TypeError):
        intact = False
    if not intact:
        return load_organisation(folder)
    tables = {}
    for table in _TABLES:
        if table in files:
            path = folder / f"{table}.parquet"
            frame = pd.read_parquet(path)
            frame.attrs["file"] = str(path)
            tables[table] = frame
    scale = description["scale"]
    counts = None
    if description.get("item_counts"):
        path = folder / "item_counts.parquet"
        if file_sha256(path) == description["item_counts"]:
            counts = pd.read_parquet(path)
    anonymous = bool(description.get("anonymous_raters", False))
    tables["ratings"].attrs["anonymous_raters"] = anonymous
    survey = _read_survey(folder / SURVEY, description.get("survey"), counts)
    return Organisation(
        **tables,
        scale=Scale(min=scale["min"], max=scale["max"],
                    anchors={float(v): label for v, label in scale["anchors"]}),
        files={name: str(folder / f"{name}.parquet") for name in files},
        problems=[Problem(**p) for p in description.get("warnings", [])],
        item_counts=counts,
        anonymous_raters=anonymous,
        survey=survey,
    )


#: The survey reader's tables (what it understood of the export) inside the snapshot folder.
SURVEY = "survey"
_SURVEY_TABLES = ("overview", "items_per_skill", "responses_per_source", "labels",
                  "not_observed_by_item", "not_observed_by_source", "instrument_items")


def _write_survey(reading: SurveyReading, folder: Path) -> dict:
    """The reading's tables as Parquet in ``folder``; its description (and their hashes)."""
    folder.mkdir()
    hashes = {}
    for name in _SURVEY_TABLES:
        frame = getattr(reading, name)
        if frame is not None:
            frame.to_parquet(folder / f"{name}.parquet", index=False)
            hashes[name] = file_sha256(folder / f"{name}.parquet")
    return {"files": hashes, "file": reading.file, "shape": reading.shape,
            "dropped_columns": list(reading.dropped_columns),
            "anonymous_raters": bool(reading.anonymous_raters),
            "warnings": [asdict(p) for p in reading.warnings],
            "settings": dict(reading.settings)}


def _read_survey(folder: Path, description, counts) -> SurveyReading | None:
    """The :class:`SurveyReading` the snapshot kept (None: none kept, or a table changed)."""
    if not description or counts is None:
        return None
    tables = {}
    for name, digest in description["files"].items():
        path = folder / f"{name}.parquet"
        if not path.is_file() or file_sha256(path) != digest:
            return None
        tables[name] = pd.read_parquet(path)
    return SurveyReading(
        file=description["file"], shape=description["shape"], item_counts=counts,
        dropped_columns=tuple(description["dropped_columns"]),
        anonymous_raters=description["anonymous_raters"],
        warnings=tuple(Problem(**p) for p in description["warnings"]),
        settings=description["settings"], **tables)


def _without_attrs(frame: pd.DataFrame) -> pd.DataFrame:
    frame.attrs = {}
    return frame
