"""Queueing auto top-ups: the ledger stream's crossings, one message each, for AutoTopUpFunction.

A message names the wallet and the change (its ``seq``) that crossed the threshold (a sharded
wallet: its crossing's number, ``crossing``); the same
crossing queued twice (a redelivered stream batch) is one charge (``service.top_up``).
``AUTO_TOP_UP_QUEUE_URL`` comes from the template; unset (tests of other domains), nothing is sent.
A refused message raises ``QueueRefused``: the stream batch is delivered again.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from tollgate.data.services import send_messages


def request(crossings: Iterable[tuple[str, int | str]]) -> int:
    """Queue a top-up per (wallet_id, crossing); how many were queued. A crossing is the ``seq`` of
    the wallet change that crossed, or a sharded wallet's crossing (``sharded-<n>``,
    ``tollgate.shards.crossings``)."""
    queue = os.environ.get("AUTO_TOP_UP_QUEUE_URL")
    messages = [{"wallet_id": wallet_id, "seq": crossing} if isinstance(crossing, int)
                else {"wallet_id": wallet_id, "crossing": crossing} for wallet_id, crossing in dict.fromkeys(crossings)]
    if not queue or not messages:
        return 0
    send_messages(queue, messages)
    return len(messages)
