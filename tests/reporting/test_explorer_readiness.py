"""The explorer shows a person's readiness for each role on their path."""

from __future__ import annotations

import pandas as pd

from workbench.reporting.explorer import Explorer, person_readiness
from workbench.synth import generate_organisation, truth_scores


def test_explorer_plans_carry_readiness_for_the_path():
    generated = generate_organisation(60, seed=2, n_waves=1, progression=True)
    org = generated.to_organisation()
    scores = truth_scores(generated, se=0.2, wave=1, random_state=0)
    explorer = Explorer(scores, org, n_focus=1, plan_options={"start": "2026-03-02",
                                                             "random_state": 0})
    specialist = org.people.loc[org.people["role"] == "Specialist", "person"].iloc[0]
    ready = person_readiness(explorer.plans(1), specialist)
    assert ready["role"].tolist()[0] == "Senior Specialist"
    assert ready["p_ready"].between(0, 1).all()
    assert person_readiness(explorer.plans(1), "nobody").empty
    assert isinstance(ready, pd.DataFrame)
