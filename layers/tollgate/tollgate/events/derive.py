"""Events from the table's stream: which change of which item is which event, with a stable id.

Each rule reads one stream record (its old and new images) and nothing else, except a credit,
whose ledger entry says where the credits came from (one GetItem, only for a credit). An
event's id is derived from what it is about (a transaction, a wallet's ``seq``, an item's new
status), so a redelivered record yields the same events and the outbox records each once.

* ``credits.granted``: the wallet's balance rose with a purchase, allocation or grant entry.
* ``credits.low``: available went from at or above the wallet's threshold to below it. The
  threshold is on the wallet item and every change of available is one conditional update of
  it, so exactly one record crosses: once per crossing however many debits race.
* ``credits.depleted``: available went from above 0 to 0.
* ``purchase.paid|failed``, ``refund.succeeded|failed``, ``payout.paid|failed|reversed``,
  ``reservation.expired``: the item's status became that (once: the id names the status).
* ``purchase.refunded``: a purchase's refunded amount rose (once per amount reached).

``credits.expiring`` comes from the grant books, not the stream (``tollgate.grants.expiry``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tollgate import ids, keys
from tollgate.amounts import format_credits
from tollgate.data.images import image_number, image_string
from tollgate.events.types import EventType

GRANTING_ENTRIES = frozenset({"purchase", "allocation", "grant"})
# Where the stream's records come from (the item types the ledger stream's filter passes).
EVENT_SOURCE_SKS = ("PURCHASE", "REFUND", "PAYOUT", keys.RESERVATION_SK)


@dataclass(frozen=True)
class Event:
    id: str
    type: EventType
    created_at: str
    wallet_id: str | None
    data: dict[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        """What a receiver gets (and EventBridge carries as the detail)."""
        return {"id": self.id, "type": self.type.value, "created_at": self.created_at, "wallet_id": self.wallet_id,
                "data": self.data}


EntryType = Callable[[str, str], str | None]  # (wallet_id, transaction_id) -> the entry's type


def make_event(kind: EventType, about: tuple[str, ...], created_at: str | None, wallet_id: str | None,
           **data: Any) -> Event:
    return Event(id=ids.derived_id("evt", kind.value, *about), type=kind, created_at=created_at or "",
                 wallet_id=wallet_id, data=data)


def derive(record: dict[str, Any], entry_type: EntryType, *, received_at: str) -> list[Event]:
    """The events one stream record means (most mean none)."""
    if record.get("eventName") not in ("INSERT", "MODIFY"):
        return []
    change = record.get("dynamodb") or {}
    sk = image_string(change.get("Keys") or {}, "SK")
    new, old = change.get("NewImage") or {}, change.get("OldImage") or {}
    if sk == keys.WALLET_SK:
        return _wallet(new, old, entry_type, received_at)
    status, before = image_string(new, "status"), image_string(old, "status")
    if status is None or (status == before and sk != "PURCHASE"):
        return []
    if sk == "PURCHASE":
        return _purchase(new, old, status, before, received_at)
    if sk == "REFUND":
        return _refund(new, status)
    if sk == "PAYOUT":
        return _payout(new, status)
    if sk == keys.RESERVATION_SK and status == "expired":
        rid = image_string(new, "reservation_id") or ""
        return [make_event(EventType.RESERVATION_EXPIRED, (rid,), image_string(new, "closed_at") or received_at,
                       image_string(new, "wallet_id"), reservation_id=rid, feature=image_string(new, "feature"),
                       held=format_credits(image_number(new, "held") or 0), expires_at=image_string(new, "expires_at"))]
    return []


def _wallet(new: dict[str, Any], old: dict[str, Any], entry_type: EntryType, received_at: str) -> list[Event]:
    wallet_id = image_string(new, "wallet_id")
    if wallet_id is None:
        return []
    at = image_string(new, "updated_at") or received_at
    seq = str(image_number(new, "seq") or 0)
    balance, balance_before = image_number(new, "balance") or 0, image_number(old, "balance") or 0
    available, available_before = image_number(new, "available") or 0, image_number(old, "available") or 0
    figures = {"balance": format_credits(balance), "available": format_credits(available)}
    events: list[Event] = []
    tx = image_string(new, "last_tx")
    if tx and tx != image_string(old, "last_tx") and balance > balance_before:
        source = entry_type(wallet_id, tx)
        if source in GRANTING_ENTRIES:
            events.append(make_event(EventType.CREDITS_GRANTED, (tx,), at, wallet_id, transaction_id=tx, source=source,
                                 amount=format_credits(balance - balance_before), **figures))
    if image_number(new, "shards") is not None:
        return events  # a sharded wallet: this item is one shard of it (its sum's crossings: tollgate.shards.crossings)
    threshold = crossed(new, old, "low_balance_mc")
    if threshold is not None:
        events.append(make_event(EventType.CREDITS_LOW, (wallet_id, seq), at, wallet_id,
                             threshold=format_credits(threshold), **figures))
    if old and available_before > 0 and available == 0:
        events.append(make_event(EventType.CREDITS_DEPLETED, (wallet_id, seq), at, wallet_id, **figures))
    return events


def crossed(new: dict[str, Any], old: dict[str, Any], threshold_attribute: str) -> int | None:
    """The wallet threshold (``low_balance_mc``, ``topup_threshold_mc``) this change of the wallet
    took available below, from at or above it; None if it crossed none."""
    threshold = image_number(new, threshold_attribute)
    if not old or threshold is None:
        return None
    before, after = image_number(old, "available") or 0, image_number(new, "available") or 0
    return threshold if before >= threshold > after else None


def top_up_crossings(record: dict[str, Any]) -> list[tuple[str, int]]:
    """(wallet_id, seq) when the record is a wallet's change crossing below its auto top-up threshold:
    what starts one charge (``tollgate.autotopup``)."""
    change = record.get("dynamodb") or {}
    if record.get("eventName") != "MODIFY" or image_string(change.get("Keys") or {}, "SK") != keys.WALLET_SK:
        return []
    new, old = change.get("NewImage") or {}, change.get("OldImage") or {}
    wallet_id, seq = image_string(new, "wallet_id"), image_number(new, "seq")
    if wallet_id is None or seq is None or image_number(new, "shards") is not None or \
            crossed(new, old, "topup_threshold_mc") is None:
        return []
    return [(wallet_id, seq)]


def _purchase(new: dict[str, Any], old: dict[str, Any], status: str, before: str | None,
              received_at: str) -> list[Event]:
    pid, wallet_id = image_string(new, "purchase_id") or "", image_string(new, "wallet_id")
    money = {"purchase_id": pid, "amount": image_number(new, "amount"), "currency": image_string(new, "currency"),
             "gateway": image_string(new, "gateway")}
    events: list[Event] = []
    # Paid once: a purchase failed then paid is paid; one paid again (a dispute won) has the id it had.
    if status != before and status == "paid":
        events.append(make_event(EventType.PURCHASE_PAID, (pid, status), image_string(new, "paid_at"), wallet_id,
                             credits=format_credits(image_number(new, "credits_mc") or 0),
                             package_id=image_string(new, "package_id"), **money))
    elif status != before and status == "failed":
        events.append(make_event(EventType.PURCHASE_FAILED, (pid, status), received_at, wallet_id,
                             failure_reason=image_string(new, "failure_reason"), **money))
    refunded, refunded_before = image_number(new, "refunded_amount") or 0, image_number(old, "refunded_amount") or 0
    if refunded > refunded_before:
        events.append(make_event(EventType.PURCHASE_REFUNDED, (pid, str(refunded)), received_at, wallet_id,
                             refunded_amount=refunded, status=status, **money))
    return events


def _refund(new: dict[str, Any], status: str) -> list[Event]:
    kinds = {"succeeded": EventType.REFUND_SUCCEEDED, "failed": EventType.REFUND_FAILED}
    if status not in kinds:
        return []
    rid = image_string(new, "refund_id") or ""
    return [make_event(kinds[status], (rid, status), image_string(new, "updated_at"), image_string(new, "wallet_id"),
                   refund_id=rid, purchase_id=image_string(new, "purchase_id"), amount=image_number(new, "amount"),
                   currency=image_string(new, "currency"),
                   credits=format_credits(image_number(new, "credits_mc") or 0),
                   failure_reason=image_string(new, "failure_reason"))]


def _payout(new: dict[str, Any], status: str) -> list[Event]:
    kinds = {"paid": EventType.PAYOUT_PAID, "failed": EventType.PAYOUT_FAILED, "reversed": EventType.PAYOUT_REVERSED}
    if status not in kinds:
        return []
    pid = image_string(new, "payout_id") or ""
    # A payout is a developer's, not a wallet's: wallet_id is null, data names the developer.
    return [make_event(kinds[status], (pid, status), image_string(new, "updated_at"), None, payout_id=pid,
                   developer_id=image_string(new, "developer_id"), amount=image_number(new, "amount"),
                   currency=image_string(new, "currency"),
                   credits=format_credits(image_number(new, "credits_mc") or 0), failure=image_string(new, "failure"))]
