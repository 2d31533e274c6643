"""SendEMails judged by its HTTP answers: $select, the response formats, credentials,
malformed bodies, SO-TimeZone and Accept-Language.

The e-mails these tests send are real too (each answered request delivers), but their
deliveries are not what these tests judge, with one exception: an e-mail sent without
valid credentials must not be delivered (SO-AUTH-001), whatever the answer said.
"""

from __future__ import annotations

import re

from msgconform import cassettes
from suites.superoffice.checks import entities
from suites.superoffice.conftest import SEND, SuperOffice


def test_select_nulls_out_the_other_fields(superoffice: SuperOffice):
    """SO-SEL-001 (the response check): $select=Subject,To in two spellings."""
    so = superoffice
    for select in ("Subject,To", "subject, to"):
        token, email = so.email("select")
        so.send([email], [token], select=select)


def test_each_response_format(superoffice: SuperOffice):
    """SO-FMT-001/002 (response checks): XML and JSON asked for, two spellings each."""
    so = superoffice
    for accept in ("application/xml", "text/xml", "application/json", "text/json"):
        token, email = so.email(f"accept {accept}")
        so.send([email], [token], accept=accept)


def test_malformed_json_is_refused(superoffice: SuperOffice):
    """SO-HTTP-002: a body that is not JSON at all; SO-ERR-001 judges the error object."""
    so = superoffice
    for accept in ("application/json", "application/xml"):
        sent = so.send([], content=b'{"Emails": [', accept=accept)
        if sent.exchange is None:
            continue
        ex = sent.exchange
        if ex.status >= 500:
            so.recorder.skip("SO-HTTP-002", "answered with a 5xx (SO-HTTP-001 judges it)")
            continue
        so.recorder.judge(
            "SO-HTTP-002", 400 <= ex.status < 500, f"a body that is not JSON was answered {ex.status} (POST {SEND})"
        )


def _offset(ex) -> str | None:
    items = entities(ex) if ex is not None and ex.status == 200 else "no answer"
    if isinstance(items, str) or not items or not isinstance(items[0], dict):
        return None
    match = re.search(r"(Z|[+-]\d\d:\d\d)$", str(items[0].get("Sent") or ""))
    return match.group(1) if match else "no offset"


def test_timezone_and_language_are_reported(superoffice: SuperOffice):
    """SO-INFO-008 (SO-TimeZone, an IANA name and a SuperOffice-style code) and
    SO-INFO-009 (Accept-Language sv)."""
    so = superoffice
    offsets = []
    for zone in (None, "Asia/Tokyo", "NO"):
        token, email = so.email(f"timezone {zone}")
        sent = so.send([email], [token], headers={"SO-TimeZone": zone} if zone else None)
        offsets.append(f"{zone or 'no SO-TimeZone'}: {_offset(sent.exchange) or 'no date'}")
    so.recorder.observe("SO-INFO-008", "Sent offsets by SO-TimeZone: " + "; ".join(offsets))
    token, email = so.email("language")
    sent = so.send([email], [token], headers={"Accept-Language": "sv"})
    if sent.exchange is None:
        so.recorder.skip("SO-INFO-009", "not sent (max_emails)")
        return
    language = sent.exchange.headers.get("content-language")
    so.recorder.observe(
        "SO-INFO-009", f"with Accept-Language sv the answer's Content-Language was {language or 'absent'}"
    )


def test_no_mail_without_valid_credentials(superoffice: SuperOffice):
    """SO-AUTH-001: an e-mail sent with no credentials, and one sent with an invalid token,
    are refused with 401 or 403 and never delivered (a target that answers 401 but sends
    deviates as much as one that serves the request). An e-mail with the credentials follows
    them: the test's one bounded wait is for that one, and a short settle after it, so a
    target that refuses properly costs no full wait."""
    so = superoffice
    refused = []
    for label, headers in (
        ("no credentials", None),
        ("an invalid token", {"Authorization": f"Bearer {cassettes.INVALID_TOKEN}"}),
    ):
        token, email = so.email(f"without credentials: {label}")
        sent = so.send([email], [token], role=None, headers=headers)
        if sent.exchange is None:
            so.recorder.skip("SO-AUTH-001", f"with {label}: not sent (max_emails, or no answer)")
            continue
        status = sent.exchange.status
        so.recorder.judge("SO-AUTH-001", status in (401, 403), f"with {label}, POST {SEND} answered {status}")
        refused.append((label, token, sent))
    if not refused:
        return
    token, email = so.email("with credentials, after the ones without")
    so.wait_for([so.send([email], [token])])
    if so.mode != "replay":
        so.mailbox.settle(quiet=0.5, timeout=2.0, since=so.test_mark)
    for label, token, sent in refused:
        delivered = so.deliveries(token, sent.mark)
        status = sent.exchange.status if sent.exchange is not None else 0
        with so.recorder.about(so.shown(token, delivered), sent.exchange):
            so.recorder.judge(
                "SO-AUTH-001",
                not delivered,
                f"with {label}, POST {SEND} answered {status}, and the e-mail was delivered all the same "
                f"({len(delivered)} SMTP transaction{'' if len(delivered) == 1 else 's'})",
            )
