"""ApiKeyAuthorizerFunction: the HTTP API Lambda authorizer (payload 2.0, simple responses).

Accepts either a server API key (``X-Api-Key``) or a person's bearer JWT, and hands the
routes one principal shape:
``{"principal_type": "user" | "service", "sub", "roles" (space-separated), "key_id", "scopes"}``
(a server key's scopes, space-separated; empty for a person) and ``"rate_limit"`` (a server key's
requests a second, ``tollgate.ratelimit``; empty for a person).

When the key cannot be looked up (DynamoDB throttled or failing past the client's retries), a
Lambda authorizer has no way to answer 503: an error here would be API Gateway's bare 500. So it
lets the request through with ``{"unavailable": "store"}`` and no principal, and the route answers
503 ``try_again`` with ``Retry-After`` before reading anything (``tollgate.principal``). Nothing is
cached (``ReauthorizeEvery: 0``): the next request asks again.
"""

from __future__ import annotations

from tollgate import coldstart

coldstart.begin()  # the init phase runs without the cyclic GC (tollgate/coldstart.py)

import os
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from tollgate import apikeys
from tollgate.data.exceptions import StoreUnavailable
from tollgate.principal import Principal, parse_roles

logger = Logger()

DENY: dict[str, Any] = {"isAuthorized": False}
STORE_UNAVAILABLE: dict[str, Any] = {"isAuthorized": True, "context": {"unavailable": "store"}}


def _from_bearer(authorization: str) -> Principal | None:
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    from tollgate import tokens  # only bearer callers pay for the JWT library

    try:
        claims = tokens.verify(
            token.strip(), issuer=os.environ["JWT_ISSUER"], audience=os.environ.get("JWT_AUDIENCE") or None
        )
    except tokens.InvalidToken as exc:
        logger.info("bearer token refused", extra={"reason": str(exc)})
        return None
    return Principal(
        type="user",
        sub=str(claims["sub"]),
        roles=parse_roles(claims.get(os.environ.get("ROLES_CLAIM", "roles"))),
        email=claims.get("email"),
    )


def authorize(headers: dict[str, str]) -> Principal | None:
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    if lowered.get("x-api-key"):
        return apikeys.authenticate(lowered["x-api-key"])
    if lowered.get("authorization"):
        return _from_bearer(lowered["authorization"])
    return None


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    try:
        principal = authorize(event.get("headers") or {})
    except StoreUnavailable as exc:
        logger.warning("API key store unavailable: the route answers 503", extra={"reason": str(exc)})
        return STORE_UNAVAILABLE
    if principal is None:
        return DENY
    return {
        "isAuthorized": True,
        "context": {
            "principal_type": principal.type,
            "sub": principal.sub,
            "roles": " ".join(sorted(principal.roles)),
            "key_id": principal.key_id or "",
            "email": principal.email or "",
            "scopes": " ".join(sorted(principal.scopes)) if principal.is_service else "",
            "rate_limit": str(principal.rate_limit or "") if principal.is_service else "",
        },
    }


coldstart.end()
