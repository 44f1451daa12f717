"""Organizations and their members: who may spend from an org wallet, and how much a month.

Admins create organizations and manage any organization's members; an organization's owners
manage its members (they are people with the plain ``user`` role, so these routes authorize here,
not at the edge). To a person who is not an admin, an organization they do not belong to does not
exist (404); a plain member asking to manage it is refused (403).
"""

from __future__ import annotations

from tollgate import clock, keys
from tollgate.errors import Forbidden
from tollgate.orgs import repository
from tollgate.orgs.exceptions import MemberNotFound, OrgNotFound
from tollgate.orgs.models import OWNER, MemberItem, OrgItem
from tollgate.orgs.schemas import MemberIn, MemberOut, OrgIn, OrgOut, OrgView
from tollgate.principal import Principal


def _org_out(item: OrgItem) -> OrgOut:
    return OrgOut(org_id=item.org_id, wallet_id=keys.org_wallet_id(item.org_id), name=item.name,
                  created_at=item.created_at, updated_at=item.updated_at)


def member_view(item: MemberItem) -> MemberOut:
    return MemberOut(org_id=item.org_id, sub=item.sub, role=item.role, monthly_cap=item.monthly_cap_mc,
                     created_at=item.created_at, updated_at=item.updated_at)


def put_org(principal: Principal, org_id: str, body: OrgIn) -> OrgOut:
    """Create an organization or rename it (admins only)."""
    principal.require_admin()
    return _org_out(repository.put_org(org_id, body.name, clock.iso(clock.now_ms())))


def _managed(principal: Principal, org_id: str) -> OrgItem:
    """The organization, if the caller may manage its members: an admin, or one of its owners."""
    if not principal.is_admin:
        me = repository.get_member(org_id, principal.sub)
        if me is None:
            raise OrgNotFound("organization not found")
        if me.role != OWNER:
            raise Forbidden("only the organization's owners (or an admin) manage its members")
    org = repository.get_org(org_id)
    if org is None:
        raise OrgNotFound("organization not found")
    return org


def get_org(principal: Principal, org_id: str) -> OrgView:
    org = _managed(principal, org_id)
    members = sorted(repository.list_members(org_id), key=lambda m: m.sub)
    return OrgView(**_org_out(org).model_dump(), members=[member_view(m) for m in members])


def put_member(principal: Principal, org_id: str, sub: str, body: MemberIn) -> MemberOut:
    """Add a member or change their role or cap; a cap change applies to this month's spend at once."""
    _managed(principal, org_id)
    return member_view(repository.put_member(org_id, sub, body.role, body.monthly_cap, principal.actor,
                                             clock.iso(clock.now_ms())))


def remove_member(principal: Principal, org_id: str, sub: str) -> None:
    """Remove a member: from their next request on, the org wallet answers them 404."""
    _managed(principal, org_id)
    if not repository.delete_member(org_id, sub):
        raise MemberNotFound(f"'{sub}' is not a member of this organization")


__all__ = ["get_org", "member_view", "put_member", "put_org", "remove_member"]
