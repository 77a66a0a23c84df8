"""Output folders: every way a folder can be wrong is one ConfigError naming it and why."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from workbench.errors import ConfigError
from workbench.writers import new_output_dir, write_csv


def test_new_or_empty_folders_are_taken(tmp_path):
    assert new_output_dir(tmp_path / "a" / "b").is_dir()
    (tmp_path / "empty").mkdir()
    assert new_output_dir(tmp_path / "empty") == tmp_path / "empty"


@pytest.mark.parametrize(("make", "message"), [
    (lambda t: (t / "full").mkdir() or (t / "full" / "x.csv").write_text("1"),
     "already holds files"),
    (lambda t: (t / "full").write_text("a file"), "exists and is not a folder"),
    (lambda t: os.symlink(t / "gone", t / "full"), "is a broken link"),
])
def test_existing_things_are_refused(tmp_path, make, message):
    make(tmp_path)
    with pytest.raises(ConfigError, match=message):
        new_output_dir(tmp_path / "full")


def test_a_folder_below_a_file_or_a_broken_link_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match=r"file is a file, not a folder"):
        new_output_dir(tmp_path / "file" / "a" / "b")
    os.symlink(tmp_path / "gone", tmp_path / "link")
    with pytest.raises(ConfigError, match=r"link is a broken link"):
        new_output_dir(tmp_path / "link" / "out")
    assert not (tmp_path / "gone").exists()


def test_a_name_too_long_is_said(tmp_path):
    with pytest.raises(ConfigError, match="the name is too long"):
        new_output_dir(tmp_path / ("x" * 300))


def test_a_parent_of_run_folders_may_hold_files(tmp_path):
    (tmp_path / "old-run").mkdir()
    assert new_output_dir(tmp_path, allow_existing=True) == tmp_path


def test_write_csv_never_overwrites(tmp_path):
    frame = pd.DataFrame({"a": [1]})
    write_csv(frame, tmp_path / "t.csv")
    with pytest.raises(ConfigError, match="already exists"):
        write_csv(frame, tmp_path / "t.csv")
    with pytest.raises(ConfigError, match="cannot be written"):
        write_csv(frame, tmp_path / "missing" / "t.csv")
    assert (tmp_path / "t.csv").read_text() == "a\n1\n"
