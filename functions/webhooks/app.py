"""WebhooksFunction: Stripe and Paystack webhooks. No authorizer: the signature is the proof.

Verify the signature over the raw body (400 and nothing changes if it does not verify),
apply the event exactly once, record it for dedupe, answer 200 fast. Unknown events are
acknowledged and ignored.
"""

from __future__ import annotations

from tollgate import coldstart

coldstart.begin()  # the init phase runs without the cyclic GC (tollgate/coldstart.py)

import base64

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from tollgate import http
from tollgate.gateways import get_gateway
from tollgate.purchases import settlement

logger = Logger()
metrics = Metrics()
# No authorizer on these routes (template.yaml): the gateway's signature is checked instead.
app = http.create_app(public_routes=frozenset({"POST /v1/webhooks/stripe", "POST /v1/webhooks/paystack"}))


class WebhookReceived(BaseModel):
    received: bool
    event_id: str
    outcome: settlement.Outcome
    outcomes: list[settlement.Outcome]  # one per refund when an event carries several


def _receive(gateway_name: str) -> WebhookReceived:
    event = app.current_event.raw_event
    body = event.get("body") or ""
    # The signature covers the exact bytes the gateway sent.
    raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    gateway_event = get_gateway(gateway_name).parse_webhook(raw, dict(app.current_event.headers))
    result = settlement.handle(gateway_name, gateway_event)
    logger.info("webhook", extra={"gateway": gateway_name, "event_id": gateway_event.event_id,
                                  "type": gateway_event.raw_type, "outcomes": list(result.outcomes)})
    metrics.add_metric(name=f"Webhook_{result.outcome}", unit=MetricUnit.Count, value=1)
    return WebhookReceived(received=True, event_id=gateway_event.event_id, outcome=result.outcome,
                           outcomes=list(result.outcomes))


@app.post("/v1/webhooks/stripe", summary="Stripe webhook (Stripe-Signature)", tags=["webhooks"],
          responses=http.responses(200, WebhookReceived, 400, 503))
def post_stripe() -> WebhookReceived:
    return _receive("stripe")


@app.post("/v1/webhooks/paystack", summary="Paystack webhook (x-paystack-signature)", tags=["webhooks"],
          responses=http.responses(200, WebhookReceived, 400, 503))
def post_paystack() -> WebhookReceived:
    return _receive("paystack")


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return http.resolve(app, event, context)


coldstart.end()
