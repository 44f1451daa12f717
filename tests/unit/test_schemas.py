"""tollgate.schemas: credit field types in pydantic models (parse to mc, render as strings)."""

from __future__ import annotations

import functools
import json
from decimal import Decimal
from fractions import Fraction

import jsonschema_rs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter, ValidationError

from tollgate.amounts import MAX_CREDITS_MC
from tollgate.http import parse_json
from tollgate.ledger.schemas import AdjustmentIn, EntryOut, WalletOut
from tollgate.schemas import (
    CreditsOut,
    FeatureId,
    NonNegativeCredits,
    OptionalCreditsOut,
    PositiveCredits,
    SignedCredits,
    StrictCount,
    StrictPositiveCount,
    WalletId,
)
from tollgate.usage.schemas import UsageIn


class Positive(BaseModel):
    amount: PositiveCredits


class NonNegative(BaseModel):
    amount: NonNegativeCredits


class Signed(BaseModel):
    amount: SignedCredits


class Out(BaseModel):
    amount: CreditsOut
    maybe: OptionalCreditsOut = None


def error_of(model, value):
    with pytest.raises(ValidationError) as info:
        model(amount=value)
    errors = info.value.errors()
    assert len(errors) == 1
    assert errors[0]["loc"] == ("amount",)
    return errors[0]


GOOD = [("12.5", 12_500), (12, 12_000), (Decimal("12.5"), 12_500), (Decimal("1E+3"), 1_000_000), ("0.001", 1)]
BAD_ALWAYS = [1.5, 0.5, True, False, None, "NaN", "Infinity", Decimal("NaN"), Decimal("Infinity"), "1e3",
              "0.0001", "1.2345", "", "abc", "01", "1000000000.001", 10**10, [], {}]


class TestPositiveCredits:
    @pytest.mark.parametrize(("value", "expected"), GOOD)
    def test_accepts(self, value, expected):
        model = Positive(amount=value)
        assert model.amount == expected
        assert type(model.amount) is int

    @pytest.mark.parametrize("value", [*BAD_ALWAYS, "0", 0, Decimal("0"), "-1", -1, Decimal("-0.001")])
    def test_rejects(self, value):
        error_of(Positive, value)

    def test_messages_are_clean(self):
        assert error_of(Positive, "0")["msg"] == "Value error, must not be zero"
        assert error_of(Positive, "-1")["msg"] == "Value error, must not be negative"
        assert "3 fractional digits" in error_of(Positive, "1.2345")["msg"]

    def test_maximum(self):
        assert Positive(amount="1000000000").amount == MAX_CREDITS_MC
        error_of(Positive, "1000000000.001")

    def test_json_numbers_through_parse_json(self):
        # The HTTP layer deserialises bodies with parse_json: numbers arrive as Decimal.
        assert Positive.model_validate(parse_json('{"amount": 12.5}')).amount == 12_500
        assert Positive.model_validate(parse_json('{"amount": 1e3}')).amount == 1_000_000
        assert Positive.model_validate(parse_json('{"amount": 7}')).amount == 7_000
        with pytest.raises(ValidationError):
            Positive.model_validate(parse_json('{"amount": 0.0001}'))

    def test_json_floats_are_refused(self):
        # Straight pydantic JSON parsing yields floats, which never become amounts.
        with pytest.raises(ValidationError):
            Positive.model_validate_json('{"amount": 1.5}')

    def test_json_schema_is_a_string_or_a_number(self):
        schema = Positive.model_json_schema()["properties"]["amount"]
        text, number = schema["anyOf"]
        assert text["type"] == "string"
        assert number == {"type": "number", "multipleOf": 0.001, "exclusiveMinimum": 0, "maximum": 1_000_000_000}


class TestNonNegativeCredits:
    @pytest.mark.parametrize(("value", "expected"), [*GOOD, ("0", 0), (0, 0), (Decimal("0.000"), 0)])
    def test_accepts(self, value, expected):
        assert NonNegative(amount=value).amount == expected

    @pytest.mark.parametrize("value", [*BAD_ALWAYS, "-1", -1, "-0.001"])
    def test_rejects(self, value):
        error_of(NonNegative, value)


class TestSignedCredits:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [*GOOD, ("-12.5", -12_500), (-3, -3_000), (Decimal("-0.001"), -1), ("-1000000000", -MAX_CREDITS_MC)],
    )
    def test_accepts(self, value, expected):
        assert Signed(amount=value).amount == expected

    @pytest.mark.parametrize("value", [*BAD_ALWAYS, "0", 0, "-1000000000.001", "-0"])
    def test_rejects(self, value):
        error_of(Signed, value)


class TestCreditsOut:
    @pytest.mark.parametrize(
        ("mc", "text"),
        [(12_500, "12.5"), (0, "0"), (1, "0.001"), (-3_000, "-3"), (MAX_CREDITS_MC, "1000000000"), (1_050, "1.05")],
    )
    def test_serialises_as_decimal_string(self, mc, text):
        out = Out(amount=mc)
        assert out.model_dump(mode="json") == {"amount": text, "maybe": None}
        assert json.loads(out.model_dump_json()) == {"amount": text, "maybe": None}

    def test_python_mode_renders_strings_too(self):
        assert Out(amount=1_500).model_dump()["amount"] == "1.5"

    def test_optional(self):
        assert Out(amount=0, maybe=250).model_dump(mode="json") == {"amount": "0", "maybe": "0.25"}
        assert Out(amount=0, maybe=None).model_dump(mode="json")["maybe"] is None

    def test_never_a_float_in_json(self):
        text = Out(amount=12_345, maybe=-1).model_dump_json()
        assert text == '{"amount":"12.345","maybe":"-0.001"}'

    def test_serialization_schema(self):
        schema = Out.model_json_schema(mode="serialization")["properties"]
        assert schema["amount"]["type"] == "string"
        assert {"type": "null"} in schema["maybe"]["anyOf"]


class TestCounts:
    def test_strict_count(self):
        ta = TypeAdapter(StrictCount)
        assert ta.validate_python(0) == 0
        assert ta.validate_python(1_000_000_000) == 1_000_000_000
        for bad in (-1, 1_000_000_001, True, "5", 5.0, Decimal("5.5"), Decimal("1E+999999999"), Decimal("NaN"), None):
            with pytest.raises(ValidationError):
                ta.validate_python(bad)

    def test_a_whole_json_number_is_an_integer(self):
        # JSON Schema counts 5.0 (and 5e0) as an integer; the body parser reads them as Decimals.
        ta = TypeAdapter(StrictCount)
        assert ta.validate_python(Decimal("5")) == 5
        assert ta.validate_python(Decimal("5.000")) == 5
        assert ta.validate_python(Decimal("5E+2")) == 500
        assert type(ta.validate_python(Decimal("5.0"))) is int

    def test_strict_positive_count(self):
        ta = TypeAdapter(StrictPositiveCount)
        assert ta.validate_python(1) == 1
        for bad in (0, -1, 1_000_000_001, True, "1", 1.0):
            with pytest.raises(ValidationError):
                ta.validate_python(bad)


class TestIds:
    @pytest.mark.parametrize("value", ["user:abc", "user:auth0|123", "org:acme", "user:a.b@c.d", "user:x:y", "u:1"])
    def test_wallet_id_accepts(self, value):
        assert TypeAdapter(WalletId).validate_python(value) == value

    @pytest.mark.parametrize(
        "value",
        ["", "nocolon", "user:", ":abc", "User:abc", "user:a b", "user:abc\n", "1user:abc", "user:" + "a" * 129,
         "abcdefghijklmnopq:x", "user:é"],
    )
    def test_wallet_id_rejects(self, value):
        with pytest.raises(ValidationError):
            TypeAdapter(WalletId).validate_python(value)

    @pytest.mark.parametrize("value", ["ai-insight", "a", "x1.y_z-2", "a" * 64])
    def test_feature_id_accepts(self, value):
        assert TypeAdapter(FeatureId).validate_python(value) == value

    @pytest.mark.parametrize("value", ["", "-a", "A", "ai insight", "a" * 65, "ai/insight", "ai-insight\n"])
    def test_feature_id_rejects(self, value):
        with pytest.raises(ValidationError):
            TypeAdapter(FeatureId).validate_python(value)


class TestLedgerSchemas:
    def test_usage_in(self):
        usage = UsageIn.model_validate(parse_json('{"feature": "ai-insight", "quantity": 2, "metadata": {"k": 1.5}}'))
        assert usage.quantity == 2
        assert usage.metadata == {"k": Decimal("1.5")}
        assert usage.amount is None

    @pytest.mark.parametrize(
        "body",
        [
            {"feature": "ai-insight", "extra": 1},
            {"feature": "ai-insight", "quantity": 0},
            {"feature": "ai-insight", "quantity": "2"},
            {"feature": "ai-insight", "amount": 1.5},
            {"feature": "ai-insight", "amount": "0"},
            {"feature": "ai-insight", "metadata": [1]},
            {"feature": "ai-insight", "metadata": {"": 1}},
            {"feature": "ai-insight", "wallet_id": "bad"},
            {"feature": "Bad Feature"},
            {},
        ],
    )
    def test_usage_in_rejects(self, body):
        with pytest.raises(ValidationError):
            UsageIn.model_validate(body)

    def test_adjustment_in(self):
        adj = AdjustmentIn.model_validate({"amount": "-2.5", "reason": "goodwill"})
        assert adj.amount == -2_500
        assert adj.metadata is None
        for bad in ({"amount": "0", "reason": "x"}, {"amount": "1", "reason": ""}, {"amount": 1.0, "reason": "x"}):
            with pytest.raises(ValidationError):
                AdjustmentIn.model_validate(bad)

    def test_wallet_out_renders_strings(self):
        out = WalletOut(wallet_id="user:a", balance=12_500, reserved=500, available=12_000, open_holds=1)
        assert out.model_dump(mode="json") == {
            "wallet_id": "user:a", "balance": "12.5", "reserved": "0.5", "available": "12",
            "open_holds": 1, "updated_at": None, "tier": None, "next_allocation_at": None, "grants": [],
            "expiring_soon": "0", "low_balance": None, "below_low_balance": False,
        }

    def test_entry_out_balance_after_may_be_null(self):
        entry = EntryOut(transaction_id="tx_1", type="usage", amount=-9_000, balance_after=None,
                         created_at="2026-01-01T00:00:00.000Z", metadata={})
        dumped = entry.model_dump(mode="json")
        assert dumped["amount"] == "-9"
        assert dumped["balance_after"] is None
        stamped = entry.model_copy(update={"balance_after": 91_000}).model_dump(mode="json")
        assert stamped["balance_after"] == "91"


# The document promises exactly what each parser accepts: a client generated from it sends nothing
# the server refuses, and nothing the server accepts is left out (a fuzzer checks both ways).
_CREDIT_MODELS = {"positive": Positive, "non_negative": NonNegative, "signed": Signed}
_STRING_ALPHABET = "0123456789.-+eE _"


@functools.cache
def _amount_schema(kind: str) -> dict:
    return _CREDIT_MODELS[kind].model_json_schema()["properties"]["amount"]


@functools.cache
def _amount_validator(kind: str):
    return jsonschema_rs.validator_for(_amount_schema(kind))


def _accepts(model, value) -> bool:
    try:
        model(amount=value)
    except ValidationError:
        return False
    return True


def _schema_accepts_number(schema: dict, value: Decimal) -> bool:
    number = schema["anyOf"][1]
    exact = Fraction(value)
    if exact % Fraction(str(number["multipleOf"])) != 0:
        return False
    if "minimum" in number and exact < number["minimum"]:
        return False
    if "exclusiveMinimum" in number and exact <= number["exclusiveMinimum"]:
        return False
    if exact > number["maximum"]:
        return False
    return not ("not" in number and exact == number["not"]["const"])


@pytest.mark.parametrize("kind", list(_CREDIT_MODELS))
class TestPublishedAmountSchemas:
    @settings(max_examples=800, derandomize=True, database=None, deadline=None)
    @given(text=st.one_of(
        st.text(alphabet=_STRING_ALPHABET, max_size=16),
        st.from_regex(r"-?(0|[1-9][0-9]{0,10})(\.[0-9]{0,6})?", fullmatch=True),
        st.decimals(min_value=-2_000_000_000, max_value=2_000_000_000, places=4).map(str),
    ))
    def test_strings(self, kind, text):
        assert _amount_validator(kind).is_valid(text) == _accepts(_CREDIT_MODELS[kind], text), text

    @settings(max_examples=800, derandomize=True, database=None, deadline=None)
    @given(value=st.one_of(
        st.decimals(min_value=-2_000_000_000, max_value=2_000_000_000, places=4, allow_nan=False),
        st.integers(min_value=-2_000_000_000, max_value=2_000_000_000).map(Decimal),
        st.sampled_from([Decimal("0"), Decimal("-0.0"), Decimal("1E+3"), Decimal("1000000000.000"), Decimal("1E+9")]),
    ))
    def test_numbers(self, kind, value):
        # As the body parser reads a JSON number: an int when it has no point or exponent, else a Decimal.
        parsed = parse_json(f'{{"amount": {value}}}')["amount"]
        assert _schema_accepts_number(_amount_schema(kind), value) == _accepts(_CREDIT_MODELS[kind], parsed), value


def test_a_credits_default_is_documented_as_the_decimal_string_the_api_takes_and_shows():
    """Credit fields hold millicredits; the OpenAPI default must read as credits (settings: "100", not 100000)."""
    from tollgate.amounts import format_credits
    from tollgate.purchases.schemas import SettingsIn, SettingsOut

    documented = SettingsIn.model_json_schema()["properties"]
    shown = SettingsOut.model_fields
    defaults = SettingsIn()
    credit_fields = [name for name in SettingsIn.model_fields if name.endswith("_credits")]
    assert credit_fields == ["min_credits", "max_credits", "refund_auto_approve_credits"]
    for name in credit_fields:
        assert name in shown
        assert documented[name]["default"] == format_credits(getattr(defaults, name))
        assert SettingsIn.model_validate({name: documented[name]["default"]}).model_dump()[name] == getattr(defaults, name)
