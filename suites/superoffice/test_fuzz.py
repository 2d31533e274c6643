"""Property-based fuzzing of SendEMails, positive and negative, in JSON.

Schemathesis generates the requests (fixed seed, no example database); `Safe` rewrites
every body before it is sent so that it can reach nobody and nothing the run does not own
(see conftest.py). A negative request that the rewrite made valid is not sent: it would no
longer be what it claims to be. Fuzzed requests are judged on their HTTP answers; what the
sink received from them only informs (SO-INFO-007, reported by the second test).

Only the JSON request types are fuzzed: the XML layout is undocumented, a form cannot carry
nested e-mails, and a JSON Patch document has no meaning here (specs/superoffice.yaml).
"""

from __future__ import annotations

import hashlib
import json

import schemathesis

from msgconform import cassettes
from msgconform.plugin import generic
from suites.superoffice.conftest import FUZZ_RESERVE, Safe, SuperOffice

schema = schemathesis.pytest.from_fixture("superoffice_schema")


def _negative(case) -> bool:
    return bool(case.meta is not None and case.meta.generation.mode.value == "negative")


@schema.parametrize()
def test_operation(case, superoffice: SuperOffice):
    so = superoffice
    if case.media_type not in generic.JSON_TYPES:
        return
    safe = Safe(so)
    before = case.body
    case.body = safe.request(case.body)
    if _negative(case) and case.body != before and _valid(so, case.body):
        so.fuzz["not sent (safety)"] += 1
        return
    emails = case.body.get("Emails") if isinstance(case.body, dict) else None
    count = len(emails) if isinstance(emails, list) else 0
    if not so.budget.take(count, reserve=FUZZ_RESERVE):
        so.fuzz["not sent (max_emails)"] += 1
        return
    _choose_accept(so, case)
    ex = so.harness.exercise(case)
    if ex is not None:
        so.fuzz["requests"] += 1
        so.fuzz["emails"] += count
        so.fuzz["accepted"] += count if ex.status == 200 else 0


def _choose_accept(so: SuperOffice, case) -> None:
    """Accept, chosen from the request as the harness does, but from its redacted form: the
    body names the sink, whose credentials and port change from run to run, and a replay
    must ask for the media type the recording asked for."""
    if any(k.lower() == "accept" for k in (case.headers or {})):
        return
    choices = so.harness.response_media_types(case.operation.definition.raw)
    if not choices:
        return
    text = cassettes.redact_body(json.dumps(case.body, sort_keys=True, default=repr)) or ""
    assert isinstance(text, str)  # redact_body gives back the type it was given
    key = f"{case.formatted_path} {sorted((case.query or {}).items())!r} {text}"
    index = int(hashlib.sha256(str(key).encode("utf-8", "surrogatepass")).hexdigest()[:8], 16) % len(choices)
    case.headers = {**(case.headers or {}), "Accept": choices[index]}


def _valid(so: SuperOffice, body) -> bool:
    return generic.validator_of("superoffice", "SendEMailsRequest").is_valid(body)


def test_fuzzed_emails_reported(superoffice: SuperOffice):
    """SO-INFO-007: what the target did with the generated e-mails."""
    so = superoffice
    stats = so.fuzz
    if not stats["requests"]:
        so.recorder.skip("SO-INFO-007", "no generated request was sent")
        return
    stories = "msgconform+T"
    fuzzed = [d for d in so.mailbox.deliveries if not any(stories in r for r in d.rcpt_tos)]
    with so.recorder.about(so.shown("from a generated request", fuzzed)):  # the first few, for the report
        so.recorder.observe(
            "SO-INFO-007",
            f"{stats['requests']} generated requests carried {stats['emails']} e-mails, "
            f"{stats['accepted']} of them in 200 answers; {len(fuzzed)} SMTP transactions of them reached the sink; "
            f"not sent: {stats['not sent (max_emails)']} (max_emails), {stats['not sent (safety)']} "
            "(negative only before they were made safe)",
        )
