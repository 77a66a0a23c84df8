"""The run folder's two halves over a full run: client/ holds only what may be sent."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from tests.runs.engagements import shared_full_run
from workbench.reporting.disclosure import client_folder_problems, find_ids, visible_text
from workbench.runs.layout import PLANS_OUTPUT, team_folder


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    return shared_full_run(tmp_path_factory)


def test_client_folder_holds_only_what_may_be_sent(full_run):
    run = full_run["run_dir"]
    assert sorted(p.name for p in run.iterdir()) == ["README.txt", "analyst", "client"]
    client = run / "client"
    files = [p for p in client.rglob("*") if p.is_file()]
    assert (client / "report.html").is_file() and (client / "plans.xlsx").is_file()
    assert {p.suffix for p in files} <= {".html", ".xlsx", ".png"}
    assert not [p for p in files if p.name == "manifest.json" or p.suffix in (".ipynb",
                                                                            ".parquet", ".csv")]
    ratings = pd.read_csv(full_run["root"] / "data" / "ratings.csv", dtype=str)
    people = pd.read_csv(full_run["root"] / "data" / "people.csv", dtype=str)
    # the person pages, one per person, in a folder per team (the people file's teams)
    pages = sorted((client / "people").rglob("*.html"))
    assert len(pages) == len(people)
    expected = {f"{team_folder(t)}/{p}.html" for p, t in zip(people["person"], people["team"],
                                                            strict=True)}
    assert {p.relative_to(client / "people").as_posix() for p in pages} == expected
    # no rater id outside a person's role, no file of the wrong kind, no absolute path
    plans = run / "analyst" / PLANS_OUTPUT / "plans.json"
    problems = client_folder_problems(client, ratings["rater"], people=people, plans=plans)
    assert problems.empty, problems.head(20).to_string()
    # the run checked the same and found nothing
    manifest = json.loads((run / "analyst" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["client_problems"] == []
    assert sorted(manifest["client"]) == sorted(
        p.relative_to(run).as_posix() for p in files)
    report = (client / "report.html").read_text(encoding="utf-8")
    shown = visible_text(report)
    assert not find_ids(shown, ratings["rater"])
    assert str(full_run["root"]) not in report and "manifest.json" not in shown
    assert not re.search(r"\b\w+\.(ipynb|parquet|csv)\b", shown), "a file name in the report"


def test_analyst_folder_and_readme(full_run):
    run = full_run["run_dir"]
    analyst = run / "analyst"
    for name in ("manifest.json", "inputs", "notebooks", "outputs"):
        assert (analyst / name).exists(), name
    assert list((analyst / "notebooks").glob("*.ipynb"))
    assert list(analyst.rglob("rater_effects.csv"))
    readme = (run / "README.txt").read_text(encoding="utf-8")
    assert "client/" in readme and "MAY BE SENT" in readme
    assert "analyst/" in readme and "NEVER SEND" in readme


def test_run_says_the_client_folder_first(full_run):
    """The first line that names a folder of the run names client/ (data warnings, said
    before the folder exists, may come earlier)."""
    log = (full_run["root"] / "run.log").read_text(encoding="utf-8")
    first = next(line for line in log.splitlines() if str(full_run["run_dir"]) in line)
    assert first == f"client folder (may be sent): {full_run['run_dir'] / 'client'}"


def test_client_folder_problems_finds_leaks_of_every_kind(tmp_path):
    (tmp_path / "people" / "Sales").mkdir(parents=True)
    (tmp_path / "report.html").write_text("<p>R17 was lenient; see C:\\runs\\x and /home/a/b</p>")
    (tmp_path / "notes.ipynb").write_text("{}")
    (tmp_path / "people" / "Sales" / "P01.html").write_text(
        "<title>Plan: P01</title><p>P01 rated by R17</p>")
    found = client_folder_problems(tmp_path, ["R17", "P01"])
    assert set(map(tuple, found[["file", "location"]].values)) == {
        ("report.html", "page"), ("report.html", "absolute path"),
        ("notes.ipynb", "file kind"), ("people/Sales/P01.html", "page")}


def _tables(page: str) -> list[str]:
    import re as _re

    return _re.findall(r"<table\b.*?</table>", page, flags=_re.S)


def test_report_tables_speak_to_people(full_run):
    """Every table has a body row; no cell reads -0.00, True/False or a snake_case code."""
    page = (full_run["run_dir"] / "client" / "report.html").read_text(encoding="utf-8")
    page = re.sub(r"data:image/[^\"')]+", "", page)
    tables = _tables(page)
    assert tables
    # the client's own names (outcome metrics) are data, shown as the client wrote them
    outcomes = full_run["root"] / "data" / "outcomes.csv"
    client_names = set(pd.read_csv(outcomes)["metric"].astype(str)) if outcomes.is_file() else set()
    for table in tables:
        body = re.search(r"<tbody>(.*?)</tbody>", table, flags=re.S)
        assert body and "<tr" in body.group(1), f"a table without rows: {table[:300]}"
        cells = [visible_text(c).strip()
                 for c in re.findall(r"<t[dh]\b[^>]*>(.*?)</t[dh]>", table, flags=re.S)]
        for cell in cells:
            assert not re.fullmatch(r"-0(\.0+)?", cell), table[:300]
            assert cell not in ("True", "False"), table[:300]
            assert cell in client_names or not re.fullmatch(r"[a-z]+(_[a-z0-9]+)+", cell), (
                f"code {cell!r} in a table")
            assert cell not in ("EII", "VVV", "EEE", "ancova", "did", "holm", "d_z", "g_av")
