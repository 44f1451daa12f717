"""Token usage from a model's response, in the shape Tollgate prices: ``{"input_tokens", "output_tokens"}``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["UsageNotFound", "measure", "usage_from"]

_MEASURES = ("input_tokens", "output_tokens", "input_chars", "output_chars")
# Anthropic counts prompt-cache reads and writes apart from input_tokens; they are input all the same.
_ANTHROPIC_CACHE = ("cache_creation_input_tokens", "cache_read_input_tokens")


class UsageNotFound(ValueError):
    """The object carries no token usage this module can read."""


def _get(obj: Any, name: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def _count(obj: Any, name: str) -> int | None:
    value = _get(obj, name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UsageNotFound(f"usage.{name} is not a token count: {value!r}")
    return value


def usage_from(response: Any) -> dict[str, int]:
    """``{"input_tokens", "output_tokens"}`` from an OpenAI- or Anthropic-style response.

    ``response`` is the response (a dict, or an SDK object with attributes) or its ``usage``:

    * OpenAI Chat Completions: ``usage.prompt_tokens`` and ``usage.completion_tokens``;
    * OpenAI Responses and Anthropic Messages: ``usage.input_tokens`` and ``usage.output_tokens``
      (Anthropic's ``cache_creation_input_tokens`` and ``cache_read_input_tokens`` are input
      tokens too, and are added to ``input_tokens``).

    A count that is absent is 0; raises :class:`UsageNotFound` when there is no usage at all.
    """
    usage = _get(response, "usage")
    if usage is None:
        usage = response
    if usage is None or isinstance(usage, str | bytes | int | float):
        raise UsageNotFound(f"no token usage in {type(response).__name__}")
    prompt, completion = _count(usage, "prompt_tokens"), _count(usage, "completion_tokens")
    inputs, outputs = _count(usage, "input_tokens"), _count(usage, "output_tokens")
    if inputs is not None or outputs is not None:
        cached = sum(_count(usage, name) or 0 for name in _ANTHROPIC_CACHE)
        return {"input_tokens": (inputs or 0) + cached, "output_tokens": outputs or 0}
    if prompt is not None or completion is not None:
        return {"input_tokens": prompt or 0, "output_tokens": completion or 0}
    raise UsageNotFound(
        f"no token usage in {type(response).__name__}: expected usage.prompt_tokens/completion_tokens "
        "(OpenAI) or usage.input_tokens/output_tokens (Anthropic, OpenAI Responses)")


def measure(usage: Any) -> dict[str, int]:
    """Usage as the API takes it. A mapping of only ``input_tokens``/``output_tokens`` or
    ``input_chars``/``output_chars`` passes as it is (``None`` counts dropped); anything else
    (a response, or its ``usage``) is read by :func:`usage_from`."""
    if isinstance(usage, Mapping) and usage and all(key in _MEASURES for key in usage):
        counts = {key: _count(usage, key) for key in _MEASURES}
        return {key: value for key, value in counts.items() if value is not None}
    return usage_from(usage)
