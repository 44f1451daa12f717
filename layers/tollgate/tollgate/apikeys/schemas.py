from __future__ import annotations

from pydantic import ConfigDict, Field, field_validator, model_validator

from tollgate.principal import SCOPES, ApiKeyScope
from tollgate.ratelimit import DEFAULT_PER_SECOND, MAX_PER_SECOND
from tollgate.schemas import RequestModel, Schema, given, integer, require_any

_SCOPES_DOC = ("What the key may do: usage (POST /v1/usage), reservations (hold, settle, release), reversal "
               "(give back what it charged, within the reversal window). Every key may read wallets and history.")


class ApiKeyIn(RequestModel):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[ApiKeyScope] = Field(default_factory=lambda: list(SCOPES), min_length=1, max_length=len(SCOPES),
                                      json_schema_extra={"uniqueItems": True},
                                      description=_SCOPES_DOC + " Default: all three, each at most once.")
    rate_limit_per_second: integer(1, MAX_PER_SECOND) = Field(
        default=DEFAULT_PER_SECOND,
        description="Requests a second the key may make; more are answered 429 rate_limited with Retry-After")

    @field_validator("scopes")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("scopes must not repeat")
        return sorted(value)


_EDITABLE = ("name", "scopes", "rate_limit_per_second")


class ApiKeyUpdate(RequestModel):
    """What to change on a key, in place (its secret stays): at least one field; a null is absent."""

    model_config = ConfigDict(json_schema_extra={"anyOf": [given(name) for name in _EDITABLE]})

    name: str | None = Field(default=None, min_length=1, max_length=100)
    scopes: list[ApiKeyScope] | None = Field(default=None, min_length=1, max_length=len(SCOPES),
                                             json_schema_extra={"uniqueItems": True},
                                             description=_SCOPES_DOC + " Replaces the key's scopes.")
    rate_limit_per_second: integer(1, MAX_PER_SECOND) | None = Field(  # type: ignore[valid-type]
        default=None, description="Requests a second the key may make from its next request on")

    @field_validator("scopes")
    @classmethod
    def _distinct(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("scopes must not repeat")
        return sorted(value) if value is not None else None

    @model_validator(mode="after")
    def _something(self) -> ApiKeyUpdate:
        require_any(self, _EDITABLE)
        return self


class ApiKeyCreated(Schema):
    key_id: str
    key: str = Field(description="The secret key. Shown once; only its hash is stored.")
    name: str
    scopes: list[ApiKeyScope] = Field(description=_SCOPES_DOC)
    rate_limit_per_second: int
    created_at: str


class ApiKeyOut(Schema):
    key_id: str
    name: str
    prefix: str
    scopes: list[ApiKeyScope] = Field(description=_SCOPES_DOC)
    rate_limit_per_second: int
    created_at: str
    created_by: str
    revoked_at: str | None = None
    active: bool


class ApiKeyList(Schema):
    data: list[ApiKeyOut]
