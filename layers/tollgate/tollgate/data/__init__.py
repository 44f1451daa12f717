"""The data layer: PynamoDB models on one table, exact attributes, transactions, one client."""

from __future__ import annotations

from typing import Any, TypeVar

from pynamodb.pagination import ResultIterator

from tollgate.data.attributes import ExactMapAttribute, IntegerAttribute, from_attr, to_attr
from tollgate.data.connection import as_unavailable, client, set_client, table_name
from tollgate.data.exceptions import ConditionFailed, StoreUnavailable, TransactionCancelled
from tollgate.data.paging import across_partitions
from tollgate.data.prepared import PreparedPut, PreparedUpdate
from tollgate.data.table import GSI1, GSI2, LSI1, TTL_ATTRIBUTE, TableItem, schema
from tollgate.data.transactions import Transaction, conditional, get_or_none

M = TypeVar("M", bound=TableItem)


def first_page(results: ResultIterator[M], model: type[M]) -> tuple[list[M], dict[str, Any] | None]:
    """The first page of a query, from exactly one ``Query`` request, and its LastEvaluatedKey."""
    page = next(results.page_iter, None)
    if page is None:
        return [], None
    return [model.from_raw_data(raw) for raw in page.get("Items", [])], page.get("LastEvaluatedKey")


__all__ = [
    "GSI1",
    "GSI2",
    "LSI1",
    "TTL_ATTRIBUTE",
    "ConditionFailed",
    "ExactMapAttribute",
    "IntegerAttribute",
    "PreparedPut",
    "PreparedUpdate",
    "StoreUnavailable",
    "TableItem",
    "Transaction",
    "TransactionCancelled",
    "across_partitions",
    "as_unavailable",
    "client",
    "conditional",
    "first_page",
    "from_attr",
    "get_or_none",
    "schema",
    "set_client",
    "table_name",
    "to_attr",
]
