"""The one table, as PynamoDB declares it: the base model, its key attributes and indexes.

Every item type is a subclass of :class:`TableItem` (one per domain, in that domain's
``models.py``), told apart by the ``entity`` discriminator. Key *values* are built in
``tollgate.keys``; this module only names the attributes that hold them.
``template.yaml`` declares the same table; a template-tier test keeps the two in agreement
(:func:`schema` is what the models declare).
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import DiscriminatorAttribute, UnicodeAttribute
from pynamodb.connection.base import MetaTable
from pynamodb.constants import (
    ATTR_DEFINITIONS,
    GLOBAL_SECONDARY_INDEXES,
    INDEX_NAME,
    KEY_SCHEMA,
    LOCAL_SECONDARY_INDEXES,
    TABLE_NAME,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, LocalSecondaryIndex
from pynamodb.models import Model

from tollgate.data.connection import SharedTable

TTL_ATTRIBUTE = "ttl_epoch"  # items with it (reservations, webhook records, rate counters) expire
STREAM_VIEW = "NEW_AND_OLD_IMAGES"  # balance_after is stamped from old and new wallet images


class LSI1(LocalSecondaryIndex):  # type: ignore[type-arg]
    """A wallet's history, newest first, strongly consistent: ``PK`` + ``<created_at>#<tx>``."""

    class Meta:
        index_name = "LSI1"
        projection = AllProjection()

    pk = UnicodeAttribute(attr_name="PK", hash_key=True)
    lsi1sk = UnicodeAttribute(attr_name="LSI1SK", range_key=True)


class GSI1(GlobalSecondaryIndex):  # type: ignore[type-arg]
    """Sparse, overloaded: open holds by expiry (sharded), API keys, a wallet's purchases."""

    class Meta:
        index_name = "GSI1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(attr_name="GSI1PK", hash_key=True)
    gsi1sk = UnicodeAttribute(attr_name="GSI1SK", range_key=True)


class GSI2(GlobalSecondaryIndex):  # type: ignore[type-arg]
    """Sparse: every purchase, newest first (admins)."""

    class Meta:
        index_name = "GSI2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(attr_name="GSI2PK", hash_key=True)
    gsi2sk = UnicodeAttribute(attr_name="GSI2SK", range_key=True)


INDEXES: tuple[type[LSI1 | GSI1 | GSI2], ...] = (LSI1, GSI1, GSI2)


def _meta_table() -> MetaTable:
    # Built from the index classes, not from whichever models this function imported, so
    # every query finds its index's keys whatever was loaded.
    indexes = [ix._get_schema() for ix in INDEXES]

    def listed(local: bool) -> list[dict[str, Any]]:
        return [{INDEX_NAME: s["index_name"], KEY_SCHEMA: s["key_schema"]} for ix, s in zip(INDEXES, indexes, strict=True)
                if issubclass(ix, LocalSecondaryIndex) == local]

    definitions = {"PK": "S", "SK": "S"}
    for s in indexes:
        definitions.update({d["AttributeName"]: d["AttributeType"] for d in s["attribute_definitions"]})
    return MetaTable({
        TABLE_NAME: "tollgate",
        KEY_SCHEMA: [{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        ATTR_DEFINITIONS: [{"AttributeName": n, "AttributeType": t} for n, t in definitions.items()],
        LOCAL_SECONDARY_INDEXES: listed(True),
        GLOBAL_SECONDARY_INDEXES: listed(False),
    })


_TABLE = SharedTable(_meta_table())


class _Meta(type):
    @property
    def table_name(cls) -> str:
        return _TABLE.table_name


class TableItem(Model):
    """Base of every item type: the table's key and the ``entity`` discriminator."""

    class Meta(metaclass=_Meta):
        pass

    pk = UnicodeAttribute(attr_name="PK", hash_key=True)
    sk = UnicodeAttribute(attr_name="SK", range_key=True)
    entity = DiscriminatorAttribute()

    @classmethod
    def _get_connection(cls) -> SharedTable:  # one shared client, not one per model class
        return _TABLE


def schema() -> dict[str, Any]:
    """The table as the registered models declare it (keys, attribute types, indexes, TTL, stream)."""
    declared = TableItem._get_schema()
    attributes = {d["AttributeName"]: d["AttributeType"] for d in declared["attribute_definitions"]}
    indexes: dict[str, dict[str, Any]] = {}
    for kind in ("local_secondary_indexes", "global_secondary_indexes"):
        for index in declared[kind]:
            indexes[index["index_name"]] = {
                "local": kind.startswith("local"),
                "key_schema": [(k["AttributeName"], k["KeyType"]) for k in index["key_schema"]],
                "projection": index["projection"]["ProjectionType"],
            }
    discriminator = TableItem._get_discriminator_attribute()
    for model in discriminator.get_registered_subclasses(TableItem) if discriminator else ():
        for index in model._indexes.values():
            for definition in index._get_schema()["attribute_definitions"]:
                attributes[definition["AttributeName"]] = definition["AttributeType"]
    return {
        "key_schema": [(k["AttributeName"], k["KeyType"]) for k in declared["key_schema"]],
        "attributes": attributes,
        "indexes": indexes,
        "ttl_attribute": TTL_ATTRIBUTE,
        "stream_view": STREAM_VIEW,
    }
