"""History cursors: opaque, round-trip exactly, and refuse anything tampered or foreign."""

from __future__ import annotations

import base64
import json

import pytest

from tollgate.errors import ValidationFailed
from tollgate.ledger.exceptions import InvalidCursor
from tollgate.ledger.history import _decode_cursor, _encode_cursor, _fingerprint

WALLET = "user:alice"
CREATED = "2026-01-01T00:00:00.000Z"
FP = _fingerprint(None, None, None)


def last_key(wallet=WALLET, tx="tx_abc", sk_name="LSI1SK", ix=None):
    return {
        "PK": {"S": f"WALLET#{wallet}"},
        "SK": {"S": f"TX#{tx}"},
        sk_name: {"S": ix if ix is not None else f"{CREATED}#{tx}"},
    }


def raw_cursor(payload) -> str:
    text = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
    data = text if isinstance(text, bytes) else text.encode()
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def good_payload(**changes):
    payload = {"pk": f"WALLET#{WALLET}", "sk": "TX#tx_abc", "ix": f"{CREATED}#tx_abc", "f": FP}
    payload.update(changes)
    return payload


class TestRoundTrip:
    def test_lsi1(self):
        last = last_key()
        cursor = _encode_cursor(last, "LSI1SK", FP)
        assert _decode_cursor(cursor, WALLET, "LSI1SK", FP) == last

    def test_lsi2(self):
        fp = _fingerprint("usage", None, None)
        last = last_key(sk_name="LSI2SK", ix=f"usage#{CREATED}#tx_abc")
        cursor = _encode_cursor(last, "LSI2SK", fp)
        assert _decode_cursor(cursor, WALLET, "LSI2SK", fp) == last

    def test_ignores_extra_attributes_of_the_last_key(self):
        last = last_key()
        cursor = _encode_cursor({**last, "LSI2SK": {"S": "usage#x#tx_abc"}}, "LSI1SK", FP)
        assert _decode_cursor(cursor, WALLET, "LSI1SK", FP) == last

    def test_url_safe_and_unpadded(self):
        for n in range(40):
            cursor = _encode_cursor(last_key(wallet="user:auth0|" + "x" * n, tx="tx_" + "?" * n), "LSI1SK", FP)
            assert "=" not in cursor
            assert "+" not in cursor and "/" not in cursor
            assert _decode_cursor(cursor, "user:auth0|" + "x" * n, "LSI1SK", FP)["SK"]["S"] == "TX#tx_" + "?" * n

    def test_opaque_but_deterministic(self):
        assert _encode_cursor(last_key(), "LSI1SK", FP) == _encode_cursor(last_key(), "LSI1SK", FP)
        assert _encode_cursor(last_key(), "LSI1SK", FP) != _encode_cursor(last_key(tx="tx_abd"), "LSI1SK", FP)


class TestFingerprint:
    def test_distinguishes_filters(self):
        prints = {
            _fingerprint(None, None, None),
            _fingerprint("usage", None, None),
            _fingerprint("purchase", None, None),
            _fingerprint(None, 1, None),
            _fingerprint(None, None, 1),
            _fingerprint(None, 1, 2),
            _fingerprint(None, 2, 1),
        }
        assert len(prints) == 7

    def test_stable(self):
        assert _fingerprint("usage", 1, 2) == _fingerprint("usage", 1, 2)


def assert_invalid(cursor, wallet=WALLET, sk_name="LSI1SK", fp=FP):
    with pytest.raises(InvalidCursor) as info:
        _decode_cursor(cursor, wallet, sk_name, fp)
    assert info.value.status == 422
    assert info.value.code == "validation_error"
    assert info.value.details == {"field": "cursor"}


class TestRejected:
    def test_invalid_cursor_is_a_validation_error(self):
        assert issubclass(InvalidCursor, ValidationFailed)

    @pytest.mark.parametrize(
        "cursor",
        ["", "a", "abcde", "%%%", "not a cursor", "eyJ", "!!!!", "\u00e9\u00e9\u00e9\u00e9", "x" * 2048],
    )
    def test_garbage(self, cursor):
        assert_invalid(cursor)

    def test_not_json(self):
        assert_invalid(raw_cursor("not json"))
        assert_invalid(raw_cursor(b"\xff\xfe\x00garbage"))
        assert_invalid(raw_cursor("NaN"))

    @pytest.mark.parametrize("payload", [[], [1, 2], "string", 42, None, True])
    def test_not_an_object(self, payload):
        assert_invalid(raw_cursor(payload))

    def test_deeply_nested_json(self):
        # Fits the route's 2,048-character limit; must be a 422, not a RecursionError (500).
        cursor = raw_cursor("[" * 1_500)
        assert len(cursor) <= 2_048
        assert_invalid(cursor)
        assert_invalid(raw_cursor('{"pk":' * 1_000))

    @pytest.mark.parametrize(
        "payload",
        [
            {"pk": f"WALLET#{WALLET}", "sk": "TX#tx_abc", "ix": f"{CREATED}#tx_abc"},
            {**good_payload(), "extra": "x"},
            {"PK": f"WALLET#{WALLET}", "SK": "TX#tx_abc", "IX": f"{CREATED}#tx_abc", "F": FP},
            {},
        ],
    )
    def test_wrong_keys(self, payload):
        assert_invalid(raw_cursor(payload))

    @pytest.mark.parametrize("field", ["pk", "sk", "ix", "f"])
    @pytest.mark.parametrize("value", [None, 1, ["x"], {"S": "x"}])
    def test_non_string_values(self, field, value):
        assert_invalid(raw_cursor(good_payload(**{field: value})))

    def test_another_wallets_partition(self):
        cursor = _encode_cursor(last_key(wallet="user:bob"), "LSI1SK", FP)
        assert _decode_cursor(cursor, "user:bob", "LSI1SK", FP)
        assert_invalid(cursor, wallet=WALLET)
        assert_invalid(raw_cursor(good_payload(pk="RES#res_1")))
        assert_invalid(raw_cursor(good_payload(pk="CATALOG")))
        assert_invalid(raw_cursor(good_payload(pk="WALLET#user:alice2")))

    def test_different_filters(self):
        cursor = _encode_cursor(last_key(), "LSI1SK", FP)
        assert_invalid(cursor, fp=_fingerprint("usage", None, None))
        assert_invalid(cursor, fp=_fingerprint(None, 1, None))

    def test_not_a_ledger_entry(self):
        assert_invalid(raw_cursor(good_payload(sk="WALLET", ix=f"{CREATED}#WALLET")))
        assert_invalid(raw_cursor(good_payload(sk="FEATURE#x", ix=f"{CREATED}#x")))

    def test_index_key_must_match_the_entry(self):
        assert_invalid(raw_cursor(good_payload(ix=f"{CREATED}#tx_other")))
        assert_invalid(raw_cursor(good_payload(ix="~")))

    def test_tampered_characters(self):
        cursor = _encode_cursor(last_key(), "LSI1SK", FP)
        original = _decode_cursor(cursor, WALLET, "LSI1SK", FP)
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        for i in range(len(cursor)):
            for replacement in ("A", "z", "-"):
                if cursor[i] == replacement:
                    continue
                tampered = cursor[:i] + replacement + cursor[i + 1:]
                assert all(c in alphabet for c in tampered)
                try:
                    decoded = _decode_cursor(tampered, WALLET, "LSI1SK", FP)
                except InvalidCursor:
                    continue
                # A change that still decodes must still be this wallet's entry with these filters.
                assert decoded["PK"] == original["PK"]
                assert decoded["SK"]["S"].startswith("TX#")
                assert decoded["LSI1SK"]["S"].endswith(decoded["SK"]["S"][3:])

    def test_truncated(self):
        cursor = _encode_cursor(last_key(), "LSI1SK", FP)
        for n in range(len(cursor)):
            assert_invalid(cursor[:n])
