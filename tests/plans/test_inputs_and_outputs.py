"""Hostile inputs (issue 14) and the outputs a person reads (issue 15): pages, names, CLI."""

from __future__ import annotations

import hashlib
import json
import re

import numpy as np
import pandas as pd
import pytest

from workbench.errors import InputError
from workbench.plans import (
    MAX_STEM,
    build_plans,
    focus_display_table,
    plan_display_table,
    write_plans,
)
from workbench.synth import truth_scores
from workbench.synth.generator import generate_organisation

START = "2027-01-04"


@pytest.fixture(scope="module")
def org():
    return generate_organisation(60, seed=21, n_waves=1)


@pytest.fixture(scope="module")
def scores(org):
    return truth_scores(org, se=0.2, wave=1, random_state=21).drop(columns="true_score")


@pytest.fixture(scope="module")
def planset(org, scores):
    return build_plans(scores, org.people, org.framework, org.catalog, ratings=org.ratings,
                       start=START)


def _files(tmp_path, **frames):
    paths = {}
    for name, frame in frames.items():
        paths[name] = tmp_path / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    return paths


def _hashes(paths):
    return {k: hashlib.sha256(p.read_bytes()).hexdigest() for k, p in paths.items()}


def _cli(paths, out, *extra):
    from workbench.cli import main

    return main(["plans", "--scores", str(paths["scores"]), "--people", str(paths["people"]),
                 "--framework", str(paths["framework"]), "--catalog", str(paths["catalog"]),
                 "--start", START, "--out", str(out), *extra])


# ------------------------------------------------------------------------------------------
# Scores off the scale; nobody planned
# ------------------------------------------------------------------------------------------


def test_scores_off_the_scale_are_refused_with_every_row(org, scores, tmp_path, capsys):
    bad = scores.copy()
    bad.loc[[3, 10], "score"] = [17.0, -4.0]
    with pytest.raises(InputError) as err:
        build_plans(bad, org.people, org.framework, org.catalog, start=START)
    text = str(err.value)
    assert "row 5" in text and "row 12" in text and "off the rating scale (1 to 5" in text
    # a calibrated score slightly beyond the scale is fine
    near = scores.copy()
    near.loc[3, "score"] = 5.3
    build_plans(near, org.people, org.framework, org.catalog, start=START,
                config={"mentors": False})
    # on a 1-10 scale, 7 is fine and 17 is not
    build_plans(scores.assign(score=scores["score"] * 2), org.people, org.framework,
                org.catalog.assign(level_from=org.catalog["level_from"] * 2,
                                   level_to=org.catalog["level_to"] * 2),
                scale=(1, 10), start=START, config={"mentors": False})
    paths = _files(tmp_path, scores=bad, people=org.people, framework=org.framework,
                   catalog=org.catalog)
    before = _hashes(paths)
    assert _cli(paths, tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert "scores.csv, row 5, column 'score'" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    assert _hashes(paths) == before


def test_cli_scale_option_lets_a_hundred_point_scale_in(org, scores, tmp_path, capsys):
    """Scores and levels on 0-100: refused on the default scale (the message says how to set
    it), planned with --scale 0 100."""
    def hundred(frame, columns):
        return frame.assign(**{c: (frame[c] - 1) * 25 for c in columns})

    paths = _files(tmp_path, scores=hundred(scores, ["score"]).assign(se=scores["se"] * 25),
                   people=org.people, framework=hundred(org.framework, ["required_level"]),
                   catalog=hundred(org.catalog, ["level_from", "level_to"]))
    assert _cli(paths, tmp_path / "refused") == 2
    err = capsys.readouterr().err
    assert "1 to 5, the default; set another with" in err and "--scale" in err
    assert _cli(paths, tmp_path / "out", "--scale", "0", "100") == 0
    capsys.readouterr()
    settings = json.loads((tmp_path / "out" / "settings.json").read_text())
    assert settings["scale"] == [0, 100]
    focus = pd.read_csv(tmp_path / "out" / "focus.csv")
    assert focus["required_level"].between(0, 100).all() and len(focus) > 0


def test_ids_read_as_numbers_exit_2_with_the_reason(org, scores, tmp_path, capsys):
    people = org.people.assign(person=[f"{k:03d}" for k in range(1, len(org.people) + 1)])
    mapping = dict(zip(org.people["person"], people["person"], strict=True))
    numeric = scores.assign(person=scores["person"].map(mapping).astype(int))
    with pytest.raises(InputError, match="leading zeros"):
        build_plans(numeric, people, org.framework, org.catalog, start=START)
    paths = _files(tmp_path, scores=numeric, people=people, framework=org.framework,
                   catalog=org.catalog)
    assert _cli(paths, tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert "nobody could be planned" in err and "Traceback" not in err
    with pytest.raises(InputError, match="roles of the scored people"):
        build_plans(scores, org.people, org.framework.assign(role="Astronaut"), org.catalog)


# ------------------------------------------------------------------------------------------
# Page file names
# ------------------------------------------------------------------------------------------


def test_very_long_and_odd_ids_get_safe_bounded_unique_page_names(org, scores, tmp_path):
    odd = ["x" * 300, "x" * 300 + "y", "A/B", "a_b", "A_B", "CON", "ünï cödé", "..", "P 1"]
    mapping = dict(zip(org.people["person"], odd + list(org.people["person"][len(odd):]),
                       strict=True))
    people = org.people.assign(person=org.people["person"].map(mapping),
                               manager=org.people["manager"].map(mapping))
    sc = scores.assign(person=scores["person"].map(mapping))
    ps = build_plans(sc, people, org.framework, org.catalog, start=START,
                     config={"mentors": False})
    out = write_plans(ps, tmp_path / "odd", figures=False, excel=False)
    pages = sorted((out / "people").glob("*.html"))
    assert len(pages) == len(people)
    names = [p.stem for p in pages]
    assert len({n.lower() for n in names}) == len(names)
    assert all(len(n) <= MAX_STEM and re.fullmatch(r"[A-Za-z0-9._~-]+", n) for n in names)
    assert not any(n.lower() == "con" for n in names)
    record = {r["person"]: r.get("page", r["person"]) for r in json.loads(
        (out / "plans.json").read_text(encoding="utf-8"))["people"]}
    assert set(record) == set(people["person"])
    assert set(record.values()) == set(names)
    long_page = (out / "people" / f"{record['x' * 300]}.html").read_text(encoding="utf-8")
    assert "x" * 300 in long_page  # the page still shows the full id


# ------------------------------------------------------------------------------------------
# What a person reads
# ------------------------------------------------------------------------------------------


def test_person_page_is_styled_printable_and_says_why_and_where_gains_come_from(planset):
    person = planset.focus["person"].iloc[0]
    page = planset.page(person, fmt="html")
    assert "@media print" in page and "@page" in page and "#1f3a5f" in page
    assert "<header>" in page and "<section>" in page
    visible = re.sub(r"<style>.*?</style>", "", page, flags=re.S)
    visible = re.sub(r"<[^>]+>", " ", visible)
    assert "direct_report" not in visible and "stretch_assignment" not in visible
    assert "role_play" not in visible and "00:00:00" not in visible
    f = planset.focus[planset.focus["person"] == person].iloc[0]
    assert "Probability that the true level is below the destination" in visible
    p = f["p_below"]  # a model's probability is never shown as certain
    assert (("over 99%" if p > 0.99 else "under 1%" if p < 0.01 else f"{p:.0%}") in visible)
    assert "100%" not in visible and " 0%" not in visible
    assert "Priority (weight x expected shortfall)" in visible
    assert "conservative default of 0.1 points per activity" in visible
    for rater in planset.source_scores.columns:
        assert rater != "rater"


def test_pages_show_no_rater_ids(org, planset, tmp_path):
    from workbench.reporting.disclosure import rater_id_leaks

    out = write_plans(planset, tmp_path / "conf", figures=False)
    leaks = rater_id_leaks(out, org.ratings["rater"].unique(), people=org.people)
    assert leaks.empty, leaks.head().to_string()
    people = set(org.people["person"])
    raters_only = set(org.ratings["rater"]) - people
    texts = [p.read_text(encoding="utf-8") for p in (out / "people").glob("*")]
    texts.append((out / "plans.json").read_text(encoding="utf-8"))
    everything = "\n".join(texts)
    for rater in raters_only:
        assert rater not in everything
    # a person's page names their own id and mentors, never who rated them
    for path in list((out / "people").glob("*.md"))[:20]:
        text = path.read_text(encoding="utf-8")
        person = re.search(r"^# Learning plan: (.+)$", text, flags=re.M).group(1)
        raters = set(org.ratings.loc[org.ratings["ratee"] == person, "rater"]) - {person}
        mentors = set(planset.focus.loc[planset.focus["person"] == person, "mentor"].dropna())
        for rater in raters - mentors:
            assert not re.search(rf"\b{re.escape(rater)}\b", text)


def test_display_tables_are_tidy(planset):
    person = planset.plans.groupby("person").size().idxmax()
    table = plan_display_table(planset, person)
    assert not any("_" in c for c in table.columns)
    goals = table["12-week goal"][table["12-week goal"] != ""]
    n_skills = planset.focus.loc[planset.focus["person"] == person, "skill"].nunique()
    assert len(goals) == n_skills  # one goal per skill, not per activity
    assert table["From"].str.fullmatch(r"\d{1,2} [A-Z][a-z]{2} \d{4}").all()
    assert not table["Type"].str.contains("_").any()
    why = focus_display_table(planset, person)
    assert {"Gap", "P(true level below requirement)", "Weight", "Priority"} <= set(why.columns)
    assert len(why) == n_skills
    with pytest.raises(InputError, match="not in the plans' people"):
        plan_display_table(planset, "nobody")


def test_save_and_write_plans_give_the_same_files(planset, tmp_path):
    a = planset.save(tmp_path / "a", figures=False)
    b = write_plans(planset, tmp_path / "b", figures=False)
    assert sorted(p.name for p in a.iterdir()) == sorted(p.name for p in b.iterdir())
    lms = pd.read_csv(a / "plans.csv")
    assert lms["start"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert {"gain", "gain_se", "gain_source", "target_level", "destination_level"} <= set(
        lms.columns)
    settings = json.loads((a / "settings.json").read_text(encoding="utf-8"))
    assert settings["start"] == START and settings["gain_sources"] == ["default"]


def test_cli_with_impact_file(org, scores, tmp_path, capsys):
    effects = pd.DataFrame({"activity": org.catalog["activity"], "skill": org.catalog["skill"],
                            "estimate": 0.3, "se": 0.05, "n": 12})
    paths = _files(tmp_path, scores=scores, people=org.people, framework=org.framework,
                   catalog=org.catalog, impact=effects)
    assert _cli(paths, tmp_path / "out", "--impact", str(paths["impact"])) == 0
    plans = pd.read_csv(tmp_path / "out" / "plans.csv")
    assert set(plans["gain_source"]) == {"measured"} and np.allclose(plans["gain"], 0.3)
    assert _cli(paths, tmp_path / "out2", "--seed", "-1") == 2
    assert "--seed" in capsys.readouterr().err
