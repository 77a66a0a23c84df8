"""Shared helpers of the run tests: small engagements and one full run per test session."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import yaml

from workbench.cli import main
from workbench.runs.engagement import DEFAULT_NOTEBOOKS
from workbench.synth.generator import generate_organisation, write_organisation

# Small enough to be quick, large enough for every analysis to be identified.
N_PEOPLE = 80
FAST = {
    "01_calibrate_raters": {},
    "02_skill_profiles": {"k_max": 4, "n_bootstrap": 10},
    "03_learning_impact": {},
    "04_learning_plans": {},
    "05_progression_and_outcomes": {},
}


def write_engagement(folder: Path, name: str, notebooks: dict, *, data="data", **extra) -> Path:
    spec = {"engagement": name, "client": f"{name} Ltd", "random_state": 7, "data": data}
    spec["notebooks"] = notebooks
    spec.update(extra)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def shared_full_run(tmp_path_factory) -> dict:
    """The four analyses on a small organisation through the CLI, once per test session.

    The browser test of the report (tests/reporting) reuses the same run.
    """
    base = tmp_path_factory.getbasetemp() / "shared-full-run"
    done = base / "run.json"
    if done.exists():
        return {k: Path(v) if k != "code" else v for k, v in json.loads(done.read_text()).items()}
    base.mkdir()
    org = generate_organisation(N_PEOPLE, seed=11, progression=True)
    write_organisation(org, base / "data")
    notebooks = {name: FAST.get(name, {}) for name in DEFAULT_NOTEBOOKS}
    path = write_engagement(base, "full", notebooks, client="Report Test Ltd")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["run", str(path), "--reports", str(base / "reports")])
    (base / "run.log").write_text(out.getvalue(), encoding="utf-8")
    runs = sorted((base / "reports" / "full").iterdir())
    assert len(runs) == 1
    result = {"code": code, "root": str(base), "run_dir": str(runs[0])}
    done.write_text(json.dumps(result))
    return shared_full_run(tmp_path_factory)
