"""Output folders and files that never overwrite earlier results."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from workbench.errors import ConfigError

__all__ = ["new_output_dir", "write_csv"]


def new_output_dir(path: str | Path) -> Path:
    """Create ``path`` for new outputs; refuse a folder that already holds files.

    Earlier reports are never overwritten: pick a new folder (the pipeline makes one per run).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = new_output_dir(pathlib.Path(tempfile.mkdtemp()) / "calibration")
    >>> out.is_dir()
    True
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{path}: exists and is not a folder")
    if path.is_dir() and any(path.iterdir()):
        raise ConfigError(
            f"{path}: the output folder already holds files; earlier results are never "
            "overwritten, so choose a new folder"
        )
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_csv(frame: pd.DataFrame, path: str | Path, **kwargs) -> Path:
    """Write a CSV file that must not exist yet (mode 'x'): nothing is ever overwritten."""
    path = Path(path)
    try:
        with path.open("x", encoding="utf-8", newline="") as handle:
            frame.to_csv(handle, index=kwargs.pop("index", False), **kwargs)
    except FileExistsError:
        raise ConfigError(f"{path}: already exists; earlier results are never overwritten") from None
    return path
