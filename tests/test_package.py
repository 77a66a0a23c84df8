"""The package's public surface: every re-exported name resolves and is documented."""

import importlib
import pkgutil

import workbench


def test_every_public_name_resolves_and_has_a_docstring():
    for name in workbench.__all__:
        obj = getattr(workbench, name)
        assert obj is not None
        if callable(obj):
            assert (obj.__doc__ or "").strip(), f"{name} has no docstring"


def test_every_module_declares_all():
    for info in pkgutil.walk_packages(workbench.__path__, "workbench."):
        if info.name.split(".")[-1].startswith("_"):
            continue
        module = importlib.import_module(info.name)
        if info.name.startswith("workbench.cli."):
            assert hasattr(module, "register"), info.name
        else:
            assert hasattr(module, "__all__"), f"{info.name} has no __all__"
