"""ReconciliationFunction: the reconciliation job, daily (schedule) and on demand (admin role).

Checks every refund and payout that reached a terminal state since its last run against its
gateway's own record (Stripe, Paystack: read-only look-ups), and every wallet and developer the
stream consumers changed since its last run against their invariants; records each discrepancy
once and emits ``ReconciliationFindings`` (0 when clean) and ``ReconciliationGatewayDeferred``
(refunds and payouts left for the next run because their gateway did not answer) once per run
(``tollgate.reconciliation``); lists the findings and reads a run back.
"""

from __future__ import annotations

from tollgate import coldstart

coldstart.begin()  # the init phase runs without the cyclic GC (tollgate/coldstart.py)

from typing import Annotated

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from tollgate import http
from tollgate.http.params import Cursor, FromDay, Limit, ToDay
from tollgate.principal import ADMIN
from tollgate.reconciliation import service
from tollgate.reconciliation.schemas import RUN_ID_PATTERN, FindingPage, RunOut

logger = Logger()
metrics = Metrics()
app = http.create_app(required_role=ADMIN)

RunIdPath = Annotated[str, Path(min_length=5, max_length=64, pattern=RUN_ID_PATTERN)]


def _emit(summary: RunOut) -> None:
    metrics.add_metric(name="ReconciliationFindings", unit=MetricUnit.Count, value=summary.findings)
    # Not findings: a gateway that stays down shows here, run after run.
    metrics.add_metric(name="ReconciliationGatewayDeferred", unit=MetricUnit.Count, value=summary.gateway_deferred)
    logger.info("reconciliation run", extra={"run": summary.model_dump(mode="json")})


@app.post("/v1/admin/reconciliation/run", summary="Run the reconciliation job now (bounded: see complete)",
          tags=["reconciliation"], responses=http.responses(200, RunOut))
def post_run() -> RunOut:
    summary = service.run_now(http.principal(app))
    _emit(summary)
    return summary


@app.get("/v1/admin/reconciliation/findings", summary="What the reconciliation job found, newest first",
         tags=["reconciliation"], responses=http.responses(200, FindingPage))
def list_findings(from_: FromDay = None, to: ToDay = None, limit: Limit = 25,
                  cursor: Cursor = None) -> FindingPage:
    return service.list_findings(http.principal(app), date_from=from_, date_to=to, limit=limit, cursor=cursor)


@app.get("/v1/admin/reconciliation/runs/<run_id>", summary="One run of the reconciliation job",
         tags=["reconciliation"], responses=http.responses(200, RunOut, 404))
def get_run(run_id: RunIdPath) -> RunOut:
    return service.get_run(http.principal(app), run_id)


def _scheduled(context: LambdaContext) -> dict:
    # Stop with time to record the run: a minute before the invocation's end (a quarter of a short one).
    remaining = context.get_remaining_time_in_millis()
    summary = service.run("schedule", max_subjects=service.SCHEDULED_MAX_SUBJECTS,
                          budget_ms=max(1_000, remaining - min(60_000, remaining // 4)))
    _emit(summary)
    return summary.model_dump(mode="json")


@logger.inject_lambda_context  # correlation_id: tollgate.http.resolve
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    if "routeKey" in event and "requestContext" in event:
        return http.resolve(app, event, context)
    return _scheduled(context)


coldstart.end()
