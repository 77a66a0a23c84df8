"""Notebook 00's explorer in a real JupyterLab, driven by a headless browser.

The test starts JupyterLab on a free port (token disabled, its own settings and runtime
folders), opens notebook 00 prepared by papermill for a small generated organisation, runs
every cell and then acts as the analyst: the widgets must render, picking another person must
redraw the profile and move the team to that person's team, and moving the focus slider must
redraw the plan with what the package computes for that number of focus skills.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import papermill as pm
import pytest

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
except ImportError:  # the browser fixture skips (or fails in CI) before this is needed
    PlaywrightTimeout = TimeoutError

from workbench.synth.generator import generate_organisation, write_organisation

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "00_explore.ipynb"
TIMEOUT_MS = 240_000  # two shared cores: a kernel start and a calibration can be slow


# The notebook is the current widget and its kernel is connected and idle: run-all would
# otherwise open a "Select Kernel" dialog or be ignored.
KERNEL_READY = """() => {
  const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const kernel = panel && panel.sessionContext && panel.sessionContext.session
                 && panel.sessionContext.session.kernel;
  return !!(kernel && kernel.connectionStatus === "connected" && kernel.status === "idle"
            && document.querySelector(".jp-Notebook"));
}"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_server(lab: subprocess.Popen, url: str, log: Path, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if lab.poll() is not None:
            pytest.fail(f"JupyterLab exited ({lab.returncode}):\n{log.read_text()[-2000:]}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"JupyterLab did not answer within {seconds:.0f} s:\n{log.read_text()[-2000:]}")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab serving notebook 00 prepared for a 40-person organisation."""
    from tests.reporting.conftest import need_browser

    need_browser()
    root = tmp_path_factory.mktemp("lab")
    org = generate_organisation(40, seed=3, n_waves=1)
    write_organisation(org, root / "data")
    pm.execute_notebook(str(NOTEBOOK), str(root / "explore.ipynb"), prepare_only=True,
                        parameters={"data_dir": str(root / "data"), "n_focus": 1},
                        log_output=False)
    # no "Jupyter news?" pop-up over the widgets
    news = root / "settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(root / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(root / "workspaces"),
               JUPYTER_RUNTIME_DIR=str(root / "runtime"))
    port = _free_port()
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
               f"--port={port}", "--IdentityProvider.token=", "--ServerApp.password=",
               f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # containers and CI often run as root
    log = root / "lab.log"
    with log.open("w") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   cwd=root)
    try:
        _wait_for_server(process, f"http://127.0.0.1:{port}/api/status", log)
        yield {"url": f"http://127.0.0.1:{port}", "root": root, "org": org, "log": log}
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


STARTED = time.monotonic()


def _step(message: str) -> None:
    """Progress on stderr: pytest shows it when the test fails, to see which step hung."""
    print(f"[{time.monotonic() - STARTED:6.1f} s] {message}", file=sys.stderr, flush=True)


def _image(page, index: int) -> str:
    """The src of the image in the explorer's ``index``-th output area ('' if none yet)."""
    return page.evaluate(
        """(i) => { const out = document.querySelectorAll('.widget-output')[i];
                    const img = out && out.querySelector('img');
                    return img && img.complete && img.naturalWidth > 0 ? img.src : ''; }""",
        index)


def _run_all_cells(page, attempts: int = 6) -> None:
    """Run every cell; JupyterLab ignores the command until the notebook is current, so retry."""
    started = "() => Array.from(document.querySelectorAll('.jp-InputArea-prompt'))" \
              ".some(p => /\\[(\\*|\\d+)\\]/.test(p.textContent))"
    for _ in range(attempts):
        _step("run all cells")
        _dismiss_dialogs(page)
        # not awaited: the command's promise settles only when every cell has run
        page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
        try:
            page.wait_for_function(started, timeout=20_000)
            return
        except PlaywrightTimeout:
            continue
    pytest.fail("JupyterLab did not start running the notebook")


def _dismiss_dialogs(page) -> None:
    """Accept any modal JupyterLab dialog (e.g. "Select Kernel" when a run-all came early)."""
    for _ in range(3):
        accept = page.locator(".jp-Dialog .jp-mod-accept")
        if accept.count() == 0:
            return
        accept.first.click()
        page.wait_for_timeout(500)


def _option_texts(select) -> list[str]:
    """A drop-down's option labels (ipywidgets draws their spaces as non-breaking spaces)."""
    return select.evaluate(
        "s => Array.from(s.options).map(o => o.textContent.replace(/\\u00a0/g, ' '))")


def _shown_value(select) -> str:
    return select.input_value().replace("\u00a0", " ")


def _plan_rows(page) -> int:
    return page.evaluate(
        """() => { const out = document.querySelectorAll('.widget-output')[1];
                   return out ? out.querySelectorAll('tbody tr').length : -1; }""")


@pytest.fixture(scope="module")
def expected(lab):
    """What the package plans, computed here as notebook 00 does (same data, same options)."""
    from workbench.calibration import calibrated_scores
    from workbench.reporting.explorer import Explorer
    from workbench.runs import open_organisation

    org = open_organisation(str(lab["root"] / "data"), "")
    explorer = Explorer(calibrated_scores(org.ratings, scores_file=""), org, n_focus=1,
                        plan_options={"start": "2027-01-04", "random_state": 2026})
    # the plan output holds the focus table and the plan table
    rows = {person: {n: len(explorer.focus_table(n, person)) + len(explorer.plan_table(n, person))
                     for n in (1, 3)}
            for person in org.people["person"]}
    return org.people.set_index("person"), rows


@pytest.fixture
def page(browser, lab, request):
    """A browser tab; on failure its screenshot is kept next to the lab's log."""
    tab = browser.new_page(viewport={"width": 1400, "height": 1000})
    tab.set_default_timeout(TIMEOUT_MS)
    yield tab
    if getattr(request.node, "failed", True):
        tab.screenshot(path=str(lab["root"] / "failure.png"), full_page=True)
        _step(f"screenshot: {lab['root'] / 'failure.png'}")
    tab.close()


def test_explorer_widgets_render_and_update(lab, page, expected):
    people, rows = expected
    _step("open the notebook")
    page.goto(f"{lab['url']}/lab/tree/explore.ipynb")
    page.wait_for_function("() => window.jupyterapp && document.querySelector('.jp-Notebook')")
    page.wait_for_function(KERNEL_READY)
    _step("kernel idle; run all cells")
    _run_all_cells(page)

    # the widgets render: two drop-downs (person, team), a slider, three drawn outputs
    page.wait_for_selector(".widget-dropdown select")
    page.wait_for_function("() => document.querySelectorAll('.widget-output img').length >= 2")
    page.wait_for_function("() => document.querySelectorAll('.widget-output tbody tr').length")
    _step("widgets drawn")
    _dismiss_dialogs(page)
    selects = page.locator(".widget-dropdown select")
    assert selects.count() == 2
    person, team = selects.nth(0), selects.nth(1)
    first_team = _shown_value(team)
    labels = _option_texts(person)
    assert all(" · " in text for text in labels)  # role and team next to the id
    assert page.locator(".widget-slider").count() == 1
    profile, heatmap = _image(page, 0), _image(page, 2)
    assert profile and heatmap

    # another person from another team, whose plan grows with the focus skills: the
    # profile is redrawn and the team follows
    ids = [text.split(" · ")[0] for text in labels]
    chosen = next(p for p in ids if people.loc[p, "team"] != first_team
                  and rows[p][3] > rows[p][1])
    _step(f"pick {chosen}")
    person.select_option(index=ids.index(chosen))
    page.wait_for_function(
        "(old) => { const out = document.querySelectorAll('.widget-output')[0];"
        " const img = out && out.querySelector('img'); return img && img.src !== old; }",
        arg=profile)
    page.wait_for_function(
        "(want) => document.querySelectorAll('.widget-dropdown select')[1].value"
        ".replace(/\\u00a0/g, ' ') === want", arg=str(people.loc[chosen, "team"]))
    page.wait_for_function(
        "(old) => { const out = document.querySelectorAll('.widget-output')[2];"
        " const img = out && out.querySelector('img'); return img && img.src !== old; }",
        arg=heatmap)

    # the slider from 1 to 3 focus skills: the plan shows what the package plans with 3
    _step("profile and team redrawn")
    expected = rows[chosen]
    page.wait_for_function("(n) => { const out = document.querySelectorAll('.widget-output')[1];"
                           " return out && out.querySelectorAll('tbody tr').length === n; }",
                           arg=expected[1])
    _step("plan with 1 focus skill shown; move the slider")
    _dismiss_dialogs(page)
    handle = page.locator(".widget-slider .noUi-handle")
    handle.focus()
    handle.press("ArrowRight")
    handle.press("ArrowRight")
    page.wait_for_function(
        "() => document.querySelector('.widget-slider .widget-readout').textContent.trim() === '3'")
    page.wait_for_function("(n) => { const out = document.querySelectorAll('.widget-output')[1];"
                           " return out && out.querySelectorAll('tbody tr').length === n; }",
                           arg=expected[3])
    assert _plan_rows(page) == expected[3]
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    assert "Traceback" not in " ".join(errors.all_inner_texts())
