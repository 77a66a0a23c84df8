"""Batch runs with papermill: run folders, manifest, report, failures, validation, batches."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from tests.runs.engagements import N_PEOPLE, shared_full_run
from tests.runs.engagements import write_engagement as _engagement
from workbench.cli import main
from workbench.errors import ConfigError, InputError
from workbench.runs.batch import run_batch
from workbench.runs.engagement import DEFAULT_NOTEBOOKS, EngagementError, load_engagement
from workbench.runs.manifest import new_run_folder
from workbench.runs.pipeline import run_engagement
from workbench.synth.generator import generate_organisation, write_organisation


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tiny_notebook(path: Path, body: str) -> Path:
    """A quick notebook following the house rules; ``body`` is its one analysis cell."""
    nb = new_notebook()
    nb.cells = [
        new_markdown_cell("# Tiny check\n\nDoes the organisation load?"),
        new_code_cell(
            "from workbench.tables.data import summarise_organisation\n"
            "from workbench.runs.engagement import open_organisation\n"
            "from workbench.writers import write_csv\n"
            "from workbench.reporting.display import output_folder"
        ),
        new_code_cell(
            'data_dir: str = "."  # data folder\n'
            'engagement_file: str = ""  # engagement file\n'
            'output_dir: str = ""  # output folder\n'
            "min_people: int = 1  # a number to check types against",
        ),
        new_code_cell(body),
        new_markdown_cell("Done."),
    ]
    nb.cells[2].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


OK_BODY = (
    "org = open_organisation(data_dir, engagement_file)\n"
    "out = output_folder(output_dir, 'tiny')\n"
    "write_csv(summarise_organisation(org).overview, out / 'overview.csv')"
)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("engagements")
    org = generate_organisation(N_PEOPLE, seed=11)
    write_organisation(org, root / "data")
    _tiny_notebook(root / "tiny.ipynb", OK_BODY)
    _tiny_notebook(
        root / "broken.ipynb",
        "org = open_organisation(data_dir, engagement_file)\n"
        "raise ValueError(f'deliberate failure with {len(org.people)} people')",
    )
    return root


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    return shared_full_run(tmp_path_factory)


def test_full_run_writes_report_notebooks_outputs_and_manifest(full_run):
    assert full_run["code"] == 0
    run = full_run["run_dir"]
    manifest = json.loads((run / "analyst" / "manifest.json").read_text())
    assert manifest["status"] == "succeeded" and manifest["failure"] is None
    assert manifest["run_id"] == run.name and manifest["engagement"] == "full"
    assert [nb["name"] for nb in manifest["notebooks"]] == list(DEFAULT_NOTEBOOKS)
    for entry in manifest["notebooks"]:
        assert entry["status"] == "succeeded" and entry["seconds"] > 0
        # the kernel's CPU is counted (its imports alone take over a second of CPU)
        assert entry["cpu_seconds"] > 1
        assert (run / "analyst" / entry["executed"]).is_file()
        assert entry["parameters"]["output_dir"] == str(run / "analyst" / "outputs"
                                                        / entry["name"])
    # every input is hashed, and the hashes are the files' hashes
    ratings = manifest["inputs"]["ratings"]
    assert ratings["sha256"] == _sha(full_run["root"] / "data" / "ratings.csv")
    assert manifest["inputs"]["engagement_file"]["sha256"] == _sha(full_run["root"] / "full.yaml")
    assert set(manifest["inputs"]) >= {"ratings", "people", "framework", "catalog", "enrollments"}
    assert manifest["seeds"]["02_skill_profiles"]["random_state"] == 7
    # parameters left at their defaults are recorded with their values
    assert manifest["notebooks"][0]["defaults"]["waves"] == "joint"
    assert "random_state" not in manifest["notebooks"][1]["defaults"]
    assert manifest["versions"]["pandas"] == pd.__version__
    assert "commit" in manifest["git"]
    report = run / "client" / "report.html"
    assert report.is_file() and manifest["report"] == "client/report.html"
    # outputs stay in the analyst's half of the run folder, listed in the manifest
    assert manifest["outputs"], "no tables or figures written"
    assert all((run / "analyst" / p).is_file() for p in manifest["outputs"])
    assert any(p.endswith(".csv") for p in manifest["outputs"])
    assert any(p.endswith(".png") for p in manifest["outputs"])


def test_client_report_has_no_code_and_every_section(full_run):
    from workbench.reporting.html_report import embedded_images

    run = full_run["run_dir"]
    html = (run / "client" / "report.html").read_text()
    assert "jp-InputArea" not in html and "input_area" not in html
    assert "from workbench" not in html and "open_organisation(" not in html
    assert "Traceback" not in html
    for title in ("Calibrating", "profiles", "impact", "plans"):
        assert title.lower() in html.lower()
    images = embedded_images(run / "client" / "report.html")
    assert images and all(img.startswith(b"\x89PNG") for img in images)
    # every figure a notebook saved is shown in the report, once
    saved = sorted((run / "analyst" / "outputs").glob("*/*.png"))
    assert len(saved) >= 8 and len(images) == len(saved)
    assert {hashlib.sha256(i).hexdigest() for i in images} == {_sha(p) for p in saved}


def test_failing_notebook_stops_the_run_and_names_notebook_and_cell(workspace, tmp_path, capsys):
    path = _engagement(workspace, "failing", {"tiny.ipynb": {}, "broken.ipynb": {}})
    code = main(["run", str(path), "--reports", str(tmp_path)])
    assert code == 1
    err = capsys.readouterr().err
    assert "broken" in err and "cell 5" in err and "deliberate failure" in err
    run = next((tmp_path / "failing").iterdir())
    manifest = json.loads((run / "analyst" / "manifest.json").read_text())
    assert manifest["status"] == "failed"
    assert manifest["failure"]["notebook"] == "broken"
    assert manifest["failure"]["error"] == "ValueError"
    # title, imports, parameters, injected parameters, then the failing cell (1-based)
    assert manifest["failure"]["cell"] == 5
    assert [nb["status"] for nb in manifest["notebooks"]] == ["succeeded", "failed"]
    # what was produced stays: the failed notebook (with the error) and earlier outputs
    failed = nbformat.read(run / "analyst" / "notebooks" / "broken.ipynb", as_version=4)
    errors = [o for c in failed.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert errors and errors[0]["ename"] == "ValueError"
    assert (run / "analyst" / "outputs" / "tiny" / "overview.csv").is_file()
    # a short failure.html for the analyst says what failed; nothing in client/ to send
    page = (run / "analyst" / "failure.html").read_text(encoding="utf-8")
    assert not any((run / "client").iterdir())
    assert "NEVER SEND" in (run / "README.txt").read_text(encoding="utf-8")
    assert "Run failed" in page and "<b>broken</b> stopped at cell 5" in page
    assert "deliberate failure with" in page and "tiny: succeeded" in page
    assert "open_organisation" not in page
    assert manifest["report"] == "analyst/failure.html"


def test_validation_lists_every_problem_before_running(workspace, tmp_path):
    spec = {
        "engagement": "bad",
        "client": "Bad Ltd",
        "colour": "blue",
        "data": {"folder": "data", "people": "missing_people.csv"},
        "notebooks": {
            "tiny.ipynb": {"min_people": "ten", "typo": 1, "output_dir": "/tmp/x"},
            "99_nothing": {},
        },
    }
    path = workspace / "bad.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    with pytest.raises(EngagementError) as info:
        run_engagement(path, reports=tmp_path, progress=False)
    message = str(info.value)
    assert "colour" in message and "unknown key" in message
    assert "missing_people.csv" in message and "file not found" in message
    assert "notebooks.tiny.min_people" in message and "must be int, got str" in message
    assert "'ten'" in message
    assert "notebooks.tiny.typo" in message and "unknown parameter" in message
    assert "set by the pipeline" in message
    assert "99_nothing" in message and "no such notebook" in message
    assert len(info.value.problems) == 6
    assert list(tmp_path.iterdir()) == []  # nothing ran, no run folder


def test_cli_exit_code_2_and_clean_message_for_a_bad_engagement(workspace, tmp_path, capsys):
    path = _engagement(workspace, "typed", {"tiny.ipynb": {"min_people": 2.5}})
    assert main(["run", str(path), "--reports", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "min_people" in err and "must be int, got float" in err and "Traceback" not in err
    assert main(["run", str(workspace / "nothing.yaml")]) == 2
    assert "engagement file not found" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_invalid_data_stop_the_run_before_any_notebook(workspace, tmp_path):
    data = tmp_path / "baddata"
    shutil.copytree(workspace / "data", data)
    lines = (data / "ratings.csv").read_text().splitlines()
    header, row = lines[0].split(","), lines[4].split(",")
    row[header.index("score")] = "very good"
    lines[4] = ",".join(row)
    (data / "ratings.csv").write_text("\n".join(lines) + "\n")
    path = _engagement(tmp_path, "baddata", {str(workspace / "tiny.ipynb"): {}}, data="baddata")
    with pytest.raises(InputError, match=r"row 5.*score"):
        run_engagement(path, reports=tmp_path / "reports", progress=False)
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").rglob("*.json"))


def test_runs_never_overwrite_earlier_runs(workspace, tmp_path):
    path = _engagement(workspace, "twice", {"tiny.ipynb": {}})
    first = run_engagement(path, reports=tmp_path, progress=False)
    before = {p: _sha(p) for p in first.run_dir.rglob("*") if p.is_file()}
    second = run_engagement(path, reports=tmp_path, progress=False)
    assert first.ok and second.ok and first.run_dir != second.run_dir
    assert {p: _sha(p) for p in first.run_dir.rglob("*") if p.is_file()} == before
    assert len(list((tmp_path / "twice").iterdir())) == 2
    ids = {new_run_folder(tmp_path, "ids")[0] for _ in range(20)}
    assert len(ids) == 20


def _csv_outputs(run_dir: Path) -> dict:
    return {
        p.relative_to(run_dir / "analyst" / "outputs").as_posix(): pd.read_csv(p)
        for p in sorted((run_dir / "analyst" / "outputs").rglob("*.csv"))
    }


def test_batch_in_parallel_gives_the_same_numbers_for_the_same_engagement(workspace, tmp_path):
    """Two identical engagements run at once in two processes: identical CSV outputs."""
    batch = tmp_path / "batch"
    batch.mkdir()
    notebooks = {"02_skill_profiles": {"k_max": 3, "n_bootstrap": 10}}
    data = str(workspace / "data")
    first = _engagement(batch, "copy-a", notebooks, data=data)
    second = _engagement(batch, "copy-b", notebooks, data=data)
    assert yaml.safe_load(first.read_text())["notebooks"] == yaml.safe_load(
        second.read_text())["notebooks"]
    code = main(["run", "--batch", str(batch), "--jobs", "2", "--reports", str(tmp_path / "r")])
    assert code == 0
    runs = [next((tmp_path / "r" / name).iterdir()) for name in ("copy-a", "copy-b")]
    a, b = (_csv_outputs(run) for run in runs)
    assert a.keys() == b.keys() and len(a) >= 3
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_exact=True, obj=name)
    seeds = [json.loads((run / "analyst" / "manifest.json").read_text())["seeds"] for run in runs]
    assert seeds[0] == seeds[1] and seeds[0]


def test_batch_refuses_to_start_when_one_engagement_is_invalid(workspace, tmp_path):
    batch = tmp_path / "batch"
    batch.mkdir()
    _engagement(batch, "good", {str(workspace / "tiny.ipynb"): {}}, data=str(workspace / "data"))
    _engagement(batch, "bad", {str(workspace / "tiny.ipynb"): {"min_people": "x"}},
                data=str(workspace / "data"))
    with pytest.raises(ConfigError, match=r"1 of 2 engagement\(s\) invalid; nothing was run"):
        run_batch(sorted(batch.glob("*.yaml")), reports=tmp_path / "r", jobs=2, progress=False)
    assert not (tmp_path / "r").exists()


def test_batch_on_a_dask_cluster(workspace, tmp_path, capsys):
    """Each engagement is one Dask task; a failed notebook in one fails the batch (exit 1)."""
    import distributed  # dask[distributed] is a dependency: missing fails, never skips
    batch = tmp_path / "batch"
    batch.mkdir()
    data = str(workspace / "data")
    _engagement(batch, "dask-ok", {str(workspace / "tiny.ipynb"): {}}, data=data)
    _engagement(batch, "dask-broken", {str(workspace / "broken.ipynb"): {}}, data=data)
    cwd = os.getcwd()
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        code = main(["run", "--batch", str(batch), "--dask", cluster.scheduler_address,
                     "--reports", str(tmp_path / "r")])
    assert code == 1
    # Two runs in threads of one process must not leave the process in another folder.
    assert os.getcwd() == cwd
    status = {}
    for name in ("dask-ok", "dask-broken"):
        run = next((tmp_path / "r" / name).iterdir())
        status[name] = json.loads((run / "analyst" / "manifest.json").read_text())["status"]
    assert status == {"dask-ok": "succeeded", "dask-broken": "failed"}
    assert (next((tmp_path / "r" / "dask-ok").iterdir()) / "analyst" / "outputs" / "tiny" /
            "overview.csv").is_file()
    out = capsys.readouterr().out
    assert "deliberate failure" in out and "notebook broken, cell 5" in out


def test_client_column_names_and_source_labels_are_mapped(workspace, tmp_path):
    """An export with its own column names and source labels runs through the mapping."""
    data = tmp_path / "export"
    shutil.copytree(workspace / "data", data)
    ratings = pd.read_csv(data / "ratings.csv")
    ratings = ratings.rename(columns={"ratee": "Employee", "rater": "Reviewer"})
    ratings["source"] = ratings["source"].replace({"manager": "Line Manager", "peer": "Colleague"})
    ratings.to_csv(data / "ratings.csv", index=False)
    mapping = {"columns": {"ratings": {"Employee": "ratee", "Reviewer": "rater"}},
               "source_labels": {"Line Manager": "manager", "Colleague": "peer"}}
    path = _engagement(tmp_path, "mapped", {str(workspace / "tiny.ipynb"): {"min_people": 5}},
                       data="export", mapping=mapping)
    result = run_engagement(path, reports=tmp_path / "r", progress=False)
    assert result.ok, result.failure
    overview = pd.read_csv(result.run_dir / "analyst" / "outputs" / "tiny" / "overview.csv")
    assert overview.set_index("quantity").loc["ratings", "n"] == len(ratings)
    broken = dict(mapping, source_labels={"Line Manager": "boss of bosses"})
    path = _engagement(tmp_path, "badmap", {str(workspace / "tiny.ipynb"): {}},
                       data="export", mapping=broken)
    with pytest.raises(EngagementError, match="mapping.*boss of bosses"):
        load_engagement(path)


def test_engagement_paths_are_relative_to_the_file(workspace):
    eng = load_engagement(_engagement(workspace, "relative", {"tiny.ipynb": {"min_people": 3}}))
    assert eng.folder == (workspace / "data").resolve()
    assert eng.notebooks[0].parameters == {"min_people": 3}
    assert eng.input_files()["ratings"] == (workspace / "data" / "ratings.csv").resolve()


def test_demo_engagement_is_valid():
    demo = Path(__file__).resolve().parents[2] / "data" / "demo" / "engagement.yaml"
    eng = load_engagement(demo)
    assert eng.name == "demo" and eng.folder == demo.parent
    assert [s.name for s in eng.notebooks] == list(DEFAULT_NOTEBOOKS)


def test_values_outside_a_declared_range_are_errors_up_front(tmp_path):
    """A parameter's help may declare a range, ``# ... (1 to 3)``: out of it is caught early."""
    demo = Path(__file__).resolve().parents[2] / "data" / "demo"
    spec = yaml.safe_load((demo / "engagement.yaml").read_text(encoding="utf-8"))
    spec["data"] = {"folder": str(demo)}
    spec["notebooks"]["04_learning_plans"].update({"n_focus": 5, "gap_probability": 0.2})
    spec["notebooks"]["02_skill_profiles"]["k_max"] = 6  # inside its range: no problem
    path = tmp_path / "ranges.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    with pytest.raises(EngagementError) as info:
        load_engagement(path)
    message = str(info.value)
    assert "notebooks.04_learning_plans.n_focus" in message and "between 1 and 3" in message
    assert "gap_probability" in message and "between 0.5 and 0.999" in message
    assert len(info.value.problems) == 2


def test_notebooks_read_one_validated_copy_of_the_inputs(full_run):
    """The client's files are parsed once; every notebook reads the run's Parquet copy, which
    holds exactly the tables the client's files give."""
    from workbench.tables import load_organisation

    run = full_run["run_dir"]
    manifest = json.loads((run / "analyst" / "manifest.json").read_text())
    assert manifest["snapshot"] == "inputs"
    snapshot = run / "analyst" / "inputs"
    for entry in manifest["notebooks"]:
        assert entry["parameters"]["data_dir"] == str(snapshot)
        assert entry["parameters"]["engagement_file"] == ""
    original = load_organisation(full_run["root"] / "data")
    copy = load_organisation(snapshot)
    for table in ("ratings", "people", "framework", "catalog", "enrollments"):
        pd.testing.assert_frame_equal(getattr(copy, table).reset_index(drop=True),
                                      getattr(original, table).reset_index(drop=True))
    assert copy.scale == original.scale


def test_zip_client_holds_exactly_the_client_folder(workspace, tmp_path, capsys):
    import zipfile

    path = _engagement(workspace, "zipped", {"tiny.ipynb": {}})
    assert main(["run", str(path), "--reports", str(tmp_path), "--zip-client"]) == 0
    run = next((tmp_path / "zipped").iterdir())
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"client folder (may be sent): {run / 'client'}"
    assert f"client zip (may be sent): {run / 'client.zip'}" in out
    names = sorted(zipfile.ZipFile(run / "client.zip").namelist())
    assert names == sorted(p.relative_to(run).as_posix()
                           for p in (run / "client").rglob("*") if p.is_file())
    assert "client/report.html" in names and not [n for n in names if "analyst" in n]


def test_a_client_folder_that_names_a_rater_stops_the_run(workspace, tmp_path, capsys):
    """The engagement's description (client text, shown in the report) names a rater: the
    run is refused in one line naming the file (exit 2) and nothing is left to send."""
    rater = sorted(set(pd.read_csv(workspace / "data" / "ratings.csv", dtype=str)["rater"]))[0]
    path = _engagement(workspace, "leaky", {"tiny.ipynb": {}},
                       description=f"Asked for by {rater} in March")
    assert main(["run", str(path), "--reports", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"workbench run: client/report.html (page): {rater}: must not be sent")
    run = next((tmp_path / "leaky").iterdir())
    assert list((run / "client").iterdir()) == []
    withheld = run / "analyst" / "client_withheld" / "report.html"
    assert rater in withheld.read_text(encoding="utf-8")
    manifest = json.loads((run / "analyst" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "withheld"
    assert manifest["client_problems"] == [
        {"file": "report.html", "location": "page", "value": rater}]
    assert "client/ holds nothing to send" in (run / "README.txt").read_text(encoding="utf-8")
