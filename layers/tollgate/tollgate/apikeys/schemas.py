from __future__ import annotations

from pydantic import BaseModel, Field

from tollgate.schemas import RequestModel


class ApiKeyIn(RequestModel):
    name: str = Field(min_length=1, max_length=100)


class ApiKeyCreated(BaseModel):
    key_id: str
    key: str = Field(description="The secret key. Shown once; only its hash is stored.")
    name: str
    created_at: str


class ApiKeyOut(BaseModel):
    key_id: str
    name: str
    prefix: str
    created_at: str
    created_by: str
    revoked_at: str | None = None
    active: bool


class ApiKeyList(BaseModel):
    data: list[ApiKeyOut]
