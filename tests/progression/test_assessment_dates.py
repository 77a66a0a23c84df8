"""Assessment dates typed by hand far from the survey's own dates are refused with the range
(issue 26); dates near it, or found in the ratings, pass."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.errors import ConfigError
from workbench.progression.outcomes_result import survey_dates

RATINGS = pd.DataFrame({"wave": [1, 1, 2], "date": ["2026-01-20", "2026-01-19", "2026-07-13"]})


@pytest.mark.parametrize("given, name, side", [
    ({"first": "2062-01-19"}, "first_assessment", "after"),
    ({"first": "1926-01-19"}, "first_assessment", "before"),
    ({"second": "2206-07-13"}, "second_assessment", "after"),
    ({"first": "2026-01-19", "second": "2029-07-14"}, "second_assessment", "after"),
])
def test_far_assessment_dates_are_refused_with_the_ratings_range(given, name, side):
    with pytest.raises(ConfigError, match=f"{name}=.*more than 2 years {side} the dates of the "
                       r"ratings \(2026-01-19 to 2026-07-13\)"):
        survey_dates(RATINGS, **given)


@pytest.mark.parametrize("given, expected", [
    ({}, ("2026-01-19", "2026-07-13")),
    ({"first": "2025-12-01"}, ("2025-12-01", "2026-07-13")),
    ({"first": "2026-01-05", "second": "2027-06-30"}, ("2026-01-05", "2027-06-30")),
])
def test_dates_near_the_survey_pass(given, expected):
    assert survey_dates(RATINGS, **given) == expected
