"""PayoutsFunction: developers' earnings and payouts (role ``developer``); admins read any developer's.

A developer is named by their user id (the JWT ``sub``): the ``developer_id`` an admin gives
a feature. Gateway SDKs load only when a payout account or transfer needs them.
"""

from __future__ import annotations

from tollgate import coldstart

coldstart.begin()  # the init phase runs without the cyclic GC (tollgate/coldstart.py)

from typing import Annotated, Literal

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from tollgate import earnings, http, lazy, payouts
from tollgate.earnings.schemas import EarningsOut
from tollgate.http.params import DEVELOPER_ID_PATTERN, Cursor, DeveloperIdPath, IdPath, Limit
from tollgate.payouts.schemas import (
    PayoutAccountIn,
    PayoutAccountOut,
    PayoutIn,
    PayoutList,
    PayoutOut,
    PayoutSettingsIn,
    PayoutSettingsOut,
)
from tollgate.principal import DEVELOPER, Principal

logger = Logger()
metrics = Metrics()
app = http.create_app()

StatusQuery = Annotated[
    Literal["requested", "reserved", "awaiting_confirmation", "paid", "failed", "reversed"] | None,
    Query(description="Only payouts in this status"),
]
DeveloperQuery = Annotated[str | None, Query(min_length=1, max_length=128, pattern=DEVELOPER_ID_PATTERN,
                                             description="Admins: one developer's payouts")]


def developer() -> Principal:
    """The caller, who must have the developer role (their user id names them as a developer)."""
    principal = http.principal(app)
    principal.require_role(DEVELOPER)
    return principal


def return_url() -> str:
    """Where Stripe's onboarding sends the developer back: this API's payout-account page."""
    domain = app.current_event.request_context.domain_name or "localhost"
    return f"https://{domain}/v1/developers/me/payout-account"


@app.put("/v1/developers/me/payout-account", summary="Connect the payout account (Stripe Connect or Paystack)",
         tags=["payouts"], responses=http.responses(200, PayoutAccountOut, 403, 409, 502, 503))
def put_payout_account(body: PayoutAccountIn) -> PayoutAccountOut:
    return payouts.accounts.connect(developer().sub, body, return_url=return_url())


@app.get("/v1/developers/me/payout-account", summary="The payout account (Stripe: a fresh onboarding link)",
         tags=["payouts"], responses=http.responses(200, PayoutAccountOut, 403, 404, 502, 503))
def get_payout_account() -> PayoutAccountOut:
    return payouts.accounts.get(developer().sub, return_url=return_url())


@app.delete("/v1/developers/me/payout-account", summary="Remove the payout account", tags=["payouts"],
            responses=http.responses(204, None, 403, 404, 409))
def delete_payout_account() -> Response[None]:
    payouts.accounts.disconnect(developer().sub)
    return Response(status_code=204)


@app.put("/v1/developers/me/payout-settings", summary="Turn automatic weekly payouts on or off", tags=["payouts"],
         responses=http.responses(200, PayoutSettingsOut, 403, 409))
def put_payout_settings(body: PayoutSettingsIn) -> PayoutSettingsOut:
    return payouts.accounts.put_settings(developer().sub, body)


@app.get("/v1/developers/me/payout-settings", summary="Whether automatic weekly payouts are on", tags=["payouts"],
         responses=http.responses(200, PayoutSettingsOut, 403))
def get_payout_settings() -> PayoutSettingsOut:
    return payouts.accounts.get_settings(developer().sub)


@app.post("/v1/payouts", summary="Pay out available earnings", tags=["payouts"],
          responses=http.responses(202, PayoutOut, 403, 409, 502, 503))
def post_payout(body: PayoutIn) -> Response[PayoutOut]:
    principal = developer()
    payout = payouts.request_payout(principal.sub, body, http.idempotency_key(app, required=True),
                                    return_url=return_url())
    metrics.add_metric(name="PayoutRequested", unit=MetricUnit.Count, value=1)
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=payout)


@app.get("/v1/payouts", summary="The caller's payouts; admins: everyone's", tags=["payouts"],
         responses=http.responses(200, PayoutList, 403))
def get_payouts(limit: Limit = 25, cursor: Cursor = None, status: StatusQuery = None,
                developer_id: DeveloperQuery = None) -> PayoutList:
    principal = http.principal(app)
    if not principal.is_admin:
        principal.require_role(DEVELOPER)
    return payouts.list_payouts(principal, limit=limit, cursor=cursor, status=status, developer_id=developer_id)


@app.get("/v1/payouts/<payout_id>", summary="One payout and its steps", tags=["payouts"],
         responses=http.responses(200, PayoutOut, 403, 404))
def get_payout(payout_id: IdPath) -> PayoutOut:
    principal = http.principal(app)
    if not principal.is_admin:
        principal.require_role(DEVELOPER)
    return payouts.get_payout(principal, payout_id)


@app.get("/v1/developers/me/earnings", summary="The calling developer's earnings", tags=["payouts"],
         responses=http.responses(200, EarningsOut, 403))
def get_my_earnings() -> EarningsOut:
    return earnings.earnings(developer().sub)


@app.get("/v1/admin/developers/<developer_id>/earnings", summary="A developer's earnings (admin)",
         tags=["admin", "payouts"], responses=http.responses(200, EarningsOut, 403))
def get_developer_earnings(developer_id: DeveloperIdPath) -> EarningsOut:
    http.principal(app).require_admin()
    return earnings.earnings(developer_id)


@logger.inject_lambda_context  # correlation_id: tollgate.http.resolve
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return http.resolve(app, event, context)


lazy.load(earnings, payouts)  # the init phase imports what the handlers call (tollgate/lazy.py)
coldstart.end()
