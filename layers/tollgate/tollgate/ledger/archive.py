"""The ledger archive: entries older than ``LEDGER_ARCHIVE_DAYS`` (default 400), moved to S3.

A wallet's entries live in one partition with a local secondary index (its history), which caps
one wallet's item collection at 10 GB. The archiver (``tollgate.ledger.archiver``) moves the
oldest entries out, a page at a time: it writes the page to S3, then in one transaction deletes
those entries and adds their total and count to the wallet's :class:`LedgerArchiveItem`. So at
every instant ``sum(live entries) + archived_total == balance``, which is what reconciliation
checks.

Layout, partitioned by wallet and month (Hive style, so Athena or Glue read it as a table)::

    ledger/wallet=<wallet_id>/month=<yyyy-mm>/<descending key>.jsonl

Each object holds one page's entries of one month, newest first, one per line in DynamoDB's own
JSON (``{"Item": {"amount": {"N": "-9000"}, ...}}``, the format of DynamoDB's export to S3), so
every number comes back exact. An object's name is its newest entry's history key with every
byte inverted (hex), so S3's ascending listing of a month is newest first, as history reads it.
The name depends only on the entries, so writing a page again (a run retried after the write
but before the transaction) writes the same object.

Every entry ever archived is older than every entry still in the table (the archiver takes the
oldest first), so a wallet's history reads the table, then the archive, newest first.
"""

from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from tollgate import keys
from tollgate.data import get_or_none
from tollgate.ledger.models import LedgerArchiveItem, LedgerEntryItem

ROOT = "ledger"
CONTENT_TYPE = "application/x-ndjson"


def bucket() -> str:
    name = os.environ.get("LEDGER_ARCHIVE_BUCKET")
    if not name:
        raise RuntimeError("LEDGER_ARCHIVE_BUCKET is not set")
    return name


class ArchiveStore(ABC):
    """Where archived pages are kept: objects by key, listed in key order."""

    @abstractmethod
    def put(self, key: str, body: bytes) -> None: ...

    @abstractmethod
    def get(self, key: str) -> bytes: ...

    @abstractmethod
    def keys_after(self, prefix: str, start_after: str | None, limit: int) -> list[str]:
        """Up to ``limit`` keys under ``prefix`` that sort after ``start_after``, in order."""


class S3ArchiveStore(ArchiveStore):
    """The template's ``LedgerArchiveBucket`` (encrypted, private, TLS only)."""

    def put(self, key: str, body: bytes) -> None:
        from tollgate.data import s3

        s3.client().put_object(Bucket=bucket(), Key=key, Body=body, ContentType=CONTENT_TYPE,
                               ServerSideEncryption="AES256")

    def get(self, key: str) -> bytes:
        from tollgate.data import s3

        return bytes(s3.client().get_object(Bucket=bucket(), Key=key)["Body"].read())

    def keys_after(self, prefix: str, start_after: str | None, limit: int) -> list[str]:
        from tollgate.data import s3

        params = {"Bucket": bucket(), "Prefix": prefix, "MaxKeys": limit}
        if start_after:
            params["StartAfter"] = start_after
        return [o["Key"] for o in s3.client().list_objects_v2(**params).get("Contents", [])]


_store: ArchiveStore = S3ArchiveStore()


def store() -> ArchiveStore:
    return _store


def wallet_prefix(wallet_id: str) -> str:
    return f"{ROOT}/wallet={wallet_id}/"


def month_prefix(wallet_id: str, month: str) -> str:
    return f"{wallet_prefix(wallet_id)}month={month}/"


def _descending(text: str) -> str:
    # Each byte inverted, then a terminator that sorts after every inverted byte: "ab" comes after
    # "abc" here, as it comes before it in the history index.
    return "".join(f"{255 - b:02x}" for b in text.encode()) + "ff"


def object_key(wallet_id: str, month: str, newest: LedgerEntryItem) -> str:
    return f"{month_prefix(wallet_id, month)}{_descending(newest.lsi1sk)}.jsonl"


def encode(entries_newest_first: Iterable[LedgerEntryItem]) -> bytes:
    lines = (json.dumps({"Item": e.serialize()}, sort_keys=True, separators=(",", ":"))
             for e in entries_newest_first)
    return ("\n".join(lines) + "\n").encode()


def decode(body: bytes) -> list[LedgerEntryItem]:
    return [LedgerEntryItem.from_raw_data(json.loads(line)["Item"]) for line in body.decode().splitlines() if line]


def totals(wallet_id: str) -> LedgerArchiveItem | None:
    """What of the wallet is archived (None: nothing yet). One strongly consistent GetItem."""
    return get_or_none(LedgerArchiveItem, *keys.ledger_archive(wallet_id))


def archived(wallet_id: str) -> tuple[int, int]:
    """The total and the count of the wallet's archived entries ((0, 0): none)."""
    row = totals(wallet_id)
    return (row.archived_total, row.archived_count) if row is not None else (0, 0)


@dataclass(frozen=True)
class Position:
    """Where a newest-first read of the archive goes on: the object, and the line in it."""

    object_key: str
    line: int


_KEYS_PER_LIST = 100


def read_newest_first(wallet_id: str, months: Iterable[str], start: Position | None,
                      ) -> Iterator[tuple[LedgerEntryItem, Position]]:
    """The archived entries, newest first, from ``start`` (None: the newest), each with the
    position of the entry after it. ``months``: the wallet's archived months, any order."""
    ordered = sorted(set(months), reverse=True)
    if start is not None:
        month = start.object_key[len(wallet_prefix(wallet_id)) + len("month="):][:7]
        ordered = [m for m in ordered if m <= month]
    for month in ordered:
        prefix = month_prefix(wallet_id, month)
        resume = start if start is not None and start.object_key.startswith(prefix) else None
        after = None
        if resume is not None:
            yield from _read_object(resume.object_key, resume.line)
            after = resume.object_key
        while True:
            found = store().keys_after(prefix, after, _KEYS_PER_LIST)
            for key in found:
                yield from _read_object(key, 0)
            if len(found) < _KEYS_PER_LIST:
                break
            after = found[-1]


def _read_object(key: str, first_line: int) -> Iterator[tuple[LedgerEntryItem, Position]]:
    entries = decode(store().get(key))
    for i in range(first_line, len(entries)):
        yield entries[i], Position(key, i + 1)


__all__ = [
    "ArchiveStore",
    "Position",
    "S3ArchiveStore",
    "archived",
    "bucket",
    "decode",
    "encode",
    "month_prefix",
    "object_key",
    "read_newest_first",
    "store",
    "totals",
    "wallet_prefix",
]
