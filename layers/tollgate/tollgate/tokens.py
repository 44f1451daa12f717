"""Bearer JWT verification for the Lambda authorizer (people calling usage/reservations).

Keys come from the issuer's JWKS: ``JWKS_URL`` if set, else the issuer's OIDC discovery
document (Cognito and any OIDC provider publish one). ``JWKS_JSON`` (public keys inline)
serves local runs and tests. Keys are cached for the container's life, refreshed when an
unknown ``kid`` appears. PyJWT is imported only here, so only the authorizer pays for it.
"""

from __future__ import annotations

import json
import os
import urllib.request
from functools import lru_cache
from typing import Any

import jwt
from jwt import PyJWKClient, PyJWKSet

_ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384"]


class InvalidToken(Exception):
    pass


@lru_cache(maxsize=4)
def _jwks_client(url: str) -> PyJWKClient:
    return PyJWKClient(url, cache_keys=True, lifespan=3600, timeout=5)


@lru_cache(maxsize=4)
def _discovered_jwks_url(issuer: str) -> str:
    with urllib.request.urlopen(issuer.rstrip("/") + "/.well-known/openid-configuration", timeout=5) as resp:  # noqa: S310 - issuer is operator-configured https
        return str(json.load(resp)["jwks_uri"])


@lru_cache(maxsize=4)
def _inline_keys(jwks_json: str) -> PyJWKSet:
    return PyJWKSet.from_json(jwks_json)


def _signing_key(token: str, issuer: str) -> Any:
    inline = os.environ.get("JWKS_JSON")
    if inline:
        kid = jwt.get_unverified_header(token).get("kid")
        keyset = _inline_keys(inline)
        for key in keyset.keys:
            if kid is None or key.key_id == kid:
                return key.key
        raise InvalidToken("unknown signing key")
    url = os.environ.get("JWKS_URL") or _discovered_jwks_url(issuer)
    return _jwks_client(url).get_signing_key_from_jwt(token).key


def verify(token: str, *, issuer: str, audience: str | None) -> dict[str, Any]:
    """Verified claims of ``token``, or :class:`InvalidToken`."""
    try:
        key = _signing_key(token, issuer)
        claims = jwt.decode(
            token,
            key=key,
            algorithms=_ALGORITHMS,
            issuer=issuer,
            options={"require": ["exp", "sub", "iss"], "verify_aud": False},
            leeway=30,
        )
    except InvalidToken:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure to verify is an invalid token
        raise InvalidToken(str(exc)) from None
    if audience:
        # As API Gateway's JWT authorizer: aud must match, or (Cognito access tokens) client_id.
        aud = claims.get("aud")
        auds = aud if isinstance(aud, list) else [aud]
        if audience not in auds and claims.get("client_id") != audience:
            raise InvalidToken("token is not for this audience")
    return claims
