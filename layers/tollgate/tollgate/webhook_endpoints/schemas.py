from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, Strict, field_validator, model_validator

from tollgate.events.types import EventType
from tollgate.schemas import RequestModel, Schema, given, require_any


def _distinct_events(value: list[str]) -> list[str]:
    if len(set(value)) != len(value):
        raise ValueError("events must not repeat")
    return ["*"] if "*" in value else sorted(value)


_EVENTS_DOC = ("The event types to deliver, or [\"*\"] for every type (types added later included). "
               "Each at most once.")
# An enum parses from its JSON string (a strict model would want the enum object itself).
EventSelector = Annotated[EventType, Strict(False)] | Literal["*"]


class WebhookEndpointIn(RequestModel):
    url: str = Field(min_length=8, max_length=2048, examples=["https://example.com/hooks/tollgate"],
                     description="Where deliveries are POSTed: https (in make dev also http://127.0.0.1 or "
                                 "http://localhost). Never a private or link-local address; redirects are not "
                                 "followed.")
    events: list[EventSelector] = Field(min_length=1, max_length=len(EventType) + 1,
                                        json_schema_extra={"uniqueItems": True}, description=_EVENTS_DOC)
    description: str = Field(default="", max_length=500)

    @field_validator("events")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        return _distinct_events(value)


_EDITABLE = ("url", "events", "description", "enabled")


class WebhookEndpointUpdate(RequestModel):
    """What to change on an endpoint, in place (its secret stays): at least one field; a null is absent.
    ``enabled: true`` turns a disabled endpoint back on (events from then on are delivered; earlier
    failed deliveries can be re-sent); ``false`` stops deliveries without deleting it."""

    model_config = ConfigDict(json_schema_extra={"anyOf": [given(name) for name in _EDITABLE]})

    url: str | None = Field(default=None, min_length=8, max_length=2048, examples=["https://example.com/hooks/v2"],
                            description="Where deliveries are POSTed from now on (the same rules as on create)")
    events: list[EventSelector] | None = Field(default=None, min_length=1, max_length=len(EventType) + 1,
                                               json_schema_extra={"uniqueItems": True},
                                               description=_EVENTS_DOC + " Replaces the endpoint's.")
    description: str | None = Field(default=None, max_length=500)
    enabled: bool | None = Field(default=None, description="true: deliver again (a disabled endpoint); false: stop")

    @field_validator("events")
    @classmethod
    def _distinct(cls, value: list[str] | None) -> list[str] | None:
        return _distinct_events(value) if value is not None else None

    @model_validator(mode="after")
    def _something(self) -> WebhookEndpointUpdate:
        require_any(self, _EDITABLE)
        return self


class WebhookEndpointOut(Schema):
    endpoint_id: str
    url: str
    events: list[EventSelector] = Field(description=_EVENTS_DOC)
    description: str
    status: Literal["enabled", "disabled"] = Field(
        description="disabled: Tollgate stopped delivering after 3 days of failed attempts, or an admin turned it "
                    "off (see disabled_reason); PATCH enabled: true turns it back on")
    disabled_reason: str | None = None
    created_at: str
    created_by: str


class WebhookEndpointCreated(WebhookEndpointOut):
    secret: str = Field(description="The signing secret (whsec_...). Shown once: store it now. Deliveries carry "
                                    "Tollgate-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<body>\">.",
                        examples=["whsec_5f0c2b..."])


class WebhookEndpointList(Schema):
    data: list[WebhookEndpointOut]


class DeliveryAttemptOut(Schema):
    at: str
    status_code: int | None = Field(description="What the receiver answered; null: no answer (timeout, refused)")
    error: str | None = None
    duration_ms: int
    response: str = Field(default="", description="The start of the receiver's answer")


class WebhookDeliveryOut(Schema):
    event_id: str
    event_type: str
    status: Literal["pending", "delivered", "failed"] = Field(
        description="pending: to be tried (again); failed: given up after 3 days (the endpoint was disabled)")
    created_at: str
    attempt_count: int
    attempts: list[DeliveryAttemptOut] = Field(description="The latest attempts, newest first (up to 10)")
    next_attempt_at: str | None = None
    delivered_at: str | None = None


class WebhookDeliveryList(Schema):
    data: list[WebhookDeliveryOut]
    next_cursor: str | None = None
