"""The OpenAPI specs in `specs/<api>.yaml`, loaded once and looked into.

A spec is plain data: this module parses it (once per API), hands out copies, and offers the
three look-ups everything else needs — a `$ref`, an operation by its operationId, and a
JSON Schema validator for one component whose `$ref`s resolve inside the spec. It knows
nothing about any particular API.

Formats (`date-time`, `uri-reference`) are annotations in these validators, as JSON Schema
2020-12 has them by default: whether a value has the right format is judged by the cases
that say so (such as ITS-GET-004), not silently by whichever format libraries are installed.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

import jsonschema
import referencing
import referencing.jsonschema

from msgconform import _resources, _yaml

__all__ = ["load", "operation", "resolve", "validator"]

_BASE = "urn:msgconform:spec"  # where validators find the spec, for its local $refs
_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@cache
def _parsed(api: str) -> dict[str, Any]:
    path = _resources.spec_path(api)
    if not path.is_file():
        raise LookupError(f"no OpenAPI spec for API {api!r} (looked for {path})")
    spec = _yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(spec, dict) or not str(spec.get("openapi", "")).startswith("3.1"):
        raise ValueError(f"{path.name}: not an OpenAPI 3.1 document")
    try:
        # Through JSON once: YAML aliases (&sample / *sample) become separate copies, and a
        # value JSON cannot hold (an unquoted YAML date, say) is an error here, not later.
        return json.loads(json.dumps(spec))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path.name}: not JSON-compatible ({exc})") from None


def load(api: str) -> dict[str, Any]:
    """The spec of `api` as a dict (a fresh copy each call: callers may change it freely)."""
    return copy.deepcopy(_parsed(api))


def resolve(spec: dict[str, Any], ref: str) -> Any:
    """What a local `$ref` such as `#/components/schemas/Message` points to."""
    if not ref.startswith("#/"):
        raise ValueError(f"only local $refs are supported, not {ref!r}")
    node: Any = spec
    for token in ref[2:].split("/"):
        key = token.replace("~1", "/").replace("~0", "~")
        try:
            node = node[int(key)] if isinstance(node, list) else node[key]
        except (KeyError, IndexError, ValueError):
            raise LookupError(f"$ref {ref!r} points to nothing") from None
    return node


def nullable_properties(spec: dict[str, Any], schema_name: str) -> tuple[str, ...]:
    """The members of a component schema that may be null, in the spec's order: those typed
    `[..., 'null']` or `oneOf` a `null` (in .NET terms the reference-typed ones; value types
    such as integers, booleans, dates and enums cannot be null)."""
    members = []
    for name, schema in spec["components"]["schemas"][schema_name].get("properties", {}).items():
        types = schema.get("type")
        alternatives = schema.get("oneOf", []) + schema.get("anyOf", [])
        if (isinstance(types, list) and "null" in types) or any(alt.get("type") == "null" for alt in alternatives):
            members.append(name)
    return tuple(members)


def operation(spec: dict[str, Any], operation_id: str) -> tuple[str, str, dict[str, Any]]:
    """(path, METHOD, operation object) of the operation named `operation_id`."""
    for path, item in spec.get("paths", {}).items():
        for method in _HTTP_METHODS:
            op = item.get(method)
            if isinstance(op, dict) and op.get("operationId") == operation_id:
                return path, method.upper(), op
    raise LookupError(f"no operation with operationId {operation_id!r}")


def validator(spec: dict[str, Any], schema: dict[str, Any] | str) -> jsonschema.Draft202012Validator:
    """A 2020-12 validator for `schema`: a `#/...` ref into `spec`, or a schema taken from it.

    Local `$ref`s resolve against the whole spec, so component schemas work as they are.
    """
    if isinstance(schema, str):
        resolve(spec, schema)  # fail early, with a clear message, on a dangling ref
        schema = {"$ref": schema}
    resource = referencing.jsonschema.DRAFT202012.create_resource(spec)
    registry: referencing.Registry = referencing.Registry().with_resource(_BASE, resource)
    return jsonschema.Draft202012Validator(_anchored(schema), registry=registry)


def _anchored(node: Any) -> Any:
    """A copy of `node` whose local `$ref`s point into the registered spec."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        copied = {key: _anchored(value) for key, value in node.items()}
        if isinstance(ref, str) and ref.startswith("#"):
            copied["$ref"] = _BASE + ref
        return copied
    if isinstance(node, list):
        return [_anchored(item) for item in node]
    return node
