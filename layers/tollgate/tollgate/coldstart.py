"""A function's init phase without the cyclic garbage collector, and without resolvers it never uses.

Importing a function builds some hundred thousand long-lived objects (botocore's service
models, pydantic's and Powertools' tables, the layer's modules), and the collector would
walk them again and again while they are made: measured, about a sixth of a cold import.
Every ``functions/<name>/app.py`` calls :func:`begin` before its other imports and
:func:`end` once its module is built: collection is off while it loads, then everything
loaded is frozen (``gc.freeze``: never scanned again, so invocations' collections stay
small) and the collector is back on for the invocations.

:func:`begin` also keeps Powertools' ``event_handler`` package from importing every resolver it
has (AppSync, AppSync events, Bedrock agents, VPC Lattice, Lambda function URLs, and asyncio with
them) when a function only needs the API Gateway one: about a tenth of an HTTP function's cold
import. The package is put in ``sys.modules`` unexecuted; its submodules import as usual, the API
Gateway names (``Response``, ``APIGatewayHttpResolver``, ...) come from their own module on first
use, and any other name runs the package's own ``__init__`` (everything, as without this).
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import sys
from typing import Any

EVENT_HANDLER = "aws_lambda_powertools.event_handler"
_API_GATEWAY = f"{EVENT_HANDLER}.api_gateway"
_API_GATEWAY_NAMES = frozenset({"ALBResolver", "APIGatewayHttpResolver", "ApiGatewayResolver",
                                "APIGatewayRestResolver", "CORSConfig", "Response"})


def begin() -> None:
    gc.disable()
    _defer_event_handler_resolvers()


def end() -> None:
    gc.freeze()
    gc.enable()


def _defer_event_handler_resolvers() -> None:
    if EVENT_HANDLER in sys.modules:
        return  # imported already (another function's module in this process, or a test)
    spec = importlib.util.find_spec(EVENT_HANDLER)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return
    package = importlib.util.module_from_spec(spec)  # __spec__, __path__ and __file__ set; not run
    init_ran = False

    def __getattr__(name: str) -> Any:
        nonlocal init_ran
        if name.startswith("__"):
            raise AttributeError(name)
        if name in _API_GATEWAY_NAMES:
            value = getattr(importlib.import_module(_API_GATEWAY), name)
        elif importlib.util.find_spec(f"{EVENT_HANDLER}.{name}") is not None:
            value = importlib.import_module(f"{EVENT_HANDLER}.{name}")  # a submodule (content_types, ...)
        else:
            if not init_ran:  # a name only the package's __init__ makes: all of it, as without this
                init_ran = True
                spec.loader.exec_module(package)  # type: ignore[union-attr]
            if name not in package.__dict__:
                raise AttributeError(f"module {EVENT_HANDLER!r} has no attribute {name!r}")
            value = package.__dict__[name]
        setattr(package, name, value)
        return value

    package.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules[EVENT_HANDLER] = package
    parent = importlib.import_module(EVENT_HANDLER.rpartition(".")[0])
    parent.event_handler = package  # type: ignore[attr-defined] - what the import system sets on a parent


__all__ = ["EVENT_HANDLER", "begin", "end"]
