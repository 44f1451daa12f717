"""A function's init phase imports what its handlers call (``tollgate.lazy``).

Packages with lazy exports load a module on first use of one of its names; a function that
called one without passing the package to ``lazy.load`` would import it during its first
request instead of its init phase, and ``make bench``'s cold-import figure would leave it out.
"""

from __future__ import annotations

import ast
from types import ModuleType

import pytest

from tests.support import FUNCTIONS, load_function

NAMES = sorted(p.name for p in FUNCTIONS.iterdir() if (p / "app.py").exists())


def _package_attributes(name: str) -> set[tuple[str, str]]:
    """(binding, attribute) for each ``<package>.<attribute>`` the app reads, where the binding
    is a package imported as ``from tollgate import <package>``."""
    tree = ast.parse((FUNCTIONS / name / "app.py").read_text())
    bound = {alias.asname or alias.name for node in ast.walk(tree)
             if isinstance(node, ast.ImportFrom) and node.module == "tollgate" for alias in node.names}
    return {(node.value.id, node.attr) for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in bound}


@pytest.mark.parametrize("name", NAMES)
def test_every_package_export_a_function_calls_is_loaded_at_init(name):
    module = load_function(name)
    for binding, attribute in sorted(_package_attributes(name)):
        package = vars(module).get(binding)
        if not isinstance(package, ModuleType) or "__getattr__" not in vars(package):
            continue  # imported inside a function, or a package that loads its exports eagerly
        assert attribute in vars(package), (
            f"functions/{name} calls {binding}.{attribute}, which is loaded on first use: pass {binding} to lazy.load"
        )


def test_a_lazy_export_is_unbound_until_read():
    # What the check above relies on: a fresh package object binds an export only when read.
    source = FUNCTIONS.parent / "layers" / "tollgate" / "tollgate" / "tiers" / "__init__.py"
    namespace: dict = {"__name__": "tollgate.tiers"}
    exec(compile(source.read_text(), str(source), "exec"), namespace)
    assert "put_tier" in namespace["__all__"] and "put_tier" not in namespace
