"""A property over every subcommand: generated files and options give exit 0 with valid
outputs, or exit 2 with a message; never a traceback, never exit 1, never a changed input.

Each example starts from a small valid organisation, damages one of its files in one of the
ways client exports go wrong (a cell, a header, blank lines, an encoding, a truncation, a
format, a wave, ids that lost their zeros; markup and formula prefixes in text, dates day or
month first, ambiguous, mixed or far off, thousands separators, ids in another case, Unicode
form or with invisible characters) and draws the options, including out-of-range ones.
Hypothesis is derandomised (a fixed seed), so CI draws the same examples every time.
"""

from __future__ import annotations

import io
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import event, given, settings
from hypothesis import strategies as st

from tests.cli.conftest import digest
from tests.fuzzing import examples, fuzz_settings
from workbench.cli import main
from workbench.synth.generator import generate_organisation, write_organisation
from workbench.synth.truth import truth_scores

PROPERTY = fuzz_settings(12)  # fixed examples in CI; HYPOTHESIS_PROFILE=nightly for more


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("property")
    org = generate_organisation(40, seed=3)
    write_organisation(org, root / "data")
    scores = truth_scores(org, se=0.2, wave=2, random_state=1)
    scores = scores.drop(columns=["true_score", "estimator"]).rename(columns={"person": "ratee"})
    scores.to_csv(root / "data" / "scores.csv", index=False)
    return root / "data"


# --------------------------------------------------------------------------------------------
# Damage done to one file
# --------------------------------------------------------------------------------------------

DAMAGE = st.sampled_from(["none", "cell", "drop_column", "duplicate_header", "blank_lines",
                          "utf16", "cp1252", "truncate", "xlsx", "parquet", "wave",
                          "zeros", "markup", "dates", "thousands", "unicode_ids"])
CELL = st.one_of(st.text(max_size=8), st.sampled_from(["", "NaN", "inf", "-1", "1e9", "3,5",
                                                        "007", "x"]))
# Client text that must stay text: markup and spreadsheet formula prefixes (issue #26).
MARKUP = st.sampled_from(["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>',
                          "=HYPERLINK(\"http://x.test\",\"y\")", "+1+1", "-2+3", "@SUM(A1)",
                          "\t=1", "<b>R&D</b>"])
# How a date column is rewritten: day first, month first, both ways for every date
# (ambiguous), day first with one month-first row (mixed), far off, month names.
DATES = st.sampled_from(["%d.%m.%Y", "%m/%d/%Y", "%d/%m/%Y", "ambiguous", "mixed", "far",
                         "%d %B %Y"])
# A number written with a thousands separator (or a decimal mark that looks like one).
THOUSANDS = st.sampled_from(["{:,.0f}", "{:,.2f}", "{:_.0f}", "{:.3f}"])
# An id written another way: case, NFD, invisible and no-break characters.
ID_VARIANTS = st.sampled_from(["lower", "nfd", "zero_width", "bom", "no_break", "rtl_mark"])
NUMBERS = ("score", "required_level", "weight", "level_from", "level_to", "hours", "weeks",
           "cost", "tenure", "expected_gain")
IDS = ("ratee", "rater", "person", "skill", "role", "team", "activity", "manager")


def _rewrite_dates(frame: pd.DataFrame, how: str, data: st.DataObject) -> None:
    columns = [c for c in ("date", "start", "end") if c in frame]
    if not columns:
        frame.iloc[0, 0] = data.draw(st.sampled_from(["04.02.2026", "13.07.2026"]))
        return
    for column in columns:
        dates = pd.to_datetime(frame[column], errors="coerce")
        if how == "ambiguous":
            text = [f"{min(d.day, 12):02d}.{d.month:02d}.{d.year}" if pd.notna(d) else ""
                    for d in dates]
        elif how in ("mixed", "far"):
            text = dates.dt.strftime("%Y-%m-%d" if how == "far" else "%d.%m.%Y").fillna("")
            text = list(text)
            row = data.draw(st.integers(0, len(text) - 1))
            text[row] = "07.13.2026" if how == "mixed" else data.draw(
                st.sampled_from(["2206-03-01", "1900-01-01", "0202-03-01"]))
        else:
            text = dates.dt.strftime(how).fillna("")
        frame[column] = list(text)


def _variant(value: str, how: str) -> str:
    import unicodedata

    if how == "lower":
        return value.lower() if value.lower() != value else value.upper()
    if how == "nfd":
        return unicodedata.normalize("NFD", value + "\u00e9")
    return value + {"zero_width": "\u200b", "bom": "\ufeff", "no_break": "\u00a0",
                    "rtl_mark": "\u200f"}[how]


def _hostile(frame: pd.DataFrame, how: str, data: st.DataObject) -> None:
    """Damage that reads "successfully" unless the readers take care (issue #26)."""
    row = data.draw(st.integers(0, len(frame) - 1))
    if how == "markup":
        col = data.draw(st.sampled_from(list(frame.columns)))
        frame.loc[row, col] = data.draw(MARKUP) + data.draw(st.sampled_from(["", "x"]))
    elif how == "dates":
        _rewrite_dates(frame, data.draw(DATES), data)
    elif how == "thousands":
        numeric = [c for c in frame.columns if c in NUMBERS] or list(frame.columns)
        col = data.draw(st.sampled_from(numeric))
        value = pd.to_numeric(frame.loc[row, col], errors="coerce")
        value = 1600.0 if pd.isna(value) else float(value) * 1000
        rows = [row] if data.draw(st.booleans()) else list(frame.index)
        for at in rows:
            cell = pd.to_numeric(frame.loc[at, col], errors="coerce")
            number = value if pd.isna(cell) else float(cell) * 1000
            frame.loc[at, col] = data.draw(THOUSANDS).format(number).replace("_", " ")
    elif how == "unicode_ids":
        ids = [c for c in frame.columns if c in IDS] or list(frame.columns[:1])
        col = data.draw(st.sampled_from(ids))
        variant = data.draw(ID_VARIANTS)
        if variant == "nfd":  # the whole column: one spelling per file, NFD here only
            frame[col] = [_variant(v, variant) if v else v for v in frame[col]]
        else:
            frame.loc[row, col] = _variant(frame.loc[row, col], variant)


def _damage(path: Path, how: str, data: st.DataObject) -> Path:
    event(f"damage {how}")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if how == "cell":
        row = data.draw(st.integers(0, len(frame) - 1))
        col = data.draw(st.sampled_from(list(frame.columns)))
        frame.loc[row, col] = data.draw(CELL)
    elif how == "drop_column":
        frame = frame.drop(columns=data.draw(st.sampled_from(list(frame.columns))))
    elif how == "wave" and "wave" in frame:
        frame.loc[data.draw(st.integers(0, len(frame) - 1)), "wave"] = data.draw(
            st.sampled_from(["3", "x", "1.5", ""]))
    elif how == "zeros":
        for col in frame.columns[:2]:
            frame[col] = "0" + frame[col]
    elif how in ("markup", "dates", "thousands", "unicode_ids"):
        _hostile(frame, how, data)
    text = frame.to_csv(index=False)
    if how == "duplicate_header":
        header, rest = text.split("\n", 1)
        first = header.split(",")[0]
        text = header + "," + first + "\n" + "\n".join(r + ",x" for r in rest.splitlines()) + "\n"
    if how == "blank_lines":
        text = text.replace("\n", "\n\n", data.draw(st.integers(1, 5)))
    path.unlink()
    if how == "xlsx" or how == "parquet":
        target = path.with_suffix("." + how)
        table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        table.to_excel(target, index=False) if how == "xlsx" else table.to_parquet(target)
        return target
    raw = text.encode("utf-16" if how == "utf16" else "cp1252" if how == "cp1252" else "utf-8",
                      errors="replace")
    if how == "truncate":
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    path.write_bytes(raw)
    return path


_WORKSPACES: list[Path] = []


@pytest.fixture(autouse=True, scope="module")
def _remove_workspaces():
    """Examples Hypothesis abandons half-way never reach ``_check``: remove theirs at the end."""
    yield
    while _WORKSPACES:
        shutil.rmtree(_WORKSPACES.pop(), ignore_errors=True)


def _workspace(base: Path) -> Path:
    root = Path(tempfile.mkdtemp(prefix="wb-prop-"))
    _WORKSPACES.append(root)
    shutil.copytree(base, root / "data")
    (root / "earlier").mkdir()
    (root / "earlier" / "keep.csv").write_text("a\n1\n")
    return root


def mostly(valid, invalid):
    """Valid three times in four: both exit 0 and exit 2 must be exercised."""
    return st.one_of(valid, valid, valid, invalid)


OUT = mostly(st.just("new"), st.sampled_from(["earlier", "below_file"]))
DAMAGE = st.one_of(st.just("none"), DAMAGE)  # half the files intact, half damaged


def _out(root: Path, state: str) -> Path:
    if state == "earlier":
        return root / "earlier"
    if state == "below_file":
        (root / "file").write_text("x")
        return root / "file" / "out"
    return root / "out"


def _check(argv: list[str], root: Path, capsys, valid_outputs) -> None:
    """Run the CLI and hold it to the contract; the workspace is removed, pass or fail."""
    try:
        _hold_to_contract(argv, root, capsys, valid_outputs)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _hold_to_contract(argv: list[str], root: Path, capsys, valid_outputs) -> None:
    inputs = digest(root / "data")
    earlier = digest(root / "earlier")
    code = main(argv)
    captured = capsys.readouterr()
    event(f"exit {code}")  # --hypothesis-show-statistics shows how often each outcome came
    assert "Traceback" not in captured.err, captured.err
    assert code in (0, 2), f"exit {code}: {captured.err[-2000:]}"
    assert digest(root / "data") == inputs
    # earlier outputs stay as they were (a reports root may gain a new run folder)
    assert earlier.items() <= digest(root / "earlier").items()
    if code == 2:
        assert re.search(r"^workbench [a-z-]+: \S", captured.err, re.M), captured.err
    else:
        valid_outputs(captured.out)


def _csvs_are_tables(folder: Path) -> None:
    files = list(folder.rglob("*.csv"))
    assert files, f"no tables in {folder}"
    for path in files:
        frame = pd.read_csv(path)
        for col in ("score", "estimate"):
            if col in frame and len(frame):
                assert np.isfinite(frame[col].to_numpy(float)).any(), f"{path}: all NaN {col}"


# --------------------------------------------------------------------------------------------
# One property per subcommand
# --------------------------------------------------------------------------------------------


@settings(PROPERTY, max_examples=examples(40))
@given(data=st.data())
def test_validate(base, capsys, data):
    root = _workspace(base)
    table = data.draw(st.sampled_from(["ratings", "people", "framework", "catalog",
                                       "enrollments"]))
    _damage(root / "data" / f"{table}.csv", data.draw(DAMAGE), data)
    argv = ["validate", str(root / "data")]
    if data.draw(st.booleans()):
        argv += ["--waves", *data.draw(st.lists(st.sampled_from(["1", "2", "3", "x"]),
                                                min_size=1, max_size=3))]
    _check(argv, root, capsys, lambda out: "Organisation summary" in out or pytest.fail(out))


@PROPERTY
@given(people=mostly(st.integers(30, 70), st.integers(-5, 29)),
       seed=mostly(st.integers(0, 3), st.integers(-3, -1)),
       skills=mostly(st.integers(6, 10), st.sampled_from([5, 11])),
       profiles=mostly(st.integers(3, 5), st.sampled_from([2, 6])),
       fmt=st.sampled_from(["csv", "xlsx", "parquet"]), out=OUT)
def test_demo_data(base, capsys, people, seed, skills, profiles, fmt, out):
    from workbench.tables.organisation import load_organisation

    root = _workspace(base)
    target = _out(root, out)
    argv = ["demo-data", "--out", str(target), "--people", str(people), "--seed", str(seed),
            "--skills", str(skills), "--profiles", str(profiles), "--format", fmt]

    def valid(_out):
        assert len(load_organisation(target).people) == people

    _check(argv, root, capsys, valid)


@PROPERTY
@given(data=st.data(), out=OUT)
def test_calibrate(base, capsys, data, out):
    root = _workspace(base)
    ratings = _damage(root / "data" / "ratings.csv", data.draw(DAMAGE), data)
    target = _out(root, out)
    argv = ["calibrate", str(ratings), "--out", str(target),
            "--waves", data.draw(st.sampled_from(["auto", "pooled", "joint"])),
            "--min-ratings", str(data.draw(mostly(st.integers(1, 3), st.integers(-1, 0))))]
    _check(argv, root, capsys, lambda _out: _csvs_are_tables(target))


@PROPERTY
@given(data=st.data(), out=OUT)
def test_profiles(base, capsys, data, out):
    root = _workspace(base)
    scores = _damage(root / "data" / "scores.csv", data.draw(DAMAGE), data)
    target = _out(root, out)
    argv = ["profiles", str(scores), "--out", str(target), "--bootstrap", "0", "--n-starts",
            "2", "--no-vlmr",
            "--k-max", str(data.draw(mostly(st.integers(1, 3), st.integers(-1, 0)))),
            "--seed", str(data.draw(mostly(st.integers(0, 3), st.integers(-2, -1)))),
            "--jobs", str(data.draw(mostly(st.sampled_from([1, 2, -1, -2]), st.just(0))))]
    _check(argv, root, capsys, lambda _out: _csvs_are_tables(target))


@PROPERTY
@given(data=st.data(), out=OUT)
def test_impact(base, capsys, data, out):
    root = _workspace(base)
    table = data.draw(st.sampled_from(["ratings", "enrollments", "catalog"]))
    damaged = _damage(root / "data" / f"{table}.csv", data.draw(DAMAGE), data)
    files = {t: root / "data" / f"{t}.csv" for t in ("ratings", "enrollments", "catalog")}
    files[table] = damaged
    target = _out(root, out)
    argv = ["impact", "--ratings", str(files["ratings"]), "--enrollments",
            str(files["enrollments"]), "--catalog", str(files["catalog"]),
            "--people", str(root / "data" / "people.csv"), "--out", str(target),
            "--alpha", str(data.draw(mostly(st.sampled_from([0.05, 0.1]),
                                            st.sampled_from([0, 1.5, -0.1])))),
            "--target-effect", str(data.draw(mostly(st.sampled_from([0.2, 0.5]),
                                                    st.sampled_from([0, -1]))))]
    _check(argv, root, capsys, lambda _out: _csvs_are_tables(target))


@PROPERTY
@given(data=st.data(), out=OUT)
def test_plans(base, capsys, data, out):
    root = _workspace(base)
    table = data.draw(st.sampled_from(["scores", "people", "framework", "catalog"]))
    damaged = _damage(root / "data" / f"{table}.csv", data.draw(DAMAGE), data)
    files = {t: root / "data" / f"{t}.csv" for t in ("scores", "people", "framework",
                                                      "catalog")}
    files[table] = damaged
    target = _out(root, out)
    argv = ["plans", "--scores", str(files["scores"]), "--people", str(files["people"]),
            "--framework", str(files["framework"]), "--catalog", str(files["catalog"]),
            "--out", str(target),
            "--seed", str(data.draw(mostly(st.integers(0, 3), st.integers(-2, -1)))),
            "--focus", str(data.draw(mostly(st.integers(1, 3), st.sampled_from([-1, 0, 4])))),
            "--start", data.draw(mostly(st.just("2027-01-04"),
                                        st.sampled_from(["next monday", "2027-02-30"])))]
    _check(argv, root, capsys, lambda _out: _csvs_are_tables(target))


HOSTILE = st.sampled_from(["markup", "dates", "thousands", "unicode_ids"])


@settings(PROPERTY, max_examples=examples(24))
@given(data=st.data(), command=st.sampled_from(["validate", "calibrate", "impact", "plans"]))
def test_hostile_but_readable_inputs(base, capsys, data, command):
    """Every draw damages one file with text that reads "successfully" unless the readers take
    care: markup and formulas, day-first, ambiguous, mixed or far-off dates, thousands
    separators, ids in another case, Unicode form or with invisible characters."""
    root = _workspace(base)
    tables = {"validate": ["ratings", "people", "framework", "catalog", "enrollments"],
              "calibrate": ["ratings"], "impact": ["ratings", "enrollments", "catalog"],
              "plans": ["scores", "people", "framework", "catalog"]}[command]
    table = data.draw(st.sampled_from(tables))
    _damage(root / "data" / f"{table}.csv", data.draw(HOSTILE), data)
    files = {t: root / "data" / f"{t}.csv" for t in ("ratings", "people", "framework",
                                                      "catalog", "enrollments", "scores")}
    target = root / "out"
    argv = {
        "validate": ["validate", str(root / "data")],
        "calibrate": ["calibrate", str(files["ratings"]), "--out", str(target)],
        "impact": ["impact", "--ratings", str(files["ratings"]), "--enrollments",
                   str(files["enrollments"]), "--catalog", str(files["catalog"]), "--people",
                   str(files["people"]), "--out", str(target)],
        "plans": ["plans", "--scores", str(files["scores"]), "--people", str(files["people"]),
                  "--framework", str(files["framework"]), "--catalog", str(files["catalog"]),
                  "--start", "2027-01-04", "--out", str(target)],
    }[command]

    def valid(out):
        if command == "validate":
            assert "Organisation summary" in out, out
        else:
            _csvs_are_tables(target)

    _check(argv, root, capsys, valid)


TINY = """{"cells": [
 {"cell_type": "markdown", "metadata": {}, "source": ["# Tiny\\n\\nDoes it load?"]},
 {"cell_type": "code", "execution_count": null, "metadata": {"tags": ["parameters"]},
  "outputs": [], "source": [
   "data_dir: str = \\".\\"  # data (needs: people)\\n",
   "engagement_file: str = \\"\\"  # engagement\\n",
   "output_dir: str = \\"\\"  # outputs\\n",
   "mode: str = \\"fast\\"  # how (one of: fast, slow)\\n",
   "share: float = 0.5  # a share (0 to 1)\\n",
   "start: str = \\"2027-01-04\\"  # first day (a date)\\n",
   "count: int = 1  # how many (at least 1)"]},
 {"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": [
   "from workbench.runs.engagement import open_organisation\\n",
   "org = open_organisation(data_dir, engagement_file)"]}],
 "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                             "language": "python"}},
 "nbformat": 4, "nbformat_minor": 5}
"""

VALUES = {
    "mode": st.sampled_from(["fast", "slow", "medium", 3]),
    "share": st.sampled_from([0, 0.5, 1, 1.5, -0.1, "half"]),
    "start": st.sampled_from(["2027-01-04", "next monday", "2027-13-01"]),
    "count": st.sampled_from([1, 5, 0, -1, 2.5]),
    "colour": st.just("blue"),
}


@fuzz_settings(8)
@given(params=st.dictionaries(st.sampled_from(sorted(VALUES)), st.none(), max_size=4),
       data=st.data(), drop_people=st.booleans(), out=OUT)
def test_run(base, capsys, params, data, drop_people, out):
    root = _workspace(base)
    (root / "tiny.ipynb").write_text(TINY)
    values = {name: data.draw(VALUES[name]) for name in params}
    if drop_people:
        (root / "data" / "people.csv").rename(root / "people.csv")
    spec = {"engagement": "prop", "client": "Prop Ltd", "data": "data",
            "notebooks": {"tiny.ipynb": values}}
    (root / "prop.yaml").write_text(yaml.safe_dump(spec))
    target = _out(root, out)

    def valid(_out):
        runs = list((target / "prop").iterdir())
        assert len(runs) == 1 and (runs[0] / "client" / "report.html").is_file()

    _check(["run", str(root / "prop.yaml"), "--reports", str(target)], root, capsys, valid)
