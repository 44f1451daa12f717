"""LedgerStreamFunction: the table's stream consumer.

Stamps each ledger entry's ``balance_after`` from the wallet item's stream: every
balance-changing wallet update records its transaction id in ``last_tx``, and the stream
delivers each update's new balance in commit order. One write per entry, off the
request path. In the same pass it attributes each change to the wallet's grants (the same
write stamps what the entry moved on which grant, and lists the entry in the day index), counts
it into the analytics aggregates, and writes each wallet's grant book once per batch, in one
transaction with the aggregates' increments (``tollgate.grants.stream``).

It also tells the platform what happened: each record's events (``tollgate.events.derive``; the
filter passes status changes of purchases, refunds, payouts and expired holds too) go to the
outbox once the batch's books are written (``tollgate.events.outbox``). If that fails the batch is
delivered again; the books skip what they hold and the outbox what it sent. A change crossing a
wallet's auto top-up threshold queues a top-up (``tollgate.autotopup.requests``), once per crossing.
A sharded wallet's crossings are its shards' sum's, checked once per batch
(``tollgate.shards.crossings``); its grant book follows every shard's chain, applied at the batch's
end (``tollgate.grants.sharded``).
"""

from __future__ import annotations

from tollgate import coldstart

coldstart.begin()  # the init phase runs without the cyclic GC (tollgate/coldstart.py)

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from tollgate import clock, keys
from tollgate.autotopup import requests as top_ups
from tollgate.events import derive, outbox
from tollgate.grants.stream import StreamBatch
from tollgate.ledger import posting
from tollgate.reconciliation import changed
from tollgate.shards import crossings as sharded

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
batch = StreamBatch()  # the grant books of the batch being processed
events: list[derive.Event] = []  # what the batch's records tell the platform
crossings: list[tuple[str, int | str]] = []  # wallets whose available crossed below their auto top-up threshold
sharded_wallets: set[str] = set()  # sharded wallets whose available changed: their sums are checked at the end


def _entry_type(wallet_id: str, transaction_id: str) -> str | None:
    """The entry's type: as the batch read it to attribute it (a replayed change reads it here)."""
    entry = (batch.entries[transaction_id] if transaction_id in batch.entries
             else posting.get_entry(wallet_id, transaction_id))
    return entry.type if entry is not None else None


def _changed_at(record: dict) -> str:
    """When the change was made, as the stream says (the same on every delivery of the record)."""
    seconds = (record.get("dynamodb") or {}).get("ApproximateCreationDateTime")
    return clock.iso(int(float(seconds) * 1000)) if seconds is not None else clock.iso(clock.now_ms())


def record_handler(record: DynamoDBRecord) -> None:
    outcome = batch.apply(record.raw_event)
    events.extend(derive.derive(record.raw_event, _entry_type, received_at=_changed_at(record.raw_event)))
    crossings.extend(derive.top_up_crossings(record.raw_event))
    sharded.note(record.raw_event, sharded_wallets)
    if outcome.stamped:
        metrics.add_metric(name="BalanceAfterStamped", unit=MetricUnit.Count, value=1)
    if outcome.attributed:
        metrics.add_metric(name="GrantsAttributed", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    global batch, events, crossings, sharded_wallets
    batch, events, crossings, sharded_wallets = StreamBatch(), [], [], set()
    try:
        response = process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                            context=context)
    finally:
        # One write per wallet whose book changed; if one fails the whole batch is delivered again
        # (replays up to where each book is).
        batch.flush()
        if batch.aggregate_writes:
            metrics.add_metric(name="AggregateWrites", unit=MetricUnit.Count, value=batch.aggregate_writes)
        if batch.sharded_attributed:  # sharded wallets' changes, attributed at the batch's end
            metrics.add_metric(name="GrantsAttributed", unit=MetricUnit.Count, value=batch.sharded_attributed)
        if batch.resynchronised:  # changes lost from the stream: worth an alarm
            metrics.add_metric(name="GrantBooksResynchronised", unit=MetricUnit.Count, value=batch.resynchronised)
    # A sharded wallet's crossings are its shards' sum's: read once per batch (tollgate.shards.crossings).
    found = sharded.check(sharded_wallets)
    # For the reconciliation job and the archiver: wallets whose holds (or a sharded wallet's rebalances)
    # changed without a balance change, unless the batch wrote their book, which carries the mark.
    changed.mark(keys.RECON_WALLETS, (sharded_wallets | batch.unbooked) - batch.marked, clock.now_ms())
    sent = outbox.publish([*events, *found.events])  # after the books: a failure here has the whole batch delivered again
    if sent:
        metrics.add_metric(name="EventsPublished", unit=MetricUnit.Count, value=sent)
    queued = top_ups.request([*crossings, *found.top_ups])
    if queued:
        metrics.add_metric(name="AutoTopUpsQueued", unit=MetricUnit.Count, value=queued)
    sharded.announced(found)
    return response


coldstart.end()
