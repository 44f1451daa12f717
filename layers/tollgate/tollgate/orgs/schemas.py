from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import Field

from tollgate.orgs.spending import ORG_ID_PATTERN  # an org's id, chosen by an admin; its wallet is "org:<id>"
from tollgate.schemas import NonNegativeCredits, OptionalCreditsOut, RequestModel, Schema

# A member is named by their user id (the JWT ``sub``), as wallet ids and developer ids name people.
MEMBER_SUB_PATTERN = r"^[A-Za-z0-9._:@|+=-]{1,128}$"

OrgIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=ORG_ID_PATTERN, examples=["acme"])]
MemberSubPath = Annotated[str, Path(min_length=1, max_length=128, pattern=MEMBER_SUB_PATTERN, examples=["alice"],
                                    description="The member's user id (their token's sub)")]
Role = Literal["member", "owner"]


class OrgIn(RequestModel):
    name: str = Field(min_length=1, max_length=100)


class MemberIn(RequestModel):
    role: Role = Field(description="owner: manages the organization's members; member: spends from its wallet")
    monthly_cap: NonNegativeCredits | None = Field(
        default=None, description="At most this much spent (and held) from the org wallet per calendar month "
                                  "(UTC); absent or null: no cap")


class MemberOut(Schema):
    org_id: str
    sub: str
    role: Role
    monthly_cap: OptionalCreditsOut
    created_at: str
    updated_at: str


class OrgOut(Schema):
    org_id: str
    wallet_id: str = Field(description="The organization's wallet: org:<org_id>")
    name: str
    created_at: str
    updated_at: str


class OrgView(OrgOut):
    members: list[MemberOut]


__all__ = ["MemberIn", "MemberOut", "MemberSubPath", "OrgIdPath", "OrgIn", "OrgOut", "OrgView", "Role"]
