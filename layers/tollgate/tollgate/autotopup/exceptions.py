from __future__ import annotations

from tollgate.errors import TollgateError


class NoSavedCard(TollgateError):
    status = 409
    code = "no_saved_card"


class CardNotSaved(TollgateError):
    """The card setup named is not this wallet's, or the payer has not confirmed it (yet)."""

    status = 409
    code = "card_not_saved"


__all__ = ["CardNotSaved", "NoSavedCard"]
