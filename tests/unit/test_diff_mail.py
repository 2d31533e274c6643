"""`msgconform diff` over SuperOffice recordings: the delivered mail beside the exchanges.

Small hand-made `<test>.mail.json` files (the form `suites/superoffice/conftest.py` records):
each test changes one thing in NEW and checks what the diff names and its exit status.
Recordings of the reference server with every fault and variant are diffed in
tests/quality/test_faults_and_variants.py.
"""

from __future__ import annotations

import base64
import json
from email.message import EmailMessage
from pathlib import Path

from msgconform import cli, diff

TEST = "test_delivery.test_to_cc_and_bcc_with_both_bodies"


def raw_mail(token: str, *, date: str = "Wed, 02 Dec 2026 00:25:12 -0000", message_id: str = "<1796.8768.366@so.test>",
             attachments: tuple[str, ...] = ("pixel.png", "notes.txt"), bcc_header: bool = False, subject_prefix: str = "",
             extra_header: bool = True) -> bytes:
    message = EmailMessage()
    message["From"] = "Agnes Agent <agent@example.test>"
    message["To"] = f"To 1 <msgconform+{token}-to1@example.test>, To 2 <msgconform+{token}-to2@example.test>"
    message["Cc"] = f"Cc 1 <msgconform+{token}-cc1@example.test>"
    if bcc_header:
        message["Bcc"] = f"msgconform+{token}-bcc1@example.test"
    message["Subject"] = f"{subject_prefix}[msgconform] to cc bcc {token}"
    message["Date"] = date
    message["Message-ID"] = message_id
    if extra_header:
        message["X-Msgconform-Story"] = "to-cc-bcc"
    message.set_content(f"[msgconform] to cc bcc {token}\nThis e-mail was sent by msgconform.\n")
    message.add_alternative("<p>[msgconform] <b>HTML</b> body</p>\n", subtype="html")
    for name in attachments:
        if name.endswith(".png"):
            message.add_attachment(b"\x89PNG\r\n\x1a\n-pixel", maintype="image", subtype="png", filename=name)
        else:
            message.add_attachment("Zeile 1: grüße\n", filename=name)
    return message.as_bytes()


def delivery(token: str, rcpt: list[str] | None = None, **options) -> dict:
    roles = rcpt if rcpt is not None else ["to1", "to2", "cc1", "bcc1"]
    return {"mail_from": "agent@example.test", "rcpt_tos": [f"msgconform+{token}-{r}@example.test" for r in roles],
            "tls": False, "authenticated": True, "raw": base64.b64encode(raw_mail(token, **options)).decode()}


def save(folder: Path, mails: dict[str, list[dict]], facts: dict | None = None) -> Path:
    (folder / "superoffice").mkdir(parents=True)
    manifest = {"format": 1, "tool": "msgconform", "version": "0.1.0", "seed": 20261122, "max_examples": 5,
                "apis": {"superoffice": {"base_url": "http://127.0.0.1:40003", "users": {}, "spec": "x"}}}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    for test, deliveries in mails.items():
        document = {"format": 1, "deliveries": deliveries, "facts": facts or {}}
        (folder / "superoffice" / f"{test}.mail.json").write_text(json.dumps(document), encoding="utf-8")
    return folder


def compare(tmp_path: Path, new: list[dict], old: list[dict] | None = None, **facts) -> diff.Diff:
    before = save(tmp_path / "old", {TEST: old if old is not None else [delivery("T0123456789")]})
    after = save(tmp_path / "new", {TEST: new}, facts or None)
    return diff.compare(before, after)


def named(result: diff.Diff) -> set[tuple[str, str, bool]]:
    return {(c.section, c.subject or c.where, c.regression) for c in result.changes}


def test_the_same_mail_with_another_date_message_id_boundary_and_token_diffs_to_nothing(tmp_path):
    # another token (an earlier e-mail more in the run), Date, Message-ID and MIME boundary
    new = [delivery("Tfedcba9876", date="Thu, 03 Dec 2026 09:00:00 +0100", message_id="<2001.1.99@so.test>")]
    result = compare(tmp_path, new)
    assert result.changes == [] and result.exit_status == 0, [c.label for c in result.changes]


def test_a_bcc_recipient_left_out_of_the_envelope_is_a_regression(tmp_path):
    result = compare(tmp_path, [delivery("T0123456789", rcpt=["to1", "to2", "cc1"])])
    assert result.exit_status == 1
    assert ("mail: removed", "$.envelope.rcpt['msgconform+<token>-bcc1@example.test']", True) in named(result)
    assert [c.label for c in result.regressions] == [
        "mail: removed: $.envelope.rcpt['msgconform+<token>-bcc1@example.test']: in all 1 → in 0 of 1"
    ]


def test_a_lost_attachment_is_a_regression_and_names_the_part(tmp_path):
    result = compare(tmp_path, [delivery("T0123456789", attachments=("notes.txt",))])
    labels = [c.label for c in result.regressions]
    assert "mail: removed: $.parts.multipart/mixed['image/png (pixel.png)']: in all 1 → in 0 of 1" in labels
    assert result.exit_status == 1


def test_a_header_added_is_listed_and_a_header_lost_is_a_regression(tmp_path):
    leaked = compare(tmp_path / "a", [delivery("T0123456789", bcc_header=True)])
    assert leaked.exit_status == 0
    assert {("mail headers: added", "bcc", False), ("mail: added", "$.recipients.Bcc", False)} <= named(leaked)
    lost = compare(tmp_path / "b", [delivery("T0123456789", extra_header=False)])
    assert lost.exit_status == 1 and ("mail headers: removed", "x-msgconform-story", True) in named(lost)


def test_one_transaction_per_recipient_is_the_same_mail(tmp_path):
    copies = [delivery("T0123456789", rcpt=[role]) for role in ("to1", "to2", "cc1", "bcc1")]
    result = compare(tmp_path, copies)
    assert result.exit_status == 0
    assert [c.label for c in result.changes] == ["mail value: $.envelope.transactions: 1 → 4"]


def test_values_of_paired_mails_are_listed_by_token(tmp_path):
    result = compare(tmp_path, [delivery("T0123456789", subject_prefix="[SuperOffice] ")], sent_items_copies=0)
    assert result.exit_status == 0
    labels = [c.label for c in result.changes]
    assert "mail header value: subject: [msgconform] to cc bcc <token> → [SuperOffice] [msgconform] to cc bcc <token>" in labels
    assert "mail facts: sent_items_copies: - → 0" in labels


def test_a_mail_no_longer_delivered_is_a_regression(tmp_path):
    result = compare(tmp_path, [])
    assert result.exit_status == 1
    assert [c.section for c in result.regressions] == ["mail not delivered"]


def test_a_broken_mail_recording_is_refused_in_one_line(tmp_path, capsys):
    old = save(tmp_path / "old", {TEST: [delivery("T0123456789")]})
    new = save(tmp_path / "new", {TEST: []})
    (new / "superoffice" / f"{TEST}.mail.json").write_text('{"deliveries": [{"raw": "%%%"}]}', encoding="utf-8")
    assert cli.main(["diff", str(old), str(new)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not a readable mail recording" in err and "Traceback" not in err


def test_the_markdown_says_what_of_the_mail_is_masked(tmp_path, capsys):
    old = save(tmp_path / "old", {TEST: [delivery("T0123456789")]})
    new = save(tmp_path / "new", {TEST: [delivery("T0123456789", rcpt=["to1", "to2", "cc1"])]})
    assert cli.main(["diff", str(old), str(new)]) == 1
    out = capsys.readouterr().out
    regressions = out.split("## Regressions", 1)[1].split("##", 1)[0]
    assert "mail test_delivery.test_to_cc_and_bcc_with_both_bodies: [msgconform] to cc bcc <token>" in regressions
    masked = out.split("## Not compared, and why", 1)[1]
    assert "Message-ID" in masked and "boundaries" in masked and "token" in masked


def test_the_run_token_is_masked_in_answers_too():
    from msgconform.diff import _bodies

    # the same e-mail, sent after one e-mail more earlier in the run, carries another token
    assert _bodies.mask({"Subject": "[msgconform] plain T0123456789"}) == {"Subject": "[msgconform] plain <token>"}
    assert _bodies.mask_nonce('"msgconform+Tfedcba9876-to1@example.test"') == '"msgconform+<token>-to1@example.test"'
