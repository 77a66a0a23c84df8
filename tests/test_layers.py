"""The stage order, enforced over the package's import graph.

Every ``import workbench...`` statement in ``workbench/`` (also the ones inside functions, which
are imports all the same) must point down the layers of ``docs/architecture.md``::

    errors, checks, parallel, results, writers, escaping, presentation   (the bottom)
    < tables < calibration < profiles, impact < progression < plans < reporting < runs < cli

``synth`` stands beside: it imports only the bottom and ``tables``, and only ``simulation``,
``runs`` and ``cli`` import it (calibration may not: a model never sees the truth).
``simulation`` studies a model on generated data, so it may import ``synth`` and
``calibration``; only ``cli`` imports it. Siblings (``profiles`` and ``impact``) do not import
each other, and no two modules of one subpackage import each other, directly or round a circle.

A back-edge is caught, for example ``tables.scores`` asking calibration for something::

    >>> back_edges({"workbench.tables.scores": {"workbench.calibration.result"}})
    ['workbench.tables.scores -> workbench.calibration.result (tables may not import calibration)']

The fix is never an exception in this file: move what both sides need down a layer.

No module is longer than 700 lines (:data:`MAX_LINES`): a longer one holds more than one idea
and is split by idea, not squeezed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import workbench

#: Each layer may import the layers before it (never a layer of the same rank but itself).
LAYERS = (
    ("errors", "checks", "parallel", "results", "writers", "escaping", "presentation", "_lazy",
     "_version"),
    ("tables",),
    ("calibration",),
    ("profiles", "impact"),
    ("progression",),
    ("plans",),
    ("reporting",),
    ("runs",),
    ("cli",),
    ("__main__",),
)
#: Units beside the layers: what they may import, and who may import them.
BESIDE = {
    "synth": ({"tables"}, {"simulation", "runs", "cli"}),
    "simulation": ({"tables", "synth", "calibration"}, {"cli"}),
}
BOTTOM = set(LAYERS[0])
RANK = {unit: rank for rank, layer in enumerate(LAYERS) for unit in layer}


def unit_of(module: str) -> str:
    """The layer unit of a dotted module name: its subpackage, or ``workbench`` itself."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "workbench"


def may_import(importer: str, imported: str) -> bool:
    """Whether unit ``importer`` may import unit ``imported``."""
    if importer == imported or imported in BOTTOM:
        return True
    if importer in BESIDE:
        return imported in BESIDE[importer][0]
    if imported in BESIDE:
        return importer in BESIDE[imported][1]
    return RANK[imported] < RANK[importer]


def module_files(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module under the package folder ``root``."""
    files = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        files[name] = path
    return files


def import_graph(files: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the package's modules it imports (anywhere in its body)."""
    graph = {name: set() for name in files}
    for name, path in files.items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # ``from package import module`` imports the module, not just the package
                targets = [f"{node.module}.{alias.name}" for alias in node.names
                           if f"{node.module}.{alias.name}" in files] or [node.module]
            else:
                continue
            graph[name].update(t for t in targets if t.split(".")[0] == "workbench")
    return graph


def back_edges(graph: dict[str, set[str]]) -> list[str]:
    """Every import that points against the layers, as ``importer -> imported (reason)``."""
    found = []
    for importer, imported in sorted(graph.items()):
        for target in sorted(imported):
            a, b = unit_of(importer), unit_of(target)
            if a == "workbench" and importer == "workbench":
                continue  # the top level re-exports the curated names of every stage
            if b == "workbench":
                found.append(f"{importer} -> {target} (the top level is for users only)")
            elif not may_import(a, b):
                found.append(f"{importer} -> {target} ({a} may not import {b})")
    return found


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other round a circle (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def private_imports(files: dict[str, Path]) -> list[str]:
    """Every ``from workbench... import _name``: a module leaning on another's private name."""
    found = []
    for name, path in sorted(files.items()):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("workbench"):
                found += [f"{name} takes {node.module}.{alias.name}" for alias in node.names
                          if alias.name.startswith("_") and not alias.name.startswith("__")]
    return found


FILES = module_files(Path(workbench.__file__).parent)
GRAPH = import_graph(FILES)


def test_every_unit_has_a_place():
    units = {unit_of(m) for m in GRAPH} - {"workbench"}
    assert units <= set(RANK) | set(BESIDE), units - set(RANK) - set(BESIDE)


def test_imports_follow_the_stage_order():
    assert back_edges(GRAPH) == []


def test_no_module_takes_another_modules_private_name():
    # what a sibling needs is named without an underscore (the module's internal interface,
    # outside its __all__ so the stage does not offer it)
    assert private_imports(FILES) == []


def test_no_import_circles():
    # a package importing its own modules (lazily, by name) is not a circle
    within = {m: {t for t in ts if not m.startswith(t + ".") and t != m} for m, ts in GRAPH.items()}
    assert circles(within) == []


def test_a_back_edge_and_a_circle_are_caught():
    graph = {"workbench.tables.scores": {"workbench.calibration.result", "workbench.errors"},
             "workbench.calibration.result": {"workbench.plans.build", "workbench.tables"},
             "workbench.errors": {"workbench.checks"}, "workbench.checks": {"workbench.errors"},
             "workbench.plans.build": set()}
    assert back_edges(graph) == [
        "workbench.calibration.result -> workbench.plans.build "
        "(calibration may not import plans)",
        "workbench.tables.scores -> workbench.calibration.result "
        "(tables may not import calibration)",
    ]
    assert ["workbench.checks", "workbench.errors"] in circles(graph)
    assert may_import("simulation", "synth") and not may_import("calibration", "synth")
    assert not may_import("profiles", "impact") and not may_import("synth", "calibration")


#: The house rule: a module longer than this holds more than one idea; split it by idea.
MAX_LINES = 700


def long_modules(files: dict[str, Path], limit: int = MAX_LINES) -> dict[str, int]:
    """Module -> its number of lines, for every module longer than ``limit`` lines."""
    lengths = {name: len(path.read_text().splitlines()) for name, path in files.items()}
    return {name: n for name, n in sorted(lengths.items()) if n > limit}


def test_no_module_is_over_700_lines():
    assert long_modules(FILES) == {}


def test_a_long_module_is_caught(tmp_path):
    (tmp_path / "short.py").write_text("x = 1\n" * MAX_LINES)
    (tmp_path / "long.py").write_text("x = 1\n" * (MAX_LINES + 1))
    files = {"short": tmp_path / "short.py", "long": tmp_path / "long.py"}
    assert long_modules(files) == {"long": MAX_LINES + 1}
