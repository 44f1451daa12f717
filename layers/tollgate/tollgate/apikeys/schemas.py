from __future__ import annotations

from pydantic import Field

from tollgate.schemas import RequestModel, Schema


class ApiKeyIn(RequestModel):
    name: str = Field(min_length=1, max_length=100)


class ApiKeyCreated(Schema):
    key_id: str
    key: str = Field(description="The secret key. Shown once; only its hash is stored.")
    name: str
    created_at: str


class ApiKeyOut(Schema):
    key_id: str
    name: str
    prefix: str
    created_at: str
    created_by: str
    revoked_at: str | None = None
    active: bool


class ApiKeyList(Schema):
    data: list[ApiKeyOut]
