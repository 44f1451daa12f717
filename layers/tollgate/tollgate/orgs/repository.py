"""Organization storage: the org and its members in one partition (``ORG#<id>``), and each capped
member's monthly spend in a partition of its own, so the cap never adds load to the org wallet's."""

from __future__ import annotations

from tollgate import keys
from tollgate.data import ConditionFailed, Transaction, conditional, get_or_none
from tollgate.orgs.models import MemberItem, MemberSpendItem, OrgItem

# The label of the cap's operation in a debit's or hold's transaction.
MEMBER_CAP = "member_cap"
# A month's spend item is kept this long after the month ends (then removed by DynamoDB TTL).
SPEND_RETAIN_SECONDS = 100 * 24 * 3600
S = MemberSpendItem
M = MemberItem


def put_org(org_id: str, name: str, now: str) -> OrgItem:
    """Create or rename, in one write; ``created_at`` is kept."""
    item = OrgItem(*keys.org(org_id))
    item.update(actions=[OrgItem.entity.set(OrgItem), OrgItem.org_id.set(org_id), OrgItem.name.set(name),
                         OrgItem.created_at.set(OrgItem.created_at | now), OrgItem.updated_at.set(now)])
    return item


def get_org(org_id: str) -> OrgItem | None:
    return get_or_none(OrgItem, *keys.org(org_id))


def get_member(org_id: str, sub: str) -> MemberItem | None:
    """Strongly consistent: a member removed is refused from the very next request on."""
    return get_or_none(MemberItem, *keys.org_member(org_id, sub))


def list_members(org_id: str) -> list[MemberItem]:
    return list(MemberItem.query(keys.org_pk(org_id), MemberItem.sk.startswith(keys.MEMBER_PREFIX),
                                 consistent_read=True))


def put_member(org_id: str, sub: str, role: str, monthly_cap_mc: int | None, actor: str, now: str) -> MemberItem:
    """Add or change a member, in one write; ``created_at`` is kept."""
    item = MemberItem(*keys.org_member(org_id, sub))
    cap = M.monthly_cap_mc.set(monthly_cap_mc) if monthly_cap_mc is not None else M.monthly_cap_mc.remove()
    item.update(actions=[
        M.entity.set(MemberItem), M.gsi1pk.set(keys.member_of_gsi1pk(sub)), M.gsi1sk.set(org_id),
        M.org_id.set(org_id), M.sub.set(sub), M.role.set(role), cap, M.added_by.set(actor),
        M.created_at.set(M.created_at | now), M.updated_at.set(now),
    ])
    return item


def delete_member(org_id: str, sub: str) -> bool:
    """Remove a member; False if they were not one."""
    try:
        conditional(lambda: MemberItem(*keys.org_member(org_id, sub)).delete(condition=M.pk.exists()))
    except ConditionFailed:
        return False
    return True


def get_spend(org_id: str, sub: str, period: str) -> MemberSpendItem | None:
    return get_or_none(MemberSpendItem, *keys.member_spend(org_id, sub, period))


def _spend_actions(org_id: str, sub: str, period: str, amount: int, now: str, ttl_epoch: int) -> list:
    return [S.entity.set(MemberSpendItem), S.org_id.set(org_id), S.sub.set(sub), S.period.set(period),
            S.spent_mc.add(amount), S.updated_at.set(now), S.ttl_epoch.set(ttl_epoch)]


def charge_cap(org_id: str, sub: str, period: str, amount: int, cap_mc: int, now: str, ttl_epoch: int
               ) -> Transaction:
    """Count ``amount`` (> 0) against the member's cap for ``period``, only if it stays within it.

    Conditions have no arithmetic, so the limit is worked out here: the spend so far must be at
    most ``cap - amount`` (a first spend of the month: ``amount <= cap``).
    """
    limit = cap_mc - amount
    condition = S.spent_mc <= limit
    if limit >= 0:
        condition = S.spent_mc.does_not_exist() | condition
    return Transaction().update(MEMBER_CAP, S(*keys.member_spend(org_id, sub, period)),
                                _spend_actions(org_id, sub, period, amount, now, ttl_epoch), condition)


def give_back(org_id: str, sub: str, period: str, amount: int, now: str, ttl_epoch: int) -> Transaction:
    """Uncount ``amount`` (> 0) a hold counted and did not spend: no condition, it only lowers the spend."""
    return Transaction().update(MEMBER_CAP, S(*keys.member_spend(org_id, sub, period)),
                                _spend_actions(org_id, sub, period, -amount, now, ttl_epoch))
