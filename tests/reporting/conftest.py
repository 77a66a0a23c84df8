"""A headless chromium for the browser tests (Debian's /usr/bin/chromium driven by playwright).

Without chromium or playwright the browser tests are skipped, except in CI (``CI`` set in the
environment), where a missing browser fails the run: the client report's browser checks must
not silently stop running there.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else shutil.which("chromium")
# No browser download, no sandbox (containers run as root), nothing fetched in the background.
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def _missing() -> str | None:
    if CHROMIUM is None:
        return "chromium is not installed (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    return None


def need_browser() -> None:
    """Skip the calling test without a browser; fail instead when ``CI`` is set."""
    reason = _missing()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI is set and the browser test cannot run: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    """One headless chromium for the session's browser tests."""
    need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Record on the test item whether its call failed (fixtures keep a screenshot then)."""
    report = yield
    if report.when == "call":
        item.failed = report.failed
    return report
