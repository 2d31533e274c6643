"""Stories of SendEMails judged by what the sink receives.

Each test sends its e-mails, waits once (bounded) for their deliveries, then judges every
plainly new e-mail that was answered with a 2xx (SO-MAIL-001..007), and the INFO cases its
story is about. The response checks judge every answer as well.
"""

from __future__ import annotations

import base64

from msgconform.sink import Delivery
from suites.superoffice.checks import entities, judge_delivery, message_id, priority_headers
from suites.superoffice.conftest import Sent, SuperOffice, is_new

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
TEXT = "Zeile 1: grüße\r\nline 2\r\n".encode()


def _judge(so: SuperOffice, sent: Sent, label: str) -> list:
    """SO-MAIL-* for every plainly new e-mail of an accepted request; the copies judged."""
    copies: list[Delivery | None] = []
    if sent.exchange is None:
        for case in ("SO-MAIL-001", "SO-MAIL-002"):
            so.recorder.skip(case, f"{label}: not sent (max_emails, or no answer)")
        return copies
    if not sent.accepted:
        so.recorder.skip("SO-MAIL-001", f"{label}: the target answered {sent.exchange.status}")
        return copies
    for token, email in zip(sent.tokens, sent.emails, strict=False):
        if is_new(email):
            deliveries = so.deliveries(token, sent.mark)
            with so.recorder.about(
                so.shown(token, deliveries), sent.exchange
            ):  # the case's report shows what it judged
                copies.append(judge_delivery(so.recorder, email, deliveries, f"{label} ({token})"))
    return copies


def test_a_plain_email_arrives(superoffice: SuperOffice):
    """One plain-text e-mail to one To recipient, a Cc recipient and the sender's own address in Cc."""
    so = superoffice
    token, email = so.email("plain", to=1, cc=1, cc_sender=True)
    sent = so.send([email], [token])
    so.wait_for([sent])
    _judge(so, sent, "a plain e-mail")


def test_to_cc_and_bcc_with_both_bodies(superoffice: SuperOffice):
    """To, Cc and Bcc; a plain and an HTML body; custom headers; High priority; a MessageID.

    INFO: SO-INFO-001 (priority), SO-INFO-002 (Message-ID), SO-INFO-003 (Size).
    """
    so = superoffice
    token, email = so.email(
        "to cc bcc",
        to=2,
        cc=1,
        bcc=2,
        html="<p>[msgconform] <b>HTML</b> body</p>",
        priority="High",
        headers=[("X-Msgconform-Story", ["to-cc-bcc"]), ("X-Msgconform-Multi", ["one", "two"])],
    )
    email["MessageID"] = f"{token}@msgconform.example.test"
    sent = so.send([email], [token])
    so.wait_for([sent])
    copies = [c for c in _judge(so, sent, "an e-mail to To, Cc and Bcc") if c is not None]
    if not copies:
        for case in ("SO-INFO-001", "SO-INFO-002", "SO-INFO-003"):
            so.recorder.skip(case, "the e-mail did not arrive")
        return
    message = copies[0].message
    with so.recorder.about(so.shown(token, copies[:1]), sent.exchange):
        so.recorder.observe("SO-INFO-001", f"a High priority e-mail arrived with {priority_headers(message)}")
        kept = message_id(message) == email["MessageID"]
        so.recorder.observe(
            "SO-INFO-002",
            "the request's MessageID became the Message-ID"
            if kept
            else "the Message-ID was the target's own, not the request's MessageID",
        )
        assert sent.exchange is not None  # an e-mail arrived, so _judge found the request accepted
        answer = entities(sent.exchange)
        sizes = [e.get("Size") for e in answer if isinstance(e, dict)] if isinstance(answer, list) else []
        delivered = len(copies[0].raw)
        if sizes and isinstance(sizes[0], int):
            relation = "equal to" if sizes[0] == delivered else "different from"
            so.recorder.observe("SO-INFO-003", f"the answer's Size was {relation} the delivered message's size")
        else:
            so.recorder.skip("SO-INFO-003", "the answer had no Size")


def test_attachments_arrive_byte_for_byte(superoffice: SuperOffice):
    """A PNG and a text file with CRLF and non-ASCII bytes, as base64 Streams."""
    so = superoffice
    attachments = [
        {
            "Description": "a pixel",
            "Filename": "pixel.png",
            "Size": len(PNG),
            "Type": "image/png",
            "Encoding": "base64",
            "Id": None,
            "Disposition": "attachment",
            "IsSafeFileExtension": True,
            "Stream": base64.b64encode(PNG).decode(),
        },
        {
            "Description": "text",
            "Filename": "notes.txt",
            "Size": len(TEXT),
            "Type": "text/plain",
            "Encoding": "base64",
            "Id": None,
            "Disposition": "attachment",
            "IsSafeFileExtension": True,
            "Stream": base64.b64encode(TEXT).decode(),
        },
    ]
    token, email = so.email("attachments", attachments=attachments)
    sent = so.send([email], [token])
    so.wait_for([sent])
    _judge(so, sent, "an e-mail with attachments")


def test_a_batch_of_emails(superoffice: SuperOffice):
    """Three e-mails in one request: each arrives, and the answer lists one entity per e-mail
    (SO-SEND-002: matched by the token in Subject, in any order)."""
    so = superoffice
    pairs = [so.email(f"batch {i + 1}", to=1, cc=i % 2) for i in range(3)]
    tokens, emails = [t for t, _ in pairs], [e for _, e in pairs]
    sent = so.send(emails, tokens)
    so.wait_for([sent])
    _judge(so, sent, "a batch of three")
    if sent.exchange is None or not sent.accepted or sent.exchange.status != 200:  # (no exchange: not accepted)
        so.recorder.skip("SO-SEND-002", "the batch was not answered 200")
        return
    answer = entities(sent.exchange)
    if isinstance(answer, str):
        so.recorder.skip("SO-SEND-002", f"the answer cannot be read ({answer}); SO-SEND-001 judges it")
        return
    subjects = [str(e.get("Subject") or "") for e in answer if isinstance(e, dict)]
    counts = {t: sum(t in s for s in subjects) for t in tokens}
    ok = len(answer) == len(emails) and all(n == 1 for n in counts.values())
    so.recorder.judge(
        "SO-SEND-002",
        ok,
        f"three e-mails sent, the answer lists {len(answer)} entities "
        f"with the tokens found {sorted(counts.values())} times (POST {sent.exchange.path})",
    )


def test_starttls_when_usessl(superoffice: SuperOffice):
    """UseSSL true: whether the delivery came over STARTTLS and with AUTH (SO-INFO-004)."""
    so = superoffice
    token, email = so.email("usessl")
    sent = so.send([email], [token], outgoing=so.outgoing(use_ssl=True))
    so.wait_for([sent])
    copies = [c for c in _judge(so, sent, "an e-mail sent with UseSSL") if c is not None]
    if not copies:
        so.recorder.skip("SO-INFO-004", "the e-mail sent with UseSSL did not arrive")
        return
    tls = "over STARTTLS" if copies[0].tls else "without STARTTLS"
    auth = "after AUTH with the sink's credentials" if copies[0].authenticated else "without AUTH"
    with so.recorder.about(so.shown(token, copies[:1]), sent.exchange):
        so.recorder.observe("SO-INFO-004", f"with UseSSL true the e-mail arrived {tls}, {auth}")


def test_mail_server_refusals(superoffice: SuperOffice):
    """The sink refuses the only recipient, then drops the connection at it (SO-INFO-005).
    The answer is the vendor's choice: no 5xx rule applies to it."""
    so = superoffice
    seen = []
    for how in ("refuses", "drops"):
        token, email = so.email(f"sink {how}")
        victim = email["To"][0]["Address"]
        (so.sink.refuse if how == "refuses" else so.sink.drop)(victim)
        sent = so.send([email], [token], smtp_failure_expected=True)
        if sent.exchange is None:
            continue
        error = b'"Error"' in sent.exchange.content or b"<Error>" in sent.exchange.content
        seen.append(
            f"when the mail server {how} the recipient: {sent.exchange.status}"
            + (" with the error object" if error else "")
        )
    if seen:
        so.recorder.observe("SO-INFO-005", "; ".join(seen))
    else:
        so.recorder.skip("SO-INFO-005", "not sent (max_emails)")


def test_emails_that_are_not_new(superoffice: SuperOffice):
    """IsSent true, and the Draft flag: whether they are delivered (SO-INFO-010; never judged)."""
    so = superoffice
    sent_token, already_sent = so.email("is sent", is_sent=True)
    draft_token, draft = so.email("draft", flags="Draft")
    sent = so.send([already_sent, draft], [sent_token, draft_token])
    if sent.exchange is None:
        so.recorder.skip("SO-INFO-010", "not sent (max_emails)")
        return
    so.mailbox.settle(quiet=0.5, timeout=0 if so.mode == "replay" else 2.0, since=sent.mark)
    arrived = {token: so.deliveries(token, sent.mark) for token in (sent_token, draft_token)}
    delivered = [label for label, token in (("IsSent true", sent_token), ("Draft", draft_token)) if arrived[token]]
    shown = so.shown(sent_token, arrived[sent_token]) + so.shown(draft_token, arrived[draft_token])
    with so.recorder.about(shown, sent.exchange):
        so.recorder.observe(
            "SO-INFO-010", f"answered {sent.exchange.status}; delivered: {', '.join(delivered) or 'neither'}"
        )


def test_sent_items_copy(superoffice: SuperOffice):
    """SO-INFO-006: with the IMAP sink as SentItemsConnectionInfo, whether a copy was stored
    in its folder (found by the token in Subject). Live, the IMAP sink is asked; replay reads
    what the recording found."""
    so = superoffice
    if so.imap is None:
        so.recorder.skip("SO-INFO-006", "no IMAP sink offered (no imap_port in [superoffice.smtp])")
        return
    token, email = so.email("sent items")
    sent = so.send([email], [token], sent_items=so.sent_items())
    so.wait_for([sent])
    _judge(so, sent, "an e-mail with SentItemsConnectionInfo")
    if not sent.accepted:
        so.recorder.skip("SO-INFO-006", "the e-mail with SentItemsConnectionInfo was not accepted")
        return
    if so.mode != "replay":
        try:
            so.facts["sent_items_copies"] = so.imap.copies(token)
        except OSError as exc:
            so.recorder.harness("superoffice", f"the IMAP sink could not be read ({type(exc).__name__})")
            return
    copies = so.facts.get("sent_items_copies")
    if copies is None:
        so.recorder.skip("SO-INFO-006", "nothing was recorded about the IMAP sink")
        return
    so.recorder.observe(
        "SO-INFO-006", f"{copies} cop{'y' if copies == 1 else 'ies'} stored in the folder SentItemsConnectionInfo named"
    )
