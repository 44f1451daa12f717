"""Packages whose exports load on first use (``tollgate.lazy``): every exported name resolves to
the object its module defines, and no exported name is also a submodule's name (importing that
submodule would rebind the package attribute to the module)."""

from __future__ import annotations

import importlib
import os
import pkgutil
import subprocess
import sys
import types

import pytest

LAZY_PACKAGES = ["audit", "earnings", "grants", "ledger", "orgs", "payouts", "refunds", "tiers", "webhook_endpoints"]


@pytest.mark.parametrize("name", LAZY_PACKAGES)
def test_every_export_resolves_and_none_shadows_a_submodule(name):
    package = importlib.import_module(f"tollgate.{name}")
    submodules = {info.name for info in pkgutil.iter_modules(package.__path__)}
    assert package.__all__ == sorted(package.__all__)
    for export in package.__all__:
        value = getattr(package, export)
        if isinstance(value, types.ModuleType):
            assert value.__name__ == f"tollgate.{name}.{export}"
        else:
            assert export not in submodules, f"tollgate.{name}.{export} is both a name and a submodule"
            if isinstance(value, type | types.FunctionType):  # constants (ENTRY_TYPES) have no home module
                assert getattr(sys.modules[value.__module__], export) is value


def test_an_unknown_name_is_an_attribute_error_and_a_name_is_bound_once_loaded():
    from tollgate import ledger

    with pytest.raises(AttributeError, match="has no attribute 'no_such_export'"):
        ledger.no_such_export
    first = ledger.WalletState
    assert vars(ledger)["WalletState"] is first  # bound: later reads never reach __getattr__


def test_importing_models_does_not_load_the_service():
    # The point of the lazy exports: a function reading payouts' items does not build the payout
    # service, its schemas or the gateway adapters. Checked in a fresh interpreter.
    code = ("import sys, tollgate.payouts.models, tollgate.grants.repository, tollgate.earnings.repository;"
            "print(sorted(m for m in sys.modules if m.startswith('tollgate.')"
            " and m.endswith(('.service', '.gateways.stripe', '.gateways.paystack', '.tiers.run'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": ":".join(sys.path)})
    assert out.stdout.strip() == "[]", out.stdout
