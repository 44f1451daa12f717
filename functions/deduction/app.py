"""DeductionFunction: usage debits, reservations and usage reversals (people via JWT, services via API key).

Imports only what the hot path needs: no gateway SDKs, no JWT library, no X-Ray SDK.
Reversals are served here because server API keys may reverse their own usage, and only
the Lambda authorizer takes API keys (one authorizer per route).
"""

from __future__ import annotations

from tollgate import coldstart

coldstart.begin()  # the init phase runs without the cyclic GC (tollgate/coldstart.py)

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from tollgate import http, ratelimit, reservations, usage
from tollgate.config import settings
from tollgate.errors import TollgateError
from tollgate.http.params import IdPath, TransactionIdPath
from tollgate.http.responses import early_error
from tollgate.ledger.schemas import EntryOut
from tollgate.principal import Principal, from_request_context
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
# The hot path: called without Powertools' middleware stack, same validation and errors (tollgate.http.app).
app = http.create_app(direct_routes=frozenset({"POST /v1/usage"}))


def _caller() -> Principal:
    """The caller, counted against its key's requests a second if it is a server API key."""
    principal = http.principal(app)
    ratelimit.admit(principal)
    return principal

# Server API keys must send an Idempotency-Key on money calls: a retry after a timeout must not charge twice.
IDEMPOTENCY_KEY_REQUIRED = {422: {"idempotency_key_required": {
    "summary": "A server API key sent no Idempotency-Key",
    "value": {"error": {"code": "validation_error", "message": "the Idempotency-Key header is required",
                        "request_id": "c0ffee00", "field": "Idempotency-Key"}},
}}}


@app.post("/v1/usage", summary="Debit credits for one AI call", tags=["usage"],
          responses=http.responses(201, usage.UsageOut, 402, 403, 404, 409, 429, examples=IDEMPOTENCY_KEY_REQUIRED))
def post_usage(body: usage.UsageIn) -> Response[usage.UsageOut]:
    principal = _caller()
    key = http.idempotency_key(app, required=principal.is_service)
    result = usage.record_usage(principal, body, key)
    metrics.add_metric(name="UsageDebited", unit=MetricUnit.Count, value=1)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=result)


@app.post("/v1/reservations", summary="Hold credits before an AI call", tags=["reservations"],
          responses=http.responses(201, ReservationOut, 402, 403, 404, 409, 429,
                                   examples=IDEMPOTENCY_KEY_REQUIRED))
def post_reservation(body: ReservationIn) -> Response[ReservationOut]:
    principal = _caller()
    key = http.idempotency_key(app, required=principal.is_service)
    result = reservations.reserve(principal, body, key)
    metrics.add_metric(name="CreditsReserved", unit=MetricUnit.Count, value=1)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=result)


@app.get("/v1/reservations/<reservation_id>", summary="A reservation", tags=["reservations"],
         responses=http.responses(200, ReservationView, 403, 404, 429))
def get_reservation(reservation_id: IdPath) -> ReservationView:
    return reservations.get(_caller(), reservation_id)


@app.post("/v1/reservations/<reservation_id>/settle", summary="Charge the actual cost of a held call",
          tags=["reservations"], responses=http.responses(200, SettleOut, 403, 404, 409, 429))
def post_settle(reservation_id: IdPath, body: SettleIn) -> SettleOut:
    result = reservations.settle(_caller(), reservation_id, body)
    metrics.add_metric(name="ReservationSettled", unit=MetricUnit.Count, value=1)
    return result


@app.post("/v1/reservations/<reservation_id>/release", summary="Free a hold without charging",
          tags=["reservations"], responses=http.responses(200, ReleaseOut, 403, 404, 409, 429))
def post_release(reservation_id: IdPath) -> ReleaseOut:
    return reservations.release(_caller(), reservation_id)


REVERSAL_ROUTE = "POST /v1/admin/transactions/{transaction_id}/reversal"
REVERSAL_EXAMPLES = {422: {
    "idempotency_key_required": {
        "summary": "No Idempotency-Key (required from every caller on a reversal)",
        "value": {"error": {"code": "validation_error", "message": "the Idempotency-Key header is required",
                            "request_id": "c0ffee00", "field": "Idempotency-Key"}},
    },
    "more_than_is_left": {
        "summary": "More credits than are left of the usage entry to give back",
        "value": {"error": {"code": "validation_error", "request_id": "c0ffee00", "field": "credits",
                            "message": "at most 4 credits of this usage entry are left to give back",
                            "remaining": "4"}},
    },
}}


@app.post("/v1/admin/transactions/<transaction_id>/reversal", summary="Give back the credits of a failed AI call",
          description="Admins: any usage entry. A server API key: usage it made itself, within the "
                      "service_reversal_window_seconds setting of it (someone else's is 404). Credits "
                      "(default: all not yet given back) return to the wallet as a reversal entry; all "
                      "reversals of an entry together give back at most what it cost. Idempotency-Key required.",
          tags=["usage"], responses=http.responses(201, EntryOut, 403, 404, 409, 429, examples=REVERSAL_EXAMPLES))
def post_reversal(transaction_id: TransactionIdPath, body: usage.ReversalIn) -> Response[EntryOut]:
    principal = _caller()
    key = http.idempotency_key(app, required=True)
    result = usage.reverse_usage(principal, transaction_id, body, key)
    metrics.add_metric(name="UsageReversed", unit=MetricUnit.Count, value=1)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=result)


def _refused_before_reading(event: dict) -> dict | None:
    """A reversal from someone neither admin nor API key is 403 before its body is read, as on
    every admin route; a request without a principal is left to the edge (401)."""
    try:
        caller = from_request_context(event.get("requestContext") or {}, settings().roles_claim)
        usage.check_caller(caller)
    except TollgateError as exc:
        return early_error(event, exc) if exc.status == 403 else None
    return None


@logger.inject_lambda_context  # correlation_id: tollgate.http.resolve
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    if event.get("routeKey") == REVERSAL_ROUTE:
        refused = _refused_before_reading(event)
        if refused is not None:
            return refused
    return http.resolve(app, event, context)


coldstart.end()
