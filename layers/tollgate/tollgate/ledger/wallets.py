"""A wallet as read from its item, with expired holds netted out at read time."""

from __future__ import annotations

from dataclasses import dataclass, field

from tollgate.ledger.models import WalletItem
from tollgate.ledger.schemas import WalletOut


@dataclass(frozen=True)
class WalletState:
    wallet_id: str
    exists: bool = False
    balance: int = 0
    reserved: int = 0
    available: int = 0
    holds: dict[str, tuple[int, int]] = field(default_factory=dict)  # id -> (amount, expires_ms)
    updated_at: str | None = None
    low_balance: int | None = None  # the alert threshold (mc), if set
    seq: int = 0  # the wallet's change counter (every change of available adds one)

    @classmethod
    def from_item(cls, wallet_id: str, item: WalletItem | None) -> WalletState:
        if item is None:
            return cls(wallet_id=wallet_id)
        holds = {rid: (int(h["a"]), int(h["e"])) for rid, h in (item.holds or {}).items()}
        return cls(
            wallet_id=wallet_id,
            exists=True,
            balance=item.balance,
            reserved=item.reserved,
            available=item.available,
            holds=holds,
            updated_at=item.updated_at,
            low_balance=item.low_balance_mc,
            seq=item.seq or 0,
        )

    def expired_holds(self, now_ms: int) -> dict[str, int]:
        return {rid: amount for rid, (amount, expires) in self.holds.items() if expires <= now_ms}

    def effective_available(self, now_ms: int) -> int:
        """What is spendable now: an expired hold frees itself without waiting for the sweeper."""
        return self.available + sum(self.expired_holds(now_ms).values())

    def view(self, now_ms: int) -> WalletOut:
        expired = self.expired_holds(now_ms)
        freed = sum(expired.values())
        return WalletOut(
            wallet_id=self.wallet_id,
            balance=self.balance,
            reserved=self.reserved - freed,
            available=self.available + freed,
            open_holds=len(self.holds) - len(expired),
            updated_at=self.updated_at,
            low_balance=self.low_balance,
            below_low_balance=self.low_balance is not None and self.available + freed < self.low_balance,
        )
