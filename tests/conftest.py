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


@pytest.fixture
def aws():
    """A fresh moto account with the template's table; the domain's client bound to it."""
    import boto3
    from moto import mock_aws

    from tollgate import clock, data
    from tollgate.pricing import reset_cache
    from tollgate_local.template import create_table

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, "TollgateTable", os.environ["TABLE_NAME"])
        data.set_client(None)
        reset_cache()
        clock.reset()
        yield client
        data.set_client(None)
        reset_cache()
        clock.reset()
