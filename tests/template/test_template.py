"""template.yaml is the one source of truth: lint it and check the code agrees with it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import EVENTS, ROOT, LambdaContext, load_function
from tollgate_local import template

FUNCTION_FOLDERS = {
    "DeductionFunction": "deduction",
    "HistoryFunction": "history",
    "AdminFunction": "admin",
    "ApiKeyAuthorizerFunction": "authorizer",
    "HoldsSweeperFunction": "holds",
    "GrantExpiryFunction": "grant_expiry",
    "LedgerArchiveFunction": "ledger_archive",
    "LedgerStreamFunction": "ledger_stream",
    "CheckoutFunction": "checkout",
    "WebhooksFunction": "webhooks",
    "EarningsStreamFunction": "earnings_stream",
    "PayoutsFunction": "payouts",
    "PayoutStepsFunction": "payout_workflow",
    "PayoutRunFunction": "payout_run",
    "RefundStepsFunction": "refund_workflow",
    "AllocationStepsFunction": "allocation_workflow",
    "AllocationRunFunction": "allocation_run",
    "AnalyticsFunction": "analytics",
    "ExportsFunction": "exports",
    "NotificationsFunction": "notifications",
    "WebhookDeliveryFunction": "webhook_delivery",
    "AutoTopUpFunction": "auto_top_up",
    "ExportStepsFunction": "export_workflow",
    "ReconciliationFunction": "reconciliation",
}


def test_cfn_lint_passes():
    result = subprocess.run([str(Path(sys.executable).with_name("cfn-lint")), str(template.TEMPLATE)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_runtime_architecture_and_powertools_globals():
    globals_ = template.load()["Globals"]["Function"]
    assert globals_["Runtime"] == "python3.12"
    assert globals_["Architectures"] == ["arm64"]
    env = globals_["Environment"]["Variables"]
    assert {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"} <= set(env)


def test_every_function_has_its_folder_handler_and_a_sample_event():
    functions = template.resources("AWS::Serverless::Function")
    assert set(functions) == set(FUNCTION_FOLDERS)
    for logical, folder in FUNCTION_FOLDERS.items():
        code = template.function_code_dir(logical)
        assert code == ROOT / "functions" / folder
        assert (code / "app.py").exists()
        assert functions[logical]["Properties"]["Handler"] == "app.lambda_handler"
        assert hasattr(load_function(folder), "lambda_handler")
        assert list(EVENTS.glob(f"{folder.split('_')[0]}_*.json")), f"no sample event for {folder}"


def _route_event(route: template.Route) -> dict:
    path = route.path
    params = {}
    for part in path.split("/"):
        if part.startswith("{"):
            params[part[1:-1]] = "x"
    concrete = "/".join("x" if p.startswith("{") else p for p in path.split("/"))
    return {
        "version": "2.0", "routeKey": f"{route.method} {route.path}", "rawPath": concrete, "rawQueryString": "",
        "headers": {"content-type": "application/json"}, "pathParameters": params,
        "requestContext": {"http": {"method": route.method, "path": concrete}, "requestId": "template-check",
                           "routeKey": f"{route.method} {route.path}", "stage": "$default"},
        "body": "{}", "isBase64Encoded": False,
    }


@pytest.mark.parametrize("route", template.http_routes(), ids=lambda r: f"{r.method} {r.path}")
def test_every_template_route_is_served_by_its_function(route):
    """Without credentials a real route answers 401 (a webhook without a signature 400, or 503
    where no gateway secret is configured); a route the handler lacks would be 404."""
    handler = load_function(FUNCTION_FOLDERS[route.function]).lambda_handler
    response = handler(_route_event(route), LambdaContext())
    public_reads = ("/v1/health", "/v1/openapi.json")
    expected = (200,) if route.path in public_reads else (400, 503) if route.authorizer is None else (401,)
    assert response["statusCode"] in expected, (route, response)


def test_every_handler_route_is_in_the_template():
    """The document and template.yaml list the same operations, the document included."""
    document = json.loads((ROOT / "layers/tollgate/tollgate/openapi.json").read_text())
    documented = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    routed = {(r.method, r.path) for r in template.http_routes()}
    assert documented == routed


REVERSAL_PATH = "/v1/admin/transactions/{transaction_id}/reversal"


def test_routes_people_and_services_share_use_the_lambda_authorizer():
    auth = {(r.method, r.path): r.authorizer for r in template.http_routes()}
    for (method, path), authorizer in auth.items():
        if path.startswith("/v1/webhooks/") or path in ("/v1/health", "/v1/openapi.json"):
            assert authorizer is None, (method, path)  # a signature, or nothing to protect (it describes)
            continue
        # Usage reversals too: admins, and server API keys for their own usage.
        shared = path.startswith(("/v1/usage", "/v1/reservations")) or path == REVERSAL_PATH
        assert authorizer == ("ApiKeyAuthorizer" if shared else "JwtAuthorizer"), (method, path)


def test_policies_are_least_privilege():
    for logical, fn in template.resources("AWS::Serverless::Function").items():
        for policy in fn["Properties"].get("Policies", []):
            for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                assert all("*" not in a for a in actions), (logical, actions)
                assert statement["Resource"] != "*", logical


def _table_actions(fn: dict) -> set[str]:
    """The DynamoDB actions a function's policies allow on the table itself (not its indexes)."""
    allowed: set[str] = set()
    for policy in fn["Properties"].get("Policies", []):
        for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            if {"Fn::GetAtt": ["TollgateTable", "Arn"]} in resources or "TollgateTable.Arn" in str(resources):
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                allowed |= {a for a in actions if a.startswith("dynamodb:")}
    return allowed


def test_a_function_reading_wallets_may_read_a_sharded_ones_other_shards():
    """Any wallet read may meet a sharded wallet, whose other shards are one BatchGetItem."""
    never_reads_a_wallet = {"LedgerArchiveFunction"}  # its checkpoint and archive totals, entries by query
    for logical, fn in template.resources("AWS::Serverless::Function").items():
        allowed = _table_actions(fn)
        if "dynamodb:GetItem" in allowed and logical not in never_reads_a_wallet:
            assert "dynamodb:BatchGetItem" in allowed, logical


def test_the_outbox_and_the_sharded_crossings_are_allowed_where_they_run():
    """The outbox reads (BatchGetItem) and records (BatchWriteItem) events; a sharded wallet's
    crossing is written on a ConditionCheck of its shard 0 (tollgate.shards.crossings), and its grant
    expiry on ConditionChecks of its other shards."""
    functions = template.resources("AWS::Serverless::Function")
    outbox = {"dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"}
    for logical in ("LedgerStreamFunction", "GrantExpiryFunction"):
        assert outbox <= _table_actions(functions[logical]), logical
    assert "dynamodb:ConditionCheckItem" in _table_actions(functions["LedgerStreamFunction"])
    # A sharded wallet's expiry is held to every other shard's last change (tollgate.grants.expiry).
    assert "dynamodb:ConditionCheckItem" in _table_actions(functions["GrantExpiryFunction"])


def test_tables_declare_the_indexes_the_code_queries():
    table = template.table_definitions()["TollgateTable"]
    assert {i["IndexName"] for i in table["LocalSecondaryIndexes"]} == {"LSI1"}
    assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} == {"GSI1", "GSI2"}
    props = template.resources("AWS::DynamoDB::Table")["TollgateTable"]["Properties"]
    assert props["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert props["TimeToLiveSpecification"] == {"AttributeName": "ttl_epoch", "Enabled": True}


def test_jwt_authorizer_takes_issuer_and_audience_from_parameters():
    api = template.resources("AWS::Serverless::HttpApi")["HttpApi"]["Properties"]["Auth"]
    jwt_config = api["Authorizers"]["JwtAuthorizer"]["JwtConfiguration"]
    assert jwt_config == {"issuer": {"Ref": "JwtIssuer"}, "audience": [{"Ref": "JwtAudience"}]}
    assert template.load()["Parameters"]["RolesClaim"]["Default"] == "roles"


def test_openapi_document_is_current():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "openapi.py"), "--check"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_deduction_imports_nothing_it_does_not_use():
    code = (
        "import importlib.util, sys\n"
        "s = importlib.util.spec_from_file_location('app', 'functions/deduction/app.py')\n"
        "m = importlib.util.module_from_spec(s); s.loader.exec_module(m)\n"
        "print(sorted(n for n in ('stripe', 'jwt', 'aws_xray_sdk', 'cryptography', 'requests') if n in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                            env={"PYTHONPATH": str(ROOT / "layers" / "tollgate"), "AWS_DEFAULT_REGION": "us-east-1",
                                 "PATH": "/usr/bin:/bin"})
    assert result.stdout.strip() == "[]"


# JSON Schema 2020-12's keywords, plus the annotations OpenAPI 3.1 adds.
_SCHEMA_KEYWORDS = {
    "$ref", "$defs", "$schema", "$id", "$comment", "type", "enum", "const", "properties", "required",
    "additionalProperties", "patternProperties", "propertyNames", "minProperties", "maxProperties", "items",
    "prefixItems", "minItems", "maxItems", "uniqueItems", "contains", "minLength", "maxLength", "pattern", "format",
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "anyOf", "oneOf", "allOf", "not",
    "if", "then", "else", "title", "description", "default", "examples", "example", "deprecated", "readOnly",
    "writeOnly", "discriminator", "xml", "externalDocs", "nullable",
}


def _schemas(node, inside_schema=False):
    """Every schema object in the document (a `schema` value, a component, and what nests in them)."""
    if isinstance(node, dict):
        if inside_schema:
            yield node
        for key, value in node.items():
            if inside_schema and key in ("properties", "patternProperties", "$defs"):
                for sub in value.values():
                    yield from _schemas(sub, True)
            elif inside_schema and key in ("anyOf", "oneOf", "allOf", "prefixItems"):
                for sub in value:
                    yield from _schemas(sub, True)
            elif inside_schema and key in ("items", "not", "additionalProperties", "propertyNames", "if", "then",
                                           "else", "contains"):
                yield from _schemas(value, True)
            elif not inside_schema and key == "schema":
                yield from _schemas(value, True)
            elif not inside_schema:
                yield from _schemas(value, False)
    elif isinstance(node, list) and not inside_schema:
        for item in node:
            yield from _schemas(item, False)


def test_the_document_is_valid_openapi_with_only_known_schema_keywords():
    from openapi_spec_validator import validate

    document = json.loads((ROOT / "layers/tollgate/tollgate/openapi.json").read_text())
    validate(document)
    component_schemas = [s for c in document["components"]["schemas"].values() for s in _schemas(c, True)]
    unknown = {k for s in [*_schemas(document["paths"]), *component_schemas] for k in s if k not in _SCHEMA_KEYWORDS}
    # A constraint JSON Schema does not know (pydantic's "ge", say) is silently ignored by every client.
    assert not unknown, unknown


@pytest.mark.parametrize("folder", sorted(FUNCTION_FOLDERS.values()))
def test_every_function_loads_without_the_cyclic_gc_then_freezes_what_it_loaded(folder):
    """coldstart.begin() comes before any other import, coldstart.end() after the module is built."""
    import ast

    tree = ast.parse((ROOT / "functions" / folder / "app.py").read_text())
    body = [node for node in tree.body if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))]
    assert ast.unparse(body[1]) == "from tollgate import coldstart", folder
    assert ast.unparse(body[2]) == "coldstart.begin()", folder
    assert ast.unparse(body[-1]) == "coldstart.end()", folder
    code = (
        "import gc, importlib.util\n"
        f"s = importlib.util.spec_from_file_location('app', 'functions/{folder}/app.py')\n"
        "m = importlib.util.module_from_spec(s); s.loader.exec_module(m)\n"
        "print(gc.isenabled(), gc.get_freeze_count() > 10_000)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                            env={"PYTHONPATH": str(ROOT / "layers" / "tollgate"), "AWS_DEFAULT_REGION": "us-east-1",
                                 "PATH": "/usr/bin:/bin", "JWT_ISSUER": "https://auth.example.com/",
                                 "JWT_AUDIENCE": "tollgate"})
    assert result.stdout.strip() == "True True", result.stderr[-2000:]
