"""Schemathesis, every check, every operation, as a person, an admin, a server API key and a developer.

The stack is the e2e tier's: DynamoDB Local, moto, localstripe and the local gateway on free
ports, started here and stopped by this module, so the fuzzer's writes (it rewrites the
catalog, adjusts wallets, revokes keys) land in a table that is thrown away. Each identity's
run is a separate `st` process with a fixed seed and bounded examples; all run at once.
Afterwards every wallet the runs touched must reconcile: sum(entries) == balance, holds ==
reserved.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from tollgate_local.seed import call

CONFIG = Path(__file__).with_name("schemathesis.toml")
ST = Path(sys.executable).with_name("st")
FUZZ_CREDITS = "1000000"


@dataclass(frozen=True)
class Identity:
    name: str
    auth: str  # the [auth.openapi.*] section for this identity
    scope: tuple[str, ...] = ()  # extra `st run` filters

    def config(self, tmp_path: Path) -> Path:
        path = tmp_path / f"schemathesis-{self.name}.toml"
        path.write_text(CONFIG.read_text() + "\n" + self.auth)
        return path


def _bearer(env: str) -> str:
    return f'[auth.openapi.bearerJwt]\nbearer = "${{{env}}}"\n'


IDENTITIES = (
    Identity("user", _bearer("TOLLGATE_FUZZ_USER_TOKEN")),
    Identity("admin", _bearer("TOLLGATE_FUZZ_ADMIN_TOKEN")),
    # A developer (the demo catalog's plugin-generate pays dev:kodella) on their own routes.
    Identity("developer", _bearer("TOLLGATE_FUZZ_DEVELOPER_TOKEN"), ("--include-path-regex", "^/v1/(developers|payouts)")),
    # A server key is accepted only where the Lambda authorizer guards the route.
    Identity("service", '[auth.openapi.apiKey]\napi_key = "${TOLLGATE_FUZZ_API_KEY}"\n',
             ("--include-path-regex", "^/v1/(usage|reservations|admin/transactions/)")),
)


@pytest.fixture(scope="module")
def fuzz_env(stack, tokens, catalog):
    """Tokens for alice and an admin, a fresh server API key, and credits enough to spend."""
    status, created = call(stack.url, "POST", "/v1/admin/api-keys", tokens["admin"], {"name": "fuzz"})
    assert status == 201, created
    status, granted = call(stack.url, "POST", "/v1/admin/wallets/user:alice/adjustments", tokens["admin"],
                           {"amount": FUZZ_CREDITS, "reason": "fuzz budget"}, {"Idempotency-Key": "fuzz-budget"})
    assert status == 201, granted
    return {**os.environ, "TOLLGATE_FUZZ_USER_TOKEN": tokens["alice"],
            "TOLLGATE_FUZZ_ADMIN_TOKEN": tokens["admin"], "TOLLGATE_FUZZ_API_KEY": created["key"],
            "TOLLGATE_FUZZ_DEVELOPER_TOKEN": stack.signer.token("dev:kodella", ["user", "developer"])}


@pytest.fixture(scope="module")
def runs(stack, fuzz_env, tmp_path_factory):
    """Start the three runs together (each its own process, one worker) and collect what they print."""
    tmp_path = tmp_path_factory.mktemp("fuzz")
    # The document as the stack serves it, read from a file: loaded from its URL, Schemathesis
    # would leave out the operation serving it (GET /v1/openapi.json).
    document = tmp_path / "openapi.json"
    status, served = call(stack.url, "GET", "/v1/openapi.json", "")
    assert status == 200, served
    document.write_text(json.dumps(served))
    procs = {}
    for identity in IDENTITIES:
        reports = tmp_path / identity.name
        reports.mkdir()
        command = [str(ST), "--no-color", "--config-file", str(identity.config(tmp_path)), "run",
                   str(document), "--url", stack.url, *identity.scope,
                   "--report", "junit", "--report-dir", str(reports)]
        procs[identity.name] = subprocess.Popen(command, env=fuzz_env, cwd=reports, stdout=subprocess.PIPE,
                                                stderr=subprocess.STDOUT, text=True)
    outputs = {}
    try:
        for name, proc in procs.items():
            output = proc.communicate(timeout=900)[0]
            (tmp_path / name / "output.txt").write_text(output)
            outputs[name] = (output, proc.returncode)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return outputs


@pytest.mark.parametrize("identity", [i.name for i in IDENTITIES])
def test_no_failure_and_nothing_undocumented(runs, identity):
    output, returncode = runs[identity]
    summary = "\n".join(output.splitlines()[-40:])
    assert returncode == 0, f"schemathesis as {identity} failed:\n{output[-20000:]}"
    generated = re.search(r"(\d+) generated, (\d+) passed", output)
    assert generated and generated.group(1) == generated.group(2), summary
    # Every operation in the document was tested (the service key's scope: its routes).
    tested = re.search(r"Tested: (\d+)", output)
    selected = re.search(r"Selected: (\d+)/(\d+)", output)
    assert tested and selected and tested.group(1) == selected.group(1), summary
    print(f"\n[{identity}] {selected.group(0)} operations; {generated.group(0)}")


def test_every_operation_is_fuzzed(stack, runs):
    """The user's and admin's runs select every operation the served document has."""
    document = call(stack.url, "GET", "/v1/openapi.json", "")[1]
    operations = sum(len(methods) for methods in document["paths"].values())
    for identity in ("user", "admin"):
        assert f"Selected: {operations}/{operations}" in runs[identity][0]


def test_the_config_keeps_every_check_on():
    config = tomllib.loads(CONFIG.read_text())
    disabled = [name for name, check in config.get("checks", {}).items() if check.get("enabled") is False]
    # The one exception, argued in the config: API Gateway answers 404, never 405, for a method no route has.
    assert disabled == ["unsupported_method"]
    assert config["generation"]["deterministic"] is True


def test_every_touched_wallet_reconciles(stack, tokens, runs):
    """The fuzzer moved credits on many wallets (alice's, and any an admin or key named): none drifted."""
    import boto3

    from tollgate import keys
    from tollgate.ledger import reconcile
    from tollgate_local.stack import resource_names

    table = resource_names()["TollgateTable"]
    ddb = boto3.client("dynamodb", endpoint_url=stack.ddb_endpoint)
    wallets = set()
    for page in ddb.get_paginator("scan").paginate(TableName=table, ProjectionExpression="PK, SK"):
        for item in page["Items"]:
            if item["SK"]["S"] == keys.WALLET_SK:
                wallets.add(item["PK"]["S"].removeprefix("WALLET#"))
    assert "user:alice" in wallets
    assert len(wallets) > 1, wallets
    inconsistent = [r for r in (reconcile(w) for w in sorted(wallets)) if not r.consistent]
    assert not inconsistent, inconsistent
    # The runs reached the money path itself, not only its validation: alice was charged.
    status, page = call(stack.url, "GET", "/v1/history?type=usage&limit=5", tokens["alice"])
    assert status == 200 and page["data"], page
