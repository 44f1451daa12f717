"""data.PreparedUpdate and data.PreparedPut: each use sends exactly what PynamoDB would serialize for those values,
and an update it cannot trace back to its parameters is refused when it is declared."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pynamodb.constants import ALL_OLD
from pynamodb.exceptions import AttributeNullError
from pynamodb.transactions import TransactWrite

from tests.unit.items import model_and_values
from tollgate import keys
from tollgate.data import PreparedPut, PreparedUpdate, Transaction
from tollgate.data.table import TableItem
from tollgate.ledger import repository
from tollgate.ledger.models import LedgerEntryItem
from tollgate.ledger.models import WalletItem as W

wallet_ids = st.from_regex(r"(user|org):[a-z0-9_-]{1,20}", fullmatch=True)
texts = st.text(min_size=1, max_size=40)
amounts = st.integers(min_value=-(10**15), max_value=10**15)


@given(wallet_id=wallet_ids, amount=amounts, txid=texts, now=texts)
def test_the_debit_sends_what_pynamodb_serializes_for_the_same_values(wallet_id, amount, txid, now):
    prepared = Transaction()
    repository.debit_wallet(prepared, wallet_id, amount, txid, now)
    fresh = Transaction().update(repository.WALLET, W(*keys.wallet(wallet_id)), *repository._debit(amount, txid, now))
    assert prepared.request_items() == fresh.request_items()
    assert prepared.labels() == fresh.labels() == [repository.WALLET]


def test_uses_do_not_share_state():
    first = repository._DEBIT.request("WALLET#user:a", "WALLET", 5, "tx_1", "t1")
    second = repository._DEBIT.request("WALLET#user:b", "WALLET", 7, "tx_2", "t2")
    assert first["Key"]["PK"] == {"S": "WALLET#user:a"}
    assert sorted(v.get("N") or v.get("S") for v in first["ExpressionAttributeValues"].values()) == \
        sorted(["5", "5", "5", "tx_1", "t1", "1"])
    assert second["ExpressionAttributeValues"] != first["ExpressionAttributeValues"]


def test_a_parameter_changed_before_use_is_refused_at_declaration():
    with pytest.raises(ValueError, match=r"parameters \[0\]"):
        PreparedUpdate(W, lambda amount: ([W.balance.set(W.balance - (amount + 1))], None), (int,))


def test_only_numbers_and_strings_are_parameters():
    with pytest.raises(TypeError, match="an int or a str"):
        PreparedUpdate(W, lambda flag: ([W.last_tx.set(str(flag))], None), (bool,))
    with pytest.raises(TypeError, match="expected an int"):
        repository._DEBIT.request("WALLET#user:a", "WALLET", "5", "tx", "now")
    with pytest.raises(TypeError, match="expected 3 parameters"):
        repository._DEBIT.request("WALLET#user:a", "WALLET", 5, "tx")


# --- PreparedPut -------------------------------------------------------------------------

def _fresh_put(item, condition):
    tw = TransactWrite(connection=TableItem._get_connection().connection)
    tw.save(item, condition=condition, return_values=ALL_OLD)
    return tw._put_items[0]


@given(model_and_values())
def test_a_prepared_put_sends_what_pynamodb_serializes_for_any_model(case):
    model, values = case
    condition = model.pk.does_not_exist()
    prepared = PreparedPut(model, condition)
    item = model("PK#x", "SK#y", **{k: v for k, v in values.items() if k not in ("pk", "sk")})
    try:
        expected = _fresh_put(item, condition)
    except AttributeNullError as refused:
        with pytest.raises(AttributeNullError) as ours:
            prepared.request(item)
        assert ours.value.attr_path == refused.attr_path
    else:
        assert prepared.request(item) == expected


@given(wallet_id=wallet_ids, amount=amounts, txid=texts, feature=st.one_of(st.none(), texts),
       metadata=st.one_of(st.none(), st.dictionaries(st.text(min_size=1, max_size=8), st.integers(), max_size=3)))
def test_the_entry_put_sends_what_pynamodb_serializes(wallet_id, amount, txid, feature, metadata):
    entry = LedgerEntryItem.new(wallet_id=wallet_id, transaction_id=txid, created_at="2026-12-01T00:00:00.000Z",
                                type="usage", amount=amount, request_hash="0" * 64, actor="user:a", feature=feature,
                                metadata=metadata)
    prepared = Transaction()
    repository.put_entry(prepared, entry)
    fresh = Transaction().put(repository.ENTRY, entry, LedgerEntryItem.pk.does_not_exist())
    assert prepared.request_items() == fresh.request_items()
    assert prepared.labels() == fresh.labels() == [repository.ENTRY]


def test_a_prepared_put_takes_only_its_own_model():
    with pytest.raises(TypeError, match="expected a LedgerEntryItem"):
        repository._PUT_ENTRY.request(W(*keys.wallet("user:a")))


def test_a_prepared_put_follows_the_table_name(monkeypatch):
    monkeypatch.setenv("TABLE_NAME", "another-table")
    entry = LedgerEntryItem.new(wallet_id="user:a", transaction_id="tx_1", created_at="t", type="usage", amount=-1,
                                request_hash="0" * 64, actor="user:a")
    assert repository._PUT_ENTRY.request(entry)["TableName"] == "another-table"
