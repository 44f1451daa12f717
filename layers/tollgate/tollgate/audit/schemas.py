from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from tollgate.principal import WALLET_ID_PATTERN
from tollgate.schemas import SLUG_PATTERN, Schema

AuditAction = Literal["feature.put", "package.put", "settings.put", "tier.put", "wallet_tier.put",
                      "wallet_shards.put", "webhook_endpoint.create", "webhook_endpoint.update",
                      "webhook_endpoint.delete"]
# feature:<id>, package:<id>, tier:<id>, wallet:<wallet_id>, webhook_endpoint:<id>, or settings.
TARGET_PATTERN = (rf"^(settings|(feature|package|tier):{SLUG_PATTERN.strip('^$')}"
                  rf"|wallet:{WALLET_ID_PATTERN.strip('^$')}|webhook_endpoint:[A-Za-z0-9_-]{{1,64}})$")


class AuditRecordOut(Schema):
    audit_id: str
    at: str = Field(description="When the change was made (UTC): the changed item's updated_at")
    actor: str = Field(description="Who made it, as ledger entries name actors: user:<sub>", examples=["user:admin"])
    action: AuditAction
    target: str = Field(description="What was changed: feature:<id>, package:<id>, tier:<id>, webhook_endpoint:<id>, "
                                    "wallet:<wallet_id> (its tier) or settings",
                        examples=["feature:plugin-generate"])
    before: dict[str, Any] | None = Field(description="The item as admins read it before the change; null if it "
                                                      "did not exist")
    after: dict[str, Any] | None = Field(description="The item as admins read it after the change; null if it was "
                                                     "removed (a wallet's subscription ended)")


class AuditPage(Schema):
    data: list[AuditRecordOut] = Field(description="Newest first")
    next_cursor: str | None = None


__all__ = ["TARGET_PATTERN", "AuditAction", "AuditPage", "AuditRecordOut"]
