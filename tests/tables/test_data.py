"""Data contracts: loaders, validation reports, encodings, formats and the column mapping."""

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.cli import main
from workbench.errors import ConfigError, InputError
from workbench.tables.data import (
    ColumnMapping,
    load_organisation,
    load_ratings,
    load_table,
    summarise_organisation,
)

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "data" / "demo"
BROKEN = Path(__file__).resolve().parents[1] / "fixtures" / "broken"


def _digest(folder: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def test_demo_organisation_loads_and_summarises():
    org = load_organisation(DEMO)
    assert len(org.people) == 300
    assert set(org.ratings["source"]) == {"self", "manager", "peer", "direct_report"}
    assert org.waves == [1, 2]
    assert not [p for p in org.problems if p.severity == "error"]
    summary = summarise_organisation(org)
    overview = dict(zip(summary.overview["quantity"], summary.overview["n"], strict=True))
    assert overview["ratings"] == len(org.ratings)
    assert overview["skills"] == 8
    assert (summary.coverage_per_skill["coverage"] > 0.95).all()
    assert "Ratings per source" in summary.summary()


def test_broken_folder_lists_every_problem_at_once():
    before = _digest(BROKEN)
    with pytest.raises(InputError) as info:
        load_organisation(BROKEN)
    problems = info.value.problems
    errors = [p for p in problems if p.severity == "error"]
    messages = " | ".join(str(p) for p in problems)
    kinds = {
        "empty file": "the file is empty",
        "missing column": "required column 'team' is missing",
        "unknown source": "unknown source label",
        "score off scale": "'score' is off the rating scale",
        "score not numeric": "'score' is not a finite number",
        "duplicate rating": "duplicate rating",
        "self rating by another rater": "a self rating whose rater is not the ratee",
        "empty id": "'ratee' is empty",
        "bad date": "'date' is not a date",
        "duplicate person": "duplicate person",
        "bad choice": "'gap_type' must be one of",
        "negative weight": "'weight' is negative",
        "unknown kind": "'kind' must be one of",
        "level range": "'level_to' is below 'level_from'",
        "bad boolean": "'completed' is not yes/no",
        "end before start": "'end' is before 'start'",
        "unknown activity": "activity is not in the catalog",
        "rater missing from people (warning)": "rater is not in the people file",
        "unknown skill (warning)": "skill is not in the framework",
    }
    missing = [k for k, text in kinds.items() if text not in messages]
    assert not missing, f"not reported: {missing}"
    # Every row-level problem names file, row and column.
    for p in errors:
        assert p.file.startswith(str(BROKEN))
        assert p.row is not None or p.column is not None or "empty" in p.message
    # A row problem carries the spreadsheet row number (header is row 1).
    score = next(p for p in errors if "not a finite number" in p.message)
    assert (score.row, score.column, score.value) == (5, "score", "three")
    assert _digest(BROKEN) == before  # inputs are never modified


def test_cli_validate_exit_codes(capsys):
    assert main(["validate", str(DEMO)]) == 0
    assert "Organisation summary" in capsys.readouterr().out
    assert main(["validate", str(BROKEN)]) == 2
    err = capsys.readouterr().err
    assert "error(s)" in err and "Traceback" not in err
    assert "ratings.csv, row 5, column 'score'" in err


def test_cli_validate_rejects_unnamed_file(tmp_path, capsys):
    odd = tmp_path / "export.csv"
    odd.write_text("a,b\n1,2\n")
    assert main(["validate", str(odd)]) == 2
    assert "cannot tell which table" in capsys.readouterr().err


CLIENT_RATINGS = (
    "Employee ID;Rater ID;Relationship;Competency;Rating\n"
    "E1;E1;Self;Délégation;4\n"
    "E1;E2;Line Manager;Délégation;3\n"
    "E1;E3;Peer;Délégation;3,5\n"
    "E1;E4;Direct Report;Délégation;2\n"
    "E2;E3;Colleague;Délégation;5\n"
)
MAPPING = {
    "columns": {
        "ratings": {
            "Employee ID": "ratee",
            "Rater ID": "rater",
            "Relationship": "source",
            "Competency": "skill",
            "Rating": "score",
        }
    },
    "source_labels": {"Line Manager": "manager", "Colleague": "peer"},
}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_client_export_with_mapping_and_encodings(tmp_path, encoding):
    path = tmp_path / "ratings.csv"
    path.write_bytes(CLIENT_RATINGS.encode(encoding))
    ratings = load_ratings(path, mapping=MAPPING)
    assert ratings["skill"].unique().tolist() == ["Délégation"]
    assert ratings["source"].tolist() == ["self", "manager", "peer", "direct_report", "peer"]
    assert ratings["score"].tolist() == [4.0, 3.0, 3.5, 2.0, 5.0]
    assert (ratings["wave"] == 1).all()


def test_unmapped_client_labels_are_named(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text(CLIENT_RATINGS.replace("Colleague", "Friend of a friend"), encoding="utf-8")
    with pytest.raises(InputError, match="row 6, column 'Relationship': unknown source label"):
        load_ratings(path, mapping=MAPPING)


def test_mapping_yaml_through_cli(tmp_path, capsys):
    import yaml

    (tmp_path / "ratings.csv").write_text(CLIENT_RATINGS, encoding="cp1252")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(yaml.safe_dump(MAPPING, allow_unicode=True))
    assert main(["validate", str(tmp_path / "ratings.csv"), "--mapping", str(mapping)]) == 0
    assert "Délégation" in capsys.readouterr().out


def test_bad_mapping_is_a_config_error():
    with pytest.raises(ConfigError, match="not one of"):
        ColumnMapping.from_dict({"source_labels": {"Boss": "supervisor"}})
    with pytest.raises(ConfigError, match="unknown key"):
        ColumnMapping.from_dict({"colums": {}})


@pytest.mark.parametrize("fmt", ["xlsx", "parquet"])
def test_excel_and_parquet_read_like_csv(tmp_path, fmt):
    csv_path = DEMO / "people.csv"
    frame = pd.read_csv(csv_path)
    path = tmp_path / f"people.{fmt}"
    if fmt == "xlsx":
        frame.to_excel(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    from_csv = load_table(csv_path, "people")
    other = load_table(path, "people")
    pd.testing.assert_frame_equal(
        from_csv.drop(columns="tenure"), other.drop(columns="tenure"), check_dtype=False
    )
    np.testing.assert_allclose(from_csv["tenure"], other["tenure"])
    assert other["person"].str.len().min() > 0


def test_accented_names_in_cp1252_people(tmp_path):
    text = "person,role,team,location\nP1,Team Lead,Équipe Nord,München\nP2,Specialist,Équipe Nord,Malmö\n"
    path = tmp_path / "people.csv"
    path.write_bytes(text.encode("cp1252"))
    people = load_table(path, "people")
    assert people["team"].tolist() == ["Équipe Nord", "Équipe Nord"]
    assert people["location"].tolist() == ["München", "Malmö"]


def test_many_bad_rows_are_counted_not_dropped(tmp_path):
    org = pd.read_csv(DEMO / "ratings.csv").head(200)
    org["score"] = 9
    path = tmp_path / "ratings.csv"
    org.to_csv(path, index=False)
    with pytest.raises(InputError) as info:
        load_ratings(path)
    text = str(info.value)
    assert "row 2, column 'score'" in text
    assert "and 175 more row(s)" in text
    # the header counts every problem, not only the lines listed
    assert text.startswith("200 error(s), 26 lines:")
    assert len(info.value.errors) == 26 and sum(p.count for p in info.value.errors) == 200


def _hundred_point_folder(tmp_path):
    """The demo organisation's ratings on a 0-100 scale (a researcher's test scores)."""
    folder = tmp_path / "data"
    shutil.copytree(DEMO, folder)
    (folder / "scale.csv").unlink()
    ratings = pd.read_csv(folder / "ratings.csv")
    ratings["score"] = (ratings["score"] - 1) * 25
    ratings.to_csv(folder / "ratings.csv", index=False)
    framework = pd.read_csv(folder / "framework.csv")
    framework["required_level"] = (framework["required_level"] - 1) * 25
    framework.to_csv(folder / "framework.csv", index=False)
    catalog = pd.read_csv(folder / "catalog.csv")
    catalog[["level_from", "level_to"]] = (catalog[["level_from", "level_to"]] - 1) * 25
    catalog.to_csv(folder / "catalog.csv", index=False)
    return folder


def test_one_scale_setting_from_option_mapping_or_file(tmp_path):
    folder = _hundred_point_folder(tmp_path)
    score = pd.read_csv(folder / "ratings.csv")["score"]
    n_off = int((score.notna() & ~score.between(1, 5)).sum())
    with pytest.raises(InputError) as info:
        load_organisation(folder)
    text = str(info.value)
    assert "off the rating scale (1 to 5, the default; set another with a scale file" in text
    assert "--scale" in text and "'scale: [MIN, MAX]'" in text
    ratings_errors = [p for p in info.value.errors if p.file.endswith("ratings.csv")]
    assert sum(p.count for p in ratings_errors) == n_off
    # the option, the mapping's scale, or a scale file: the same organisation
    by_option = load_organisation(folder, scale=(0, 100))
    by_mapping = load_organisation(folder, mapping={"scale": [0, 100]})
    pd.DataFrame({"value": [0, 50, 100], "label": ["none", "half", "all"]}).to_csv(
        folder / "scale.csv", index=False)
    by_file = load_organisation(folder)
    for org in (by_option, by_mapping, by_file):
        assert (org.scale.min, org.scale.max) == (0, 100)
        pd.testing.assert_frame_equal(org.ratings, by_option.ratings)
    assert by_mapping.scale.source == "the mapping's 'scale'"
    assert by_file.scale.source.endswith("scale.csv")
    # an option overrides the file, with a warning naming both
    narrow = load_organisation(folder, scale=(0, 200))
    assert any("not used: the scale is 0 to 200" in p.message for p in narrow.problems)
    # off the scale that was set: the message names where it came from
    with pytest.raises(InputError, match=r"off the rating scale \(0 to 10, from the mapping's"):
        load_organisation(folder, mapping={"scale": {"min": 0, "max": 10}})
    with pytest.raises(ConfigError, match="'scale' must be"):
        ColumnMapping.from_dict({"scale": [5, 1]})


def test_every_command_takes_the_scale_option(tmp_path, capsys):
    folder = _hundred_point_folder(tmp_path)
    assert main(["validate", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "the default; set another with" in err and "Traceback" not in err
    assert main(["validate", str(folder), "--scale", "0", "100"]) == 0
    assert main(["validate", str(folder), "--scale", "100", "0"]) == 2
    assert "--scale=(100.0, 0.0): MIN and MAX must be finite numbers, MIN below MAX" in \
        capsys.readouterr().err
    assert main(["validate", str(folder), "--scale", "zero", "100"]) == 2
    assert "--scale zero 100: give two numbers" in capsys.readouterr().err
    from workbench.cli import build_parser

    parser = build_parser()
    # every command that reads a client's data (run reads the folder's scale.csv or mapping)
    for command in ("calibrate", "check-design", "impact", "outcomes", "plans", "profiles",
                    "progression", "validate"):
        action = {a.dest: a for a in parser._subparsers._group_actions[0].choices[command]
                  ._actions}["scale"]
        assert action.metavar == "MIN MAX | FILE", command


def test_missing_files_and_folders_are_clear(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        load_ratings(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="no ratings file"):
        load_organisation(tmp_path)
    shutil.copy(DEMO / "ratings.csv", tmp_path / "ratings.csv")
    (tmp_path / "people.xlsx").write_bytes(b"this is not a zip file")
    with pytest.raises(InputError, match=r"people.xlsx: cannot be read as Excel"):
        load_organisation(tmp_path)
