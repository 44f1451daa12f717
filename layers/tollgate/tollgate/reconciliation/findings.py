"""A discrepancy the reconciliation job saw, and its fingerprint (what makes it the same one again)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    kind: str
    expected: int
    actual: int
    wallet_id: str | None = None
    developer_id: str | None = None
    detail: str | None = None

    def fingerprint(self) -> str:
        parts = (self.kind, self.wallet_id or "", self.developer_id or "", str(self.expected), str(self.actual),
                 self.detail or "")
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


__all__ = ["Finding"]
