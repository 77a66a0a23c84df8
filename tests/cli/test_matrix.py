"""The CLI's contract over every subcommand and every kind of bad input.

For a missing file, an unreadable file, a bad value, a bad option and an existing or
unwritable output folder: exit code 2, a message naming what is wrong, no traceback, inputs
unchanged, earlier outputs unchanged, and no new output folder.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.cli.conftest import digest
from workbench.cli import main

DEMO = Path(__file__).resolve().parents[2] / "data" / "demo"


@pytest.fixture()
def env(org_dir, tmp_path):
    """Placeholders for the argument templates, and files in every bad state."""
    data = tmp_path / "data"
    shutil.copytree(org_dir, data)
    shutil.copy(org_dir.parent / "scores.csv", tmp_path / "scores.csv")
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    (earlier / "calibrated_scores.csv").write_text("person,skill,score\nP1,S,3\n")
    (tmp_path / "a_file.txt").write_text("not a folder\n")
    os.symlink(tmp_path / "gone", tmp_path / "dangling")
    bad = tmp_path / "bad"
    bad.mkdir()
    ratings = pd.read_csv(data / "ratings.csv", dtype=str)
    ratings.loc[3, "score"] = "nine"
    ratings.to_csv(bad / "ratings.csv", index=False)
    (bad / "garbage.xlsx").write_bytes(b"PK\x03\x04 this is not a workbook")
    (bad / "binary.csv").write_bytes(bytes(range(256)) * 4)
    (bad / "people.xlsx").write_bytes(b"PK\x03\x04 this is not a workbook")
    engagement = {"engagement": "matrix", "client": "Matrix Ltd", "data": str(data),
                  "notebooks": {"01_calibrate_raters": {"waves": "sideways"},
                                "03_learning_impact": {"correction": "bonferroni",
                                                       "target_effect": -1},
                                "04_learning_plans": {"hours_per_week": 0,
                                                      "start": "next monday"},
                                "02_skill_profiles": {"n_bootstrap": -5}}}
    (tmp_path / "bad_values.yaml").write_text(yaml.safe_dump(engagement))
    engagement["notebooks"] = {"01_calibrate_raters": {}}
    (tmp_path / "good.yaml").write_text(yaml.safe_dump(engagement))
    (tmp_path / "broken.yaml").write_text("engagement: [unclosed\n")
    return {"tmp": tmp_path, "data": data, "bad": bad, "earlier": earlier,
            "hostile": _hostile(data, tmp_path / "hostile")}


def _hostile(data: Path, root: Path) -> Path:
    """Files that read "successfully" but would be misread (issue #26), one folder each."""
    def write(name, table, frame):
        (root / name).mkdir(parents=True, exist_ok=True)
        frame.to_csv(root / name / f"{table}.csv", index=False)

    def read(table):
        return pd.read_csv(data / f"{table}.csv", dtype=str, keep_default_na=False)

    ratings = read("ratings")
    ambiguous = ratings.assign(date=[f"{i % 12 + 1:02d}.{i % 11 + 1:02d}.2026"
                                     for i in range(len(ratings))])
    write("ambiguous", "ratings", ambiguous)
    enrollments = read("enrollments")
    write("ambiguous", "enrollments", enrollments.assign(
        start=[f"0{i % 9 + 1}/0{i % 8 + 1}/2026" for i in range(len(enrollments))],
        end=[f"1{i % 3}/1{i % 2 + 1}/2026" for i in range(len(enrollments))]))
    mixed = ratings.assign(date=pd.to_datetime(ratings["date"]).dt.strftime("%d.%m.%Y"))
    mixed.loc[5, "date"] = "07.13.2026"
    write("mixed_dates", "ratings", mixed)
    far = ratings.copy()
    far.loc[7, "date"] = "2206-03-01"
    write("far_date", "ratings", far)
    case = ratings.copy()
    case.loc[case.index[-1], "ratee"] = case.loc[case.index[-1], "ratee"].lower()
    write("case_ids", "ratings", case)
    peers = ratings[ratings["source"] == "peer"]
    sizes = peers.groupby(["ratee", "rater", "wave"]).size()
    ratee, rater, wave = sizes[sizes > 1].index[0]
    at = ratings.index[(ratings["ratee"] == ratee) & (ratings["rater"] == rater)
                       & (ratings["wave"] == wave)][0]
    two = ratings.copy()
    two.loc[at, "source"] = "manager"
    write("two_relationships", "ratings", two)
    catalog = read("catalog")
    thousands = catalog.copy()
    thousands.loc[0, "cost"] = "1,600"
    write("thousands", "catalog", thousands)
    no_hours = catalog.copy()
    no_hours.loc[1, "hours"] = "0"
    write("no_hours", "catalog", no_hours)
    (root / "fifo").mkdir()
    os.mkfifo(root / "fifo" / "ratings.csv")
    laughs = ["l0: &l0 [" + ", ".join(["lol"] * 9) + "]"]
    laughs += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 9)]
    (root / "bomb.yaml").write_text("\n".join(laughs) + "\n")
    return root


def _argv(template: str, env: dict) -> list[str]:
    return [part.format(**{k: str(v) for k, v in env.items()}) for part in template.split()]


D = "--people {data}/people.csv"
CASES = {
    # subcommand: [(case, argv template, message regex)]
    "validate": [
        ("bad value", "validate {hostile}/ambiguous/ratings.csv",
         r"every date could be read day first or month first.*date_format: DD.MM.YYYY"),
        ("bad value", "validate {hostile}/mixed_dates/ratings.csv",
         r"day first on some rows and month first on others.*row\(s\) 7 \('07.13.2026'\)"),
        ("bad value", "validate {hostile}/far_date/ratings.csv",
         r"row 9, column 'date': 'date' is far outside .* lie between 2026"),
        ("bad value", "validate {hostile}/case_ids/ratings.csv", "differ only in case"),
        ("bad value", "validate {hostile}/two_relationships/ratings.csv",
         r"has two relationships to ratee .*'manager' on row\(s\) \d+ and 'peer' on row"),
        ("bad value", "validate {data}/ratings.csv {hostile}/thousands/catalog.csv",
         r"'1,600' \(row 2\) could be 1600 .* or 1.6 .*decimal_mark"),
        ("bad value", "validate {data}/ratings.csv {hostile}/no_hours/catalog.csv",
         r"row 3, column 'hours': the activity takes no time"),
        ("unreadable file", "validate {hostile}/fifo/ratings.csv",
         r"not a regular file \(a named pipe\)"),
        ("bad option", "validate {data} --mapping {hostile}/bomb.yaml",
         "expands to more than 100,000 values"),
        ("missing file", "validate {tmp}/nowhere", "folder not found"),
        ("missing file", "validate {tmp}/ratings.csv", "file not found"),
        ("unreadable file", "validate {bad}/binary.csv", "cannot tell which table"),
        ("unreadable file", "validate {data}/ratings.csv {bad}/people.xlsx",
         r"people.xlsx: cannot be read as Excel"),
        ("bad value", "validate {bad}/ratings.csv", r"row 5, column 'score'.*'nine'"),
        ("missing file", "validate {tmp}/" + "x" * 300, "too long"),
        ("bad option", "validate {data} --waves", "expected at least one argument"),
        ("bad option", "validate {data} --mapping {tmp}/none.yaml", "mapping file not found"),
    ],
    "demo-data": [
        ("bad option", "demo-data --out {tmp}/new --people many", "invalid int value"),
        ("bad value", "demo-data --out {tmp}/new --seed -1", r"--seed=-1: must be"),
        ("bad value", "demo-data --out {tmp}/new --people 5", r"--people=5: must be"),
        ("existing output", "demo-data --out {earlier}", "holds files"),
        ("unwritable output", "demo-data --out {tmp}/a_file.txt/org", "is a file, not a folder"),
        ("unwritable output", "demo-data --out {tmp}/dangling", "broken link"),
    ],
    "calibrate": [
        ("bad value", "calibrate {hostile}/two_relationships/ratings.csv --out {tmp}/new",
         "two relationships"),
        ("bad value", "calibrate {hostile}/case_ids/ratings.csv --out {tmp}/new",
         "differ only in case"),
        ("unreadable file", "calibrate {hostile}/fifo/ratings.csv --out {tmp}/new",
         "not a regular file"),
        ("missing file", "calibrate {tmp}/ratings.csv --out {tmp}/new", "file not found"),
        ("unreadable file", "calibrate {bad}/binary.csv --out {tmp}/new", "binary"),
        ("bad value", "calibrate {bad}/ratings.csv --out {tmp}/new", "not a finite number"),
        ("bad option", "calibrate {data} --waves sideways --out {tmp}/new", "invalid choice"),
        ("existing output", "calibrate {data} --out {earlier}", "holds files"),
        ("unwritable output", "calibrate {data} --out {tmp}/a_file.txt/x", "is a file"),
        ("unwritable output", "calibrate {data} --out {tmp}/dangling", "broken link"),
    ],
    "check-design": [
        ("bad value", "check-design {hostile}/case_ids/ratings.csv --out {tmp}/new",
         "differ only in case"),
        ("missing file", "check-design {tmp}/ratings.csv --out {tmp}/new", "file not found"),
        ("unreadable file", "check-design {bad}/binary.csv --out {tmp}/new", "binary"),
        ("bad value", "check-design {bad}/ratings.csv --out {tmp}/new", "not a finite number"),
        ("bad option", "check-design {data} --sims 1 --out {tmp}/new", r"--sims=1"),
        ("bad option", "check-design {data} --refits many --out {tmp}/new", "--refits"),
        ("existing output", "check-design {data} --out {earlier}", "holds files"),
        ("unwritable output", "check-design {data} --out {tmp}/a_file.txt/x", "is a file"),
        ("unwritable output", "check-design {data} --out {tmp}/dangling", "broken link"),
    ],
    "profiles": [
        ("missing file", "profiles {tmp}/none.csv --out {tmp}/new", "not found"),
        ("bad option", "profiles {tmp}/scores.csv --jobs 0 --out {tmp}/new", r"--jobs=0"),
        ("bad option", "profiles {tmp}/scores.csv --seed -1 --out {tmp}/new", r"--seed=-1"),
        ("bad option", "profiles {tmp}/scores.csv --k-max x --out {tmp}/new", "invalid int"),
        ("existing output", "profiles {tmp}/scores.csv --out {earlier}", "holds files"),
        ("unwritable output", "profiles {tmp}/scores.csv --out {tmp}/a_file.txt/x", "is a file"),
        ("unwritable output", "profiles {tmp}/scores.csv --out {tmp}/dangling", "broken link"),
    ],
    "impact": [
        ("bad value", "impact --ratings {data}/ratings.csv --enrollments "
         "{hostile}/ambiguous/enrollments.csv --catalog {data}/catalog.csv --out {tmp}/new",
         "every date could be read day first or month first"),
        ("bad value", "impact --ratings {data}/ratings.csv --enrollments "
         "{data}/enrollments.csv --catalog {hostile}/thousands/catalog.csv --out {tmp}/new",
         "could be 1600"),
        ("unreadable file", "impact --ratings {hostile}/fifo/ratings.csv --enrollments "
         "{data}/enrollments.csv --catalog {data}/catalog.csv --out {tmp}/new",
         "not a regular file"),
        ("missing file", "impact --ratings {data}/ratings.csv --enrollments {tmp}/none.csv "
         "--catalog {data}/catalog.csv --out {tmp}/new", "file not found"),
        ("bad value", "impact --ratings {bad}/ratings.csv --enrollments "
         "{data}/enrollments.csv --catalog {data}/catalog.csv --out {tmp}/new",
         "not a finite number"),
        ("existing output", "impact --ratings {data}/ratings.csv --enrollments "
         "{data}/enrollments.csv --catalog {data}/catalog.csv --out {earlier}", "holds files"),
        ("bad option", "impact --ratings {data}/ratings.csv --enrollments "
         "{data}/enrollments.csv --correction bonferroni --out {tmp}/new", "invalid choice"),
        ("bad option", "impact --ratings {data}/ratings.csv --enrollments "
         "{data}/enrollments.csv --alpha 2 --out {tmp}/new", "alpha"),
    ],
    "plans": [
        ("bad value", "plans --scores {tmp}/scores.csv --people {data}/people.csv "
         "--framework {data}/framework.csv --catalog {hostile}/no_hours/catalog.csv "
         "--out {tmp}/new", "takes no time"),
        ("missing file", "plans --scores {tmp}/scores.csv --people {tmp}/none.csv "
         "--framework {data}/framework.csv --catalog {data}/catalog.csv --out {tmp}/new",
         "file not found"),
        ("unreadable file", "plans --scores {tmp}/scores.csv --people {bad}/people.xlsx "
         "--framework {data}/framework.csv --catalog {data}/catalog.csv --out {tmp}/new",
         "cannot be read as Excel"),
        ("bad option", "plans --scores {tmp}/scores.csv --people {data}/people.csv "
         "--framework {data}/framework.csv --catalog {data}/catalog.csv --seed -1 "
         "--out {tmp}/new", r"--seed=-1"),
        ("existing output", "plans --scores {tmp}/scores.csv --people {data}/people.csv "
         "--framework {data}/framework.csv --catalog {data}/catalog.csv --out {earlier}",
         "holds files"),
        ("unwritable output", "plans --scores {tmp}/scores.csv --people {data}/people.csv "
         "--framework {data}/framework.csv --catalog {data}/catalog.csv "
         "--out {tmp}/dangling", "broken link"),
    ],
    "progression": [
        ("missing file", "progression --data {data} --paths {tmp}/none.csv --out {tmp}/new",
         "not found"),
        ("unreadable file", "progression --data {data} --people {bad}/people.xlsx "
         "--out {tmp}/new", "cannot be read as Excel"),
        ("bad value", "progression --data {data} --ratings {bad}/ratings.csv --out {tmp}/new",
         "not a finite number"),
        ("bad option", "progression --data {data} --probability 2 --out {tmp}/new",
         r"--probability=2"),
        ("existing output", "progression --data {data} --out {earlier}", "holds files"),
        ("unwritable output", "progression --data {data} --out {tmp}/a_file.txt/x", "is a file"),
    ],
    "outcomes": [
        ("missing file", "outcomes --data {data} --outcomes {tmp}/none.csv --out {tmp}/new",
         "not found"),
        ("unreadable file", "outcomes --data {data} --people {bad}/people.xlsx --out {tmp}/new",
         "cannot be read as Excel"),
        ("bad value", "outcomes --data {data} --ratings {bad}/ratings.csv --out {tmp}/new",
         "not a finite number"),
        ("bad option", "outcomes --data {data} --hourly-cost -1 --out {tmp}/new",
         r"--hourly-cost=-1"),
        ("existing output", "outcomes --data {data} --out {earlier}", "holds files"),
        ("unwritable output", "outcomes --data {data} --out {tmp}/a_file.txt/x", "is a file"),
    ],
    "run": [
        ("unreadable file", "run {hostile}/bomb.yaml --reports {tmp}/new",
         "expands to more than"),
        ("missing file", "run {tmp}/none.yaml --reports {tmp}/new", "engagement file not found"),
        ("unreadable file", "run {tmp}/broken.yaml --reports {tmp}/new", "not valid YAML"),
        ("unreadable file", "run {bad}/binary.csv --reports {tmp}/new", "not UTF-8 text"),
        ("unreadable file", "run {tmp} --reports {tmp}/new", "is a folder; expected"),
        ("bad value", "run {tmp}/bad_values.yaml --reports {tmp}/new",
         r"(?s)waves: must be one of 'joint', 'pooled'.*n_bootstrap.*correction.*"
         r"target_effect.*hours_per_week.*start: must be a date"),
        ("bad option", "run --batch {tmp} --dask notanaddress --reports {tmp}/new",
         "not a scheduler address"),
        ("bad option", "run {tmp}/good.yaml --jobs 2 --reports {tmp}/new", "go with --batch"),
        ("unwritable output", "run {tmp}/good.yaml --reports {tmp}/a_file.txt/r", "is a file"),
        ("unwritable output", "run {tmp}/good.yaml --reports {tmp}/dangling", "broken link"),
    ],
    "demo": [
        ("unwritable output", "demo --reports {tmp}/a_file.txt/r", "is a file"),
        ("bad option", "demo --repotrs {tmp}/new", "unrecognized arguments"),
    ],
}
MATRIX = [(cmd, case, template, pattern) for cmd, cases in CASES.items()
          for case, template, pattern in cases]


@pytest.mark.parametrize(("command", "case", "template", "pattern"), MATRIX,
                         ids=[f"{c}-{k}-{i}" for i, (c, k, _, _) in enumerate(MATRIX)])
def test_bad_input_is_exit_2_with_a_message_and_nothing_touched(env, capsys, command, case,
                                                                template, pattern):
    inputs = {**digest(env["data"]), **digest(env["bad"]), **digest(env["tmp"] / "scores.csv")}
    earlier = digest(env["earlier"])
    code = main(_argv(template, env))
    err = capsys.readouterr().err
    assert code == 2, err
    import re

    assert re.search(pattern, err), err
    assert "Traceback" not in err
    assert {**digest(env["data"]), **digest(env["bad"]),
            **digest(env["tmp"] / "scores.csv")} == inputs
    assert digest(env["earlier"]) == earlier
    assert not (env["tmp"] / "new").exists()  # no folder left behind
    assert not (env["tmp"] / "gone").exists()


def test_every_subcommand_is_in_the_matrix():
    from workbench.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert set(sub.choices) == set(CASES)
    kinds = {k for cases in CASES.values() for k, _, _ in cases}
    assert kinds == {"missing file", "unreadable file", "bad value", "bad option",
                     "existing output", "unwritable output"}


def test_day_first_dates_that_decide_themselves_are_read_and_said(env, capsys):
    ratings = pd.read_csv(env["data"] / "ratings.csv", dtype=str, keep_default_na=False)
    folder = env["tmp"] / "day_first"
    folder.mkdir()
    dates = pd.to_datetime(ratings["date"])
    ratings["date"] = dates.dt.strftime("%d.%m.%Y")
    ratings.to_csv(folder / "ratings.csv", index=False)
    assert (dates.dt.day > 12).any() and (dates.dt.day <= 12).any()
    assert main(["validate", str(folder / "ratings.csv")]) == 0
    said = capsys.readouterr()
    assert "dates read as DD.MM.YYYY (day first)" in said.out + said.err
    assert "Traceback" not in said.err


def test_permission_errors_become_clear_messages(env, capsys, monkeypatch):
    """The operating system's refusal is simulated: CI runs as root, for whom nothing is
    unwritable, and a test that would skip there proves nothing."""
    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)
    assert main(["demo-data", "--out", str(env["tmp"] / "new")]) == 2
    err = capsys.readouterr().err
    assert "cannot create the output folder (permission denied)" in err
    assert "Traceback" not in err


def test_an_internal_error_is_one_line_and_exit_1(env, capsys, monkeypatch):
    import workbench.cli.validate as validate

    def crash(*args, **kwargs):
        raise RuntimeError("something the developers did not foresee")

    monkeypatch.setattr(validate, "summarise_organisation", crash)
    assert main(["validate", str(env["data"])]) == 1
    err = capsys.readouterr().err
    assert "internal error (RuntimeError: something the developers did not foresee)" in err
    assert "--debug" in err and "Traceback" not in err
    assert main(["--debug", "validate", str(env["data"])]) == 1
    assert "Traceback" in capsys.readouterr().err
    assert main(["validate", str(env["data"]), "--debug"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_help_and_version_exit_0(capsys):
    assert main(["--version"]) == 0
    assert main(["validate", "--help"]) == 0
    assert "usage" in capsys.readouterr().out
