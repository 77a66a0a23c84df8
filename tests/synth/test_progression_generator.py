"""The generator's progression option: other tables unchanged, truth consistent with the data."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.synth import generate_organisation, write_organisation
from workbench.synth.progression import DATA_END
from workbench.tables import load_table


def test_progression_leaves_every_other_table_unchanged():
    plain = generate_organisation(120, seed=7)
    more = generate_organisation(120, seed=7, progression=True)
    for name in ("ratings", "framework", "catalog", "enrollments", "scale"):
        pd.testing.assert_frame_equal(getattr(plain, name), getattr(more, name))
    pd.testing.assert_frame_equal(plain.people, more.people.drop(columns="target_role"))
    assert plain.paths is None and "progression" not in plain.params
    assert more.params["progression"] is True


def test_outcomes_follow_the_stated_truth(tmp_path):
    org = generate_organisation(200, seed=2, progression=True)
    out = org.outcomes
    assert set(out["metric"]) == {"performance", "customer_score", "quality_errors", "left"}
    left = out[out["metric"] == "left"]
    assert (pd.to_datetime(left["date"]) <= DATA_END).all() and left["person"].is_unique
    post = out[(out["period"] == "2026-H2") & (out["metric"] == "performance")]
    true1 = org.truth["true_scores"].query("wave == 1").pivot(index="person", columns="skill",
                                                               values="true_score")
    merged = post.set_index("person")["value"].reindex(true1.index)
    validity = org.truth["validity"].query("metric == 'performance'").set_index("skill")
    for skill in true1.columns:
        assert np.isclose(np.corrcoef(true1[skill], merged)[0, 1],
                          validity.at[skill, "estimate"])
    effects = org.truth["outcome_effects"].query("metric == 'customer_score'")
    assert (effects["effect"] == 0).any() and (effects["effect"] > 0).any()
    folder = write_organisation(org, tmp_path / "org")
    assert len(load_table(folder / "outcomes.csv", "outcomes")) == len(out)
    assert load_table(folder / "people.csv", "people")["target_role"].notna().sum() > 0
