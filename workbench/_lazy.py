"""Lazy re-exports (PEP 562): the one mechanism by which a package offers its modules' names.

A subpackage lists its modules; every name in their ``__all__`` becomes the package's own, and
the module that defines it is imported on first use, so ``workbench calibrate`` loads the engine
and the calibration but not the Rasch model, and ``import workbench.impact`` loads no plotting
library. Which module owns which name is read from the modules' source (their ``__all__``
literals) without importing anything, so

* ``__all__`` and ``dir()`` are known at once;
* an unknown name fails at once, importing nothing;
* two modules of one package exporting the same name is an error (:func:`export_index`).

The top level does the same for an explicit, curated table of names (:func:`lazy_names`).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re

__all__ = ["lazy_exports", "lazy_names", "export_index"]


def _literal_assignment(path: str, target: str):
    """The literal value assigned to ``target`` at the top of the module file ``path``.

    Only the statement itself is parsed (from the first line that starts with ``target =``
    to where it ends): parsing every re-exported module whole cost about 0.2 s of each
    process's start. When that statement is not a literal assignment, the whole module is
    parsed.
    """
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    found = re.search(rf"^{re.escape(target)}\s*(:[^=\n]*)?=", text, flags=re.MULTILINE)
    if found:
        lines = text[found.start():].splitlines()
        for end in range(1, len(lines) + 1):
            try:
                tree = ast.parse("\n".join(lines[:end]))
            except SyntaxError:
                continue
            value = _assigned(tree.body, target)
            if value is not None:
                try:
                    return ast.literal_eval(value)
                except ValueError:
                    pass
            break
    value = _assigned(ast.parse(text, path).body, target)
    if value is None:
        raise ImportError(f"{path}: no literal {target} (a lazily re-exported module needs one)")
    return ast.literal_eval(value)


def _assigned(body: list, target: str):
    """The value node of the first assignment to ``target`` among the statements ``body``."""
    for node in body:
        if isinstance(node, ast.Assign):
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names = [node.target.id]
        else:
            continue
        if target in names and node.value is not None:
            return node.value
    return None


def export_index(package: str, modules: tuple) -> dict[str, str]:
    """Name -> dotted module for the ``__all__`` of ``package``'s ``modules``, read from source.

    A module that is itself a lazy package (its ``__init__`` declares ``MODULES``) contributes
    its own modules' names. Raises ImportError when two modules export the same name.

    Examples
    --------
    >>> index = export_index("workbench.calibration", ("mixed", "calibrate"))
    >>> index["calibrate_ratings"], index["fit_mixed"]
    ('workbench.calibration.calibrate', 'workbench.calibration.mixed.model')
    """
    index: dict[str, str] = {}
    for name in modules:
        dotted = f"{package}.{name}"
        spec = importlib.util.find_spec(dotted)
        if spec is None or spec.origin is None:
            raise ImportError(f"{package}: no module {name!r}")
        if spec.submodule_search_locations:  # a subpackage: its own modules' names
            owned = export_index(dotted, tuple(_literal_assignment(spec.origin, "MODULES")))
        else:
            owned = {item: dotted for item in _literal_assignment(spec.origin, "__all__")}
        for item, owner in owned.items():
            if index.setdefault(item, owner) != owner:
                raise ImportError(f"{package}: {item!r} is exported by both {index[item]} and "
                                  f"{owner}; rename one")
    return index


def lazy_names(namespace: dict, names: dict[str, str], submodules: tuple = ()):
    """``__getattr__`` and ``__dir__`` for a package offering ``names`` (name -> module).

    ``submodules`` may also be reached as attributes (``workbench.calibration``).
    """
    package = namespace["__name__"]
    namespace["__all__"] = list(names)

    def __getattr__(name: str):
        if name in submodules or (name not in names and not name.startswith("__")
                                  and importlib.util.find_spec(f"{package}.{name}")):
            return importlib.import_module(f"{package}.{name}")
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(names[name]), name)
        namespace[name] = value
        return value

    def __dir__():
        return sorted(set(namespace) | set(names) | set(submodules))

    return __getattr__, __dir__


def lazy_exports(namespace: dict, modules: tuple):
    """``__getattr__`` and ``__dir__`` for the package whose globals are ``namespace``.

    Every name in the ``__all__`` of ``modules`` (submodule names of the package) is offered;
    the modules themselves are reachable as attributes too.
    """
    package = namespace["__name__"]
    return lazy_names(namespace, export_index(package, modules), modules)
