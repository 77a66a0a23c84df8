"""The client's text speaks the client's language: no code from the contracts in what people read.

Over one full demo run (shared with tests/runs), the visible text of ``report.html`` and of
every person page (prose as well as tables) must hold no code: no snake_case column or
parameter name, no mixture-model code (EEE, VVV), no method code (ancova, holm, REML, d_z,
g_av), no formula with ``~``, no file or notebook name, no path, no wave written as
``2027Q1``. Text inside an element of class ``glossary`` may name codes (it explains them).
Checked twice: on the HTML without a browser, and on what chromium shows (``innerText``).

A person page printed by chromium on A4 (``page.pdf``, the same engine as
``chromium --headless --print-to-pdf``) has the person's summary on its first page and no
page that holds only a heading or a single table row (the text of each PDF page, read with
pypdf).
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from tests.runs.engagements import shared_full_run
from workbench.reporting.disclosure import visible_text

# What counts as code in a reader's text. Each pattern is matched case-sensitively on the
# visible text; the name says what the reader would have met.
CODE_PATTERNS = {
    "snake_case name": r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b",
    "mixture-model code": r"\b(?:EII|VII|EEI|VEI|EVI|VVI|EEE|EVE|VEE|VVE|EEV|VEV|EVV|VVV)\b",
    "method code": r"\b(?:ancova|ANCOVA|did|DiD|holm|fdr_bh|REML|reml|mde|MDE|rtm|HC1|CR1|"
                   r"d_z|g_av|d_av|tau\^2|ICC1|icc1)\b",
    "formula": r"\w+\s*~\s*\w+|\(1\s*\|\s*\w+\)",
    "file or notebook name": r"\b[\w-]+\.(?:ipynb|csv|parquet|json|py|yaml|yml|md)\b"
                             r"|\bnotebook\s+0\d|\b0\d_[a-z]",
    "path": r"(?<![\w.])(?:/[\w.-]+){2,}|[A-Za-z]:\\\w",
    "wave code": r"\b\d{4}\s?[QH][1-4]\b|\b\d{4}-[QH][1-4]\b",
    # a value, not the English word ("True spread", "None of them")
    "Python value": r"\b(?:True|False|None|NaN|nan)\b(?!\s+[a-z])",
}
# The English word "did" is prose; the method code reads as a lone word in a cell or bracket.
_DID_PROSE = re.compile(r"\bdid\b(?=\s+[a-z])")
_GLOSSARY = re.compile(r"<(\w+)\b[^>]*class=\"[^\"]*\bglossary\b[^\"]*\"[^>]*>.*?</\1>", re.S)


def _client_names(root: Path) -> set[str]:
    """Names the client wrote in its own files (shown as written, even in snake_case)."""
    names = set()
    outcomes = root / "data" / "outcomes.csv"
    if outcomes.is_file():
        names |= set(pd.read_csv(outcomes, dtype=str)["metric"].dropna())
    return names


def code_in_text(text: str, *, allowed: set[str] = frozenset()) -> list[tuple[str, str, str]]:
    """Every piece of code in ``text``: (kind, the code, its context)."""
    found = []
    prose = {m.start() for m in _DID_PROSE.finditer(text)}
    for kind, pattern in CODE_PATTERNS.items():
        for match in re.finditer(pattern, text):
            word = match.group(0)
            if word in allowed or (word == "did" and match.start() in prose):
                continue
            context = " ".join(text[max(0, match.start() - 50):match.end() + 30].split())
            found.append((kind, word, context))
    return found


def reader_text(page: str) -> str:
    """The visible text of an HTML page without its glossary (which may name codes)."""
    return visible_text(_GLOSSARY.sub(" ", page))


def test_code_in_text_finds_every_kind():
    """The checker itself: each kind is found, the client's own names and prose are not."""
    text = ("Chosen: EEE, k=4. Effect by ancova (post ~ pre + trained) with holm; "
            "see effects_by_skill.csv in 03_learning_impact under /home/ana/runs; "
            "wave 2027Q1; flag True. What did the training change? It did work. "
            "customer_score rose.")
    kinds = {kind for kind, _, _ in code_in_text(text, allowed={"customer_score"})}
    assert kinds == set(CODE_PATTERNS)
    words = [w for _, w, _ in code_in_text(text, allowed={"customer_score"})]
    assert "did" not in words and "customer_score" not in words
    assert code_in_text("In Q1 2027 the team did well; the plans are in the workbook. True "
                        "spread: None of them.") == []
    glossary = '<p>ok</p><dl class="glossary"><dt>ancova</dt><dd>adjusted</dd></dl>'
    assert code_in_text(reader_text(glossary)) == []


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    result = shared_full_run(tmp_path_factory)
    assert result["code"] == 0
    return result


@pytest.fixture(scope="module")
def client_pages(run) -> dict[str, str]:
    """report.html and every person page of the client folder, by path relative to it."""
    client = run["run_dir"] / "client"
    pages = [client / "report.html", *sorted((client / "people").rglob("*.html"))]
    assert len(pages) > 10
    return {p.relative_to(client).as_posix(): p.read_text(encoding="utf-8") for p in pages}


def _report_findings(findings: dict) -> str:
    lines = [f"{page}: {kind} {word!r} in '...{context}...'"
             for page, found in findings.items() for kind, word, context in found]
    return f"{len(lines)} code(s) a reader would see:\n" + "\n".join(lines[:60])


def test_no_code_in_the_visible_text_of_the_client_pages(run, client_pages):
    allowed = _client_names(run["root"])
    findings = {name: code_in_text(reader_text(page), allowed=allowed)
                for name, page in client_pages.items()}
    findings = {k: v for k, v in findings.items() if v}
    assert not findings, _report_findings(findings)


def test_no_code_in_what_chromium_shows(browser, run, client_pages):
    """The same on the rendered pages: the report and the three longest person pages."""
    allowed = _client_names(run["root"])
    client = run["run_dir"] / "client"
    people = sorted((n for n in client_pages if n != "report.html"),
                    key=lambda n: -len(client_pages[n]))[:3]
    findings = {}
    for name in ["report.html", *people]:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto((client / name).as_uri(), wait_until="load")
        page.evaluate("() => document.querySelectorAll('.glossary').forEach(e => e.remove())")
        text = page.evaluate("() => document.body.innerText")
        page.close()
        assert len(text) > 500, name
        found = code_in_text(text, allowed=allowed)
        if found:
            findings[name] = found
    assert not findings, _report_findings(findings)


def _longest_page(run) -> tuple[Path, dict]:
    """The person page most likely to run over pages: the most focus skills and activities."""
    plans = json.loads((run["run_dir"] / "analyst" / "outputs" / "04_learning_plans" / "plans"
                        / "plans.json").read_text(encoding="utf-8"))["people"]
    entry = max(plans, key=lambda p: (sum(len(f.get("activities", [])) + 1
                                          for f in p["focus"]), p["person"]))
    stem = entry.get("page") or entry["person"]
    page = next((run["run_dir"] / "client" / "people").rglob(f"{stem}.html"))
    return page, entry


def _pdf_pages(browser, path: Path) -> list[str]:
    from pypdf import PdfReader

    page = browser.new_page()
    page.goto(path.as_uri(), wait_until="load")
    pdf = page.pdf(format="A4", print_background=True)
    page.close()
    return [p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages]


def _lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def test_printed_person_page_keeps_the_summary_first_and_no_page_nearly_empty(browser, run):
    path, entry = _longest_page(run)
    pages = _pdf_pages(browser, path)
    html = path.read_text(encoding="utf-8")
    assert len(pages) >= 2, "pick a page that runs over one sheet: the check needs breaks"
    # the summary: who, role, team and plan period, and what the plan is about
    first = " ".join(pages[0].split())
    header = re.search(r"<header>(.*?)</header>", html, flags=re.S).group(1)
    for line in _lines(visible_text(re.sub(r"</(?:p|h1)>", "\n", header))):
        assert line in first, f"{path.name}: {line!r} is not on the first printed page"
    assert "Focus skills" in first
    assert f"1. {entry['focus'][0]['skill']}" in first
    assert "12-week goal" in first
    # no page holds only a heading, or only one row of a table (with or without its header)
    headings = {" ".join(visible_text(h).split())
                for h in re.findall(r"<h[1-4][^>]*>(.*?)</h[1-4]>", html, flags=re.S)}
    rows = [_lines(visible_text(re.sub(r"</t[dh]>", "\n", r)))
            for r in re.findall(r"<tr>(.*?)</tr>", html, flags=re.S)]
    for number, text in enumerate(pages, start=1):
        lines = _lines(text)
        rest = [line for line in lines if line not in headings]
        assert rest, f"printed page {number} of {path.name} holds only a heading: {lines}"
        joined = " ".join(rest)
        alone = [r for r in rows if r and " ".join(r) == joined]
        assert not alone, f"printed page {number} of {path.name} holds one table row: {lines}"
        assert len(joined) > 80, f"printed page {number} of {path.name} is nearly empty: {lines}"


def test_the_report_says_which_models_scores_were_handed_on(run, client_pages):
    """The shared run calibrates with the linear model (its scores are BLUPs, not the Rasch
    fair averages); the report says so in the words of :func:`calibration_sentence`, and the
    sentence for ``model: rasch`` names the Rasch model."""
    from workbench.calibration.compare import calibration_sentence

    scores = pd.read_csv(run["run_dir"] / "analyst" / "outputs" / "01_calibrate_raters"
                         / "calibrated_scores.csv")
    assert set(scores["estimator"]) == {"blup"}
    shown = " ".join(reader_text(client_pages["report.html"]).split())
    assert calibration_sentence("linear") in shown
    assert "Rasch" not in calibration_sentence("linear")
    rasch = calibration_sentence("rasch")
    assert "many-facet Rasch model" in rasch and rasch not in shown


def test_a_rasch_run_says_the_rasch_model_gave_the_scores(tmp_path):
    """Notebook 01 with ``model: rasch`` (executed by papermill on a small organisation): the
    report says the many-facet Rasch model's scores were handed on, and the handed-on scores
    are its fair averages."""
    from workbench.calibration.compare import calibration_sentence
    from workbench.reporting.html_report import build_report
    from workbench.runs.execute import execute_notebook
    from workbench.synth.generator import generate_organisation, write_organisation

    write_organisation(generate_organisation(40, seed=3, n_waves=1), tmp_path / "data")
    root = Path(__file__).resolve().parents[2]
    executed = tmp_path / "01_calibrate_raters.ipynb"
    params = {"data_dir": str(tmp_path / "data"), "output_dir": str(tmp_path / "out"),
              "model": "rasch", "design_sims": 2, "n_jobs": 1}
    failure = execute_notebook(root / "notebooks" / "01_calibrate_raters.ipynb", executed,
                               params, name="01_calibrate_raters")
    assert failure is None, failure
    scores = pd.read_csv(tmp_path / "out" / "calibrated_scores.csv")
    assert set(scores["estimator"]) == {"fair_average"}
    report = build_report([executed], tmp_path / "report.html", client="Rasch Ltd")
    shown = " ".join(reader_text(report.read_text(encoding="utf-8")).split())
    assert calibration_sentence("rasch", compared=True) in shown
    assert calibration_sentence("linear") not in shown
    assert "A mixed model separates" not in shown
    found = code_in_text(shown)
    assert not found, _report_findings({"report.html": found})
