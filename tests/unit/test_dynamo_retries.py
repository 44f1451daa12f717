"""dynamo.transact_write: conflicts are retried with backoff, failed conditions never."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tollgate import dynamo


class StubClient:
    """Answers transact_write_items from a script of outcomes (an error response or None)."""

    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.calls = 0

    def transact_write_items(self, **kwargs):
        self.calls += 1
        outcome = self.outcomes.pop(0)
        if outcome is not None:
            raise ClientError(outcome, "TransactWriteItems")
        return {}


def cancelled(*codes):
    return {"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
            "CancellationReasons": [{"Code": c} for c in codes]}


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    slept = []
    monkeypatch.setattr(dynamo.time, "sleep", slept.append)
    return slept


@pytest.fixture
def stub():
    def install(*outcomes):
        client = StubClient(*outcomes)
        dynamo.set_client(client)
        return client

    yield install
    dynamo.set_client(None)


def test_transaction_conflict_is_retried_until_it_commits(stub, no_sleep):
    client = stub(cancelled("None", "TransactionConflict"), cancelled("TransactionConflict", "None"), None)
    dynamo.transact_write([{}, {}])
    assert client.calls == 3
    assert len(no_sleep) == 2
    assert all(0 <= s <= dynamo._CONFLICT_CAP_S for s in no_sleep)


def test_a_failed_condition_is_never_retried(stub):
    client = stub(cancelled("ConditionalCheckFailed", "TransactionConflict"))
    with pytest.raises(dynamo.TransactionCancelled) as raised:
        dynamo.transact_write([{}, {}])
    assert client.calls == 1
    assert raised.value.failed(0) and not raised.value.failed(1)


def test_persistent_conflict_gives_up_with_a_named_error(stub):
    client = stub(*[cancelled("TransactionConflict")] * dynamo._CONFLICT_ATTEMPTS)
    with pytest.raises(dynamo.TransactionCancelled) as raised:
        dynamo.transact_write([{}])
    assert client.calls == dynamo._CONFLICT_ATTEMPTS
    assert raised.value.code(0) == "TransactionConflict"


def test_transaction_in_progress_is_retried(stub):
    client = stub({"Error": {"Code": "TransactionInProgressException", "Message": "busy"}}, None)
    dynamo.transact_write([{}])
    assert client.calls == 2


def test_other_errors_propagate(stub):
    stub({"Error": {"Code": "ValidationException", "Message": "bad"}})
    with pytest.raises(ClientError):
        dynamo.transact_write([{}])


def test_reasons_parsed_from_the_message_when_absent(stub):
    response = {"Error": {"Code": "TransactionCanceledException",
                          "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons "
                                     "[None, ConditionalCheckFailed]"}}
    stub(response)
    with pytest.raises(dynamo.TransactionCancelled) as raised:
        dynamo.transact_write([{}, {}])
    assert raised.value.failed(1) and not raised.value.failed(0)
