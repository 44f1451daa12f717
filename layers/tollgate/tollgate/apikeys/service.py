"""Server API keys: random, shown once, stored as a hash, revocable.

A key reads ``tgk_<key_id>_<secret>``. The id locates the item with one GetItem; the
secret (160 random bits) is compared by its SHA-256 in constant time. A fast hash is
right here: the secret is random, not a password, so there is nothing to brute-force.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

from tollgate import clock
from tollgate.apikeys import repository
from tollgate.apikeys.exceptions import ApiKeyNotFound, ApiKeyRevoked
from tollgate.apikeys.models import ApiKeyItem
from tollgate.apikeys.schemas import ApiKeyCreated, ApiKeyOut, ApiKeyUpdate
from tollgate.data import ConditionFailed
from tollgate.principal import SCOPES, SERVICE, Principal
from tollgate.ratelimit import DEFAULT_PER_SECOND

_KEY_RE = re.compile(r"^tgk_([a-z2-7]{16})_([a-z2-7]{32})$")


def _b32(n: int) -> str:
    return base64.b32encode(secrets.token_bytes(n)).decode().rstrip("=").lower()


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(name: str, created_by: str, scopes: list[str] | None = None,
           rate_limit: int = DEFAULT_PER_SECOND) -> ApiKeyCreated:
    key_id, secret = _b32(10), _b32(20)
    now = clock.iso(clock.now_ms())
    granted = sorted(set(scopes or SCOPES))
    repository.put_new(key_id=key_id, name=name, secret_sha256=_hash(secret), created_at=now, created_by=created_by,
                       scopes=granted, rate_limit=rate_limit)
    return ApiKeyCreated(key_id=key_id, key=f"tgk_{key_id}_{secret}", name=name, scopes=granted,
                         rate_limit_per_second=rate_limit, created_at=now)


def _scopes(item: ApiKeyItem) -> frozenset[str]:
    return frozenset(item.scopes) if item.scopes else frozenset(SCOPES)


def revoke(key_id: str) -> None:
    try:
        repository.revoke(key_id, clock.iso(clock.now_ms()))
    except ConditionFailed:
        raise ApiKeyNotFound("API key not found") from None


def update(key_id: str, changes: ApiKeyUpdate) -> ApiKeyOut:
    """Change a key in place; the authorizer reads the key on every request, so its next request
    is held to the new scopes and limit."""
    try:
        item = repository.update(key_id, name=changes.name, scopes=changes.scopes,
                                 rate_limit=changes.rate_limit_per_second)
    except ConditionFailed:
        if repository.get(key_id) is None:
            raise ApiKeyNotFound("API key not found") from None
        raise ApiKeyRevoked("the API key is revoked; create a new one") from None
    return _view(item)


def list_keys() -> list[ApiKeyOut]:
    return [_view(i) for i in repository.list_all()]


def _view(item: ApiKeyItem) -> ApiKeyOut:
    return ApiKeyOut(
        key_id=item.key_id,
        name=item.name,
        prefix=f"tgk_{item.key_id}_",
        scopes=sorted(_scopes(item)),
        rate_limit_per_second=item.rate_limit or DEFAULT_PER_SECOND,
        created_at=item.created_at,
        created_by=item.created_by,
        revoked_at=item.revoked_at,
        active=item.revoked_at is None,
    )


def authenticate(presented: str) -> Principal | None:
    """The service principal for a valid, unrevoked key; None otherwise."""
    match = _KEY_RE.match(presented.strip())
    if not match:
        return None
    key_id, secret = match.groups()
    item = repository.get(key_id)
    if item is None or item.revoked_at:
        return None
    if not hmac.compare_digest(item.secret_sha256, _hash(secret)):
        return None
    return Principal(type="service", sub=f"key:{key_id}", roles=frozenset({SERVICE}), key_id=key_id,
                     scopes=_scopes(item), rate_limit=item.rate_limit or DEFAULT_PER_SECOND)
