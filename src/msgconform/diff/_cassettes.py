"""Two cassette folders: what the vendor's answers did differently (the behaviour diff).

Both folders must be recordings of the same suite: the manifests must agree on the seed
and `--max-examples` (else the runs sent different requests, and a diff would be noise).
Then, per API:

1. Every recorded answer is read once (`Answer`): the operation it answers (the request
   path matched against the spec's path templates), its status, media type, response
   header names and values, and its body as a shape and a masked value (`_bodies`).
2. **Answer by answer.** The requests of a cassette in OLD and of the same cassette in NEW
   are aligned (difflib's longest matching blocks) on a key that leaves out what the vendor
   handed out (digits in paths, queries and bodies), so a suite that sent one request less
   after an early difference still pairs the rest. A paired request whose status class
   changed, or whose media type changed, is a regression; another status, a header value
   or a body value that changed (volatile ones masked) is listed.
3. **Per operation.** All answers, paired or not, are grouped by operation, status and
   media type, and the groups compared: a header or body path that every OLD answer of a
   group had and NEW answers lack, or a path where NEW answers have a type no OLD answer had
   there (null aside: `integer → string`, `array → array, object`), is a regression; fewer of
   the types OLD had (`nil, text → text`: answers that were refused now) are listed; what was
   added is listed; a group of answers that is gone or new is listed; and an (operation,
   status) whose OLD answers all had one media type that NEW answers lack is a regression.

APIs may compare more than exchanges: `register_extra(api, compare)` adds a comparison
(for example SuperOffice's delivered mail, recorded beside the exchanges). `compare(old_dir,
new_dir)` gets the API's two cassette folders and returns `Change`s; `Groups` and
`compare_groups` do the per-group comparison for anything that can be written as items
with header names and a shape (a delivered mail: its header names, its MIME parts as paths,
its recipients per field).
"""

from __future__ import annotations

import contextlib
import difflib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import yaml
from deepdiff import DeepDiff

from msgconform import cassettes
from msgconform.diff import _bodies
from msgconform.diff._model import ApiDiff, Change, Diff
from msgconform.errors import UsageError

ExtraComparison = Callable[[Path, Path], list[Change]]
_EXTRA: dict[str, list[ExtraComparison]] = defaultdict(list)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DIGITS = re.compile(r"\d+")


def register_extra(api: str, compare: ExtraComparison) -> None:
    """Add a comparison for `api`'s recordings beside the exchanges (see the module docstring)."""
    if compare not in _EXTRA[api]:
        _EXTRA[api].append(compare)


# --- reading --------------------------------------------------------------------------------


@dataclass
class Answer:
    cassette: str
    key: str  # the request, up to the identifiers the vendor handed out
    operation: str
    status: int
    media: str
    headers: dict[str, str]  # lower-case name -> value as compared
    shape: dict[str, set[str]]
    value: Any
    accept: str = ""  # what the request asked for
    root: str = "$"  # where body paths start: `$` (JSON), `/Root` (XML read by the codec), "" (else)

    @property
    def group(self) -> str:
        return f"{self.operation} → {self.status} {self.media}"


class _Spec:
    """The spec's path templates and XML codec of one API (absent for an API this version lacks)."""

    def __init__(self, api: str, base_url: str) -> None:
        self.prefix = urlsplit(base_url).path.rstrip("/")
        self.templates: list[tuple[re.Pattern, str, dict]] = []
        self.spec: dict | None = None
        try:
            from msgconform import specs

            self.spec = specs.load(api)
        except (LookupError, ValueError, OSError):
            return
        for template, operations in (self.spec.get("paths") or {}).items():
            pattern = re.compile("^" + re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(template)) + "$")
            self.templates.append((pattern, template, operations))
        self.templates.sort(key=lambda t: t[1].count("{"))  # literal segments win

    @cached_property
    def codec(self):
        from msgconform.xmlcodec import XmlCodec

        return XmlCodec(self.spec) if self.spec else None

    def operation(self, method: str, path: str) -> tuple[str, dict | None]:
        rest = path[len(self.prefix) :] if self.prefix and path.startswith(self.prefix) else path
        for pattern, template, operations in self.templates:
            if pattern.match(rest):
                return f"{method} {template}", operations.get(method.lower())
        return f"{method} {_DIGITS.sub('{n}', rest)}", None

    def schema(self, operation: dict | None, status: int, media: str) -> Any:
        if not operation or self.spec is None:
            return None
        from msgconform import specs

        responses = operation.get("responses") or {}
        response = responses.get(str(status)) or responses.get(f"{status // 100}XX") or responses.get("default")
        if isinstance(response, dict) and "$ref" in response:
            response = specs.resolve(self.spec, response["$ref"])
        content = (response or {}).get("content") or {}
        entry = content.get(media) or next((v for k, v in content.items() if _bodies.is_xml(k)), None)
        return (entry or {}).get("schema")

    def codec_read(self, operation: dict | None, status: int, media: str) -> Callable[[str], Any]:
        def read(body: str):
            schema = self.schema(operation, status, media)
            if schema is None or self.codec is None:
                return None
            from msgconform.xml._parse import parse, split
            from msgconform.xmlcodec import XmlError

            try:
                value = self.codec.loads(body, schema)
                findings = self.codec.problems(body, schema)
                root = split(parse(body).tag)[1]
            except (XmlError, LookupError, ValueError, TypeError):
                return None
            return root, value, findings

        return read


def _headers(raw: dict) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, values in (raw or {}).items():
        values = values if isinstance(values, list) else [values]
        out.setdefault(str(name).lower(), []).extend(str(v) for v in values)
    return out


def _text(body: Any) -> str:
    if isinstance(body, dict):
        body = body.get("string", "")
    if body is None:
        return ""
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace")
    return str(body)


class _Ids:
    """The identifiers a recording's answers handed out, each named by where it first came
    (`cassette#n`): two recordings of the same suite name them alike whatever the values."""

    _XML_ID = re.compile(r"<(?:[\w.-]+:)?([\w.-]*(?:id|Id|ID))(?:\s[^>]*)?>\s*(-?\d+)\s*<")

    def __init__(self, stable: Iterable[Any]) -> None:
        self.stable = {str(value) for value in stable}  # the users' ids: the same in both, kept
        self.names: dict[str, str] = {}
        self._counts: Counter = Counter()

    def collect(self, cassette: str, response: dict) -> None:
        headers = _headers(response.get("headers") or {})
        found: list[str] = []
        for value in headers.get("location", []):
            found += re.findall(r"(?<![\w.])\d+(?![\w.])", urlsplit(value).path)
        body = _text(response.get("body"))
        stripped = body.lstrip()
        if stripped.startswith(("{", "[")):
            with contextlib.suppress(ValueError):
                self._json(json.loads(body), "", found)
        elif stripped.startswith("<"):
            found += [m.group(2) for m in self._XML_ID.finditer(body)]
        for value in found:
            value = value.lstrip("-")
            if value not in self.names and value not in self.stable and value != "0":
                self._counts[cassette] += 1
                self.names[value] = f"<{cassette}#{self._counts[cassette]}>"

    def _json(self, value: Any, key: str, found: list[str]) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                self._json(v, str(k), found)
        elif isinstance(value, list):
            for item in value:
                self._json(item, key, found)
        elif (
            key
            and _bodies._ID_KEY.search(key)
            and not isinstance(value, bool)
            and isinstance(value, (int, str))
            and re.fullmatch(r"-?\d+", str(value))
        ):
            found.append(str(value))

    def name(self, value: str) -> str:
        """`value` (a whole path segment, query value or body value) by its name when it is
        an identifier handed out (`-82` -> `-<cassette#3>`), else as it is."""
        text = str(value)
        sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
        return sign + self.names[digits] if digits in self.names else text

    def in_body(self, value: Any, key: str = "") -> Any:
        """A JSON body with the identifiers it carries (under members named `…Id`, `…Ids`) named."""
        if isinstance(value, dict):
            return {k: self.in_body(v, str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.in_body(item, key) for item in value]
        if key and _bodies._ID_KEY.search(key) and isinstance(value, (int, str)) and not isinstance(value, bool):
            return self.name(str(value))
        return value

    def in_xml(self, shape: Any, idish: bool = False) -> Any:
        """An XML body as `cassettes.normalized_body` gives it (tag, attributes, text, children)."""
        if not isinstance(shape, tuple) or len(shape) != 4:
            return shape
        tag, attributes, text, children = shape
        local = str(tag).rpartition("}")[2]
        here = idish or bool(_bodies._ID_KEY.search(local))
        return (
            tag,
            attributes,
            self.name(text) if here and text else text,
            tuple(self.in_xml(child, here) for child in children),
        )


def _request_key(request: dict, spec: _Spec, ids: _Ids) -> str:
    parts = urlsplit(str(request["uri"]))
    method = str(request["method"]).upper()
    operation, _ = spec.operation(method, parts.path)
    headers = _headers(request.get("headers") or {})
    path = parts.path[len(spec.prefix) :] if spec.prefix and parts.path.startswith(spec.prefix) else parts.path
    template = operation.split(" ", 1)[1].split("/")
    segments = path.split("/")
    if len(template) == len(segments):  # only what the template leaves open can be an id
        segments = [ids.name(seg) if t.startswith("{") else seg for seg, t in zip(segments, template, strict=True)]
    else:
        segments = [ids.name(seg) for seg in segments]
    query = "&".join(f"{k}={ids.name(v)}" for k, v in parse_qsl(parts.query, keep_blank_values=True))
    body = cassettes.normalized_body(_text(request.get("body")) or None)
    if isinstance(body, tuple) and body[0] == "json":
        body = ("json", json.dumps(ids.in_body(json.loads(body[1])), sort_keys=True))
    elif isinstance(body, tuple) and body[0] == "xml":
        body = ("xml", ids.in_xml(body[1]))
    return _bodies.mask_nonce(
        json.dumps(
            [
                operation,
                "/".join(segments),
                query,
                headers.get("accept"),
                headers.get("content-type"),
                headers.get("authorization"),
                repr(body),
            ],
            ensure_ascii=False,
        )
    )


def read_answers(folder: Path, spec: _Spec, stable_ids: Iterable[Any] = ()) -> dict[str, list[Answer]]:
    """cassette name -> its answers, in order. UsageError (one line) for a broken cassette."""
    recorded: dict[str, list[dict]] = {}
    ids = _Ids(stable_ids)
    for path in sorted(folder.glob("*.yaml")):
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 - _LOADER is a SafeLoader
            recorded[path.stem] = list(data["interactions"])
            for interaction in recorded[path.stem]:
                ids.collect(path.stem, interaction["response"])
        except (yaml.YAMLError, UnicodeDecodeError, OSError, KeyError, TypeError, AttributeError, ValueError) as exc:
            raise UsageError(f"diff: {path}: not a readable cassette ({exc.__class__.__name__})") from None
    answers: dict[str, list[Answer]] = {}
    for cassette, interactions in recorded.items():
        try:
            answers[cassette] = [_answer(cassette, i, spec, ids) for i in interactions]
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise UsageError(
                f"diff: {folder / cassette}.yaml: not a readable cassette ({exc.__class__.__name__})"
            ) from None
    return answers


def _answer(cassette: str, interaction: dict, spec: _Spec, ids: _Ids) -> Answer:
    request, response = interaction["request"], interaction["response"]
    method = str(request["method"]).upper()
    operation, op = spec.operation(method, urlsplit(str(request["uri"])).path)
    status = int(response["status"]["code"])
    headers = _headers(response.get("headers") or {})
    body = _text(response.get("body"))
    content_type = (headers.get("content-type") or [""])[0]
    media = _bodies.media_type(content_type) or ("(untyped)" if body.strip() else "(no body)")
    shape, value, root = _bodies.read(body, media, spec.codec_read(op, status, media))
    compared = {
        name: _bodies.header_value(name, ", ".join(values))
        for name, values in headers.items()
        if name not in _bodies.IGNORED_HEADERS
    }
    accept = ", ".join(_headers(request.get("headers") or {}).get("accept", [])) or "(none)"
    return Answer(
        cassette, _request_key(request, spec, ids), operation, status, media, compared, shape, value, accept, root
    )


# --- per group ---------------------------------------------------------------------------------


@dataclass
class Group:
    count: int = 0
    headers: Counter = field(default_factory=Counter)
    paths: Counter = field(default_factory=Counter)
    containers: Counter = field(default_factory=Counter)  # path -> items in which it held an object, array or element
    types: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def holders(self, path: str) -> int:
        """How many items could have had `path`: those whose parent of it was an object (an
        array's items, an element); all of them for a header or a top-level path."""
        parent = _parent(path)
        return self.count if parent is None else self.containers.get(parent, 0)


_CONTAINERS = frozenset({"object", "array", "element"})
_XML_STEP = re.compile(r"/(?:\{[^}]*\})?[^/{]*")
_NULLS = frozenset({"null", "nil"})  # JSON null, an XML element with i:nil
_JSON_STEP = re.compile(r"\['(?:[^'\\]|\\.)*'\]|\[\]|\.[^.\[]*")


def _parent(path: str) -> str | None:
    """`$.To[].PersonId` -> `$.To[]`, `/Message/Subject` -> `/Message`; None at the top."""
    if path.startswith("("):  # `(text)`, `(codec) finding`: about the whole body
        return None
    if path.startswith("$"):  # steps: `.name`, `['name.with.dots']`, `[]`
        steps = _JSON_STEP.findall(path[1:])
        return "$" + "".join(steps[:-1]) if steps else None
    steps = _XML_STEP.findall(path)  # steps: `/name`, `/{namespace/with/slashes}name`, `[]` kept on its step
    return "".join(steps[:-1]) or None


class Groups:
    """Items grouped by a label: how many, which headers and paths each had, with which types."""

    def __init__(self) -> None:
        self.groups: dict[str, Group] = {}

    def add(self, label: str, headers: Iterable[str], shape: dict[str, set[str]]) -> None:
        group = self.groups.setdefault(label, Group())
        group.count += 1
        group.headers.update(set(headers))
        group.paths.update(shape.keys())
        for path, kinds in shape.items():
            group.types[path] |= kinds
            if kinds & _CONTAINERS:
                group.containers[path] += 1


def _types(kinds: set[str]) -> str:
    return ", ".join(sorted(kinds)) or "-"


def compare_groups(
    api: str,
    old: Groups,
    new: Groups,
    *,
    what: str = "answers",
    sections: tuple[str, str] = ("headers", "body"),
    gone_regresses: bool = False,
) -> list[Change]:
    """Headers and paths every OLD item of a group had and NEW items lack, retyped paths (regressions);
    additions, and groups gone or new (listed; a group gone is a regression with `gone_regresses`).
    `sections` names the two kinds of change in the output (headers, then paths)."""
    changes: list[Change] = []
    header_section, path_section = sections
    for label in dict.fromkeys([*old.groups, *new.groups]):
        before, after = old.groups.get(label), new.groups.get(label)
        if after is None:
            assert before is not None  # label is a group of one of the two
            changes.append(
                Change(
                    api,
                    f"{what} not delivered" if gone_regresses else f"{what} no longer seen",
                    label,
                    "",
                    f"{before.count} {what}",
                    "none",
                    regression=gone_regresses,
                )
            )
            continue
        if before is None:
            changes.append(Change(api, f"{what} new", label, "", "none", f"{after.count} {what}"))
            continue
        for section, counts_old, counts_new in (
            (header_section, before.headers, after.headers),
            (path_section, before.paths, after.paths),
        ):
            for name in dict.fromkeys([*counts_old, *counts_new]):
                had, has = counts_old.get(name, 0), counts_new.get(name, 0)
                if section == path_section and name.endswith("[]"):
                    could_old, could_new = had, has  # array items: an empty array is a value, not a loss
                elif section == path_section:
                    could_old, could_new = before.holders(name), after.holders(name)
                else:
                    could_old, could_new = before.count, after.count
                if had and had == could_old and has < could_new:
                    changes.append(
                        Change(
                            api,
                            f"{section}: removed",
                            label,
                            name,
                            f"in all {had}",
                            f"in {has} of {could_new}",
                            regression=True,
                        )
                    )
                elif had == 0 and has:
                    changes.append(Change(api, f"{section}: added", label, name, "absent", f"in {has} of {could_new}"))
                elif had and not has:
                    changes.append(
                        Change(api, f"{section}: no longer seen", label, name, f"in {had} of {could_old}", "absent")
                    )
        for path in before.types.keys() & after.types.keys():
            was, now = before.types[path] - _NULLS, after.types[path] - _NULLS
            if was and now and now - was:
                kind, regression = "retyped", True
            elif was and now and was != now:  # fewer of the types OLD had: nothing a client met is new
                kind, regression = "types no longer seen", False
            elif before.types[path] != after.types[path]:
                kind, regression = "nullability changed", False
            else:
                continue
            changes.append(
                Change(
                    api,
                    f"{path_section}: {kind}",
                    label,
                    path,
                    _types(before.types[path]),
                    _types(after.types[path]),
                    regression=regression,
                )
            )
    return changes


def _media_regressions(api: str, old: list[Answer], new: list[Answer]) -> list[Change]:
    """Requests of an operation asking for the same media types (`Accept`) whose OLD answers
    of a status all had one media type that some NEW answers of that status lack."""
    by_old: dict[tuple[str, int, str], set[str]] = defaultdict(set)
    by_new: dict[tuple[str, int, str], Counter] = defaultdict(Counter)
    for a in old:
        by_old[(a.operation, a.status, a.accept)].add(a.media)
    for a in new:
        by_new[(a.operation, a.status, a.accept)][a.media] += 1
    changes = []
    for (operation, status, accept), medias in by_old.items():
        now = by_new.get((operation, status, accept))
        if len(medias) == 1 and now:
            media = next(iter(medias))
            lacking = sum(n for m, n in now.items() if m != media)
            if lacking:
                changes.append(
                    Change(
                        api,
                        "media type",
                        f"{operation} → {status} (Accept: {accept})",
                        "",
                        media,
                        ", ".join(sorted(now)) + f" ({lacking} of {sum(now.values())} not {media})",
                        regression=True,
                    )
                )
    return changes


# --- answer by answer ------------------------------------------------------------------------


def _pairs(old: list[Answer], new: list[Answer]) -> list[tuple[Answer, Answer]]:
    matcher = difflib.SequenceMatcher(None, [a.key for a in old], [a.key for a in new], autojunk=False)
    return [(old[block.a + k], new[block.b + k]) for block in matcher.get_matching_blocks() for k in range(block.size)]


_DEEPDIFF_PATH = re.compile(r"\['((?:[^'\\]|\\.)*)'\]|\[(\d+)\]")


def _path(deep_path: str, root: str) -> str:
    sep = "." if root == "$" else "/"
    path = root + "".join(
        f"{sep}{m.group(1)}" if m.group(1) is not None else "[]"
        for m in _DEEPDIFF_PATH.finditer(deep_path.removeprefix("root"))
    )
    return path or "(body)"


def _compare_pair(api: str, old: Answer, new: Answer, found: Counter, labels: dict) -> None:
    def note(section: str, where: str, subject: str, before: Any, after: Any, regression: bool = False) -> None:
        key = (section, where, subject, _show(before), _show(after), regression)
        found[key] += 1
        labels.setdefault(key, None)

    if old.status != new.status:
        note("status", old.operation, "", old.status, new.status, regression=old.status // 100 != new.status // 100)
        return
    if old.media != new.media:
        return  # judged per operation and Accept (`_media_regressions`), paired or not
    for name in old.headers.keys() & new.headers.keys():
        if old.headers[name] != new.headers[name]:
            note("header value", old.group, name, old.headers[name], new.headers[name])
    if old.root != new.root:
        return  # read another way (the codec could not read one of them): the shapes tell
    diff = DeepDiff(old.value, new.value, verbose_level=2)
    root = old.root
    for deep_path, change in (diff.get("values_changed") or {}).items():
        note("body value", old.group, _path(deep_path, root), change["old_value"], change["new_value"])
    for kind, before, after in (("iterable_item_added", False, True), ("iterable_item_removed", True, False)):
        for deep_path, value in (diff.get(kind) or {}).items():  # one list item more or less
            note(
                "body item " + ("added" if after else "removed"),
                old.group,
                _path(deep_path, root),
                value if before else "-",
                value if after else "-",
            )


def _show(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= 80 else text[:77] + "..."


# --- the whole diff ----------------------------------------------------------------------------


def _manifest(folder: Path, side: str) -> dict:
    try:
        return cassettes.read_manifest(folder)
    except cassettes.CassetteError as exc:
        raise UsageError(f"diff: {side}: {exc}") from None


def diff(old_dir: Path, new_dir: Path, *, strict: bool) -> Diff:
    old_manifest, new_manifest = _manifest(old_dir, "OLD"), _manifest(new_dir, "NEW")
    if (old_manifest["seed"], old_manifest["max_examples"]) != (new_manifest["seed"], new_manifest["max_examples"]):
        raise UsageError(
            f"diff: {old_dir} was recorded with seed {old_manifest['seed']} and --max-examples "
            f"{old_manifest['max_examples']}, {new_dir} with seed {new_manifest['seed']} and --max-examples "
            f"{new_manifest['max_examples']}: not recordings of the same suite (record both the same way)"
        )
    result = Diff("cassettes", str(old_dir), str(new_dir), strict, ignored=list(_bodies.VOLATILE))
    if old_manifest.get("version") != new_manifest.get("version"):
        result.notes.append(
            f"recorded by msgconform {old_manifest.get('version')} (OLD) and {new_manifest.get('version')} (NEW)"
        )
    for api in dict.fromkeys([*old_manifest["apis"], *new_manifest["apis"]]):
        if api not in new_manifest["apis"] or api not in old_manifest["apis"]:
            side = "OLD" if api in old_manifest["apis"] else "NEW"
            result.apis.append(
                ApiDiff(
                    api,
                    "recorded" if side == "OLD" else "absent",
                    "recorded" if side == "NEW" else "absent",
                    notes=[f"recorded only in {side}: nothing to compare"],
                )
            )
            continue
        result.apis.append(_api_diff(api, old_dir, new_dir, old_manifest, new_manifest))
    return result


def _user_ids(manifest: dict, api: str) -> list[Any]:
    users = manifest["apis"][api].get("users") or {}
    return [user.get("id") for user in users.values() if isinstance(user, dict) and user.get("id") is not None]


def _api_diff(api: str, old_dir: Path, new_dir: Path, old_manifest: dict, new_manifest: dict) -> ApiDiff:
    old_spec = _Spec(api, old_manifest["apis"][api].get("base_url", ""))
    new_spec = _Spec(api, new_manifest["apis"][api].get("base_url", ""))
    old = read_answers(old_dir / api, old_spec, _user_ids(old_manifest, api))
    new = read_answers(new_dir / api, new_spec, _user_ids(new_manifest, api))
    api_diff = ApiDiff(api, "recorded", "recorded")
    found: Counter = Counter()
    labels: dict = {}
    unpaired_old = unpaired_new = paired = 0
    for cassette in dict.fromkeys([*old, *new]):
        if cassette not in old or cassette not in new:
            side = "OLD" if cassette in old else "NEW"
            api_diff.notes.append(f"cassette {cassette} only in {side} (its answers are compared per operation)")
            continue
        pairs = _pairs(old[cassette], new[cassette])
        paired += len(pairs)
        unpaired_old += len(old[cassette]) - len(pairs)
        unpaired_new += len(new[cassette]) - len(pairs)
        for a, b in pairs:
            _compare_pair(api, a, b, found, labels)
    for (section, where, subject, before, after, regression), count in found.items():
        api_diff.changes.append(
            Change(
                api,
                section,
                where,
                subject,
                before,
                after,
                regression,
                note=f"{count} paired answer{'s' if count != 1 else ''}",
            )
        )
    all_old = [a for answers in old.values() for a in answers]
    all_new = [a for answers in new.values() for a in answers]
    api_diff.changes += _media_regressions(api, all_old, all_new)
    old_groups, new_groups = Groups(), Groups()
    for answers, groups in ((all_old, old_groups), (all_new, new_groups)):
        for a in answers:
            groups.add(a.group, a.headers, a.shape)
    api_diff.changes += compare_groups(api, old_groups, new_groups)
    for compare in _EXTRA.get(api, []):
        api_diff.changes += compare(old_dir / api, new_dir / api)
    api_diff.notes.append(
        f"{paired} requests paired answer by answer; {unpaired_old} in OLD and {unpaired_new} "
        f"in NEW could not be paired (compared per operation only)"
    )
    return api_diff
