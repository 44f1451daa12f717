"""template.yaml's operability: log groups, alarms, failure destinations and the operations
dashboard, each checked against the lists the template itself gives (its functions, state
machines, stream consumers, queues), so a resource added without them fails here."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.support import ROOT
from tollgate_local import template

# CloudWatch Logs' retention values (PutRetentionPolicy), in days.
RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                  3288, 3653]
# Event sources whose failures the caller sees (the HTTP API), or that Step Functions retries.
SYNCHRONOUS_EVENTS = {"HttpApi", "Api"}
# Polled streams: a batch that keeps failing goes to the event source's on-failure destination.
STREAM_EVENTS = {"DynamoDB", "Kinesis"}
# Invoked asynchronously by EventBridge: a dead-letter queue on the rule target and an
# on-failure destination on the function.
SCHEDULE_EVENTS = {"Schedule", "ScheduleV2", "EventBridgeRule", "CloudWatchEvent"}
LOG_DELIVERY_ACTIONS = {"logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
                        "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy",
                        "logs:DescribeResourcePolicies", "logs:DescribeLogGroups"}
PSEUDO_PARAMETERS = {"AWS::Region", "AWS::AccountId", "AWS::Partition", "AWS::StackName", "AWS::URLSuffix"}
TOPIC = {"Ref": "AlarmTopic"}
# The dimensions an HTTP API (API Gateway v2) publishes route-level metrics under, with detailed
# metrics on: "ApiId, Method, Resource, Stage" (the route key's method and path), not a Route
# dimension (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-metrics.html).
HTTP_API_ROUTE_DIMENSIONS = {"ApiId", "Method", "Resource", "Stage"}
# Alarms whose right threshold is always "any" (a constant 0, said so in a YAML comment where it
# stands): a workflow execution that still failed after Step Functions' retries, a disabled
# webhook endpoint, a reconciliation finding. Every other threshold is a parameter.
ANY_IS_AN_ALARM = {("AWS/States", "ExecutionsFailed"), ("AWS/States", "ExecutionsTimedOut"),
                   ("AWS/States", "ExecutionsAborted"), ("Tollgate", "WebhookEndpointDisabled"),
                   ("Tollgate", "ReconciliationFindings")}
# Alarms on counts and rates, whose period and number of periods in a row are the operator's
# (AlarmPeriodSeconds, AlarmEvaluationPeriods; the p99 its own number of periods).
PARAMETERISED_WINDOW = {("AWS/Lambda", "Errors"), ("AWS/Lambda", "Throttles"), ("AWS/ApiGateway", "5xx"),
                        ("AWS/ApiGateway", "Count"), ("AWS/ApiGateway", "Latency")}
# The rest keep a constant window, for the reason the template gives: IteratorAge and a queue's
# depth are gauges (their threshold is the parameter), "any" alarms alarm on one data point, and
# the reconciliation alarm keeps its state between runs.
CONSTANT_WINDOW = {("AWS/Lambda", "IteratorAge"), ("AWS/SQS", "ApproximateNumberOfMessagesVisible")} | ANY_IS_AN_ALARM
# The alarm whose metric comes once per run, not continuously: it keeps its state between runs.
KEEPS_ITS_STATE = {"ReconciliationFindingsAlarm": "ignore"}


def _resources() -> dict[str, dict[str, Any]]:
    return template.load()["Resources"]


def _of_type(kind: str) -> dict[str, dict[str, Any]]:
    return template.resources(kind)


def _props(resource: dict[str, Any]) -> dict[str, Any]:
    return resource.get("Properties") or {}


def _target(node: Any) -> str | None:
    """The logical id a !Ref or !GetAtt names (None for anything else)."""
    if isinstance(node, dict) and "Ref" in node:
        return node["Ref"]
    if isinstance(node, dict) and "Fn::GetAtt" in node:
        arg = node["Fn::GetAtt"]
        return (arg.split(".", 1) if isinstance(arg, str) else arg)[0]
    return None


def _events(function: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return _props(function).get("Events") or {}


def _stream_consumers() -> list[str]:
    return [name for name, fn in _of_type("AWS::Serverless::Function").items()
            if any(e.get("Type") in STREAM_EVENTS for e in _events(fn).values())]


def _queue(node: Any) -> str:
    """The template queue a destination ARN (!GetAtt Queue.Arn) names."""
    name = _target(node)
    assert name in _of_type("AWS::SQS::Queue"), f"{node} is not a queue of the template"
    return name


def _alarm_metrics(alarm: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(namespace, metric, dimensions) of every metric an alarm reads (plain or metric math)."""
    props = _props(alarm)
    if "MetricName" in props:
        return [(props["Namespace"], props["MetricName"], {d["Name"]: d["Value"] for d in props.get("Dimensions", [])})]
    found = []
    for query in props.get("Metrics", []):
        if "MetricStat" in query:
            metric = query["MetricStat"]["Metric"]
            found.append((metric["Namespace"], metric["MetricName"],
                          {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}))
    return found


def _alarmed(namespace: str, metric: str) -> list[dict[str, Any]]:
    """The dimensions of every alarm on ``namespace``/``metric``."""
    return [dims for alarm in _of_type("AWS::CloudWatch::Alarm").values()
            for ns, name, dims in _alarm_metrics(alarm) if (ns, name) == (namespace, metric)]


def _alarmed_targets(namespace: str, metric: str, dimension: str) -> set[str]:
    return {_target(dims.get(dimension)) for dims in _alarmed(namespace, metric)}


def test_log_retention_is_one_parameter_with_cloudwatchs_values():
    parameter = template.load()["Parameters"]["LogRetentionDays"]
    assert parameter["Default"] == 30
    assert parameter["AllowedValues"] == RETENTION_DAYS
    for name, group in _of_type("AWS::Logs::LogGroup").items():
        assert _props(group)["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name


def test_every_function_has_its_log_group():
    names = {json.dumps(_props(g)["LogGroupName"]) for g in _of_type("AWS::Logs::LogGroup").values()}
    for function in _of_type("AWS::Serverless::Function"):
        assert json.dumps({"Fn::Sub": f"/aws/lambda/${{{function}}}"}) in names, f"{function} has no log group"


def test_every_state_machine_logs_errors_to_a_log_group_of_its_own():
    groups = _of_type("AWS::Logs::LogGroup")
    used = []
    for name, machine in _of_type("AWS::Serverless::StateMachine").items():
        logging = _props(machine).get("Logging")
        assert logging and logging["Level"] == "ERROR", f"{name} does not log its errors"
        (destination,) = logging["Destinations"]
        group = _target(destination["CloudWatchLogsLogGroup"]["LogGroupArn"])
        assert group in groups, name
        used.append(group)
        # Vended log delivery needs these on the state machine's role (SAM adds none).
        actions = set()
        for policy in _props(machine).get("Policies", []):
            for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
                actions.update(statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])
        assert LOG_DELIVERY_ACTIONS <= actions, name
    assert len(used) == len(set(used)), "state machines share a log group"


def test_alarms_notify_the_topic_and_treat_missing_data_as_not_breaching():
    alarms = _of_type("AWS::CloudWatch::Alarm")
    assert alarms
    for name, alarm in alarms.items():
        props = _props(alarm)
        assert props["AlarmActions"] == [TOPIC], name
        assert props["OKActions"] == [TOPIC], name
        assert props["TreatMissingData"] == KEEPS_ITS_STATE.get(name, "notBreaching"), name
    assert _resources()["AlarmTopic"]["Type"] == "AWS::SNS::Topic"


def test_the_email_subscription_exists_only_when_an_address_is_given():
    doc = template.load()
    assert doc["Parameters"]["AlarmEmail"]["Default"] == ""
    assert doc["Conditions"]["HasAlarmEmail"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}
    (subscription,) = _of_type("AWS::SNS::Subscription").values()
    assert subscription["Condition"] == "HasAlarmEmail"
    assert _props(subscription) == {"TopicArn": TOPIC, "Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}}


def test_every_function_has_an_errors_and_a_throttles_alarm():
    functions = set(_of_type("AWS::Serverless::Function"))
    for metric in ("Errors", "Throttles"):
        missing = functions - _alarmed_targets("AWS/Lambda", metric, "FunctionName")
        assert not missing, f"no {metric} alarm for {sorted(missing)}"


def test_every_state_machine_has_failed_timed_out_and_aborted_alarms():
    machines = set(_of_type("AWS::Serverless::StateMachine"))
    assert machines
    for metric in ("ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"):
        missing = machines - _alarmed_targets("AWS/States", metric, "StateMachineArn")
        assert not missing, f"no {metric} alarm for {sorted(missing)}"


def test_every_stream_consumer_has_an_iterator_age_alarm():
    consumers = set(_stream_consumers())
    assert consumers
    missing = consumers - _alarmed_targets("AWS/Lambda", "IteratorAge", "FunctionName")
    assert not missing, f"no IteratorAge alarm for {sorted(missing)}"
    thresholds = {json.dumps(_props(a)["Threshold"]) for a in _of_type("AWS::CloudWatch::Alarm").values()
                  if _props(a).get("MetricName") == "IteratorAge"}
    assert thresholds == {json.dumps({"Ref": "StreamIteratorAgeMs"})}


def _failure_queues() -> dict[str, str]:
    """Every queue some invocation's failures go to, and who sends them there."""
    queues: dict[str, str] = {}
    for name, fn in _of_type("AWS::Serverless::Function").items():
        on_failure = ((_props(fn).get("EventInvokeConfig") or {}).get("DestinationConfig") or {}).get("OnFailure")
        if on_failure:
            queues[_queue(on_failure["Destination"])] = name
        for event_name, event in _events(fn).items():
            props = event.get("Properties") or {}
            on_failure = (props.get("DestinationConfig") or {}).get("OnFailure")
            if on_failure:
                queues[_queue(on_failure["Destination"])] = f"{name}.{event_name}"
            if props.get("DeadLetterConfig"):
                queues[_queue(props["DeadLetterConfig"]["Arn"])] = f"{name}.{event_name}"
            if event["Type"] == "SQS":  # a message that keeps failing: the source queue's redrive policy
                source = _of_type("AWS::SQS::Queue")[_queue(props["Queue"])]
                queues[_queue(source["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])] = f"{name}.{event_name}"
    return queues


def test_every_asynchronous_invocation_has_somewhere_to_fail_to():
    for name, fn in _of_type("AWS::Serverless::Function").items():
        for event_name, event in _events(fn).items():
            kind, props = event["Type"], event.get("Properties") or {}
            where = f"{name}.{event_name} ({kind})"
            if kind in SYNCHRONOUS_EVENTS:
                continue
            if kind in STREAM_EVENTS:
                on_failure = props["DestinationConfig"]["OnFailure"]
                assert on_failure["Type"] == "SQS", where
                _queue(on_failure["Destination"])
                continue
            if kind == "SQS":
                # A message that keeps failing (maxReceiveCount) moves to the queue's dead-letter queue.
                source = _of_type("AWS::SQS::Queue")[_queue(props["Queue"])]
                redrive = source["Properties"]["RedrivePolicy"]
                assert int(redrive["maxReceiveCount"]) >= 1, where
                _queue(redrive["deadLetterTargetArn"])
                assert "ReportBatchItemFailures" in props.get("FunctionResponseTypes", []), where
                continue
            assert kind in SCHEDULE_EVENTS, f"{where}: decide where its failures go, then teach this test"
            # EventBridge could not deliver it: the rule target's dead-letter queue.
            assert props.get("DeadLetterConfig"), f"{where}: no DeadLetterConfig"
            _queue(props["DeadLetterConfig"]["Arn"])
            # Lambda ran it and it failed after its retries: the function's on-failure destination.
            config = _props(fn).get("EventInvokeConfig")
            assert config, f"{where}: no EventInvokeConfig"
            assert config["MaximumRetryAttempts"] == {"Ref": "ScheduledInvocationRetryAttempts"}, where
            on_failure = config["DestinationConfig"]["OnFailure"]
            assert on_failure["Type"] == "SQS", where
            _queue(on_failure["Destination"])


def test_eventbridge_may_send_to_the_dead_letter_queues_of_its_rules():
    rule_queues = {_queue((e.get("Properties") or {})["DeadLetterConfig"]["Arn"])
                   for fn in _of_type("AWS::Serverless::Function").values() for e in _events(fn).values()
                   if (e.get("Properties") or {}).get("DeadLetterConfig")}
    assert rule_queues
    allowed = set()
    for policy in _of_type("AWS::SQS::QueuePolicy").values():
        statements = _props(policy)["PolicyDocument"]["Statement"]
        if any(s["Principal"] == {"Service": "events.amazonaws.com"} and s["Action"] == "sqs:SendMessage"
               for s in statements):
            allowed.update(_target(q) for q in _props(policy)["Queues"])
    assert rule_queues <= allowed


def test_every_dead_letter_queue_has_a_depth_alarm():
    failure_queues = _failure_queues()
    assert failure_queues
    # Every queue of the template is somewhere failures go, or a function's work queue (its
    # failures go on to its dead-letter queue, alarmed here; its depth is not a fault: a webhook
    # delivery waits up to 12 hours between attempts). Anything else would need its own alarm.
    work_queues = {_queue(e["Properties"]["Queue"]) for fn in _of_type("AWS::Serverless::Function").values()
                   for e in _events(fn).values() if e["Type"] == "SQS"}
    others = set(_of_type("AWS::SQS::Queue")) - set(failure_queues) - work_queues
    assert not others, f"queues no failure goes to: {sorted(others)}"
    alarmed = _alarmed_targets("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName")
    for queue, sender in failure_queues.items():
        assert queue in alarmed, f"{queue} (failures of {sender}) has no depth alarm"


def _route_of(dims: dict[str, Any]) -> str:
    """The route key ("POST /v1/usage") whose route-level metric ``dims`` name, checked against the
    dimensions an HTTP API publishes those under, its stage and its detailed-metrics setting."""
    api = _props(_of_type("AWS::Serverless::HttpApi")["HttpApi"])
    assert set(dims) == HTTP_API_ROUTE_DIMENSIONS, f"not an HTTP API's route-level dimensions: {sorted(dims)}"
    assert dims["ApiId"] in ({"Ref": "HttpApi"}, "HttpApi"), dims  # the alarm's !Ref, the dashboard's ${HttpApi}
    assert dims["Stage"] == api["StageName"], dims
    route = f"{dims['Method']} {dims['Resource']}"
    assert route in {f"{r.method} {r.path}" for r in template.http_routes()}, f"no route {route}"
    # Route-level metrics exist only where detailed metrics are on (this route's own, or every route's).
    settings = {**(api.get("DefaultRouteSettings") or {}), **(api.get("RouteSettings") or {}).get(route, {})}
    assert settings.get("DetailedMetricsEnabled") is True, f"{route} publishes no route-level metrics"
    return route


def test_the_api_alarms_on_its_5xx_rate_and_the_debit_paths_p99():
    rate = _props(_resources()["Api5xxRateAlarm"])
    assert {(ns, m, _target(d["ApiId"])) for ns, m, d in _alarm_metrics(_resources()["Api5xxRateAlarm"])} == {
        ("AWS/ApiGateway", "5xx", "HttpApi"), ("AWS/ApiGateway", "Count", "HttpApi")}
    assert rate["Threshold"] == {"Ref": "Api5xxRatePercent"}
    latency = _props(_resources()["UsageLatencyP99Alarm"])
    dims = {d["Name"]: d["Value"] for d in latency["Dimensions"]}
    assert "Route" not in dims  # an HTTP API publishes no Route dimension: the alarm would never see data
    assert _route_of(dims) == "POST /v1/usage"
    assert latency["ExtendedStatistic"] == "p99"
    assert latency["Threshold"] == {"Ref": "ApiP99LatencyMs"}
    assert latency["Period"] == {"Ref": "AlarmPeriodSeconds"}
    assert latency["EvaluationPeriods"] == {"Ref": "ApiP99LatencyEvaluationPeriods"}
    assert latency.get("DatapointsToAlarm", latency["EvaluationPeriods"]) == latency["EvaluationPeriods"]


def test_the_table_and_reconciliation_alarms():
    tables = set(_of_type("AWS::DynamoDB::Table"))
    for alarm in ("TableThrottledRequestsAlarm", "TableSystemErrorsAlarm"):
        (query,) = _props(_resources()[alarm])["Metrics"]
        text = query["Expression"]["Fn::Sub"]
        assert re.search(r'FROM SCHEMA\("AWS/DynamoDB", Operation, TableName\)', text), alarm
        assert set(re.findall(r"\$\{(\w+)\}", text)) == tables, alarm
        assert _props(_resources()[alarm])["EvaluationPeriods"] == {"Ref": "AlarmEvaluationPeriods"}, alarm
        assert query["Period"] == {"Ref": "AlarmPeriodSeconds"}, alarm
    assert _props(_resources()["TableThrottledRequestsAlarm"])["Threshold"] == {"Ref": "TableThrottledRequestsThreshold"}
    assert _props(_resources()["TableSystemErrorsAlarm"])["Threshold"] == {"Ref": "TableSystemErrorsThreshold"}
    reconciliation = _props(_resources()["ReconciliationFindingsAlarm"])
    assert (reconciliation["Namespace"], reconciliation["MetricName"]) == ("Tollgate", "ReconciliationFindings")
    assert reconciliation["ComparisonOperator"] == "GreaterThanThreshold" and reconciliation["Threshold"] == 0


def test_the_reconciliation_alarm_stays_in_alarm_until_a_run_reports_none():
    """ReconciliationFindings comes once per run (daily, and on demand), so most hours have no
    data. With notBreaching the alarm went back to OK an hour after a run that found
    something, the findings still open; it must keep its state until a later run reports 0."""
    props = _props(_resources()["ReconciliationFindingsAlarm"])
    # Missing data keeps the current state (ALARM stays ALARM, OK stays OK) ...
    assert props["TreatMissingData"] == "ignore"
    # ... and only a data point changes it: the latest run's count, > 0 in ALARM, 0 back to OK.
    assert props["Statistic"] == "Maximum"  # a run with findings wins over a clean one in the same period
    assert (props["ComparisonOperator"], props["Threshold"]) == ("GreaterThanThreshold", 0)
    assert props["EvaluationPeriods"] == 1 and props.get("DatapointsToAlarm", 1) == 1
    assert "ExtendedStatistic" not in props and "Metrics" not in props
    # One-hour periods: a clean run clears it within the hour; CloudWatch's limit (Period x
    # EvaluationPeriods at most 7 days from a one-hour period on) holds.
    assert props["Period"] == 3600
    assert props["Period"] * props["EvaluationPeriods"] <= 7 * 86400
    # A later run comes: the function runs on a schedule (and on demand, POST .../run).
    function = _of_type("AWS::Serverless::Function")["ReconciliationFunction"]
    assert any(e["Type"] == "Schedule" for e in _events(function).values())
    assert "POST /v1/admin/reconciliation/run" in {f"{r.method} {r.path}" for r in template.http_routes()}
    # The code emits it once per run, 0 when clean (the metric the alarm reads exists).
    assert "ReconciliationFindings" in _emitted_metrics()
    # Every other alarm reads a metric that comes continuously, or only when something is wrong.
    others = {name for name, a in _of_type("AWS::CloudWatch::Alarm").items()
              if _props(a)["TreatMissingData"] != "notBreaching"}
    assert others == {"ReconciliationFindingsAlarm"}


def _parameter(node: Any) -> dict[str, Any] | None:
    """The template parameter a !Ref names (None for a constant)."""
    name = _target(node)
    if name is None:
        return None
    parameter = template.load()["Parameters"].get(name)
    assert parameter, f"{node} is not a parameter of the template"
    return parameter


def _largest(node: Any) -> int:
    """The largest value a property can take: a constant, or what its Number parameter allows."""
    parameter = _parameter(node)
    if parameter is None:
        return int(node)
    assert parameter["Type"] == "Number", node
    if "AllowedValues" in parameter:
        return max(int(v) for v in parameter["AllowedValues"])
    assert "MaxValue" in parameter, f"{node}: no MaxValue, so nothing bounds the alarm's window"
    return int(parameter["MaxValue"])


def _periods(alarm: dict[str, Any]) -> list[Any]:
    props = _props(alarm)
    if "Period" in props:
        return [props["Period"]]
    return [q["MetricStat"]["Period"] if "MetricStat" in q else q["Period"]
            for q in props["Metrics"] if "MetricStat" in q or "Period" in q]


def _metrics_insights(alarm: dict[str, Any]) -> bool:
    return any("SELECT" in json.dumps(q.get("Expression", "")) for q in _props(alarm).get("Metrics", []))


def _template_text(name: str) -> str:
    """The YAML of the resource ``name``, comments and all."""
    text = template.TEMPLATE.read_text()
    start = text.index(f"\n  {name}:\n")
    following = re.search(r"\n  [A-Za-z0-9]+:\n|\n# =", text[start + 1:])
    return text[start: start + 1 + following.start()] if following else text[start:]


def test_alarm_thresholds_are_parameters_unless_any_is_an_alarm():
    for name, alarm in _of_type("AWS::CloudWatch::Alarm").items():
        props = _props(alarm)
        metrics = {(ns, m) for ns, m, _ in _alarm_metrics(alarm)}
        parameter = _parameter(props["Threshold"])
        if parameter is not None:
            assert parameter["Type"] == "Number" and "Default" in parameter, name
            assert "MinValue" in parameter or "AllowedValues" in parameter, name
            continue
        assert metrics and metrics <= ANY_IS_AN_ALARM, f"{name}: a constant threshold an operator would tune"
        assert (props["Threshold"], props["ComparisonOperator"]) == (0, "GreaterThanThreshold"), name
        # Said why where it stands.
        assert re.search(r'^ +Threshold: 0 +# .*"any"', _template_text(name), re.M), \
            f"{name}: say why its threshold is a constant (a YAML comment on the line)"


def test_alarm_windows_are_parameters_for_counts_and_rates():
    for name, alarm in _of_type("AWS::CloudWatch::Alarm").items():
        props = _props(alarm)
        metrics = {(ns, m) for ns, m, _ in _alarm_metrics(alarm)} or {("AWS/DynamoDB", "Metrics Insights")}
        if metrics <= CONSTANT_WINDOW:
            assert all(_parameter(p) is None for p in _periods(alarm)), name
            continue
        assert metrics <= PARAMETERISED_WINDOW | {("AWS/DynamoDB", "Metrics Insights")}, \
            f"{name}: decide whether its window is the operator's, then teach this test"
        assert _periods(alarm) and all(p == {"Ref": "AlarmPeriodSeconds"} for p in _periods(alarm)), name
        expected = "ApiP99LatencyEvaluationPeriods" if name == "UsageLatencyP99Alarm" else "AlarmEvaluationPeriods"
        assert props["EvaluationPeriods"] == {"Ref": expected}, name
        assert props.get("DatapointsToAlarm", props["EvaluationPeriods"]) == props["EvaluationPeriods"], name


def test_every_alarm_window_the_parameters_allow_is_one_cloudwatch_accepts():
    """PutMetricAlarm: Period x EvaluationPeriods at most one day under a one-hour period, at most
    7 days otherwise; a Metrics Insights alarm sees the last 3 hours only. A value the parameters
    allow must not fail the deployment."""
    for name, alarm in _of_type("AWS::CloudWatch::Alarm").items():
        props = _props(alarm)
        evaluation = _largest(props["EvaluationPeriods"])
        assert evaluation >= 1, name
        assert _largest(props.get("DatapointsToAlarm", props["EvaluationPeriods"])) <= evaluation, name
        for node in _periods(alarm):
            parameter = _parameter(node)
            values = ([int(v) for v in parameter["AllowedValues"]] if parameter and "AllowedValues" in parameter
                      else [_largest(node)])
            assert parameter is None or "AllowedValues" in parameter, f"{name}: a period must be one of a list"
            for period in values:
                assert period in (10, 20, 30) or period % 60 == 0, (name, period)
                limit = 86400 if period < 3600 else 7 * 86400
                if _metrics_insights(alarm):
                    limit = min(limit, 3 * 3600)
                assert period * evaluation <= limit, f"{name}: {period} s x {evaluation} periods > {limit} s"


# --- The operations dashboard ---------------------------------------------------------


def _emitted_metrics() -> set[str]:
    """Metric names the code emits (Powertools add_metric) and the template's metric filters make."""
    names: set[str] = set()
    for path in [*(ROOT / "functions").rglob("*.py"), *(ROOT / "layers" / "tollgate" / "tollgate").rglob("*.py")]:
        for fstring, name in re.findall(r'add_metric\(\s*name=(f?)"([^"]+)"', path.read_text()):
            if not fstring:
                names.add(name)
            elif name == "Webhook_{result.outcome}":
                from tollgate.purchases.settlement import Outcome

                names.update(f"Webhook_{outcome}" for outcome in Outcome)
            elif name == "AutoTopUp_{outcome}":
                from tollgate.autotopup import Outcome as TopUpOutcome

                names.update(f"AutoTopUp_{outcome}" for outcome in TopUpOutcome)
            elif name == "WebhookDelivery_{result.outcome}":
                from tollgate.webhook_endpoints import Outcome as DeliveryOutcome

                names.update(f"WebhookDelivery_{outcome}" for outcome in DeliveryOutcome)
            else:
                pytest.fail(f"{path}: teach this test the names of the metric {name!r}")
    for metric_filter in _of_type("AWS::Logs::MetricFilter").values():
        names.update(t["MetricName"] for t in _props(metric_filter)["MetricTransformations"])
    return names


def _dashboard() -> tuple[str, dict[str, Any]]:
    (dashboard,) = _of_type("AWS::CloudWatch::Dashboard").values()
    body = _props(dashboard)["DashboardBody"]["Fn::Sub"]
    assert isinstance(body, str)
    parameters = template.load()["Parameters"]
    resources = _resources()

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in PSEUDO_PARAMETERS:
            return "pseudo"
        if name in parameters:  # a Number parameter stands unquoted (a JSON number)
            return "1" if parameters[name]["Type"] == "Number" else name
        logical, _, attribute = name.partition(".")
        assert logical in resources, f"the dashboard names ${{{name}}}, which the template lacks"
        return f"{logical}.{attribute}" if attribute else logical

    return body, json.loads(re.sub(r"\$\{([^}]+)\}", value, body))


def _metric_rows(widget: dict[str, Any]) -> list[tuple[str, str, dict[str, str]]]:
    rows = []
    for row in widget["properties"].get("metrics", []):
        if isinstance(row[0], dict):
            continue  # a metric math expression over the rows below
        namespace, metric, *rest = row
        pairs = [r for r in rest if not isinstance(r, dict)]
        assert len(pairs) % 2 == 0, row
        rows.append((namespace, metric, dict(zip(pairs[::2], pairs[1::2], strict=True))))
    return rows


def test_the_dashboard_body_is_json_after_substitution():
    _, parsed = _dashboard()
    assert parsed["widgets"]
    for widget in parsed["widgets"]:
        assert widget["type"] in ("metric", "alarm", "text"), widget
        if widget["type"] == "metric":
            assert widget["properties"]["region"] == "pseudo"


def test_the_dashboard_reads_only_metrics_that_exist():
    _, parsed = _dashboard()
    resources = _resources()
    emitted = _emitted_metrics()
    service = template.load()["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
    filters = {t["MetricName"]: t for f in _of_type("AWS::Logs::MetricFilter").values()
               for t in _props(f)["MetricTransformations"]}
    seen = set()
    for widget in parsed["widgets"]:
        for namespace, metric, dims in _metric_rows(widget):
            seen.add((namespace, metric))
            if namespace == "Tollgate":
                assert metric in emitted, f"nothing emits Tollgate/{metric}"
                expected = {} if metric in filters else {"service": service}  # Powertools' service dimension
                assert dims == expected, (metric, dims)
                assert filters.get(metric, {"MetricNamespace": "Tollgate"})["MetricNamespace"] == "Tollgate"
                continue
            if namespace == "AWS/Lambda":
                assert set(dims) == {"FunctionName"}, dims
                assert resources[dims["FunctionName"]]["Type"] == "AWS::Serverless::Function"
            elif namespace == "AWS/ApiGateway":
                assert resources[dims["ApiId"]]["Type"] == "AWS::Serverless::HttpApi"
                if set(dims) != {"ApiId"}:  # a route's: ApiId, Method, Resource, Stage
                    _route_of(dims)
            else:
                pytest.fail(f"teach this test the dimensions of {namespace}")
    # What the dashboard is for: debits, 402s, latency, consumer lag.
    assert {("Tollgate", "UsageDebited"), ("Tollgate", "Http402Responses"), ("AWS/ApiGateway", "Latency")} <= seen
    lag = {dims["FunctionName"] for w in parsed["widgets"] for ns, m, dims in _metric_rows(w) if m == "IteratorAge"}
    assert lag == set(_stream_consumers())
    # The route's latency rows plot what its p99 alarm reads.
    alarmed = {d["Name"]: d["Value"] for d in _props(resources["UsageLatencyP99Alarm"])["Dimensions"]}
    plotted = [dims for w in parsed["widgets"] for ns, m, dims in _metric_rows(w)
               if (ns, m) == ("AWS/ApiGateway", "Latency") and set(dims) != {"ApiId"}]
    assert plotted and all({**dims, "ApiId": {"Ref": dims["ApiId"]}} == alarmed for dims in plotted)


def test_the_dashboards_alarm_widget_lists_every_alarm():
    _, parsed = _dashboard()
    listed = [a for w in parsed["widgets"] if w["type"] == "alarm" for a in w["properties"]["alarms"]]
    assert len(listed) <= 100 * len([w for w in parsed["widgets"] if w["type"] == "alarm"])  # 100 a widget
    alarms = {f"{name}.Arn" for name in _of_type("AWS::CloudWatch::Alarm")}
    assert len(listed) == len(set(listed))
    assert not alarms - set(listed), f"not on the dashboard: {sorted(alarms - set(listed))}"
    assert not set(listed) - alarms, f"not alarms of the template: {sorted(set(listed) - alarms)}"
