"""PayoutsFunction: developers' earnings and payouts (role ``developer``); admins read any developer's.

A developer is named by their user id (the JWT ``sub``): the ``developer_id`` an admin gives
a feature. Gateway SDKs load only when a payout account or transfer needs them.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from tollgate import earnings, http
from tollgate.earnings.schemas import EarningsOut
from tollgate.http.params import DeveloperIdPath
from tollgate.principal import DEVELOPER

logger = Logger()
metrics = Metrics()
app = http.create_app()


@app.get("/v1/developers/me/earnings", summary="The calling developer's earnings", tags=["payouts"],
         responses=http.responses(200, EarningsOut, 403))
def get_my_earnings() -> EarningsOut:
    principal = http.principal(app)
    principal.require_role(DEVELOPER)
    return earnings.earnings(principal.sub)


@app.get("/v1/admin/developers/<developer_id>/earnings", summary="A developer's earnings (admin)",
         tags=["admin", "payouts"], responses=http.responses(200, EarningsOut, 403))
def get_developer_earnings(developer_id: DeveloperIdPath) -> EarningsOut:
    http.principal(app).require_admin()
    return earnings.earnings(developer_id)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return http.resolve(app, event, context)
