"""``value_for_schema``: a JSON value that validates against a JSON schema, drawn from a seeded RNG.

It covers what tool parameters and structured-output schemas use in practice (types, properties, required,
enum/const, anyOf/oneOf/allOf, items/prefixItems, bounds, simple formats, local ``$ref``). It does not try to
satisfy ``pattern`` or ``not``. Deep or recursive schemas fall back to the smallest value allowed, so generation
always ends.

Generation is linear in the schema and in what it makes: with a ``budget`` (characters), it stops making values
once the JSON text made so far is longer than that (later values are left out or ``null``: a caller that cuts the
text at the budget never shows them), so a schema asking for millions of values costs no more than the budget.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from typing import Any

__all__ = ["value_for_schema"]

#: below this depth values are as small as the schema allows (no optional properties, fewest items)
_SHALLOW_DEPTH = 6
#: past this depth (only reachable through schemas no finite value satisfies) generation stops descending
_MAX_DEPTH = 40
#: caps on sizes a schema may demand and on the values made in all, so a hostile schema cannot exhaust the server
_MAX_SIZE = 256
_MAX_NODES = 5_000
_WORDS = (
    "alpha", "bravo", "cedar", "delta", "ember", "fjord", "grove", "harbor", "iris", "jade",
    "kestrel", "lumen", "maple", "nova", "orbit", "pine", "quartz", "river", "sierra", "tide",
)  # fmt: skip
_FORMATTED = {
    "date": lambda rng: f"20{rng.randint(10, 29)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
    "date-time": lambda rng: (
        f"20{rng.randint(10, 29)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        f"T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z"
    ),
    "time": lambda rng: f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z",
    "email": lambda rng: f"{rng.choice(_WORDS)}.{rng.choice(_WORDS)}@example.com",
    "uri": lambda rng: f"https://example.com/{rng.choice(_WORDS)}",
    "uuid": lambda rng: "-".join("".join(rng.choices("0123456789abcdef", k=size)) for size in (8, 4, 4, 4, 12)),
    "hostname": lambda rng: f"{rng.choice(_WORDS)}.example.com",
    "ipv4": lambda rng: ".".join(str(rng.randint(1, 254)) for _ in range(4)),
}


def value_for_schema(schema: Any, rng: random.Random, *, budget: int | None = None) -> Any:
    """A value valid for ``schema`` (a JSON-schema dict or boolean); an empty or unknown schema gives an object.

    With ``budget``, values stop once their JSON text would be longer than ``budget`` characters (see above)."""
    return _Generator(schema if isinstance(schema, Mapping) else {}, rng, budget).value(schema, 0)


class _Generator:
    def __init__(self, root: Mapping[str, Any], rng: random.Random, budget: int | None) -> None:
        self.root = root
        self.rng = rng
        self.nodes_left = _MAX_NODES
        #: characters of JSON text still to make (never more than the text made: a lower bound of its length)
        self.chars_left = budget
        #: schemas already resolved or merged, by the ids of what they were made from (kept alive by the root)
        self._made: dict[tuple[int, ...], Mapping[str, Any]] = {}

    @property
    def exhausted(self) -> bool:
        return self.chars_left is not None and self.chars_left < 0

    def _spend(self, chars: int) -> None:
        if self.chars_left is not None:
            self.chars_left -= chars

    def value(self, schema: Any, depth: int) -> Any:
        self.nodes_left -= 1
        if depth > _MAX_DEPTH or self.nodes_left < 0 or self.exhausted:
            return None
        made = self._value(schema, depth)
        if made is None or isinstance(made, bool | int | float):
            self._spend(4)
        elif isinstance(made, str):
            self._spend(len(made) + 2)
        return made

    def _value(self, schema: Any, depth: int) -> Any:
        if schema is True or not isinstance(schema, Mapping):
            return self._object({}, depth)
        schema = self._resolved(schema)
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return self.rng.choice(schema["enum"])
        if isinstance(schema.get("allOf"), list):
            key = (id(schema), 0)
            merged = self._made.get(key)
            if merged is None:
                parts = [self._resolved(part) for part in schema["allOf"] if isinstance(part, Mapping)]
                merged = self._made[key] = _merged(schema, parts)
            schema = merged
        for combinator in ("anyOf", "oneOf"):
            options = schema.get(combinator)
            if isinstance(options, list) and options:
                branch = options[0] if depth >= _SHALLOW_DEPTH else self.rng.choice(options)
                if isinstance(branch, Mapping) and any(key != combinator for key in schema):
                    key = (id(schema), id(branch))
                    narrowed = self._made.get(key)
                    if narrowed is None:
                        rest = {name: value for name, value in schema.items() if name != combinator}
                        narrowed = self._made[key] = _merged(rest, [self._resolved(branch)])
                    branch = narrowed
                return self.value(branch, depth + 1)
        kind = self._type(schema, depth)
        if kind == "null":
            return None
        if kind == "boolean":
            return self.rng.random() < 0.5
        if kind == "integer":
            return self._integer(schema)
        if kind == "number":
            return self._number(schema)
        if kind == "string":
            return self._string(schema)
        if kind == "array":
            return self._array(schema, depth)
        return self._object(schema, depth)

    def _resolved(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        if not isinstance(schema.get("$ref"), str):
            return schema
        key = (id(schema),)
        resolved = self._made.get(key)
        if resolved is None:
            resolved = self._made[key] = self._resolve(schema)
        return resolved

    def _resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        seen = 0
        while isinstance(schema.get("$ref"), str) and seen < 32:
            target = _pointer(self.root, schema["$ref"])
            rest = {key: value for key, value in schema.items() if key != "$ref"}
            schema = _merged(rest, [target]) if rest else target
            seen += 1
        return schema

    def _type(self, schema: Mapping[str, Any], depth: int) -> str:
        declared = schema.get("type")
        if isinstance(declared, list) and declared:
            if depth >= _SHALLOW_DEPTH and "null" in declared:
                return "null"
            return str(self.rng.choice(declared))
        if isinstance(declared, str):
            return declared
        if "properties" in schema or "required" in schema or "additionalProperties" in schema:
            return "object"
        if "items" in schema or "prefixItems" in schema or "minItems" in schema:
            return "array"
        if "minLength" in schema or "maxLength" in schema or "format" in schema:
            return "string"
        if "minimum" in schema or "maximum" in schema:
            return "number"
        return "object"

    def _integer(self, schema: Mapping[str, Any]) -> int:
        low, high = _bounds(schema, default_low=0, default_high=100)
        low_int, high_int = math.ceil(low), math.floor(high)
        if schema.get("exclusiveMinimum") is not None and low_int == low:
            low_int += 1
        if schema.get("exclusiveMaximum") is not None and high_int == high:
            high_int -= 1
        step = schema.get("multipleOf")
        if isinstance(step, int) and not isinstance(step, bool) and step > 0:
            first = math.ceil(low_int / step)
            last = max(first, math.floor(high_int / step))
            return self.rng.randint(first, last) * step
        return self.rng.randint(low_int, max(low_int, high_int))

    def _number(self, schema: Mapping[str, Any]) -> float | int:
        if isinstance(schema.get("multipleOf"), int):
            return self._integer(schema)
        low, high = _bounds(schema, default_low=0.0, default_high=100.0)
        value = round(self.rng.uniform(low, high), 3)
        if not math.isfinite(value) or not low <= value <= high or _excluded(schema, value):
            value = low / 2 + high / 2
        return value

    def _string(self, schema: Mapping[str, Any]) -> str:
        shortest = _int_keyword(schema, "minLength", 0)
        make = _FORMATTED.get(str(schema.get("format")))
        if make is not None:
            text = str(make(self.rng))
            if shortest <= len(text) <= _int_keyword(schema, "maxLength", len(text)):
                return text
        longest = _int_keyword(schema, "maxLength", max(shortest, 24))
        words: list[str] = []
        target = self.rng.randint(min(max(shortest, 3), longest), longest) if longest > 0 else 0
        joined = 0  # len(" ".join(words)), kept as words are added
        while joined < target:
            word = self.rng.choice(_WORDS)
            joined += len(word) + (1 if words else 0)
            words.append(word)
        return " ".join(words)[:target].rstrip().ljust(target, "x") if target else ""

    def _array(self, schema: Mapping[str, Any], depth: int) -> list[Any]:
        declared_prefix = schema.get("prefixItems")
        prefix: list[Any] = declared_prefix if isinstance(declared_prefix, list) else []
        items = schema.get("items", {})
        fewest = max(_int_keyword(schema, "minItems", 0), 0)
        most = _int_keyword(schema, "maxItems", max(fewest, 3))
        if items is False:
            most = min(most, len(prefix))
        count = fewest if depth >= _SHALLOW_DEPTH else self.rng.randint(fewest, max(fewest, min(most, fewest + 3)))
        values: list[Any] = []
        self._spend(2)
        for position in range(count):
            if self.exhausted:
                break
            self._spend(1)
            item_schema = prefix[position] if position < len(prefix) else items
            value = self.value(item_schema, depth + 1)
            if schema.get("uniqueItems") is True:
                for _ in range(8):
                    if value not in values:
                        break
                    value = self.value(item_schema, depth + 1)
            values.append(value)
        return values

    def _object(self, schema: Mapping[str, Any], depth: int) -> dict[str, Any]:
        properties = schema.get("properties")
        properties = properties if isinstance(properties, Mapping) else {}
        declared_required = schema.get("required")
        required = (
            [name for name in declared_required if isinstance(name, str)] if isinstance(declared_required, list) else []
        )
        required_names = set(required)
        result: dict[str, Any] = {}
        self._spend(2)
        for name, subschema in properties.items():
            if self.exhausted:
                return result
            if name in required_names or (depth < _SHALLOW_DEPTH and self.rng.random() < 0.6):
                self._spend(len(name) + 4)
                result[name] = self.value(subschema, depth + 1)
        extra = schema.get("additionalProperties", True)
        for name in required:
            if self.exhausted:
                return result
            if name not in result:
                self._spend(len(name) + 4)
                result[name] = self.value(extra if isinstance(extra, Mapping) else {}, depth + 1)
        fewest = _int_keyword(schema, "minProperties", 0)
        if not properties and not required and extra is not False and fewest == 0 and depth == 0:
            fewest = 1
        while len(result) < fewest and extra is not False and not self.exhausted:
            name = f"{self.rng.choice(_WORDS)}_{len(result)}"
            result[name] = self.value(extra if isinstance(extra, Mapping) else {"type": "string"}, depth + 1)
        return result


def _merged(base: Mapping[str, Any], parts: list[Mapping[str, Any]]) -> dict[str, Any]:
    """A shallow union of schemas: properties merged, required joined, other keywords from the last part."""
    merged: dict[str, Any] = dict(base)
    for part in parts:
        for key, value in part.items():
            if key == "properties" and isinstance(merged.get(key), Mapping) and isinstance(value, Mapping):
                merged[key] = {**merged[key], **value}
            elif key == "required" and isinstance(merged.get(key), list) and isinstance(value, list):
                present = set(map(_hashable, merged[key]))
                merged[key] = [*merged[key], *(name for name in value if _hashable(name) not in present)]
            elif key != "allOf":
                merged.setdefault(key, value)
    return merged


def _hashable(value: Any) -> Any:
    """``value`` as a set member (``required`` should hold strings, but a schema is the client's to get wrong)."""
    return value if isinstance(value, str | int | float | bool | None) else repr(value)


def _pointer(root: Mapping[str, Any], ref: str) -> Mapping[str, Any]:
    if not ref.startswith("#"):
        return {}
    node: Any = root
    for raw in ref[1:].split("/")[1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return {}
    return node if isinstance(node, Mapping) else {}


def _bounds(schema: Mapping[str, Any], *, default_low: float, default_high: float) -> tuple[float, float]:
    low = _number_keyword(schema, "minimum")
    high = _number_keyword(schema, "maximum")
    exclusive_low = _number_keyword(schema, "exclusiveMinimum")
    exclusive_high = _number_keyword(schema, "exclusiveMaximum")
    if exclusive_low is not None:
        low = exclusive_low if low is None else max(low, exclusive_low)
    if exclusive_high is not None:
        high = exclusive_high if high is None else min(high, exclusive_high)
    if low is None and high is None:
        return default_low, default_high
    if low is None:
        assert high is not None
        return min(default_low, high - default_high), high
    if high is None:
        return low, low + default_high
    return low, max(low, high)


def _excluded(schema: Mapping[str, Any], value: float) -> bool:
    exclusive_low = _number_keyword(schema, "exclusiveMinimum")
    exclusive_high = _number_keyword(schema, "exclusiveMaximum")
    return (exclusive_low is not None and value <= exclusive_low) or (
        exclusive_high is not None and value >= exclusive_high
    )


def _number_keyword(schema: Mapping[str, Any], name: str) -> float | None:
    value = schema.get(name)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _int_keyword(schema: Mapping[str, Any], name: str, default: int) -> int:
    """A size keyword (``minItems``, ``maxLength``...), clamped to ``0.._MAX_SIZE``."""
    value = schema.get(name)
    chosen = value if isinstance(value, int) and not isinstance(value, bool) else default
    return min(max(chosen, 0), _MAX_SIZE)
