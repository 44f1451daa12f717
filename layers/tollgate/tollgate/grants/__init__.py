"""Grants: every credit belongs to one (a purchase, a tier allocation, an admin grant...).

Debits never pick grants: the ledger's stream attributes each balance change to the wallet's
grants in commit order (``attribution``, ``stream``); an hourly job removes what is left of each
expired grant (``expiry``). Admins grant credits with an expiry and a priority (``service.grant``);
the wallet view lists the grants (``service.wallet_view``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tollgate import lazy
from tollgate.grants.exceptions import AttributionGap, BookChanged, GrantExpiryInPast

if TYPE_CHECKING:
    from tollgate.grants.service import grant, wallet_view

__getattr__ = lazy.exports(__name__, {
    "service": ("grant", "wallet_view"),
})

__all__ = ["AttributionGap", "BookChanged", "GrantExpiryInPast", "grant", "wallet_view"]
