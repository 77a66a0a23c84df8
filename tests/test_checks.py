"""The shared option checks refuse NaN and infinities; settings are always strict JSON (issue 26).

Every payload that is not a finite number must be refused by the one set of helpers in
``workbench.checks`` (a NaN compares false with every bound, so a range check alone lets it
through), and ``workbench.results.json_text`` must never write NaN or Infinity.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest

from workbench.checks import (
    check_alpha,
    check_date_near,
    check_integer,
    check_interval,
    check_scale,
)
from workbench.errors import ConfigError
from workbench.results import Result, json_text

NON_FINITE = [float("nan"), float("inf"), float("-inf"), np.nan, np.float64("inf"),
              np.float32("nan")]
NOT_NUMBERS = ["NaN", "nan", "inf", "Infinity", "0.05", None]


@pytest.mark.parametrize("value", NON_FINITE + NOT_NUMBERS)
def test_check_interval_refuses_every_non_finite_payload(value):
    # an interval that a NaN would pass if only the bounds were compared
    with pytest.raises(ConfigError, match=r"^hours="):
        check_interval("hours", value, low=0, high=168)
    with pytest.raises(ConfigError, match=r"^hours="):
        check_interval("hours", value)  # no bounds at all


@pytest.mark.parametrize("value", NON_FINITE + NOT_NUMBERS)
def test_check_alpha_refuses_every_non_finite_payload(value):
    with pytest.raises(ConfigError, match=r"^alpha="):
        check_alpha(value)


@pytest.mark.parametrize("value", NON_FINITE + NOT_NUMBERS + [2.5])
def test_check_integer_refuses_every_non_finite_payload(value):
    with pytest.raises(ConfigError, match=r"^k_max=.*whole number"):
        check_integer("k_max", value, low=1)


@pytest.mark.parametrize("value", NON_FINITE)
def test_check_integer_says_finite_for_nan_and_infinities(value):
    with pytest.raises(ConfigError, match="finite whole number"):
        check_integer("n_bootstrap", value, low=0)


@pytest.mark.parametrize("pair", [(float("nan"), float("nan")), (1, float("nan")),
                                  (float("nan"), 5), (1, float("inf")), (float("-inf"), 5),
                                  (5, 1), (3, 3), ("1", "5"), (1,), (1, 2, 3), "15", None,
                                  (True, 5)])
def test_check_scale_refuses_nan_infinite_reversed_and_malformed(pair):
    with pytest.raises(ConfigError, match=r"^scale=.*MIN and MAX must be finite"):
        check_scale("scale", pair)


def test_check_scale_accepts_pairs_and_scale_objects():
    @dataclass
    class Scale:
        min: float
        max: float

    assert check_scale("scale", (1, 5)) == (1.0, 5.0)
    assert check_scale("scale", np.array([0.0, 10.0])) == (0.0, 10.0)
    assert check_scale("scale", Scale(1, 7)) == (1.0, 7.0)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"),
                                   np.float64("nan")])
def test_json_text_names_every_non_finite_number_at_any_depth(value):
    settings = {"alpha": 0.05, "scale": [1.0, value], "nested": {"x": [value]}, "k": 3}
    with pytest.raises(ConfigError) as caught:
        json_text(settings)
    message = str(caught.value)
    assert "scale[1]=" in message and "nested.x[0]=" in message
    assert "alpha" not in message and "k=" not in message


def test_json_text_writes_strict_json_that_round_trips():
    settings = {"alpha": np.float64(0.05), "k": np.int64(3), "models": ("EII", "VVV"),
                "wave": None, "dates": pd.Timestamp("2027-01-04")}
    text = json_text(settings, sort_keys=True)
    assert json.loads(text) == {"alpha": 0.05, "k": 3, "models": ["EII", "VVV"],
                                "wave": None, "dates": "2027-01-04 00:00:00"}


@dataclass(frozen=True)
class _Means(Result):
    title = "Means"
    table: pd.DataFrame
    settings: dict = field(default_factory=dict)

    def _files(self):
        return {"means.csv": self.table}


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_a_result_with_a_nan_setting_writes_no_folder(tmp_path, value):
    res = _Means(pd.DataFrame({"estimate": [1.0]}), {"scale": [1.0, value]})
    with pytest.raises(ConfigError, match=r"settings.json: scale\[1\]="):
        res.save(tmp_path / "out")
    assert not (tmp_path / "out").exists()
    good = _Means(pd.DataFrame({"estimate": [1.0]}), {"scale": [1.0, 5.0]})
    out = good.save(tmp_path / "out2")
    assert json.loads((out / "settings.json").read_text()) == {"scale": [1.0, 5.0]}


DATA_DATES = ["2026-01-19", "2026-03-02", "2026-07-13"]


@pytest.mark.parametrize("value, side", [("2062-01-19", "after"), ("1926-01-19", "before"),
                                         ("2028-07-15", "after"), ("2024-01-17", "before"),
                                         (pd.Timestamp("2126-07-13"), "after")])
def test_check_date_near_refuses_far_dates_stating_the_range(value, side):
    with pytest.raises(ConfigError, match=f"more than 2 years {side} the dates of the ratings "
                       r"\(2026-01-19 to 2026-07-13\)"):
        check_date_near("start", value, DATA_DATES, what="the ratings")


@pytest.mark.parametrize("value", ["2026-05-01", "2024-01-20", "2028-07-12",
                                   pd.Timestamp("2027-01-04")])
def test_check_date_near_accepts_dates_within_two_years(value):
    assert check_date_near("start", value, DATA_DATES, what="the ratings") is value


def test_check_date_near_without_data_dates_checks_only_the_date():
    assert check_date_near("start", "2062-01-04", [None, "", "n/a"], what="x") == "2062-01-04"
    with pytest.raises(ConfigError, match="must be a date"):
        check_date_near("start", "next monday", DATA_DATES, what="x")
