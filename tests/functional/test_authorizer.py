"""The Lambda authorizer: server API keys, or a person's bearer JWT verified against JWKS."""

from __future__ import annotations

import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.support import ADMIN, LambdaContext, invoke, load_function, sample_event

ISSUER = "https://auth.example.com/"
AUDIENCE = "tollgate"


@pytest.fixture(scope="module")
def signing_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def jwks(signing_key, monkeypatch):
    public = json.loads(RSAAlgorithm.to_jwk(signing_key.public_key()))
    public.update({"kid": "test-key", "use": "sig", "alg": "RS256"})
    monkeypatch.setenv("JWKS_JSON", json.dumps({"keys": [public]}))
    return signing_key


def token(key, **overrides):
    now = int(time.time())
    claims = {"sub": "alice", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 300, "roles": ["user"]}
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "test-key"})


def authorize(headers):
    event = sample_event("authorizer_request.json")
    event["headers"] = {"content-type": "application/json", **headers}
    return load_function("authorizer").lambda_handler(event, LambdaContext())


def test_valid_bearer_token_gives_a_user_principal(aws, jwks):
    result = authorize({"authorization": f"Bearer {token(jwks, roles=['admin', 'user'])}"})
    assert result == {"isAuthorized": True, "context": {"principal_type": "user", "sub": "alice",
                                                        "roles": "admin user", "key_id": "", "email": "",
                                                            "scopes": "", "rate_limit": ""}}


def test_cognito_access_token_audience_is_client_id(aws, jwks):
    result = authorize({"authorization": f"Bearer {token(jwks, aud=None, client_id=AUDIENCE)}"})
    assert result["isAuthorized"] is True


@pytest.mark.parametrize(
    "overrides",
    [
        {"exp": int(time.time()) - 3600},
        {"iss": "https://evil.example.com/"},
        {"aud": "someone-else"},
        {"sub": None},
    ],
    ids=["expired", "wrong issuer", "wrong audience", "no sub"],
)
def test_bad_tokens_are_refused(aws, jwks, overrides):
    assert authorize({"authorization": f"Bearer {token(jwks, **overrides)}"}) == {"isAuthorized": False}


def test_forged_token_is_refused(aws, jwks):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert authorize({"authorization": f"Bearer {token(other)}"}) == {"isAuthorized": False}
    unsigned = jwt.encode({"sub": "alice", "iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 60}, None,
                          algorithm="none")
    assert authorize({"authorization": f"Bearer {unsigned}"}) == {"isAuthorized": False}


@pytest.mark.parametrize(
    "headers",
    [{}, {"authorization": "Basic dXNlcjpwYXNz"}, {"authorization": "Bearer "}, {"x-api-key": "nope"},
     {"x-api-key": "tgk_aaaaaaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}],
    ids=["nothing", "basic auth", "empty bearer", "malformed key", "unknown key"],
)
def test_missing_or_unknown_credentials_are_refused(aws, jwks, headers):
    assert authorize(headers) == {"isAuthorized": False}


def test_a_key_with_the_wrong_secret_is_refused(aws):
    created = invoke("admin_post_api_key.json", caller=ADMIN, body={"name": "svc"}).body
    good = created["key"]
    assert authorize({"x-api-key": good})["isAuthorized"] is True
    wrong = good[:-1] + ("a" if good[-1] != "a" else "b")
    assert authorize({"X-Api-Key": wrong}) == {"isAuthorized": False}


def test_sample_event_with_unknown_key_is_denied(aws):
    event = sample_event("authorizer_request.json")
    assert load_function("authorizer").lambda_handler(event, LambdaContext()) == {"isAuthorized": False}


def test_authorizer_context_is_what_the_handlers_read(aws, jwks, catalog, fund):
    """The context the authorizer returns, passed on by API Gateway, drives a real debit."""
    fund("user:alice", "10")
    context = authorize({"authorization": f"Bearer {token(jwks)}"})["context"]
    event = sample_event("deduction_post_usage.json")
    event["requestContext"]["authorizer"] = {"lambda": context}
    response = load_function("deduction").lambda_handler(event, LambdaContext())
    assert response["statusCode"] == 201
    assert json.loads(response["body"])["wallet_id"] == "user:alice"
