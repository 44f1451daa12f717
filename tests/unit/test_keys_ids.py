"""keys (single-table layout, as the keys package documents it) and ids (random and derived)."""

from __future__ import annotations

import re
from collections import Counter

from tollgate import ids, keys

WALLET = "user:auth0|123"


class TestKeys:
    def test_wallet(self):
        assert keys.wallet_pk(WALLET) == "WALLET#user:auth0|123"
        assert keys.wallet(WALLET) == ("WALLET#user:auth0|123", "WALLET")

    def test_entry(self):
        assert keys.entry_sk("tx_abc") == "TX#tx_abc"
        assert keys.entry(WALLET, "tx_abc") == ("WALLET#user:auth0|123", "TX#tx_abc")

    def test_entries_share_their_wallet_partition(self):
        assert keys.entry(WALLET, "tx_1")[0] == keys.wallet(WALLET)[0]
        assert keys.entry(WALLET, "tx_1")[1] != keys.wallet(WALLET)[1]

    def test_index_keys(self):
        created = "2026-01-01T00:00:00.000Z"
        assert keys.entry_lsi1sk(created, "tx_1") == "2026-01-01T00:00:00.000Z#tx_1"

    def test_lsi1_sorts_by_time(self):
        a = keys.entry_lsi1sk("2026-01-01T00:00:00.999Z", "tx_z")
        b = keys.entry_lsi1sk("2026-01-01T00:00:01.000Z", "tx_a")
        assert a < b

    def test_reservation(self):
        assert keys.reservation("res_1") == ("RES#res_1", "RES")

    def test_feature(self):
        assert keys.feature_sk("ai-insight") == "FEATURE#ai-insight"
        assert keys.feature("ai-insight") == ("CATALOG", "FEATURE#ai-insight")

    def test_api_key(self):
        assert keys.api_key("key_1") == ("APIKEY#key_1", "APIKEY")
        assert keys.APIKEYS_GSI1PK == "APIKEYS"

    def test_keys_are_pk_sk_string_pairs(self):
        for key in (keys.wallet(WALLET), keys.entry(WALLET, "t"), keys.reservation("r"), keys.feature("f"),
                    keys.api_key("k")):
            assert len(key) == 2 and all(isinstance(part, str) and part for part in key)

    def test_partitions_never_collide_across_item_kinds(self):
        pks = {keys.wallet("x:1")[0], keys.reservation("x:1")[0], keys.api_key("x:1")[0], keys.feature("x:1")[0],
               keys.wallet_locator("x:1")[0]}
        assert len(pks) == 5

    def test_wallet_locator(self):
        assert keys.wallet_locator("abcdefgh") == ("WALLETLOC#abcdefgh", "WALLETLOC")
        # Its own partition: never a wallet's, whatever the wallet id.
        assert keys.wallet_locator(ids.locator(WALLET))[0] != keys.wallet_pk(WALLET)


class TestHoldShards:
    def test_stable(self):
        for n in range(200):
            rid = f"res_{n}"
            assert keys.hold_shard(rid) == keys.hold_shard(rid)

    def test_within_range(self):
        allowed = set(keys.hold_shards())
        assert len(allowed) == keys.HOLD_SHARDS == 16
        assert keys.hold_shards() == [f"HOLDS#{n}" for n in range(16)]
        for n in range(2_000):
            shard = keys.hold_shard(ids.random_id("res") if n % 2 else f"res_{n}")
            assert shard in allowed
            assert re.fullmatch(r"HOLDS#(\d|1[0-5])", shard)

    def test_spreads_across_every_shard(self):
        counts = Counter(keys.hold_shard(f"res_{n}") for n in range(4_000))
        assert set(counts) == set(keys.hold_shards())
        # 250 expected per shard; a hash that clusters would blow well past this.
        assert max(counts.values()) < 400


class TestIds:
    def test_random_id_shape(self):
        rid = ids.random_id("tx")
        assert re.fullmatch(r"tx_[a-z2-7]{26}", rid)

    def test_random_ids_are_unique(self):
        made = {ids.random_id("res") for _ in range(5_000)}
        assert len(made) == 5_000

    def test_derived_id_deterministic(self):
        a = ids.derived_id("tx", WALLET, "usage", "key-1")
        assert a == ids.derived_id("tx", WALLET, "usage", "key-1")
        assert re.fullmatch(r"tx_[a-z2-7]{26}", a)

    def test_derived_id_scoped(self):
        base = ids.derived_id("tx", WALLET, "usage", "key-1")
        variants = [
            ids.derived_id("tx", "user:other", "usage", "key-1"),
            ids.derived_id("tx", WALLET, "adjustment", "key-1"),
            ids.derived_id("tx", WALLET, "usage", "key-2"),
            ids.derived_id("tx", WALLET, "usage", "Key-1"),
            ids.derived_id("tx", WALLET, "usage"),
            ids.derived_id("tx", WALLET, "usage", "key-1", ""),
        ]
        assert base not in variants
        assert len(set(variants)) == len(variants)

    def test_derived_id_respects_part_boundaries(self):
        assert ids.derived_id("tx", "ab", "c") != ids.derived_id("tx", "a", "bc")
        assert ids.derived_id("tx", "user:a", "usage:k") != ids.derived_id("tx", "user:a:usage", "k")

    def test_derived_id_prefix_is_kept(self):
        assert ids.derived_id("res", "x").startswith("res_")
        assert ids.derived_id("res", "x")[4:] == ids.derived_id("tx", "x")[3:]

    def test_derived_ids_do_not_collide(self):
        made = {ids.derived_id("tx", WALLET, "usage", f"key-{n}") for n in range(5_000)}
        assert len(made) == 5_000

    def test_request_hash(self):
        h = ids.request_hash('{"a":1}')
        assert re.fullmatch(r"[0-9a-f]{64}", h)
        assert h == ids.request_hash('{"a":1}')
        assert h != ids.request_hash('{"a":2}')


class TestLocatedIds:
    def test_locator_is_the_first_8_base32_chars_of_the_wallet_ids_sha256(self):
        import base64
        import hashlib

        full = base64.b32encode(hashlib.sha256(WALLET.encode()).digest()).decode().lower()
        assert ids.locator(WALLET) == full[:8]
        assert re.fullmatch(r"[a-z2-7]{8}", ids.locator(WALLET))

    def test_located_id_shape_is_any_ids_shape(self):
        for made in (ids.located_id("tx", WALLET, "usage", "key-1"), ids.random_located_id("tx", WALLET)):
            assert re.fullmatch(r"tx_[a-z2-7]{26}", made)
            assert made.startswith("tx_" + ids.locator(WALLET))
            assert ids.locator_of(made) == ids.locator(WALLET)

    def test_located_id_is_derived(self):
        a = ids.located_id("tx", WALLET, "usage", "key-1")
        assert a == ids.located_id("tx", WALLET, "usage", "key-1")
        variants = {ids.located_id("tx", "user:other", "usage", "key-1"), ids.located_id("tx", WALLET, "settle", "key-1"),
                    ids.located_id("tx", WALLET, "usage", "key-2"), ids.located_id("tx", WALLET, "usage", "key-1", "")}
        assert a not in variants and len(variants) == 4

    def test_located_ids_of_one_wallet_do_not_collide(self):
        made = {ids.located_id("tx", WALLET, "usage", f"key-{n}") for n in range(5_000)}
        made |= {ids.random_located_id("tx", WALLET) for _ in range(5_000)}
        assert len(made) == 10_000

    def test_other_wallets_have_other_locators(self):
        locators = {ids.locator(f"user:{n}") for n in range(5_000)}
        assert len(locators) == 5_000  # 40 bits: a shared one is possible, and handled, but rare

    def test_locator_of_refuses_what_is_not_an_id(self):
        for text in ("tx_short", "tx_" + "a" * 27, "tx_" + "A" * 26, "tx_" + "1" * 26, "rsv_" + "a" * 26,
                     "tx" + "a" * 27, "", "tx_", "tx-" + "a" * 26):
            assert ids.locator_of(text) is None, text
        assert ids.locator_of("rsv_" + "a" * 26, prefix="rsv") == "a" * 8

    def test_an_unlocated_id_reads_as_some_locator(self):
        # Ids minted before located ids have the same shape: theirs names a random locator.
        old = ids.derived_id("tx", WALLET, "adjustment", "key-1")
        assert ids.locator_of(old) == old[3:11]


class TestRecordIds:
    def test_located_record_ids(self):
        from tollgate import idempotency

        keyed = idempotency.record_id("tx", WALLET, "usage", "key-1", located=True)
        assert keyed == ids.located_id("tx", WALLET, "usage", "key-1")
        assert keyed == idempotency.record_id("tx", WALLET, "usage", "key-1", located=True)
        unkeyed = idempotency.record_id("tx", WALLET, "usage", None, located=True)
        assert ids.locator_of(unkeyed) == ids.locator(WALLET)
        assert unkeyed != idempotency.record_id("tx", WALLET, "usage", None, located=True)

    def test_unlocated_record_ids_are_unchanged(self):
        from tollgate import idempotency

        assert idempotency.record_id("tx", WALLET, "adjustment", "k") == ids.derived_id("tx", WALLET, "adjustment", "k")
