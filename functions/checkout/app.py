"""CheckoutFunction: credit packages, checkout with Stripe or Paystack, the caller's purchases.

The Stripe SDK is imported only when a Stripe checkout happens (the gateway adapter is lazy).
"""

from __future__ import annotations

from tollgate import coldstart

coldstart.begin()  # the init phase runs without the cyclic GC (tollgate/coldstart.py)

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from tollgate import http
from tollgate.http.params import Cursor, IdPath, Limit, WalletIdQuery
from tollgate.purchases import catalog, service
from tollgate.purchases.schemas import CheckoutIn, PackageList, PurchaseList, PurchaseOut

logger = Logger()
metrics = Metrics()
app = http.create_app()


@app.get("/v1/packages", summary="Credit packages on sale", tags=["purchases"],
         responses=http.responses(200, PackageList))
def get_packages() -> PackageList:
    http.principal(app)
    return PackageList(data=catalog.list_packages())


@app.post("/v1/checkout", summary="Start buying credits (Stripe or Paystack)", tags=["purchases"],
          responses=http.responses(201, PurchaseOut, 403, 404, 409, 429, 502, 503))
def post_checkout(body: CheckoutIn) -> Response[PurchaseOut]:
    principal = http.principal(app)
    purchase = service.checkout(principal, body, http.idempotency_key(app, required=False))
    metrics.add_metric(name="CheckoutStarted", unit=MetricUnit.Count, value=1)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=purchase)


@app.get("/v1/purchases", summary="The caller's purchases; admins: everyone's (or one wallet's)", tags=["purchases"],
         responses=http.responses(200, PurchaseList, 404))
def get_purchases(
    limit: Limit = 25,
    cursor: Cursor = None,
    wallet_id: WalletIdQuery = None,
) -> PurchaseList:
    return service.list_purchases(http.principal(app), limit=limit, cursor=cursor, wallet_id=wallet_id)


@app.get("/v1/purchases/<purchase_id>", summary="One purchase", tags=["purchases"],
         responses=http.responses(200, PurchaseOut, 404))
def get_purchase(purchase_id: IdPath) -> PurchaseOut:
    return service.get_purchase(http.principal(app), purchase_id)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return http.resolve(app, event, context)


coldstart.end()
