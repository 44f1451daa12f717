"""Reconciliation storage: the changed-subject sets (read), the checkpoint, runs and findings."""

from __future__ import annotations

from typing import Any

from tollgate import keys
from tollgate.data import Transaction, TransactionCancelled, first_page, get_or_none
from tollgate.reconciliation.models import (
    ReconChangedItem,
    ReconCheckpointItem,
    ReconFindingItem,
    ReconFindingKeyItem,
    ReconRunItem,
)

F = ReconFindingItem
FINDING_KEY = "reconciliation:finding_key"
FINDING = "reconciliation:finding"


def changed(day: str) -> tuple[set[str], set[str]]:
    """The wallets and developers marked changed on ``day``: one Query per shard (more only past 1 MB)."""
    wallets: set[str] = set()
    developers: set[str] = set()
    for shard in range(keys.RECON_SHARDS):
        for item in ReconChangedItem.query(keys.recon_changed_pk(day, shard), consistent_read=True):
            target = wallets if item.sk.startswith(keys.RECON_WALLETS) else developers
            target.update(item.subjects or ())
    return wallets, developers


def get_checkpoint() -> ReconCheckpointItem | None:
    return get_or_none(ReconCheckpointItem, *keys.recon_checkpoint())


def save_checkpoint(**fields: Any) -> None:
    ReconCheckpointItem(*keys.recon_checkpoint(), **fields).save()


def save_run(run: ReconRunItem) -> None:
    run.save()


def new_run(**fields: Any) -> ReconRunItem:
    return ReconRunItem(*keys.recon_run(fields["run_id"]), **fields)


def get_run(run_id: str) -> ReconRunItem | None:
    return get_or_none(ReconRunItem, *keys.recon_run(run_id))


def record_finding(fingerprint: str, **fields: Any) -> bool:
    """Put a finding and its fingerprint in one transaction; False (nothing written) if the
    fingerprint is there already: the same discrepancy was recorded before."""
    tx = Transaction()
    tx.put(FINDING_KEY, ReconFindingKeyItem(*keys.recon_finding_key(fingerprint), finding_id=fields["finding_id"],
                                            at=fields["at"]), ReconFindingKeyItem.pk.does_not_exist())
    tx.put(FINDING, ReconFindingItem(*keys.recon_finding(fields["at"], fields["finding_id"]), **fields),
           ReconFindingItem.pk.does_not_exist())
    try:
        tx.commit()
    except TransactionCancelled as exc:
        if exc.failed(FINDING_KEY):
            return False
        raise
    return True


def findings_page(period: str, low: str, high: str, *, limit: int, start: dict[str, Any] | None
                  ) -> tuple[list[ReconFindingItem], dict[str, Any] | None]:
    """One Query of a month's findings with ``low <= SK <= high``, newest first."""
    results = F.query(keys.recon_finding_pk(period), F.sk.between(low, high), scan_index_forward=False,
                      page_size=limit, last_evaluated_key=start, consistent_read=True)
    return first_page(results, ReconFindingItem)


__all__ = ["changed", "findings_page", "get_checkpoint", "get_run", "new_run", "record_finding", "save_checkpoint",
           "save_run"]
