"""The demo organisation: its truth is consistent with its tables."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.cli import main
from workbench.errors import ConfigError
from workbench.synth.generator import SOURCE_OFFSETS, generate_organisation
from workbench.tables.data import load_organisation

DEMO = Path(__file__).resolve().parents[2] / "data" / "demo"


@pytest.fixture(scope="module")
def org():
    return generate_organisation(400, seed=5, rounding=None)


def _with_truth(org):
    truth = org.truth["true_scores"].rename(columns={"person": "ratee"})
    return org.ratings.merge(truth, on=["ratee", "skill", "wave"]).merge(
        org.truth["rater_effects"], on="rater"
    )


def test_lenient_raters_rate_above_the_truth(org):
    r = _with_truth(org)
    r = r[r["source"] != "self"]
    r["excess"] = r["score"] - r["true_score"]
    by_rater = r.groupby("rater").agg(excess=("excess", "mean"), leniency=("leniency", "first"))
    lenient = by_rater[by_rater["leniency"] > by_rater["leniency"].quantile(0.75)]
    severe = by_rater[by_rater["leniency"] < by_rater["leniency"].quantile(0.25)]
    assert lenient["excess"].mean() > 0.25
    assert severe["excess"].mean() < -0.25
    assert np.corrcoef(by_rater["excess"], by_rater["leniency"])[0, 1] > 0.7


def test_source_offsets_and_self_inflation(org):
    r = _with_truth(org)
    r["excess"] = r["score"] - r["true_score"] - r["leniency"]
    offsets = r.groupby("source")["excess"].mean()
    for source, offset in SOURCE_OFFSETS.items():
        assert offsets[source] == pytest.approx(offset, abs=0.06), source
    # The non-self offsets average to zero: the true score is the "others" reference.
    assert np.mean([v for k, v in SOURCE_OFFSETS.items() if k != "self"]) == pytest.approx(0)


def test_halo_is_shared_across_skills(org):
    r = _with_truth(org)
    r = r.merge(org.truth["halo"], on=["rater", "ratee"])
    r["excess"] = r["score"] - r["true_score"] - r["leniency"] - r["source"].map(SOURCE_OFFSETS)
    pair = r.groupby(["rater", "ratee"]).agg(excess=("excess", "mean"), halo=("halo", "first"))
    assert np.corrcoef(pair["excess"], pair["halo"])[0, 1] > 0.4


def test_profiles_shape_true_scores(org):
    truth = org.truth["true_scores"].query("wave == 1").merge(
        org.truth["profiles"], on="person"
    )
    means = truth.groupby(["profile_name", "skill"])["true_score"].mean().unstack()
    assert means.loc["Strategist", "Strategic Thinking"] > means.loc["Strategist", "Delegation"] + 0.8
    assert means.loc["Newcomer"].mean() < means.drop(index="Newcomer").to_numpy().mean()
    sizes = org.truth["profiles"]["profile"].value_counts(normalize=True)
    assert len(sizes) == 4 and sizes.min() > 0.1


def test_training_raises_true_scores_of_completers(org):
    enr = org.enrollments
    truth = org.truth["true_scores"].pivot_table(
        index=["person", "skill"], columns="wave", values="true_score"
    )
    gain = (truth[2] - truth[1]).rename("gain").reset_index()
    targets = org.catalog[["activity", "skill"]]
    done = enr[enr["completed"]].merge(targets, on="activity")[["person", "skill"]]
    done = done.drop_duplicates().assign(trained=True)
    gain = gain.merge(done, on=["person", "skill"], how="left").fillna({"trained": False})
    trained = gain.loc[gain["trained"].astype(bool), "gain"].mean()
    untrained = gain.loc[~gain["trained"].astype(bool), "gain"].mean()
    effect = org.truth["training_effects"]["effect"].mean()
    assert untrained == pytest.approx(0.05, abs=0.02)
    assert trained - untrained == pytest.approx(effect, abs=0.1)


def test_people_with_larger_gaps_train_more(org):
    truth = org.truth["true_scores"].query("wave == 1").groupby("person")["true_score"].mean()
    trained = truth.index.isin(org.enrollments["person"])
    assert truth[trained].mean() < truth[~trained].mean()


def test_same_seed_same_organisation():
    a = generate_organisation(60, seed=9)
    b = generate_organisation(60, seed=9)
    c = generate_organisation(60, seed=10)
    pd.testing.assert_frame_equal(a.ratings, b.ratings)
    assert not a.ratings["score"].equals(c.ratings["score"])


def test_committed_demo_is_the_generator_output():
    # workbench demo-data --out data/demo --people 300 --seed 2026 --items 3 --export qualtrics
    demo = load_organisation(DEMO)
    fresh = generate_organisation(300, seed=2026, items_per_skill=3)
    order = {item: k for k, item in enumerate(fresh.instrument["item"])}
    ratings = (fresh.ratings.assign(_k=fresh.ratings["item"].map(order))
               .sort_values(["wave", "ratee", "rater", "_k"], kind="stable"))
    assert len(demo.ratings) == len(ratings)
    np.testing.assert_array_equal(demo.ratings["score"], ratings["score"])
    assert demo.ratings["rater"].tolist() == ratings["rater"].tolist()
    assert demo.ratings["item"].tolist() == ratings["item"].tolist()
    truth = pd.read_csv(DEMO / "truth" / "rater_effects.csv")
    np.testing.assert_allclose(truth["leniency"], fresh.truth["rater_effects"]["leniency"])
    items = pd.read_csv(DEMO / "truth" / "items.csv")
    np.testing.assert_allclose(items["difficulty"], fresh.truth["items"]["difficulty"])


def test_the_demo_ships_both_ways():
    """The engagement file reads the Qualtrics export; it gives the long file's ratings."""
    from workbench.runs.engagement import load_engagement

    engagement = load_engagement(DEMO / "engagement.yaml")
    assert engagement.files["ratings"].name == "survey_export.csv"
    from_export = engagement.load_organisation()
    pd.testing.assert_frame_equal(from_export.ratings, load_organisation(DEMO).ratings)
    assert from_export.survey.shape == "qualtrics"
    assert from_export.item_counts["n_not_observed"].sum() > 0


def test_items_do_not_change_the_rest_of_the_organisation():
    plain = generate_organisation(60, seed=4)
    items = generate_organisation(60, seed=4, items_per_skill=4)
    for table in ("people", "framework", "catalog", "enrollments"):
        pd.testing.assert_frame_equal(getattr(plain, table), getattr(items, table))
    for name, frame in plain.truth.items():
        pd.testing.assert_frame_equal(frame, items.truth[name])
    assert "item" not in plain.ratings and plain.instrument is None
    per_pair = items.ratings.groupby(["ratee", "rater", "skill", "wave"])["item"].nunique()
    assert per_pair.max() == 4
    assert items.instrument["reverse"].eq("yes").sum() == 2


def test_item_difficulties_are_recovered():
    """Each item's mean minus its skill's mean estimates the item's known difficulty."""
    org = generate_organisation(400, seed=6, n_waves=1, items_per_skill=4, rounding=None,
                                missing_rate=0.0)
    r = org.ratings
    item_mean = r.groupby("item")["score"].mean()
    skill_mean = r.groupby("skill")["score"].mean()
    truth = org.truth["items"].set_index("item")
    estimate = item_mean[truth.index] - skill_mean[truth["skill"]].to_numpy()
    # SE of an item mean here is about sd_item / sqrt(n ratings) ~ 0.35 / sqrt(2,600) ~ 0.007;
    # clipping to the 1-5 scale pulls the largest difficulties in by a few hundredths
    np.testing.assert_allclose(estimate, truth["difficulty"], atol=0.06)
    assert np.corrcoef(estimate, truth["difficulty"])[0, 1] > 0.99


def test_generated_tables_pass_validation(tmp_path):
    org = generate_organisation(80, seed=2, n_skills=10, n_profiles=5)
    org.write(tmp_path / "org", fmt="parquet")
    loaded = load_organisation(tmp_path / "org")
    assert not loaded.warnings
    assert loaded.ratings["skill"].nunique() == 10
    assert (loaded.ratings["score"] % 1 == 0).all()


def test_bad_generator_arguments_are_named():
    with pytest.raises(ConfigError, match="n_skills=12"):
        generate_organisation(100, n_skills=12)
    with pytest.raises(ConfigError, match="too small"):
        generate_organisation(10)


def test_cli_demo_data_never_overwrites(tmp_path, capsys):
    out = tmp_path / "org"
    assert main(["demo-data", "--out", str(out), "--people", "50", "--seed", "1"]) == 0
    assert (out / "truth" / "true_scores.csv").exists()
    assert main(["demo-data", "--out", str(out), "--people", "50"]) == 2
    assert "already holds files" in capsys.readouterr().err


def test_one_wave_organisation_round_trips(tmp_path):
    org = generate_organisation(60, seed=4, n_waves=1)
    org.write(tmp_path / "one")
    loaded = load_organisation(tmp_path / "one")
    assert loaded.enrollments is None
    assert loaded.waves == [1]


def test_an_activity_targeting_several_skills_counts_once_per_person():
    """A programme that targets both skills a person is sent to train is taken (and its
    effect gained) once: the gain of every completer is the truth's effect of one completion."""
    from workbench.synth.generator import _train

    n = 400
    people = pd.DataFrame({"person": [f"P{i}" for i in range(n)], "role": "Specialist"})
    framework = pd.DataFrame({"role": "Specialist", "skill": ["A", "B"],
                              "required_level": 4.0})
    catalog = pd.DataFrame({"activity": "X", "skill": ["A", "B"], "weeks": 4})
    effects = pd.DataFrame({"activity": "X", "skill": ["A", "B"], "effect": [0.3, 0.2]})
    true1 = np.full((n, 2), 2.0)  # everyone far below the requirement: most train
    enrollments, gain = _train(people, framework, catalog, effects, true1, ["A", "B"], 1.0,
                               [pd.Timestamp("2026-01-19"), pd.Timestamp("2026-07-13")],
                               np.random.default_rng(3))
    assert not enrollments.duplicated(["person", "activity"]).any()
    completers = people["person"].isin(enrollments.loc[enrollments["completed"], "person"])
    assert completers.sum() > 100
    np.testing.assert_allclose(gain[completers.to_numpy()], [[0.3, 0.2]] * completers.sum())
    np.testing.assert_array_equal(gain[~completers.to_numpy()], 0.0)


def test_cli_demo_data_writes_the_survey_both_ways(tmp_path, capsys):
    from workbench.cli import main

    out = tmp_path / "org"
    assert main(["demo-data", "--out", str(out), "--people", "40", "--seed", "3", "--items",
                 "2", "--export", "grid"]) == 0
    long = load_organisation(out)
    export = load_organisation(out, ratings=out / "survey_export.csv",
                               mapping=out / "survey_mapping.yaml")
    pd.testing.assert_frame_equal(export.ratings, long.ratings)
    assert export.survey.shape == "grid"
    assert main(["demo-data", "--out", str(tmp_path / "b"), "--export", "grid"]) == 2
    assert "--export needs --items" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()
