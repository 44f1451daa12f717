"""Paying developers out: connected accounts and transfers, the same on every gateway.

Stripe pays through Connect (an Express account per developer, onboarded through an Account
Link; a transfer to it is final when created, and can later be reversed). Paystack pays to a
``nuban`` transfer recipient in NGN; a transfer is ``pending`` until its ``transfer.*``
webhook (or a verify) says how it ended.

Every transfer is keyed by the payout id: Stripe's with ``Idempotency-Key: payout-<id>``,
Paystack's with a ``reference`` derived from it (:func:`transfer_reference`). Paystack's
reference is a uniqueness key, not a replay key, so :meth:`PayoutGateway.transfer` first
looks the reference up and adopts a transfer it finds before it creates one.

A failed call is a :class:`~tollgate.gateways.exceptions.GatewayError`;
:func:`is_transient` says whether trying again later may help (network errors, timeouts,
HTTP 429 and 5xx) or not (any other refusal).
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Literal

from tollgate.gateways.exceptions import GatewayError

AccountStatus = Literal["onboarding", "active"]
TransferStatus = Literal["pending", "succeeded", "failed", "reversed"]

PAYOUT_CURRENCIES = {"stripe": "USD", "paystack": "NGN"}


@dataclass(frozen=True)
class BankAccount:
    """What a developer gives to be paid by Paystack (Nigerian bank account)."""

    bank_code: str
    account_number: str
    account_name: str


@dataclass(frozen=True)
class PayoutAccount:
    gateway: str
    account_id: str  # Stripe: acct_...; Paystack: the recipient code RCP_...
    status: AccountStatus
    currency: str  # what transfers to it are paid in (USD, NGN)
    onboarding_url: str | None = None  # Stripe, while onboarding: a fresh Account Link
    details: dict[str, str] = field(default_factory=dict)  # e.g. bank name, last 4 digits


@dataclass(frozen=True)
class Transfer:
    transfer_id: str  # Stripe tr_...; Paystack transfer_code TRF_...
    reference: str  # what the transfer is keyed by (the payout's)
    status: TransferStatus
    amount: int  # minor units
    currency: str
    failure: str | None = None  # why it failed or was reversed, when it did


class PayoutGateway(ABC):
    name: str

    @abstractmethod
    def open_account(self, developer_id: str, *, bank: BankAccount | None, return_url: str, refresh_url: str,
                     idempotency_key: str) -> PayoutAccount:
        """Create the developer's payout account (Stripe: Express account + Account Link;
        Paystack: a nuban transfer recipient from ``bank``)."""

    @abstractmethod
    def account(self, account_id: str, *, return_url: str, refresh_url: str) -> PayoutAccount:
        """The account as the gateway sees it now (Stripe: ``active`` once ``payouts_enabled``,
        else ``onboarding`` with a fresh Account Link)."""

    @abstractmethod
    def transfer(self, payout_id: str, account_id: str, amount: int, currency: str) -> Transfer:
        """Send ``amount`` minor units; calling it again for the same payout never pays twice."""

    @abstractmethod
    def find_transfer(self, payout_id: str) -> Transfer | None:
        """The payout's transfer as the gateway reports it now, or None if there is none."""

    def get_transfer(self, payout_id: str, transfer_id: str | None = None) -> Transfer | None:
        """The payout's transfer as the gateway reports it now, by ``transfer_id`` (the gateway's
        id) where the adapter fetches by id, else by the payout's own key; None if the gateway has
        no such transfer. Read-only: the reconciliation job compares it with the payout. By default
        the payout's key (:meth:`find_transfer`): every transfer is made under it."""
        return self.find_transfer(payout_id)


def transfer_reference(payout_id: str) -> str:
    """Paystack's ``reference`` for a payout: 16-50 characters of ``[a-z0-9_-]``, derived from the id."""
    digest = hashlib.sha256(payout_id.encode()).hexdigest()[:32]
    return f"tollgate-payout-{digest}"


def is_transient(error: GatewayError) -> bool:
    """Whether trying the call again later may succeed: no answer at all, 429, or a 5xx."""
    return error.transient


__all__ = [
    "PAYOUT_CURRENCIES",
    "AccountStatus",
    "BankAccount",
    "PayoutAccount",
    "PayoutGateway",
    "Transfer",
    "TransferStatus",
    "is_transient",
    "transfer_reference",
]
