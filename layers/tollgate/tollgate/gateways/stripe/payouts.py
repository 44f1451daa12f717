"""Stripe payouts through Connect: Express accounts, Account Links and transfers.

* **Accounts.** :meth:`~StripePayouts.open_account` creates an Express account (``transfers``
  capability requested, ``metadata[developer_id]``, the caller's idempotency key) and an
  Account Link to Stripe's hosted onboarding; the account is ``onboarding`` until Stripe
  reports ``payouts_enabled``, then ``active``. Stripe collects the bank details itself, so
  ``bank`` is not used. An Account Link is single-use and short-lived:
  :meth:`~StripePayouts.account` makes a fresh one each time it finds the account onboarding.
* **Transfers** are keyed by the payout: ``Idempotency-Key: payout-<id>`` (Stripe replays the
  first result for 24 hours; the same key with other parameters is a 400 idempotency error),
  ``transfer_group=<id>`` and ``metadata[payout_id]``. A created transfer has moved the
  money to the connected account, so it is ``succeeded`` (``reversed`` once reversed);
  there is no pending state and no ``transfer.*`` webhook to wait for.
  :meth:`~StripePayouts.find_transfer` lists the payout's transfer group, which finds the
  transfer after the idempotency key has expired too.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from tollgate.gateways.exceptions import GatewayError
from tollgate.gateways.payouts import PAYOUT_CURRENCIES, BankAccount, PayoutAccount, PayoutGateway, Transfer
from tollgate.gateways.stripe.events import GATEWAY

if TYPE_CHECKING:
    from tollgate.gateways.stripe import schemas
    from tollgate.gateways.stripe.client import StripeApi

CURRENCY = PAYOUT_CURRENCIES[GATEWAY]


def idempotency_key_for(payout_id: str) -> str:
    """The ``Idempotency-Key`` of a payout's transfer."""
    return f"payout-{payout_id}"


class StripePayouts(PayoutGateway):
    """The payout half of the Stripe adapter (mixed into :class:`~tollgate.gateways.stripe.StripeGateway`)."""

    name = GATEWAY

    @property
    @abstractmethod
    def api(self) -> StripeApi:
        """The API client."""

    def open_account(self, developer_id: str, *, bank: BankAccount | None, return_url: str, refresh_url: str,
                     idempotency_key: str) -> PayoutAccount:
        if not developer_id:
            raise ValueError("open_account needs a developer id")
        if not idempotency_key:
            raise ValueError("open_account needs an idempotency key")
        params: dict[str, Any] = {
            "type": "express",
            "capabilities": {"transfers": {"requested": True}},
            "metadata": {"developer_id": developer_id},
        }
        account = self.api.create_account(params, idempotency_key=idempotency_key)
        return self._shown(account, return_url=return_url, refresh_url=refresh_url)

    def account(self, account_id: str, *, return_url: str, refresh_url: str) -> PayoutAccount:
        return self._shown(self.api.account(account_id), return_url=return_url, refresh_url=refresh_url)

    def _shown(self, account: schemas.Account, *, return_url: str, refresh_url: str) -> PayoutAccount:
        if account.payouts_enabled:
            return PayoutAccount(gateway=GATEWAY, account_id=account.id, status="active", currency=CURRENCY)
        link = self.api.create_account_link({
            "account": account.id,
            "type": "account_onboarding",
            "refresh_url": refresh_url,
            "return_url": return_url,
        })
        return PayoutAccount(gateway=GATEWAY, account_id=account.id, status="onboarding", currency=CURRENCY,
                             onboarding_url=link.url)

    def transfer(self, payout_id: str, account_id: str, amount: int, currency: str) -> Transfer:
        if not payout_id or not account_id:
            raise ValueError("a transfer needs a payout id and an account id")
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise ValueError("a transfer amount is a positive whole number of minor units")
        params: dict[str, Any] = {
            "amount": amount,
            "currency": currency.lower(),
            "destination": account_id,
            "transfer_group": payout_id,
            "metadata": {"payout_id": payout_id},
        }
        created = self.api.create_transfer(params, idempotency_key=idempotency_key_for(payout_id))
        return transfer_from(created, payout_id)

    def find_transfer(self, payout_id: str) -> Transfer | None:
        found = self.api.transfers({"transfer_group": payout_id, "limit": 10}).data
        return transfer_from(found[0], payout_id) if found else None

    def get_transfer(self, payout_id: str, transfer_id: str | None = None) -> Transfer | None:
        """``GET /v1/transfers/{id}`` (None on Stripe's 404); without an id, the payout's transfer
        group (:meth:`find_transfer`). The Transfer's reference is the transfer group Stripe holds,
        so a transfer made for another payout shows another reference."""
        if not transfer_id:
            return self.find_transfer(payout_id)
        from tollgate.gateways.stripe.client import not_found

        try:
            found = self.api.transfer(transfer_id)
        except GatewayError as exc:
            if not_found(exc):
                return None
            raise
        # Stripe's own group, never the payout asked about: a transfer of another payout must show.
        return replace(transfer_from(found, payout_id), reference=found.payout_id or "")


def transfer_from(transfer: schemas.Transfer, payout_id: str) -> Transfer:
    """A Stripe transfer as a payout Transfer: created is final, unless reversed since."""
    return Transfer(
        transfer_id=transfer.id,
        reference=transfer.transfer_group or payout_id,
        status="reversed" if transfer.reversed else "succeeded",
        amount=transfer.amount,
        currency=transfer.currency or "",
        failure="Stripe reversed the transfer" if transfer.reversed else None,
    )


__all__ = ["StripePayouts", "idempotency_key_for", "transfer_from"]
