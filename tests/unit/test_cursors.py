"""Pagination cursors: opaque, round-trip exactly, and refuse anything tampered or foreign.

The codec (``tollgate.cursors``) is tested directly; the history check (this wallet's
partition, a ledger entry, an index key that matches it) through ``tollgate.ledger.history``
with its one query stubbed, so no database is involved.
"""

from __future__ import annotations

import base64
import json

import pytest

from tollgate import cursors
from tollgate.cursors import InvalidCursor
from tollgate.errors import ValidationFailed
from tollgate.ledger import archive, repository
from tollgate.ledger.history import wallet_history

WALLET = "user:alice"
CREATED = "2026-01-01T00:00:00.000Z"
NAMES = ("PK", "SK", "LSI1SK")
SCOPE = cursors.scope(WALLET, None, None, None)


def last_key(wallet=WALLET, tx="tx_abc", ix=None):
    return {
        "PK": {"S": f"WALLET#{wallet}"},
        "SK": {"S": f"TX#{tx}"},
        "LSI1SK": {"S": ix if ix is not None else f"{CREATED}#{tx}"},
    }


def raw_cursor(payload) -> str:
    text = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
    data = text if isinstance(text, bytes) else text.encode()
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def good_key(**changes):
    key = {"PK": f"WALLET#{WALLET}", "SK": "TX#tx_abc", "LSI1SK": f"{CREATED}#tx_abc"}
    key.update(changes)
    return key


def good_payload(scope=SCOPE, **changes):
    return {"k": good_key(**changes), "s": scope}


def assert_invalid_error(info):
    assert info.value.status == 422
    assert info.value.code == "validation_error"
    assert info.value.details == {"field": "cursor"}


def assert_invalid(cursor, scope=SCOPE, names=NAMES, check=lambda _key: True):
    with pytest.raises(InvalidCursor) as info:
        cursors.decode(cursor, scope, names, check)
    assert_invalid_error(info)


class Ledger:
    """``tollgate.ledger.history.wallet_history`` with ``repository.query_entries`` stubbed (and no
    archive): no database."""

    def __init__(self, monkeypatch):
        self.starts = []
        self.last = None
        monkeypatch.setattr(repository, "query_entries", self._query)
        monkeypatch.setattr(repository, "is_sharded", lambda _wallet_id: False)
        monkeypatch.setattr(archive, "totals", lambda _wallet_id: None)

    def _query(self, wallet_id, *, low, high, limit, start_key, entry_type=None, pk=None):
        self.starts.append(start_key)
        return repository.History([], self.last, None)

    def page(self, cursor, wallet=WALLET, entry_type=None, since_ms=None, until_ms=None):
        return wallet_history(wallet, limit=10, cursor=cursor, entry_type=entry_type, since_ms=since_ms, until_ms=until_ms)

    def next_cursor(self, last, wallet=WALLET, **filters):
        """The cursor history hands out when the query stops at `last`."""
        self.last = last
        try:
            return self.page(None, wallet, **filters).next_cursor
        finally:
            self.last = None

    def start(self, cursor, wallet=WALLET, **filters):
        """The start key history would query from, given `cursor`."""
        self.page(cursor, wallet, **filters)
        return self.starts[-1]

    def assert_invalid(self, cursor, wallet=WALLET, **filters):
        calls = len(self.starts)
        with pytest.raises(InvalidCursor) as info:
            self.page(cursor, wallet, **filters)
        assert_invalid_error(info)
        assert len(self.starts) == calls  # refused before any query


@pytest.fixture
def ledger(monkeypatch):
    return Ledger(monkeypatch)


class TestRoundTrip:
    def test_codec(self):
        last = last_key()
        assert cursors.decode(cursors.encode(last, SCOPE), SCOPE, NAMES) == last

    def test_any_key_names(self):
        last = {"PK": {"S": "PURCHASE#pur_1"}, "SK": {"S": "PURCHASE"}, "GSI1PK": {"S": "x"}, "GSI1SK": {"S": "y"}}
        scope = cursors.scope("purchases", WALLET)
        assert cursors.decode(cursors.encode(last, scope), scope, ("PK", "SK", "GSI1PK", "GSI1SK")) == last

    def test_through_history(self, ledger):
        last = last_key()
        cursor = ledger.next_cursor(last)
        assert cursor == cursors.encode(last, SCOPE)
        assert ledger.start(cursor) == last

    @pytest.mark.parametrize(
        "filters",
        [{"entry_type": "usage"}, {"since_ms": 1}, {"until_ms": 2}, {"entry_type": "purchase", "since_ms": 1, "until_ms": 2}],
    )
    def test_through_history_with_filters(self, ledger, filters):
        last = last_key()
        cursor = ledger.next_cursor(last, **filters)
        assert ledger.start(cursor, **filters) == last
        ledger.assert_invalid(cursor)  # the same cursor without those filters

    def test_no_cursor_starts_at_the_top(self, ledger):
        assert ledger.start(None) is None
        assert ledger.next_cursor(None) is None

    def test_url_safe_and_unpadded(self, ledger):
        for n in range(40):
            wallet = "user:auth0|" + "x" * n
            scope = cursors.scope(wallet, None, None, None)
            cursor = cursors.encode(last_key(wallet=wallet, tx="tx_" + "?" * n), scope)
            assert "=" not in cursor
            assert "+" not in cursor and "/" not in cursor
            assert cursors.decode(cursor, scope, NAMES)["SK"]["S"] == "TX#tx_" + "?" * n
            assert ledger.start(cursor, wallet)["SK"]["S"] == "TX#tx_" + "?" * n

    def test_opaque_but_deterministic(self):
        assert cursors.encode(last_key(), SCOPE) == cursors.encode(last_key(), SCOPE)
        assert cursors.encode(last_key(), SCOPE) != cursors.encode(last_key(tx="tx_abd"), SCOPE)
        assert cursors.encode(last_key(), SCOPE) != cursors.encode(last_key(), cursors.scope(WALLET, "usage", None, None))
        assert "tx_abc" not in cursors.encode(last_key(), SCOPE)


class TestScope:
    def test_distinguishes_filters(self):
        prints = {
            cursors.scope(WALLET, None, None, None),
            cursors.scope(WALLET, "usage", None, None),
            cursors.scope(WALLET, "purchase", None, None),
            cursors.scope(WALLET, None, 1, None),
            cursors.scope(WALLET, None, None, 1),
            cursors.scope(WALLET, None, 1, 2),
            cursors.scope(WALLET, None, 2, 1),
            cursors.scope("user:bob", None, None, None),
        }
        assert len(prints) == 8

    def test_distinguishes_lists(self):
        assert cursors.scope("purchases", WALLET) != cursors.scope("purchases", None)
        assert cursors.scope("purchases", WALLET) != cursors.scope(WALLET, None, None, None)

    def test_stable_and_short(self):
        assert cursors.scope(WALLET, "usage", 1, 2) == cursors.scope(WALLET, "usage", 1, 2)
        assert len(cursors.scope(WALLET, "usage", 1, 2)) == 12


class TestRejected:
    def test_invalid_cursor_is_a_validation_error(self):
        assert issubclass(InvalidCursor, ValidationFailed)

    @pytest.mark.parametrize(
        "cursor",
        ["", "a", "abcde", "%%%", "not a cursor", "eyJ", "!!!!", "\u00e9\u00e9\u00e9\u00e9", "x" * 2048],
    )
    def test_garbage(self, cursor, ledger):
        assert_invalid(cursor)
        if cursor:  # the route refuses an empty cursor (min_length=1); history reads it as none
            ledger.assert_invalid(cursor)

    def test_not_json(self):
        assert_invalid(raw_cursor("not json"))
        assert_invalid(raw_cursor(b"\xff\xfe\x00garbage"))
        assert_invalid(raw_cursor("NaN"))

    @pytest.mark.parametrize("payload", [[], [1, 2], "string", 42, None, True])
    def test_not_an_object(self, payload):
        assert_invalid(raw_cursor(payload))

    def test_deeply_nested_json(self, ledger):
        # Fits the route's 2,048-character limit; must be a 422, not a RecursionError (500).
        cursor = raw_cursor("[" * 1_500)
        assert len(cursor) <= 2_048
        assert_invalid(cursor)
        ledger.assert_invalid(cursor)
        assert_invalid(raw_cursor('{"k":' * 1_000))
        assert_invalid(raw_cursor('{"k":{"PK":' * 500))

    @pytest.mark.parametrize(
        "payload",
        [
            {"k": good_key()},
            {"s": SCOPE},
            {**good_payload(), "extra": "x"},
            {"K": good_key(), "S": SCOPE},
            good_key(),
            {**good_key(), "s": SCOPE},
            {"k": {name.lower(): value for name, value in good_key().items()}, "s": SCOPE},
            {"k": {"PK": f"WALLET#{WALLET}", "SK": "TX#tx_abc"}, "s": SCOPE},
            {"k": {**good_key(), "LSI2SK": "usage#x#tx_abc"}, "s": SCOPE},
            {"k": {}, "s": SCOPE},
            {},
        ],
    )
    def test_wrong_keys(self, payload, ledger):
        assert_invalid(raw_cursor(payload))
        ledger.assert_invalid(raw_cursor(payload))

    @pytest.mark.parametrize("value", [None, 1, ["x"], {"S": "x"}, ""])
    @pytest.mark.parametrize("field", [*NAMES, "k", "s"])
    def test_non_string_values(self, field, value, ledger):
        payload = good_payload()
        if field in NAMES:
            payload["k"][field] = value
        else:
            payload[field] = value
        assert_invalid(raw_cursor(payload))
        ledger.assert_invalid(raw_cursor(payload))

    def test_foreign_scope(self):
        cursor = cursors.encode(last_key(), SCOPE)
        assert_invalid(cursor, scope=cursors.scope(WALLET, "usage", None, None))
        assert_invalid(cursor, scope=cursors.scope(WALLET, None, 1, None))
        assert_invalid(cursor, scope=cursors.scope("user:bob", None, None, None))
        assert_invalid(cursor, scope=cursors.scope("purchases", WALLET))
        assert_invalid(raw_cursor(good_payload(scope="")))

    def test_check_refuses(self):
        cursor = cursors.encode(last_key(), SCOPE)
        seen = []
        assert_invalid(cursor, check=lambda key: seen.append(key) or False)
        assert seen == [good_key()]  # the plain attribute strings

    def test_check_only_sees_well_formed_keys(self):
        # A check may index its names freely: a cursor without them never reaches it.
        def check(key):
            return key["PK"] == f"WALLET#{WALLET}" and key["LSI1SK"].endswith(key["SK"][3:])

        assert cursors.decode(cursors.encode(last_key(), SCOPE), SCOPE, NAMES, check) == last_key()
        assert_invalid(raw_cursor({"k": {"PK": f"WALLET#{WALLET}"}, "s": SCOPE}), check=check)
        assert_invalid(raw_cursor({"k": good_key(LSI1SK=None), "s": SCOPE}), check=check)


class TestRejectedByHistory:
    def test_another_wallets_partition(self, ledger):
        bob_scope = cursors.scope("user:bob", None, None, None)
        cursor = ledger.next_cursor(last_key(wallet="user:bob"), "user:bob")
        assert ledger.start(cursor, "user:bob") == last_key(wallet="user:bob")
        ledger.assert_invalid(cursor, WALLET)
        # Even with this wallet's scope, the partition must be this wallet's.
        ledger.assert_invalid(cursors.encode(last_key(wallet="user:bob"), SCOPE))
        ledger.assert_invalid(cursors.encode(last_key(), bob_scope), "user:bob")
        ledger.assert_invalid(raw_cursor(good_payload(PK="RES#res_1")))
        ledger.assert_invalid(raw_cursor(good_payload(PK="CATALOG")))
        ledger.assert_invalid(raw_cursor(good_payload(PK="WALLET#user:alice2")))
        ledger.assert_invalid(raw_cursor(good_payload(PK="WALLET#user:alic")))

    def test_different_filters(self, ledger):
        cursor = ledger.next_cursor(last_key())
        ledger.assert_invalid(cursor, entry_type="usage")
        ledger.assert_invalid(cursor, since_ms=1)
        ledger.assert_invalid(cursor, until_ms=1)
        ledger.assert_invalid(raw_cursor(good_payload(scope=cursors.scope("purchases", WALLET))))

    def test_not_a_ledger_entry(self, ledger):
        ledger.assert_invalid(raw_cursor(good_payload(SK="WALLET", LSI1SK=f"{CREATED}#WALLET")))
        ledger.assert_invalid(raw_cursor(good_payload(SK="FEATURE#x", LSI1SK=f"{CREATED}#x")))
        ledger.assert_invalid(raw_cursor(good_payload(SK="tx#tx_abc")))

    def test_index_key_must_match_the_entry(self, ledger):
        ledger.assert_invalid(raw_cursor(good_payload(LSI1SK=f"{CREATED}#tx_other")))
        ledger.assert_invalid(raw_cursor(good_payload(LSI1SK=f"{CREATED}tx_abc")))
        ledger.assert_invalid(raw_cursor(good_payload(LSI1SK="~")))

    def test_tampered_characters(self, ledger):
        cursor = ledger.next_cursor(last_key())
        original = ledger.start(cursor)
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        for i in range(len(cursor)):
            for replacement in ("A", "z", "-"):
                if cursor[i] == replacement:
                    continue
                tampered = cursor[:i] + replacement + cursor[i + 1:]
                assert all(c in alphabet for c in tampered)
                try:
                    decoded = ledger.start(tampered)
                except InvalidCursor as error:
                    assert error.status == 422
                    continue
                # A change that still decodes must still be this wallet's entry with these filters.
                assert decoded["PK"] == original["PK"]
                assert decoded["SK"]["S"].startswith("TX#")
                assert decoded["LSI1SK"]["S"].endswith("#" + decoded["SK"]["S"][3:])

    def test_truncated(self, ledger):
        cursor = ledger.next_cursor(last_key())
        assert_invalid("")
        for n in range(1, len(cursor)):
            assert_invalid(cursor[:n])
            ledger.assert_invalid(cursor[:n])
