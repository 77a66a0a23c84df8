"""Options that are not finite numbers, options that do not apply to the chosen model, and
inputs that do not overlap (issue 26): exit 2 with a message naming the option and value, no
traceback, no output folder, inputs unchanged."""

from __future__ import annotations

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
