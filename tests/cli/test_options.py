"""Options that are not finite numbers, options that do not apply to the chosen model, and
inputs that do not overlap (issue 26): exit 2 with a message naming the option and value, no
traceback, no output folder, inputs unchanged."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.cli.conftest import digest
from workbench.cli import main

NON_FINITE = ["nan", "NaN", "inf", "-inf", "Infinity"]


def _refused(argv, capsys, *, out, inputs, named):
    before = digest(inputs)
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and "internal error" not in err
    for text in named:
        assert text in err, err
    assert not out.exists()
    assert digest(inputs) == before
    return err


@pytest.mark.parametrize("payload", NON_FINITE)
@pytest.mark.parametrize("position", [0, 1])
def test_profiles_scale_refuses_non_finite_bounds(org_dir, tmp_path, capsys, payload, position):
    """``--scale nan nan`` used to switch the off-scale check off and write NaN into
    settings.json; a bound starting with '-' reads as an option to argparse (exit 2 too)."""
    scale = ["1", "5"]
    scale[position] = payload
    scores = org_dir.parent / "scores.csv"
    out = tmp_path / "out"
    named = ["--scale"] if payload.startswith("-") else ["--scale=", "finite"]
    _refused(["profiles", str(scores), "--out", str(out), f"--scale={scale[0]}", scale[1]]
             if payload.startswith("-") and position == 0 else
             ["profiles", str(scores), "--out", str(out), "--scale", *scale],
             capsys, out=out, inputs=scores, named=named)


@pytest.mark.parametrize("option, value", [("--alpha", p) for p in NON_FINITE]
                         + [("--target-effect", p) for p in NON_FINITE]
                         + [("--error-correlation", p) for p in NON_FINITE])
def test_impact_refuses_non_finite_numbers(org_dir, tmp_path, capsys, option, value):
    out = tmp_path / "out"
    _refused(["impact", "--ratings", str(org_dir / "ratings.csv"), "--enrollments",
              str(org_dir / "enrollments.csv"), "--catalog", str(org_dir / "catalog.csv"),
              "--out", str(out), f"{option}={value}"],
             capsys, out=out, inputs=org_dir, named=[option])


@pytest.mark.parametrize("extra, named", [
    (["--method", "kmeans", "--models", "VVV"], ["--models", "--method lpa"]),
    (["--method", "ward", "--n-starts", "3"], ["--n-starts", "lpa or kmeans"]),
    (["--method", "ward", "--no-vlmr", "--blrt", "5"], ["--blrt", "--no-vlmr"]),
    (["--blrt", "-1"], ["--blrt=-1"]),
])
def test_profiles_options_the_method_does_not_use_are_errors(org_dir, tmp_path, capsys,
                                                             extra, named):
    scores = org_dir.parent / "scores.csv"
    out = tmp_path / "out"
    _refused(["profiles", str(scores), "--out", str(out), *extra], capsys, out=out,
             inputs=scores, named=named)


@pytest.mark.parametrize("extra, named", [
    (["--thresholds", "skill"], ["--thresholds applies only to --model rasch"]),
    (["--model", "linear", "--thresholds", "common"], ["--thresholds"]),
    (["--model", "rasch", "--terms", "ratee", "rater"], ["--terms applies only to --model linear"]),
    (["--model", "rasch", "--min-ratings", "2", "--vc-uncertainty", "none"],
     ["--min-ratings", "--vc-uncertainty", "leave them out"]),
])
def test_calibrate_options_of_the_other_model_are_errors(org_dir, tmp_path, capsys, extra,
                                                         named):
    out = tmp_path / "out"
    _refused(["calibrate", str(org_dir / "ratings.csv"), "--out", str(out), *extra], capsys,
             out=out, inputs=org_dir, named=named)


@pytest.mark.parametrize("rename", [lambda p: "X" + p, lambda p: p.replace("P", "E-"),
                                    lambda p: p + "-2025"])
def test_calibrate_people_without_any_ratee_is_exit_2(org_dir, tmp_path, capsys, rename):
    people = pd.read_csv(org_dir / "people.csv", dtype=str, keep_default_na=False)
    people["person"] = people["person"].map(rename)
    people["manager"] = ""
    path = tmp_path / "people.csv"
    people.to_csv(path, index=False)
    out = tmp_path / "out"
    _refused(["calibrate", str(org_dir / "ratings.csv"), "--people", str(path), "--out",
              str(out)], capsys, out=out, inputs=org_dir,
             named=["none of the", "ratees", "people.csv"])


def test_calibrate_people_with_little_overlap_states_it(org_dir, tmp_path, capsys):
    people = pd.read_csv(org_dir / "people.csv", dtype=str, keep_default_na=False).head(6)
    people["manager"] = ""
    path = tmp_path / "people.csv"
    people.to_csv(path, index=False)
    from tests.cli.conftest import digest as _digest
    before = _digest(org_dir)
    # the check runs before the fit; --model rasch with a half point stops right after it
    ratings = pd.read_csv(org_dir / "ratings.csv", dtype=str, keep_default_na=False)
    ratings.loc[0, "score"] = "3.5"
    ratings.to_csv(tmp_path / "ratings.csv", index=False)
    code = main(["calibrate", str(tmp_path / "ratings.csv"), "--people", str(path),
                 "--model", "rasch", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert "only 6 of the 60 ratees (10%) are in the people file" in err
    assert _digest(org_dir) == before


@pytest.mark.parametrize("values", [["3.5"], ["2.25", "4.75"], ["1.001", "3.5", "4.5"]])
def test_rasch_refuses_scores_between_the_scale_points_naming_every_row(
        org_dir, tmp_path, capsys, values):
    ratings = pd.read_csv(org_dir / "ratings.csv", dtype=str, keep_default_na=False)
    scored = [i for i in range(len(ratings)) if ratings.loc[i, "score"]][: len(values) * 7: 7]
    for i, value in zip(scored, values, strict=True):
        ratings.loc[i, "score"] = value
    path = tmp_path / "ratings.csv"
    ratings.to_csv(path, index=False)
    out = tmp_path / "out"
    err = _refused(["calibrate", str(path), "--model", "rasch", "--out", str(out)], capsys,
                   out=out, inputs=path, named=[f"{len(values)} error(s)"])
    for i, value in zip(scored, values, strict=True):
        assert f"ratings.csv, row {i + 2}, column 'score': not a whole number" in err
        assert f"(value: '{float(value):g}')" in err


def _shift(day: pd.Timestamp, years: int) -> str:
    return (day + pd.DateOffset(years=years)).strftime("%Y-%m-%d")


@pytest.mark.parametrize("years, side", [(3, "after"), (-3, "before"), (36, "after")])
def test_plans_start_far_from_the_ratings_is_refused_with_their_range(org_dir, tmp_path,
                                                                      capsys, years, side):
    dates = pd.to_datetime(pd.read_csv(org_dir / "ratings.csv")["date"])
    anchor = dates.max() if years > 0 else dates.min()
    out = tmp_path / "out"
    _refused(["plans", "--scores", str(org_dir.parent / "scores.csv"), "--people",
              str(org_dir / "people.csv"), "--framework", str(org_dir / "framework.csv"),
              "--catalog", str(org_dir / "catalog.csv"), "--ratings",
              str(org_dir / "ratings.csv"), "--start", _shift(anchor, years), "--out",
              str(out)], capsys, out=out, inputs=org_dir,
             named=[f"more than 2 years {side} the dates of the ratings",
                    f"({dates.min():%Y-%m-%d} to {dates.max():%Y-%m-%d})"])


@pytest.mark.parametrize("pre_years, post_years, side", [(-3, 0, "before"), (0, 3, "after"),
                                                         (-40, -40, "before")])
def test_impact_wave_dates_far_from_the_enrollments_are_refused(org_dir, tmp_path, capsys,
                                                                pre_years, post_years, side):
    enr = pd.read_csv(org_dir / "enrollments.csv")
    known = pd.to_datetime(pd.concat([enr["start"], enr["end"]])).dropna()
    first, last = known.min(), known.max()
    dates = f"1={_shift(first, pre_years)},2={_shift(last, post_years)}"
    out = tmp_path / "out"
    _refused(["impact", "--ratings", str(org_dir / "ratings.csv"), "--enrollments",
              str(org_dir / "enrollments.csv"), "--catalog", str(org_dir / "catalog.csv"),
              "--wave-dates", dates, "--raw-means", "--out", str(out)], capsys, out=out,
             inputs=org_dir, named=[f"more than 2 years {side} the dates of the enrollments",
                                    f"({first:%Y-%m-%d} to {last:%Y-%m-%d})"])


def test_impact_any_training_with_a_catalog_is_an_error(org_dir, tmp_path, capsys):
    out = tmp_path / "out"
    _refused(["impact", "--ratings", str(org_dir / "ratings.csv"), "--enrollments",
              str(org_dir / "enrollments.csv"), "--catalog", str(org_dir / "catalog.csv"),
              "--any-training", "--out", str(out)], capsys, out=out, inputs=org_dir,
             named=["--any-training", "does not use the catalog"])


@pytest.mark.parametrize("in_file, on_line", [(3, "1"), (1, "2")])
def test_plans_focus_given_twice_differently_is_an_error(org_dir, tmp_path, capsys, in_file,
                                                         on_line):
    config = tmp_path / "plans.yaml"
    config.write_text(f"n_focus: {in_file}\n")
    out = tmp_path / "out"
    _refused(["plans", "--scores", str(org_dir.parent / "scores.csv"), "--people",
              str(org_dir / "people.csv"), "--framework", str(org_dir / "framework.csv"),
              "--catalog", str(org_dir / "catalog.csv"), "--config", str(config), "--focus",
              on_line, "--out", str(out)], capsys, out=out, inputs=org_dir,
             named=[f"--focus {on_line}", f"n_focus: {in_file}", "once"])


@pytest.mark.parametrize("extra, named", [
    (["--probability", "nan"], ["--probability=nan", "finite"]),
    (["--probability", "inf"], ["--probability=inf", "finite"]),
    (["--open-role", "Manager", "--tie-margin", "nan"], ["--tie-margin=nan", "finite"]),
    (["--open-role", "Manager", "--tie-margin", "inf"], ["--tie-margin=inf", "finite"]),
    (["--tie-margin", "0.1"], ["--tie-margin", "--open-role"]),
])
def test_progression_options(org_dir, tmp_path, capsys, extra, named):
    out = tmp_path / "out"
    _refused(["progression", "--data", str(org_dir), "--out", str(out), *extra], capsys,
             out=out, inputs=org_dir, named=named)


def test_progression_with_an_open_role_runs(org_dir, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["progression", "--data", str(org_dir), "--out", str(out), "--open-role",
                 "Manager", "--tie-margin", "0.1"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert (out / "analyst" / "candidates.csv").is_file()


@pytest.mark.parametrize("blank_after", [1, 3])
def test_rasch_rows_count_blank_lines_as_the_file_shows_them(org_dir, tmp_path, capsys,
                                                            blank_after):
    lines = (org_dir / "ratings.csv").read_text().splitlines()
    lines.insert(blank_after + 1, "")  # a blank line after the header and blank_after rows
    column = lines[0].split(",").index("score")
    targets = [blank_after + 4, blank_after + 9]  # 1-based line numbers in the new file
    for line in targets:
        cells = lines[line - 1].split(",")
        cells[column] = "3.5"
        lines[line - 1] = ",".join(cells)
    path = tmp_path / "ratings.csv"
    path.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    err = _refused(["calibrate", str(path), "--model", "rasch", "--out", str(out)], capsys,
                   out=out, inputs=path, named=["2 error(s)"])
    for line in targets:
        assert f"ratings.csv, row {line}, column 'score': not a whole number" in err
