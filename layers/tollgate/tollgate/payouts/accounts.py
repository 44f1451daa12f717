"""A developer's one payout account: Stripe Connect (Express) or a Paystack transfer recipient.

Only the gateway's id for the account is stored (``acct_…`` / ``RCP_…``) with a short
description (bank name, last four digits): the gateway keeps the bank details.
"""

from __future__ import annotations

from tollgate import clock, gateways, keys
from tollgate.earnings import repository as earnings
from tollgate.gateways.payouts import BankAccount, PayoutAccount
from tollgate.payouts import repository
from tollgate.payouts.exceptions import PayoutAccountNotFound, PayoutAccountRequired, PayoutInProgress
from tollgate.payouts.models import PayoutAccountItem
from tollgate.payouts.schemas import PayoutAccountIn, PayoutAccountOut, PayoutSettingsIn, PayoutSettingsOut


def view(item: PayoutAccountItem, onboarding_url: str | None = None) -> PayoutAccountOut:
    return PayoutAccountOut(
        gateway=item.gateway,  # type: ignore[arg-type]
        status=item.status,  # type: ignore[arg-type]
        currency=item.currency,
        onboarding_url=onboarding_url if item.status == "onboarding" else None,
        recipient_code=item.account_id if item.gateway == "paystack" else None,
        details={k: str(v) for k, v in item.details.items()},
        auto=item.auto,
    )


def _not_paying(developer_id: str) -> None:
    balance = earnings.get_balance(developer_id)
    if balance is not None and balance.active_payout:
        raise PayoutInProgress(f"payout {balance.active_payout} is in progress; change the account after it ends")


def connect(developer_id: str, body: PayoutAccountIn, *, return_url: str) -> PayoutAccountOut:
    """Create (or, for the same Stripe account, refresh) the developer's payout account."""
    existing = repository.get_account(developer_id)
    gateway = gateways.get_payout_gateway(body.gateway)
    if existing is not None and existing.gateway == "stripe" and body.gateway == "stripe":
        return _refreshed(existing, return_url)
    _not_paying(developer_id)
    bank = None
    if body.gateway == "paystack":
        bank = BankAccount(bank_code=str(body.bank_code), account_number=str(body.account_number),
                           account_name=str(body.account_name))
    opened = gateway.open_account(developer_id, bank=bank, return_url=return_url, refresh_url=return_url,
                                  idempotency_key=f"payout-account-{developer_id}")
    now = clock.iso(clock.now_ms())
    item = PayoutAccountItem(
        *keys.payout_account(developer_id), developer_id=developer_id, gateway=body.gateway,
        account_id=opened.account_id, status=opened.status, currency=opened.currency, details=dict(opened.details),
        auto=existing.auto if existing else False, created_at=now, updated_at=now)
    repository.put_account(item)
    return view(item, opened.onboarding_url)


def get(developer_id: str, *, return_url: str) -> PayoutAccountOut:
    item = repository.get_account(developer_id)
    if item is None:
        raise PayoutAccountNotFound("no payout account: connect one with PUT /v1/developers/me/payout-account")
    return _refreshed(item, return_url)


def _refreshed(item: PayoutAccountItem, return_url: str) -> PayoutAccountOut:
    """Stripe accounts are asked for their state (and a fresh onboarding link) while onboarding."""
    if item.status == "active":
        return view(item)
    seen: PayoutAccount = gateways.get_payout_gateway(item.gateway).account(
        item.account_id, return_url=return_url, refresh_url=return_url)
    if seen.status != item.status:
        item.status, item.updated_at = seen.status, clock.iso(clock.now_ms())
        repository.put_account(item)
    return view(item, seen.onboarding_url)


def active_account(developer_id: str, *, return_url: str | None) -> PayoutAccountItem:
    """The account a payout can be paid to now (409 ``payout_account_required`` otherwise); one
    still onboarding is asked about first when there is a ``return_url`` for its next link."""
    item = repository.get_account(developer_id)
    if item is None:
        raise PayoutAccountRequired("connect a payout account first (PUT /v1/developers/me/payout-account)")
    if item.status != "active":
        if return_url is not None:
            _refreshed(item, return_url)
        if item.status != "active":
            raise PayoutAccountRequired("finish the payout account's onboarding first (GET its onboarding_url)")
    return item


def disconnect(developer_id: str) -> None:
    _not_paying(developer_id)
    if not repository.delete_account(developer_id):
        raise PayoutAccountNotFound("no payout account to remove")


def put_settings(developer_id: str, body: PayoutSettingsIn) -> PayoutSettingsOut:
    item = repository.get_account(developer_id)
    if item is None:
        raise PayoutAccountRequired("connect a payout account before turning automatic payouts on or off")
    item.auto, item.updated_at = body.auto, clock.iso(clock.now_ms())
    repository.put_account(item)
    return PayoutSettingsOut(auto=item.auto)


def get_settings(developer_id: str) -> PayoutSettingsOut:
    item = repository.get_account(developer_id)
    return PayoutSettingsOut(auto=bool(item and item.auto))
