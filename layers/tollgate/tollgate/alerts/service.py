"""A wallet's alerts: the low-balance threshold below which the platform is told (``credits.low``).

The threshold lives on the wallet item, so the stream record of every change to available
carries it: a crossing is seen in the one record that crosses it, once, however many debits
race (the stream consumer emits the event; the dashboard shows a banner below it).
"""

from __future__ import annotations

from tollgate import clock, ledger, orgs
from tollgate.alerts.schemas import WalletAlertsIn, WalletAlertsOut
from tollgate.ledger import posting
from tollgate.ledger.wallets import WalletState
from tollgate.principal import Principal
from tollgate.shards import crossings


def _view(wallet: WalletState) -> WalletAlertsOut:
    out = wallet.view(clock.now_ms())
    return WalletAlertsOut(wallet_id=wallet.wallet_id, low_balance=out.low_balance, available=out.available,
                           below_low_balance=out.below_low_balance)


def get_alerts(principal: Principal, requested: str | None) -> WalletAlertsOut:
    wallet_id = orgs.wallet_for_reading(principal, requested)
    return _view(posting.read_wallet(wallet_id))


def put_alerts(principal: Principal, requested: str | None, body: WalletAlertsIn) -> WalletAlertsOut:
    wallet_id = orgs.wallet_for_managing(principal, requested)
    # A sharded wallet's threshold is set with its CROSSINGS item where the wallet stands: setting it
    # is no crossing (tollgate.shards.crossings), as on any wallet.
    if crossings.set_threshold(wallet_id, "low", body.low_balance) is not None:
        return _view(posting.read_wallet(wallet_id))
    return _view(ledger.set_low_balance(wallet_id, body.low_balance))
