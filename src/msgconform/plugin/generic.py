"""Generic response checks, shared by every API's suite.

Each one delegates the judgement to a Schemathesis check where Schemathesis has one,
but decides itself whether it applies: Schemathesis returns nothing both when a check
passes and when it did not apply, and msgconform never counts "did not apply" as judged.
A suite binds these to its own case ids with `response_check(api, case_id)(fn)`.

A suite's own checks that read a body against its API's spec share the look-ups here:
the spec, its XML codec and a validator per component schema, each built once per API
(`spec_of`, `codec_of`, `validator_of`), and `schema_problem`, the first place a value
breaks a component schema.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import jsonschema
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi import checks as st_checks

from msgconform import specs
from msgconform.cassettes import INVALID_TOKEN
from msgconform.plugin import xml
from msgconform.plugin.harness import Exchange
from msgconform.xmlcodec import XmlCodec, XmlError

JSON_TYPES = ("application/json", "text/json")
XML_TYPES = ("application/xml", "text/xml")


# --- an API's spec, for its suite's checks -----------------------------------------------------


@cache
def spec_of(api: str) -> dict:
    """The spec of `api`, loaded once and shared by its checks (which only read it)."""
    return specs.load(api)


@cache
def codec_of(api: str) -> XmlCodec:
    """The XML codec driven by the spec of `api`."""
    return XmlCodec(spec_of(api))


@cache
def validator_of(api: str, component: str) -> jsonschema.Draft202012Validator:
    """A validator for the component schema `component` of the spec of `api`."""
    return specs.validator(spec_of(api), f"#/components/schemas/{component}")


def schema_problem(api: str, value: Any, component: str, whole: str = "the body") -> str | None:
    """Where `value` first breaks the component schema `component` (errors in path order),
    and how, in one line; None when it does not. `whole` names the value itself, for an
    error at its root."""
    error = next(iter(sorted(validator_of(api, component).iter_errors(value), key=lambda e: list(e.path))), None)
    if error is None:
        return None
    where = "/".join(str(p) for p in error.path) or whole
    return f"{where}: {error.message[:200]}"


# --- response checks ---------------------------------------------------------------------------


def _delegate(exchange: Exchange, check) -> None | bool | str:
    if exchange.case is None or exchange.response is None:
        return None  # not an operation of the spec: nothing to judge against
    try:
        exchange.case.validate_response(exchange.response, checks=[check])
    except (FailureGroup, Failure, AssertionError) as exc:
        failures = getattr(exc, "exceptions", None) or [exc]
        first = failures[0]
        title = getattr(first, "title", "") or type(first).__name__
        message = " ".join(str(getattr(first, "message", "") or first).split())
        return f"{title}: {message}"[:400]
    return True


def no_server_error(exchange: Exchange) -> bool | str:
    if exchange.status >= 500:
        return f"answered {exchange.status}, a server error"
    return True


def rejects_malformed_input(exchange: Exchange) -> None | bool | str:
    """A generated request that the vendor's binder cannot read is not accepted (no 2xx).

    "Cannot read" is judged on the request as sent, by the binder profiles the spec names
    (msgconform.binders): a body that is not well-formed, or a leaf value the platform
    cannot convert. A generated negative whose violation did not survive serialization, or
    that the platform converts or skips ("5" for an integer, text inside an XML wrapper),
    is not negative (`exchange.negative` is False), and neither is one that only lacks the
    credentials (credentials_required judges it). Variants that show these leniencies:
    `binder-leniency` of each API (faults.yaml).
    """
    if not exchange.negative or exchange.status >= 500 or exchange.sent_without_credentials:
        return None  # 5xx is judged by no_server_error
    if 200 <= exchange.status < 300:
        why = "; ".join(exchange.negative_reasons[:2])
        return f"a request its binder cannot read ({why}) was accepted with {exchange.status}"
    return True


def credentials_required(exchange: Exchange) -> None | bool | str:
    """A generated request that lost its credentials is refused with 401 or 403."""
    if not exchange.sent_without_credentials or exchange.status >= 500:
        return None
    if exchange.status in (401, 403):
        return True
    return f"without credentials, answered {exchange.status}"


def documented_status(exchange: Exchange) -> None | bool | str:
    return _delegate(exchange, st_checks.status_code_conformance)


def body_matches_schema(statuses: range | tuple[int, ...]):
    """Bodies with these statuses, JSON or XML (read by the codec), match the spec's schema."""

    def check(exchange: Exchange) -> None | bool | str:
        if exchange.status not in statuses or exchange.media_type not in JSON_TYPES + XML_TYPES or not exchange.content:
            return None
        return _delegate(exchange, st_checks.response_schema_conformance)

    return check


def content_type_as_asked(statuses: tuple[int, ...], family: tuple[str, ...]):
    """A request asking for one of `family` (JSON or XML) gets one of them back
    (either member of the family, parameters such as charset allowed)."""

    def check(exchange: Exchange) -> None | bool | str:
        accept = exchange.accept.split(";")[0].strip().lower()
        if exchange.status not in statuses or accept not in family:
            return None
        if exchange.media_type in family:
            return True
        shown = exchange.headers.get("content-type", "(none)")
        return f"asked for {accept}, got Content-Type {shown}"

    return check


def xml_as_documented(statuses: tuple[int, ...]):
    """An XML body is exactly as the documents show it: root, namespaces, element order,
    every documented element present (prefixes and formatting are free)."""

    def check(exchange: Exchange) -> None | bool | str:
        if exchange.status not in statuses or exchange.media_type not in XML_TYPES or not exchange.content:
            return None
        if exchange.case is None:
            return None
        operation = exchange.case.operation
        spec = operation.schema.raw_schema
        schema = xml.response_schema(spec, operation.definition.raw, exchange.status, exchange.media_type)
        if schema is None:
            return None
        codec = xml.codec_for(spec)
        try:
            problems = codec.problems(exchange.content, schema)
            if not problems:
                problems = xml.missing_elements(spec, schema, codec.loads(exchange.content, schema))
        except XmlError as exc:
            return f"the XML body cannot be read: {exc}"
        if not problems:
            return True
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return f"{problems[0]}{more}"

    return check


def credentials_enforced(case_id: str):
    """A follow-up judging `case_id`: the first success of each operation is sent again with
    no credentials and with the suite's invalid token; each must be refused with 401 or 403."""

    def followup(harness, exchange: Exchange) -> None:
        if not 200 <= exchange.status < 300 or exchange.role == "anonymous":
            return
        if exchange.operation_id in harness._auth_probed or exchange.response is None:
            return
        harness._auth_probed.add(exchange.operation_id)
        attempts: tuple[tuple[str, dict[str, str]], ...] = (
            ("no credentials", {}),
            ("an invalid token", {"Authorization": f"Bearer {INVALID_TOKEN}"}),
        )
        for label, headers in attempts:
            status = harness.resend_without_credentials(exchange, headers)
            if status is None:
                return
            if status == 413:  # a size limit (an open choice), not an answer about credentials
                harness.recorder.skip(case_id, f"with {label}, {exchange.where} answered 413 (too large)")
                continue
            harness.recorder.judge(case_id, status in (401, 403), f"with {label}, {exchange.where} answered {status}")

    return followup


_ID_NAME = re.compile(r"(?i)(id|ids)$")


def stable_example(body: object, limit: int = 120) -> str:
    """A request body quoted in an INFO observation, written so that two runs against the
    same server quote it alike (contracts.md section 6): a positive number (or a string of
    digits) under a member named `…Id`/`…Ids` becomes `<id>`, since the target hands out
    message and conversation ids anew on every run. Zero and negatives stay: generated
    values no record can have, the same in every run."""

    def mask(value: object, key: str = "") -> object:
        if isinstance(value, dict):
            return {k: mask(v, str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [mask(item, key) for item in value]
        if (
            key
            and _ID_NAME.search(key)
            and not isinstance(value, bool)
            and (
                (isinstance(value, int) and value > 0)
                or (isinstance(value, str) and value.strip().isdigit() and int(value) > 0)
            )
        ):
            return "<id>"
        return value

    return repr(mask(body))[:limit]
