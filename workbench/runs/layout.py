"""A run folder's two halves: what may go to the client and what must stay with the analyst.

``workbench run`` writes::

    <run-id>/
      README.txt         what each folder holds and what may be sent
      client/            everything that may be handed over, and nothing else:
        report.html        the client report (figures embedded, no code)
        plans.xlsx         the learning plans, one sheet per team
        people/<team>/     one page per person, in a folder per team
      analyst/           never sent: rater-level and code content
        manifest.json      inputs' hashes, parameters, seeds, versions, paths
        inputs/            the run's validated copy of the data (who rated whom)
        notebooks/         the executed notebooks (code)
        outputs/<nb>/      every table and figure the notebooks wrote

:func:`assemble_client` copies the hand-over files from the analyst's outputs into
``client/`` once every notebook has run; :func:`write_readme` writes the README.

Examples
--------
>>> team_folder("Sales / EMEA")
'Sales___EMEA'
>>> team_folder(None)
'no_team'
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

__all__ = ["CLIENT", "ANALYST", "README", "PLANS_OUTPUT", "WITHHELD", "team_folder",
           "assemble_client", "withhold_client", "write_readme", "readme_text", "zip_client"]

CLIENT = "client"
ANALYST = "analyst"
README = "README.txt"
#: Where a client folder that failed its check goes, inside ``analyst/``.
WITHHELD = "client_withheld"
#: Where notebook 04 writes its plans, inside the analyst's outputs.
PLANS_OUTPUT = Path("outputs") / "04_learning_plans" / "plans"


def team_folder(team) -> str:
    """A safe folder name for a team (letters, digits, ``-``, ``_``, ``.``; else ``_``)."""
    if team is None or (isinstance(team, float) and team != team) or not str(team).strip():
        return "no_team"
    clean = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in str(team).strip())
    return clean.strip(".")[:60] or "team"


def assemble_client(run_dir: Path) -> list[Path]:
    """Copy the hand-over files from ``analyst/`` into ``client/``; return what was copied.

    The person pages (HTML) go to ``client/people/<team>/``, the plans workbook to
    ``client/plans.xlsx``. Markdown pages, CSV tables and plans.json stay with the analyst.
    """
    run_dir = Path(run_dir)
    plans = run_dir / ANALYST / PLANS_OUTPUT
    client = run_dir / CLIENT
    copied = []
    if (plans / "plans.xlsx").is_file():
        shutil.copyfile(plans / "plans.xlsx", client / "plans.xlsx")
        copied.append(client / "plans.xlsx")
    if (plans / "plans.json").is_file() and (plans / "people").is_dir():
        records = json.loads((plans / "plans.json").read_text(encoding="utf-8"))["people"]
        for rec in records:
            stem = rec.get("page") or str(rec["person"])
            page = plans / "people" / f"{stem}.html"
            if not page.is_file():
                continue
            folder = client / "people" / team_folder(rec.get("team"))
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(page, folder / page.name)
            copied.append(folder / page.name)
    return copied


def withhold_client(run_dir: Path) -> Path:
    """Move ``client/`` to ``analyst/client_withheld/`` and leave ``client/`` empty.

    A client folder whose check found something that must not be sent is kept for the analyst
    to look at, but nothing is left where a consultant would zip it. Returns the new folder.
    """
    run_dir = Path(run_dir)
    target = run_dir / ANALYST / WITHHELD
    shutil.move(run_dir / CLIENT, target)
    (run_dir / CLIENT).mkdir()
    return target


def readme_text(*, engagement: str, client: str, run_id: str, status: str,
                skipped: dict | None = None) -> str:
    """The run folder's README.txt: what each folder holds and what may be sent."""
    lines = [
        f"Talent analytics run {run_id}",
        f"Engagement: {engagement}   Client: {client}   Status: {status}",
        "",
        "client/   MAY BE SENT to the client (zip this folder, not the run folder):",
        "  report.html        the report: results, figures and their explanations, no code",
        "  plans.xlsx         the learning plans, one sheet per team",
        "  people/<team>/     one page per person (print-ready), in a folder per team;",
        "                     send each page only to its person and their manager",
        "",
        "analyst/  NEVER SEND: it names raters and holds code and server paths:",
        "  manifest.json      inputs' hashes, parameters, seeds, versions, timings, paths",
        "  inputs/            the validated copy of the data, including who rated whom",
        "  notebooks/         the executed notebooks (code and every output)",
        "  outputs/           every table and figure the notebooks wrote, rater-level",
        "                     results in outputs/*/analyst/",
    ]
    if status == "withheld":
        lines += ["", "The check of client/ found something that must not be sent (a rater, a",
                  "file of the wrong kind or a path; listed under client_problems in",
                  "analyst/manifest.json): client/ holds nothing to send. Its files are in",
                  f"analyst/{WITHHELD}/ for the analyst to look at."]
    elif status != "succeeded":
        lines += ["", "The run did not finish: client/ holds nothing to send. What failed is in",
                  "analyst/failure.html."]
    for name, reason in (skipped or {}).items():
        lines += ["", f"Skipped: {name}: {reason}"]
    return "\n".join(lines) + "\n"


def write_readme(run_dir: Path, **kwargs) -> Path:
    """Write ``README.txt`` (see :func:`readme_text`) into the run folder."""
    path = Path(run_dir) / README
    with path.open("x", encoding="utf-8") as handle:  # never over an earlier file
        handle.write(readme_text(**kwargs))
    return path


def zip_client(run_dir: Path) -> Path:
    """``client.zip`` beside ``client/``: exactly the client folder's files, nothing else.

    Never overwrites: a second call raises FileExistsError.
    """
    import zipfile

    run_dir = Path(run_dir)
    client = run_dir / CLIENT
    path = run_dir / "client.zip"
    with zipfile.ZipFile(path, "x", compression=zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(p for p in client.rglob("*") if p.is_file()):
            archive.write(file, file.relative_to(run_dir).as_posix())
    return path
