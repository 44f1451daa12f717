"""Private module namespaces (tollgate_local.namespaces): one function's modules, in this process.

A throwaway layer and function are written to a temporary folder, so these tests look at the
mechanism alone; tests/functional/test_isolation.py looks at the real functions.
"""

from __future__ import annotations

import sys
import textwrap
import threading
import uuid
from pathlib import Path

import pytest

from tollgate_local.namespaces import FunctionNamespace, HostNamespace, cross, translate


@pytest.fixture
def code(tmp_path: Path) -> tuple[Path, Path, str]:
    """A layer with package ``pkg_<id>`` (state, a lazily imported module, error and data types)
    and a function folder whose app.py uses it; the package name is unique to this test."""
    package = f"pkg_{uuid.uuid4().hex[:8]}"
    layer, function = tmp_path / "layer", tmp_path / "function"
    (layer / package).mkdir(parents=True)
    function.mkdir()
    (layer / package / "__init__.py").write_text(textwrap.dedent("""
        from __future__ import annotations
        import enum
        from dataclasses import dataclass

        calls: list[str] = []

        class Refused(Exception):
            pass

        class Kind(enum.Enum):
            A = "a"

        @dataclass(frozen=True)
        class Item:
            name: str
            kind: Kind
    """))
    (layer / package / "lazy.py").write_text("TOKEN = object()\n")
    (function / "app.py").write_text(textwrap.dedent(f"""
        import {package}

        def handler(name):
            {package}.calls.append(name)
            return {package}.calls

        def lazy():
            from {package} import lazy  # at call time, as the authorizer imports tollgate.tokens
            return lazy
    """))
    return layer, function, package


def namespace(code: tuple[Path, Path, str]) -> FunctionNamespace:
    layer, function, _ = code
    return FunctionNamespace(f"Test{uuid.uuid4().hex[:8]}", [function, layer])


def test_each_namespace_has_its_own_copy_of_the_code_and_the_layer(code):
    _, _, package = code
    first, second = namespace(code), namespace(code)
    assert first.module("app") is not second.module("app")
    assert first.module(package) is not second.module(package)
    assert first.module(package).__name__ == f"{first.root}.{package}"
    assert first.module("app").handler("one") == ["one"]
    assert second.module("app").handler("two") == ["two"]  # the first call's state is not here
    assert first.module(package).calls == ["one"]
    assert package not in sys.modules  # and nothing leaked under the plain name


def test_lazy_imports_at_call_time_resolve_to_the_namespaces_copy_from_any_thread(code):
    _, _, package = code
    first, second = namespace(code), namespace(code)
    result: dict[str, object] = {}
    thread = threading.Thread(target=lambda: result.update(module=first.module("app").lazy()))
    thread.start()
    thread.join()
    assert result["module"] is first.module(f"{package}.lazy")
    assert second.module("app").lazy() is second.module(f"{package}.lazy")
    assert first.module(f"{package}.lazy").TOKEN is not second.module(f"{package}.lazy").TOKEN
    assert f"{package}.lazy" not in sys.modules


def test_third_party_and_standard_modules_stay_shared(code):
    first = namespace(code)
    assert first.module("json") is sys.modules["json"]
    assert first.is_private("app") and not first.is_private("json")


def test_a_namespace_name_is_taken_once(code):
    layer, function, _ = code
    first = namespace(code)
    with pytest.raises(ValueError, match="exists already"):
        FunctionNamespace(first.name, [function, layer])


def test_objects_crossing_namespaces_are_remade_of_the_receivers_classes(code):
    _, _, package = code
    home, visitor = namespace(code), namespace(code)
    theirs, ours = home.module(package), visitor.module(package)
    item = theirs.Item("x", theirs.Kind.A)
    moved = translate({"items": (item,), "n": 1}, home, visitor)
    assert type(moved["items"][0]) is ours.Item
    assert moved["items"][0] == ours.Item("x", ours.Kind.A)
    assert moved["n"] == 1


def test_a_double_from_another_namespace_raises_the_callers_exceptions(code):
    _, _, package = code
    home, visitor = namespace(code), namespace(code)
    theirs, ours = home.module(package), visitor.module(package)
    seen: list[object] = []

    class Double:
        name = "double"

        def make(self, item):
            seen.append(item)
            return theirs.Item("made", theirs.Kind.A)

        def refuse(self):
            raise theirs.Refused("no")

    double = cross(Double(), home, visitor)
    assert double.name == "double"
    made = double.make(ours.Item("arg", ours.Kind.A))
    assert type(made) is ours.Item
    assert type(seen[0]) is theirs.Item  # arguments arrive as the double's own classes
    with pytest.raises(ours.Refused, match="no"):
        double.refuse()
    assert cross(seen, home, home) is seen  # within one namespace nothing is wrapped


def test_an_object_that_cannot_cross_is_refused_loudly(code):
    layer, _, package = code
    (layer / package / "opaque.py").write_text("class Opaque:\n    pass\n")
    home, visitor = namespace(code), namespace(code)
    with pytest.raises(TypeError, match="cannot hand"):
        translate(home.module(f"{package}.opaque").Opaque(), home, visitor)


def test_the_host_namespace_is_the_process_own_modules():
    host = HostNamespace({"tollgate"})
    assert host.module("tollgate") is sys.modules["tollgate"]
    assert host.owns("tollgate.clock") == "tollgate.clock"
    assert host.owns("json") is None
