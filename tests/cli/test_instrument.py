"""``workbench calibrate`` on ratings with items writes the instrument's psychometrics."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from workbench.calibration.reliability.instrument import estimate_instrument_reliability
from workbench.cli import main
from workbench.synth.generator import generate_organisation


def test_calibrate_writes_instrument_tables_when_the_ratings_have_items(tmp_path, capsys):
    org = generate_organisation(40, seed=9, n_waves=1, items_per_skill=3)
    ratings = org.ratings.drop(columns=["date"])
    # one item answered against its scale, as an export read without its reverse keying
    flip = ratings["item"] == ratings["item"].iloc[0]
    ratings.loc[flip, "score"] = 6 - ratings.loc[flip, "score"]
    ratings.to_csv(tmp_path / "ratings.csv", index=False)
    assert main(["calibrate", str(tmp_path / "ratings.csv"), "--out",
                 str(tmp_path / "out"), "--instrument-boot", "20"]) == 0
    folder = tmp_path / "out" / "instrument"
    scales = pd.read_csv(folder / "instrument_scales.csv")
    direct = estimate_instrument_reliability(pd.read_csv(tmp_path / "ratings.csv"),
                                             scale=(1, 5), g_study=False, n_boot=0)
    pd.testing.assert_series_equal(scales["alpha"], direct.scales["alpha"], rtol=1e-12)
    assert (folder / "g_study_items_components.csv").exists()
    flags = pd.read_csv(folder / "instrument_flags.csv")
    assert ratings["item"].iloc[0] in set(flags.loc[flags["flag"] == "negative_item_rest",
                                                    "item"])
    assert "instrument: Item" in capsys.readouterr().err


def test_calibrate_without_items_writes_no_instrument_folder(tmp_path):
    org = generate_organisation(30, seed=9, n_waves=1)
    org.ratings.drop(columns=["date"]).to_csv(tmp_path / "ratings.csv", index=False)
    assert main(["calibrate", str(tmp_path / "ratings.csv"), "--out",
                 str(tmp_path / "out")]) == 0
    assert not (tmp_path / "out" / "instrument").exists()


def test_calibrate_refuses_a_negative_instrument_boot(tmp_path, capsys):
    assert main(["calibrate", str(tmp_path / "ratings.csv"), "--instrument-boot", "-1",
                 "--out", str(tmp_path / "out")]) == 2
    assert "--instrument-boot=-1" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_calibrate_on_a_survey_export_takes_reverse_keying_from_the_instrument(tmp_path):
    exports = Path(__file__).parents[1] / "fixtures" / "exports"
    assert main(["calibrate", str(exports / "qualtrics.csv"), "--mapping",
                 str(exports / "qualtrics.yaml"), "--instrument-boot", "0", "--out",
                 str(tmp_path / "out")]) == 0
    items = pd.read_csv(tmp_path / "out" / "instrument" / "instrument_items.csv")
    truth = pd.read_csv(exports / "truth_items.csv")
    assert set(items.loc[items["reversed"], "item"]) == set(truth.loc[truth["reverse"], "item"])
    # the reader reversed them: none runs against its competency
    assert (items.loc[items["source"] == "others", "item_rest_r"] > 0).all()
    assert set(items["item"]) == set(truth["item"])
