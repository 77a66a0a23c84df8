"""The impact panel: waves named and checked, training counted only between the assessments,
no per-skill effects without a catalog, exit 2 when nobody can be compared (issue 14)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest

from workbench.errors import ConfigError, InputError
from workbench.impact import (
    assessment_dates,
    choose_waves,
    estimate_impact,
    prepare_panel,
    training_records,
)
from workbench.synth import generate_organisation, truth_scores


@pytest.fixture(scope="module")
def small():
    org = generate_organisation(120, seed=21)
    return org, truth_scores(org, se=0.2, random_state=21)


def _mistype(scores, value="x"):
    bad = scores.copy()
    bad["wave"] = bad["wave"].astype(object)
    bad.loc[bad.index[5], "wave"] = value
    return bad


def test_a_mistyped_wave_is_refused_and_named(small):
    org, scores = small
    for value in ("x", 3):
        with pytest.raises(InputError, match=f"wave {value!r} has 1 row"):
            estimate_impact(_mistype(scores, value), org.enrollments, catalog=org.catalog)


def test_named_waves_are_used_and_reported(small):
    org, scores = small
    res = estimate_impact(_mistype(scores), org.enrollments, catalog=org.catalog,
                          waves="1,2", did=False)
    assert (res.settings["pre_wave"], res.settings["post_wave"]) == (1, 2)
    assert "Survey rounds compared: 1 (before) -> 2 (after)" in res.summary()
    with pytest.raises(ConfigError, match="'7' not among the waves"):
        estimate_impact(scores, org.enrollments, catalog=org.catalog, waves=(1, 7))
    with pytest.raises(ConfigError, match="two different waves"):
        estimate_impact(scores, org.enrollments, catalog=org.catalog, waves="1")


def test_three_real_waves_need_to_be_named(small):
    org, scores = small
    third = scores[scores["wave"] == 2].assign(wave=3)
    with pytest.raises(ConfigError, match="3 waves"):
        choose_waves(pd.concat([scores, third]))
    assert choose_waves(pd.concat([scores, third]), ["1", "3"]) == (1, 3)


def test_training_after_the_post_survey_is_not_credited(small):
    org, scores = small
    late = org.enrollments.copy()
    # half of the learners start after everyone's post ratings: no effect can be theirs
    moved = late["person"].isin(late["person"].drop_duplicates().iloc[::2])
    late.loc[moved, "start"] = "2026-09-01"
    late.loc[moved, "end"] = "2026-10-01"
    panel = prepare_panel(scores, late, catalog=org.catalog, dates=org.ratings)
    movers = set(late.loc[moved, "person"])
    assert not panel.loc[panel["person"].isin(movers), "trained"].any()
    assert panel.loc[~panel["person"].isin(movers), "trained"].any()
    assert panel.attrs["n_outside"] == int(moved.sum())
    res = estimate_impact(scores, late, catalog=org.catalog, dates=org.ratings, did=False)
    assert any("ignored" in n and "between the pre and post assessments" in n
               for n in res.notes)
    # the same with one date per wave given by the analyst
    res = estimate_impact(scores, late, catalog=org.catalog, did=False,
                          dates="1=2026-01-19, 2=2026-07-13")
    assert res.panel.attrs["n_outside"] == int(moved.sum())
    # an enrollment that spans the post survey is a partial dose, like an unfinished one
    spans = org.enrollments.assign(end="2026-08-30")
    records = training_records(spans, catalog=org.catalog,
                               windows=assessment_dates(org.ratings, pre_wave=1,
                                                        post_wave=2)[0])
    assert set(records["timing"]) == {"overlaps"} and set(records["dose"]) == {"partial"}


def test_without_dates_the_result_says_they_were_not_checked(small):
    org, scores = small
    res = estimate_impact(scores, org.enrollments, catalog=org.catalog, did=False)
    assert not res.settings["dates_checked"]
    assert "could not be checked (no assessment dates were given)" in res.summary()
    res = estimate_impact(scores, org.enrollments, catalog=org.catalog, did=False,
                          dates=org.ratings.drop(columns="date"))
    assert "could not be checked (the ratings have no date column)" in res.summary()
    with pytest.raises(ConfigError, match="no date for wave"):
        estimate_impact(scores, org.enrollments, catalog=org.catalog, dates="1=2026-01-19")


def test_without_a_catalog_per_skill_effects_are_refused_or_labelled(small):
    org, scores = small
    with pytest.raises(ConfigError, match="--catalog"):
        estimate_impact(scores, org.enrollments)
    res = estimate_impact(scores, org.enrollments, training="any", did=False)
    assert res.effects_by_skill["training"].eq("any").all()
    assert res.individual_change["training"].eq("any").all()
    assert res.effects_by_activity.empty
    text = res.summary()
    assert "completed any activity (no catalog" in text and "effect of any training" in text


def test_nobody_trained_or_every_enrollee_unknown_is_an_error(small):
    org, scores = small
    nobody = org.enrollments.assign(completed=False)
    with pytest.raises(InputError, match="nobody completed training between the two waves"):
        estimate_impact(scores, nobody, catalog=org.catalog)
    strangers = org.enrollments.assign(person="Z" + org.enrollments["person"])
    with pytest.raises(InputError, match="none of the .* people in the enrollments has scores"):
        estimate_impact(scores, strangers, catalog=org.catalog)
    after = org.enrollments.assign(start="2026-09-01", end="2026-10-01")
    with pytest.raises(InputError, match="outside the pre-post window"):
        estimate_impact(scores, after, catalog=org.catalog, dates=org.ratings)


def test_cli_waves_catalog_and_nobody_trained(tmp_path, capsys):
    from workbench.cli import main

    org = generate_organisation(100, seed=22)
    folder = org.write(tmp_path / "in")
    ratings = pd.read_csv(folder / "ratings.csv", dtype={"wave": str})
    ratings.loc[7, "wave"] = "3"  # a number, so the reader takes it as a wave
    ratings.to_csv(tmp_path / "ratings.csv", index=False)
    base = ["impact", "--ratings", str(tmp_path / "ratings.csv"),
            "--enrollments", str(folder / "enrollments.csv"),
            "--catalog", str(folder / "catalog.csv"), "--raw-means"]
    assert main([*base, "--out", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err
    # the ratings reader names the file, row and wave
    assert "wave 3 has only 1 rating(s)" in err and "row " in err and "--waves" in err
    assert "Traceback" not in err
    assert not (tmp_path / "a").exists()
    assert main([*base, "--waves", "1", "2", "--out", str(tmp_path / "b")]) == 0
    assert "Survey rounds compared: 1 (before) -> 2 (after)" in (tmp_path / "b" / "summary.txt").read_text()
    assert (tmp_path / "b" / "settings.json").exists()
    no_catalog = [a for a in base if a not in ("--catalog", str(folder / "catalog.csv"))]
    assert main([*no_catalog, "--waves", "1", "2", "--out", str(tmp_path / "c")]) == 2
    assert "--catalog" in capsys.readouterr().err
    pd.read_csv(folder / "enrollments.csv").assign(completed=False).to_csv(
        tmp_path / "enrollments.csv", index=False)
    nobody = [*base, "--waves", "1", "2", "--out", str(tmp_path / "d")]
    nobody[4] = str(tmp_path / "enrollments.csv")
    assert main(nobody) == 2
    assert "nobody completed training" in capsys.readouterr().err
