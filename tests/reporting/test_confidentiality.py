"""No rater id in what a client gets, checked without a browser (issue 14).

A full run's report.html, every person page, plans.json, plans.xlsx and every CSV meant for the
client are read as files. The checker itself is tested on planted leaks in each kind of file,
so that a clean result means something.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.runs.engagements import shared_full_run
from workbench.reporting.disclosure import ANALYST_FILES, find_ids, rater_id_leaks

RATERS = ["P01", "P02", "P03", "P10"]


def test_a_clean_folder_has_no_leaks(tmp_path):
    (tmp_path / "report.html").write_text("<p>Direct reports rate highest</p>")
    pd.DataFrame({"person": ["P01"], "mentor": ["P02"], "score": [3.0]}).to_csv(
        tmp_path / "plans.csv", index=False)
    assert rater_id_leaks(tmp_path, RATERS).empty


@pytest.mark.parametrize("markup", [
    "<p>rated by P02</p>",                          # visible text
    '<img alt="P03" src="x.png">',                  # an attribute
    "<table><tr><td>P10</td></tr></table>",         # a table cell
])
def test_any_rater_id_in_the_report_is_found(tmp_path, markup):
    (tmp_path / "report.html").write_text(f"<html><body>{markup}</body></html>")
    leaks = rater_id_leaks(tmp_path, RATERS)
    assert len(leaks) == 1 and leaks["file"].iloc[0] == "report.html"


def test_embedded_image_data_is_not_read_as_text(tmp_path):
    (tmp_path / "report.html").write_text('<img src="data:image/png;base64,AAP01AA P01 x">')
    assert rater_id_leaks(tmp_path, RATERS).empty


def test_ids_are_matched_as_whole_words():
    assert find_ids("P1, P10 and P100", ["P1", "P10", "P0"]) == ["P1", "P10"]
    assert find_ids("id with space: Ann Lee.", ["Ann Lee", "Lee A"]) == ["Ann Lee"]


def test_a_person_page_may_name_its_person_mentor_and_manager_only(tmp_path):
    people_dir = tmp_path / "plans" / "people"
    people_dir.mkdir(parents=True)
    plans = {"people": [{"person": "P01", "focus": [{"skill": "X", "mentor": "P02"}]}]}
    (tmp_path / "plans" / "plans.json").write_text(json.dumps(plans))
    page = "<html><head><title>Plan of P01</title></head><body>Mentor: P02. Manager: P03"
    (people_dir / "P01.html").write_text(page + "</body></html>")
    people = pd.DataFrame({"person": ["P01"], "manager": ["P03"]})
    assert rater_id_leaks(tmp_path, RATERS, people=people).empty
    # without the manager known, P03 is a rater named on the page
    leaks = rater_id_leaks(tmp_path, RATERS)
    assert leaks[["file", "value"]].values.tolist() == [["plans/people/P01.html", "P03"]]
    (people_dir / "P01.md").write_text("# Plan of P01\n\nPeers said so: P10\n")
    leaks = rater_id_leaks(tmp_path, RATERS, people=people)
    assert leaks[["file", "value"]].values.tolist() == [["plans/people/P01.md", "P10"]]


def test_tables_and_json_may_hold_ids_only_in_a_persons_role(tmp_path):
    pd.DataFrame({"person": ["P01"], "rater": ["P02"]}).to_csv(tmp_path / "a.csv", index=False)
    pd.DataFrame({"person": ["P01"], "note": ["P10"]}).to_csv(tmp_path / "b.csv", index=False)
    with pd.ExcelWriter(tmp_path / "plans.xlsx") as book:
        pd.DataFrame({"mentor": ["P02"]}).to_excel(book, sheet_name="ok", index=False)
        pd.DataFrame({"who": ["P03"]}).to_excel(book, sheet_name="bad", index=False)
    (tmp_path / "plans.json").write_text(json.dumps(
        {"people": [{"person": "P01", "comments": [{"by": "P02"}], "rater_id": "x"}]}))
    leaks = rater_id_leaks(tmp_path, RATERS)
    found = set(map(tuple, leaks[["file", "value"]].values.tolist()))
    assert found == {("a.csv", "rater"), ("b.csv", "P10"), ("plans.xlsx", "P03"),
                     ("plans.json", "P02"), ("plans.json", "rater_id")}


def test_analyst_files_are_not_client_files(tmp_path):
    for name in ANALYST_FILES:
        pd.DataFrame({"rater": ["P01"]}).to_csv(tmp_path / name, index=False)
    (tmp_path / "analyst").mkdir()
    pd.DataFrame({"rater": ["P01"]}).to_csv(tmp_path / "analyst" / "any.csv", index=False)
    assert rater_id_leaks(tmp_path, RATERS).empty


def test_a_full_run_gives_the_client_no_rater_id(tmp_path_factory):
    run = shared_full_run(tmp_path_factory)
    assert run["code"] == 0
    ratings = pd.read_csv(run["root"] / "data" / "ratings.csv", dtype=str)
    people = pd.read_csv(run["root"] / "data" / "people.csv", dtype=str)
    folder = run["run_dir"]
    # the files the issue names are all there, so the check covers them
    assert (folder / "client" / "report.html").exists()
    for name in ("plans.json", "plans.xlsx"):
        assert list(folder.rglob(name)), f"the run wrote no {name}"
    assert [p for p in folder.rglob("*.html") if "people" in p.parts]
    assert len(list(folder.rglob("*.csv"))) >= 5
    leaks = rater_id_leaks(folder, ratings["rater"], people=people)
    assert leaks.empty, leaks.head(20).to_string()


def test_the_report_shows_no_column_codes(tmp_path_factory):
    """Every table header a client reads is a label, not a code (no ``smallest_n``, ``ci_low``);
    cells tagged ``analyst-only`` (a result's full summary) stay out of the report."""
    import html
    import re

    run = shared_full_run(tmp_path_factory)
    page = (run["run_dir"] / "client" / "report.html").read_text(encoding="utf-8")
    page = re.sub(r"data:image/[^\"')]+", "", page)
    headers = {re.sub(r"<[^>]+>", "", html.unescape(h)).strip()
               for h in re.findall(r"<th\b[^>]*>(.*?)</th>", page, flags=re.S)}
    codes = sorted(h for h in headers if "_" in h)
    assert headers and not codes, codes


def test_rater_ids_are_found_in_neutralised_csv_cells_and_escaped_markdown(tmp_path):
    from workbench.plans.pages import render_person_page
    from workbench.writers import write_csv

    raters = ["=R1", "emp_02", "P01"]
    write_csv(pd.DataFrame({"person": ["P01"], "note": ["=R1"]}), tmp_path / "focus.csv")
    (tmp_path / "people").mkdir()
    record = {"person": "P01", "role": "Lead", "team": "T", "start": "2027-01-04",
              "reassessment": "", "checkins": [], "hours_per_week": 3, "strengths": [],
              "focus": [], "source_scores": [], "issues": ["asked emp_02"], "min_raters": 3,
              "comments": []}
    (tmp_path / "people" / "P01.md").write_text(render_person_page(record))
    leaks = rater_id_leaks(tmp_path, raters)
    assert sorted(leaks["value"]) == ["=R1", "emp_02"]
