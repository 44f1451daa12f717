"""data.Transaction: conflicts are retried with backoff, failed conditions never, and a
failure is named by the label of the operation that failed, in PynamoDB's send order."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tollgate.data import Transaction, TransactionCancelled, set_client, transactions
from tollgate.ledger.models import LedgerEntryItem, WalletItem


class StubClient:
    """Answers TransactWriteItems (as PynamoDB sends it) from a script of outcomes."""

    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.calls: list[dict] = []

    def _make_api_call(self, operation, kwargs):
        assert operation == "TransactWriteItems"
        self.calls.append(kwargs)
        outcome = self.outcomes.pop(0)
        if outcome is not None:
            raise ClientError(outcome, operation)
        return {}


def cancelled(*reasons):
    return {"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
            "CancellationReasons": [r if isinstance(r, dict) else {"Code": r} for r in reasons]}


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    slept = []
    monkeypatch.setattr(transactions.time, "sleep", slept.append)
    return slept


@pytest.fixture
def stub():
    def install(*outcomes):
        client = StubClient(*outcomes)
        set_client(client)
        return client

    yield install
    set_client(None)


def debit() -> Transaction:
    """A wallet update added before an entry put: PynamoDB sends the put first."""
    tx = Transaction()
    tx.update("wallet", WalletItem.keyed("user:a"), [WalletItem.balance.set(WalletItem.balance - 5)],
              WalletItem.available >= 5)
    tx.put("entry", LedgerEntryItem.new(wallet_id="user:a", transaction_id="tx_1", created_at="2026-01-01",
                                        type="usage", amount=-5, request_hash="h", actor="a"),
           LedgerEntryItem.pk.does_not_exist())
    return tx


def test_labels_follow_the_order_the_items_are_sent_in(stub):
    client = stub(None)
    tx = debit()
    tx.commit()
    sent = client.calls[0]["TransactItems"]
    assert [next(iter(item)) for item in sent] == ["Put", "Update"]
    assert tx.labels() == ["entry", "wallet"]
    assert all(op["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD" for item in sent for op in item.values())


def test_transaction_conflict_is_retried_until_it_commits(stub, no_sleep):
    client = stub(cancelled("None", "TransactionConflict"), cancelled("TransactionConflict", "None"), None)
    debit().commit()
    assert len(client.calls) == 3
    assert len(no_sleep) == 2
    assert all(0 <= s <= transactions._CONFLICT_CAP_S for s in no_sleep)


def test_a_failed_condition_is_never_retried_and_names_its_operation_with_the_old_item(stub):
    old = {"PK": {"S": "WALLET#user:a"}, "SK": {"S": "WALLET"}, "entity": {"S": "wallet"},
           "wallet_id": {"S": "user:a"}, "balance": {"N": "3"}, "available": {"N": "3"}, "reserved": {"N": "0"}}
    client = stub(cancelled("None", {"Code": "ConditionalCheckFailed", "Item": old}))
    with pytest.raises(TransactionCancelled) as raised:
        debit().commit()
    assert len(client.calls) == 1
    assert raised.value.failed("wallet") and not raised.value.failed("entry")
    wallet = raised.value.old("wallet", WalletItem)
    assert (wallet.balance, wallet.available) == (3, 3)
    assert raised.value.old("entry", LedgerEntryItem) is None


def test_reasons_only_in_the_message_are_still_named(stub):
    client = stub({"Error": {"Code": "TransactionCanceledException",
                             "Message": "Transaction cancelled [ConditionalCheckFailed, None]"}})
    with pytest.raises(TransactionCancelled) as raised:
        debit().commit()
    assert len(client.calls) == 1
    assert raised.value.failed("entry") and not raised.value.failed("wallet")


def test_persistent_conflict_gives_up_with_a_named_error(stub):
    from tollgate.data import StoreUnavailable

    client = stub(*[cancelled("TransactionConflict", "None")] * transactions._CONFLICT_ATTEMPTS)
    with pytest.raises(StoreUnavailable) as raised:
        debit().commit()
    assert len(client.calls) == transactions._CONFLICT_ATTEMPTS
    assert (raised.value.status, raised.value.code) == (503, "try_again")
    assert raised.value.details == {"reason": "TransactionConflict", "retry_after_seconds": 1}


def test_transaction_in_progress_is_retried(stub):
    client = stub({"Error": {"Code": "TransactionInProgressException", "Message": "busy"}}, None)
    debit().commit()
    assert len(client.calls) == 2


def test_other_errors_propagate(stub):
    from pynamodb.exceptions import TransactWriteError

    stub({"Error": {"Code": "ValidationException", "Message": "bad"}})
    with pytest.raises(TransactWriteError):
        debit().commit()
