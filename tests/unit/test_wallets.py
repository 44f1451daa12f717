"""WalletState: a wallet item read back, expired holds netted out at read time."""

from __future__ import annotations

from tollgate.data import to_attr
from tollgate.ledger.models import WalletItem
from tollgate.ledger.wallets import WalletState

NOW = 1_767_225_600_000


def raw(**attributes):
    """A wallet item as DynamoDB returns it (attribute values), read through the model."""
    values = {"PK": "WALLET#user:a", "SK": "WALLET", "entity": "wallet", "wallet_id": "user:a", **attributes}
    return {name: to_attr(value) for name, value in values.items()}


def item(balance=10_000, reserved=3_000, available=7_000, holds=None, updated_at="2026-01-01T00:00:00.000Z"):
    attributes = {"balance": balance, "reserved": reserved, "available": available, "updated_at": updated_at}
    if holds is not None:
        attributes["holds"] = {rid: {"a": a, "e": e} for rid, (a, e) in holds.items()}
    return WalletItem.from_raw_data(raw(**attributes))


HOLDS = {"res_live": (1_000, NOW + 60_000), "res_dead": (1_500, NOW - 1), "res_edge": (500, NOW)}


class TestFromItem:
    def test_missing_wallet(self):
        state = WalletState.from_item("user:a", None)
        assert state == WalletState(wallet_id="user:a")
        assert not state.exists
        assert state.balance == state.reserved == state.available == 0
        assert state.holds == {}
        assert state.effective_available(NOW) == 0

    def test_reads_numbers_as_ints(self):
        state = WalletState.from_item("user:a", item(holds=HOLDS))
        assert state.exists
        assert (state.balance, state.reserved, state.available) == (10_000, 3_000, 7_000)
        assert all(type(v) is int for v in (state.balance, state.reserved, state.available))
        assert state.holds == HOLDS
        assert all(type(a) is int and type(e) is int for a, e in state.holds.values())
        assert state.updated_at == "2026-01-01T00:00:00.000Z"

    def test_missing_attributes_default_to_zero(self):
        state = WalletState.from_item("user:a", WalletItem.from_raw_data(raw()))
        assert state.exists
        assert (state.balance, state.reserved, state.available, state.holds) == (0, 0, 0, {})
        assert state.updated_at is None

    def test_null_holds(self):
        assert WalletState.from_item("user:a", WalletItem.from_raw_data(raw(holds=None))).holds == {}


class TestExpiredHolds:
    def test_expiry_is_inclusive(self):
        state = WalletState.from_item("user:a", item(holds=HOLDS))
        assert state.expired_holds(NOW) == {"res_dead": 1_500, "res_edge": 500}
        assert state.expired_holds(NOW - 1) == {"res_dead": 1_500}
        assert state.expired_holds(NOW - 2) == {}
        assert state.expired_holds(NOW + 60_000) == {"res_live": 1_000, "res_dead": 1_500, "res_edge": 500}

    def test_effective_available(self):
        state = WalletState.from_item("user:a", item(holds=HOLDS))
        assert state.effective_available(NOW - 2) == 7_000
        assert state.effective_available(NOW) == 7_000 + 1_500 + 500
        assert state.effective_available(NOW + 60_000) == 10_000

    def test_effective_available_never_exceeds_balance_when_consistent(self):
        state = WalletState.from_item("user:a", item(holds=HOLDS))
        for t in range(NOW - 10, NOW + 70_000, 997):
            assert state.effective_available(t) <= state.balance


class TestView:
    def test_nets_expired_holds_out(self):
        view = WalletState.from_item("user:a", item(holds=HOLDS)).view(NOW)
        assert view.wallet_id == "user:a"
        assert view.balance == 10_000
        assert view.reserved == 1_000
        assert view.available == 9_000
        assert view.open_holds == 1
        assert view.updated_at == "2026-01-01T00:00:00.000Z"
        assert view.reserved + view.available == view.balance

    def test_nothing_expired(self):
        view = WalletState.from_item("user:a", item(holds=HOLDS)).view(NOW - 2)
        assert (view.balance, view.reserved, view.available, view.open_holds) == (10_000, 3_000, 7_000, 3)

    def test_everything_expired(self):
        view = WalletState.from_item("user:a", item(holds=HOLDS)).view(NOW + 10**9)
        assert (view.balance, view.reserved, view.available, view.open_holds) == (10_000, 0, 10_000, 0)

    def test_renders_decimal_strings(self):
        view = WalletState.from_item("user:a", item(holds=HOLDS)).view(NOW)
        assert view.model_dump(mode="json") == {
            "wallet_id": "user:a", "balance": "10", "reserved": "1", "available": "9", "open_holds": 1,
            "updated_at": "2026-01-01T00:00:00.000Z",
            # Grants and the tier come from beside the wallet item (tollgate.grants.wallet_view).
            "tier": None, "next_allocation_at": None, "grants": [], "expiring_soon": "0",
            "low_balance": None, "below_low_balance": False,
        }

    def test_missing_wallet_view(self):
        view = WalletState.from_item("user:new", None).view(NOW)
        assert view.model_dump(mode="json") == {
            "wallet_id": "user:new", "balance": "0", "reserved": "0", "available": "0", "open_holds": 0,
            "updated_at": None, "tier": None, "next_allocation_at": None, "grants": [], "expiring_soon": "0",
            "low_balance": None, "below_low_balance": False,
        }

    def test_view_is_consistent_with_effective_available(self):
        state = WalletState.from_item("user:a", item(holds=HOLDS))
        for t in (NOW - 5, NOW - 1, NOW, NOW + 59_999, NOW + 60_000):
            assert state.view(t).available == state.effective_available(t)
