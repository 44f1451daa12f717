"""Reconciliation items: changed-subject sets, the checkpoint, runs, findings and their fingerprints."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute, UnicodeSetAttribute

from tollgate.data import ExactMapAttribute, IntegerAttribute, TableItem


class ReconChangedItem(TableItem, discriminator="recon_changed"):
    """``RECON#<day>#<shard>`` / ``WALLETS#<hhmm>`` or ``DEVS#<hhmm>``: the wallets (or developers) the
    stream consumers changed in that UTC minute, added with the change (``changed.mark_request``);
    expires ``changed.RETENTION_DAYS`` + 1 days on."""

    subjects = UnicodeSetAttribute(null=True)
    ttl_epoch = IntegerAttribute()


class ReconCheckpointItem(TableItem, discriminator="recon_checkpoint"):
    """``RECON#RUN`` / ``LAST``: the last UTC day checked completely, and where a run cut short by
    its bound stopped (``resume_day``, ``resume_after``: the last subject checked, ``resume_noted_on``:
    the day it was noted, to know whether the day's set could still grow after it)."""

    last_day = UnicodeAttribute(null=True)
    resume_day = UnicodeAttribute(null=True)
    resume_after = UnicodeAttribute(null=True)
    resume_noted_on = UnicodeAttribute(null=True)
    run_id = UnicodeAttribute(null=True)  # the run that wrote it
    updated_at = UnicodeAttribute(null=True)


class ReconRunItem(TableItem, discriminator="recon_run"):
    """``RECONRUN#<run_id>`` / ``RUN``: one run of the job and what it checked and found."""

    run_id = UnicodeAttribute()
    source = UnicodeAttribute()  # schedule | manual
    status = UnicodeAttribute()  # running | completed | partial
    complete = BooleanAttribute(default=False)
    days = ExactMapAttribute(default=dict)  # day -> subjects checked that day
    wallets_checked = IntegerAttribute(default=0)
    developers_checked = IntegerAttribute(default=0)
    findings = IntegerAttribute(default=0)  # discrepancies seen, recorded before or not
    new_findings = IntegerAttribute(default=0)  # of them, recorded by this run
    checkpoint = UnicodeAttribute(null=True)  # the last day checked completely, after the run
    started_at = UnicodeAttribute()
    finished_at = UnicodeAttribute(null=True)


class ReconFindingItem(TableItem, discriminator="recon_finding"):
    """``RECONFINDING#<yyyy-mm>`` / ``<at>#<finding_id>``: one discrepancy, as first seen. Kept for good."""

    finding_id = UnicodeAttribute()
    at = UnicodeAttribute()
    run_id = UnicodeAttribute()
    kind = UnicodeAttribute()  # ledger_sum | holds_sum | available | grants_sum | earnings | payout | refund
    wallet_id = UnicodeAttribute(null=True)
    developer_id = UnicodeAttribute(null=True)
    expected = IntegerAttribute()  # millicredits
    actual = IntegerAttribute()
    detail = UnicodeAttribute(null=True)


class ReconFindingKeyItem(TableItem, discriminator="recon_finding_key"):
    """``RECONFINDINGKEY#<fingerprint>`` / ``KEY``: a finding's identity, put with it, once."""

    finding_id = UnicodeAttribute()
    at = UnicodeAttribute()


__all__ = ["ReconChangedItem", "ReconCheckpointItem", "ReconFindingItem", "ReconFindingKeyItem", "ReconRunItem"]
