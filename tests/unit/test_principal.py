"""principal: one caller shape from either authorizer, and who may touch which wallet."""

from __future__ import annotations

import pytest

from tollgate.errors import Forbidden, NotFound, Unauthorized, ValidationFailed
from tollgate.principal import Principal, from_request_context, parse_roles, validate_wallet_id

ALICE = Principal(type="user", sub="alice", roles=frozenset({"user"}))
ADMIN = Principal(type="user", sub="root", roles=frozenset({"admin", "user"}))
SERVICE = Principal(type="service", sub="svc-insights", roles=frozenset({"service"}), key_id="key_123")


class TestParseRoles:
    @pytest.mark.parametrize(
        "value",
        [
            ["admin", "user"],
            ("admin", "user"),
            {"admin", "user"},
            "[admin user]",
            "admin user",
            "admin,user",
            "admin, user",
            " admin  user ",
            '["admin","user"]',
            '["admin", "user"]',
            "[admin,user]",
            ["admin", " user ", ""],
        ],
    )
    def test_shapes(self, value):
        assert parse_roles(value) == frozenset({"admin", "user"})

    @pytest.mark.parametrize("value", [None, "", "  ", [], "[]", "[ ]", ()])
    def test_empty(self, value):
        assert parse_roles(value) == frozenset()

    def test_single(self):
        assert parse_roles("admin") == frozenset({"admin"})
        assert parse_roles("[admin]") == frozenset({"admin"})
        assert parse_roles('["developer"]') == frozenset({"developer"})

    def test_returns_frozenset(self):
        assert isinstance(parse_roles("a b"), frozenset)


def jwt_context(claims):
    return {"requestId": "r-1", "authorizer": {"jwt": {"claims": claims, "scopes": None}}}


def lambda_context(ctx):
    return {"requestId": "r-1", "authorizer": {"lambda": ctx}}


class TestFromRequestContext:
    def test_jwt_with_flattened_roles(self):
        p = from_request_context(jwt_context({"sub": "alice", "roles": "[admin user]", "email": "a@x.io"}), "roles")
        assert p == Principal(type="user", sub="alice", roles=frozenset({"admin", "user"}), email="a@x.io")
        assert p.is_admin
        assert not p.is_service
        assert p.key_id is None

    def test_jwt_custom_roles_claim(self):
        claims = {"sub": "bob", "cognito:groups": "[developer]", "roles": "[admin]"}
        p = from_request_context(jwt_context(claims), "cognito:groups")
        assert p.roles == frozenset({"developer"})
        assert not p.is_admin

    def test_jwt_namespaced_claim(self):
        claims = {"sub": "auth0|123", "https://tollgate.example/roles": '["admin"]'}
        p = from_request_context(jwt_context(claims), "https://tollgate.example/roles")
        assert p.roles == frozenset({"admin"})
        assert p.own_wallet_id == "user:auth0|123"

    def test_jwt_without_roles(self):
        p = from_request_context(jwt_context({"sub": "alice"}), "roles")
        assert p.roles == frozenset()
        assert p.email is None

    def test_lambda_user(self):
        ctx = {"principal_type": "user", "sub": "alice", "roles": "user developer", "key_id": ""}
        p = from_request_context(lambda_context(ctx), "roles")
        assert p == Principal(type="user", sub="alice", roles=frozenset({"user", "developer"}))
        assert p.own_wallet_id == "user:alice"
        assert p.actor == "user:alice"

    def test_lambda_service(self):
        ctx = {"principal_type": "service", "sub": "svc-insights", "roles": "service", "key_id": "key_123"}
        p = from_request_context(lambda_context(ctx), "roles")
        assert p.is_service
        assert p.key_id == "key_123"
        assert p.own_wallet_id is None
        assert p.actor == "key:key_123"
        assert p.roles == frozenset({"service"})

    def test_lambda_context_wins_over_jwt(self):
        rc = {"authorizer": {"lambda": {"principal_type": "service", "sub": "svc", "key_id": "k"},
                             "jwt": {"claims": {"sub": "alice"}}}}
        assert from_request_context(rc, "roles").is_service

    def test_sub_is_a_string(self):
        p = from_request_context(lambda_context({"principal_type": "user", "sub": 42}), "roles")
        assert p.sub == "42"

    @pytest.mark.parametrize(
        "rc",
        [
            {},
            None,
            {"authorizer": None},
            {"authorizer": {}},
            {"authorizer": {"lambda": {}}},
            jwt_context({}),
            jwt_context({"sub": ""}),
            jwt_context({"email": "a@x.io", "roles": "admin"}),
            {"authorizer": {"jwt": {}}},
            lambda_context({"principal_type": "user"}),
            lambda_context({"principal_type": "user", "sub": ""}),
            lambda_context({"principal_type": "admin", "sub": "alice"}),
            lambda_context({"sub": "alice"}),
        ],
    )
    def test_unauthorized(self, rc):
        with pytest.raises(Unauthorized):
            from_request_context(rc, "roles")

    def test_unauthorized_is_a_401(self):
        assert Unauthorized.status == 401
        assert Unauthorized.code == "unauthorized"


class TestWalletForSpending:
    def test_person_spends_own(self):
        assert ALICE.wallet_for_spending(None) == "user:alice"
        assert ALICE.wallet_for_spending("user:alice") == "user:alice"

    @pytest.mark.parametrize("other", ["user:bob", "org:alice", "user:alice2", "garbage"])
    def test_person_cannot_spend_another(self, other):
        with pytest.raises(NotFound):
            ALICE.wallet_for_spending(other)

    def test_admin_cannot_spend_another(self):
        assert ADMIN.wallet_for_spending(None) == "user:root"
        with pytest.raises(NotFound):
            ADMIN.wallet_for_spending("user:alice")

    def test_service_spends_any_valid_wallet(self):
        assert SERVICE.wallet_for_spending("user:alice") == "user:alice"
        assert SERVICE.wallet_for_spending("org:acme") == "org:acme"

    def test_service_must_name_the_wallet(self):
        with pytest.raises(ValidationFailed) as info:
            SERVICE.wallet_for_spending(None)
        assert info.value.details == {"field": "wallet_id"}
        assert info.value.status == 422

    @pytest.mark.parametrize("bad", ["", "nocolon", "user:", "user:a b"])
    def test_service_wallet_must_be_valid(self, bad):
        with pytest.raises(ValidationFailed):
            SERVICE.wallet_for_spending(bad)


class TestWalletForReading:
    def test_person_reads_own(self):
        assert ALICE.wallet_for_reading(None) == "user:alice"
        assert ALICE.wallet_for_reading("user:alice") == "user:alice"

    def test_person_cannot_read_another(self):
        with pytest.raises(NotFound):
            ALICE.wallet_for_reading("user:bob")

    def test_admin_reads_any(self):
        assert ADMIN.wallet_for_reading(None) == "user:root"
        assert ADMIN.wallet_for_reading("user:alice") == "user:alice"
        with pytest.raises(ValidationFailed):
            ADMIN.wallet_for_reading("nocolon")

    def test_service_reads_any_but_must_name_it(self):
        assert SERVICE.wallet_for_reading("user:alice") == "user:alice"
        with pytest.raises(ValidationFailed):
            SERVICE.wallet_for_reading(None)

    def test_may_act_on(self):
        assert ALICE.may_act_on("user:alice")
        assert not ALICE.may_act_on("user:bob")
        assert not ADMIN.may_act_on("user:alice")
        assert SERVICE.may_act_on("user:alice")

    def test_require_admin(self):
        ADMIN.require_admin()
        for p in (ALICE, SERVICE):
            with pytest.raises(Forbidden):
                p.require_admin()


class TestValidateWalletId:
    @pytest.mark.parametrize(
        "wallet_id",
        ["user:abc", "user:auth0|123", "org:acme-1", "user:a.b@example.com", "user:x:y", "u:1",
         "user:" + "a" * 128, "abcdefghijklmnop:x", "user:a+b=c_d-e"],
    )
    def test_accepts(self, wallet_id):
        assert validate_wallet_id(wallet_id) == wallet_id

    @pytest.mark.parametrize(
        "wallet_id",
        ["", "nocolon", "user:", ":abc", "user:" + "a" * 129, "abcdefghijklmnopq:x", "user:a b", " user:abc",
         "user:abc ", "User:abc", "1user:abc", "user:abc/def", "user:é", "user:a\tb", None, 42, ["user:abc"]],
    )
    def test_rejects(self, wallet_id):
        with pytest.raises(ValidationFailed):
            validate_wallet_id(wallet_id)

    @pytest.mark.parametrize("wallet_id", ["user:abc\n", "user:auth0|123\n"])
    def test_rejects_a_trailing_newline(self, wallet_id):
        # "$" in a Python regex also matches before a final "\n"; the id must end at its last character.
        with pytest.raises(ValidationFailed):
            validate_wallet_id(wallet_id)

    def test_agrees_with_the_schema_type(self):
        from pydantic import TypeAdapter, ValidationError

        from tollgate.schemas import WalletId

        adapter = TypeAdapter(WalletId)
        for candidate in ["user:abc", "user:", "user:abc\n", "user:a b", "org:x|y", "user:" + "z" * 129]:
            try:
                adapter.validate_python(candidate)
                schema_ok = True
            except ValidationError:
                schema_ok = False
            try:
                validate_wallet_id(candidate)
                domain_ok = True
            except ValidationFailed:
                domain_ok = False
            assert schema_ok == domain_ok, repr(candidate)
