"""Updates and puts whose expressions PynamoDB serializes once, for the hottest writes (a debit).

Serializing an update (operand objects, placeholders, the condition) costs PynamoDB about as
much Python time per call as the rest of a debit's request handling, and the expression's
shape never changes: only its values do. A :class:`PreparedUpdate` has PynamoDB serialize the
update once, with a distinct sample value per parameter, notes which value placeholders hold
which parameter, and on each use copies that request with the call's key and values.

Only parameters used as they are (``W.balance - amount``, not ``W.balance - (a - b)``) can be
traced back, and only numbers (``int``) and strings; :meth:`PreparedUpdate.__init__` refuses
anything else, so a mistake fails at import. ``tests/unit/test_prepared.py`` holds the copies
equal to a fresh serialization.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from pynamodb.attributes import ListAttribute, MapAttribute
from pynamodb.constants import ALL_OLD, ITEM, TABLE_NAME
from pynamodb.exceptions import AttributeNullError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from tollgate.data.connection import table_name
from tollgate.data.table import TableItem

Build = Callable[..., tuple[list[Action], Condition | None]]

_SAMPLE_KEY = ("\x00prepared-pk", "\x00prepared-sk")
_CONTAINERS = (ListAttribute, MapAttribute)


def _sample(index: int, kind: type) -> Any:
    # Values no real call or constant in an expression uses, so each placeholder is traced to one parameter.
    if kind is int:
        return 7_919_000_000_000_000 + index
    if kind is str:
        return f"\x00prepared-parameter-{index}"
    raise TypeError(f"a prepared parameter is an int or a str, not {kind.__name__}")


def _serialized(kind: type, value: Any) -> dict[str, str]:
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"expected an int, got {type(value).__name__}")
        return {"N": str(value)}
    if not isinstance(value, str):
        raise TypeError(f"expected a str, got {type(value).__name__}")
    return {"S": value}


class PreparedUpdate:
    """``update(model keyed by (pk, sk), *build(*params), return_values=ALL_OLD)``, serialized once."""

    def __init__(self, model: type[Model], build: Build, kinds: tuple[type, ...]) -> None:
        self.kinds = kinds
        self.model = model
        self.build = build
        self._key_names = (model._hash_key_attribute().attr_name, model._range_key_attribute().attr_name)
        samples = [_sample(i, kind) for i, kind in enumerate(kinds)]
        self._template = self._fresh(*_SAMPLE_KEY, *samples)
        # Which placeholder holds which parameter: found by its sample value.
        values = self._template.get("ExpressionAttributeValues", {})
        self._slots: list[tuple[str, int]] = []
        for placeholder, value in values.items():
            for i, kind in enumerate(kinds):
                if value == _serialized(kind, samples[i]):
                    self._slots.append((placeholder, i))
        traced = {i for _, i in self._slots}
        if traced != set(range(len(kinds))):
            missing = sorted(set(range(len(kinds))) - traced)
            raise ValueError(f"parameters {missing} are not used as they are in the update's expressions")

    def _fresh(self, pk: str, sk: str, *params: Any) -> dict[str, Any]:
        """The update as PynamoDB serializes it for these values (what each use must equal)."""
        actions, condition = self.build(*params)
        tw = TransactWrite(connection=TableItem._get_connection().connection)
        tw.update(self.model(pk, sk), actions, condition=condition, return_values=ALL_OLD)
        return tw._update_items[0]

    def request(self, pk: str, sk: str, *params: Any) -> dict[str, Any]:
        """The ``Update`` of one ``TransactItems`` entry for this key and these values."""
        if len(params) != len(self.kinds):
            raise TypeError(f"expected {len(self.kinds)} parameters, got {len(params)}")
        request = copy.copy(self._template)
        request["TableName"] = table_name()
        hash_name, range_name = self._key_names
        request["Key"] = {hash_name: {"S": pk}, range_name: {"S": sk}}
        values = dict(self._template.get("ExpressionAttributeValues", {}))
        for placeholder, i in self._slots:
            values[placeholder] = _serialized(self.kinds[i], params[i])
        request["ExpressionAttributeValues"] = values
        return request



class PreparedPut:
    """``put(item, condition, return_values=ALL_OLD)`` for one model and a condition fixed at
    declaration (e.g. ``pk.does_not_exist()``): the condition is serialized once, and each
    item from its stored values without PynamoDB's per-attribute descriptor calls, each
    attribute's own ``serialize`` doing the work as in PynamoDB. ``tests/unit/test_prepared.py``
    holds each request equal to ``TransactWrite.save``'s.
    """

    def __init__(self, model: type[Model], condition: Condition | None) -> None:
        self.model = model
        attributes = model.get_attributes()
        self._attributes = [(name, attr, attr.attr_name, attr.attr_type, isinstance(attr, _CONTAINERS))
                            for name, attr in attributes.items()]
        self._required = [(name, attr.attr_name) for name, attr in attributes.items() if not attr.null]
        # PynamoDB's own serialization of the fixed part: everything but the table and the item.
        fixed = TableItem._get_connection().connection.get_operation_kwargs(
            table_name(), _SAMPLE_KEY[0], range_key=_SAMPLE_KEY[1], key=ITEM, condition=condition,
            return_values_on_condition_failure=ALL_OLD)
        self._template = {k: v for k, v in fixed.items() if k not in (TABLE_NAME, ITEM)}

    def item(self, item: Model) -> dict[str, Any]:
        """``item`` as PynamoDB serializes it (``null_check=True``)."""
        if type(item) is not self.model:
            raise TypeError(f"expected a {self.model.__name__}, got {type(item).__name__}")
        values = item.attribute_values
        serialized: dict[str, Any] = {}
        for name, attr, attr_name, attr_type, container in self._attributes:
            value = values.get(name)
            if value is None:
                continue
            out = attr.serialize(value, null_check=True) if container else attr.serialize(value)
            if out is not None:
                serialized[attr_name] = {attr_type: out}
        for name, attr_name in self._required:
            if attr_name not in serialized:
                raise AttributeNullError(name)
        return serialized

    def request(self, item: Model) -> dict[str, Any]:
        """The ``Put`` of one ``TransactItems`` entry for ``item``."""
        return {TABLE_NAME: table_name(), ITEM: self.item(item), **self._template}
