from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, Strict, field_validator

from tollgate.events.types import EventType
from tollgate.schemas import RequestModel, Schema

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
        if len(set(value)) != len(value):
            raise ValueError("events must not repeat")
        return ["*"] if "*" in value else sorted(value)


class WebhookEndpointOut(Schema):
    endpoint_id: str
    url: str
    events: list[EventSelector] = Field(description=_EVENTS_DOC)
    description: str
    status: Literal["enabled", "disabled"] = Field(
        description="disabled: Tollgate stopped delivering after 3 days of failed attempts (see disabled_reason)")
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
