"""Private module namespaces: each function's own copy of its code and its layers, in one process.

Lambda runs every function in containers of its own, so module-level state (clients, caches,
the clock offset, settings) is never shared between functions. The local stack gives each
function a worker process (``tollgate_local.worker``); in-process tests cannot, because moto's
``mock_aws`` lives in the test process. They give each function a namespace instead:

* everything found in the function's code directory or its layers (``app``, ``tollgate``...)
  is loaded again under a private prefix: the deduction function's clock is
  ``_lambda_DeductionFunction.tollgate.clock``, not ``tollgate.clock``;
* every ``import`` those modules execute, at import time or lazily at call time
  (``from tollgate import tokens`` inside a function), resolves to the same namespace's
  copies: their ``__builtins__`` carry an ``__import__`` that maps the names, so this holds
  whoever calls the code and from whichever thread, with no swapping of ``sys.modules``;
* third-party packages (boto3, botocore, pydantic, Powertools) stay shared: moto patches
  botocore in this process, and they hold no Tollgate state.

The process's own ``tollgate`` (what a test imports) is one more namespace, the host's.
Objects handed from one namespace to another (a test double given to a function) are
translated with :func:`cross`, as a process boundary would serialise them.
"""

from __future__ import annotations

import builtins
import dataclasses
import enum
import functools
import importlib
import importlib.machinery
import sys
import threading
import types
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

PREFIX = "_lambda_"
_real_import = builtins.__import__


class _Loader(importlib.machinery.SourceFileLoader):
    """Runs a namespace's module with the namespace's builtins (and so its ``__import__``)."""

    def __init__(self, fullname: str, path: str, namespace_builtins: dict[str, Any]) -> None:
        super().__init__(fullname, path)
        self._builtins = namespace_builtins

    def exec_module(self, module: types.ModuleType) -> None:
        module.__dict__["__builtins__"] = self._builtins
        super().exec_module(module)


class _Finder:
    """Finds ``_lambda_<name>.x.y`` on that namespace's search path (one finder for all)."""

    def __init__(self) -> None:
        self.namespaces: dict[str, FunctionNamespace] = {}

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: Any = None) -> Any:
        root, dot, _ = fullname.partition(".")
        namespace = self.namespaces.get(root)
        if namespace is None or not dot:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and isinstance(spec.loader, importlib.machinery.SourceFileLoader) and spec.origin:
            spec.loader = _Loader(fullname, spec.origin, namespace.builtins)
        return spec


_FINDER = _Finder()
_lock = threading.Lock()


class FunctionNamespace:
    """One function's modules: ``namespace.module("tollgate.clock")`` is its clock."""

    def __init__(self, name: str, search_path: Iterable[Path]) -> None:
        if not name.isidentifier():
            raise ValueError(f"a namespace name must be an identifier: {name!r}")
        self.name = name
        self.root = PREFIX + name
        # As Lambda's sys.path: the function's code first, then its layers (/var/task, /opt/python).
        self.search_path = [str(p) for p in search_path]
        self.builtins = {**builtins.__dict__, "__import__": self._import}
        self._private: dict[str, bool] = {}
        with _lock:
            if self.root in sys.modules:
                raise ValueError(f"namespace {name!r} exists already")
            package = types.ModuleType(self.root, f"the private modules of {name}")
            package.__path__ = list(self.search_path)
            package.__package__ = self.root
            sys.modules[self.root] = package
            _FINDER.namespaces[self.root] = self
            if _FINDER not in sys.meta_path:
                sys.meta_path.insert(0, _FINDER)

    def is_private(self, top_level: str) -> bool:
        """Does this name live in the function's code or layers (and so get a private copy)?"""
        found = self._private.get(top_level)
        if found is None:
            found = importlib.machinery.PathFinder.find_spec(top_level, self.search_path) is not None
            self._private[top_level] = found
        return found

    def _import(self, name: str, globals: Any = None, locals: Any = None,  # noqa: A002 - __import__'s own names
                fromlist: Sequence[str] | None = (), level: int = 0) -> types.ModuleType:
        top = name.partition(".")[0]
        if level == 0 and top and self.is_private(top):
            module = _real_import(f"{self.root}.{name}", globals, locals, fromlist, 0)
            # ``import tollgate.x`` binds the top package; ``from tollgate.x import y`` wants tollgate.x.
            return module if fromlist else sys.modules[f"{self.root}.{top}"]
        return _real_import(name, globals, locals, fromlist, level)

    def module(self, name: str) -> types.ModuleType:
        """This function's copy of ``name`` (imported into the namespace if it was not yet)."""
        if not self.is_private(name.partition(".")[0]):
            return importlib.import_module(name)
        return importlib.import_module(f"{self.root}.{name}")

    def owns(self, module_name: str) -> str | None:
        """``module_name`` as this namespace calls it, if the module is one of its copies."""
        return module_name[len(self.root) + 1 :] if module_name.startswith(self.root + ".") else None


class HostNamespace:
    """The process's own modules (``tollgate`` as a test imports it), seen as a namespace."""

    name = "host"
    root = ""

    def __init__(self, private_top_levels: Iterable[str]) -> None:
        self._private = frozenset(private_top_levels)

    def is_private(self, top_level: str) -> bool:
        return top_level in self._private

    def module(self, name: str) -> types.ModuleType:
        return importlib.import_module(name)

    def owns(self, module_name: str) -> str | None:
        return module_name if module_name.partition(".")[0] in self._private else None


Namespace = FunctionNamespace | HostNamespace


# -- crossing from one namespace into another ---------------------------------------------------


def _counterpart(cls: type, source: Namespace, target: Namespace) -> type:
    """The class ``target`` has where ``source`` has ``cls`` (itself when it is not a private one)."""
    relative = source.owns(cls.__module__)
    if relative is None:
        return cls
    found: Any = target.module(relative)
    for part in cls.__qualname__.split("."):
        found = getattr(found, part)
    return found


def translate(value: Any, source: Namespace, target: Namespace, *, strict: bool = True) -> Any:
    """``value``, made of ``source``'s classes, re-made of ``target``'s: exceptions, enums,
    dataclasses, pydantic models and the containers holding them. Objects of other classes
    pass as they are; one of ``source``'s own other classes is a TypeError when ``strict``
    (it would reach code that cannot know it), else it passes as it is."""
    if value is None or isinstance(value, str | bytes | int | float | bool):
        return value
    again = functools.partial(translate, source=source, target=target, strict=strict)
    if isinstance(value, list | tuple | set | frozenset) and type(value) in (list, tuple, set, frozenset):
        return type(value)(again(v) for v in value)
    if type(value) is dict:
        return {again(k): again(v) for k, v in value.items()}
    cls = type(value)
    other = _counterpart(cls, source, target)
    if other is cls:
        return value
    if isinstance(value, enum.Enum):
        return other(value.value)
    if isinstance(value, BaseException):
        made = other.__new__(other, *value.args)
        made.args = value.args
        made.__dict__.update({k: again(v) for k, v in vars(value).items()})
        return made
    if dataclasses.is_dataclass(value):
        fields = dataclasses.fields(value)
        made = other(**{f.name: again(getattr(value, f.name)) for f in fields if f.init})
        for f in fields:
            if not f.init:
                object.__setattr__(made, f.name, again(getattr(value, f.name)))
        return made
    if hasattr(value, "model_construct") and hasattr(value, "model_fields_set"):  # a pydantic model
        return other.model_construct(_fields_set=set(value.model_fields_set),
                                     **{k: again(v) for k, v in vars(value).items()})
    if not strict:
        return value
    raise TypeError(f"cannot hand a {cls.__module__}.{cls.__qualname__} from {source.name} to {target.name}")


class Crossing:
    """``obj`` (living in ``home``) as code in ``visitor`` sees it: calls cross the boundary as
    they would cross processes. Results and raised exceptions are re-made of ``visitor``'s
    classes, so ``except GatewayError`` in the function catches what a test double raises;
    arguments of ``home``'s classes where they have one (a double keeps what it was sent),
    as they are otherwise (a stand-in that ignores them need not understand them)."""

    def __init__(self, obj: Any, home: Namespace, visitor: Namespace) -> None:
        object.__setattr__(self, "_obj", obj)
        object.__setattr__(self, "_home", home)
        object.__setattr__(self, "_visitor", visitor)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._obj, name)
        return self._wrap(value) if callable(value) and not isinstance(value, type) else \
            translate(value, self._home, self._visitor)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._wrap(self._obj)(*args, **kwargs)

    def _wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        home, visitor = self._home, self._visitor

        @functools.wraps(fn)
        def crossing(*args: Any, **kwargs: Any) -> Any:
            args = translate(args, visitor, home, strict=False)
            kwargs = {k: translate(v, visitor, home, strict=False) for k, v in kwargs.items()}
            try:
                result = fn(*args, **kwargs)
            except Exception as exc:
                translated = translate(exc, home, visitor)
                if translated is exc:
                    raise
                raise translated from exc
            return translate(result, home, visitor)

        return crossing


def cross(obj: Any, home: Namespace, visitor: Namespace) -> Any:
    """``obj`` from ``home``, ready to be handed to code in ``visitor`` (itself when they are one)."""
    return obj if home is visitor else Crossing(obj, home, visitor)


__all__ = ["PREFIX", "Crossing", "FunctionNamespace", "HostNamespace", "Namespace", "cross", "translate"]
