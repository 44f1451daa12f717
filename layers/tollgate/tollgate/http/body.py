"""Request bodies: JSON only, parsed exactly and within bounds that no client can push past.

Every number becomes an ``int`` or a ``Decimal`` (never a ``float``). Four things would
otherwise escape as server errors, so each is refused as invalid JSON (422) instead:
nesting deep enough to exhaust the parser's recursion (checked by a flat scan before any
recursive parsing starts), integers past Python's int-string conversion limit, numbers
``Decimal`` cannot hold, and strings with an unpaired UTF-16 surrogate escape (``"\\ud800"``),
which no UTF-8 store can keep. A JSON number here never needs more than
:data:`MAX_NUMBER_CHARS` characters (DynamoDB keeps 38 significant digits).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn

MAX_DEPTH = 32
MAX_NUMBER_CHARS = 100

_STRING_RE = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS_RE = re.compile(r"[\[\]{}]")
_SURROGATE_ESCAPE_RE = re.compile(r"\\u[dD][89a-fA-F]")


def _invalid(message: str, doc: str = "", pos: int = 0) -> NoReturn:
    raise json.JSONDecodeError(message, doc, pos)


def _reject_constant(name: str) -> NoReturn:
    # json.loads accepts NaN/Infinity by default; no amount may ever be one.
    _invalid(f"{name} is not valid JSON", name)


def _parse_int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        _invalid(f"numbers may have at most {MAX_NUMBER_CHARS} characters", text)
    return int(text)


def _parse_decimal(text: str) -> Decimal:
    if len(text) > MAX_NUMBER_CHARS:
        _invalid(f"numbers may have at most {MAX_NUMBER_CHARS} characters", text)
    try:
        return Decimal(text)
    except InvalidOperation:  # an exponent beyond what Decimal can hold
        _invalid("number out of range", text)


def nests_deeper_than(text: str, limit: int) -> bool:
    """Whether arrays and objects nest past ``limit``, found without recursion (brackets in strings do not count)."""
    # Too few brackets to nest that deep: the common case, decided at C speed.
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for bracket in _BRACKETS_RE.findall(_STRING_RE.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        if depth > limit:
            return True
    return False


def parse_json(text: str) -> Any:
    """JSON with every number exact (``int`` or ``Decimal``) and bounded; raises ``JSONDecodeError``."""
    if nests_deeper_than(text, MAX_DEPTH):
        _invalid(f"JSON may nest at most {MAX_DEPTH} levels", text)
    value = json.loads(text, parse_int=_parse_int, parse_float=_parse_decimal, parse_constant=_reject_constant)
    # Only a \\uD8xx-\\uDFxx escape can make one; pairs are fine, so look closer only when one is there.
    if _SURROGATE_ESCAPE_RE.search(text) and _has_lone_surrogate(value):
        _invalid("a string holds an unpaired surrogate escape", text)
    return value


def parse_json_object(text: str) -> dict[str, Any] | None:
    """A request body: :func:`parse_json`, and an object, or ``null`` where the body is optional (the
    document says so). Without this an array or a scalar sent to a route whose body is optional
    would read as no body at all."""
    value = parse_json(text)
    if value is not None and not isinstance(value, dict):
        _invalid("body must be a JSON object", text)
    return value


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def media_type(content_type: str) -> str:
    """``"Application/JSON; charset=utf-8"`` -> ``"application/json"``."""
    return content_type.split(";", 1)[0].strip().lower()


def is_json_media_type(content_type: str | None) -> bool:
    """``application/json`` with any parameters; a missing Content-Type reads as JSON, as Powertools reads it."""
    return not content_type or not content_type.strip() or media_type(content_type) == "application/json"
