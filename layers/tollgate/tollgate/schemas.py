"""Field types shared by every domain's pydantic schemas.

Credit amounts travel as decimal strings and are parsed straight into integer
millicredits, so no schema ever holds a float. The JSON schema each type publishes
(OpenAPI) says "decimal string", whatever the parser also tolerates.
"""

from __future__ import annotations

from decimal import Decimal
from functools import partial
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainSerializer, WithJsonSchema

from tollgate.amounts import AmountError, format_credits, parse_credits

_CREDITS_SCHEMA = {
    "type": "string",
    "pattern": r"^-?\d+(\.\d{1,3})?$",
    "description": "Credits as a decimal string with at most 3 fractional digits (numbers accepted).",
    "examples": ["12.5"],
}
_DECIMAL_STRING_OUT = {"type": "string", "pattern": r"^-?\d+(\.\d{1,3})?$", "examples": ["12.5"]}


def _credits(value: Any, *, allow_negative: bool, allow_zero: bool) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        value = Decimal(value)
    try:
        return parse_credits(value, allow_negative=allow_negative, allow_zero=allow_zero, field="value")
    except AmountError as exc:
        raise ValueError(str(exc).removeprefix("value ")) from None


def _credits_in(*, allow_negative: bool, allow_zero: bool) -> Any:
    return Annotated[
        int,
        BeforeValidator(partial(_credits, allow_negative=allow_negative, allow_zero=allow_zero)),
        WithJsonSchema(_CREDITS_SCHEMA, mode="validation"),
    ]


# Request fields (parsed into millicredits).
PositiveCredits = _credits_in(allow_negative=False, allow_zero=False)
NonNegativeCredits = _credits_in(allow_negative=False, allow_zero=True)
SignedCredits = _credits_in(allow_negative=True, allow_zero=False)

# Response fields: millicredits rendered as decimal strings.
CreditsOut = Annotated[
    int,
    PlainSerializer(format_credits, return_type=str),
    WithJsonSchema(_DECIMAL_STRING_OUT, mode="serialization"),
]
OptionalCreditsOut = Annotated[
    int | None,
    PlainSerializer(lambda v: None if v is None else format_credits(v), return_type=str | None),
    WithJsonSchema({"anyOf": [_DECIMAL_STRING_OUT, {"type": "null"}]}, mode="serialization"),
]

StrictCount = Annotated[int, Field(strict=True, ge=0, le=1_000_000_000)]
StrictPositiveCount = Annotated[int, Field(strict=True, ge=1, le=1_000_000_000)]
WalletId = Annotated[str, Field(min_length=3, max_length=145, pattern=r"^[a-z][a-z0-9_-]{0,15}:[A-Za-z0-9._:@|+=-]{1,128}$")]
FeatureId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]
