"""AnalyticsFunction: platform figures, top features and developers, and every wallet's entries (admin role).

Reads only: aggregate items the ledger stream keeps and the day-sharded entry index
(``tollgate.analytics``); a call's Queries are bounded by its range, never by traffic.
"""

from __future__ import annotations

from tollgate import coldstart

coldstart.begin()  # the init phase runs without the cyclic GC (tollgate/coldstart.py)

from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from tollgate import analytics, days, http
from tollgate.analytics.schemas import AnalyticsOut, DeveloperUsageList, FeatureUsageList, GroupBy, TransactionPage
from tollgate.http.params import Cursor, FromDay, Limit, ToDay, WalletIdQuery
from tollgate.ledger.schemas import EntryType
from tollgate.principal import ADMIN
from tollgate.schemas import SLUG_PATTERN

logger = Logger()
app = http.create_app(required_role=ADMIN)

TopLimit = Annotated[int, Query(ge=1, le=100, description="How many, most credits spent first")]


@app.get("/v1/admin/analytics", summary="Credits in and out, revenue, refunds and counts: totals and a series",
         tags=["analytics"], responses=http.responses(200, AnalyticsOut))
def get_analytics(from_: FromDay = None, to: ToDay = None,
                  group_by: Annotated[GroupBy, Query(description="One point per day or per month")] = "day",
                  ) -> AnalyticsOut:
    return analytics.analytics(days.day_range(from_, to), group_by)


@app.get("/v1/admin/analytics/features", summary="Usage per feature, most credits spent first", tags=["analytics"],
         responses=http.responses(200, FeatureUsageList))
def get_feature_usage(from_: FromDay = None, to: ToDay = None, limit: TopLimit = 10) -> FeatureUsageList:
    return analytics.top_features(days.day_range(from_, to), limit)


@app.get("/v1/admin/analytics/developers", summary="Usage per developer, most credits spent first",
         tags=["analytics"], responses=http.responses(200, DeveloperUsageList))
def get_developer_usage(from_: FromDay = None, to: ToDay = None, limit: TopLimit = 10) -> DeveloperUsageList:
    return analytics.top_developers(days.day_range(from_, to), limit)


@app.get("/v1/admin/transactions", summary="Every wallet's ledger entries, newest first", tags=["analytics"],
         responses=http.responses(200, TransactionPage))
def list_transactions(
    from_: FromDay = None,
    to: ToDay = None,
    type: Annotated[EntryType, Query(description="Only entries of this type")] = None,
    feature: Annotated[str | None, Query(min_length=1, max_length=64, pattern=SLUG_PATTERN,
                                  description="Only entries of this feature")] = None,
    wallet_id: WalletIdQuery = None,
    limit: Limit = 25,
    cursor: Cursor = None,
) -> TransactionPage:
    return analytics.list_transactions(days.day_range(from_, to), limit=limit, cursor=cursor, entry_type=type,
                                       feature=feature, wallet_id=wallet_id)


@logger.inject_lambda_context  # correlation_id: tollgate.http.resolve
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return http.resolve(app, event, context)


coldstart.end()
