"""data.PreparedUpdate: each use sends exactly what PynamoDB would serialize for those values,
and an update it cannot trace back to its parameters is refused when it is declared."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tollgate import keys
from tollgate.data import PreparedUpdate, Transaction
from tollgate.ledger import repository
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
