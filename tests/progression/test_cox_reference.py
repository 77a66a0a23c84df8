"""The leaving model's Cox fit against committed survival::coxph fixtures (R).

``tests/fixtures/survival``: two generated leaving data sets (``make_data.py``; one with times
in days, one with times in whole months, so with many ties) and R's ``coxph`` on them with
Efron's and Breslow's handling of tied times (``make_fixtures.R``, ``sessionInfo.txt``).
Claims: ``leaving_model`` (statsmodels PHReg, Efron ties) equals coxph with ``ties = "efron"``
to 1e-6 in the log hazard ratio and its SE; PHReg with Breslow ties equals coxph with
``ties = "breslow"`` to 1e-6; on the data with many ties the two methods differ by far more
than 1e-6, so the comparison tells them apart.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.duration.hazard_regression import PHReg

from workbench.progression import leaving_model

FIXTURES = Path(__file__).parents[1] / "fixtures" / "survival"
START = pd.Timestamp("2026-01-19")
REFERENCE = pd.read_csv(FIXTURES / "coxph.csv").set_index(["data", "ties"])


def _data(name):
    return pd.read_csv(FIXTURES / f"{name}.csv", dtype={"person": str})


@pytest.mark.parametrize("name", ["leaving_days", "leaving_months"])
def test_leaving_model_equals_coxph_efron(name):
    data = _data(name)
    left = data[data["event"] == 1]
    outcomes = pd.DataFrame({"person": left["person"], "metric": "left", "value": 1.0,
                             "date": (START + pd.to_timedelta(left["time"], unit="D"))
                             .dt.strftime("%Y-%m-%d")})
    end = START + pd.Timedelta(days=int(data["time"].max()))
    x = data.set_index("person")["x"]
    fit = leaving_model(None, outcomes, start=START, end=end, covariate=x).iloc[0]
    ref = REFERENCE.loc[(name, "efron")]
    assert fit["estimate"] == pytest.approx(ref["estimate"], abs=1e-6)
    assert fit["se"] == pytest.approx(ref["se"], abs=1e-6)
    assert (fit["n"], fit["n_events"]) == (ref["n"], ref["n_events"])


@pytest.mark.parametrize("name", ["leaving_days", "leaving_months"])
def test_breslow_ties_equal_coxph_breslow(name):
    data = _data(name)
    z = ((data["x"] - data["x"].mean()) / data["x"].std()).to_numpy()[:, None]
    fit = PHReg(data["time"].to_numpy(float), z, status=data["event"].to_numpy(),
                ties="breslow").fit()
    ref = REFERENCE.loc[(name, "breslow")]
    assert float(fit.params[0]) == pytest.approx(ref["estimate"], abs=1e-6)
    assert float(fit.bse[0]) == pytest.approx(ref["se"], abs=1e-6)


def test_the_tie_methods_differ_on_tied_times():
    efron, breslow = (REFERENCE.loc[("leaving_months", t), "estimate"]
                      for t in ("efron", "breslow"))
    assert abs(efron - breslow) > 1e-3
    assert np.isfinite(efron)
