"""Field types shared by every domain's pydantic schemas.

Credit amounts travel as decimal strings (or exact JSON numbers) and are parsed straight
into integer millicredits, so no schema ever holds a float. The JSON schema each type
publishes (OpenAPI) is exactly what its parser accepts, no looser and no stricter.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from functools import partial
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, WithJsonSchema

from tollgate.amounts import AmountError, format_credits, parse_credits
from tollgate.principal import WALLET_ID_PATTERN


class Schema(BaseModel):
    """Every API schema. Built on first use (``defer_build``): a cold start builds the
    validators and serializers of the route it serves, not those of every route the function has.
    """

    model_config = ConfigDict(defer_build=True)


class RequestModel(Schema):
    """A request body: unknown fields refused, and every value of its JSON type, exactly as documented.

    Strict, so pydantic's lax coercions (0 or "no" for a boolean, "12" for an integer) are
    422s, as the OpenAPI document says; credit amounts parse their own string-or-number form.
    """

    model_config = ConfigDict(extra="forbid", strict=True)


# Cross-field rules, published in the JSON schema too (model_config's json_schema_extra), so the
# document refuses what the model's validators refuse. A null field counts as absent.
_NOT_NULL = {"not": {"type": "null"}}


def require_any(model: Any, names: tuple[str, ...]) -> None:
    """A partial change gives at least one of ``names`` (a null is absent): ValueError otherwise. The
    JSON Schema side is ``{"anyOf": [given(name) for name in names]}``."""
    if all(getattr(model, name) is None for name in names):
        raise ValueError(f"give at least one of {', '.join(names)}")


def given(name: str) -> dict[str, Any]:
    """JSON Schema: the field is present and not null (as a model validator reads "given")."""
    return {"required": [name], "properties": {name: _NOT_NULL}}


def exactly_one_group(*groups: tuple[str, ...]) -> dict[str, Any]:
    """Fields of exactly one group are given (at least one of them); the other groups' are null or absent."""
    def absent(names: tuple[str, ...]) -> dict[str, Any]:
        return {"properties": {n: {"type": "null"} for n in names}}

    return {"oneOf": [
        {"allOf": [{"anyOf": [given(n) for n in group]}, *(absent(other) for other in groups if other is not group)]}
        for group in groups
    ]}


def at_most_one(*names: str) -> dict[str, Any]:
    """No two of these fields are given together."""
    return {"not": {"anyOf": [{"allOf": [given(a), given(b)]} for a, b in itertools.combinations(names, 2)]}}


# A credit amount in a request: a decimal string or a JSON number, both exact to 0.001 and within
# one billion credits. Each variant's JSON schema states exactly what its parser accepts (a test
# holds them to it), so a client generated from the document sends only what the server takes.
_MAX = 1_000_000_000
_POSITIVE = r"(?:[1-9][0-9]{0,8}(?:\.[0-9]{1,3}0*)?|1000000000(?:\.0+)?|0\.(?:[1-9][0-9]{0,2}|0[1-9][0-9]?|00[1-9])0*)"
_NON_NEGATIVE = r"(?:(?:0|[1-9][0-9]{0,8})(?:\.[0-9]{1,3}0*)?|1000000000(?:\.0+)?)"
_DESCRIPTION = ("Credits: a decimal string with at most 3 fractional digits (\"12.5\"), or a JSON number "
                "that is a multiple of 0.001; at most 1,000,000,000.")


def _credits_schema(*, allow_negative: bool, allow_zero: bool) -> dict[str, Any]:
    if allow_negative:
        text, number = f"^-?{_POSITIVE}$", {"minimum": -_MAX, "maximum": _MAX, "not": {"const": 0}}
    elif allow_zero:
        text, number = f"^{_NON_NEGATIVE}$", {"minimum": 0, "maximum": _MAX}
    else:
        text, number = f"^{_POSITIVE}$", {"exclusiveMinimum": 0, "maximum": _MAX}
    return {
        "anyOf": [{"type": "string", "pattern": text}, {"type": "number", "multipleOf": 0.001, **number}],
        "description": _DESCRIPTION,
        "examples": ["12.5"],
    }


_DECIMAL_STRING_OUT = {"type": "string", "pattern": r"^-?(0|[1-9][0-9]*)(\.[0-9]{1,3})?$", "examples": ["12.5"]}


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
        WithJsonSchema(_credits_schema(allow_negative=allow_negative, allow_zero=allow_zero), mode="validation"),
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

def _whole_number(value: Any) -> Any:
    # JSON Schema counts 3.0 as an integer; the body parser reads it as Decimal("3.0"). The
    # exponent bound keeps int() from materialising a number like 1e999999999.
    if isinstance(value, Decimal) and value.is_finite() and value.adjusted() < 20 and value == value.to_integral_value():
        return int(value)
    return value


def integer(ge: int, le: int, **field: Any) -> Any:
    """A JSON integer in ``[ge, le]`` (``3.0`` included, as JSON Schema reads it); never a string or a boolean."""
    # The constraints come first: a validator before them would hide them from the JSON schema.
    return Annotated[int, Field(strict=True, ge=ge, le=le, **field), BeforeValidator(_whole_number)]


StrictCount = integer(0, 1_000_000_000)
StrictPositiveCount = integer(1, 1_000_000_000)
WalletId = Annotated[str, Field(min_length=3, max_length=145, pattern=WALLET_ID_PATTERN)]
# Catalog ids (features, packages): chosen by admins, lower case.
SLUG_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"
FeatureId = Annotated[str, Field(min_length=1, max_length=64, pattern=SLUG_PATTERN)]
