"""What reading or changing organizations, or spending from their wallets, can fail with."""

from __future__ import annotations

from tollgate.errors import NotFound, TollgateError


class OrgNotFound(NotFound):
    """No such organization, or (to a person who is not an admin) one they do not belong to."""


class MemberNotFound(NotFound):
    pass


class MemberCapExceeded(TollgateError):
    """The debit or hold would take the member past their monthly cap on the org wallet."""

    status = 402
    code = "member_cap_exceeded"


__all__ = ["MemberCapExceeded", "MemberNotFound", "OrgNotFound"]
