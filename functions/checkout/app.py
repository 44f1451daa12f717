"""CheckoutFunction: credit packages, checkout with Stripe or Paystack, the caller's purchases
and their refunds (eligibility, requests, status); a wallet's saved card and auto top-up (Stripe).

The Stripe SDK is imported only when a Stripe checkout happens (the gateway adapter is lazy).
"""

from __future__ import annotations

from tollgate import coldstart

coldstart.begin()  # the init phase runs without the cyclic GC (tollgate/coldstart.py)

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from tollgate import autotopup, http, lazy, refunds
from tollgate.autotopup.schemas import AutoTopUpIn, AutoTopUpOut, CardSetupOut, SavedCardIn
from tollgate.http.params import Cursor, IdPath, Limit, WalletIdQuery
from tollgate.purchases import catalog, service
from tollgate.purchases.schemas import CheckoutIn, PackageList, PurchaseList, PurchaseOut
from tollgate.refunds.schemas import EligibilityOut, RefundIn, RefundList, RefundOut

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


@app.get("/v1/purchases/<purchase_id>/refund-eligibility", summary="Whether, and how much of, a purchase can be "
         "refunded", tags=["refunds"], responses=http.responses(200, EligibilityOut, 404))
def get_refund_eligibility(purchase_id: IdPath) -> EligibilityOut:
    return refunds.purchase_eligibility(http.principal(app), purchase_id)


@app.post("/v1/purchases/<purchase_id>/refunds", summary="Ask for a refund of a purchase's unused credits",
          tags=["refunds"], responses=http.responses(202, RefundOut, 403, 404, 409, 503))
def post_refund(purchase_id: IdPath, body: RefundIn) -> Response[RefundOut]:
    principal = http.principal(app)
    refund = refunds.request_refund(principal, purchase_id, body, http.idempotency_key(app, required=False))
    metrics.add_metric(name="RefundRequested", unit=MetricUnit.Count, value=1)
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=refund)


@app.get("/v1/refunds", summary="The caller's refunds, newest first", tags=["refunds"],
         responses=http.responses(200, RefundList))
def get_refunds(limit: Limit = 25, cursor: Cursor = None) -> RefundList:
    return refunds.list_refunds(http.principal(app), limit=limit, cursor=cursor, status=None, wallet_id=None,
                                everyone=False)


@app.get("/v1/refunds/<refund_id>", summary="One refund and its workflow's steps", tags=["refunds"],
         responses=http.responses(200, RefundOut, 404))
def get_refund(refund_id: IdPath) -> RefundOut:
    return refunds.get_refund(http.principal(app), refund_id)


@app.post("/v1/wallet/payment-method", summary="Start saving a card for auto top-up (a Stripe SetupIntent)",
          tags=["auto top-up"], responses=http.responses(201, CardSetupOut, 403, 404, 502, 503))
def post_payment_method(wallet_id: WalletIdQuery = None) -> Response[CardSetupOut]:
    setup = autotopup.start_card_setup(http.principal(app), wallet_id)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=setup)


@app.put("/v1/wallet/payment-method", summary="Keep the card a confirmed setup saved", tags=["auto top-up"],
         responses=http.responses(200, AutoTopUpOut, 403, 404, 409, 502, 503))
def put_payment_method(body: SavedCardIn, wallet_id: WalletIdQuery = None) -> AutoTopUpOut:
    return autotopup.save_card(http.principal(app), wallet_id, body)


@app.get("/v1/wallet/auto-top-up", summary="The wallet's auto top-up: settings, card, what it charged this month",
         tags=["auto top-up"], responses=http.responses(200, AutoTopUpOut, 404))
def get_auto_top_up(wallet_id: WalletIdQuery = None) -> AutoTopUpOut:
    return autotopup.get_settings(http.principal(app), wallet_id)


@app.put("/v1/wallet/auto-top-up", summary="Turn auto top-up on (a saved card needed) or off", tags=["auto top-up"],
         responses=http.responses(200, AutoTopUpOut, 403, 404, 409))
def put_auto_top_up(body: AutoTopUpIn, wallet_id: WalletIdQuery = None) -> AutoTopUpOut:
    settings = autotopup.put_settings(http.principal(app), wallet_id, body)
    metrics.add_metric(name="AutoTopUpConfigured", unit=MetricUnit.Count, value=1)
    return settings


@logger.inject_lambda_context  # correlation_id: tollgate.http.resolve
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return http.resolve(app, event, context)


lazy.load(autotopup, refunds)  # the init phase imports what the handlers call (tollgate/lazy.py)
coldstart.end()
