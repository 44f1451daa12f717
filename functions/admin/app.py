"""AdminFunction: feature catalog, packages, tiers, settings, wallet adjustments, grants and inspection, server API
keys, refund approvals, organizations, and the audit trail of changes to the catalog and settings.

Every route needs the admin role: the edge checks it (``required_role``) before any input is read,
so a caller without it gets 403 whatever they send. The exceptions are an organization's view and
its members (``ORG_MEMBER_ROUTES``), which its owners manage too: the orgs service authorizes those.
"""

from __future__ import annotations

from tollgate import coldstart

coldstart.begin()  # the init phase runs without the cyclic GC (tollgate/coldstart.py)

from typing import Annotated

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from tollgate import apikeys, audit, grants, http, lazy, ledger, orgs, pricing, refunds, shards, tiers
from tollgate.apikeys.schemas import ApiKeyCreated, ApiKeyIn, ApiKeyList, ApiKeyOut, ApiKeyUpdate
from tollgate.audit.schemas import TARGET_PATTERN, AuditAction, AuditPage
from tollgate.grants.schemas import GrantIn, GrantOut
from tollgate.http.params import Cursor, FromDay, IdPath, Limit, SlugPath, ToDay, WalletIdPath, WalletIdQuery
from tollgate.ledger.schemas import AdjustmentIn, AdjustmentOut, ReconciliationOut, WalletOut
from tollgate.orgs.schemas import MemberIn, MemberOut, MemberSubPath, OrgIdPath, OrgIn, OrgOut, OrgView
from tollgate.pricing.schemas import FeatureIn, FeatureList, FeatureOut
from tollgate.principal import ADMIN
from tollgate.purchases import catalog
from tollgate.purchases.schemas import PackageIn, PackageList, PackageOut, SettingsIn, SettingsOut
from tollgate.refunds.schemas import DecisionIn, RefundList, RefundOut, RefundStatus
from tollgate.shards.schemas import ShardsIn, ShardsOut
from tollgate.tiers.schemas import (
    AllocationRunIn,
    AllocationRunList,
    AllocationRunOut,
    TierIn,
    TierList,
    TierOut,
    WalletTierIn,
    WalletTierOut,
)

logger = Logger()
metrics = Metrics()
# An organization's owners (plain users) manage its members: the orgs service authorizes these.
ORG_MEMBER_ROUTES = frozenset({
    "GET /v1/admin/orgs/{org_id}",
    "PUT /v1/admin/orgs/{org_id}/members/{sub}",
    "DELETE /v1/admin/orgs/{org_id}/members/{sub}",
})
app = http.create_app(required_role=ADMIN, self_authorized_routes=ORG_MEMBER_ROUTES)

RefundStatusQuery = Annotated[RefundStatus | None, Query(description="Only refunds in this status")]
AuditActionQuery = Annotated[AuditAction, Query(description="Only changes of this kind")]
AuditTargetQuery = Annotated[str, Query(max_length=160, pattern=TARGET_PATTERN, examples=["feature:ai-insight"],
                                        description="Only changes to this item: feature:<id>, package:<id>, "
                                                    "tier:<id>, wallet:<wallet_id>, webhook_endpoint:<id> or "
                                                    "settings")]
PeriodQuery = Annotated[str, Query(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", description="The month, YYYY-MM",
                                   examples=["2026-12"])]


@app.put("/v1/admin/features/<feature_id>", summary="Create or update a feature and its price", tags=["admin"],
         responses=http.responses(200, FeatureOut, 503))
def put_feature(feature_id: SlugPath, body: FeatureIn) -> FeatureOut:
    return pricing.put_feature(feature_id, body, actor=http.principal(app).actor).view(internal=True)


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
    return grants.wallet_view(wallet_id, must_exist=True)


@app.post("/v1/admin/wallets/<wallet_id>/grants", summary="Grant credits that may expire, with a priority",
          tags=["admin"], responses=http.responses(201, GrantOut, 409))
def post_grant(wallet_id: WalletIdPath, body: GrantIn) -> Response[GrantOut]:
    result = grants.grant(http.principal(app), wallet_id, body, http.idempotency_key(app, required=False))
    metrics.add_metric(name="CreditsGranted", unit=MetricUnit.Count, value=1)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=result)


@app.get("/v1/admin/wallets/<wallet_id>/reconciliation", summary="Prove sum(entries) == balance",
         tags=["admin"], responses=http.responses(200, ReconciliationOut, 404))
def get_reconciliation(wallet_id: WalletIdPath) -> ReconciliationOut:
    return ledger.reconcile(wallet_id)


@app.post("/v1/admin/api-keys", summary="Create a server API key (shown once)", tags=["admin"],
          responses=http.responses(201, ApiKeyCreated))
def post_api_key(body: ApiKeyIn) -> Response[ApiKeyCreated]:
    principal = http.principal(app)
    created = apikeys.create(body.name, principal.actor, body.scopes, body.rate_limit_per_second)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=created)


@app.get("/v1/admin/api-keys", summary="Server API keys (no secrets)", tags=["admin"],
         responses=http.responses(200, ApiKeyList))
def list_api_keys() -> ApiKeyList:
    return ApiKeyList(data=apikeys.list_keys())


@app.patch("/v1/admin/api-keys/<key_id>", summary="Change a server API key's name, scopes or rate limit",
           tags=["admin"], responses=http.responses(200, ApiKeyOut, 404, 409))
def patch_api_key(key_id: IdPath, body: ApiKeyUpdate) -> ApiKeyOut:
    return apikeys.update(key_id, body)


@app.delete("/v1/admin/api-keys/<key_id>", summary="Revoke a server API key", tags=["admin"],
            responses=http.responses(204, None, 404))
def delete_api_key(key_id: IdPath) -> Response[None]:
    apikeys.revoke(key_id)
    return Response(status_code=204)


@app.put("/v1/admin/packages/<package_id>", summary="Create or update a credit package", tags=["admin"],
         responses=http.responses(200, PackageOut, 503))
def put_package(package_id: SlugPath, body: PackageIn) -> PackageOut:
    return catalog.put_package(package_id, body, actor=http.principal(app).actor)


@app.get("/v1/admin/packages", summary="Every package, inactive ones included", tags=["admin"],
         responses=http.responses(200, PackageList))
def list_packages() -> PackageList:
    return PackageList(data=catalog.list_packages(include_inactive=True))


@app.get("/v1/admin/settings", summary="Checkout settings", tags=["admin"],
         responses=http.responses(200, SettingsOut))
def get_settings() -> SettingsOut:
    return catalog.get_settings_view()


@app.put("/v1/admin/settings", summary="Replace checkout settings", tags=["admin"],
         responses=http.responses(200, SettingsOut, 503))
def put_settings(body: SettingsIn) -> SettingsOut:
    return catalog.put_settings(body, actor=http.principal(app).actor)


@app.put("/v1/admin/tiers/<tier_id>", summary="Create or update a subscription tier", tags=["admin"],
         responses=http.responses(200, TierOut, 503))
def put_tier(tier_id: SlugPath, body: TierIn) -> TierOut:
    return tiers.put_tier(tier_id, body, actor=http.principal(app).actor)


@app.get("/v1/admin/tiers", summary="Every tier, inactive ones included", tags=["admin"],
         responses=http.responses(200, TierList))
def list_tiers() -> TierList:
    return tiers.list_tiers(include_inactive=True)


@app.put("/v1/admin/wallets/<wallet_id>/tier", summary="Subscribe a wallet to a tier (null: end it); a new "
         "subscriber gets this month's credits at once", tags=["admin"],
         responses=http.responses(200, WalletTierOut, 404, 503))
def put_wallet_tier(wallet_id: WalletIdPath, body: WalletTierIn) -> WalletTierOut:
    return tiers.assign_tier(http.principal(app), wallet_id, body)


@app.get("/v1/admin/wallets/<wallet_id>/shards", summary="A wallet's shards, as of one instant", tags=["admin"],
         responses=http.responses(200, ShardsOut, 404))
def get_wallet_shards(wallet_id: WalletIdPath) -> ShardsOut:
    return shards.view(wallet_id)


@app.put("/v1/admin/wallets/<wallet_id>/shards", summary="Spread a busy wallet's credits over shards (1 to 64; "
         "~500 debits a second each), while debits run; nothing is lost or created", tags=["admin"],
         responses=http.responses(200, ShardsOut, 404, 503))
def put_wallet_shards(wallet_id: WalletIdPath, body: ShardsIn) -> ShardsOut:
    return shards.set_shards(http.principal(app), wallet_id, body)


@app.post("/v1/admin/allocations/run", summary="Run a month's tier allocations now (this month or an earlier "
          "one); wallets allocated already are skipped", tags=["admin"],
          responses=http.responses(202, AllocationRunOut, 503))
def post_allocation_run(body: AllocationRunIn | None = None) -> Response[AllocationRunOut]:
    started = tiers.run.start_manual(http.principal(app), body or AllocationRunIn())
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=started)


@app.get("/v1/admin/allocations/runs", summary="A month's allocation runs, newest first", tags=["admin"],
         responses=http.responses(200, AllocationRunList))
def list_allocation_runs(period: PeriodQuery, limit: Limit = 25) -> AllocationRunList:
    return tiers.run.list_runs(http.principal(app), period, limit)


@app.get("/v1/admin/allocations/runs/<run_id>", summary="One allocation run and what it did", tags=["admin"],
         responses=http.responses(200, AllocationRunOut, 404))
def get_allocation_run(run_id: IdPath) -> AllocationRunOut:
    return tiers.run.get_run(http.principal(app), run_id)


@app.get("/v1/admin/audit", summary="Changes to settings, features, packages, tiers and wallets' tiers: who, "
         "when, before and after; newest first", tags=["admin"], responses=http.responses(200, AuditPage))
def list_audit(date_from: FromDay = None, date_to: ToDay = None, limit: Limit = 25, cursor: Cursor = None,
               action: AuditActionQuery = None, target: AuditTargetQuery = None) -> AuditPage:
    return audit.list_records(http.principal(app), date_from=date_from, date_to=date_to, limit=limit, cursor=cursor,
                              action=action, target=target)


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


@app.put("/v1/admin/orgs/<org_id>", summary="Create or rename an organization (its wallet is org:<org_id>)",
         tags=["orgs"], responses=http.responses(200, OrgOut))
def put_org(org_id: OrgIdPath, body: OrgIn) -> OrgOut:
    return orgs.put_org(http.principal(app), org_id, body)


@app.get("/v1/admin/orgs/<org_id>", summary="An organization and its members (admins and its owners)",
         tags=["orgs"], responses=http.responses(200, OrgView, 403, 404))
def get_org(org_id: OrgIdPath) -> OrgView:
    return orgs.get_org(http.principal(app), org_id)


@app.put("/v1/admin/orgs/<org_id>/members/<sub>", summary="Add a member or change their role and monthly cap "
         "(admins and the org's owners)", tags=["orgs"], responses=http.responses(200, MemberOut, 403, 404))
def put_org_member(org_id: OrgIdPath, sub: MemberSubPath, body: MemberIn) -> MemberOut:
    return orgs.put_member(http.principal(app), org_id, sub, body)


@app.delete("/v1/admin/orgs/<org_id>/members/<sub>", summary="Remove a member (admins and the org's owners)",
            tags=["orgs"], responses=http.responses(204, None, 403, 404))
def delete_org_member(org_id: OrgIdPath, sub: MemberSubPath) -> Response[None]:
    orgs.remove_member(http.principal(app), org_id, sub)
    return Response(status_code=204)


@logger.inject_lambda_context  # correlation_id: tollgate.http.resolve
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return http.resolve(app, event, context)


lazy.load(audit, grants, ledger, orgs, refunds, shards, tiers)  # the init phase imports what the handlers call (tollgate/lazy.py)
coldstart.end()
