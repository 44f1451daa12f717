"""API key storage: one item per key, found by id; GSI1 lists them newest first."""

from __future__ import annotations

from tollgate import keys
from tollgate.apikeys.models import ApiKeyItem
from tollgate.data import conditional, get_or_none


def put_new(*, key_id: str, name: str, secret_sha256: str, created_at: str, created_by: str,
            scopes: list[str], rate_limit: int) -> None:
    item = ApiKeyItem(*keys.api_key(key_id), gsi1pk=keys.APIKEYS_GSI1PK, gsi1sk=f"{created_at}#{key_id}",
                      key_id=key_id, name=name, secret_sha256=secret_sha256, created_at=created_at,
                      created_by=created_by, scopes=set(scopes), rate_limit=rate_limit)
    conditional(lambda: item.save(condition=ApiKeyItem.pk.does_not_exist()))


def get(key_id: str) -> ApiKeyItem | None:
    return get_or_none(ApiKeyItem, *keys.api_key(key_id))


def revoke(key_id: str, now: str) -> None:
    """Mark revoked (first revocation time wins); raises ConditionFailed if no such key."""
    conditional(lambda: ApiKeyItem(*keys.api_key(key_id)).update(
        [ApiKeyItem.revoked_at.set(ApiKeyItem.revoked_at | now)], condition=ApiKeyItem.pk.exists()))


def update(key_id: str, *, name: str | None, scopes: list[str] | None, rate_limit: int | None) -> ApiKeyItem:
    """Change an unrevoked key's name, scopes or limit (those given); the key as it is now.
    Raises ConditionFailed if there is no such key or it is revoked."""
    actions = [action for action in (
        ApiKeyItem.name.set(name) if name is not None else None,
        ApiKeyItem.scopes.set(set(scopes)) if scopes is not None else None,
        ApiKeyItem.rate_limit.set(rate_limit) if rate_limit is not None else None,
    ) if action is not None]
    item = ApiKeyItem(*keys.api_key(key_id))
    conditional(lambda: item.update(actions, condition=ApiKeyItem.pk.exists() & ApiKeyItem.revoked_at.does_not_exist()))
    return item  # update() read the item back (ALL_NEW)


def list_all() -> list[ApiKeyItem]:
    return list(ApiKeyItem.listing.query(keys.APIKEYS_GSI1PK, scan_index_forward=False))
