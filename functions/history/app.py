"""HistoryFunction: the caller's wallet, its history and usage summary, the feature catalog and tiers, the OpenAPI document."""

from __future__ import annotations

from tollgate import coldstart

coldstart.begin()  # the init phase runs without the cyclic GC (tollgate/coldstart.py)

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict

import tollgate
from tollgate import __version__, analytics, clock, grants, http, lazy, ledger, orgs, pricing, ratelimit, tiers
from tollgate.analytics.schemas import UsageSummary
from tollgate.errors import ValidationFailed
from tollgate.http.params import Cursor, Limit, Timestamp, WalletIdQuery
from tollgate.ledger.schemas import EntryType, HistoryPage, WalletOut
from tollgate.pricing.schemas import FeatureList
from tollgate.tiers.schemas import TierList

logger = Logger()
app = http.create_app(public_routes=frozenset({"GET /v1/health", "GET /v1/openapi.json"}))

OPENAPI_PATH = Path(tollgate.__file__).with_name("openapi.json")


@app.get("/v1/wallet", summary="Balance, reserved and available credits, tier and grants", tags=["wallet"],
         responses=http.responses(200, WalletOut, 404))
def get_wallet(wallet_id: WalletIdQuery = None) -> WalletOut:
    principal = http.principal(app)
    return grants.wallet_view(orgs.wallet_for_reading(principal, wallet_id))


@app.get("/v1/history", summary="Ledger entries, newest first", tags=["wallet"],
         responses=http.responses(200, HistoryPage, 404))
def get_history(
    wallet_id: WalletIdQuery = None,
    limit: Limit = 25,
    cursor: Cursor = None,
    type: Annotated[EntryType, Query(description="Only entries of this type")] = None,
    since: Timestamp = None,
    until: Timestamp = None,
) -> HistoryPage:
    principal = http.principal(app)
    since_ms, until_ms = _timestamp(since, "since"), _timestamp(until, "until")
    if since_ms is not None and until_ms is not None and since_ms > until_ms:
        raise ValidationFailed("since must not be after until", field="since")
    return ledger.wallet_history(
        orgs.wallet_for_reading(principal, wallet_id),
        limit=limit,
        cursor=cursor,
        entry_type=type,
        since_ms=since_ms,
        until_ms=until_ms,
    )


def _timestamp(value: str | None, field: str) -> int | None:
    if value is None:
        return None
    try:
        return clock.parse_rfc3339(value)
    except ValueError:
        raise ValidationFailed(f"{field} must be an RFC 3339 date-time, e.g. 2026-11-01T00:00:00Z",
                               field=field) from None


@app.get("/v1/usage/summary", summary="Credits spent by day and by feature, for charts", tags=["wallet"],
         responses=http.responses(200, UsageSummary, 404, 429))
def get_usage_summary(
    wallet_id: WalletIdQuery = None,
    days: Annotated[int, Query(ge=1, le=366, description="The last this many days (UTC), today included")] = 30,
) -> UsageSummary:
    principal = http.principal(app)
    ratelimit.admit(principal)  # a server API key's requests a second
    return analytics.usage_summary(orgs.wallet_for_reading(principal, wallet_id), days)


@app.get("/v1/features", summary="Active AI features and their prices", tags=["catalog"],
         responses=http.responses(200, FeatureList))
def get_features() -> FeatureList:
    principal = http.principal(app)
    return FeatureList(data=[f.view(internal=principal.is_admin) for f in pricing.list_features()])


class OpenApiDocument(BaseModel):
    model_config = ConfigDict(extra="allow")

    openapi: str
    info: dict[str, Any]
    servers: list[dict[str, Any]]
    paths: dict[str, Any]


class Health(BaseModel):
    status: str
    version: str


@app.get("/v1/openapi.json", summary="This API's OpenAPI document (no authentication)", tags=["meta"],
         responses=http.responses(200, OpenApiDocument))
def get_openapi() -> dict:
    document = _openapi_document()
    domain = (app.current_event.raw_event.get("requestContext") or {}).get("domainName")
    if not domain:
        return document
    # The API that served the document comes first, so a client generated from it calls this API.
    proto = (app.current_event.headers.get("x-forwarded-proto") or "https").split(",")[0].strip()
    return {**document, "servers": [{"url": f"{proto}://{domain}", "description": "this API"},
                                    *document.get("servers", [])]}


@lru_cache(maxsize=1)
def _openapi_document() -> dict:
    return json.loads(OPENAPI_PATH.read_text())


@app.get("/v1/health", summary="Liveness (no authentication)", tags=["meta"], responses=http.responses(200, Health))
def get_health() -> Health:
    return Health(status="ok", version=__version__)


@app.get("/v1/tiers", summary="Subscription tiers on offer: credits a month and rollover", tags=["catalog"],
         responses=http.responses(200, TierList))
def get_tiers() -> TierList:
    http.principal(app)
    return tiers.list_tiers()


@logger.inject_lambda_context  # correlation_id: tollgate.http.resolve
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return http.resolve(app, event, context)


lazy.load(grants, ledger, orgs, tiers)  # the init phase imports what the handlers call (tollgate/lazy.py)
coldstart.end()
