"""What a run records: run ids and folders, input hashes, versions, git commit, the manifest.

Every run leaves ``manifest.json`` in its folder: the inputs' SHA-256, each notebook's
parameters and the defaults it used, seeds, package versions, git commit, timings and status.
Two runs of the same engagement on the same data differ in it only by the run id, the
timestamps and the timings (:data:`VOLATILE` names those keys).

Examples
--------
>>> import tempfile
>>> run_id, folder = new_run_folder(tempfile.mkdtemp(), "demo")
>>> folder.name == run_id and folder.is_dir()
True
"""

from __future__ import annotations

import hashlib
import platform
import secrets
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from workbench.errors import ConfigError
from workbench.results import json_text

__all__ = [
    "VOLATILE",
    "file_sha256",
    "new_run_id",
    "new_run_folder",
    "git_commit",
    "package_versions",
    "seeds_of",
    "write_manifest",
    "utc_now",
]

#: Manifest keys that differ between two runs of the same engagement on the same data.
VOLATILE = ("run_id", "started", "finished", "seconds", "cpu_seconds", "run_dir", "executed",
            "platform")

_VERSIONED = (
    "workbench",
    "numpy",
    "pandas",
    "scipy",
    "scikit-learn",
    "statsmodels",
    "matplotlib",
    "seaborn",
    "papermill",
    "nbconvert",
    "ipykernel",
)


def utc_now() -> str:
    """The current UTC time as an ISO string (seconds)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def new_run_id() -> str:
    """A new run id: UTC timestamp plus a random suffix, e.g. ``20261125T123504Z-3fa9c1``."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def new_run_folder(reports: str | Path, engagement: str) -> tuple[str, Path]:
    """Create ``<reports>/<engagement>/<run-id>/`` exclusively (never an existing folder).

    Raises
    ------
    ConfigError
        When the reports folder cannot be created or written (a file in the way, no
        permission, a broken link).
    """
    from workbench.writers import new_output_dir

    parent = Path(reports).expanduser().absolute() / engagement
    new_output_dir(parent, allow_existing=True)
    for _ in range(100):
        run_id = new_run_id()
        folder = parent / run_id
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            raise ConfigError(f"{parent}: cannot create a run folder ({exc.strerror or exc})"
                              ) from None
        return run_id, folder
    raise ConfigError(f"{parent}: could not create a new run folder")  # pragma: no cover


def git_commit() -> dict:
    """The package's git commit and whether the work tree has uncommitted changes."""
    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": bool(dirty)}


def package_versions() -> dict:
    """Python's and the analysis packages' versions."""
    found = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def seeds_of(parameters: dict) -> dict:
    """The parameters that seed random numbers (``random_state`` and any ``*seed*``)."""
    return {name: value for name, value in parameters.items()
            if name == "random_state" or "seed" in name.lower()}


def write_manifest(run_dir: Path, manifest: dict) -> None:
    """Write ``manifest.json`` atomically (a reader never sees half a file)."""
    tmp = run_dir / "manifest.json.tmp"
    tmp.write_text(json_text(manifest, what="manifest.json", indent=2), encoding="utf-8")
    tmp.replace(run_dir / "manifest.json")
