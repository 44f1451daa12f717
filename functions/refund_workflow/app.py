"""RefundStepsFunction: the refund workflow's steps, one per invocation (``{"step", "refund_id"}``).

Invoked only by ``statemachines/refund.asl.json``. A step that may succeed later raises
``TransientRefundError`` (the state machine retries it); one that cannot raises
``PermanentRefundError`` (caught into Compensate), its message starting with the failure
reason. Neither carries a stack trace into the execution's history: the state machine sees
the error's name and message.
"""

from __future__ import annotations

from tollgate import coldstart

coldstart.begin()  # the init phase runs without the cyclic GC (tollgate/coldstart.py)

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from tollgate.refunds import workflow
from tollgate.refunds.exceptions import PermanentRefundError

logger = Logger()
metrics = Metrics()

_STEPS = {
    "claw_back": workflow.claw_back,
    "gateway_refund": workflow.gateway_refund,
    "mark_refunded": workflow.mark_refunded,
}


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict[str, Any] | None:
    step, refund_id = event.get("step"), event.get("refund_id")
    if not isinstance(refund_id, str) or not refund_id:
        raise PermanentRefundError("the step needs a refund_id")
    logger.append_keys(refund_id=refund_id, step=step)
    if step == "await_confirmation":
        workflow.await_confirmation(refund_id, str(event["task_token"]))
        return None
    if step == "compensate":
        result = workflow.compensate(refund_id, event.get("error"))
        if result["status"] == "failed":
            metrics.add_metric(name="RefundFailed", unit=MetricUnit.Count, value=1)
        return result
    if step not in _STEPS:
        raise PermanentRefundError(f"no step {step!r}")
    result = _STEPS[step](refund_id)
    if step == "mark_refunded":
        metrics.add_metric(name="RefundSucceeded", unit=MetricUnit.Count, value=1)
    return result


coldstart.end()
