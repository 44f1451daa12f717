"""Pricing rules: exact integer arithmetic, rounded up to one millicredit.

* ``per_call``: ``credits`` per call (``quantity`` calls, default 1).
* ``per_unit``: ``credits`` x ``quantity`` (required).
* ``per_token``: ``input_credits`` per input token + ``output_credits`` per output token;
  tokens may be given directly or as characters at 4 characters per token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from tollgate.amounts import MAX_CREDITS_MC
from tollgate.pricing.exceptions import InvalidUsage

PricingType = Literal["per_call", "per_unit", "per_token"]
CHARS_PER_TOKEN = 4


@dataclass(frozen=True)
class Measurement:
    """What was (or will be) consumed; at most one of quantity / tokens / chars is set."""

    quantity: int | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    input_chars: int | None = None
    output_chars: int | None = None

    @property
    def has_tokens(self) -> bool:
        return self.input_tokens is not None or self.output_tokens is not None

    @property
    def has_chars(self) -> bool:
        return self.input_chars is not None or self.output_chars is not None

    @property
    def is_empty(self) -> bool:
        return self.quantity is None and not self.has_tokens and not self.has_chars

    def as_dict(self) -> dict[str, int]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class PricingRule:
    type: PricingType
    credits_mc: int = 0
    input_mc: int = 0
    output_mc: int = 0

    def cost(self, m: Measurement) -> int:
        if self.type in ("per_call", "per_unit"):
            if m.has_tokens or m.has_chars:
                raise InvalidUsage(f"feature is priced {self.type}; send quantity, not usage")
            if m.quantity is None:
                if self.type == "per_unit":
                    raise InvalidUsage("feature is priced per_unit; quantity is required")
                return _capped(self.credits_mc)
            return _capped(self.credits_mc * m.quantity)
        if m.quantity is not None:
            raise InvalidUsage("feature is priced per_token; send usage, not quantity")
        if m.has_tokens:
            return _capped((m.input_tokens or 0) * self.input_mc + (m.output_tokens or 0) * self.output_mc)
        if m.has_chars:
            scaled = (m.input_chars or 0) * self.input_mc + (m.output_chars or 0) * self.output_mc
            return _capped(-(-scaled // CHARS_PER_TOKEN))  # ceil: never undercharge a partial token
        raise InvalidUsage("feature is priced per_token; usage is required")

    def to_item(self) -> dict[str, Any]:
        if self.type == "per_token":
            return {"type": self.type, "input_mc": self.input_mc, "output_mc": self.output_mc}
        return {"type": self.type, "credits_mc": self.credits_mc}

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> PricingRule:
        return cls(
            type=item["type"],
            credits_mc=int(item.get("credits_mc", 0)),
            input_mc=int(item.get("input_mc", 0)),
            output_mc=int(item.get("output_mc", 0)),
        )


def _capped(cost: int) -> int:
    if cost > MAX_CREDITS_MC:
        raise InvalidUsage("the computed cost exceeds the maximum single charge")
    return cost
