"""Usage reversals: give back the credits of a failed or cancelled AI call.

A reversal is a ``reversal`` ledger entry in the usage entry's wallet, naming it
(``reference``) and carrying its ``developer_id`` and ``feature``: exactly what the earnings
stream consumer reads to take the developer's earning back in proportion
(``tollgate.earnings.reversal``). It is one transaction: put the entry (``attribute_not_exists``
on an id derived from the usage entry and the ``Idempotency-Key``, so a replay writes
nothing), credit the wallet, and count the credits on the usage entry (``reversed_mc``)
conditioned so that all its reversals together never give back more than it cost.

The usage entry is found from its transaction id alone: every ledger entry's id is located
(``tollgate.ids``), so one GetItem of the locator names the wallet, and one more reads the
entry. Naming an entry that is not usage (an adjustment, a purchase, a reversal) is a 422.

Admins may reverse any usage entry; a server API key only the usage it made itself, within
``service_reversal_window_seconds`` of it (an AI backend undoing a charge for a call that
failed). Someone else's usage is a 404 to a key, as if it did not exist.
"""

from __future__ import annotations

from tollgate import clock, idempotency, ids
from tollgate.amounts import format_credits
from tollgate.data import Transaction, TransactionCancelled
from tollgate.errors import Forbidden
from tollgate.ledger import posting, repository
from tollgate.ledger.history import entry_view
from tollgate.ledger.models import LedgerEntryItem
from tollgate.ledger.schemas import EntryOut
from tollgate.principal import Principal
from tollgate.usage.exceptions import NotUsage, ReversalExceedsUsage, ReversalWindowClosed, TransactionNotFound
from tollgate.usage.schemas import ReversalIn


def check_caller(principal: Principal) -> None:
    """Admins and server API keys may reverse usage; anyone else is refused before any read."""
    if not (principal.is_service or principal.is_admin):
        raise Forbidden("reversing usage needs the admin role or a server API key")
    principal.require_scope("reversal")


def reverse_usage(principal: Principal, transaction_id: str, body: ReversalIn, idempotency_key: str) -> EntryOut:
    """Give back ``body.credits`` (default: all not yet given back) of a usage entry, once per key."""
    check_caller(principal)
    usage = _usage_for(principal, transaction_id)
    wallet_id, cost = usage.wallet_id, -usage.amount
    remaining = cost - (usage.reversed_mc or 0)
    amount = body.credits if body.credits is not None else remaining
    request_hash = idempotency.request_hash({"op": "reversal", "transaction": transaction_id,
                                             "credits": body.credits, "reason": body.reason})
    # Located like the usage it reverses, so a reversal named by mistake is found (and refused: 422).
    reversal_id = ids.located_id("tx", wallet_id, "reversal", transaction_id, idempotency_key)
    if not 0 < amount <= remaining:
        # A replay of a reversal that used up what was left must still answer as the first time did.
        earlier = posting.get_entry(wallet_id, reversal_id)
        if earlier is not None:
            idempotency.check_replay(earlier.request_hash, request_hash)
            return entry_view(earlier)
        raise _exceeds(remaining)
    entry = posting.new_entry(
        wallet_id=wallet_id,
        transaction_id=reversal_id,
        entry_type="reversal",
        amount=amount,
        now_ms=clock.now_ms(),
        request_hash=request_hash,
        actor=principal.actor,
        reference=transaction_id,
        reason=body.reason,
        feature=usage.feature,
        developer_id=usage.developer_id,
    )
    counted = Transaction()
    repository.add_reversed(counted, usage, amount, cost)
    try:
        posting.credit(entry, amount, counted)
    except posting.Replayed as replay:
        idempotency.check_replay(replay.entry.request_hash, request_hash)
        entry = replay.entry
    except TransactionCancelled as cancelled:
        if not cancelled.failed(repository.REVERSED):
            raise
        # Another reversal of this entry committed since it was read: what is left now.
        now = cancelled.old(repository.REVERSED, LedgerEntryItem)
        raise _exceeds(cost - ((now.reversed_mc or 0) if now is not None else cost)) from None
    return entry_view(entry)


def _usage_for(principal: Principal, transaction_id: str) -> LedgerEntryItem:
    entry = posting.find_entry(transaction_id)
    if principal.is_service:
        # A key sees only usage it made: anything else is indistinguishable from nothing.
        if entry is None or entry.type != "usage" or entry.actor != principal.actor:
            raise TransactionNotFound("transaction not found")
        _check_window(entry)
        return entry
    if entry is None:
        raise TransactionNotFound("transaction not found")
    if entry.type != "usage":
        raise NotUsage(f"only usage entries can be reversed; this is a {entry.type} entry", field="transaction_id")
    return entry


def _check_window(entry: LedgerEntryItem) -> None:
    # Read only on this path (server keys), and rarely: one GetItem, imported when first needed.
    from tollgate.purchases.catalog import settings

    window_s = settings().service_reversal_window_seconds
    if clock.now_ms() - clock.parse_rfc3339(entry.created_at) > window_s * 1000:
        raise ReversalWindowClosed(f"a server API key may reverse its usage only within {window_s} seconds of it")


def _exceeds(remaining: int) -> ReversalExceedsUsage:
    if remaining <= 0:
        return ReversalExceedsUsage("this usage entry has nothing left to give back", field="credits",
                                    remaining="0")
    return ReversalExceedsUsage(f"at most {format_credits(remaining)} credits of this usage entry are left to give "
                                "back", field="credits", remaining=format_credits(remaining))
