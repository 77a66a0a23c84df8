"""Every numeric keyword option of the stage verbs refuses NaN and infinities (issue 26).

Each option gets every payload; the error must be a ConfigError naming the option, raised
before any data are read (the data here are deliberately empty, so a check that came after
the reading would fail differently)."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.calibration import calibrate_rasch, calibrate_ratings
from workbench.errors import ConfigError
from workbench.impact.result import estimate_impact
from workbench.plans import build_plans, check_config
from workbench.profiles.select import find_profiles

PAYLOADS = [float("nan"), float("inf"), float("-inf")]
EMPTY = pd.DataFrame()

CALLS = {
    "calibrate_ratings": (lambda **kw: calibrate_ratings(EMPTY, **kw),
                          ["alpha", "min_ratings", "n_jobs"]),
    "calibrate_rasch": (lambda **kw: calibrate_rasch(EMPTY, **kw), ["alpha", "max_iter"]),
    "find_profiles": (lambda **kw: find_profiles(EMPTY, **kw),
                      ["k_max", "n_starts", "n_bootstrap", "n_blrt", "alpha", "random_state",
                       "n_jobs"]),
    "estimate_impact": (lambda **kw: estimate_impact(EMPTY, EMPTY, **kw),
                        ["alpha", "target_effect", "power", "rtm_quantile",
                         "error_correlation"]),
}

CASES = [(verb, option, value) for verb, (_, options) in CALLS.items() for option in options
         for value in PAYLOADS]


@pytest.mark.parametrize("verb, option, value", CASES)
def test_every_numeric_option_refuses_non_finite_values(verb, option, value):
    call, _ = CALLS[verb]
    with pytest.raises(ConfigError, match=f"{option}="):
        call(**{option: value})


@pytest.mark.parametrize("value", PAYLOADS)
@pytest.mark.parametrize("verb", ["calibrate_ratings", "find_profiles"])
def test_scale_options_refuse_non_finite_ends(verb, value):
    call, _ = CALLS[verb]
    with pytest.raises(ConfigError, match="scale="):
        call(scale=(1.0, value))


@pytest.mark.parametrize("value", PAYLOADS)
@pytest.mark.parametrize("key", ["gap_probability", "stretch_step", "hours_per_week",
                                 "mentor_confidence", "rule_bonus", "default_gain",
                                 "default_gain_se", "alpha", "scale_max", "n_focus", "weeks",
                                 "checkin_every", "mentor_capacity", "mentor_candidates"])
def test_every_numeric_plans_setting_refuses_non_finite_values(key, value):
    with pytest.raises(ConfigError, match=f"plans config: {key}="):
        check_config({key: value})


@pytest.mark.parametrize("value", PAYLOADS)
def test_build_plans_refuses_a_non_finite_scale_before_reading(value):
    with pytest.raises(ConfigError, match="scale="):
        build_plans(EMPTY, EMPTY, EMPTY, EMPTY, scale=(1.0, value))


@pytest.mark.parametrize("value", PAYLOADS + ["1.5x"])
@pytest.mark.parametrize("name", ["base", "same_team"])
def test_mentor_costs_refuse_non_finite_values(name, value):
    with pytest.raises(ConfigError, match=rf"plans config: mentor_costs\['{name}'\]="):
        check_config({"mentor_costs": {name: value}})
