"""The client report never carries a notebook's saved widget state (issue 27).

An explorer's person picker saves its options (every person's id, raters included) in the
notebook's ``widgets`` metadata; the HTML exporter would embed it in the page although the
widget views themselves are dropped. Checked on a notebook written here with nbformat, as
JupyterLab and papermill save one.
"""

from __future__ import annotations

import nbformat

from workbench.reporting.html_report import build_report

STATE = "application/vnd.jupyter.widget-state+json"
VIEW = "application/vnd.jupyter.widget-view+json"


def _notebook_with_a_person_picker(path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Explore one person"),
                nbformat.v4.new_code_cell("picker", outputs=[nbformat.v4.new_output(
                    "display_data", data={VIEW: {"model_id": "m1", "version_major": 2,
                                                 "version_minor": 0},
                                          "text/plain": "Dropdown(options=...)"})])]
    nb.metadata["widgets"] = {STATE: {"version_major": 2, "version_minor": 0, "state": {
        "m1": {"model_name": "DropdownModel", "model_module": "@jupyter-widgets/controls",
               "model_module_version": "2.0.0",
               "state": {"_options_labels": ["RATER-417 (Jo Smith)", "RATER-418"]}}}}}
    nbformat.write(nb, path)
    return path


def test_saved_widget_state_never_reaches_the_report(tmp_path):
    notebook = _notebook_with_a_person_picker(tmp_path / "00_explore.ipynb")
    assert "RATER-417" in notebook.read_text(encoding="utf-8")
    page = build_report([notebook], tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Explore one person" in page
    assert "RATER-417" not in page and "RATER-418" not in page
    assert "widget-state" not in page and "DropdownModel" not in page
    # the executed notebook itself keeps it, for the analyst
    assert "RATER-417" in notebook.read_text(encoding="utf-8")
