"""The package's public surface: a curated top level, one lazy mechanism in every stage."""

import importlib
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import workbench
from workbench._lazy import export_index

STAGES = ("tables", "synth", "calibration", "simulation", "presentation", "profiles", "impact",
          "progression", "plans", "runs", "reporting")


def test_every_public_name_resolves_and_has_a_docstring():
    for name in workbench.__all__:
        obj = getattr(workbench, name)
        # the very object its owning module (per the curated API table) defines, not a stand-in
        assert obj is getattr(importlib.import_module(workbench.API[name]), name), name
        if callable(obj):
            assert (obj.__doc__ or "").strip(), f"{name} has no docstring"


def test_the_top_level_is_the_curated_list_and_the_api_page_lists_exactly_it():
    assert 30 <= len(workbench.__all__) <= 40
    page = (Path(workbench.__file__).parents[1] / "docs" / "api.md").read_text()
    listed = re.findall(r"^\| `(\w+)` \| `([\w.]+)` \|", page, re.M)
    assert listed == list(workbench.API.items())
    for name, module in workbench.API.items():
        assert name in importlib.import_module(module).__all__, (name, module)


def test_an_unknown_name_fails_at_once_importing_nothing():
    code = ("import sys, workbench, workbench.calibration as calibration\n"
            "before = set(sys.modules)\n"
            "for owner in (workbench, calibration):\n"
            "    try:\n"
            "        owner.calibrate_ratingz\n"
            "    except AttributeError:\n"
            "        pass\n"
            "    else:\n"
            "        raise SystemExit('no AttributeError')\n"
            "print(sorted(set(sys.modules) - before))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("stage", ["impact", "plans", "calibration", "profiles"])
def test_importing_a_stage_loads_no_plotting_library(stage):
    code = (f"import sys, workbench.{stage}\n"
            "print([m for m in ('matplotlib', 'seaborn', 'statsmodels') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("stage", STAGES)
def test_every_stage_is_lazy_and_no_two_modules_export_one_name(stage):
    package = importlib.import_module(f"workbench.{stage}")
    index = export_index(package.__name__, package.MODULES)  # raises on a clash
    assert package.__all__ == list(index)
    source = Path(package.__file__).read_text()
    assert "import *" not in source


def test_a_clash_is_refused():
    # plans.labels re-exports presentation's source_label: one package cannot offer both
    with pytest.raises(ImportError, match="'source_label' is exported by both"):
        export_index("workbench", ("presentation", "plans"))


def test_every_module_declares_all():
    for info in pkgutil.walk_packages(workbench.__path__, "workbench."):
        if info.name.split(".")[-1].startswith("_"):
            continue
        module = importlib.import_module(info.name)
        if info.name.startswith("workbench.cli."):
            assert hasattr(module, "register"), info.name
        else:
            assert hasattr(module, "__all__"), f"{info.name} has no __all__"


def test_every_long_function_and_class_has_a_docstring():
    import ast

    missing = []
    for path in Path(workbench.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) \
                    and node.end_lineno - node.lineno + 1 > 40 and not ast.get_docstring(node):
                missing.append(f"{path.name}:{node.lineno} {node.name}")
    assert missing == []
