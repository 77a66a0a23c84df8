"""Client text is data, on the full engagement output: a hostile organisation end to end.

Every text column of every input table carries markup and spreadsheet formulas
(:mod:`tests.reporting.hostile`); the four analyses run once (``workbench run``) and notebook 00
(the explorer) runs on the same data. Then:

* without a browser, the report, every person page (HTML, and Markdown as a viewer renders
  it) and the explorer's HTML are parsed: no element or event handler comes from the data,
  and the payloads are there as text;
* in a headless chromium, the same pages are opened: no dialog fires, no script, svg, iframe
  or non-embedded image exists, no element has an event-handler attribute;
* every CSV file for people has no cell a spreadsheet would run; the machine files keep the
  ids exactly; the workbooks store formula-like text as text.
"""

from __future__ import annotations

import csv
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.reporting.hostile import FORMULA_PAYLOADS, HTML_PAYLOADS, make_hostile_data
from tests.runs.engagements import FAST, write_engagement
from workbench.cli import main
from workbench.escaping import escape_html
from workbench.runs.engagement import DEFAULT_NOTEBOOKS
from workbench.writers import MACHINE_FILES

EXPLORER = Path(__file__).resolve().parents[2] / "notebooks" / "00_explore.ipynb"
CLIENT = "<script>alert('client')</script> =HYPERLINK(\"x\") Ltd"
FORMULA = re.compile(r"^[=+\-@\t\r\uff1d\uff0b\uff0d\uff20]")
NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
# Markup a payload would create; the pages themselves make none of these.
FOREIGN = ("script", "svg", "iframe", "object", "embed")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The four analyses and the explorer on the hostile organisation (one run per session)."""
    import papermill as pm

    base = tmp_path_factory.mktemp("hostile")
    mappings = make_hostile_data(base / "data", n_people=80, seed=11)
    notebooks = {name: FAST.get(name, {}) for name in DEFAULT_NOTEBOOKS}
    path = write_engagement(base, "hostile", notebooks, client=CLIENT)
    code = main(["run", str(path), "--reports", str(base / "reports")])
    assert code == 0
    (run_dir,) = sorted((base / "reports" / "hostile").iterdir())
    scores = run_dir / "analyst" / "outputs" / "01_calibrate_raters" / "calibrated_scores.csv"
    explored = base / "explore.ipynb"
    pm.execute_notebook(str(EXPLORER), str(explored), cwd=str(EXPLORER.parent),
                        parameters={"data_dir": str(base / "data"), "scores_file": str(scores),
                                    "output_dir": str(base / "explore-out")},
                        kernel_name="python3", progress_bar=False)
    return {"run_dir": run_dir, "mappings": mappings,
            "explorer": _explorer_page(explored, base / "explorer.html")}


def _explorer_page(notebook: Path, path: Path) -> Path:
    """The HTML the explorer's widgets show (their saved state), as one page to open."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    state = nb["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    parts, labels = [], []
    for model in state.values():
        if model["model_name"] == "OutputModel":
            for out in model["state"].get("outputs", []):
                data = out.get("data", {})
                if "text/html" in data:
                    html = data["text/html"]
                    parts.append(html if isinstance(html, str) else "".join(html))
                elif "image/png" in data:
                    parts.append(f'<img src="data:image/png;base64,{data["image/png"]}">')
        if model["model_name"] == "DropdownModel":
            labels += model["state"]["_options_labels"]
    assert len(parts) >= 4 and labels, "the explorer showed nothing"
    # the dropdowns show their labels as text (the widget sets textContent)
    options = "".join(f"<option>{escape_html(label)}</option>" for label in labels)
    path.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>"
                    f"<select>{options}</select>{''.join(parts)}</body></html>", encoding="utf-8")
    return path


def _pages(hostile) -> list[Path]:
    run_dir = hostile["run_dir"]
    people = sorted(run_dir.rglob("people/*.html"))
    assert len(people) == 80
    return [run_dir / "client" / "report.html", hostile["explorer"], *people]


class Parsed(HTMLParser):
    """Elements, event-handler attributes, image sources and text of a page."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.foreign, self.handlers, self.images, chunks = [], [], [], []
        self._skip = 0
        self.handle_data = lambda data: None if self._skip else chunks.append(data)
        self.feed(page)
        self.close()
        self.text = "".join(chunks)

    def handle_starttag(self, tag, attrs):
        if tag in FOREIGN:
            self.foreign.append(tag)
        if tag == "style":
            self._skip += 1
        if tag == "img":
            self.images.append(dict(attrs).get("src") or "")
        self.handlers += [f"{tag}[{name}]" for name, _ in attrs if name.startswith("on")]

    def handle_endtag(self, tag):
        if tag == "style":
            self._skip -= 1


def test_no_page_has_markup_from_the_data(hostile):
    for path in _pages(hostile):
        parsed = Parsed(path.read_text(encoding="utf-8"))
        assert parsed.foreign == [], f"{path.name}: elements from data {parsed.foreign}"
        assert parsed.handlers == [], f"{path.name}: event handlers {parsed.handlers}"
        assert all(src.startswith("data:image/") for src in parsed.images), path.name


def test_markdown_pages_have_no_markup_from_the_data(hostile):
    import mistune

    from workbench.plans.pages import unescape_markdown

    render = mistune.create_markdown(escape=False, plugins=["table"])  # HTML let through
    pages = sorted(hostile["run_dir"].rglob("people/*.md"))
    assert len(pages) == 80
    for path in pages:
        md = path.read_text(encoding="utf-8")
        parsed = Parsed(render(md))
        assert (parsed.foreign, parsed.handlers, parsed.images) == ([], [], []), path.name
        assert any(p in unescape_markdown(md) for p in HTML_PAYLOADS), path.name


def test_the_payloads_are_shown_as_text(hostile):
    report, explorer, *people = _pages(hostile)
    text = Parsed(report.read_text(encoding="utf-8")).text
    assert [p for p in HTML_PAYLOADS if p not in text] == []
    assert "<script>alert('client')</script>" in text  # the client's name in the header
    assert any(p in text for p in FORMULA_PAYLOADS)
    text = Parsed(explorer.read_text(encoding="utf-8")).text
    assert [p for p in HTML_PAYLOADS if p not in text] == []
    persons = hostile["mappings"]["person"].values()
    for page in people:
        text = Parsed(page.read_text(encoding="utf-8")).text
        assert any(p in text for p in HTML_PAYLOADS), page.name
        assert any(f"Learning plan: {p.strip()}" in text for p in persons), page.name


def test_no_page_runs_script_in_a_browser(hostile, browser):
    probe = """() => ({
      foreign: document.querySelectorAll("script, svg, iframe, object, embed").length,
      images: Array.from(document.images).filter(i => !i.src.startsWith("data:image/")).length,
      handlers: Array.from(document.querySelectorAll("*")).flatMap(
          e => Array.from(e.attributes).map(a => a.name)).filter(n => n.startsWith("on")),
      text: document.body.innerText,
    })"""
    tab = browser.new_page()
    dialogs = []
    tab.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        for path in _pages(hostile):
            tab.goto(path.as_uri(), wait_until="load")
            tab.wait_for_load_state("networkidle")  # failed image loads (onerror) are done
            seen = tab.evaluate(probe)
            assert (seen["foreign"], seen["images"], seen["handlers"]) == (0, 0, []), path.name
            assert any(p in seen["text"] for p in HTML_PAYLOADS), path.name
    finally:
        tab.close()
    assert dialogs == []


def _csv_files(run_dir: Path) -> list[Path]:
    files = sorted((run_dir / "analyst" / "outputs").rglob("*.csv"))
    assert len(files) > 20
    return files


def _cells(path: Path):
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle):
            yield from row


def test_no_csv_for_people_has_a_cell_a_spreadsheet_would_run(hostile):
    checked = 0
    for path in _csv_files(hostile["run_dir"]):
        if path.name in MACHINE_FILES:
            continue
        running = [c for c in _cells(path) if FORMULA.match(c) and not NUMBER.fullmatch(c)]
        assert running == [], f"{path.relative_to(hostile['run_dir'])}: {running[:3]}"
        checked += 1
    assert checked > 15
    # the files for people that carry client text do carry it, neutralised
    focus = next(p for p in _csv_files(hostile["run_dir"]) if p.name == "focus.csv")
    assert any(c.startswith("'=HYPERLINK") for c in _cells(focus))


def test_machine_files_keep_the_ids_exactly(hostile):
    persons = {v.strip() for v in hostile["mappings"]["person"].values()}
    found = {p.name for p in _csv_files(hostile["run_dir"])} & set(MACHINE_FILES)
    assert found == set(MACHINE_FILES)
    for path in _csv_files(hostile["run_dir"]):
        if path.name in MACHINE_FILES:
            with path.open(encoding="utf-8", newline="") as handle:
                rows = list(csv.DictReader(handle))
            key = "person" if "person" in rows[0] else "activity"
            values = {r[key] for r in rows}
            if key == "person":
                assert values <= persons, path.name
            assert any(FORMULA.match(v) for v in values), path.name


def test_workbooks_store_formula_like_text_as_text(hostile):
    from openpyxl import load_workbook

    books = sorted((hostile["run_dir"] / "analyst" / "outputs").rglob("*.xlsx"))
    assert books
    for path in books:
        formulas, texts = [], 0
        for sheet in load_workbook(path, read_only=False).worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    formulas += [cell.coordinate] if cell.data_type == "f" else []
                    texts += isinstance(cell.value, str) and bool(FORMULA.match(cell.value))
        assert formulas == [], f"{path.name}: formulas in {formulas[:5]}"
        assert texts > 0, path.name
