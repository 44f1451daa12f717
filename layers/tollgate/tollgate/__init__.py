"""Tollgate's domain package, shipped to every function as the shared layer.

Modules are imported on demand by each function so that a handler pays only for
what it uses (the deduction path never imports gateway SDKs or JWT libraries).
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
