"""AdminFunction: feature catalog, packages, tiers, settings, wallet adjustments and inspection, server API
keys, refund approvals.

Every route needs the admin role: the edge checks it (``required_role``) before any input is read,
so a caller without it gets 403 whatever they send.
"""

from __future__ import annotations

from tollgate import coldstart

coldstart.begin()  # the init phase runs without the cyclic GC (tollgate/coldstart.py)

from typing import Annotated

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from tollgate import apikeys, http, ledger, pricing, refunds, tiers
from tollgate.apikeys.schemas import ApiKeyCreated, ApiKeyIn, ApiKeyList
from tollgate.http.params import Cursor, IdPath, Limit, SlugPath, WalletIdPath, WalletIdQuery
from tollgate.ledger.schemas import AdjustmentIn, AdjustmentOut, ReconciliationOut, WalletOut
from tollgate.pricing.schemas import FeatureIn, FeatureList, FeatureOut
from tollgate.principal import ADMIN
from tollgate.purchases import catalog
from tollgate.purchases.schemas import PackageIn, PackageList, PackageOut, SettingsIn, SettingsOut
from tollgate.refunds.schemas import DecisionIn, RefundList, RefundOut, RefundStatus
from tollgate.tiers.schemas import TierIn, TierList, TierOut, WalletTierIn, WalletTierOut

logger = Logger()
metrics = Metrics()
app = http.create_app(required_role=ADMIN)

RefundStatusQuery = Annotated[RefundStatus | None, Query(description="Only refunds in this status")]


@app.put("/v1/admin/features/<feature_id>", summary="Create or update a feature and its price", tags=["admin"],
         responses=http.responses(200, FeatureOut))
def put_feature(feature_id: SlugPath, body: FeatureIn) -> FeatureOut:
    return pricing.put_feature(feature_id, body).view(internal=True)


@app.get("/v1/admin/features", summary="Every feature, inactive ones included", tags=["admin"],
         responses=http.responses(200, FeatureList))
def list_features() -> FeatureList:
    return FeatureList(data=[f.view(internal=True) for f in pricing.list_features(include_inactive=True)])


@app.get("/v1/admin/features/<feature_id>", summary="One feature", tags=["admin"],
         responses=http.responses(200, FeatureOut, 404))
def get_feature(feature_id: SlugPath) -> FeatureOut:
    return pricing.get_feature(feature_id).view(internal=True)


@app.post("/v1/admin/wallets/<wallet_id>/adjustments", summary="Credit or debit a wallet", tags=["admin"],
          responses=http.responses(201, AdjustmentOut, 402, 409))
def post_adjustment(wallet_id: WalletIdPath, body: AdjustmentIn) -> Response[AdjustmentOut]:
    principal = http.principal(app)
    result = ledger.adjust(principal, wallet_id, body, http.idempotency_key(app, required=False))
    metrics.add_metric(name="WalletAdjusted", unit=MetricUnit.Count, value=1)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=result)


@app.get("/v1/admin/wallets/<wallet_id>", summary="A wallet", tags=["admin"],
         responses=http.responses(200, WalletOut, 404))
def get_wallet(wallet_id: WalletIdPath) -> WalletOut:
    return ledger.wallet_view(wallet_id, must_exist=True)


@app.get("/v1/admin/wallets/<wallet_id>/reconciliation", summary="Prove sum(entries) == balance",
         tags=["admin"], responses=http.responses(200, ReconciliationOut, 404))
def get_reconciliation(wallet_id: WalletIdPath) -> ReconciliationOut:
    return ledger.reconcile(wallet_id)


@app.post("/v1/admin/api-keys", summary="Create a server API key (shown once)", tags=["admin"],
          responses=http.responses(201, ApiKeyCreated))
def post_api_key(body: ApiKeyIn) -> Response[ApiKeyCreated]:
    principal = http.principal(app)
    created = apikeys.create(body.name, principal.actor)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=created)


@app.get("/v1/admin/api-keys", summary="Server API keys (no secrets)", tags=["admin"],
         responses=http.responses(200, ApiKeyList))
def list_api_keys() -> ApiKeyList:
    return ApiKeyList(data=apikeys.list_keys())


@app.delete("/v1/admin/api-keys/<key_id>", summary="Revoke a server API key", tags=["admin"],
            responses=http.responses(204, None, 404))
def delete_api_key(key_id: IdPath) -> Response[None]:
    apikeys.revoke(key_id)
    return Response(status_code=204)


@app.put("/v1/admin/packages/<package_id>", summary="Create or update a credit package", tags=["admin"],
         responses=http.responses(200, PackageOut))
def put_package(package_id: SlugPath, body: PackageIn) -> PackageOut:
    return catalog.put_package(package_id, body)


@app.get("/v1/admin/packages", summary="Every package, inactive ones included", tags=["admin"],
         responses=http.responses(200, PackageList))
def list_packages() -> PackageList:
    return PackageList(data=catalog.list_packages(include_inactive=True))


@app.get("/v1/admin/settings", summary="Checkout settings", tags=["admin"],
         responses=http.responses(200, SettingsOut))
def get_settings() -> SettingsOut:
    return catalog.get_settings_view()


@app.put("/v1/admin/settings", summary="Replace checkout settings", tags=["admin"],
         responses=http.responses(200, SettingsOut))
def put_settings(body: SettingsIn) -> SettingsOut:
    return catalog.put_settings(body)


@app.put("/v1/admin/tiers/<tier_id>", summary="Create or update a subscription tier", tags=["admin"],
         responses=http.responses(200, TierOut))
def put_tier(tier_id: SlugPath, body: TierIn) -> TierOut:
    return tiers.put_tier(tier_id, body)


@app.get("/v1/admin/tiers", summary="Every tier, inactive ones included", tags=["admin"],
         responses=http.responses(200, TierList))
def list_tiers() -> TierList:
    return tiers.list_tiers(include_inactive=True)


@app.put("/v1/admin/wallets/<wallet_id>/tier", summary="Subscribe a wallet to a tier (null: end it); a new "
         "subscriber gets this month's credits at once", tags=["admin"],
         responses=http.responses(200, WalletTierOut, 404))
def put_wallet_tier(wallet_id: WalletIdPath, body: WalletTierIn) -> WalletTierOut:
    return tiers.assign_tier(http.principal(app), wallet_id, body)


@app.get("/v1/admin/refunds", summary="Every refund, newest first (or one status's, or one wallet's)",
         tags=["refunds"], responses=http.responses(200, RefundList))
def list_refunds(limit: Limit = 25, cursor: Cursor = None, status: RefundStatusQuery = None,
                 wallet_id: WalletIdQuery = None) -> RefundList:
    return refunds.list_refunds(http.principal(app), limit=limit, cursor=cursor, status=status,
                                wallet_id=wallet_id, everyone=True)


@app.post("/v1/admin/refunds/<refund_id>/approve", summary="Approve a refund waiting for approval (it starts)",
          tags=["refunds"], responses=http.responses(200, RefundOut, 404, 409, 503))
def approve_refund(refund_id: IdPath, body: DecisionIn | None = None) -> RefundOut:
    return refunds.decide(http.principal(app), refund_id, True, body)


@app.post("/v1/admin/refunds/<refund_id>/reject", summary="Reject a refund waiting for approval",
          tags=["refunds"], responses=http.responses(200, RefundOut, 404, 409))
def reject_refund(refund_id: IdPath, body: DecisionIn | None = None) -> RefundOut:
    return refunds.decide(http.principal(app), refund_id, False, body)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return http.resolve(app, event, context)


coldstart.end()
