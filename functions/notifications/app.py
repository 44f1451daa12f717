"""NotificationsFunction: what Tollgate tells the platform and when. Webhook endpoints (admin role)
and a wallet's alerts (its owner, an org wallet's owners, or an admin).

Every ``/v1/admin/`` route needs the admin role: the edge checks it (``required_role``) before any
input is read. A wallet's alerts are authorized by the service (``orgs.wallet_for_managing``).
"""

from __future__ import annotations

from tollgate import coldstart

coldstart.begin()  # the init phase runs without the cyclic GC (tollgate/coldstart.py)

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from tollgate import alerts, http, lazy, webhook_endpoints
from tollgate.alerts.schemas import WalletAlertsIn, WalletAlertsOut
from tollgate.http.params import Cursor, IdPath, Limit, WalletIdQuery
from tollgate.principal import ADMIN
from tollgate.webhook_endpoints.schemas import (
    WebhookDeliveryList,
    WebhookDeliveryOut,
    WebhookEndpointCreated,
    WebhookEndpointIn,
    WebhookEndpointList,
    WebhookEndpointOut,
    WebhookEndpointUpdate,
)

logger = Logger()
metrics = Metrics()
WALLET_ROUTES = frozenset({"GET /v1/wallet/alerts", "PUT /v1/wallet/alerts"})
app = http.create_app(required_role=ADMIN, self_authorized_routes=WALLET_ROUTES)


@app.post("/v1/admin/webhook-endpoints", summary="Register a webhook endpoint (its signing secret is shown once)",
          tags=["admin", "webhooks"], responses=http.responses(201, WebhookEndpointCreated, 409))
def post_webhook_endpoint(body: WebhookEndpointIn) -> Response[WebhookEndpointCreated]:
    created = webhook_endpoints.create(body, actor=http.principal(app).actor)
    metrics.add_metric(name="WebhookEndpointCreated", unit=MetricUnit.Count, value=1)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=created)


@app.get("/v1/admin/webhook-endpoints", summary="Webhook endpoints, newest first (no secrets)",
         tags=["admin", "webhooks"], responses=http.responses(200, WebhookEndpointList))
def list_webhook_endpoints() -> WebhookEndpointList:
    return WebhookEndpointList(data=webhook_endpoints.list_endpoints())


@app.get("/v1/admin/webhook-endpoints/<endpoint_id>", summary="One webhook endpoint (no secret)",
         tags=["admin", "webhooks"], responses=http.responses(200, WebhookEndpointOut, 404))
def get_webhook_endpoint(endpoint_id: IdPath) -> WebhookEndpointOut:
    return webhook_endpoints.get(endpoint_id)


@app.patch("/v1/admin/webhook-endpoints/<endpoint_id>",
           summary="Change a webhook endpoint in place (its secret stays); enabled: true turns a disabled one back on",
           tags=["admin", "webhooks"], responses=http.responses(200, WebhookEndpointOut, 404))
def patch_webhook_endpoint(endpoint_id: IdPath, body: WebhookEndpointUpdate) -> WebhookEndpointOut:
    return webhook_endpoints.update(endpoint_id, body, actor=http.principal(app).actor)


@app.delete("/v1/admin/webhook-endpoints/<endpoint_id>", summary="Delete a webhook endpoint: nothing more is sent",
            tags=["admin", "webhooks"], responses=http.responses(204, None, 404))
def delete_webhook_endpoint(endpoint_id: IdPath) -> Response[None]:
    webhook_endpoints.delete(endpoint_id, actor=http.principal(app).actor)
    return Response(status_code=204)


@app.get("/v1/admin/webhook-endpoints/<endpoint_id>/deliveries",
         summary="An endpoint's deliveries, newest first: status and the latest attempts", tags=["admin", "webhooks"],
         responses=http.responses(200, WebhookDeliveryList, 404))
def list_webhook_deliveries(endpoint_id: IdPath, limit: Limit = 20, cursor: Cursor = None) -> WebhookDeliveryList:
    return webhook_endpoints.list_deliveries(endpoint_id, limit=limit, cursor=cursor)


@app.post("/v1/admin/webhook-endpoints/<endpoint_id>/deliveries/<event_id>/resend",
          summary="Send an event to the endpoint again (queued; a delivery made already is made once more)",
          tags=["admin", "webhooks"], responses=http.responses(202, WebhookDeliveryOut, 404, 409))
def resend_webhook_delivery(endpoint_id: IdPath, event_id: IdPath) -> Response[WebhookDeliveryOut]:
    queued = webhook_endpoints.resend(endpoint_id, event_id)
    metrics.add_metric(name="WebhookDeliveryResent", unit=MetricUnit.Count, value=1)
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=queued)


@app.get("/v1/wallet/alerts", summary="The wallet's low-balance alert", tags=["wallet"],
         responses=http.responses(200, WalletAlertsOut, 404))
def get_wallet_alerts(wallet_id: WalletIdQuery = None) -> WalletAlertsOut:
    return alerts.get_alerts(http.principal(app), wallet_id)


@app.put("/v1/wallet/alerts", summary="Set or clear the wallet's low-balance alert (its owner, an org's owners)",
         tags=["wallet"], responses=http.responses(200, WalletAlertsOut, 403, 404))
def put_wallet_alerts(body: WalletAlertsIn, wallet_id: WalletIdQuery = None) -> WalletAlertsOut:
    return alerts.put_alerts(http.principal(app), wallet_id, body)


@logger.inject_lambda_context  # correlation_id: tollgate.http.resolve
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return http.resolve(app, event, context)


lazy.load(webhook_endpoints)  # the init phase imports what the handlers call (tollgate/lazy.py)
coldstart.end()
