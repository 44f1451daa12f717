"""Which wallet a caller spends from or reads, org wallets included, and a capped member's monthly cap.

A person's own wallet (``user:<sub>``) resolves exactly as before, with no read. An org wallet
(``org:<id>``) named by a person costs one strongly consistent ``GetItem`` of their membership on
every request (no cache: a member removed is refused from the very next request on); a person who
is not a member gets the 404 anyone gets for a wallet that is not theirs. Server API keys spend from
any wallet and admins read any, as before.

A capped member's debit or hold carries one more item in its single transaction: an ``ADD`` to
their spend for the month (``MemberSpendItem``, in its own partition), conditioned on staying within
the cap. Holds count in full when made; settling gives back what was not charged and releasing
gives back all of it, each in the same transaction as the settle or release. A hold freed by expiry
(the sweeper, or a debit that needs its credits) stays counted: the member can only under-spend
their cap, never over-spend it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tollgate import clock, keys
from tollgate.amounts import format_credits
from tollgate.data import Transaction, TransactionCancelled
from tollgate.errors import Forbidden, NotFound
from tollgate.orgs import repository
from tollgate.orgs.exceptions import MemberCapExceeded
from tollgate.orgs.models import OWNER, MemberSpendItem
from tollgate.principal import Principal, validate_wallet_id

ORG_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
_ORG_ID_RE = re.compile(ORG_ID_PATTERN)
MEMBER_CAP = repository.MEMBER_CAP


@dataclass(frozen=True)
class Spender:
    """The wallet a request spends from and, for an org member with a cap, what bounds them."""

    wallet_id: str
    member: str | None = None  # the org member's sub (org wallets spent from by a person)
    cap_mc: int | None = None  # their monthly cap; None: uncapped

    @property
    def org_id(self) -> str | None:
        return org_of(self.wallet_id)

    @property
    def capped(self) -> bool:
        return self.member is not None and self.cap_mc is not None

    def scoped_key(self, idempotency_key: str | None) -> str | None:
        """The Idempotency-Key a record's id derives from: on an org wallet, each member's own
        (``"<sub> <key>"``; a key has no spaces, so no two members' keys, nor a server key's, meet)."""
        if idempotency_key is None or self.member is None:
            return idempotency_key
        return f"{self.member} {idempotency_key}"


def org_of(wallet_id: str) -> str | None:
    """The org id of an org wallet (``org:<id>``), None for any other wallet."""
    if not wallet_id.startswith(keys.ORG_WALLET_PREFIX):
        return None
    return wallet_id[len(keys.ORG_WALLET_PREFIX):]


def _membership(principal: Principal, wallet_id: str):  # -> MemberItem
    org_id = org_of(wallet_id)
    member = repository.get_member(org_id, principal.sub) if org_id and _ORG_ID_RE.fullmatch(org_id) else None
    if member is None:
        # Not a member: indistinguishable from a wallet that does not exist, as anyone else's is.
        raise NotFound("wallet not found")
    return member


def wallet_for_spending(principal: Principal, requested: str | None) -> Spender:
    """The wallet this caller may debit: a person their own or an org's they belong to; a server key any."""
    if principal.is_service or requested is None or not requested.startswith(keys.ORG_WALLET_PREFIX):
        return Spender(principal.wallet_for_spending(requested))
    member = _membership(principal, validate_wallet_id(requested))
    return Spender(requested, member=principal.sub, cap_mc=member.monthly_cap_mc)


def wallet_for_reading(principal: Principal, requested: str | None) -> str:
    """The wallet this caller may read: their own or an org's they belong to; admins and server keys any."""
    if (principal.is_service or principal.is_admin or requested is None
            or not requested.startswith(keys.ORG_WALLET_PREFIX)):
        return principal.wallet_for_reading(requested)
    _membership(principal, validate_wallet_id(requested))
    return requested


def wallet_for_managing(principal: Principal, requested: str | None) -> str:
    """The wallet whose settings (alerts, auto top-up) this caller may change: a person their own, or
    an org wallet they own; admins any. A server key acts for the platform's users, not as one: 403."""
    if principal.is_service:
        raise Forbidden("a wallet's own settings are changed by its owner or an admin, not an API key")
    if principal.is_admin and requested is not None:
        return validate_wallet_id(requested)
    if requested is None or not requested.startswith(keys.ORG_WALLET_PREFIX):
        return principal.wallet_for_reading(requested)
    member = _membership(principal, validate_wallet_id(requested))
    if member.role != OWNER:
        raise Forbidden("only the organization's owners (or an admin) change its wallet's settings")
    return requested


def may_act_on(principal: Principal, wallet_id: str, actor: str) -> bool:
    """Whether the caller may read, settle or release a reservation on ``wallet_id`` made by ``actor``:
    a server key any; a person their own wallet's, and on an org wallet their own while still a member."""
    if principal.is_service or org_of(wallet_id) is None:
        return principal.may_act_on(wallet_id)
    if actor != principal.actor:
        return False
    try:
        _membership(principal, wallet_id)
    except NotFound:
        return False
    return True


def _ttl_epoch(period: str) -> int:
    return clock.period_end_ms(period) // 1000 + repository.SPEND_RETAIN_SECONDS


def charge(spender: Spender, amount: int, now_ms: int) -> Transaction | None:
    """The cap's operation for a debit or hold of ``amount`` at ``now_ms`` (None when uncapped or free)."""
    if not spender.capped or amount <= 0:
        return None
    period = clock.period_of(now_ms)
    assert spender.member is not None and spender.cap_mc is not None and spender.org_id is not None
    return repository.charge_cap(spender.org_id, spender.member, period, amount, spender.cap_mc, clock.iso(now_ms),
                                 _ttl_epoch(period))


def give_back(wallet_id: str, member: str, period: str, amount: int, now_ms: int) -> Transaction | None:
    """Uncount ``amount`` of a capped member's hold in ``period`` (the month it was counted in)."""
    org_id = org_of(wallet_id)
    if org_id is None or amount <= 0:
        return None
    return repository.give_back(org_id, member, period, amount, clock.iso(now_ms), _ttl_epoch(period))


def refusal(cancelled: TransactionCancelled, spender: Spender, amount: int) -> MemberCapExceeded | None:
    """The cap's refusal, when the cap's operation is what failed (else None)."""
    if not spender.capped or not cancelled.failed(MEMBER_CAP):
        return None
    old = cancelled.old(MEMBER_CAP, MemberSpendItem)
    assert spender.cap_mc is not None
    spent = old.spent_mc if old is not None else 0
    return MemberCapExceeded("this would take you past your monthly cap on the organization's wallet",
                             cap=format_credits(spender.cap_mc), spent=format_credits(spent),
                             required=format_credits(amount),
                             remaining=format_credits(max(0, spender.cap_mc - spent)))


def with_cap(tx: Transaction | None, cap: Transaction | None) -> Transaction | None:
    """``tx`` with the cap's operation added (either may be None)."""
    if cap is None:
        return tx
    return cap if tx is None else tx.extend(cap)


__all__ = ["ORG_ID_PATTERN", "Spender", "charge", "give_back", "may_act_on", "org_of", "refusal",
           "wallet_for_reading", "wallet_for_spending", "with_cap"]
