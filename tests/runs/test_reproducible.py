"""The same engagement on the same data, run twice: the same tables and manifest numbers."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.runs.engagements import shared_full_run
from workbench.cli import main
from workbench.runs.manifest import VOLATILE


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    first = shared_full_run(tmp_path_factory)
    assert first["code"] == 0
    reports = tmp_path_factory.mktemp("second-run")
    assert main(["run", str(first["root"] / "full.yaml"), "--reports", str(reports)]) == 0
    (second,) = (reports / "full").iterdir()
    return first["run_dir"], second


def _stable(value, run_dir: str):
    """The manifest without what must differ: run id, timestamps, timings, the run's path."""
    if isinstance(value, dict):
        return {k: _stable(v, run_dir) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_stable(v, run_dir) for v in value]
    if isinstance(value, str):
        return value.replace(run_dir, "<run>")
    return value


def test_csv_outputs_are_identical(two_runs):
    first, second = two_runs
    files = sorted(p.relative_to(first) for p in (first / "analyst" / "outputs").rglob("*.csv"))
    assert files and files == sorted(p.relative_to(second)
                                     for p in (second / "analyst" / "outputs").rglob("*.csv"))
    for name in files:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_excel_outputs_hold_the_same_cells(two_runs):
    # the bytes differ (a workbook records when it was written); the cells must not
    first, second = two_runs
    files = sorted(p.relative_to(first) for p in (first / "analyst" / "outputs").rglob("*.xlsx"))
    assert files
    for name in files:
        a = pd.read_excel(first / name, sheet_name=None)
        b = pd.read_excel(second / name, sheet_name=None)
        assert list(a) == list(b), name
        for sheet in a:
            pd.testing.assert_frame_equal(a[sheet], b[sheet], obj=f"{name}:{sheet}")


def test_manifests_agree_but_for_ids_times_and_paths(two_runs):
    first, second = two_runs
    a = json.loads((first / "analyst" / "manifest.json").read_text())
    b = json.loads((second / "analyst" / "manifest.json").read_text())
    assert a["status"] == b["status"] == "succeeded"
    assert a["seeds"] and a["inputs"]
    assert _stable(a, str(first)) == _stable(b, str(second))
