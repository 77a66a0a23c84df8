"""The client report and a person's page, opened in a real headless browser (chromium).

A run of the four analyses on a small generated organisation produces ``report.html`` and the
person pages. The browser must render them, every image must load (``naturalWidth > 0``), no
code may be visible, no rater may be named (a person's page names only that person, their
mentors and manager), and no source code such as ``direct_report`` may reach the reader.
Screenshots are taken and checked to hold a rendered page, not a blank one.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.runs.engagements import shared_full_run
from workbench.reporting.disclosure import find_ids
from workbench.runs.engagement import DEFAULT_NOTEBOOKS
from workbench.tables.data import SOURCES

# What the reader sees once the page has loaded.
PROBE = """() => {
  const images = Array.from(document.images);
  return {
    images: images.length,
    broken: images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src.slice(0, 40)),
    widths: images.map(i => i.naturalWidth),
    code_areas: document.querySelectorAll(
      ".input, .input_area, .jp-InputArea, .jp-Editor, .CodeMirror, .highlight").length,
    tables: document.querySelectorAll("table").length,
    sections: document.querySelectorAll("section.analysis").length,
    text: document.body.innerText,
  };
}"""
# Code a reader must never see: statements, calls into the package, prompts, reprs.
CODE = re.compile(r"^\s*(from \w+ import|import \w+$|def \w+\()|workbench\.\w|output_folder\(|"
                  r"\bIn \[|\bOut\[|Traceback|<Figure|<matplotlib", flags=re.M)
SNAKE_SOURCES = [s for s in (*SOURCES, "all_others") if "_" in s]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The four analyses on a small generated organisation (shared with tests/runs)."""
    result = shared_full_run(tmp_path_factory)
    assert result["code"] == 0
    return result


@pytest.fixture(scope="module")
def raters(run) -> set:
    return set(pd.read_csv(run["root"] / "data" / "ratings.csv", dtype=str)["rater"])


@pytest.fixture(scope="module")
def plans_folder(run) -> Path:
    found = sorted(run["run_dir"].rglob("plans.json"))
    assert found, "the run wrote no plans.json"
    return found[0].parent


@pytest.fixture(scope="module")
def person_page(plans_folder, raters):
    """A person with a mentor, their page and the ids that page may name."""
    plans = json.loads((plans_folder / "plans.json").read_text(encoding="utf-8"))["people"]
    mentored = [p for p in plans if any(f.get("mentor") for f in p["focus"])]
    entry = (mentored or plans)[0]
    person = entry["person"]
    pages = sorted(plans_folder.rglob("*.html"))
    page = next((p for p in pages if "people" in p.parts and person in find_ids(
        re.search(r"<title>(.*?)</title>", p.read_text(encoding="utf-8"), re.S).group(1),
        [person])), None)
    assert page is not None, f"no HTML page for {person}"
    allowed = {person} | {f["mentor"] for f in entry["focus"] if f.get("mentor")}
    return page, allowed


def _open(browser, path: Path, *, width=1280, height=900):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(path.as_uri(), wait_until="load")
    return page


def _shot_is_a_page(png: bytes, width: int):
    """A real screenshot: the PNG decodes, has the viewport's width and is not one colour."""
    import matplotlib.image as mpimg

    image = mpimg.imread(io.BytesIO(png), format="png")
    assert image.shape[1] == width
    assert image.shape[0] >= 600
    flat = (image[..., :3] * 255).astype(int).reshape(-1, 3)
    colours = len(np.unique(flat[:: max(1, len(flat) // 200_000)], axis=0))
    assert colours > 50, f"the screenshot looks blank ({colours} colours)"


@pytest.fixture(scope="module")
def report_view(browser, run, tmp_path_factory):
    page = _open(browser, run["run_dir"] / "client" / "report.html")
    seen = page.evaluate(PROBE)
    shot = page.screenshot(full_page=True)
    (tmp_path_factory.mktemp("shots") / "report.png").write_bytes(shot)
    page.emulate_media(media="print")
    seen["nav_when_printed"] = page.evaluate(
        "() => getComputedStyle(document.querySelector('nav')).display")
    page.close()
    return seen, shot


@pytest.fixture(scope="module")
def person_view(browser, person_page):
    page = _open(browser, person_page[0], width=1000)
    seen = page.evaluate(PROBE)
    shot = page.screenshot(full_page=True)
    page.close()
    return seen, shot


def test_report_renders_with_every_section(report_view):
    seen, shot = report_view
    assert seen["sections"] == len(DEFAULT_NOTEBOOKS)
    assert seen["tables"] >= 4
    assert "Report Test Ltd" in seen["text"] and "Contents" in seen["text"]
    _shot_is_a_page(shot, 1280)


def test_every_figure_of_the_report_loads(report_view):
    seen, _ = report_view
    assert seen["images"] >= 4
    assert seen["broken"] == []
    assert min(seen["widths"]) > 100


def test_no_code_is_visible_in_the_report(report_view):
    seen, _ = report_view
    assert seen["code_areas"] == 0
    assert CODE.findall(seen["text"]) == []


def test_no_rater_is_named_in_the_report(run, raters, report_view):
    seen, _ = report_view
    assert find_ids(seen["text"], raters) == []
    # nor hidden in the markup (tables, alt text, attributes)
    report = run["run_dir"] / "client" / "report.html"
    source = re.sub(r"data:image/[^\"']+", "", report.read_text("utf-8"))
    assert find_ids(source, raters) == []
    assert not re.search(r"<th[^>]*>\s*rater\s*</th>", source)


def test_sources_are_labelled_for_people_in_the_report(report_view):
    seen, _ = report_view
    assert [s for s in SNAKE_SOURCES if s in seen["text"]] == []
    assert "Direct reports" in seen["text"]


def test_the_printed_report_has_no_navigation(report_view):
    assert report_view[0]["nav_when_printed"] == "none"


def test_person_page_renders_without_code(person_view):
    seen, shot = person_view
    assert seen["broken"] == []
    assert seen["code_areas"] == 0
    assert CODE.findall(seen["text"]) == []
    _shot_is_a_page(shot, 1000)


def test_person_page_names_no_rater(person_view, person_page, raters):
    seen, _ = person_view
    page, allowed = person_page
    named = set(find_ids(seen["text"], raters))
    assert named - allowed == set(), f"{page.name} names raters: {sorted(named - allowed)}"
    assert named & allowed  # the page does name its person: the check can see ids


def test_person_page_labels_sources_for_people(person_view):
    seen, _ = person_view
    assert [s for s in SNAKE_SOURCES if s in seen["text"]] == []
