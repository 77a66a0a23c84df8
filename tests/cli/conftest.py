"""A small organisation on disk, and helpers to call the CLI and watch files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from workbench.synth.generator import generate_organisation, write_organisation
from workbench.synth.truth import truth_scores


def digest(root: Path) -> dict:
    """SHA-256 of every file below ``root`` (a folder or one file)."""
    root = Path(root)
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


@pytest.fixture(scope="session")
def org_dir(tmp_path_factory) -> Path:
    """60 people, two waves, every table, plus scores.csv (true scores with known SEs)."""
    root = tmp_path_factory.mktemp("cli-org")
    org = generate_organisation(60, seed=5)
    data = write_organisation(org, root / "data")
    scores = truth_scores(org, se=0.2, wave=2, random_state=1)
    scores = scores.drop(columns=["true_score", "estimator"]).rename(columns={"person": "ratee"})
    scores.to_csv(root / "scores.csv", index=False)
    return data
