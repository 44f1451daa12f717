"""Keys of wallets, ledger entries, sharded wallets, the archive, grant books, locators and holds."""

from __future__ import annotations

import hashlib

from tollgate.keys.common import ENTRY_PREFIX, HOLD_SHARDS, RESERVATION_SK, WALLET_SK, Key


def wallet_pk(wallet_id: str) -> str:
    return f"WALLET#{wallet_id}"


def wallet(wallet_id: str) -> Key:
    return wallet_pk(wallet_id), WALLET_SK


def entry_sk(transaction_id: str) -> str:
    return f"{ENTRY_PREFIX}{transaction_id}"


def entry(wallet_id: str, transaction_id: str) -> Key:
    return wallet_pk(wallet_id), entry_sk(transaction_id)


# -- sharded wallets (tollgate.shards) ----------------------------------------------------------

SHARD_SK = "SHARD"
SHARDED_SK = "SHARDED"
CROSSINGS_SK = "CROSSINGS"
SHARDED_LSI1SK = "~"  # after every entry's created_at#tx: a history query newest first meets it first
ENTRY_SLOTS = 32  # a sharded wallet's debit entries are spread over this many partitions, for its life
MAX_SHARDS = 64


def wallet_shard(wallet_id: str, shard: int) -> Key:
    """Shard ``shard`` of a sharded wallet: 0 is the wallet item itself."""
    return wallet(wallet_id) if shard == 0 else (f"{wallet_pk(wallet_id)}#S{shard}", SHARD_SK)


def wallet_sharded(wallet_id: str) -> Key:
    return wallet_pk(wallet_id), SHARDED_SK


def wallet_crossings(wallet_id: str) -> Key:
    """Which side of its thresholds a sharded wallet was last seen on (``tollgate.shards.crossings``)."""
    return wallet_pk(wallet_id), CROSSINGS_SK


def entry_slot(transaction_id: str) -> int:
    """The slot of a sharded wallet's debit entry: from its id alone, so a replay finds it whatever
    the wallet's shard count is by then."""
    return hashlib.sha256(transaction_id.encode()).digest()[0] % ENTRY_SLOTS


def slot_pk(wallet_id: str, slot: int) -> str:
    return f"{wallet_pk(wallet_id)}#E{slot}"


def slotted_entry(wallet_id: str, transaction_id: str) -> Key:
    return slot_pk(wallet_id, entry_slot(transaction_id)), entry_sk(transaction_id)


def home_shard(transaction_id: str, shards: int) -> int:
    """The shard a debit tries first (another if it cannot pay)."""
    return int.from_bytes(hashlib.sha256(transaction_id.encode()).digest()[1:3], "big") % shards


def entry_lsi1sk(created_at: str, transaction_id: str) -> str:
    return f"{created_at}#{transaction_id}"


def ledger_archive(wallet_id: str) -> Key:
    """What of a wallet's ledger is archived (``tollgate.ledger.archive``): in its partition, outside
    the ``TX#`` entries and the ``WALLET...`` view."""
    return wallet_pk(wallet_id), "ARCHIVE"


# The archive totals' row in the history index (LSI1): before every entry (entries' keys start with a
# year), so a history read that reaches the wallet's oldest entry finds it in the same query.
ARCHIVE_HISTORY_SK = "0"


def ledger_archive_checkpoint() -> Key:
    return "ARCHIVE#RUN", "LAST"


# Beside the wallet and sorted with it (``WALLET``, ``WALLET#...``): a wallet view is one Query.
GRANTS_SK = "WALLET#GRANTS"
GRANT_EXPIRY_SHARDS = 16


def grant_book(wallet_id: str) -> Key:
    """Which grants a wallet's credits belong to (one item per wallet, beside the wallet)."""
    return wallet_pk(wallet_id), GRANTS_SK


def grant_expiry_gsi2pk(wallet_id: str) -> str:
    """The expiring-grants index partition a wallet's grant book is listed in (sharded)."""
    shard = hashlib.sha256(wallet_id.encode()).digest()[0] % GRANT_EXPIRY_SHARDS
    return f"GRANTEXPIRY#{shard}"


def grant_expiry_shards() -> list[str]:
    return [f"GRANTEXPIRY#{n}" for n in range(GRANT_EXPIRY_SHARDS)]


def grant_expiry_gsi2sk(expires_at: str, wallet_id: str) -> str:
    """``<next expiry (ISO)>#<wallet>``: the books due by an instant sort before ``iso(instant + 1 ms)``."""
    return f"{expires_at}#{wallet_id}"


WALLET_LOCATOR_SK = "WALLETLOC"


def wallet_locator(locator: str) -> Key:
    """The wallets behind a locator (``ids.locator``): how a located transaction id finds its wallet."""
    return f"WALLETLOC#{locator}", WALLET_LOCATOR_SK


def reservation(reservation_id: str) -> Key:
    return f"RES#{reservation_id}", RESERVATION_SK


def hold_shard(reservation_id: str) -> str:
    shard = hashlib.sha256(reservation_id.encode()).digest()[0] % HOLD_SHARDS
    return f"HOLDS#{shard}"


def hold_shards() -> list[str]:
    return [f"HOLDS#{n}" for n in range(HOLD_SHARDS)]
