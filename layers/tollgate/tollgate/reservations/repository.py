"""Reservation records: one per hold, keyed by its own id so settle/release find it by id.

While a hold is open its item carries ``GSI1PK`` = ``HOLDS#<shard>`` and ``GSI1SK`` =
``<expires_at>#<id>``; closing it removes both, so the sweeper's index holds only open
holds and never one hot partition.
"""

from __future__ import annotations

from typing import Any

from tollgate import clock, keys
from tollgate.data import Transaction, first_page, get_or_none
from tollgate.reservations.models import ReservationItem

RESERVATION = "reservation"
# Closed reservations are kept for audit, then removed by DynamoDB TTL.
RETAIN_SECONDS = 90 * 24 * 3600
R = ReservationItem


def new(**fields: Any) -> ReservationItem:
    rid = fields["reservation_id"]
    return ReservationItem(*keys.reservation(rid), gsi1pk=keys.hold_shard(rid),
                           gsi1sk=f"{fields['expires_at']}#{rid}",
                           ttl_epoch=fields["expires_at_ms"] // 1000 + RETAIN_SECONDS,
                           **{k: v for k, v in fields.items() if v is not None})


def put(item: ReservationItem) -> Transaction:
    """Create the record once (its id derives from the Idempotency-Key)."""
    return Transaction().put(RESERVATION, item, R.pk.does_not_exist())


def close(reservation_id: str, status: str, now: str, **fields: Any) -> Transaction:
    """Move an open reservation to ``status`` and take it out of the open-holds index."""
    actions = [R.status.set(status), R.closed_at.set(now), R.gsi1pk.remove(), R.gsi1sk.remove()]
    actions += [getattr(R, name).set(value) for name, value in fields.items() if value is not None]
    return Transaction().update(RESERVATION, R(*keys.reservation(reservation_id)), actions, R.status == "open")


def get(reservation_id: str) -> ReservationItem | None:
    return get_or_none(ReservationItem, *keys.reservation(reservation_id))


def expired_open(shard: str, now_ms: int, start: dict[str, Any] | None
                 ) -> tuple[list[ReservationItem], dict[str, Any] | None]:
    """One page of a shard's open holds that expired by ``now_ms``."""
    results = R.open_holds.query(shard, R.gsi1sk <= clock.iso(now_ms) + "#~", page_size=200,
                                 last_evaluated_key=start)
    return first_page(results, ReservationItem)
