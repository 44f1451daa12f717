"""What attributing, expiring or granting credits can fail with."""

from __future__ import annotations

from tollgate.errors import ValidationFailed


class AttributionGap(Exception):
    """A wallet's balance change arrived before an earlier one was attributed (that one failed):
    the stream consumer reports it as a batch item failure, and Lambda delivers them again in order."""


class BookChanged(Exception):
    """The grant book was written by someone else since it was read (a redelivered batch racing)."""


class GrantExpiryInPast(ValidationFailed):
    """An admin grant's ``expires_at`` is not in the future."""


__all__ = ["AttributionGap", "BookChanged", "GrantExpiryInPast"]
