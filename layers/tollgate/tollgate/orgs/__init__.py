"""Organization wallets (``org:<id>``): members spend from them, each within an optional monthly cap.

What the debit path needs (``spending``: resolving a wallet, the cap) loads with the package; the
admin service and its API schemas load on first use, so the deduction and history functions' cold
starts do not build what only the admin function serves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tollgate import lazy
from tollgate.orgs.exceptions import MemberCapExceeded, MemberNotFound, OrgNotFound
from tollgate.orgs.spending import (
    Spender,
    charge,
    give_back,
    may_act_on,
    refusal,
    wallet_for_managing,
    wallet_for_reading,
    wallet_for_spending,
    with_cap,
)

if TYPE_CHECKING:
    from tollgate.orgs.service import get_org, put_member, put_org, remove_member

__getattr__ = lazy.exports(__name__, {"service": ("get_org", "put_member", "put_org", "remove_member")})


__all__ = [
    "MemberCapExceeded",
    "MemberNotFound",
    "OrgNotFound",
    "Spender",
    "charge",
    "get_org",
    "give_back",
    "may_act_on",
    "put_member",
    "put_org",
    "refusal",
    "remove_member",
    "wallet_for_managing",
    "wallet_for_reading",
    "wallet_for_spending",
    "with_cap",
]
