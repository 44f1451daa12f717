from __future__ import annotations

import os

# Before anything imports boto3 or Powertools: a fake, local-only AWS environment.
os.environ.update({
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "TABLE_NAME": "tollgate-test",
    "POWERTOOLS_SERVICE_NAME": "tollgate",
    "POWERTOOLS_METRICS_NAMESPACE": "Tollgate",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_TRACE_DISABLED": "1",
    "JWT_ISSUER": "https://auth.example.com/",
    "JWT_AUDIENCE": "tollgate",
})
for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
    os.environ.pop(var, None)

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# No property test is timed: a busy machine (CI beside other work) makes any deadline a coin toss,
# and speed is measured by `make bench`, never asserted in tests.
settings.register_profile("tollgate", deadline=None)
settings.load_profile("tollgate")


def _parse_botocore_data_once() -> None:
    # Each function has its own copy of the layer, so each makes its own DynamoDB client per
    # test, from a new botocore session, as its container would. A session's first client
    # reads and parses botocore's JSON models (~0.1 s, thousands of times in a run); one data
    # loader for the test process parses them once. The data is static: only time is shared.
    import functools

    import botocore.session

    botocore.session.create_loader = functools.lru_cache(maxsize=None)(botocore.session.create_loader)


_parse_botocore_data_once()


def _refuse_requests_to_aws() -> None:
    # No test may reach AWS. A client nobody pointed at a local endpoint would (a function's
    # namespace a fixture forgot to bind): fail loudly instead. Under mock_aws, moto answers.
    from urllib.parse import urlsplit

    from botocore.handlers import BUILTIN_HANDLERS
    from moto.core.models import botocore_stubber

    def refuse(request: object, **_: object) -> None:
        url = str(getattr(request, "url", ""))
        if not botocore_stubber.enabled and urlsplit(url).hostname not in ("127.0.0.1", "localhost", "::1"):
            raise RuntimeError(f"a test tried to reach {url}: bind a local endpoint (moto, DynamoDB Local)")

    BUILTIN_HANDLERS.append(("before-send", refuse))


_refuse_requests_to_aws()


_moto_client: list[object] = []


def _moto_dynamodb_client() -> object:
    # One botocore DynamoDB client for every test's moto account: moto answers whichever client
    # asks while a mock is on, and each function's copy of the layer would otherwise make its own
    # per test (~30 ms each, several a test). Tests that need each function's own client (the
    # fault tier: a fault layer in the functions' clients, never in the tests') unbind it.
    if not _moto_client:
        import botocore.session

        from tollgate.data.connection import CLIENT_CONFIG

        _moto_client.append(botocore.session.get_session().create_client("dynamodb", region_name="us-east-1",
                                                                         config=CLIENT_CONFIG))
    return _moto_client[0]


@pytest.fixture
def aws():
    """A fresh moto account with the template's table; the tests and every function bound to it."""
    from moto import mock_aws

    from tests.support import reset_layer_state
    from tollgate_local.template import create_table

    with mock_aws():
        client = _moto_dynamodb_client()
        create_table(client, "TollgateTable", os.environ["TABLE_NAME"])
        reset_layer_state(client)  # in the tests' modules and every function's copy of the layer
        yield client
        reset_layer_state()
