"""Fuzzing the loaders: only ever a clear InputError, never a traceback or a silently wrong table."""

import io
import math
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import example, given
from hypothesis import strategies as st

from tests.fuzzing import fuzz_settings
from workbench.errors import InputError
from workbench.tables.data import SOURCES, Scale, load_table

DEMO = Path(__file__).resolve().parents[2] / "data" / "demo"
FUZZ = fuzz_settings(60)  # fixed examples in CI; HYPOTHESIS_PROFILE=nightly for more


def _write(data: bytes, suffix=".csv") -> Path:
    folder = Path(tempfile.mkdtemp(prefix="wb-fuzz-"))
    path = folder / f"ratings{suffix}"
    path.write_bytes(data)
    return path


def _check_contract(frame: pd.DataFrame) -> None:
    """A table that loads must honour the ratings contract."""
    for col in ("ratee", "rater", "skill"):
        assert frame[col].map(lambda v: isinstance(v, str) and v != "").all()
    assert frame["source"].isin(SOURCES).all()
    scores = frame["score"].to_numpy(dtype=float)
    assert np.isfinite(scores).all() and Scale().contains(scores).all()
    key = ["ratee", "rater", "skill", "wave"] + (["item"] if "item" in frame else [])
    assert not frame.duplicated(key).any()
    if "item" in frame:
        assert frame["item"].map(lambda v: isinstance(v, str) and v != "").all()
    is_self = frame["source"] == "self"
    assert (frame.loc[is_self, "ratee"] == frame.loc[is_self, "rater"]).all()


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes(data):
    for suffix in (".csv", ".xlsx", ".parquet"):
        try:
            frame = load_table(_write(data, suffix), "ratings")
        except InputError as exc:
            assert exc.problems
        else:
            _check_contract(frame)


DEMO_BYTES = (DEMO / "ratings.csv").read_bytes()[:6000]


@FUZZ
@given(st.integers(min_value=0, max_value=len(DEMO_BYTES)))
@example(87)  # found by the derandomised run: a date cut mid-way broke read_dates (traceback)
@example(199)
def test_truncated_files(cut):
    data = DEMO_BYTES[:cut]
    try:
        frame = load_table(_write(data), "ratings")
    except InputError as exc:
        assert exc.problems
        return
    _check_contract(frame)
    # Nothing lost: every complete line is a row, a partial last line is either kept or flagged.
    full_lines = data.count(b"\n") - 1
    assert full_lines <= len(frame) <= full_lines + 1


ID = st.sampled_from(["P1", "P2", "P3", "P4", ""])
SOURCE = st.sampled_from(["self", "Self", "manager", "Line Manager", "peer", "direct report", "xx", ""])
SCORE = st.one_of(
    st.sampled_from(["1", "2.5", "5", "0", "6", "", "NA", "1e308", "1e400", "-inf", "nan", "3,5"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.text(max_size=5),
)
ROW = st.tuples(ID, ID, SOURCE, st.sampled_from(["Planning", "Feedback", ""]), SCORE)


@FUZZ
@given(st.lists(ROW, min_size=1, max_size=25))
def test_generated_tables_are_either_exact_or_rejected(rows):
    frame = pd.DataFrame(rows, columns=["ratee", "rater", "source", "skill", "score"])
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    try:
        loaded = load_table(_write(buffer.getvalue().encode("utf-8")), "ratings")
    except InputError as exc:
        assert exc.errors
        return
    _check_contract(loaded)
    # Not silently wrong: same rows, same values.
    assert len(loaded) == len(frame)
    expected = [float(s.strip().replace(",", ".")) for s in frame["score"]]
    assert all(math.isclose(a, b) for a, b in zip(loaded["score"], expected, strict=True))
    assert loaded["ratee"].tolist() == [r.strip() for r in frame["ratee"]]
