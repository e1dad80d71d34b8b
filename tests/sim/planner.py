"""The simulated LLM's structured output: a JSON-Schema-conforming object, generically.

`generate(schema)` builds an instance of a JSON Schema (the `input_schema` of a forced
tool, or `output_config.format.schema`): strings "sim text" (or one matching `pattern`),
integers at their minimum (else 1), numbers 5 within bounds, arrays with `minItems` (or 1)
items, objects with their required properties (all if none is marked required),
`$ref`/`$defs`, `anyOf`/`oneOf` (first non-null), `enum`/`const`.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

Responder = Callable[[dict[str, Any]], dict[str, Any]]


class _Gen:
    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.counter = 0

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        seen = 0
        while "$ref" in schema and seen < 50:
            ref = str(schema["$ref"])
            node: Any = self.root
            for part in ref.lstrip("#/").split("/"):
                if part:
                    node = node[part.replace("~1", "/").replace("~0", "~")]
            schema = {**node, **{k: v for k, v in schema.items() if k != "$ref"}}
            seen += 1
        return schema

    def value(self, schema: Any, name: str = "") -> Any:
        if not isinstance(schema, dict):
            return "sim text"
        schema = self.resolve(schema)
        if "const" in schema:
            return copy.deepcopy(schema["const"])
        if schema.get("enum"):
            return copy.deepcopy(schema["enum"][0])
        if "default" in schema and schema["default"] is not None:
            return copy.deepcopy(schema["default"])
        for key in ("anyOf", "oneOf"):
            if key in schema:
                opts = [self.resolve(o) for o in schema[key] if isinstance(o, dict)]
                non_null = [o for o in opts if o.get("type") != "null"]
                return self.value((non_null or opts or [{}])[0], name)
        if "allOf" in schema:
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                merged.update(self.resolve(part))
            return self.value(merged, name)
        typ = schema.get("type")
        if isinstance(typ, list):
            typ = next((t for t in typ if t != "null"), "null")
        if typ is None:
            typ = "object" if "properties" in schema else "array" if "items" in schema else "string"
        if typ == "object":
            props = schema.get("properties", {})
            if "required" in schema:  # optional ones could be paths or ids: leave them out
                props = {k: v for k, v in props.items() if k in schema["required"]}
            return {k: self.value(v, k) for k, v in props.items()}
        if typ == "array":
            n = max(int(schema.get("minItems", 1)), 1)
            if "maxItems" in schema:
                n = min(n, int(schema["maxItems"]))
            return [self.value(schema.get("items", {}), name) for _ in range(n)]
        if typ == "integer":
            return int(self.number(schema, integer=True))
        if typ == "number":
            return self.number(schema, integer=False)
        if typ == "boolean":
            return False
        if typ == "null":
            return None
        return self.string(schema)

    def number(self, schema: dict[str, Any], *, integer: bool) -> float:
        lo = schema.get("minimum")
        hi = schema.get("maximum")
        if schema.get("exclusiveMinimum") is not None:
            x = float(schema["exclusiveMinimum"])
            lo = x + 1 if integer else x + min(1.0, (float(hi) - x) / 2 if hi is not None else 1.0)
        if schema.get("exclusiveMaximum") is not None:
            hi = float(schema["exclusiveMaximum"]) - (1 if integer else 1e-6)
        v = 1.0 if integer else 5.0  # integers: counts and 1-based indexes; numbers: seconds
        if lo is not None:
            v = max(v, float(lo))
        if hi is not None:
            v = min(v, float(hi))
        return float(int(v)) if integer else v

    def string(self, schema: dict[str, Any]) -> str:
        self.counter += 1
        i = self.counter
        min_len = int(schema.get("minLength", 0))
        max_len = int(schema.get("maxLength", 10_000))
        pattern = schema.get("pattern")
        candidates = ["sim text", f"sim-{i}", f"sim{i}", f"s{i}", str(i), "sim", "a", "A"]
        if schema.get("format") == "date":
            candidates.insert(0, "2025-01-01")
        for c in candidates:
            c = c.ljust(min_len, "x")[:max_len]
            if pattern is None or re.search(pattern, c):
                return c
        return "sim text"


def generate(schema: dict[str, Any]) -> Any:
    """An instance of `schema` (see module docstring)."""
    return _Gen(schema).value(schema)


def drop_field(obj: Any, field: str | None = None) -> Any:
    """A copy of `obj` with one field removed from its first object inside an array.

    That models "one scene is missing a field". With `field`, that key is removed where
    first found; otherwise the last key of the first array item (or of `obj` itself).
    """
    out = copy.deepcopy(obj)

    def first_item(node: Any) -> dict[str, Any] | None:
        if isinstance(node, dict):
            for v in node.values():
                hit = first_item(v)
                if hit is not None:
                    return hit
        elif isinstance(node, list):
            for v in node:
                if isinstance(v, dict):
                    return v
        return None

    def with_key(node: Any, key: str) -> dict[str, Any] | None:
        if isinstance(node, dict):
            if key in node:
                return node
            children: list[Any] = list(node.values())
        elif isinstance(node, list):
            children = node
        else:
            return None
        for v in children:
            hit = with_key(v, key)
            if hit is not None:
                return hit
        return None

    if field:
        target = with_key(out, field)
        if target is not None:
            del target[field]
        return out
    target = first_item(out) or (out if isinstance(out, dict) else None)
    if target:
        del target[list(target)[-1]]
    return out
