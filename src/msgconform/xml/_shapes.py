"""What a schema of the spec means in XML.

`Shapes.shape(schema)` follows `$ref`s, merges `allOf`, removes `null` (from `type: [X, "null"]`,
`nullable: true`, or a `oneOf`/`anyOf` with a null branch) and returns a `Shape`: the kind of
value, the resolved schema, and the effective `xml` object. At a `$ref`, keys written next
to it (the use site) win over the referenced schema's own, key by key; `xml.name` written at
the use site is kept apart (`site_name`) because only it may rename a property's element.

`Shapes.members(shape)` lists an object's properties in document order (`x-xml-order`,
else the order of `properties`). Results are cached per schema dict: a codec reads a
spec that does not change while it is in use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from ._parse import XmlError

SCALARS = frozenset({"integer", "number", "boolean", "string"})
KINDS = SCALARS | {"object", "array"}
_MAX_REFS = 64


@dataclass(frozen=True, eq=False)
class Shape:
    kind: str  # "object", "array", "integer", "number", "boolean", "string", or "any"
    schema: Mapping[str, Any]  # refs followed, allOf merged, null removed
    xml: Mapping[str, Any]  # the effective xml object (use-site keys win)
    site_name: str | None  # xml.name written at the use site
    component: str | None  # the component schema it was reached through, if any
    nullable: bool

    def namespace(self, inherited: str) -> str:
        """This element's namespace: its own `xml.namespace` ("" = none), else the parent's."""
        namespace = self.xml.get("namespace")
        return inherited if namespace is None else str(namespace)


@dataclass(frozen=True, eq=False)
class Member:
    key: str  # the JSON property name
    name: str  # the element's local name
    shape: Shape
    repeated: bool  # an unwrapped array: the element itself repeats, once per item


ANY = Shape("any", {}, {}, None, None, True)


class Shapes:
    def __init__(self, spec: Mapping[str, Any]) -> None:
        self._spec = spec
        self._shapes: dict[int, tuple[Mapping, Shape]] = {}
        self._members: dict[int, list[Member]] = {}
        self._named: dict[str, dict] = {}

    # -- entry points ---------------------------------------------------------------------

    def lookup(self, schema: str | Mapping[str, Any]) -> Shape:
        """A component name, a `#/...` pointer, or a schema dict -> its Shape."""
        if isinstance(schema, Mapping):
            return self.shape(schema)
        if not isinstance(schema, str) or not schema:
            raise TypeError("schema must be a component name, a '#/...' pointer or a schema dict")
        if schema not in self._named:
            escaped = schema.replace("~", "~0").replace("/", "~1")
            ref = schema if schema.startswith("#") else "#/components/schemas/" + escaped
            self._pointer(ref)  # fail now, with the name, if it is missing
            self._named[schema] = {"$ref": ref}
        return self.shape(self._named[schema])

    def root_name(self, shape: Shape) -> str:
        name = shape.xml.get("name") or shape.component
        if not name:
            raise XmlError("the schema has no XML root name: give it xml.name or use a component schema")
        return str(name)

    def item(self, array: Shape, wrapper_name: str) -> tuple[Shape, str]:
        """The items' Shape and element name: items' xml.name, else their component name,
        else the wrapper's own name (as OpenAPI says)."""
        items = self.shape(array.schema.get("items") or {})
        return items, str(items.xml.get("name") or items.component or wrapper_name)

    def extra(self, shape: Shape) -> Shape | None:
        """How an object's undocumented children are read and written: by its
        `additionalProperties` schema, generically if it has no `properties` at all (a map),
        or None: they are unknown elements."""
        extra = shape.schema.get("additionalProperties")
        if isinstance(extra, Mapping) and extra:
            return self.shape(extra)
        return None if shape.schema.get("properties") else ANY

    def members(self, shape: Shape) -> list[Member]:
        cached = self._members.get(id(shape))
        if cached is None:
            cached = self._members[id(shape)] = self._ordered_members(shape)
        return cached

    # -- resolution -----------------------------------------------------------------------

    def shape(self, schema: Mapping[str, Any]) -> Shape:
        cached = self._shapes.get(id(schema))
        if cached is not None and cached[0] is schema:
            return cached[1]
        if not isinstance(schema, Mapping):
            raise XmlError(f"a schema in the spec is not an object: {schema!r:.60}")
        result = self._resolve(schema)
        self._shapes[id(schema)] = (schema, result)
        return result

    def _resolve(self, schema: Mapping[str, Any]) -> Shape:
        merged: dict[str, Any] = {}  # outer keys win: filled with setdefault going inwards
        xml: dict[str, Any] = {}
        site_name = None
        component = None
        nullable = False
        at_site = True
        current = schema
        for _ in range(_MAX_REFS):
            own_xml = current.get("xml") or {}
            for key, value in own_xml.items():
                xml.setdefault(key, value)
            if at_site and site_name is None and own_xml.get("name"):
                site_name = str(own_xml["name"])
            nullable |= current.get("nullable") is True
            inner = self._inner(current)
            if inner is None:
                break
            follow, is_ref, null_branch = inner
            nullable |= null_branch
            for key, value in current.items():
                if key not in ("$ref", "xml", "oneOf", "anyOf"):
                    merged.setdefault(key, value)
            if is_ref:
                at_site = False
                ref = current["$ref"]
                if component is None and ref.startswith("#/components/schemas/"):
                    component = unquote(ref.rsplit("/", 1)[1]).replace("~1", "/").replace("~0", "~")
            current = follow
        else:
            raise XmlError(f"$ref chain longer than {_MAX_REFS} in the spec")
        for key, value in current.items():
            if key != "xml":
                merged.setdefault(key, value)
        if "allOf" in merged:
            merged, component = self._all_of(merged, xml, component)
        kind, null_type = _kind(merged)
        return Shape(kind, merged, xml, site_name, component, nullable or null_type)

    def _inner(self, schema: Mapping[str, Any]) -> tuple[Mapping, bool, bool] | None:
        """What `schema` stands for, if it is only a reference or a nullable wrapper."""
        if "$ref" in schema:
            return self._pointer(schema["$ref"]), True, False
        for keyword in ("oneOf", "anyOf"):
            branches = schema.get(keyword)
            if isinstance(branches, list) and branches:
                kept = [b for b in branches if not _is_null(b)]
                if len(kept) == 1:
                    return kept[0], False, len(kept) < len(branches)
        return None

    def _all_of(self, merged: dict, xml: dict, component: str | None) -> tuple[dict, str | None]:
        parts = [self.shape(part) for part in merged.pop("allOf")]
        combined: dict[str, Any] = {}
        properties: dict[str, Any] = {}
        order: list[str] = []
        for part in parts:
            combined.update(part.schema)
            properties.update(part.schema.get("properties") or {})
            order += part.schema.get("x-xml-order") or list(part.schema.get("properties") or {})
            for key, value in part.xml.items():
                xml.setdefault(key, value)
        own = merged.get("properties") or {}
        combined.update(merged)
        combined["properties"] = {**properties, **own}
        if "x-xml-order" not in merged:
            combined["x-xml-order"] = order + [key for key in own if key not in order]
        if component is None and len(parts) == 1:
            component = parts[0].component
        return combined, component

    def _pointer(self, ref: Any) -> Mapping[str, Any]:
        if not isinstance(ref, str) or not ref.startswith("#"):
            raise XmlError(f"unsupported $ref {ref!r}: only references inside the spec ('#/...')")
        node: Any = self._spec
        for token in unquote(ref[1:]).split("/")[1:]:
            token = token.replace("~1", "/").replace("~0", "~")
            try:
                node = node[int(token)] if isinstance(node, list) else node[token]
            except (KeyError, IndexError, ValueError, TypeError):
                raise XmlError(f"$ref {ref!r} points at nothing in the spec") from None
        if not isinstance(node, Mapping):
            raise XmlError(f"$ref {ref!r} is not a schema")
        return node

    def _ordered_members(self, shape: Shape) -> list[Member]:
        members = {}
        for key, sub in (shape.schema.get("properties") or {}).items():
            sub_shape = self.shape(sub)
            repeated = sub_shape.kind == "array" and not sub_shape.xml.get("wrapped", False)
            members[key] = Member(key, sub_shape.site_name or key, sub_shape, repeated)
        order = shape.schema.get("x-xml-order")
        if order is None:
            return list(members.values())
        by_name = {m.name: m for m in members.values()}
        ordered: list[Member] = []
        for entry in order:
            member = members.get(entry) or by_name.get(entry)
            if member is None:
                where = shape.component or shape.xml.get("name") or "an object schema"
                raise XmlError(f"x-xml-order of {where} names {entry!r}, which is not one of its properties")
            if member not in ordered:
                ordered.append(member)
        return ordered + [m for m in members.values() if m not in ordered]


def _is_null(schema: Any) -> bool:
    if not isinstance(schema, Mapping):
        return False
    kind = schema.get("type")
    if kind == "null" or kind == ["null"] or schema.get("enum") == [None]:
        return True
    return "const" in schema and schema["const"] is None


def _kind(schema: Mapping[str, Any]) -> tuple[str, bool]:
    """(kind, whether `type` allows null)."""
    declared = schema.get("type")
    nullable = False
    if isinstance(declared, list):
        nullable = "null" in declared
        others = [t for t in declared if t != "null"]
        declared = others[0] if len(others) == 1 else None
    if declared in KINDS:
        return declared, nullable
    if declared is None and "properties" in schema:
        return "object", nullable
    if declared is None and "items" in schema:
        return "array", nullable
    return "any", nullable
