from __future__ import annotations

from tollgate.errors import TollgateError


class ShardCountInvalid(TollgateError):
    status = 422
    code = "invalid_shard_count"


__all__ = ["ShardCountInvalid"]
