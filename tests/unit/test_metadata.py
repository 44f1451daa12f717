"""metadata.validate_metadata: small, plain JSON objects DynamoDB can store exactly."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tollgate.http import parse_json
from tollgate.metadata import MAX_METADATA_BYTES, MAX_METADATA_KEYS, validate_metadata


@pytest.mark.parametrize(
    "value",
    [
        {},
        {"model": "gpt-x", "latency_ms": 120},
        {"ok": True, "nothing": None, "ratio": Decimal("0.25")},
        {"tags": ["a", "b", 1]},
        {"request": {"id": "abc", "retries": 2}},
        {"k": Decimal("-12345678901234567890123456789012345678")},
        {"k": 10**38 - 1, "n": -(10**38) + 1},
        {"k": Decimal("1E+100"), "s": Decimal("1E-100")},
        {"k" * 64: 1},
        {f"k{i}": i for i in range(MAX_METADATA_KEYS)},
    ],
)
def test_accepts_small_plain_objects(value):
    assert validate_metadata(value) == value


def test_none_is_empty():
    assert validate_metadata(None) == {}


def test_accepts_parse_json_output():
    value = parse_json('{"a": 1.5, "b": [1, 2.25, "x"], "c": {"d": null}}')
    assert validate_metadata(value) == value


@pytest.mark.parametrize("value", [[], ["a"], "text", 1, Decimal(1), True, ("a", 1)])
def test_rejects_non_objects(value):
    with pytest.raises(ValueError, match="object"):
        validate_metadata(value)


def test_rejects_too_many_keys():
    with pytest.raises(ValueError, match="keys"):
        validate_metadata({f"k{i}": i for i in range(MAX_METADATA_KEYS + 1)})


@pytest.mark.parametrize(
    "value",
    [
        {"a": {"b": {"c": {"d": 1}}}},
        {"a": {"b": {"c": {"d": {"e": 1}}}}},
        {"a": [[[[1]]]]},
        {"a": [{"b": [{"c": 1}]}]},
    ],
)
def test_rejects_deep_nesting(value):
    with pytest.raises(ValueError, match="nest"):
        validate_metadata(value)


def test_rejects_oversized():
    assert validate_metadata({"k": "x" * (MAX_METADATA_BYTES - 10)})  # {"k":"..."} is 8 bytes of framing
    with pytest.raises(ValueError, match="bytes"):
        validate_metadata({"k": "x" * MAX_METADATA_BYTES})


def test_size_counts_bytes_not_characters():
    with pytest.raises(ValueError, match="bytes"):
        validate_metadata({"k": "\u00e9" * 600})


@pytest.mark.parametrize(
    "number",
    [Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), Decimal("-Infinity"), Decimal("1E+200"),
     Decimal("1E-200"), Decimal("1E+999999999"), Decimal("1" * 39), int("1" * 39), 10**120, -(10**120),
     Decimal("1E-120"), Decimal("-1E+120")],
)
def test_rejects_unstorable_numbers(number):
    with pytest.raises(ValueError, match="numbers"):
        validate_metadata({"k": number})


@pytest.mark.parametrize("number", [10**38, -(10**38), Decimal("1" * 38), Decimal("1E-119"), Decimal("-9.9E+119"), 0,
                                    Decimal("0E-999999999")])
def test_accepts_storable_numbers(number):
    assert validate_metadata({"k": number}) == {"k": number}


@pytest.mark.parametrize("number", [1.5, float("nan"), float("inf")])
def test_rejects_floats(number):
    with pytest.raises(ValueError):
        validate_metadata({"k": number})


@pytest.mark.parametrize("value", [{"k": b"bytes"}, {"k": {1, 2}}, {"k": object()}, {"k": ("a",)}])
def test_rejects_other_types(value):
    with pytest.raises(ValueError, match="values"):
        validate_metadata(value)


@pytest.mark.parametrize("value", [{1: "a"}, {"": "a"}, {None: 1}, {"k" * 65: 1}, {"ok": {"": 1}}, {"ok": {2: 1}}])
def test_rejects_bad_keys(value):
    with pytest.raises(ValueError, match="keys"):
        validate_metadata(value)


def test_rejects_long_lists():
    assert validate_metadata({"k": list(range(50))})
    with pytest.raises(ValueError, match="50"):
        validate_metadata({"k": list(range(51))})


@pytest.mark.parametrize("value", [
    {}, {"k": "v"}, {"n": 0}, {"n": 10**38}, {"n": Decimal("1E-119")}, {"n": Decimal("1E-120")}, {"n": 10**120},
    {"a": {"b": {"c": 1}}}, {"a": {"b": {"c": {"d": 1}}}}, {"a": [[1, 2], [3]]}, {"a": [[[1]]]}, {"": 1},
    {"k" * 64: 1}, {"k" * 65: 1}, {f"k{i}": i for i in range(20)}, {f"k{i}": i for i in range(21)},
    {"l": list(range(50))}, {"l": list(range(51))}, {"t": True, "n": None},
])
def test_the_published_schema_agrees_with_the_validator(value):
    import jsonschema_rs

    from tollgate.metadata import json_schema

    try:
        validate_metadata(value)
        accepted = True
    except ValueError:
        accepted = False
    # jsonschema_rs takes Python numbers; a Decimal is passed as the float it spells.
    plain = json.loads(json.dumps(value, default=float))
    assert jsonschema_rs.validator_for(json_schema()).is_valid(plain) == accepted, value
