"""A sharded wallet's layout, as admins set and read it."""

from __future__ import annotations

from pydantic import Field

from tollgate import keys
from tollgate.schemas import CreditsOut, RequestModel, Schema, integer

ShardCount = integer(1, keys.MAX_SHARDS, description="How many shards the wallet's credits are spread over (1: one "
                     "item, as every wallet starts). Each shard takes ~500 debits a second.")


class ShardsIn(RequestModel):
    count: ShardCount


class ShardOut(Schema):
    shard: int
    balance: CreditsOut
    available: CreditsOut


class ShardsOut(Schema):
    wallet_id: str
    count: int = Field(description="The wallet's shard count now")
    balance: CreditsOut = Field(description="The wallet's balance: its shards' sum")
    available: CreditsOut
    shards: list[ShardOut] = Field(description="Each shard as of one instant (shard 0 holds the holds)")
