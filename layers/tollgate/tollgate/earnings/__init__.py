"""Developer earnings: accrued from the table's stream, matured after a hold, read by developers and admins."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tollgate import lazy

if TYPE_CHECKING:
    from tollgate.earnings.accrual import Accrual, accrue, from_record
    from tollgate.earnings.maturity import available_now, mature
    from tollgate.earnings.reversal import Reversal, reverse
    from tollgate.earnings.service import earnings

__getattr__ = lazy.exports(__name__, {
    "accrual": ("Accrual", "accrue", "from_record"),
    "maturity": ("available_now", "mature"),
    "reversal": ("Reversal", "reverse"),
    "service": ("earnings",),
})

__all__ = ["Accrual", "Reversal", "accrue", "available_now", "earnings", "from_record", "mature", "reverse"]
