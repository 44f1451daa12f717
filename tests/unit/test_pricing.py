"""Pricing: exact rule arithmetic (rounded up to 1 mc) and the admin/usage schemas."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from pydantic import TypeAdapter, ValidationError

from tollgate.amounts import MAX_CREDITS_MC
from tollgate.errors import ValidationFailed
from tollgate.pricing.exceptions import InvalidUsage
from tollgate.pricing.rules import CHARS_PER_TOKEN, Measurement, PricingRule
from tollgate.pricing.schemas import (
    FeatureIn,
    PerCallPricing,
    PerTokenPricing,
    PerUnitPricing,
    PricingIn,
    PricingOut,
    rule_from_schema,
)
from tollgate.usage.schemas import UsageMeasure, measurement

INSIGHT = PricingRule(type="per_call", credits_mc=9_000)
TRANSLATE = PricingRule(type="per_unit", credits_mc=500)
TOKENS = PricingRule(type="per_token", input_mc=100, output_mc=200)  # 0.1 / 0.2 credit per token


class TestMeasurement:
    def test_empty(self):
        assert Measurement().is_empty
        assert not Measurement(quantity=1).is_empty
        assert not Measurement(input_tokens=0).is_empty
        assert not Measurement(output_chars=0).is_empty

    def test_flags(self):
        assert Measurement(output_tokens=3).has_tokens
        assert not Measurement(output_tokens=3).has_chars
        assert Measurement(input_chars=3).has_chars
        assert not Measurement(quantity=3).has_tokens

    def test_as_dict_drops_unset(self):
        assert Measurement(quantity=2).as_dict() == {"quantity": 2}
        assert Measurement(input_tokens=0, output_tokens=5).as_dict() == {"input_tokens": 0, "output_tokens": 5}
        assert Measurement().as_dict() == {}


class TestPerCall:
    def test_default_quantity_is_one(self):
        assert INSIGHT.cost(Measurement()) == 9_000

    @pytest.mark.parametrize(("quantity", "expected"), [(1, 9_000), (2, 18_000), (7, 63_000), (0, 0)])
    def test_quantity(self, quantity, expected):
        assert INSIGHT.cost(Measurement(quantity=quantity)) == expected

    @pytest.mark.parametrize(
        "m",
        [Measurement(input_tokens=1), Measurement(output_tokens=1), Measurement(input_chars=4),
         Measurement(quantity=1, input_tokens=1)],
    )
    def test_usage_is_invalid(self, m):
        with pytest.raises(InvalidUsage):
            INSIGHT.cost(m)

    def test_seed_prices(self):
        for credits, mc in ((9, 9_000), (25, 25_000), (40, 40_000), (3, 3_000)):
            assert PricingRule(type="per_call", credits_mc=mc).cost(Measurement()) == credits * 1_000

    def test_free_feature(self):
        assert PricingRule(type="per_call").cost(Measurement()) == 0


class TestPerUnit:
    @pytest.mark.parametrize(("quantity", "expected"), [(1, 500), (3, 1_500), (1_000, 500_000), (0, 0)])
    def test_quantity(self, quantity, expected):
        assert TRANSLATE.cost(Measurement(quantity=quantity)) == expected

    def test_quantity_required(self):
        with pytest.raises(InvalidUsage, match="quantity is required"):
            TRANSLATE.cost(Measurement())

    @pytest.mark.parametrize("m", [Measurement(input_tokens=1), Measurement(quantity=2, output_chars=8)])
    def test_usage_is_invalid(self, m):
        with pytest.raises(InvalidUsage):
            TRANSLATE.cost(m)


class TestPerToken:
    @pytest.mark.parametrize(
        ("m", "expected"),
        [
            (Measurement(input_tokens=10, output_tokens=5), 10 * 100 + 5 * 200),
            (Measurement(input_tokens=1), 100),
            (Measurement(output_tokens=1), 200),
            (Measurement(input_tokens=0, output_tokens=0), 0),
            (Measurement(input_tokens=1_000, output_tokens=2_000), 500_000),
        ],
    )
    def test_tokens(self, m, expected):
        assert TOKENS.cost(m) == expected

    def test_chars_at_four_per_token(self):
        assert CHARS_PER_TOKEN == 4
        # 10 input chars = 2.5 tokens x 100 mc = 250 mc, exactly.
        assert TOKENS.cost(Measurement(input_chars=10)) == 250
        assert TOKENS.cost(Measurement(output_chars=10)) == 500
        assert TOKENS.cost(Measurement(input_chars=8, output_chars=4)) == 2 * 100 + 1 * 200
        assert TOKENS.cost(Measurement(input_chars=0)) == 0

    def test_chars_round_up_to_one_millicredit(self):
        one = PricingRule(type="per_token", input_mc=1, output_mc=1)
        assert one.cost(Measurement(input_chars=1)) == 1  # ceil(0.25)
        assert one.cost(Measurement(input_chars=4)) == 1
        assert one.cost(Measurement(input_chars=5)) == 2  # ceil(1.25)
        assert one.cost(Measurement(output_chars=3)) == 1  # ceil(0.75)
        assert one.cost(Measurement(input_chars=1, output_chars=1)) == 1  # ceil(0.5): the total is rounded once

    def test_chars_are_never_undercharged_and_never_overcharged_by_a_millicredit(self):
        rng = random.Random(7)
        for _ in range(2_000):
            rule = PricingRule(type="per_token", input_mc=rng.randint(0, 5_000), output_mc=rng.randint(0, 5_000))
            ic, oc = rng.randint(0, 100_000), rng.randint(0, 100_000)
            exact = Decimal(ic * rule.input_mc + oc * rule.output_mc) / CHARS_PER_TOKEN
            cost = rule.cost(Measurement(input_chars=ic, output_chars=oc))
            assert type(cost) is int
            assert exact <= cost < exact + 1

    def test_chars_equal_tokens_when_divisible(self):
        for tokens in range(0, 200, 7):
            assert TOKENS.cost(Measurement(input_chars=4 * tokens, output_chars=8 * tokens)) == TOKENS.cost(
                Measurement(input_tokens=tokens, output_tokens=2 * tokens)
            )

    def test_usage_required(self):
        with pytest.raises(InvalidUsage, match="usage is required"):
            TOKENS.cost(Measurement())

    @pytest.mark.parametrize(
        "m", [Measurement(quantity=1), Measurement(quantity=1, input_tokens=5), Measurement(quantity=2, input_chars=4)]
    )
    def test_quantity_is_invalid(self, m):
        with pytest.raises(InvalidUsage):
            TOKENS.cost(m)


class TestMaximumCharge:
    def test_exactly_the_maximum(self):
        assert PricingRule(type="per_call", credits_mc=MAX_CREDITS_MC).cost(Measurement()) == MAX_CREDITS_MC
        assert PricingRule(type="per_unit", credits_mc=1_000).cost(Measurement(quantity=10**9)) == MAX_CREDITS_MC
        assert TOKENS.cost(Measurement(input_tokens=MAX_CREDITS_MC // 100)) == MAX_CREDITS_MC

    @pytest.mark.parametrize(
        ("rule", "m"),
        [
            (PricingRule(type="per_call", credits_mc=MAX_CREDITS_MC + 1), Measurement()),
            (PricingRule(type="per_call", credits_mc=1_000), Measurement(quantity=10**9 + 1)),
            (PricingRule(type="per_unit", credits_mc=MAX_CREDITS_MC), Measurement(quantity=2)),
            (TOKENS, Measurement(input_tokens=MAX_CREDITS_MC // 100 + 1)),
            (TOKENS, Measurement(output_tokens=10**12)),
            (PricingRule(type="per_token", input_mc=1, output_mc=1), Measurement(input_chars=4 * MAX_CREDITS_MC + 1)),
        ],
    )
    def test_beyond_is_invalid_usage(self, rule, m):
        with pytest.raises(InvalidUsage, match="maximum"):
            rule.cost(m)

    def test_chars_just_at_the_maximum_after_rounding(self):
        rule = PricingRule(type="per_token", input_mc=1, output_mc=1)
        assert rule.cost(Measurement(input_chars=4 * MAX_CREDITS_MC)) == MAX_CREDITS_MC
        assert rule.cost(Measurement(input_chars=4 * MAX_CREDITS_MC - 3)) == MAX_CREDITS_MC

    def test_invalid_usage_is_a_422(self):
        assert issubclass(InvalidUsage, ValidationFailed)
        assert InvalidUsage.status == 422
        assert InvalidUsage.code == "validation_error"


class TestItems:
    @pytest.mark.parametrize("rule", [INSIGHT, TRANSLATE, TOKENS, PricingRule(type="per_call")])
    def test_round_trip(self, rule):
        assert PricingRule.from_item(rule.to_item()) == rule

    def test_item_shapes(self):
        assert INSIGHT.to_item() == {"type": "per_call", "credits_mc": 9_000}
        assert TRANSLATE.to_item() == {"type": "per_unit", "credits_mc": 500}
        assert TOKENS.to_item() == {"type": "per_token", "input_mc": 100, "output_mc": 200}

    def test_from_dynamodb_decimals(self):
        rule = PricingRule.from_item({"type": "per_token", "input_mc": Decimal(100), "output_mc": Decimal(200)})
        assert rule == TOKENS
        assert type(rule.input_mc) is int
        assert type(PricingRule.from_item({"type": "per_call", "credits_mc": Decimal(9000)}).credits_mc) is int


def feature(**overrides):
    body = {"name": "Simple AI Insight", "pricing": {"type": "per_call", "credits": "9"}}
    body.update(overrides)
    return FeatureIn.model_validate(body)


class TestFeatureIn:
    def test_per_call(self):
        f = feature()
        assert isinstance(f.pricing, PerCallPricing)
        assert f.pricing.credits == 9_000
        assert f.active is True
        assert f.revenue_share_bps == 0
        assert f.developer_id is None
        assert rule_from_schema(f.pricing) == INSIGHT

    def test_per_unit(self):
        f = feature(pricing={"type": "per_unit", "credits": "0.5"})
        assert isinstance(f.pricing, PerUnitPricing)
        assert rule_from_schema(f.pricing) == TRANSLATE

    def test_per_token(self):
        f = feature(pricing={"type": "per_token", "input_credits": "0.1", "output_credits": Decimal("0.2")})
        assert isinstance(f.pricing, PerTokenPricing)
        assert rule_from_schema(f.pricing) == TOKENS

    def test_free_is_allowed(self):
        assert feature(pricing={"type": "per_call", "credits": "0"}).pricing.credits == 0

    @pytest.mark.parametrize(
        "pricing",
        [
            {"type": "per_gram", "credits": "1"},
            {"credits": "1"},
            {"type": "per_call"},
            {"type": "per_call", "credits": "1", "input_credits": "1"},
            {"type": "per_token", "input_credits": "0.1"},
            {"type": "per_token", "credits": "1", "input_credits": "0.1", "output_credits": "0.2"},
            {"type": "per_call", "credits": "-1"},
            {"type": "per_call", "credits": 1.5},
            {"type": "per_call", "credits": "0.0001"},
            {"type": "per_unit", "credits": "NaN"},
            {"type": "per_call", "credits": "1000000000.001"},
            "per_call",
        ],
    )
    def test_bad_pricing(self, pricing):
        with pytest.raises(ValidationError):
            feature(pricing=pricing)

    def test_unknown_type_is_a_tag_error(self):
        with pytest.raises(ValidationError) as info:
            feature(pricing={"type": "per_gram", "credits": "1"})
        assert info.value.errors()[0]["type"] == "union_tag_invalid"

    def test_extra_fields_rejected(self):
        with pytest.raises(ValidationError) as info:
            feature(price="9")
        assert info.value.errors()[0]["type"] == "extra_forbidden"

    @pytest.mark.parametrize("bps", [0, 1, 7_000, 10_000])
    def test_revenue_share_range(self, bps):
        assert feature(developer_id="dev-kodella", revenue_share_bps=bps).revenue_share_bps == bps

    @pytest.mark.parametrize("bps", [-1, 10_001, "7000", 70.0, True])
    def test_revenue_share_rejected(self, bps):
        with pytest.raises(ValidationError):
            feature(developer_id="dev-kodella", revenue_share_bps=bps)

    def test_revenue_share_needs_a_developer(self):
        with pytest.raises(ValidationError, match="developer_id"):
            feature(revenue_share_bps=7_000)
        assert feature(revenue_share_bps=0).developer_id is None
        assert feature(developer_id="dev-1").revenue_share_bps == 0

    @pytest.mark.parametrize("developer_id", ["", "dev 1", "d" * 129, "dev/1"])
    def test_bad_developer_id(self, developer_id):
        with pytest.raises(ValidationError):
            feature(developer_id=developer_id)

    @pytest.mark.parametrize("overrides", [{"name": ""}, {"name": "x" * 101}, {"description": "x" * 501}])
    def test_text_limits(self, overrides):
        with pytest.raises(ValidationError):
            feature(**overrides)

    def test_pricing_in_adapter(self):
        parsed = TypeAdapter(PricingIn).validate_python({"type": "per_unit", "credits": 2})
        assert isinstance(parsed, PerUnitPricing)
        assert parsed.credits == 2_000

    def test_pricing_out_renders_strings(self):
        assert PricingOut(type="per_call", credits=9_000).model_dump(mode="json", exclude_none=True) == {
            "type": "per_call", "credits": "9"}
        assert PricingOut(type="per_token", input_credits=100, output_credits=200).model_dump(mode="json") == {
            "type": "per_token", "credits": None, "input_credits": "0.1", "output_credits": "0.2"}


class TestUsageMeasure:
    @pytest.mark.parametrize(
        "body",
        [{"input_tokens": 10}, {"output_tokens": 0}, {"input_tokens": 1, "output_tokens": 2},
         {"input_chars": 10}, {"input_chars": 0, "output_chars": 7}],
    )
    def test_accepts(self, body):
        assert UsageMeasure.model_validate(body).model_dump(exclude_none=True) == body

    @pytest.mark.parametrize(
        "body",
        [
            {},
            {"input_tokens": 1, "input_chars": 4},
            {"output_tokens": 1, "output_chars": 4},
            {"input_tokens": -1},
            {"output_chars": -4},
            {"input_tokens": True},
            {"input_chars": False},
            {"input_tokens": "10"},
            {"input_tokens": 1.0},
            {"input_tokens": Decimal("1.5")},
            {"input_tokens": 1_000_000_001},
            {"input_tokens": None, "output_tokens": None},
            {"tokens": 5},
        ],
    )
    def test_rejects(self, body):
        with pytest.raises(ValidationError):
            UsageMeasure.model_validate(body)


class TestMeasurementFromRequest:
    def test_quantity_only(self):
        assert measurement(3, None) == Measurement(quantity=3)
        assert measurement(None, None) == Measurement()

    def test_usage_only(self):
        usage = UsageMeasure(input_tokens=10, output_tokens=5)
        assert measurement(None, usage) == Measurement(input_tokens=10, output_tokens=5)
        chars = UsageMeasure(input_chars=10)
        assert measurement(None, chars) == Measurement(input_chars=10)
        assert TOKENS.cost(measurement(None, chars)) == 250

    def test_quantity_and_usage_rejected(self):
        with pytest.raises(InvalidUsage):
            measurement(1, UsageMeasure(input_tokens=1))
