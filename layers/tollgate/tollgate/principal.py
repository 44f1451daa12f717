"""Who is calling: one principal shape from either authorizer.

The HTTP API JWT authorizer passes ``requestContext.authorizer.jwt.claims`` (string
values; an array claim arrives flattened as ``"[admin user]"``). The Lambda authorizer
passes ``requestContext.authorizer.lambda`` =
``{"principal_type", "sub", "roles" (space-separated), "key_id", "scopes" (space-separated)}``. Handlers read a
:class:`Principal` and never look at either shape themselves.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from tollgate.errors import Forbidden, NotFound, Unauthorized, ValidationFailed

PrincipalType = Literal["user", "service"]

ADMIN = "admin"
DEVELOPER = "developer"
SERVICE = "service"

# What a server API key may do (``tollgate.apikeys``): debit (``POST /v1/usage``), hold and settle
# (reservations), and give back what it charged (reversal). Reads are open to every key.
SCOPES: tuple[str, ...] = ("usage", "reservations", "reversal")
ApiKeyScope = Literal["usage", "reservations", "reversal"]

# A wallet is "<kind>:<id>": "user:<sub>" for a person, "org:<org_id>" for an organization (tollgate.orgs).
WALLET_ID_PATTERN = r"^[a-z][a-z0-9_-]{0,15}:[A-Za-z0-9._:@|+=-]{1,128}$"
_WALLET_ID_RE = re.compile(WALLET_ID_PATTERN)


@dataclass(frozen=True)
class Principal:
    type: PrincipalType
    sub: str
    roles: frozenset[str] = field(default_factory=frozenset)
    key_id: str | None = None
    email: str | None = None
    # A server key's scopes; people are bounded by their roles, not scopes.
    scopes: frozenset[str] = frozenset(SCOPES)
    rate_limit: int | None = None  # a server key's requests a second (tollgate.ratelimit); None: the default

    @property
    def is_service(self) -> bool:
        return self.type == "service"

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.roles

    @property
    def actor(self) -> str:
        """Who did it, as recorded on ledger entries."""
        return f"key:{self.key_id}" if self.is_service else f"user:{self.sub}"

    @property
    def own_wallet_id(self) -> str | None:
        return None if self.is_service else f"user:{self.sub}"

    def require_role(self, role: str) -> None:
        if role not in self.roles:
            raise Forbidden(f"this route needs the {role} role")

    def require_admin(self) -> None:
        self.require_role(ADMIN)

    def require_scope(self, scope: str) -> None:
        """A server API key must have been given ``scope``; a person passes (their roles decide)."""
        if self.is_service and scope not in self.scopes:
            raise Forbidden(f"this API key lacks the '{scope}' scope")

    def wallet_for_spending(self, requested: str | None) -> str:
        """The wallet this caller may debit: a person their own, a server key any."""
        if self.is_service:
            if requested is None:
                raise ValidationFailed("wallet_id is required for server API keys", field="wallet_id")
            return validate_wallet_id(requested)
        return self._own_or_not_found(requested)

    def wallet_for_reading(self, requested: str | None) -> str:
        """The wallet this caller may read: their own; admins and server keys any."""
        if self.is_service or (self.is_admin and requested is not None):
            if requested is None:
                raise ValidationFailed("wallet_id is required for server API keys", field="wallet_id")
            return validate_wallet_id(requested)
        return self._own_or_not_found(requested)

    def may_act_on(self, wallet_id: str) -> bool:
        return self.is_service or wallet_id == self.own_wallet_id

    def _own_or_not_found(self, requested: str | None) -> str:
        own = self.own_wallet_id
        assert own is not None
        if requested is not None and requested != own:
            # Someone else's wallet is indistinguishable from one that does not exist.
            raise NotFound("wallet not found")
        return own


def validate_wallet_id(wallet_id: str) -> str:
    if not isinstance(wallet_id, str) or not _WALLET_ID_RE.fullmatch(wallet_id):
        raise ValidationFailed("wallet_id must look like 'user:<id>' or 'org:<id>'", field="wallet_id")
    return wallet_id


def parse_roles(value: Any) -> frozenset[str]:
    """Roles from a claim in any of its shapes: list, "[a b]", "a b", "a,b", '["a","b"]'."""
    if value is None:
        return frozenset()
    if isinstance(value, (list, tuple, set, frozenset)):
        return frozenset(str(v).strip() for v in value if str(v).strip())
    text = str(value).strip()
    if text.startswith("[") and text.endswith("]"):
        try:
            parsed = json.loads(text)
        except ValueError:
            text = text[1:-1]
        else:
            if isinstance(parsed, list):
                return parse_roles(parsed)
    return frozenset(r for r in re.split(r"[\s,]+", text) if r)


def _positive_int(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def from_request_context(request_context: dict[str, Any], roles_claim: str) -> Principal:
    authorizer = (request_context or {}).get("authorizer") or {}
    if authorizer.get("lambda"):
        ctx = authorizer["lambda"]
        if ctx.get("unavailable"):  # the authorizer could not look the key up (functions/authorizer/app.py)
            from tollgate.data.exceptions import StoreUnavailable

            raise StoreUnavailable("the API key could not be checked: DynamoDB did not answer")
        kind = ctx.get("principal_type")
        sub = ctx.get("sub")
        if kind not in ("user", "service") or not sub:
            raise Unauthorized("missing or invalid credentials")
        return Principal(
            type=kind,
            sub=str(sub),
            roles=parse_roles(ctx.get("roles")),
            key_id=ctx.get("key_id") or None,
            email=ctx.get("email") or None,
            # Absent only from an authorizer older than scopes, whose keys had every scope.
            scopes=frozenset(str(ctx["scopes"]).split()) if "scopes" in ctx else frozenset(SCOPES),
            rate_limit=_positive_int(ctx.get("rate_limit")),
        )
    jwt = authorizer.get("jwt") or {}
    claims = jwt.get("claims") or {}
    sub = claims.get("sub")
    if not sub:
        raise Unauthorized("missing or invalid credentials")
    return Principal(
        type="user",
        sub=str(sub),
        roles=parse_roles(claims.get(roles_claim)),
        email=claims.get("email") or None,
    )
