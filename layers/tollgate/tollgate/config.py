"""Settings read from the environment (set by template.yaml Globals and per function)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Settings:
    roles_claim: str
    catalog_cache_seconds: int
    max_open_holds: int
    default_hold_ttl_seconds: int
    max_body_bytes: int

    @property
    def table_name(self) -> str:
        return table_name()


DEFAULT_TABLE_NAME = "tollgate"
_VARIABLES = ("ROLES_CLAIM", "CATALOG_CACHE_SECONDS", "MAX_OPEN_HOLDS", "DEFAULT_HOLD_TTL_SECONDS",
              "MAX_BODY_BYTES")


def table_name() -> str:
    """The table's name as the environment gives it now: one lookup, as every request makes several."""
    return os.environ.get("TABLE_NAME") or DEFAULT_TABLE_NAME


DEFAULT_LEDGER_ARCHIVE_DAYS = 400


def ledger_archive_days() -> int:
    """Days a ledger entry stays in the table before the archiver moves it to S3 (``LEDGER_ARCHIVE_DAYS``)."""
    value = os.environ.get("LEDGER_ARCHIVE_DAYS")
    days = int(value) if value and value.strip().isdigit() else DEFAULT_LEDGER_ARCHIVE_DAYS
    return max(days, 1)


def settings() -> Settings:
    """The settings for the environment as it is now (parsed once per distinct environment)."""
    return _parse(tuple(os.environ.get(name) for name in _VARIABLES))


@lru_cache(maxsize=8)
def _parse(values: tuple[str | None, ...]) -> Settings:
    env = dict(zip(_VARIABLES, values, strict=True))
    return Settings(
        roles_claim=env["ROLES_CLAIM"] or "roles",
        catalog_cache_seconds=int(env["CATALOG_CACHE_SECONDS"] or "30"),
        max_open_holds=int(env["MAX_OPEN_HOLDS"] or "100"),
        default_hold_ttl_seconds=int(env["DEFAULT_HOLD_TTL_SECONDS"] or "300"),
        max_body_bytes=int(env["MAX_BODY_BYTES"] or "16384"),
    )


# Kept for callers that reset configuration explicitly (tests, the local stack).
settings.cache_clear = _parse.cache_clear  # type: ignore[attr-defined]
