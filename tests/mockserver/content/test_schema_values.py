from __future__ import annotations

import json
import random
import re
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.content.schema_values import value_for_schema

_FORMATS = jsonschema.FormatChecker()


def _assert_valid(schema: dict[str, Any], value: Any) -> None:
    jsonschema.Draft202012Validator(schema, format_checker=_FORMATS).validate(value)


_scalars = st.one_of(st.none(), st.booleans(), st.integers(-50, 50), st.text(max_size=5))
_names = st.text("abcdefghij_", min_size=1, max_size=6)


@st.composite
def _integer_schemas(draw: st.DrawFn) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer"}
    low = draw(st.none() | st.integers(-1000, 1000))
    if low is not None:
        schema[draw(st.sampled_from(["minimum", "exclusiveMinimum"]))] = low
    if draw(st.booleans()):
        schema["maximum"] = (low if low is not None else 0) + draw(st.integers(2, 500))
    return schema


@st.composite
def _number_schemas(draw: st.DrawFn) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "number"}
    low = draw(st.none() | st.floats(-1e6, 1e6))
    if low is not None:
        schema[draw(st.sampled_from(["minimum", "exclusiveMinimum"]))] = low
    if draw(st.booleans()):
        schema[draw(st.sampled_from(["maximum", "exclusiveMaximum"]))] = (low or 0.0) + draw(st.floats(1, 1e3))
    return schema


@st.composite
def _string_schemas(draw: st.DrawFn) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if draw(st.booleans()):  # a format, or length bounds: both at once may be unsatisfiable
        schema["format"] = draw(st.sampled_from(["date", "date-time", "email", "uuid"]))
        return schema
    shortest = draw(st.none() | st.integers(0, 20))
    if shortest is not None:
        schema["minLength"] = shortest
    if draw(st.booleans()):
        schema["maxLength"] = (shortest or 0) + draw(st.integers(0, 30))
    return schema


_leaves = st.one_of(
    _integer_schemas(),
    _number_schemas(),
    _string_schemas(),
    st.just({"type": "boolean"}),
    st.just({"type": "null"}),
    st.lists(_scalars, min_size=1, max_size=4, unique_by=repr).map(lambda values: {"enum": values}),
    _scalars.map(lambda value: {"const": value}),
    st.just({}),
)


@st.composite
def _object_schemas(draw: st.DrawFn, children: st.SearchStrategy[dict[str, Any]]) -> dict[str, Any]:
    properties = draw(st.dictionaries(_names, children, max_size=4))
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    schema["required"] = draw(st.lists(st.sampled_from(sorted(properties)), unique=True)) if properties else []
    if draw(st.booleans()):
        schema["additionalProperties"] = draw(st.booleans() | children)
    return schema


@st.composite
def _array_schemas(draw: st.DrawFn, children: st.SearchStrategy[dict[str, Any]]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "array", "items": draw(children)}
    fewest = draw(st.none() | st.integers(0, 4))
    if fewest is not None:
        schema["minItems"] = fewest
    if draw(st.booleans()):
        schema["maxItems"] = (fewest or 0) + draw(st.integers(0, 4))
    return schema


_schemas = st.recursive(
    _leaves,
    lambda children: st.one_of(
        _object_schemas(children),
        _array_schemas(children),
        st.lists(children, min_size=1, max_size=3).map(lambda options: {"anyOf": options}),
        st.lists(children, min_size=1, max_size=3).map(
            lambda types: {"type": ["null", "string"], "anyOf": [{"type": "null"}, {"type": "string"}]}
        ),
    ),
    max_leaves=12,
)


@st.composite
def _schemas_with_refs(draw: st.DrawFn) -> dict[str, Any]:
    """A schema whose parts live in ``$defs`` (or ``definitions``) and are used through ``$ref``."""
    defs_key = draw(st.sampled_from(["$defs", "definitions"]))
    parts = draw(st.dictionaries(_names, _schemas, min_size=1, max_size=3))
    names = sorted(parts)
    root = {
        "type": "object",
        "properties": {f"p_{name}": {"$ref": f"#/{defs_key}/{name}"} for name in names},
        "required": [f"p_{name}" for name in names],
        defs_key: parts,
    }
    return root


@settings(max_examples=100, deadline=None)
@given(schema=_schemas, seed=st.integers(0, 2**32))
def test_generated_values_validate(schema: dict[str, Any], seed: int) -> None:
    _assert_valid(schema, value_for_schema(schema, random.Random(seed)))


@settings(max_examples=40, deadline=None)
@given(schema=_schemas_with_refs(), seed=st.integers(0, 2**32))
def test_values_follow_refs(schema: dict[str, Any], seed: int) -> None:
    _assert_valid(schema, value_for_schema(schema, random.Random(seed)))


def test_the_same_seed_gives_the_same_value() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "number"}}}
    assert value_for_schema(schema, random.Random(7)) == value_for_schema(schema, random.Random(7))


@pytest.mark.parametrize("schema", [{}, {"type": "object"}, True])
def test_an_empty_or_open_schema_gives_a_non_empty_object(schema: Any) -> None:
    value = value_for_schema(schema, random.Random(1))
    assert isinstance(value, dict)
    assert value


def test_a_recursive_schema_terminates() -> None:
    schema = {
        "$defs": {
            "node": {
                "type": "object",
                "properties": {
                    "value": {"type": "integer"},
                    "children": {"type": "array", "items": {"$ref": "#/$defs/node"}},
                },
                "required": ["value", "children"],
                "additionalProperties": False,
            }
        },
        "$ref": "#/$defs/node",
    }
    for seed in range(20):
        _assert_valid(schema, value_for_schema(schema, random.Random(seed)))


def test_strict_mode_object_has_exactly_its_properties() -> None:
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
        "required": ["city", "unit"],
        "additionalProperties": False,
    }
    value = value_for_schema(schema, random.Random(3))
    assert set(value) == {"city", "unit"}
    assert value["unit"] in ("c", "f")


def test_one_of_with_disjoint_branches_matches_exactly_one() -> None:
    schema = {"oneOf": [{"type": "integer"}, {"type": "string"}, {"type": "boolean"}]}
    kinds = set()
    for seed in range(30):
        value = value_for_schema(schema, random.Random(seed))
        _assert_valid(schema, value)
        kinds.add(type(value))
    assert kinds == {int, str, bool}


@pytest.mark.parametrize(
    ("fmt", "pattern"),
    [
        ("date", r"^\d{4}-\d{2}-\d{2}$"),
        ("date-time", r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"),
        ("email", r"^[a-z]+\.[a-z]+@example\.com$"),
    ],
)
def test_string_formats_look_right(fmt: str, pattern: str) -> None:
    for seed in range(10):
        assert re.match(pattern, value_for_schema({"type": "string", "format": fmt}, random.Random(seed)))


def test_all_of_merges_properties_and_required() -> None:
    schema = {
        "allOf": [
            {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
            {"properties": {"b": {"type": "boolean"}}, "required": ["b"]},
        ]
    }
    value = value_for_schema(schema, random.Random(2))
    _assert_valid(schema, value)
    assert {"a", "b"} <= set(value)


def test_unique_items_are_unique() -> None:
    schema = {"type": "array", "items": {"enum": [1, 2, 3, 4, 5]}, "minItems": 3, "maxItems": 3, "uniqueItems": True}
    for seed in range(20):
        _assert_valid(schema, value_for_schema(schema, random.Random(seed)))


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=15,
)
_keywords = st.sampled_from(
    ["type", "properties", "required", "items", "enum", "const", "anyOf", "oneOf", "allOf", "$ref", "minItems",
     "maxItems", "minimum", "maximum", "minLength", "maxLength", "additionalProperties", "$defs", "format"]
)  # fmt: skip
_hostile_schemas = st.recursive(
    st.dictionaries(_keywords, _json_values, max_size=4),
    lambda children: st.dictionaries(_keywords, children | _json_values | st.lists(children, max_size=3), max_size=4),
    max_leaves=10,
)


@settings(max_examples=60, deadline=None)
@given(schema=_hostile_schemas, seed=st.integers(0, 2**32))
def test_any_json_as_a_schema_gives_a_json_value_without_raising(schema: dict[str, Any], seed: int) -> None:
    value = value_for_schema(schema, random.Random(seed))
    json.dumps(value, allow_nan=False)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": {"self": {"$ref": "#"}}, "required": ["self"]},
        {"$ref": "#"},
        {"type": "array", "minItems": 10**12, "items": {"type": "string", "minLength": 10**12}},
        {"type": "number", "minimum": -1.7e308, "maximum": 1.7e308},
        {"$ref": "#/nowhere/at/all"},
    ],
)
def test_unsatisfiable_or_huge_schemas_still_end(schema: dict[str, Any]) -> None:
    json.dumps(value_for_schema(schema, random.Random(0)), allow_nan=False)
