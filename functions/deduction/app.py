"""DeductionFunction: usage debits and reservations (people via JWT, services via API key).

Imports only what the hot path needs: no gateway SDKs, no JWT library, no X-Ray SDK.
"""

from __future__ import annotations

from tollgate import coldstart

coldstart.begin()  # the init phase runs without the cyclic GC (tollgate/coldstart.py)

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from tollgate import http, reservations, usage
from tollgate.http.params import IdPath
from tollgate.reservations.schemas import (
    ReleaseOut,
    ReservationIn,
    ReservationOut,
    ReservationView,
    SettleIn,
    SettleOut,
)

logger = Logger()
metrics = Metrics()
app = http.create_app()

# Server API keys must send an Idempotency-Key on money calls: a retry after a timeout must not charge twice.
IDEMPOTENCY_KEY_REQUIRED = {422: {"idempotency_key_required": {
    "summary": "A server API key sent no Idempotency-Key",
    "value": {"error": {"code": "validation_error", "message": "the Idempotency-Key header is required",
                        "request_id": "c0ffee00", "field": "Idempotency-Key"}},
}}}


@app.post("/v1/usage", summary="Debit credits for one AI call", tags=["usage"],
          responses=http.responses(201, usage.UsageOut, 402, 403, 404, 409, examples=IDEMPOTENCY_KEY_REQUIRED))
def post_usage(body: usage.UsageIn) -> Response[usage.UsageOut]:
    principal = http.principal(app)
    key = http.idempotency_key(app, required=principal.is_service)
    result = usage.record_usage(principal, body, key)
    metrics.add_metric(name="UsageDebited", unit=MetricUnit.Count, value=1)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=result)


@app.post("/v1/reservations", summary="Hold credits before an AI call", tags=["reservations"],
          responses=http.responses(201, ReservationOut, 402, 403, 404, 409,
                                   examples=IDEMPOTENCY_KEY_REQUIRED))
def post_reservation(body: ReservationIn) -> Response[ReservationOut]:
    principal = http.principal(app)
    key = http.idempotency_key(app, required=principal.is_service)
    result = reservations.reserve(principal, body, key)
    metrics.add_metric(name="CreditsReserved", unit=MetricUnit.Count, value=1)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=result)


@app.get("/v1/reservations/<reservation_id>", summary="A reservation", tags=["reservations"],
         responses=http.responses(200, ReservationView, 403, 404))
def get_reservation(reservation_id: IdPath) -> ReservationView:
    return reservations.get(http.principal(app), reservation_id)


@app.post("/v1/reservations/<reservation_id>/settle", summary="Charge the actual cost of a held call",
          tags=["reservations"], responses=http.responses(200, SettleOut, 403, 404, 409))
def post_settle(reservation_id: IdPath, body: SettleIn) -> SettleOut:
    result = reservations.settle(http.principal(app), reservation_id, body)
    metrics.add_metric(name="ReservationSettled", unit=MetricUnit.Count, value=1)
    return result


@app.post("/v1/reservations/<reservation_id>/release", summary="Free a hold without charging",
          tags=["reservations"], responses=http.responses(200, ReleaseOut, 403, 404, 409))
def post_release(reservation_id: IdPath) -> ReleaseOut:
    return reservations.release(http.principal(app), reservation_id)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return http.resolve(app, event, context)


coldstart.end()
