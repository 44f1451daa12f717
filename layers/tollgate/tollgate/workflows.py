"""What runs Tollgate's Standard workflows (payouts, refunds, allocation runs, exports): Step Functions in AWS
(and in moto locally), a fake in tests.

An execution is named by the record it settles (the payout or refund id), so starting it
twice starts it once: Step Functions answers the running execution, or
``ExecutionAlreadyExists`` once it has closed, which counts as started. A task token is
answered once; answering it again (a webhook and the waiting step racing to report the same
outcome) is not an error.

Each workflow's state machine ARN comes from ``<WORKFLOW>_STATE_MACHINE_ARN``
(``PAYOUT_STATE_MACHINE_ARN``, ``REFUND_STATE_MACHINE_ARN``, ``ALLOCATION_STATE_MACHINE_ARN``,
``EXPORT_STATE_MACHINE_ARN``), set by the template.
"""

from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from typing import Any, Literal

from tollgate.errors import TollgateError

Workflow = Literal["payout", "refund", "allocation", "export"]
# A token already answered, timed out or of a closed execution: the outcome is already known.
_SETTLED_TOKEN_ERRORS = ("TaskTimedOut", "TaskDoesNotExist", "InvalidToken", "ExecutionDoesNotExist")


class WorkflowUnavailable(TollgateError):
    """The record is kept but its workflow did not start; the message says how to resume it."""

    status = 503
    code = "try_again"


def arn_variable(workflow: Workflow) -> str:
    return f"{workflow.upper()}_STATE_MACHINE_ARN"


class WorkflowEngine(ABC):
    @abstractmethod
    def start(self, workflow: Workflow, name: str, payload: dict[str, Any]) -> None:
        """Start ``workflow``'s execution ``name`` with ``payload`` (once, whatever the calls)."""

    @abstractmethod
    def succeed(self, token: str, output: dict[str, Any]) -> None:
        """Resume a waiting task with ``output``."""

    @abstractmethod
    def fail(self, token: str, error: str, cause: str) -> None:
        """Fail a waiting task with the named error."""


class StepFunctionsEngine(WorkflowEngine):
    def __init__(self) -> None:
        self._client: Any = None

    def client(self) -> Any:
        if self._client is None:
            import botocore.session

            from tollgate.data.connection import CLIENT_CONFIG

            self._client = botocore.session.get_session().create_client("stepfunctions", config=CLIENT_CONFIG)
        return self._client

    def start(self, workflow: Workflow, name: str, payload: dict[str, Any]) -> None:
        from botocore.exceptions import ClientError

        arn = os.environ.get(arn_variable(workflow))
        if not arn:
            raise RuntimeError(f"{arn_variable(workflow)} is not set")
        try:
            self.client().start_execution(stateMachineArn=arn, name=name, input=json.dumps(payload))
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ExecutionAlreadyExists":
                raise

    def succeed(self, token: str, output: dict[str, Any]) -> None:
        self._answer(lambda c: c.send_task_success(taskToken=token, output=json.dumps(output)))

    def fail(self, token: str, error: str, cause: str) -> None:
        self._answer(lambda c: c.send_task_failure(taskToken=token, error=error, cause=cause[:32768]))

    def _answer(self, send: Any) -> None:
        from botocore.exceptions import ClientError

        try:
            send(self.client())
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in _SETTLED_TOKEN_ERRORS:
                raise


_engine: list[WorkflowEngine] = []


def engine() -> WorkflowEngine:
    if not _engine:
        _engine.append(StepFunctionsEngine())
    return _engine[0]


def start(workflow: Workflow, name: str, payload: dict[str, Any], *, resume: str) -> None:
    """Start an execution, or raise :class:`WorkflowUnavailable` saying what was kept and how
    to ``resume`` it (any failure to start: the record waits, kept, for that retry)."""
    try:
        engine().start(workflow, name, payload)
    except Exception as exc:
        raise WorkflowUnavailable(f"{workflow} {name} is recorded but its workflow could not start; {resume} to "
                                  "resume it", retry_after_seconds=1, **{f"{workflow}_id": name}) from exc


def set_engine(new: WorkflowEngine | None) -> None:
    """Test hook: run workflows on another engine (None: back to Step Functions)."""
    _engine.clear()
    if new is not None:
        _engine.append(new)


__all__ = ["StepFunctionsEngine", "Workflow", "WorkflowEngine", "WorkflowUnavailable", "arn_variable", "engine",
           "set_engine", "start"]
