"""A function's init phase without the cyclic garbage collector.

Importing a function builds some hundred thousand long-lived objects (botocore's service
models, pydantic's and Powertools' tables, the layer's modules), and the collector would
walk them again and again while they are made: measured, about a sixth of a cold import.
Every ``functions/<name>/app.py`` calls :func:`begin` before its other imports and
:func:`end` once its module is built: collection is off while it loads, then everything
loaded is frozen (``gc.freeze``: never scanned again, so invocations' collections stay
small) and the collector is back on for the invocations.
"""

from __future__ import annotations

import gc


def begin() -> None:
    gc.disable()


def end() -> None:
    gc.freeze()
    gc.enable()


__all__ = ["begin", "end"]
