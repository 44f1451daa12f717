"""PayoutStepsFunction: the payout workflow's steps, one per invocation (``{"step", "payout_id"}``).

Invoked only by ``statemachines/payout.asl.json``. A step that may succeed later raises
``TransientPayoutError`` (the state machine retries it); one that cannot raises
``PermanentPayoutError`` (caught into Compensate). Neither carries a stack trace into the
execution's history: the state machine sees the error's name and message.
"""

from __future__ import annotations

from tollgate import coldstart

coldstart.begin()  # the init phase runs without the cyclic GC (tollgate/coldstart.py)

import json
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from tollgate.payouts import workflow
from tollgate.payouts.exceptions import PermanentPayoutError

logger = Logger()
metrics = Metrics()

_STEPS = {
    "reserve": workflow.reserve,
    "transfer": workflow.transfer,
    "verify": workflow.verify,
    "mark_paid": workflow.mark_paid,
}


def _reason(error: Any) -> str:
    """What a caught error says, for the payout's ``failure``: its message, never a trace."""
    if not isinstance(error, dict):
        return "the payout failed"
    cause, name = error.get("Cause"), str(error.get("Error") or "PayoutFailed")
    try:
        message = json.loads(cause).get("errorMessage") if isinstance(cause, str) else None
    except ValueError:
        message = cause
    return f"{name}: {message or cause or 'no details'}"[:500]


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict | None:
    step, payout_id = event.get("step"), event.get("payout_id")
    if not isinstance(payout_id, str) or not payout_id:
        raise PermanentPayoutError("the step needs a payout_id")
    logger.append_keys(payout_id=payout_id, step=step)
    if step == "await_confirmation":
        workflow.await_confirmation(payout_id, str(event["task_token"]))
        return None
    if step == "compensate":
        result = workflow.compensate(payout_id, _reason(event.get("error")))
        metrics.add_metric(name="PayoutCompensated", unit=MetricUnit.Count, value=1)
        return result
    if step not in _STEPS:
        raise PermanentPayoutError(f"no step {step!r}")
    result = _STEPS[step](payout_id)
    if step == "mark_paid":
        metrics.add_metric(name="PayoutPaid", unit=MetricUnit.Count, value=1)
    return result


coldstart.end()
