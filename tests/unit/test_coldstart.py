"""tollgate.coldstart: an HTTP function's init imports Powertools' API Gateway resolver alone, and every
other name of the event_handler package still resolves (its own __init__ runs when one is asked for)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RESOLVERS = ["aws_lambda_powertools.event_handler.appsync", "aws_lambda_powertools.event_handler.bedrock_agent",
             "aws_lambda_powertools.event_handler.vpc_lattice", "asyncio"]


def _run(code: str) -> dict:
    """``code`` in a fresh interpreter (a cold start); the JSON it prints."""
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False,
                            env={"PYTHONPATH": str(ROOT / "layers" / "tollgate"), "AWS_DEFAULT_REGION": "us-east-1",
                                 "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("function", ["deduction", "admin", "checkout"])
def test_an_http_functions_init_imports_no_other_resolver(function):
    loaded = _run(
        "import importlib.util, json, sys\n"
        f"s = importlib.util.spec_from_file_location('app', 'functions/{function}/app.py')\n"
        "m = importlib.util.module_from_spec(s); s.loader.exec_module(m)\n"
        f"print(json.dumps({{n: n in sys.modules for n in {RESOLVERS!r}}}))\n")
    assert loaded == dict.fromkeys(RESOLVERS, False)


def test_every_name_of_the_package_still_resolves_after_begin():
    found = _run(
        "import json\n"
        "from tollgate import coldstart\n"
        "coldstart.begin()\n"
        "from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types\n"
        "from aws_lambda_powertools.event_handler import api_gateway\n"
        "before = 'aws_lambda_powertools.event_handler.appsync' in __import__('sys').modules\n"
        "from aws_lambda_powertools.event_handler import AppSyncResolver, Depends\n"
        "import aws_lambda_powertools.event_handler as package\n"
        "print(json.dumps({'same': APIGatewayHttpResolver is api_gateway.APIGatewayHttpResolver,\n"
        "                  'response': Response.__name__, 'types': content_types.APPLICATION_JSON,\n"
        "                  'before': before, 'appsync': AppSyncResolver.__name__, 'depends': Depends.__name__,\n"
        "                  'missing': hasattr(package, 'NoSuchThing')}))\n")
    assert found == {"same": True, "response": "Response", "types": "application/json", "before": False,
                     "appsync": "AppSyncResolver", "depends": "Depends", "missing": False}
