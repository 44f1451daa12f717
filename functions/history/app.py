"""HistoryFunction: the caller's wallet, its history, the feature catalog, the OpenAPI document."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from tollgate import __version__, clock, http, ledger, pricing
from tollgate.errors import ValidationFailed
from tollgate.ledger.schemas import EntryType, HistoryPage, WalletOut
from tollgate.pricing.schemas import FeatureList

logger = Logger()
app = http.create_app()
PUBLIC_ROUTES = frozenset({"GET /v1/health"})

OPENAPI_PATH = Path(http.__file__).with_name("openapi.json")


@app.get("/v1/wallet", summary="Balance, reserved and available credits", tags=["wallet"],
         responses=http.responses(200, WalletOut, 404))
def get_wallet(wallet_id: Annotated[str | None, Query(max_length=145)] = None) -> WalletOut:
    principal = http.principal(app)
    return ledger.wallet_view(principal.wallet_for_reading(wallet_id))


@app.get("/v1/history", summary="Ledger entries, newest first", tags=["wallet"],
         responses=http.responses(200, HistoryPage, 404))
def get_history(
    wallet_id: Annotated[str | None, Query(max_length=145)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
    type: Annotated[EntryType | None, Query()] = None,
    since: Annotated[str | None, Query(max_length=40, description="ISO-8601, inclusive")] = None,
    until: Annotated[str | None, Query(max_length=40, description="ISO-8601, inclusive")] = None,
) -> HistoryPage:
    principal = http.principal(app)
    since_ms, until_ms = _timestamp(since, "since"), _timestamp(until, "until")
    if since_ms is not None and until_ms is not None and since_ms > until_ms:
        raise ValidationFailed("since must not be after until", field="since")
    return ledger.history(
        principal.wallet_for_reading(wallet_id),
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
        return clock.parse_iso(value)
    except ValueError:
        raise ValidationFailed(f"{field} must be an ISO-8601 timestamp", field=field) from None


@app.get("/v1/features", summary="Active AI features and their prices", tags=["catalog"],
         responses=http.responses(200, FeatureList))
def get_features() -> FeatureList:
    principal = http.principal(app)
    return FeatureList(data=[f.view(internal=principal.is_admin) for f in pricing.list_features()])


@app.get("/v1/openapi.json", summary="This API's OpenAPI document", tags=["meta"], include_in_schema=False)
def get_openapi() -> dict:
    return _openapi_document()


@lru_cache(maxsize=1)
def _openapi_document() -> dict:
    return json.loads(OPENAPI_PATH.read_text())


class Health(BaseModel):
    status: str
    version: str


@app.get("/v1/health", summary="Liveness (no authentication)", tags=["meta"], responses=http.responses(200, Health))
def get_health() -> Health:
    return Health(status="ok", version=__version__)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return http.resolve(app, event, context, public_routes=PUBLIC_ROUTES)
