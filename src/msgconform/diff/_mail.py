"""SuperOffice's delivered mail, compared like the exchanges (a `register_extra` comparison).

A SuperOffice recording keeps, beside each test's cassette, the deliveries its sink received
(`<test>.mail.json`: each SMTP transaction's envelope, TLS and AUTH, and the raw message).
Per test file:

1. **One mail per e-mail sent.** Deliveries are grouped by the run's token (`T` and ten hex
   digits, in every story e-mail's Subject and recipients' local part), so a vendor that
   sends one SMTP transaction per recipient delivers one mail, as the reference server does
   (deliveries without a token are one mail each). A mail is read as headers (names, and
   values with the volatile parts masked), the recipients per header field, the envelope
   (MAIL FROM, each RCPT TO with how many transactions named it, TLS, AUTH, the number of
   transactions) and the MIME tree (each part by content type and file name, with its
   disposition, charset, transfer encoding, decoded size and a digest of its bytes).
2. **Paired.** A mail of OLD and one of NEW carrying the same token are a pair (tokens
   derive from the seed and the e-mails sent before, so two recordings of the same suite
   share them); the rest are aligned in order on their Subject with the token masked.
3. **Compared** as `_cassettes` compares answers: per mail, a header, a recipient, an
   envelope recipient or a MIME part that the OLD mail had and the NEW one lacks is a
   regression (`mail headers: removed`, `mail: removed`), and so is an OLD mail with no NEW
   mail at all (`mail not delivered`); what NEW adds is listed; paired mails' values that
   changed (a Subject, a part's size, the number of transactions) are listed, volatile ones
   masked (`Date`, `Message-ID`, boundaries, tokens: see `_bodies.VOLATILE`).

Paths are JSON-like, from `$`: `$.envelope.rcpt['msgconform+<token>-bcc1@example.test']`,
`$.recipients.Cc[...]`, `$.parts.multipart/mixed['image/png (pixel.png)'].bytes`.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import email
import email.policy
import hashlib
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from email.message import EmailMessage, MIMEPart
from email.utils import getaddresses
from pathlib import Path
from typing import Any

from deepdiff import DeepDiff

from msgconform.diff import _bodies
from msgconform.diff._cassettes import _DEEPDIFF_PATH, Groups, _show, compare_groups, register_extra
from msgconform.diff._model import Change
from msgconform.errors import UsageError

API = "superoffice"
SUFFIX = ".mail.json"
TOKEN = _bodies.TOKEN
_BOUNDARY = re.compile(r'(?i)(boundary=)("[^"]*"|[^;\s]+)')
_DIGIT_HEADERS = frozenset({"message-id", "in-reply-to", "references", "resent-message-id", "received"})
_DATE_HEADERS = frozenset({"date", "resent-date"})
SECTIONS = ("mail headers", "mail")


def mask_token(text: str) -> str:
    return TOKEN.sub("<token>", text)


def header_value(name: str, value: str) -> str:
    """A delivered header's value as compared between paired mails."""
    value = " ".join(str(value).split())
    if name in _DATE_HEADERS:
        return "<date>"
    value = mask_token(value)
    if name == "content-type":
        return _BOUNDARY.sub(r"\1<boundary>", value)
    if name in _DIGIT_HEADERS:
        return re.sub(r"\d+", "N", value)
    return value


@dataclass
class Mail:
    test: str  # the test file it was recorded in (`test_delivery.test_a_plain_email_arrives`)
    token: str  # the run's token, or "" (a delivery without one)
    subject: str  # masked
    headers: list[str]  # lower-case names
    value: dict[str, Any]  # masked, as compared between a pair
    shape: dict[str, set[str]]


def _deliveries(path: Path) -> tuple[list[dict], dict]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        records = list(data["deliveries"])
        facts = dict(data.get("facts") or {})
        for record in records:
            record["raw_bytes"] = base64.b64decode(record["raw"], validate=True)
            record["rcpt_tos"] = [str(r) for r in record["rcpt_tos"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
        raise UsageError(f"diff: {path}: not a readable mail recording ({exc.__class__.__name__})") from None
    return records, facts


def _token(record: dict, message: EmailMessage) -> str:
    for address in record["rcpt_tos"]:
        found = TOKEN.search(address)
        if found:
            return found.group(0)
    found = TOKEN.search(_safe(lambda: str(message.get("Subject", ""))))
    return found.group(0) if found else ""


def _safe(read, default: Any = "") -> Any:
    try:
        return read()
    except Exception:  # noqa: BLE001 - a header the parser cannot decode reads as the default
        return default


def _parts(part: MIMEPart) -> dict[str, Any]:
    """The MIME tree under `part`: content type (and file name) -> attributes or children."""
    if part.is_multipart():
        children: dict[str, Any] = {}
        seen: Counter = Counter()
        for child in part.iter_parts():
            for key, value in _parts(child).items():
                seen[key] += 1
                children[key if seen[key] == 1 else f"{key} #{seen[key]}"] = value
        return {part.get_content_type(): children}
    filename = _safe(part.get_filename, None)
    key = part.get_content_type() + (f" ({mask_token(filename)})" if filename else "")
    payload = _safe(lambda: part.get_payload(decode=True), b"") or b""
    if part.get_content_maintype() == "text":
        payload = mask_token(payload.decode(part.get_content_charset() or "utf-8", "replace")).encode()
    attributes: dict[str, Any] = {
        "bytes": len(payload),
        "sha256": hashlib.sha256(payload).hexdigest()[:16],
    }
    for name, read in (
        ("disposition", part.get_content_disposition),
        ("charset", part.get_content_charset),
        ("encoding", lambda: part.get("Content-Transfer-Encoding")),
    ):
        found = _safe(read, None)
        if found:
            attributes[name] = str(found).lower()
    return {key: attributes}


def _mail(test: str, token: str, records: list[dict]) -> Mail:
    messages = [email.message_from_bytes(r["raw_bytes"], policy=email.policy.default) for r in records]
    first = messages[0]
    names = list(dict.fromkeys(str(name).lower() for message in messages for name in message))
    headers: dict[str, list[str]] = {}
    for name in dict.fromkeys(first.keys()):
        raw = [str(v) for k, v in first.raw_items() if k.lower() == name.lower()]
        decoded = _safe(lambda n=name: [str(v) for v in first.get_all(n, [])], raw)  # encoded words read
        headers[name.lower()] = [header_value(name.lower(), v) for v in decoded]
    recipients: dict[str, dict[str, str]] = {}
    for field in ("To", "Cc", "Bcc"):
        values = _safe(lambda f=field: [str(v) for v in first.get_all(f, [])], [])
        for name, address in getaddresses(values):
            if address:
                recipients.setdefault(field, {})[mask_token(address).lower()] = mask_token(name)
    rcpt: Counter = Counter(mask_token(r).lower() for record in records for r in record["rcpt_tos"])
    value = {
        "headers": headers,
        "recipients": recipients,
        "envelope": {
            "from": mask_token(str(records[0].get("mail_from", ""))).lower(),
            "rcpt": dict(rcpt),
            "transactions": len(records),
            "tls": all(bool(r.get("tls")) for r in records),
            "auth": all(bool(r.get("authenticated")) for r in records),
        },
        "parts": _parts(first),
    }
    shape = _bodies.value_shape({k: v for k, v in value.items() if k != "headers"})
    subject = header_value("subject", _safe(lambda: str(first.get("Subject", ""))))
    return Mail(test, token, subject, names, value, shape)


def read_mails(folder: Path) -> tuple[dict[str, list[Mail]], dict[str, dict]]:
    """test -> its mails (in the order their first delivery arrived), and test -> its facts."""
    mails: dict[str, list[Mail]] = {}
    facts: dict[str, dict] = {}
    for path in sorted(folder.glob(f"*{SUFFIX}")):
        test = path.name.removesuffix(SUFFIX)
        records, facts[test] = _deliveries(path)
        by_token: dict[str, list[dict]] = defaultdict(list)
        order: list[str] = []
        for index, record in enumerate(records):
            message = email.message_from_bytes(record["raw_bytes"], policy=email.policy.default)
            key = _token(record, message) or f"(no token {index})"
            if key not in by_token:
                order.append(key)
            by_token[key].append(record)
        try:
            mails[test] = [_mail(test, "" if k.startswith("(") else k, by_token[k]) for k in order]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise UsageError(f"diff: {path}: not a readable mail recording ({exc.__class__.__name__})") from None
    return mails, facts


def _pairs(old: list[Mail], new: list[Mail]) -> list[tuple[int, int]]:
    """Index pairs: the same token first, then the rest aligned in order on the masked Subject."""
    new_by_token = {m.token: j for j, m in enumerate(new) if m.token}
    pairs = [(i, new_by_token[m.token]) for i, m in enumerate(old) if m.token and m.token in new_by_token]
    left = [i for i in range(len(old)) if i not in {a for a, _ in pairs}]
    right = [j for j in range(len(new)) if j not in {b for _, b in pairs}]
    matcher = difflib.SequenceMatcher(
        None, [old[i].subject for i in left], [new[j].subject for j in right], autojunk=False
    )
    for block in matcher.get_matching_blocks():
        pairs += [(left[block.a + k], right[block.b + k]) for k in range(block.size)]
    return sorted(pairs)


def _labels(test: str, mails: list[Mail], suffix: str = "") -> list[str]:
    seen: Counter = Counter()
    labels = []
    for mail in mails:
        base = f"mail {test}: {mail.subject or '(no subject)'}{suffix}"
        seen[base] += 1
        labels.append(base if seen[base] == 1 else f"{base} #{seen[base]}")
    return labels


def compare_mail(old_dir: Path, new_dir: Path) -> list[Change]:
    old, old_facts = read_mails(old_dir)
    new, new_facts = read_mails(new_dir)
    old_groups, new_groups = Groups(), Groups()
    found: Counter = Counter()
    changes: list[Change] = []
    for test in dict.fromkeys([*old, *new]):
        if test not in old or test not in new:
            side = "OLD" if test in old else "NEW"
            changes.append(
                Change(
                    API,
                    "mail recording",
                    f"{test}{SUFFIX}",
                    "",
                    "recorded" if side == "OLD" else "absent",
                    "recorded" if side == "NEW" else "absent",
                )
            )
            continue
        before, after = old[test], new[test]
        labels_old = _labels(test, before)
        labels_new = _labels(test, after, " (only in NEW)")
        for i, j in _pairs(before, after):
            labels_new[j] = labels_old[i]
            _compare_pair(labels_old[i], before[i], after[j], found)
        for mails, labels, groups in ((before, labels_old, old_groups), (after, labels_new, new_groups)):
            for mail, label in zip(mails, labels, strict=True):
                groups.add(label, mail.headers, mail.shape)
        changes += _facts(test, old_facts.get(test, {}), new_facts.get(test, {}))
    for (section, where, subject, was, now), count in found.items():
        changes.append(
            Change(API, section, where, subject, was, now, note=f"{count} paired mail{'s' if count != 1 else ''}")
        )
    changes += compare_groups(API, old_groups, new_groups, what="mail", sections=SECTIONS, gone_regresses=True)
    return changes


def _path(deep_path: str) -> str:
    """A DeepDiff path as `_bodies.value_shape` writes it (`$.envelope.rcpt['a@example.test']`)."""
    steps = []
    for match in _DEEPDIFF_PATH.finditer(deep_path.removeprefix("root")):
        key = match.group(1)
        if key is None:
            steps.append("[]")
        else:
            steps.append(f"['{key}']" if "." in key or "[" in key or "'" in key else f".{key}")
    return "$" + "".join(steps)


def _compare_pair(label: str, old: Mail, new: Mail, found: Counter) -> None:
    diff = DeepDiff(old.value, new.value, verbose_level=2)
    for kind in ("values_changed", "type_changes"):
        for deep_path, change in (diff.get(kind) or {}).items():
            if isinstance(change["old_value"], (dict, list)) and isinstance(change["new_value"], (dict, list)):
                continue  # another structure (DeepDiff compares little-overlapping dicts whole): the shapes tell
            path = _path(deep_path)
            if path.startswith("$.headers."):
                section, subject = "mail header value", path.removeprefix("$.headers.").removesuffix("[]")
            else:
                section, subject = "mail value", path
            found[(section, label, subject, _show(change["old_value"]), _show(change["new_value"]))] += 1
    for kind, added in (("iterable_item_added", True), ("iterable_item_removed", False)):
        for deep_path, value in (diff.get(kind) or {}).items():  # a repeated header's value more or less
            path = _path(deep_path).removeprefix("$.headers.").removesuffix("[]")
            found[
                ("mail header value", label, path, "-" if added else _show(value), _show(value) if added else "-")
            ] += 1


def _facts(test: str, old: dict, new: dict) -> list[Change]:
    """What the suite noted beside the deliveries (e.g. `sent_items_copies`): listed when it changed."""
    return [
        Change(API, "mail facts", f"{test}{SUFFIX}", key, _show(old.get(key, "-")), _show(new.get(key, "-")))
        for key in dict.fromkeys([*old, *new])
        if old.get(key) != new.get(key)
    ]


register_extra(API, compare_mail)
