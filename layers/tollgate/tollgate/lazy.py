"""Package exports that load on first use (PEP 562).

A package's ``__init__`` names its public API, but importing any of its modules runs that
``__init__`` first: when it imported its service eagerly, a function that needed only
``tollgate.payouts.models`` paid for the payout service, its schemas and the gateway adapters
at every cold start. A package built with :func:`exports` binds each name on first access
instead (then keeps it, so later accesses are plain attribute reads); type checkers read the
names from the package's ``if TYPE_CHECKING:`` imports.

A function's handler should not pay for imports on its first request: every
``functions/<name>/app.py`` that calls such a package passes it to :func:`load` at init, so
Lambda's init phase (and the cold-import figures of ``make bench``) include what it will call.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any


def exports(package: str, modules: Mapping[str, tuple[str, ...]],
            submodules: tuple[str, ...] = ()) -> Callable[[str], Any]:
    """The package's module ``__getattr__``: ``modules`` maps each submodule to the names it
    exports; ``submodules`` are exported as modules (``package.accounts``)."""
    where = {name: module for module, names in modules.items() for name in names}

    def __getattr__(name: str) -> Any:
        if name in submodules:
            value: Any = importlib.import_module(f"{package}.{name}")
        elif name in where:
            value = getattr(importlib.import_module(f"{package}.{where[name]}"), name)
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__


def load(*packages: ModuleType) -> None:
    """Bind every export of each package now (a function's init phase, before its first request)."""
    for package in packages:
        for name in package.__all__:
            getattr(package, name)


__all__ = ["exports", "load"]
