"""Impact on small and degenerate organisations (issue 26): a clear InputError naming what is
too small and the minimum, or a valid result; never NaN-only tables or a p-value computed from
rounding noise.

The scores are known truth from ``workbench.synth`` (true score plus noise of a known SE),
cut down to a few people or flattened."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.errors import InputError
from workbench.impact.panel import MIN_GROUP
from workbench.impact.result import estimate_impact
from workbench.synth.generator import generate_organisation
from workbench.synth.truth import truth_scores


@pytest.fixture(scope="module")
def org():
    return generate_organisation(40, seed=11)


def _scores(org):
    return truth_scores(org, se=0.2, random_state=1).drop(columns=["true_score"])


def _estimate(org, scores, enrollments=None):
    return estimate_impact(scores, org.enrollments if enrollments is None else enrollments,
                           people=org.people, catalog=org.catalog, dates=org.ratings,
                           cluster=None)


@pytest.mark.parametrize("n_people", [1, 2, 3])
def test_a_handful_of_people_is_refused_stating_the_minimum(org, n_people):
    scores = _scores(org)
    # people who completed training, so that the refusal is about the size of the groups
    done = org.enrollments["completed"].astype(str).str.lower().isin(["true", "1"])
    keep = sorted(set(org.enrollments.loc[done, "person"]) & set(scores["person"]))[:n_people]
    with pytest.raises(InputError, match=f"too few people to compare.*{MIN_GROUP} people who "
                       f"trained and {MIN_GROUP} who did not.*people with both waves: "
                       f"{n_people}"):
        _estimate(org, scores[scores["person"].isin(keep)])


def test_one_trained_person_per_skill_is_refused(org):
    """Everyone's enrollments but one per activity dropped: no skill has two trained people."""
    enr = org.enrollments.drop_duplicates("activity")
    enr = enr.drop_duplicates("person")
    catalog_skills = org.catalog.groupby("activity")["skill"].first()
    assert enr["activity"].map(catalog_skills).value_counts().max() >= 1
    enr = enr[~enr["activity"].map(catalog_skills).duplicated()]
    with pytest.raises(InputError, match="too few people to compare"):
        _estimate(org, _scores(org), enrollments=enr)


@pytest.mark.parametrize("value", [3.0, 1.0, 4.5])
@pytest.mark.parametrize("n_flat", [1, 3])
def test_every_skill_with_flat_pre_scores_is_named(org, value, n_flat):
    scores = _scores(org)
    skills = sorted(scores["skill"].unique())[:n_flat]
    flat = (scores["wave"] == 1) & scores["skill"].isin(skills)
    scores.loc[flat, "score"] = value
    with pytest.raises(InputError) as caught:
        _estimate(org, scores)
    named = [p.message for p in caught.value.problems]
    assert len(named) == n_flat
    for skill, message in zip(skills, named, strict=True):
        assert message.startswith(f"skill {skill!r}: every pre score is the same")
    assert {p.value for p in caught.value.problems} == {f"{value:g}"}


def test_the_whole_organisation_still_gives_finite_estimates(org):
    res = _estimate(org, _scores(org))
    ancova = res.effects_by_skill.query("method == 'ancova'")
    has_groups = (ancova["n_trained"] >= MIN_GROUP) & (ancova["n_untrained"] >= MIN_GROUP)
    assert has_groups.any()
    assert np.isfinite(ancova.loc[has_groups, ["estimate", "se"]].to_numpy(dtype=float)).all()


@pytest.mark.parametrize("n_people", [8, 12])
def test_a_small_organisation_with_two_per_group_is_a_valid_result(org, n_people):
    scores = _scores(org)
    trained = set(org.enrollments.loc[org.enrollments["completed"].astype(str)
                                      .str.lower().isin(["true", "1"]), "person"])
    people = sorted(scores["person"].unique())
    keep = [p for p in people if p in trained][: n_people // 2] + \
        [p for p in people if p not in trained][: n_people // 2]
    # MIN_GROUP is 2: with n_people // 2 >= 4 in each group a refusal would be wrong, not valid.
    assert n_people // 2 >= 2 * MIN_GROUP
    res = _estimate(org, scores[scores["person"].isin(keep)])
    assert isinstance(res.effects_by_skill, pd.DataFrame) and not res.effects_by_skill.empty
