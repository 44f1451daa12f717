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


class ReconGatewayCursorItem(TableItem, discriminator="recon_gateway_cursor"):
    """``RECON#RUN`` / ``GATEWAYS``: how far the job has read the refunds and the payouts created
    (``GSI2SK`` of the last one read, or a time: every one created after it is still to read)."""

    refunds_after = UnicodeAttribute(null=True)
    payouts_after = UnicodeAttribute(null=True)
    run_id = UnicodeAttribute(null=True)  # the run that wrote it
    updated_at = UnicodeAttribute(null=True)


class ReconWatchItem(TableItem, discriminator="recon_watch"):
    """``RECON#WATCH`` / ``<refund|payout>#<id>``: a refund or payout the job must look at again: not
    yet in a terminal state, or in one its gateway could not be asked about (``handled`` unset), or a
    ``paid`` payout checked already (``handled``), watched for a reversal until ``until``. Deleted
    once there is nothing left to look at."""

    kind = UnicodeAttribute()  # refund | payout
    item_id = UnicodeAttribute()
    handled = UnicodeAttribute(null=True)  # the terminal status already checked against the gateway
    until = UnicodeAttribute(null=True)
    since = UnicodeAttribute()  # when it was first watched


class ReconRunItem(TableItem, discriminator="recon_run"):
    """``RECONRUN#<run_id>`` / ``RUN``: one run of the job and what it checked and found."""

    run_id = UnicodeAttribute()
    source = UnicodeAttribute()  # schedule | manual
    status = UnicodeAttribute()  # running | completed | partial
    complete = BooleanAttribute(default=False)
    days = ExactMapAttribute(default=dict)  # day -> subjects checked that day
    wallets_checked = IntegerAttribute(default=0)
    developers_checked = IntegerAttribute(default=0)
    refunds_checked = IntegerAttribute(default=0)  # against their gateway's record
    payouts_checked = IntegerAttribute(default=0)
    gateway_deferred = IntegerAttribute(default=0)  # gateway not answering: left for the next run
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
    # ledger_sum | holds_sum | available | grants_sum | earnings | payout | refund | payout_gateway | refund_gateway
    kind = UnicodeAttribute()
    wallet_id = UnicodeAttribute(null=True)
    developer_id = UnicodeAttribute(null=True)
    expected = IntegerAttribute()  # millicredits; the *_gateway kinds: minor units of the money moved
    actual = IntegerAttribute()
    detail = UnicodeAttribute(null=True)


class ReconFindingKeyItem(TableItem, discriminator="recon_finding_key"):
    """``RECONFINDINGKEY#<fingerprint>`` / ``KEY``: a finding's identity, put with it, once."""

    finding_id = UnicodeAttribute()
    at = UnicodeAttribute()


__all__ = ["ReconChangedItem", "ReconCheckpointItem", "ReconFindingItem", "ReconFindingKeyItem", "ReconGatewayCursorItem",
           "ReconRunItem", "ReconWatchItem"]
