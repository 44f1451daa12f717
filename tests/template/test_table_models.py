"""template.yaml's table and the PynamoDB models describe the same table."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tollgate import data
from tollgate.analytics import models as _analytics  # noqa: F401
from tollgate.apikeys import models as _apikeys  # noqa: F401 - every model registers itself
from tollgate.audit import models as _audit  # noqa: F401
from tollgate.earnings import models as _earnings  # noqa: F401
from tollgate.exports import models as _exports  # noqa: F401
from tollgate.grants import models as _grants  # noqa: F401
from tollgate.ledger import models as _ledger  # noqa: F401
from tollgate.orgs import models as _orgs  # noqa: F401
from tollgate.payouts import models as _payouts  # noqa: F401
from tollgate.pricing import models as _pricing  # noqa: F401
from tollgate.purchases import models as _purchases  # noqa: F401
from tollgate.ratelimit import models as _ratelimit  # noqa: F401
from tollgate.reconciliation import models as _reconciliation  # noqa: F401
from tollgate.refunds import models as _refunds  # noqa: F401
from tollgate.reservations import models as _reservations  # noqa: F401
from tollgate.tiers import models as _tiers  # noqa: F401
from tollgate_local import template


def template_table() -> dict[str, Any]:
    return template.load()["Resources"]["TollgateTable"]["Properties"]


def differences(table: dict[str, Any], declared: dict[str, Any]) -> list[str]:
    """What differs between a template table's properties and the models' schema."""
    found = []

    def keys(schema: list[dict[str, str]]) -> list[tuple[str, str]]:
        return sorted((k["AttributeName"], k["KeyType"]) for k in schema)

    if keys(table["KeySchema"]) != sorted(declared["key_schema"]):
        found.append("key schema")
    attributes = {d["AttributeName"]: d["AttributeType"] for d in table["AttributeDefinitions"]}
    if attributes != declared["attributes"]:
        found.append(f"attribute definitions: template {attributes}, models {declared['attributes']}")
    indexes = {}
    for kind, local in (("LocalSecondaryIndexes", True), ("GlobalSecondaryIndexes", False)):
        for index in table.get(kind) or []:
            indexes[index["IndexName"]] = {"local": local, "key_schema": keys(index["KeySchema"]),
                                           "projection": index["Projection"]["ProjectionType"]}
    models = {name: {**ix, "key_schema": sorted(ix["key_schema"])} for name, ix in declared["indexes"].items()}
    if indexes != models:
        found.append(f"indexes: template {indexes}, models {models}")
    ttl = table.get("TimeToLiveSpecification") or {}
    if not ttl.get("Enabled") or ttl.get("AttributeName") != declared["ttl_attribute"]:
        found.append("TTL attribute")
    if (table.get("StreamSpecification") or {}).get("StreamViewType") != declared["stream_view"]:
        found.append("stream view")
    return found


def test_template_and_models_agree():
    assert differences(template_table(), data.schema()) == []


def test_every_index_a_model_queries_is_declared_by_a_model():
    assert set(data.schema()["indexes"]) == {"LSI1", "GSI1", "GSI2"}


def _rename_index(table: dict[str, Any]) -> None:
    table["GlobalSecondaryIndexes"][0]["IndexName"] = "GSI9"


def _projection(table: dict[str, Any]) -> None:
    table["LocalSecondaryIndexes"][0]["Projection"] = {"ProjectionType": "KEYS_ONLY"}


def _attribute_type(table: dict[str, Any]) -> None:
    table["AttributeDefinitions"][-1]["AttributeType"] = "N"


def _key(table: dict[str, Any]) -> None:
    table["KeySchema"][1]["AttributeName"] = "SK2"


def _ttl(table: dict[str, Any]) -> None:
    table["TimeToLiveSpecification"]["AttributeName"] = "expires"


def _stream(table: dict[str, Any]) -> None:
    table["StreamSpecification"]["StreamViewType"] = "NEW_IMAGE"


@pytest.mark.parametrize("change", [_rename_index, _projection, _attribute_type, _key, _ttl, _stream])
def test_a_change_to_the_template_alone_is_caught(change):
    table = copy.deepcopy(template_table())
    change(table)
    assert differences(table, data.schema()) != []


@pytest.mark.parametrize("change", [
    lambda s: s["indexes"].pop("GSI2"),
    lambda s: s["indexes"]["GSI1"].update(projection="KEYS_ONLY"),
    lambda s: s["attributes"].update(LSI2SK="S"),
    lambda s: s.update(ttl_attribute="expires_at"),
])
def test_a_change_to_the_models_alone_is_caught(change):
    declared = copy.deepcopy(data.schema())
    change(declared)
    assert differences(template_table(), declared) != []
