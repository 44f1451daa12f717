"""TableItem builds and reads items on ``attribute_values`` directly (data/table.py): for every
model, the result must equal what PynamoDB's own descriptor-based code produces."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pynamodb.attributes import (
    DiscriminatorAttribute,
    MapAttribute,
)

from tests.unit.items import MODELS, model_and_values, values_for
from tollgate.data.table import TableItem
from tollgate.ledger import models as _ledger

OVERRIDES = ("_set_defaults", "_set_attributes", "_instantiate")


@contextlib.contextmanager
def pynamodb_own() -> Iterator[None]:
    """TableItem without its overrides: PynamoDB's own implementations."""
    saved = {name: TableItem.__dict__[name] for name in OVERRIDES}
    try:
        for name in OVERRIDES:
            delattr(TableItem, name)
        yield
    finally:
        for name, value in saved.items():
            setattr(TableItem, name, value)


def test_every_model_has_a_strategy_and_no_typed_map():
    assert len(MODELS) >= 8
    for model in MODELS:
        for name, attr in model.get_attributes().items():
            assert not isinstance(attr, MapAttribute), (model, name)
            if not isinstance(attr, DiscriminatorAttribute):
                values_for(attr)


@given(model_and_values())
def test_building_an_item_stores_what_pynamodb_stores(case):
    model, values = case
    ours = model(**values)
    with pynamodb_own():
        theirs = model(**values)
    assert ours.attribute_values == theirs.attribute_values
    assert type(ours) is type(theirs) is model


@given(model_and_values(), st.sets(st.text(max_size=8), max_size=2))
def test_reading_an_item_gives_what_pynamodb_gives(case, unknown):
    model, values = case
    raw = model(**values).serialize(null_check=False)
    raw.update({f"zz_{name}": {"S": "ignored"} for name in unknown})  # attributes no model declares
    ours = TableItem.from_raw_data(raw)
    with pynamodb_own():
        theirs = TableItem.from_raw_data(raw)
    assert type(ours) is type(theirs) is model
    assert ours.attribute_values == theirs.attribute_values
    # What was stored reads back unchanged (absent attributes take their defaults, as in PynamoDB).
    again = ours.serialize(null_check=False)
    assert _sets_sorted({k: v for k, v in raw.items() if not k.startswith("zz_")}).items() <= _sets_sorted(again).items()


def test_an_unknown_attribute_is_refused_as_pynamodb_refuses_it():
    model = MODELS[0]
    with pytest.raises(ValueError, match="does not exist"):
        model(no_such_attribute=1)


def test_an_item_of_another_type_is_refused():
    wallet = _ledger.WalletItem("WALLET#user:a", "WALLET", wallet_id="user:a").serialize(null_check=False)
    with pytest.raises(ValueError, match="Cannot instantiate a LedgerEntryItem"):
        _ledger.LedgerEntryItem.from_raw_data(wallet)


def test_a_null_value_reads_as_absent():
    raw = _ledger.WalletItem("WALLET#user:a", "WALLET", wallet_id="user:a").serialize(null_check=False)
    raw["last_tx"] = {"NULL": True}
    assert _ledger.WalletItem.from_raw_data(raw).last_tx is None


def _sets_sorted(item: dict) -> dict:
    # A set attribute serialises in its set's iteration order, which differs between equal sets
    # built in a different order (as a read and a rebuild are): compare the members, not the order.
    out = {}
    for name, value in item.items():
        (kind, member), = value.items()
        out[name] = {kind: sorted(member)} if kind in ("SS", "NS", "BS") else value
    return out
