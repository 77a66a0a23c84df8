"""Lazy re-exports (PEP 562) for a package whose modules each declare ``__all__``.

``workbench`` re-exports its subpackages' names and ``workbench.calibration`` its modules'
names without importing them up front: a command then loads only what it uses.
"""

from __future__ import annotations

import importlib
import importlib.util

__all__ = ["lazy_exports"]


def lazy_exports(namespace: dict, modules: tuple):
    """``__getattr__`` and ``__dir__`` for the package whose globals are ``namespace``.

    A name that is a submodule imports it; ``__all__`` is the union of the ``modules``'
    ``__all__`` in their order; any other name comes from the first of ``modules`` that
    exports it (imported on first use, then kept in ``namespace``).
    """
    package = namespace["__name__"]

    def exporters():
        for name in modules:
            yield importlib.import_module(f"{package}.{name}")

    def __getattr__(name: str):
        if name in modules or (not name.startswith("__")
                               and importlib.util.find_spec(f"{package}.{name}") is not None):
            return importlib.import_module(f"{package}.{name}")
        if name == "__all__":
            value = list(dict.fromkeys(item for module in exporters() for item in module.__all__))
        else:
            for module in exporters():
                if name in module.__all__:
                    value = getattr(module, name)
                    break
            else:
                raise AttributeError(f"module {package!r} has no attribute {name!r}")
        namespace[name] = value
        return value

    def __dir__():
        return sorted(set(namespace) | set(__getattr__("__all__")))

    return __getattr__, __dir__
