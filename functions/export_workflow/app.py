"""ExportStepsFunction: a ledger export's steps, one per invocation (``{"step", "export_id", ...}``).

Invoked only by ``statemachines/export.asl.json``: ``start`` opens the CSV's multipart upload,
``export_part`` sends the next parts and returns the loop's state with its counts added, ``complete``
completes the upload and records the export, ``record_failure`` aborts the upload and marks the export
failed. Errors reach the state machine by name and message (it retries each step), never as stack traces.
"""

from __future__ import annotations

from tollgate import coldstart

coldstart.begin()  # the init phase runs without the cyclic GC (tollgate/coldstart.py)

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from tollgate.exports import service

logger = Logger()
metrics = Metrics()

_STEPS = {
    "start": service.start,
    "export_part": service.export_part,
    "complete": service.complete,
    "record_failure": service.record_failure,
}


class UnknownStep(Exception):
    pass


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict[str, Any]:
    step = event.get("step")
    if step not in _STEPS or not isinstance(event.get("export_id"), str):
        raise UnknownStep(f"no step {step!r} (a step needs an export_id)")
    logger.append_keys(export_id=event["export_id"], step=step)
    result = _STEPS[step](event)
    if step == "complete":
        metrics.add_metric(name="ExportRows", unit=MetricUnit.Count, value=result["rows"])
        metrics.add_metric(name="ExportBytes", unit=MetricUnit.Bytes, value=result["bytes"])
    elif step == "record_failure":
        metrics.add_metric(name="ExportsFailed", unit=MetricUnit.Count, value=1)
    return result


coldstart.end()
