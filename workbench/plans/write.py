"""Writing a PlanSet: CSV tables, plans.json, one page per person, Excel workbook, heat maps.

Everything goes into a new (or empty) folder and no file is ever overwritten. Person page
file names are safe on every file system and bounded: the id's letters, digits, ``-``, ``_``
and ``.`` (anything else becomes ``_``), at most :data:`MAX_STEM` characters; a name that had
to be shortened or changed, that collides (case-insensitively) with another, or that is a
reserved Windows device name gets a short hash of the id, so two people never share a file.
plans.json gives the page file name of each person whose id had to be changed.

Examples
--------
>>> used = set()
>>> safe_file_stem("P-001", used), len(safe_file_stem("x" * 300, used))
('P-001', 48)
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd

from workbench.plans.pages import render_person_page
from workbench.plans.records import person_records
from workbench.writers import new_workbook

__all__ = ["write_plans", "safe_file_stem", "MAX_STEM"]

#: Longest page file name stem (file systems allow 255 bytes; leave room for folders).
MAX_STEM = 48
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
             *(f"lpt{i}" for i in range(1, 10))}


def safe_file_stem(person, used) -> str:
    """A safe, bounded file name stem for ``person``, unique within ``used`` (updated)."""
    raw = str(person)
    clean = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "_" for ch in raw)
    clean = clean.strip(".") or "person"
    digest = hashlib.sha1(raw.encode("utf-8")).hexdigest()[:8]
    changed = clean != raw or len(clean) > MAX_STEM or clean.lower() in _RESERVED
    stem = f"{clean[:MAX_STEM - 9]}~{digest}" if changed else clean
    k = 2
    while stem.lower() in used:
        stem = f"{clean[:MAX_STEM - 12]}~{digest}~{k}"
        k += 1
    used.add(stem.lower())
    return stem


def _sheet_name(name, used):
    """A valid, unique Excel sheet name: no []:*?/\\, not blank, at most 31 characters."""
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in str(name)).strip("' ")
    clean = clean or "Sheet"
    if clean.lower() == "history":
        clean = "History_"
    clean = clean[:31]
    base, k = clean, 2
    while clean.lower() in used:
        suffix = f"~{k}"
        clean = base[: 31 - len(suffix)] + suffix
        k += 1
    used.add(clean.lower())
    return clean


def write_plans(planset, out_dir, *, pages=True, figures=True, excel=True):
    """Write every output of a :class:`~workbench.plans.result.PlanSet` into a new folder.

    Files: the tables of ``planset._files()`` (plans.csv for LMS import, focus.csv, gains.csv,
    mentors.csv, unmatched_needs.csv, demand.csv, content_gaps.csv, experts.csv, issues.csv,
    heatmap_by_team.csv, heatmap_by_role.csv), settings.json, plans.json, heatmap_by_team.png,
    heatmap_by_role.png, plans.xlsx (summary sheet and one sheet per team) and
    people/<safe id>.md and .html.

    Returns
    -------
    Path
        The output folder.

    Examples
    --------
    >>> import tempfile
    >>> from workbench.plans.build import build_plans
    >>> from workbench.synth import generate_organisation, truth_scores
    >>> org = generate_organisation(30, seed=1, n_waves=1)
    >>> plans = build_plans(truth_scores(org, se=0.2, wave=1, random_state=1), org.people,
    ...                     org.framework, org.catalog, start="2027-01-04")
    >>> out = write_plans(plans, tempfile.mkdtemp() + "/plans", figures=False, excel=False)
    >>> (out / "plans.csv").exists(), len(list((out / "people").glob("*.html"))) == 30
    (True, True)
    """
    from workbench.results import Result

    ps = planset
    out = Result.save(ps, out_dir)
    used, stems = set(), {}
    for person in ps.people["person"]:
        stems[person] = safe_file_stem(person, used)
    records = person_records(ps, pages=stems)
    with (out / "plans.json").open("x", encoding="utf-8") as handle:
        # one compact document: json's C encoder runs only without indentation (20x quicker)
        handle.write(json.dumps({"start": ps.settings.get("start"), "people": records},
                                ensure_ascii=False, default=str))
    if pages:
        folder = out / "people"
        folder.mkdir()
        for rec in records:
            stem = stems[rec["person"]]
            with (folder / f"{stem}.md").open("x", encoding="utf-8") as handle:
                handle.write(render_person_page(rec, fmt="md"))
            with (folder / f"{stem}.html").open("x", encoding="utf-8") as handle:
                handle.write(render_person_page(rec, fmt="html"))
    if figures:
        import matplotlib.pyplot as plt

        for by in ("team", "role"):
            fig = ps.plot_heatmap(by=by)
            fig.savefig(out / f"heatmap_by_{by}.png", dpi=120)
            plt.close(fig)
    if excel:
        _write_excel(ps, out / "plans.xlsx")
    return out


TEAM_SHEET_COLUMNS = ["person", "role", "skill", "focus_rank", "focus_type", "activity",
                      "title", "kind", "start", "end", "hours", "cost", "gain", "gain_source",
                      "score", "target_level", "destination_level", "mentor", "goal"]


def _excel_rows(frame):
    """Header and rows of plain Python values (dates as datetime, missing as None)."""
    yield [str(c) for c in frame.columns]
    if len(frame) == 0:
        return
    values = frame.astype(object).where(frame.notna(), None).to_numpy()
    for row in values:
        yield [
            ", ".join(map(str, v)) if isinstance(v, list | tuple)
            else v.to_pydatetime() if isinstance(v, pd.Timestamp)
            else v.item() if isinstance(v, np.generic)
            else v
            for v in row
        ]


def _write_excel(ps, path):
    """Consultant workbook: Summary, Demand, Issues, Mentors, Unmatched needs, one per team.

    xlsxwriter's constant-memory mode writes thousands of team sheets row by row (about three
    times quicker than openpyxl's write-only mode).
    """
    book = new_workbook(path, constant_memory=True)
    used, next_row = set(), {}

    def sheet_of(name):
        sheet = book.add_worksheet(_sheet_name(name, used))
        next_row[sheet.name] = 0
        return sheet

    def append(sheet, row):
        sheet.write_row(next_row[sheet.name], 0, row)
        next_row[sheet.name] += 1

    summary = sheet_of("Summary")
    for row in _excel_rows(ps.overview()):
        append(summary, row)
    if len(ps.content_gaps):
        append(summary, [])
        append(summary, ["Content gaps"])
        for row in _excel_rows(ps.content_gaps):
            append(summary, row)
    for name, frame in (("Demand", ps.demand), ("Issues", ps.issues),
                        ("Mentors", ps.mentors), ("Unmatched needs", ps.unmatched)):
        sheet = sheet_of(name)
        for row in _excel_rows(frame):
            append(sheet, row)
    # one conversion of the whole table, then rows dealt out to the team sheets
    cols = [c for c in TEAM_SHEET_COLUMNS if c in ps.plans]
    plans = ps.plans.sort_values(["team", "person", "focus_rank", "week_from"], kind="stable")
    rows = _excel_rows(plans[cols])
    header = next(rows)
    teams = plans["team"].astype(str).to_numpy()
    sheet, current = None, None
    for team, row in zip(teams, rows, strict=True):
        if team != current:
            sheet = sheet_of(team)
            append(sheet, header)
            current = team
        append(sheet, row)
    book.close()
