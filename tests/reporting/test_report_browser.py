"""The client report, opened in a real headless browser (Debian's chromium).

A run of the four analyses on a small generated organisation produces ``report.html``. The
browser must render it, every figure must load (``naturalWidth > 0``), no code may be visible,
and no rater may be named in it (rater-level results are for the analyst only).
"""

from __future__ import annotations

import html
import json
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from tests.runs.engagements import shared_full_run
from workbench.runs.engagement import DEFAULT_NOTEBOOKS

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)"
)

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--virtual-time-budget=10000",
]

# Runs in the page once everything has loaded and writes what it found into the DOM.
PROBE = """
<script>
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var found = {
    images: images.length,
    broken: images.filter(function (i) { return !(i.complete && i.naturalWidth > 0); })
                  .map(function (i) { return i.src.slice(0, 40); }),
    widths: images.map(function (i) { return i.naturalWidth; }),
    code_areas: document.querySelectorAll(
      ".input, .input_area, .jp-InputArea, .jp-Editor, .CodeMirror, .highlight").length,
    tables: document.querySelectorAll("table").length,
    sections: document.querySelectorAll("section.analysis").length,
    text: document.body.innerText
  };
  var out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify(found);
  document.body.appendChild(out);
});
</script>
"""


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "chromium-profile"
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The four analyses on a small generated organisation (shared with test_pipeline)."""
    result = shared_full_run(tmp_path_factory)
    assert result["code"] == 0
    return result


@pytest.fixture(scope="module")
def probed(run, tmp_path_factory):
    """What the browser saw: the report with the probe script, dumped after loading."""
    tmp = tmp_path_factory.mktemp("probe")
    page = (run["run_dir"] / "report.html").read_text(encoding="utf-8").replace("</body>", PROBE + "</body>")
    probe_page = tmp / "probe.html"
    probe_page.write_text(page, encoding="utf-8")
    dom = _chromium(tmp, "--dump-dom", probe_page.as_uri()).stdout
    match = re.search(r'<pre id="probe">(.*?)</pre>', dom, flags=re.S)
    assert match, "the probe did not run: the page did not finish loading"
    return json.loads(html.unescape(match.group(1)))


def test_report_renders_with_every_section(probed):
    assert probed["sections"] == len(DEFAULT_NOTEBOOKS)
    assert probed["tables"] >= 4
    text = probed["text"]
    assert "Report Test Ltd" in text and "Contents" in text


def test_every_figure_loads(probed):
    assert probed["images"] >= 4
    assert probed["broken"] == []
    assert min(probed["widths"]) > 100


def test_no_code_is_visible(probed):
    assert probed["code_areas"] == 0
    text = probed["text"]
    for code in ("from workbench", "workbench.", "output_folder(", "In [", "Out["):
        assert code not in text, f"code visible in the report: {code!r}"
    assert "Traceback" not in text


def test_no_rater_is_named(run, probed):
    raters = set(pd.read_csv(run["root"] / "data" / "ratings.csv")["rater"].astype(str))
    text = probed["text"]
    named = sorted(r for r in raters if re.search(rf"(?<![\w-]){re.escape(r)}(?![\w-])", text))
    assert named == [], f"rater ids in the client report: {named[:5]}"
    # nor hidden in the markup (tables, alt text, attributes)
    report = run["run_dir"] / "report.html"
    source = re.sub(r"data:image/[^\"']+", "", report.read_text(encoding="utf-8"))
    assert not any(re.search(rf"(?<![\w-]){re.escape(r)}(?![\w-])", source) for r in raters)
    # no rater-level table (the analyst's rater_effects.csv) made it in
    assert not re.search(r"<th[^>]*>\s*rater\s*</th>", source)


def test_screenshot_of_the_report(run, tmp_path):
    shot = tmp_path / "report.png"
    report = run["run_dir"] / "report.html"
    _chromium(tmp_path, "--window-size=1280,2400", f"--screenshot={shot}", report.as_uri())
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1280, 2400)
    assert len(data) > 50_000  # a blank page compresses to a few kilobytes
