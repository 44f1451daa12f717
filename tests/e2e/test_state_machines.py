"""Step Functions locally: a state machine from the template, wired by DefinitionSubstitutions,
executed by moto, its Lambda task answered by the real handler in the function's own process."""

from __future__ import annotations

import json
import threading

import boto3

DEFINITION = {
    "Comment": "sweep expired holds, as a workflow",
    "StartAt": "Sweep",
    "States": {"Sweep": {"Type": "Task", "Resource": "${SweeperArn}", "End": True}},
}


def test_a_template_state_machine_executes_with_real_handlers(tmp_path, monkeypatch, own_stack_env):
    from tollgate_local import template
    from tollgate_local.stack import LocalStack, StackConfig, resource_names

    asl = tmp_path / "sweep.asl.json"
    asl.write_text(json.dumps(DEFINITION))
    real = template.load()
    with_machine = {**real, "Resources": {**real["Resources"], "SweepWorkflow": {
        "Type": "AWS::Serverless::StateMachine",
        "Properties": {"DefinitionUri": str(asl),
                       "DefinitionSubstitutions": {"SweeperArn": {"Fn::GetAtt": "HoldsSweeperFunction.Arn"}}},
    }}}
    monkeypatch.setattr(template, "load", lambda: with_machine)

    config = StackConfig.ephemeral(tmp_path)
    config.stripe = False
    with LocalStack(config) as stack:
        invoked = threading.Event()
        sweeper = stack.registry.get("HoldsSweeperFunction")
        original = sweeper.invoke

        def recording_invoke(event):
            result = original(event)
            invoked.set()
            return result

        sweeper.invoke = recording_invoke
        sfn = boto3.client("stepfunctions", endpoint_url=stack.moto.endpoint, region_name="us-east-1")
        machines = {m["name"]: m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}
        arn = machines[resource_names()["SweepWorkflow"]]
        assert "${" not in sfn.describe_state_machine(stateMachineArn=arn)["definition"]
        execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
        assert invoked.wait(30), "the Lambda task never reached the real handler"
        # The task's result is the handler's return value.
        finished = _wait_for_end(sfn, execution)
        assert finished["status"] == "SUCCEEDED", finished
        assert json.loads(finished["output"]) == {"expired": 0, "already_closed": 0}


def _wait_for_end(sfn, execution):
    """The execution ends right after its only task returns; observe it, within a deadline."""
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        described = sfn.describe_execution(executionArn=execution)
        if described["status"] != "RUNNING":
            return described
    raise AssertionError("the execution did not finish")
