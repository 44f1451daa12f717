"""Settings read from the environment (set by template.yaml Globals and per function)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Settings:
    table_name: str
    roles_claim: str
    catalog_cache_seconds: int
    max_open_holds: int
    default_hold_ttl_seconds: int
    max_body_bytes: int


@lru_cache(maxsize=1)
def settings() -> Settings:
    env = os.environ
    return Settings(
        table_name=env.get("TABLE_NAME", "tollgate"),
        roles_claim=env.get("ROLES_CLAIM", "roles"),
        catalog_cache_seconds=int(env.get("CATALOG_CACHE_SECONDS", "30")),
        max_open_holds=int(env.get("MAX_OPEN_HOLDS", "100")),
        default_hold_ttl_seconds=int(env.get("DEFAULT_HOLD_TTL_SECONDS", "300")),
        max_body_bytes=int(env.get("MAX_BODY_BYTES", "16384")),
    )
