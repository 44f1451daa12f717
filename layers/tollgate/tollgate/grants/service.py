"""Grants: an admin's grant of credits (with an optional expiry and priority) and a wallet's grants view."""

from __future__ import annotations

from tollgate import clock, idempotency
from tollgate.errors import ValidationFailed
from tollgate.grants import repository
from tollgate.grants.attribution import Book
from tollgate.grants.exceptions import GrantExpiryInPast
from tollgate.grants.schemas import GrantIn, GrantOut
from tollgate.ledger import posting
from tollgate.ledger.exceptions import WalletNotFound
from tollgate.ledger.schemas import WalletGrantOut, WalletOut
from tollgate.principal import Principal, validate_wallet_id
from tollgate.shards import service as shards
from tollgate.tiers.allocation import next_period_start


def grant(principal: Principal, wallet_id: str, body: GrantIn, idempotency_key: str | None) -> GrantOut:
    """Credit ``body.amount`` as an admin grant: a ``grant`` ledger entry whose metadata carries the
    grant's ``expires_at`` and ``priority`` (the stream makes it a grant of the wallet's book).
    Idempotent on the key: a replay answers the original; the same key with another body is a 409."""
    principal.require_admin()
    wallet_id = validate_wallet_id(wallet_id)
    now_ms = clock.now_ms()
    expires_ms = clock.parse_rfc3339(body.expires_at) if body.expires_at is not None else None
    if expires_ms is not None and expires_ms > clock.MAX_ISO_MS:
        raise ValidationFailed("expires_at must be before the year 10000", field="expires_at")
    if expires_ms is not None and expires_ms < 0:
        raise GrantExpiryInPast("expires_at must be in the future", field="expires_at")
    expires_at = clock.iso(expires_ms) if expires_ms is not None else None
    request_hash = idempotency.request_hash({"op": "grant", "wallet": wallet_id, "amount": body.amount,
                                             "expires_at": expires_at, "priority": body.priority,
                                             "reason": body.reason})
    transaction_id = idempotency.record_id("tx", wallet_id, "grant", idempotency_key, located=True)
    entry = posting.new_entry(
        wallet_id=wallet_id, transaction_id=transaction_id, entry_type="grant", amount=body.amount, now_ms=now_ms,
        request_hash=request_hash, actor=principal.actor, reason=body.reason,
        metadata={"expires_at": expires_at, "priority": body.priority})
    if expires_ms is not None and expires_ms <= now_ms:
        # A replay of a grant whose expiry has passed since still answers as the original did.
        earlier = posting.get_entry(wallet_id, transaction_id) if idempotency_key is not None else None
        if earlier is None:
            raise GrantExpiryInPast("expires_at must be in the future", field="expires_at")
        idempotency.check_replay(earlier.request_hash, request_hash)
        entry = earlier
    else:
        try:
            posting.credit(entry, body.amount)
        except posting.Replayed as replay:
            idempotency.check_replay(replay.entry.request_hash, request_hash)
            entry = replay.entry
    balance = posting.response_balance(entry, posting.read_wallet(wallet_id))
    meta = entry.metadata or {}
    return GrantOut(grant_id=entry.transaction_id, wallet_id=wallet_id, amount=entry.amount, remaining=entry.amount,
                    expires_at=meta.get("expires_at"), priority=int(meta.get("priority") or 0), balance=balance)


def wallet_view(wallet_id: str, *, must_exist: bool = False) -> WalletOut:
    """The wallet (balance, holds), its tier and next allocation, and its grants in draw order with
    what expires within 7 days: one strongly consistent Query (the wallet's ``WALLET*`` items), and
    for a sharded wallet one ``BatchGetItem`` of its other shards."""
    wallet_item, book_item, subscription = repository.read_wallet_view(wallet_id)
    wallet = shards.read(wallet_item, wallet_id)  # a sharded wallet: its other shards added
    if must_exist and not wallet.exists:
        raise WalletNotFound(f"wallet '{wallet_id}' not found")
    now_ms = clock.now_ms()
    book = repository.to_book(book_item) if book_item is not None else Book(wallet_id=wallet_id)
    grants = [WalletGrantOut(grant_id=g.grant_id, source=g.source, remaining=g.remaining, expires_at=g.expires_at,
                             priority=g.priority) for g in book.draw_order(now_ms)]
    return wallet.view(now_ms).model_copy(update={
        "tier": subscription.tier_id if subscription is not None else None,
        "next_allocation_at": next_period_start(now_ms) if subscription is not None else None,
        "grants": grants,
        "expiring_soon": book.expiring_within(now_ms),
    })


__all__ = ["grant", "wallet_view"]
