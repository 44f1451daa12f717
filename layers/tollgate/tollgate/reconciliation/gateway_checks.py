"""Refunds and payouts that reached a terminal state, against their workflow's record and their
gateway's own record (a phase of each reconciliation run, ``service.run``).

**Which ones.** Every refund and payout once, when it reaches a terminal state (refund
``succeeded`` / ``failed`` / ``rejected``; payout ``paid`` / ``failed`` / ``reversed``), and a
``paid`` payout again if it is ``reversed`` within ``REVERSAL_WATCH_DAYS``. The wallets' and
developers' changed sets cannot say when that happens (marking a refund succeeded writes no
ledger entry, and a payout's moves between earnings fields mark nothing), so the job keeps its
own place instead of scanning:

* the **cursor** (``RECON#RUN`` / ``GATEWAYS``): how far it has read the refunds and the payouts
  created, in ``GSI2`` (``REFUNDS`` / ``PAYOUTS``, sorted by ``<created_at>#<id>``); a run reads
  those created after it (the first run: since yesterday) up to ``CURSOR_LAG_MS`` before the run
  (an index is eventually consistent: one made just before may show a moment later, so the last
  minutes are left to the next run) and moves it to where it stopped: each is read once;
* the **watch list** (``RECON#WATCH`` / ``<refund|payout>#<id>``, one Query): every one read
  that was not yet terminal, or whose gateway could not be asked, and every ``paid`` payout checked
  (watched for a reversal until ``REVERSAL_WATCH_DAYS`` after). A run reads the list first, reads
  the refunds and payouts on it (BatchGetItem, strongly consistent) and checks those that became
  terminal since; it drops what needs no more looking at.

**What is compared.** The workflow's record (kinds ``refund``, ``payout``; ``expected`` the
credits, ``actual`` 0, ``detail`` what is missing): a ``succeeded`` refund was sent
(``gateway_attempted``), has its ``mark_refunded`` step and a succeeded answer from the gateway
(``gateway_status`` or the webhook's ``confirmation``), a ``failed`` one its ``compensate`` step;
a ``paid`` payout was sent (``transfer_attempted``) and has its ``mark_paid`` step, a ``failed``
one its ``compensate`` step, a ``reversed`` one its ``reversal`` step. Then the gateway's own record
(kinds ``refund_gateway``, ``payout_gateway``), fetched through the adapters' read-only look-ups
(``get_refund`` by the gateway refund id; ``get_transfer`` by the transfer id, else the payout's
reference): its status, amount and currency, and whose it is (Stripe's ``tollgate_refund_id``; the
transfer's id and reference). ``expected``: the minor units that moved as Tollgate recorded it (a
``succeeded`` refund's or ``paid`` payout's amount, else 0); ``actual``: as the gateway reports it
(its amount when it succeeded, else 0); ``detail``: what differs, with the currency. A terminal
record that should have a gateway id and has none, and a gateway that does not know the id, are
findings too. A refund or payout that never reached its gateway (rejected; failed before it was
sent) has nothing there to compare.

**A gateway that does not answer** (unreachable, a timeout, 429, a 5xx, or not configured) is not
a finding: the refund or payout stays on the watch list for the next run, and the run counts it
(``gateway_deferred``). After one such failure the gateway is not asked again in the same run (its
calls would each wait out their timeouts). Any other refusal defers that one alone.

**Cost per run**: 1 GetItem (the cursor), 1 Query per MB of the watch list (about 150 bytes an
entry) and 1 BatchGetItem per 100 entries; GSI2 Queries (1 per MB) of the refunds and payouts
created since the last run (each read once); per refund or payout that became
terminal, 1 GetItem (strongly consistent, if read from the index) and one gateway ``GET``
(Stripe ``/v1/refunds/{id}``, ``/v1/transfers/{id}``; Paystack ``/refund/{id}``,
``/transfer/verify/{reference}``), and a PutItem or DeleteItem on the watch list. The run's bounds
(subjects and time) count these checks with the wallets and developers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger

from tollgate import clock
from tollgate.gateways import GatewayError, GatewayNotConfigured, get_gateway, get_payout_gateway
from tollgate.payouts.models import PayoutItem
from tollgate.reconciliation import repository
from tollgate.reconciliation.findings import Finding
from tollgate.reconciliation.models import ReconRunItem, ReconWatchItem
from tollgate.reconciliation.repository import PAYOUT, REFUND
from tollgate.refunds.models import RefundItem

logger = Logger(child=True)

T = TypeVar("T")

TERMINAL = {REFUND: ("succeeded", "failed", "rejected"), PAYOUT: ("paid", "failed", "reversed")}
CURSOR_LAG_MS = 15 * 60_000  # far beyond GSI2's replication lag (and the writers' clock skew)
REVERSAL_WATCH_DAYS = 30  # a paid payout reversed later than this is not looked at again
_DAY_MS = 86_400_000
_NOTHING_MOVED = ("failed", "reversed")  # a transfer status that leaves the money where it was
_PAYOUT_STEPS = {"paid": "mark_paid", "failed": "compensate", "reversed": "reversal"}


class Deferred(Exception):
    """The gateway could not be asked: the refund or payout is left for the next run."""


class Gateways:
    """The gateways as one run asks them, by name as the workflows pick them. One that could not be
    reached (or is not configured) is not asked again in this run."""

    def __init__(self) -> None:
        self.down: dict[str, str] = {}

    def ask(self, name: str, call: Callable[[], T]) -> T:
        if name in self.down:
            raise Deferred(self.down[name])
        try:
            return call()
        except GatewayNotConfigured as exc:
            self.down[name] = exc.message
            raise Deferred(exc.message) from None
        except GatewayError as exc:
            if exc.transient:
                self.down[name] = exc.message
            # The messages are the adapters' own: short, keys redacted.
            logger.warning("gateway look-up deferred", extra={"gateway": name, "error": exc.message,
                                                              "transient": exc.transient})
            raise Deferred(exc.message) from None


def _step_ok(steps: dict[str, Any] | None, name: str) -> bool:
    return ((steps or {}).get(name) or {}).get("status") == "succeeded"


def _missing(subject: str, problems: list[str]) -> str:
    return f"{subject}: " + ", ".join(problems)


# -- one refund -------------------------------------------------------------------------------

def refund_findings(refund: RefundItem, gateways: Gateways) -> list[Finding]:
    """A terminal refund against its workflow's record and its gateway's (Deferred: ask again later)."""
    if refund.status == "rejected":
        return []  # decided before anything was taken or sent
    subject = f"refund {refund.refund_id} {refund.status}"
    gateway_record: list[Finding] = []
    moved_here = refund.amount if refund.status == "succeeded" else 0
    if refund.gateway_refund_id:
        gateway_record = _compare_refund(refund, subject, moved_here, gateways)
    elif refund.status == "succeeded":
        gateway_record = [Finding("refund_gateway", moved_here, 0, wallet_id=refund.wallet_id,
                                  detail=f"{subject}: no gateway refund id recorded ({refund.amount} {refund.currency})")]
    # else: failed before the gateway made one (refused, or never sent): nothing there to look up
    problems = []
    if refund.status == "succeeded":
        if not refund.gateway_attempted:
            problems.append("the gateway was never called")
        if not _step_ok(refund.steps, "mark_refunded"):
            problems.append("no mark_refunded step")
        if "succeeded" not in (refund.gateway_status, refund.confirmation):
            problems.append(f"the gateway's answer recorded is {refund.gateway_status or 'none'}")
    elif not _step_ok(refund.steps, "compensate"):
        problems.append("no compensate step")
    record = [Finding("refund", refund.credits_mc, 0, wallet_id=refund.wallet_id, detail=_missing(subject, problems))
              ] if problems else []
    return record + gateway_record


def _compare_refund(refund: RefundItem, subject: str, moved_here: int, gateways: Gateways) -> list[Finding]:
    gateway_id = str(refund.gateway_refund_id)
    try:
        gateway = get_gateway(refund.gateway)
    except KeyError:
        return [Finding("refund_gateway", moved_here, 0, wallet_id=refund.wallet_id,
                        detail=f"{subject}: no gateway named {refund.gateway!r}")]
    found = gateways.ask(refund.gateway, lambda: gateway.get_refund(gateway_id))
    here = f"{refund.amount} {refund.currency}"
    if found is None:
        return [Finding("refund_gateway", moved_here, 0, wallet_id=refund.wallet_id,
                        detail=f"{subject}: {refund.gateway} does not know refund {gateway_id} ({here})")]
    problems = []
    wanted = "succeeded" if refund.status == "succeeded" else "failed"
    if found.status != wanted:
        problems.append(f"{refund.gateway} reports refund {gateway_id} {found.status}")
    problems += _money_differs(refund.gateway, found.amount, found.currency, refund.amount, refund.currency)
    if found.tollgate_refund_id and found.tollgate_refund_id != refund.refund_id:
        problems.append(f"{refund.gateway} made it for refund {found.tollgate_refund_id}")
    if not problems:
        return []
    moved_there = found.amount if found.status == "succeeded" else 0
    return [Finding("refund_gateway", moved_here, moved_there, wallet_id=refund.wallet_id,
                    detail=f"{subject} ({here}): " + ", ".join(problems))]


def _money_differs(gateway: str, amount: int | None, currency: str | None, ours: int, our_currency: str) -> list[str]:
    """What of the gateway's amount and currency differs from ours (a currency it does not report: none)."""
    problems = [f"{gateway}'s amount is {amount}"] if amount != ours else []
    if currency and currency != our_currency.upper():
        problems.append(f"{gateway}'s currency is {currency}")
    return problems


# -- one payout -------------------------------------------------------------------------------

def payout_findings(payout: PayoutItem, gateways: Gateways) -> list[Finding]:
    """A terminal payout against its workflow's record and its gateway's (Deferred: ask again later)."""
    subject = f"payout {payout.payout_id} {payout.status}"
    step = _PAYOUT_STEPS[payout.status]
    problems = [] if _step_ok(payout.steps, step) else [f"no {step} step"]
    if payout.status == "paid" and not payout.transfer_attempted:
        problems.append("the transfer was never sent")
    gateway_record: list[Finding] = []
    if payout.transfer_attempted or payout.transfer_id or payout.status != "failed":
        gateway_record = _compare_payout(payout, subject, gateways)
    # else: failed before a transfer was sent: nothing there to look up
    record = [Finding("payout", payout.credits_mc, 0, developer_id=payout.developer_id,
                      detail=_missing(subject, problems))] if problems else []
    return record + gateway_record


def _compare_payout(payout: PayoutItem, subject: str, gateways: Gateways) -> list[Finding]:
    moved_here = payout.amount if payout.status == "paid" else 0
    here = f"{payout.amount} {payout.currency}"
    try:
        gateway = get_payout_gateway(payout.gateway)
    except KeyError:
        return [Finding("payout_gateway", moved_here, 0, developer_id=payout.developer_id,
                        detail=f"{subject}: no gateway named {payout.gateway!r}")]
    found = gateways.ask(payout.gateway, lambda: gateway.get_transfer(payout.payout_id, payout.transfer_id))
    problems = []
    if not payout.transfer_id and payout.status != "failed":
        problems.append("no transfer id recorded")
    moved_there = 0
    if found is None:
        if payout.status != "failed":  # a failed payout's transfer may never have been made
            problems.append(f"{payout.gateway} has no transfer "
                            + (payout.transfer_id or f"under reference {payout.reference}"))
    else:
        moved_there = found.amount if found.status == "succeeded" else 0
        fine = found.status == "succeeded" if payout.status == "paid" else found.status in _NOTHING_MOVED
        if not fine:
            problems.append(f"{payout.gateway} reports transfer {found.transfer_id} {found.status}")
        problems += _money_differs(payout.gateway, found.amount, found.currency, payout.amount, payout.currency)
        if payout.transfer_id and found.transfer_id != payout.transfer_id:
            problems.append(f"{payout.gateway}'s transfer for it is {found.transfer_id}")
        if found.reference != payout.reference:
            problems.append(f"the transfer's reference is {found.reference!r}")
    if not problems:
        return []
    return [Finding("payout_gateway", moved_here, moved_there, developer_id=payout.developer_id,
                    detail=f"{subject} ({here}): " + ", ".join(problems))]


# -- the phase --------------------------------------------------------------------------------

class Phase:
    """One run's pass over the watch list, then over the refunds and payouts created since the
    cursor. ``out_of_budget`` is the run's bound; ``found`` records one finding for the run."""

    def __init__(self, run: ReconRunItem, *, now_ms: int, out_of_budget: Callable[[], bool],
                 found: Callable[[Finding], None]) -> None:
        self.run = run
        self.now_ms = now_ms
        self.now = clock.iso(now_ms)
        self.out_of_budget = out_of_budget
        self.found = found
        self.gateways = Gateways()

    def __call__(self) -> bool:
        """Check what reached a terminal state since the last run; True if all of it was looked at."""
        cursor = repository.get_gateway_cursor()
        watching = repository.watched()
        complete = self._watched(watching)
        seen = {(w.kind, w.item_id) for w in watching}
        first = clock.iso(self.now_ms - _DAY_MS)[:10]  # the first run: since yesterday, as for the subjects
        afters = {REFUND: (cursor.refunds_after if cursor else None) or first,
                  PAYOUT: (cursor.payouts_after if cursor else None) or first}
        for kind in (REFUND, PAYOUT):
            if not complete:
                break  # the cursor stays: the next run reads on from it
            afters[kind], complete = self._created(kind, afters[kind], seen)
        repository.save_gateway_cursor(refunds_after=afters[REFUND], payouts_after=afters[PAYOUT],
                                       run_id=self.run.run_id, updated_at=self.now)
        if self.gateways.down:
            logger.warning("gateways not answering: their refunds and payouts are left for the next run",
                           extra={"gateways": self.gateways.down})
        return complete

    def _watched(self, watching: list[ReconWatchItem]) -> bool:
        for kind in (REFUND, PAYOUT):
            entries = [w for w in watching if w.kind == kind]
            now = repository.current(kind, (w.item_id for w in entries))
            for entry in entries:
                item = now.get(entry.item_id)
                if item is None:
                    repository.unwatch(kind, entry.item_id)
                    continue
                if not self._consider(kind, item, entry):
                    return False
        return True

    def _created(self, kind: str, after: str, seen: set[tuple[str, str]]) -> tuple[str, bool]:
        """Read on from ``after`` up to ``CURSOR_LAG_MS`` ago; where to read from next time, and
        whether it read that far."""
        upto = clock.iso(self.now_ms - CURSOR_LAG_MS)
        last = None
        for listed in repository.created_after(kind, after):
            if listed.gsi2sk > upto:
                break  # too recent to be sure the index shows all of its time: the next run's
            item_id = _item_id(listed)
            if (kind, item_id) not in seen:  # watched: looked at already in this run
                item: RefundItem | PayoutItem | None = listed
                if listed.status in TERMINAL[kind]:
                    item = repository.current(kind, [item_id]).get(item_id)  # the index may lag behind
                if item is not None and not self._consider(kind, item, None):
                    return (last or after), False
            last = listed.gsi2sk
        return max(after, upto), True

    def _consider(self, kind: str, item: RefundItem | PayoutItem, entry: ReconWatchItem | None) -> bool:
        """Check ``item`` if it reached a terminal state not yet checked; keep the watch list right.
        False (nothing done) when the run's bound is reached."""
        item_id = _item_id(item)
        if item.status not in TERMINAL[kind]:
            if entry is None:
                repository.watch(kind, item_id, since=self.now)
            return True
        if entry is not None and entry.handled == item.status:  # a paid payout, checked already
            if entry.until and self.now >= entry.until:
                repository.unwatch(kind, item_id)
            return True
        if self.out_of_budget():
            return False
        try:
            findings = refund_findings(item, self.gateways) if isinstance(item, RefundItem) \
                else payout_findings(item, self.gateways)
        except Deferred:
            self.run.gateway_deferred += 1
            if entry is None:
                repository.watch(kind, item_id, since=self.now)
            return True
        if isinstance(item, RefundItem):
            self.run.refunds_checked += 1
        else:
            self.run.payouts_checked += 1
        for finding in findings:
            self.found(finding)
        if kind == PAYOUT and item.status == "paid":
            # Reversed later, it is terminal again: watched for that while a reversal is likely.
            repository.watch(kind, item_id, since=entry.since if entry else self.now, handled="paid",
                             until=clock.iso(self.now_ms + REVERSAL_WATCH_DAYS * _DAY_MS))
        elif entry is not None:
            repository.unwatch(kind, item_id)
        return True


def _item_id(item: RefundItem | PayoutItem) -> str:
    return item.refund_id if isinstance(item, RefundItem) else item.payout_id


__all__ = ["CURSOR_LAG_MS", "REVERSAL_WATCH_DAYS", "TERMINAL", "Deferred", "Gateways", "Phase", "payout_findings",
           "refund_findings"]
