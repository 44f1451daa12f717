"""The reconciliation job: every wallet and developer changed since the last run, checked.

**What it reads.** The ledger stream consumer adds each wallet whose grant book it writes to the
set of the minute (``changed.mark_request``, in the same transaction as the books), and each wallet
changed without a balance change (a hold, its release, a rebalance) on its own once per batch; every
logged change of a developer's earnings marks the developer in its transaction
(``earnings.repository.put_log``); a run reads those sets, never the table at large. The
checkpoint (``RECON#RUN`` / ``LAST``) holds the last UTC day checked completely: a run reads every
day after it up to today (the first run: yesterday and today; never more than
``changed.RETENTION_DAYS`` back, the sets' lifetime). Today is never complete, so the next run reads
it again; a past day read to its end moves the checkpoint. The checkpoint is written only when the
run ends (a run that crashes moved nothing and is done again).

**What it checks**, per wallet (a consistent snapshot: the wallet read before and after its entries
must be the same version, else it is read again, up to ``ATTEMPTS`` times):
``ledger_sum`` the entries, with the archived entries' total (``tollgate.ledger.archive``), sum to
the balance (``expected`` that sum, ``actual`` the balance);
``holds_sum`` the open holds sum to ``reserved``; ``available`` is ``balance - reserved`` and not
negative; ``grants_sum`` the grant book's remaining credits sum to the balance (the wallet's, when the
book has caught up with it; otherwise the balance the book was last attributed at). Per developer:
``earnings`` ``earned == pending + available + in_payout + paid``, and the earnings log sums to each
of those (the balance read before and after the log at the same ``seq``). And, first, every refund
and payout that reached a terminal state since the last run, against what its workflow recorded
(``refund``, ``payout``) and against its gateway's own record, asked through the adapters
(``refund_gateway``, ``payout_gateway``): ``gateway_checks``, which keeps its own cursor and watch
list (those are not wallets' or developers' changes). A gateway that does not answer leaves its
refunds and payouts for the next run (``gateway_deferred``), never a finding.

**Findings** are recorded once per discrepancy (kind, subject, expected, actual): a fingerprint
item put with the finding, conditioned on not existing, so the same discrepancy seen by a later run
(or by a run done again) records nothing new; the run still counts it, and the metric
``ReconciliationFindings`` is the number a run saw (0 when clean), emitted once per run.

**Bounds.** A run checks at most ``max_subjects`` refunds, payouts, wallets and developers (in that
order) and stops once its time budget is spent; it then keeps its place (the gateway cursor and
watch list; ``resume_day``, ``resume_after``) and reports ``complete: false``; the next run goes on
from there (a day that was still today when the place was noted is read again from its start once
it is over, so nothing marked later is missed).
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

from tollgate import clock, cursors, ids, keys
from tollgate.data import across_partitions
from tollgate.days import day_range
from tollgate.earnings import repository as earnings
from tollgate.grants import repository as grants
from tollgate.grants.attribution import Book
from tollgate.ledger import archive
from tollgate.ledger import repository as ledger
from tollgate.ledger.models import WalletItem
from tollgate.ledger.wallets import WalletState
from tollgate.principal import Principal
from tollgate.reconciliation import changed, gateway_checks, repository
from tollgate.reconciliation.exceptions import RunNotFound
from tollgate.reconciliation.findings import Finding
from tollgate.reconciliation.models import ReconFindingItem, ReconRunItem
from tollgate.reconciliation.schemas import FindingOut, FindingPage, RunOut
from tollgate.shards import repository as shard_items
from tollgate.shards import service as shards

ATTEMPTS = 3  # snapshots of one subject before it is left for the next run (changing all the while)
SCHEDULED_MAX_SUBJECTS = 20_000
MANUAL_MAX_SUBJECTS = 1_000
MANUAL_BUDGET_MS = 20_000  # under API Gateway's 30 s
BALANCE_FIELDS = ("earned", "pending", "available", "in_payout", "paid")
_WALLET, _DEVELOPER = "w", "d"
_KEY_NAMES = ("PK", "SK")
MAX_QUERIES = 24


# -- the checks -------------------------------------------------------------------------------

def _wallet_version(item: WalletItem | None) -> Any:
    if item is None:
        return None
    return (item.seq, item.last_tx, item.updated_at, item.balance, item.reserved, item.available)


def _version(wallet_id: str) -> tuple[Any, tuple[int, int], WalletItem | None, WalletState]:
    """What must not change while the entries are read: the wallet (a sharded one's shards summed)
    and the archive's totals."""
    item = ledger.get_wallet(wallet_id)
    state = shards.read(item, wallet_id)
    return (_wallet_version(item), state.balance, state.available), archive.archived(wallet_id), item, state


def check_wallet(wallet_id: str) -> list[Finding] | None:
    """The wallet's discrepancies (empty: it reconciles); None if it kept changing while read."""
    for _ in range(ATTEMPTS):
        before = _version(wallet_id)
        amounts = list(ledger.iter_entry_amounts(wallet_id))
        after = _version(wallet_id)
        # The archiver moves entries without touching the wallet: its totals are part of the version.
        if before[0] == after[0] and before[1] == after[1]:
            break
    else:
        return None
    _, (archived_total, archived_count), wallet_item, state = after
    if wallet_item is None and not amounts and not archived_count:
        return []
    found = []
    ledger_sum = sum(amounts) + archived_total
    if ledger_sum != state.balance:
        found.append(Finding("ledger_sum", ledger_sum, state.balance, wallet_id=wallet_id,
                             detail=f"{len(amounts)} entries" + (f" and {archived_count} archived"
                                                                 if archived_count else "")))
    holds_sum = sum(amount for amount, _ in state.holds.values())
    if holds_sum != state.reserved:
        found.append(Finding("holds_sum", holds_sum, state.reserved, wallet_id=wallet_id,
                             detail=f"{len(state.holds)} holds"))
    if state.available != state.balance - state.reserved or state.available < 0:
        found.append(Finding("available", max(0, state.balance - state.reserved), state.available,
                             wallet_id=wallet_id, detail="balance - reserved, never negative"))
    book = grants.get_book(wallet_id)
    if book is not None:
        caught_up, balance = _book_current(book, wallet_item, state)
        expected = balance if caught_up else book.balance
        if book.net() != expected:
            found.append(Finding("grants_sum", expected, book.net(), wallet_id=wallet_id,
                                 detail="the balance" if caught_up else "the balance at the book's last change"))
    return found


def _book_current(book: Book, wallet_item: WalletItem | None, state: WalletState) -> tuple[bool, int]:
    """Whether the grant book has applied every change of the wallet, and its balance then. A sharded
    wallet's book follows every shard: they are read again at one instant (``TransactGetItems``)."""
    if wallet_item is None:
        return False, state.balance
    if book.chains is None:
        return book.last_tx == wallet_item.last_tx, state.balance
    current = shard_items.snapshot(wallet_item.wallet_id, shard_items.items_of(wallet_item))
    return book.caught_up(current), sum(s.balance for s in current)


def check_developer(developer_id: str) -> list[Finding] | None:
    """The developer's earnings discrepancies; None if the balance kept changing while read."""
    for _ in range(ATTEMPTS):
        before = earnings.get_balance(developer_id)
        logs = earnings.logs(developer_id)
        after = earnings.get_balance(developer_id)
        if (before is None) == (after is None) and (after is None or before.seq == after.seq):  # type: ignore[union-attr]
            break
    else:
        return None
    if after is None:
        return []
    balance = {name: getattr(after, name) or 0 for name in BALANCE_FIELDS}
    found = []
    parts = balance["pending"] + balance["available"] + balance["in_payout"] + balance["paid"]
    if balance["earned"] != parts:
        found.append(Finding("earnings", balance["earned"], parts, developer_id=developer_id,
                             detail="pending + available + in_payout + paid against earned"))
    logged = dict.fromkeys(BALANCE_FIELDS, 0)
    for log in logs:
        for name, delta in (log.deltas or {}).items():
            if name in logged:
                logged[name] += int(delta)
    for name in BALANCE_FIELDS:
        if logged[name] != balance[name]:
            found.append(Finding("earnings", logged[name], balance[name], developer_id=developer_id,
                                 detail=f"{name} against the earnings log"))
    return found


# -- the run ----------------------------------------------------------------------------------

def _day(ms: int) -> str:
    return clock.iso(ms)[:10]


def _next(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def _days(first: str, last: str) -> list[str]:
    days, day = [], first
    while day <= last:
        days.append(day)
        day = _next(day)
    return days


def _subjects(day: str) -> list[str]:
    """A day's changed developers and wallets, in the order a run checks them (``d:<id>``, ``w:<id>``)."""
    wallets, developers = repository.changed(day)
    return sorted([f"{_DEVELOPER}:{d}" for d in developers] + [f"{_WALLET}:{w}" for w in wallets])


def _record(run: ReconRunItem, finding: Finding, now_ms: int) -> bool:
    at = clock.iso(now_ms)
    return repository.record_finding(
        finding.fingerprint(), finding_id=ids.derived_id("fnd", finding.fingerprint()), at=at, run_id=run.run_id,
        kind=finding.kind, wallet_id=finding.wallet_id, developer_id=finding.developer_id,
        expected=finding.expected, actual=finding.actual, detail=finding.detail)


def run(source: str, *, max_subjects: int, budget_ms: int) -> RunOut:
    """Check every refund and payout that reached a terminal state since the last run, then every
    wallet and developer changed since the checkpoint: up to ``max_subjects`` of them all and
    ``budget_ms`` of wall time."""
    started = time.monotonic()
    now_ms = clock.now_ms()
    today = _day(now_ms)
    oldest = _day(now_ms - changed.RETENTION_DAYS * 86_400_000)
    checkpoint = repository.get_checkpoint()
    last_day = checkpoint.last_day if checkpoint is not None else None
    first = _next(last_day) if last_day else _day(now_ms - 86_400_000)
    first = max(first, oldest)
    resume_day = resume_after = None
    if checkpoint is not None and checkpoint.resume_day and checkpoint.resume_after:
        # A place noted while its day was still today is good only while it still is: once the day is
        # over its set may have grown below the place, so the day is read again from its start.
        noted_on = checkpoint.resume_noted_on or checkpoint.resume_day
        if checkpoint.resume_day >= first and (noted_on > checkpoint.resume_day or checkpoint.resume_day == today):
            resume_day, resume_after = checkpoint.resume_day, checkpoint.resume_after
    run_item = repository.new_run(run_id=ids.random_id("rec"), source=source, status="running", complete=False,
                                  days={}, started_at=clock.iso(now_ms), checkpoint=last_day)
    repository.save_run(run_item)

    def out_of_budget() -> bool:
        checked = (run_item.wallets_checked + run_item.developers_checked + run_item.refunds_checked
                   + run_item.payouts_checked)
        return checked >= max_subjects or (time.monotonic() - started) * 1000 >= budget_ms

    def note(finding: Finding) -> None:
        run_item.findings += 1
        if _record(run_item, finding, clock.now_ms()):
            run_item.new_findings += 1

    # First: few, and each of them money that moved (or did not) at a gateway.
    settled = gateway_checks.Phase(run_item, now_ms=now_ms, out_of_budget=out_of_budget, found=note)()
    days: dict[str, int] = {}
    stopped: tuple[str, str] | None = None  # (day, last subject checked) where the bound stopped the run
    for day in _days(first, today):
        subjects = _subjects(day)
        if day == resume_day and resume_after is not None:
            subjects = [s for s in subjects if s > resume_after]
        days[day] = 0
        last_checked = resume_after if day == resume_day else None
        for subject in subjects:
            if out_of_budget():
                stopped = (day, last_checked or "")
                break
            kind, _, subject_id = subject.partition(":")
            found = check_wallet(subject_id) if kind == _WALLET else check_developer(subject_id)
            if kind == _WALLET:
                run_item.wallets_checked += 1
            else:
                run_item.developers_checked += 1
            days[day] += 1
            last_checked = subject
            for finding in found or ():
                note(finding)
        if stopped is not None:
            break
        if day < today:
            last_day = day
    finished = clock.now_ms()
    noted = None if stopped is None else stopped
    repository.save_checkpoint(last_day=last_day, resume_day=noted[0] if noted else None,
                               resume_after=noted[1] if noted and noted[1] else None,
                               resume_noted_on=today if noted else None, run_id=run_item.run_id,
                               updated_at=clock.iso(finished))
    run_item.days = days
    run_item.complete = stopped is None and settled
    run_item.status = "completed" if run_item.complete else "partial"
    run_item.checkpoint = last_day
    run_item.finished_at = clock.iso(finished)
    repository.save_run(run_item)
    return run_view(run_item)


def run_view(item: ReconRunItem) -> RunOut:
    return RunOut(run_id=item.run_id, source=item.source, status=item.status, complete=bool(item.complete),
                  days={k: int(v) for k, v in (item.days or {}).items()}, wallets_checked=item.wallets_checked or 0,
                  developers_checked=item.developers_checked or 0, refunds_checked=item.refunds_checked or 0,
                  payouts_checked=item.payouts_checked or 0, gateway_deferred=item.gateway_deferred or 0,
                  findings=item.findings or 0,
                  new_findings=item.new_findings or 0, checkpoint=item.checkpoint, started_at=item.started_at,
                  finished_at=item.finished_at)


def run_now(principal: Principal) -> RunOut:
    """``POST /v1/admin/reconciliation/run``: a run now, bounded to answer within API Gateway's timeout."""
    principal.require_admin()
    return run("manual", max_subjects=MANUAL_MAX_SUBJECTS, budget_ms=MANUAL_BUDGET_MS)


def get_run(principal: Principal, run_id: str) -> RunOut:
    principal.require_admin()
    item = repository.get_run(run_id)
    if item is None:
        raise RunNotFound(f"reconciliation run '{run_id}' not found")
    return run_view(item)


# -- the findings -----------------------------------------------------------------------------

def finding_view(item: ReconFindingItem) -> FindingOut:
    return FindingOut(finding_id=item.finding_id, at=item.at, run_id=item.run_id, kind=item.kind,
                      wallet_id=item.wallet_id, developer_id=item.developer_id, expected_mc=item.expected,
                      actual_mc=item.actual, detail=item.detail)


def _key(item: ReconFindingItem) -> dict[str, Any]:
    return {"PK": {"S": item.pk}, "SK": {"S": item.sk}}


def list_findings(principal: Principal, *, date_from: str | None, date_to: str | None, limit: int,
                  cursor: str | None) -> FindingPage:
    """A page of the findings first seen in the range (UTC days, default the last 30), newest first:
    Queries of one month's partition at a time, at most ``MAX_QUERIES`` a page."""
    principal.require_admin()
    span = day_range(date_from, date_to)
    first, last = span.first, span.last
    low, high = f"{first.isoformat()}T", f"{last.isoformat()}T~"
    months = clock.periods_back(first, last)
    scope = cursors.scope("reconciliation-findings", date_from, date_to)
    start = None
    if cursor is not None:
        start = cursors.decode(cursor, scope, _KEY_NAMES, lambda k: low <= k["SK"] <= high
                               and k["PK"] == keys.recon_finding_pk(k["SK"][:7]))
        months = [m for m in months if m <= start["SK"]["S"][:7]]
    items, next_key = across_partitions(
        months, start=start, limit=limit, max_queries=MAX_QUERIES, key_of=_key,
        fetch=lambda period, want, after: repository.findings_page(period, low, high, limit=want, start=after))
    return _page(items, next_key, scope)


def _page(items: list[ReconFindingItem], next_key: dict[str, Any] | None, scope: str) -> FindingPage:
    return FindingPage(data=[finding_view(i) for i in items],
                       next_cursor=cursors.encode(next_key, scope) if next_key else None)


__all__ = ["ATTEMPTS", "MANUAL_BUDGET_MS", "MANUAL_MAX_SUBJECTS", "SCHEDULED_MAX_SUBJECTS", "Finding",
           "check_developer", "check_wallet", "get_run", "list_findings", "run", "run_now", "run_view"]
