"""Bad survey exports and instruments: one report naming file, row, column; exit 2; nothing
written (issue #22)."""

import pytest
import yaml

from workbench.cli import main
from workbench.errors import ConfigError, InputError
from workbench.tables import load_organisation

HEADER = "ResponseId,Finished,Ratee,Rater,Relationship,Q1,Q2,Q3,Q4\n"
ROWS = ("R_1,True,p1,p1,Self,Agree,Disagree,N/A,Agree\n"
        "R_2,True,p1,p2,Peer,Strongly agree,Agree,Agree,Not observed\n"
        "R_3,True,p2,p1,Line Manager,Disagree,Agree,Strongly disagree,Agree\n")
LABELS = {"Strongly disagree": 1, "Disagree": 2, "Neutral": 3, "Agree": 4, "Strongly agree": 5}
INSTRUMENT = "item,skill,reverse\nQ1,Feedback,no\nQ2,Feedback,yes\nQ3,Planning,no\nQ4,Planning,no\n"


def _setup(tmp_path, *, header=HEADER, rows=ROWS, instrument=INSTRUMENT, survey=None,
           columns=None):
    (tmp_path / "ratings.csv").write_text(header + rows)
    if instrument is not None:
        (tmp_path / "instrument.csv").write_text(instrument)
    mapping = {"source_labels": {"Line Manager": "manager"},
               "survey": {"labels": LABELS, **(survey or {})}}
    if columns is not None:
        mapping["columns"] = {"ratings": columns}
    (tmp_path / "mapping.yaml").write_text(yaml.safe_dump(mapping))
    return tmp_path


def _validate(folder, capsys):
    code = main(["validate", str(folder / "ratings.csv"), "--mapping",
                 str(folder / "mapping.yaml")])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_a_good_export_reads(tmp_path, capsys):
    folder = _setup(tmp_path)
    code, out = _validate(folder, capsys)
    assert code == 0, out
    org = load_organisation(ratings=folder / "ratings.csv", mapping=folder / "mapping.yaml")
    # Q2 is reverse-keyed: "Disagree" (2) scores 4, "Agree" (4) scores 2
    q2 = org.ratings[org.ratings["item"] == "Q2"]["score"].tolist()
    assert q2 == [4.0, 2.0, 2.0]
    assert org.item_counts["n_not_observed"].sum() == 2


def test_unknown_labels_are_listed_each_with_its_count(tmp_path, capsys):
    rows = ROWS.replace("Strongly agree", "Agree strongly").replace("R_3,True,p2,p1,Line "
                                                                      "Manager,Disagree",
                                                                      "R_3,True,p2,p1,Line "
                                                                      "Manager,Mostly")
    rows += "R_4,True,p2,p3,Peer,Mostly,Mostly,Agree,Agree\n"
    folder = _setup(tmp_path, rows=rows)
    code, out = _validate(folder, capsys)
    assert code == 2
    assert "row 3, column 'Q1': unknown response label (1 answer(s))" in out
    assert "(value: 'Agree strongly')" in out
    assert "row 4, column 'Q1': unknown response label (3 answer(s))" in out
    assert "(value: 'Mostly')" in out and "Traceback" not in out


def test_items_missing_from_the_export_and_columns_not_in_the_instrument(tmp_path, capsys):
    instrument = INSTRUMENT.replace("Q4,Planning,no\n", "Q5,Planning,no\n")
    folder = _setup(tmp_path, instrument=instrument)
    code, out = _validate(folder, capsys)
    assert code == 0
    assert "1 item(s) of the instrument are not in the export: Q5" in out
    assert "1 column(s) look like items but are not in the instrument (not read): Q4" in out
    folder = _setup(tmp_path, instrument=instrument, survey={"strict": True})
    code, out = _validate(folder, capsys)
    assert code == 2
    assert "ERROR" in out and "not in the export: Q5" in out and "(not read): Q4" in out


def test_an_item_mapped_to_two_competencies(tmp_path, capsys):
    folder = _setup(tmp_path, instrument=INSTRUMENT + "Q1,Planning,no\n")
    code, out = _validate(folder, capsys)
    assert code == 2
    assert "instrument.csv, row 6, column 'item': item 'Q1' is mapped to two competencies " \
           "('Feedback' and 'Planning')" in out


def test_a_reverse_keyed_item_needs_a_declared_range(tmp_path, capsys):
    folder = _setup(tmp_path, rows=ROWS.replace("Agree", "4").replace("Disagree", "2")
                    .replace("Strongly 4", "5").replace("Strongly 2", "1"))
    (folder / "mapping.yaml").write_text(yaml.safe_dump(
        {"source_labels": {"Line Manager": "manager"}}))
    code, out = _validate(folder, capsys)
    assert code == 2
    assert "instrument.csv, row 3, column 'reverse': item 'Q2' is reverse-keyed but the " \
           "response scale has no declared range" in out


def test_duplicate_item_columns(tmp_path, capsys):
    folder = _setup(tmp_path, header=HEADER.replace("Q4", "Q1"))
    code, out = _validate(folder, capsys)
    assert code == 2
    assert "row 1, column 'Q1': the header names this column twice (columns F and I)" in out


def test_a_response_with_no_ratee(tmp_path, capsys):
    folder = _setup(tmp_path, rows=ROWS.replace("R_2,True,p1,", "R_2,True,,"))
    code, out = _validate(folder, capsys)
    assert code == 2
    assert "ratings.csv, row 3, column 'Ratee': 'ratee' is empty" in out
    assert out.count("'ratee' is empty") == 1  # once per response, not once per item


def test_id_columns_not_where_the_mapping_says(tmp_path, capsys):
    folder = _setup(tmp_path, columns={"Employee": "ratee", "Relationship": "source"})
    code, out = _validate(folder, capsys)
    assert code == 2
    assert "row 1, column 'Employee': the mapping reads 'ratee' from column 'Employee', which " \
           "is not in the file's header" in out


def test_an_unmapped_relationship_label(tmp_path, capsys):
    folder = _setup(tmp_path, rows=ROWS.replace("Line Manager", "Skip-level"))
    code, out = _validate(folder, capsys)
    assert code == 2
    assert "row 4, column 'Relationship': unknown source label" in out
    assert "(value: 'Skip-level')" in out


def test_a_wide_file_without_instrument_shows_the_yaml_to_write(tmp_path, capsys):
    folder = _setup(tmp_path, instrument=None)
    code, out = _validate(folder, capsys)
    assert code == 2
    assert "required column" not in out
    assert "looks like a survey export in wide form" in out
    assert "4 item-like column(s) found (Q1, Q2, Q3, Q4)" in out
    assert "- {item: Q1, skill: <competency>}" in out


def test_an_export_under_its_own_name_is_recognised(tmp_path, capsys):
    folder = _setup(tmp_path)
    (folder / "ratings.csv").rename(folder / "360_export_March.csv")
    code = main(["validate", str(folder / "360_export_March.csv"), "--mapping",
                 str(folder / "mapping.yaml")])
    out = capsys.readouterr().out
    assert "cannot tell which table" not in out
    assert "read as a wide export" in out and code == 0


def test_bad_input_writes_nothing(tmp_path, capsys):
    folder = _setup(tmp_path, rows=ROWS.replace("Agree", "Agreed"))
    before = sorted(p.name for p in folder.iterdir())
    code = main(["calibrate", str(folder / "ratings.csv"), "--mapping",
                 str(folder / "mapping.yaml"), "--out", str(tmp_path / "out")])
    assert code == 2
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in folder.iterdir()) == before


def test_survey_settings_are_checked(tmp_path):
    folder = _setup(tmp_path, survey={"format": "typeform", "unfinished": "maybe", "shape": 1})
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['shape'\].*format 'typeform' is "
                       r"not one of.*unfinished 'maybe'"):
        load_organisation(ratings=folder / "ratings.csv", mapping=folder / "mapping.yaml")


def test_every_problem_at_once(tmp_path):
    rows = ROWS.replace("R_2,True,p1,", "R_2,True,,").replace("Line Manager", "Boss?")
    rows = rows.replace("Strongly disagree", "Nope")
    folder = _setup(tmp_path, rows=rows)
    with pytest.raises(InputError) as caught:
        load_organisation(ratings=folder / "ratings.csv", mapping=folder / "mapping.yaml")
    text = str(caught.value)
    assert "'ratee' is empty" in text and "unknown source label" in text


def test_a_long_file_missing_a_column_is_still_told_so(tmp_path):
    (tmp_path / "ratings.csv").write_text("ratee,rater,source,skill\np1,p2,peer,Feedback\n")
    with pytest.raises(InputError, match="required column 'score' is missing"):
        load_organisation(tmp_path)


def test_a_response_comment_is_kept_once(tmp_path):
    header = HEADER.replace("Q4\n", "Q4,Anything else?\n")
    rows = "".join(line + ",Great listener\n" for line in ROWS.splitlines())
    folder = _setup(tmp_path, header=header, rows=rows,
                    columns={"Anything else?": "comment"})
    org = load_organisation(ratings=folder / "ratings.csv", mapping=folder / "mapping.yaml")
    comments = org.ratings["comment"].dropna()
    assert comments.tolist() == ["Great listener"] * 3   # one per response, not one per item
    assert org.ratings.groupby(["ratee", "rater"])["comment"].count().tolist() == [1, 1, 1]
