"""The one table, as PynamoDB declares it: the base model, its key attributes and indexes.

Every item type is a subclass of :class:`TableItem` (one per domain, in that domain's
``models.py``), told apart by the ``entity`` discriminator. Key *values* are built in
``tollgate.keys``; this module only names the attributes that hold them.
``template.yaml`` declares the same table; a template-tier test keeps the two in agreement
(:func:`schema` is what the models declare).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from pynamodb.attributes import Attribute, DiscriminatorAttribute, MapAttribute, UnicodeAttribute
from pynamodb.connection.base import MetaTable
from pynamodb.constants import (
    ATTR_DEFINITIONS,
    GLOBAL_SECONDARY_INDEXES,
    INDEX_NAME,
    KEY_SCHEMA,
    LOCAL_SECONDARY_INDEXES,
    NULL,
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

    # PynamoDB sets and reads every attribute through its descriptor, a few µs per attribute
    # per item: these three do what PynamoDB's do, on ``attribute_values`` directly, from a
    # plan worked out once per model. ``tests/unit/test_table_item.py`` holds them equal to
    # PynamoDB's own for every model (the ledger's hot path builds and reads items through them).

    def _set_defaults(self, _user_instantiated: bool = True) -> None:
        values = self.attribute_values
        for name, default in _plan(type(self)).defaults[_user_instantiated]:
            values[name] = default() if callable(default) else default

    def _set_attributes(self, **attributes: Any) -> None:
        plan = _plan(type(self))
        values = self.attribute_values
        for name, value in attributes.items():
            if name not in plan.names:
                raise ValueError(f"Attribute {name} specified does not exist")
            if name == plan.discriminator:
                setattr(self, name, value)  # its descriptor checks the value against the class
            else:
                values[name] = value

    @classmethod
    def _instantiate(cls: type[_I], attribute_values: dict[str, dict[str, Any]]) -> _I:
        stored = cls._get_discriminator_class(attribute_values)
        if stored and not issubclass(stored, cls):
            raise ValueError(f"Cannot instantiate a {cls.__name__} from the returned class: {stored.__name__}")
        target = stored or cls
        plan = _plan(target)
        values: dict[str, Any] = {}
        if plan.tagged:
            values[plan.discriminator] = target
        for name, default in plan.defaults[False]:
            values[name] = default() if callable(default) else default
        for attr_name, name, attr in plan.readers:
            raw = attribute_values.get(attr_name)
            if raw and NULL not in raw:
                values[name] = attr.deserialize(attr.get_value(raw))
        if plan.tagged and values[plan.discriminator] is not target:
            raise ValueError(f"The discriminator attribute must be set to the instance type: {target}")
        instance = target.__new__(target)
        instance.attribute_values = values
        return instance


_I = TypeVar("_I", bound=TableItem)


@dataclass(frozen=True)
class _Plan:
    names: frozenset[str]
    discriminator: str | None
    tagged: bool  # the model has a discriminator value of its own
    defaults: dict[bool, list[tuple[str, Any]]]  # by _user_instantiated
    readers: list[tuple[str, str, Attribute[Any]]]  # (stored name, python name, attribute)


_PLANS: dict[type[TableItem], _Plan] = {}


def _plan(model: type[TableItem]) -> _Plan:
    plan = _PLANS.get(model)
    if plan is None:
        attributes = model.get_attributes()
        if any(isinstance(attr, MapAttribute) for attr in attributes.values()):
            # A typed MapAttribute's descriptor does more than store the value.
            raise TypeError(f"{model.__name__}: declare maps as ExactMapAttribute, not MapAttribute")
        discriminator = model._get_discriminator_attribute()
        plan = _PLANS[model] = _Plan(
            names=frozenset(attributes),
            discriminator=model._discriminator,
            tagged=bool(discriminator and discriminator.get_discriminator(model) is not None),
            defaults={user: [(name, value) for name, attr in attributes.items()
                             if (value := attr.default_for_new if user and attr.default_for_new is not None
                                 else attr.default) is not None]
                      for user in (True, False)},
            readers=[(attr.attr_name, name, attr) for name, attr in attributes.items()],
        )
    return plan

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
