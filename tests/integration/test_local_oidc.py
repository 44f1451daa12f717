"""The local OIDC issuer (``make dev --sign-in oidc``, local/tollgate_local/oidc.py) over HTTP: the
authorization-code + PKCE exchange the dashboard makes when deployed, and what it refuses.

The dashboard's side of the flow, in a browser, is in tests/browser/."""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tollgate_local.oidc import CLIENT_ID, LocalOidcIssuer, s256
from tollgate_local.tokens import AUDIENCE, ISSUER, LocalSigner

PAGE = "http://127.0.0.1:3100/"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _call(url: str, form: dict[str, str] | None = None, method: str | None = None
          ) -> tuple[int, dict[str, str], bytes]:
    data = urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    try:
        with _opener.open(request, timeout=10) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers.items()), err.read()


@pytest.fixture(scope="module")
def signer(tmp_path_factory) -> LocalSigner:
    return LocalSigner(tmp_path_factory.mktemp("oidc"))


@pytest.fixture(scope="module")
def issuer(signer: LocalSigner) -> Iterator[LocalOidcIssuer]:
    server = LocalOidcIssuer(port=0, signer=signer).start()
    yield server
    server.stop()


def _request(verifier: str, **changes: str) -> dict[str, str]:
    return {"client_id": CLIENT_ID, "redirect_uri": PAGE, "response_type": "code", "state": "st-1",
            "code_challenge": s256(verifier), "code_challenge_method": "S256", **changes}


def _code(issuer: LocalOidcIssuer, verifier: str, sub: str = "carol", roles: tuple[str, ...] = ("user",)) -> str:
    """Sign in on the issuer's form; the code its redirect carries."""
    form = {k: v for k, v in _request(verifier).items() if k != "response_type"}
    body = urlencode({**form, "sub": sub}) + "".join(f"&roles={r}" for r in roles)
    request = urllib.request.Request(f"{issuer.url}/authorize", data=body.encode())
    try:
        _opener.open(request, timeout=10)
        raise AssertionError("the sign-in form did not redirect")
    except urllib.error.HTTPError as err:
        assert err.code == 302, err.read()
        location = urlsplit(err.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == PAGE
    query = parse_qs(location.query)
    assert query["state"] == ["st-1"]
    return query["code"][0]


def _exchange(issuer: LocalOidcIssuer, code: str, verifier: str, **changes: str) -> tuple[int, dict[str, Any]]:
    status, _, body = _call(f"{issuer.url}/token", {
        "grant_type": "authorization_code", "code": code, "redirect_uri": PAGE, "client_id": CLIENT_ID,
        "code_verifier": verifier, **changes})
    return status, json.loads(body)


def test_discovery_names_the_endpoints_and_answers_cors(issuer: LocalOidcIssuer) -> None:
    status, headers, body = _call(f"{issuer.url}/.well-known/openid-configuration")
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == "*"
    doc = json.loads(body)
    assert (doc["authorization_endpoint"], doc["token_endpoint"]) == (f"{issuer.url}/authorize", f"{issuer.url}/token")
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert _call(f"{issuer.url}/token", method="OPTIONS")[0] == 204


def test_a_code_with_its_verifier_gets_a_token_the_api_accepts_once(issuer: LocalOidcIssuer,
                                                                     signer: LocalSigner) -> None:
    verifier = secrets.token_urlsafe(48)
    status, page, _ = _call(f"{issuer.url}/authorize?{urlencode(_request(verifier))}")
    assert status == 200 and page["Content-Type"].startswith("text/html")
    code = _code(issuer, verifier, sub="carol", roles=("user", "developer"))
    status, tokens = _exchange(issuer, code, verifier)
    assert status == 200, tokens
    claims = signer.verify(tokens["access_token"], issuer=ISSUER, audience=AUDIENCE)  # as the API verifies
    assert (claims["sub"], claims["roles"], claims["client_id"]) == ("carol", ["user", "developer"], CLIENT_ID)
    assert tokens["token_type"] == "Bearer"
    # A code is good once.
    assert _exchange(issuer, code, verifier) == (400, {"error": "invalid_grant",
                                                      "error_description": "the code is unknown, used or expired"})


@pytest.mark.parametrize("changes, error", [
    ({"code_verifier": secrets.token_urlsafe(48)}, "invalid_grant"),  # not the challenge's
    ({"code_verifier": ""}, "invalid_request"),  # no PKCE
    ({"redirect_uri": "http://127.0.0.1:3100/other"}, "invalid_grant"),
    ({"client_id": "someone-else"}, "invalid_client"),
    ({"grant_type": "password"}, "unsupported_grant_type"),
])
def test_an_exchange_that_does_not_match_the_code_is_refused(issuer: LocalOidcIssuer, changes: dict[str, str],
                                                             error: str) -> None:
    verifier = secrets.token_urlsafe(48)
    code = _code(issuer, verifier)
    status, body = _exchange(issuer, code, verifier, **changes)
    assert (status, body["error"]) == (400, error)


@pytest.mark.parametrize("changes", [
    {"client_id": "someone-else"},
    {"redirect_uri": "https://attacker.example/"},
    {"response_type": "token"},
    {"code_challenge_method": "plain"},
    {"code_challenge": "short"},
])
def test_an_authorization_request_without_pkce_or_for_a_foreign_page_is_refused(issuer: LocalOidcIssuer,
                                                                                changes: dict[str, str]) -> None:
    status, headers, _ = _call(f"{issuer.url}/authorize?{urlencode(_request('v' * 43, **changes))}")
    assert status == 400
    assert "Location" not in headers  # nothing is sent to a page it cannot vouch for
