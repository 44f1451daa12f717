"""Building blocks of the gateways' pydantic models (``stripe/schemas.py``, ``paystack/schemas.py``).

A gateway object is read into a model that types the fields Tollgate uses and ignores every
other one (gateways add fields without notice). Amounts are exact: an integer, or a string
of digits (Paystack sends both), never a float, a bool or a negative number. A body that does
not fit its model is a :class:`MalformedWebhook` (422) when it came signed in a webhook and a
:class:`GatewayError` (502) when it is the gateway's answer to a call, each naming the first
offending field.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from tollgate.gateways.exceptions import GatewayError, MalformedWebhook

_DIGITS = re.compile(r"[0-9]+")


class GatewayObject(BaseModel):
    """A gateway's JSON object: the fields Tollgate reads, typed; the others ignored."""

    # Built on first use, as the API schemas are: a cold start builds only the event types it reads.
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)


Model = TypeVar("Model", bound=GatewayObject)


def _minor_units(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("an amount is a whole number of minor units, not a boolean")
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        return int(value.strip())
    raise ValueError("an amount is a whole, non-negative number of minor units")


def _required_id(value: Any) -> str:
    text = scalar_id(value)
    if text is None:
        raise ValueError("an id is a non-empty string or a number")
    return text


def scalar_id(value: Any) -> str | None:
    """A scalar id as text; None for a missing, empty or structured value."""
    if value in (None, "") or isinstance(value, dict | list | bool | float):
        return None
    return str(value)


def _currency(value: Any) -> str | None:
    return value.upper() if isinstance(value, str) and value else None


def _metadata(value: Any) -> dict[str, Any]:
    """Metadata as an object; Paystack also echoes it as a JSON string, ``""``, ``0`` or ``null``."""
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


MinorUnits = Annotated[int, BeforeValidator(_minor_units)]
RequiredId = Annotated[str, BeforeValidator(_required_id)]
OptionalId = Annotated[str | None, BeforeValidator(scalar_id)]
Currency = Annotated[str | None, BeforeValidator(_currency)]
Metadata = Annotated[dict[str, Any], BeforeValidator(_metadata)]


def purchase_id_in(metadata: dict[str, Any]) -> str | None:
    """The purchase id Tollgate wrote into a payment's metadata, if it is there."""
    value = metadata.get("purchase_id")
    return value if isinstance(value, str) and value else None


def _first_problem(exc: ValidationError, prefix: str) -> tuple[str, str]:
    error = exc.errors(include_url=False, include_input=False)[0]
    parts = [*(prefix.split(".") if prefix else ()), *(str(part) for part in error["loc"])]
    where = ".".join(parts) or "body"
    return where, str(error["msg"]).removeprefix("Value error, ")


def webhook_object(model: type[Model], value: Any, *, gateway: str, where: str = "") -> Model:
    """``value`` (part of a verified webhook, found at ``where``) as ``model``, or MalformedWebhook."""
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        field, problem = _first_problem(exc, where)
        raise MalformedWebhook(f"The {gateway.capitalize()} webhook's {field} is unusable: {problem}",
                               gateway=gateway, field=field) from None


def answer_object(model: type[Model], value: Any, *, gateway: str, what: str) -> Model:
    """``value`` (the gateway's answer to the call ``what``) as ``model``, or GatewayError."""
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        field, problem = _first_problem(exc, "")
        raise GatewayError(f"The {gateway.capitalize()} answer ({what}) has an unusable {field}: {problem}",
                           gateway=gateway) from None


def json_object(raw: bytes, *, gateway: str) -> dict[str, Any]:
    """A verified webhook body as a JSON object, or MalformedWebhook."""
    try:
        payload = json.loads(raw.decode("utf-8"))  # JSON on the wire is UTF-8 (RFC 8259)
    except ValueError:  # UnicodeDecodeError is one
        raise MalformedWebhook(f"The {gateway.capitalize()} webhook body is not JSON", gateway=gateway) from None
    if not isinstance(payload, dict):
        raise MalformedWebhook(f"The {gateway.capitalize()} webhook body is not a JSON object", gateway=gateway)
    return payload


__all__ = [
    "Currency",
    "GatewayObject",
    "Metadata",
    "MinorUnits",
    "OptionalId",
    "RequiredId",
    "answer_object",
    "json_object",
    "purchase_id_in",
    "scalar_id",
    "webhook_object",
]
