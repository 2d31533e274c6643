"""Scenarios: what the itslearning documents promise across calls and users, told as stories.

Each test is one story of real calls by the four users of the targets file (sender,
recipient, bcc, outsider). Each step is an `allure.step` and judges catalogued cases
through a `Story`, which starts every failure text with the story and the step, so a
failed case reads as the step that broke:

    ITS-READ-001: send and read, step 2 (each participant reads it through the Location):
    the recipient got 404 (GET /restapi/personal/messages/7/v1)

A step that cannot be taken (the send it builds on failed) skips the cases of the steps
after it, with the reason, and ends the story: the failure that stopped it is judged by
its own case. The response checks (checks.py) judge every exchange of a story as well.

Replay safety (the same bytes go out when replayed from cassettes): subjects come from
`itslearning.subject`, derived from the run's seed; times are compared with each other
(LastRepliedDateTime with the DateReceived of the same answer), never with the local
clock; ids are used as the responses give them, never assumed small or sequential.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import allure

from msgconform.cassettes import INVALID_TOKEN
from suites.itslearning.conftest import SUBJECT_PREFIX, Itslearning

TAG = re.compile(r"<[^>]*>")
ENTITY = re.compile(r"&(#\d+|#x[0-9a-f]+|[a-z][a-z0-9]*);", re.I)


class Story:
    """The steps of one scenario; every judgement names the step it was made in."""

    def __init__(self, its: Itslearning, title: str) -> None:
        self.recorder = its.harness.recorder
        self.title = title
        self.current = "setup"

    @contextmanager
    def step(self, title: str) -> Iterator[None]:
        self.current = title
        with allure.step(title):
            yield

    def _where(self) -> str:
        return f"{self.title}, step {self.current}"

    def judge(self, case_id: str, ok: bool, failure: str) -> bool:
        return self.recorder.judge(case_id, ok, f"{self._where()}: {failure}")

    def observe(self, case_id: str, observation: str) -> None:
        self.recorder.observe(case_id, f"{self._where()}: {observation}")

    def give_up(self, case_ids: Iterable[str], reason: str) -> None:
        """The story cannot go on: skip the cases its remaining steps would have judged."""
        for case_id in case_ids:
            self.recorder.skip(case_id, f"{self._where()} could not be taken: {reason}")


# --- small readers ---------------------------------------------------------------------------


def person_ids(people: Any) -> list[Any]:
    """The PersonIds of a To list (anything else gives none)."""
    return [p.get("PersonId") for p in people if isinstance(p, dict)] if isinstance(people, list) else []


def from_id(message: dict) -> Any:
    sender = message.get("From")
    return sender.get("PersonId") if isinstance(sender, dict) else None


def instant(value: Any) -> datetime | None:
    """A date-time as an aware instant (no offset: read as UTC); None if it is not one."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def message_id(message: dict | None) -> int | None:
    value = (message or {}).get("MessageId")
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def as_sent(message: dict | None, body: dict) -> str | None:
    """Why `message` is not the message sent with `body` (Subject and Text), or None."""
    if message is None:
        return "the answer is not a readable message"
    for field in ("Subject", "Text"):
        if message.get(field) != body[field]:
            return f"{field} is {message.get(field)!r}, sent {body[field]!r}"
    return None


def _squash(text: str) -> str:
    return "".join(text.split())


def preview_problem(text: str, preview: Any) -> str | None:
    """Why `preview` is not the beginning of `text` stripped of HTML and entities, or None.

    "Stripped for html entities" reads two ways: entities decoded (`&amp;` -> `&`) or
    removed; either passes. Whitespace is ignored (tags may become spaces or nothing) and
    a trailing ellipsis is allowed.
    """
    if not isinstance(preview, str) or not preview.strip():
        return f"PreviewText is {preview!r}, not the first part of the text"
    if TAG.search(preview):
        return f"PreviewText {preview!r} keeps an HTML tag"
    if ENTITY.search(preview):
        return f"PreviewText {preview!r} keeps an HTML entity"
    head = _squash(preview.rstrip().removesuffix("...").removesuffix("\u2026"))
    untagged = TAG.sub(" ", text)
    readings = (html.unescape(untagged), ENTITY.sub("", untagged))
    if any(_squash(reading).startswith(head) for reading in readings):
        return None
    return f"PreviewText {preview!r} is not the beginning of the text without its HTML"


# --- 1-3, 9: send, read through the Location, Bcc hidden, who gets 404 -------------------------

SEND_AND_READ = [
    "ITS-READ-001",
    "ITS-READ-002",
    "ITS-READ-003",
    "ITS-READ-004",
    "ITS-BCC-001",
    "ITS-INFO-002",
    "ITS-GET-001",
    "ITS-GET-002",
    "ITS-INFO-004",
    "ITS-GET-007",
]


def test_send_and_read(itslearning: Itslearning) -> None:
    """The sender sends to the recipient with the bcc user in Bcc; each of them reads it
    through the Location (JSON, then XML), the outsider cannot, and nobody can read an id
    that no message has."""
    its, story = itslearning, Story(itslearning, "send and read")
    sender, recipient, bcc = (its.users[role].id for role in ("sender", "recipient", "bcc"))
    body = {
        "ToPersonIds": [recipient],
        "BccPersonIds": [bcc],
        "Subject": its.subject("send and read"),
        "Text": f"{SUBJECT_PREFIX} hello recipient, and hello bcc",
    }

    with story.step("1 (the sender sends to the recipient, the bcc user in Bcc)"):
        sent = its.send(body)  # 201 and Location: ITS-SEND-001/002; the sender's read: ITS-SEND-003
        url = its.location(sent)
        if url is None:
            return story.give_up(SEND_AND_READ, f"the send answered {sent.status} without a Location")

    with story.step("2 (each participant reads it through the Location)"):
        messages: dict[str, dict] = {}
        for role, case_id in (("sender", None), ("recipient", "ITS-READ-001"), ("bcc", "ITS-READ-002")):
            got = its.get(url, role=role)
            message = its.message(got)
            if role == "sender" and message is None:
                return story.give_up(
                    SEND_AND_READ,
                    f"the Location does not lead the sender to it (ITS-SEND-003): {got.status} ({got.where})",
                )
            if case_id:
                problem = f"the {role} got {got.status}" if got.status != 200 else as_sent(message, body)
                story.judge(case_id, problem is None, f"{problem} ({got.where})")
            if message is None:
                continue
            messages[role] = message
            story.judge(
                "ITS-READ-003",
                from_id(message) == sender,
                f"the {role} sees From {from_id(message)!r}, not the sender {sender!r} ({got.where})",
            )
            story.judge(
                "ITS-READ-004",
                recipient in person_ids(message.get("To")),
                f"the {role} sees To {person_ids(message.get('To'))}, without the recipient {recipient!r} "
                f"({got.where})",
            )
            story.judge(
                "ITS-BCC-001",
                bcc not in person_ids(message.get("To")),
                f"the {role} sees the bcc user {bcc!r} in To, as JSON ({got.where})",
            )

    with story.step("3 (each participant reads it again, as XML)"):
        for role in messages:
            got = its.get(url, role=role, accept="application/xml")
            message = its.message(got)  # an unreadable XML answer is ITS-XML-003's concern
            if message is not None:
                story.judge(
                    "ITS-BCC-001",
                    bcc not in person_ids(message.get("To")),
                    f"the {role} sees the bcc user {bcc!r} in To, as XML ({got.where})",
                )
            if role == "recipient":
                first = messages["recipient"].get("IsRead")
                second = message.get("IsRead") if message else "unreadable"
                story.observe(
                    "ITS-INFO-002", f"the recipient's IsRead was {first} on the first GET, {second} on the second"
                )
        if "recipient" not in messages:
            story.give_up(["ITS-INFO-002"], "the recipient could not read the message")

    with story.step("4 (the outsider asks for it)"):
        got = its.get(url, role="outsider")
        story.judge("ITS-GET-001", got.status == 404, f"the outsider got {got.status}, not 404 ({got.where})")
        story.judge(
            "ITS-GET-002",
            not 200 <= got.status < 300,
            f"the outsider got {got.status} for a message sent to others ({got.where})",
        )

    with story.step("5 (the outsider replies to it)"):
        reply = {
            "ToPersonIds": [sender],
            "ReplyToMessageId": message_id(messages["sender"]),
            "Subject": its.subject("outsider reply"),
            "Text": f"{SUBJECT_PREFIX} a reply to a message never seen",
        }
        if reply["ReplyToMessageId"] is None:
            story.give_up(["ITS-INFO-004"], f"MessageId {messages['sender'].get('MessageId')!r} is not a message id")
        else:
            answered = its.send(reply, role="outsider")
            story.observe(
                "ITS-INFO-004", f"a reply by the outsider to a message sent to others answered {answered.status}"
            )

    with story.step("6 (everyone asks for a message id that no message has)"):
        # Message ids are positive, so the negation of one this run created names no message:
        # derived from a response (a replay asks for the same), never a guess that could name
        # someone's real message.
        existing = message_id(messages["sender"])
        if existing is None:
            return story.give_up(
                ["ITS-GET-007"],
                f"MessageId {messages['sender'].get('MessageId')!r} is not "
                "a positive integer, so no id can be derived from it",
            )
        for role in ("sender", "recipient", "bcc", "outsider"):
            got = its.get(its.message_url(-existing), role=role)
            story.judge("ITS-GET-007", got.status == 404, f"the {role} got {got.status}, not 404 ({got.where})")


# --- 4-6: reply and forward -------------------------------------------------------------------

REPLY = ["ITS-REPLY-001", "ITS-REPLY-002", "ITS-REPLY-003", "ITS-REPLY-004", "ITS-REPLY-005"]
FORWARD = ["ITS-FWD-001", "ITS-FWD-002", "ITS-FWD-003", "ITS-FWD-004"]


def test_reply_and_forward(itslearning: Itslearning) -> None:
    """The sender sends two messages to the recipient, who replies to the first and forwards
    the second to the bcc user. The recipient's own copy of each original carries the mark
    (and only that one); the reply reaches the sender. A separate original for each, so
    that a mark set by the wrong action shows."""
    its, story = itslearning, Story(itslearning, "reply and forward")
    sender, recipient, bcc = (its.users[role].id for role in ("sender", "recipient", "bcc"))
    originals: dict[str, tuple[str, dict]] = {}  # "reply"/"forward" -> (url, the recipient's view)

    with story.step("1 (the sender sends two messages to the recipient, and reads them)"):
        for action, cases in (("reply", REPLY), ("forward", FORWARD)):
            body = {
                "ToPersonIds": [recipient],
                "Subject": its.subject(f"to {action}"),
                "Text": f"{SUBJECT_PREFIX} a message to {action}",
            }
            sent = its.send(body)
            url = its.location(sent)
            if url is None or its.message(its.get(url, role="sender")) is None:
                story.give_up(
                    cases + ["ITS-INFO-003"],
                    f"the message to {action} cannot be read back by its sender (send answered {sent.status})",
                )
                continue
            originals[action] = (url, {})

    with story.step("2 (the recipient reads both)"):
        for action, (url, _) in list(originals.items()):
            got = its.get(url, role="recipient")
            view = its.message(got)
            if view is None or message_id(view) is None:
                story.give_up(
                    (REPLY if action == "reply" else FORWARD) + ["ITS-INFO-003"],
                    f"the recipient cannot read the message to {action} (ITS-READ-001): {got.status}",
                )
                del originals[action]
                continue
            originals[action] = (url, view)

    if "reply" in originals:
        url, before = originals["reply"]
        with story.step("3 (the recipient replies to the first)"):
            reply = {
                "ToPersonIds": [sender],
                "ReplyToMessageId": message_id(before),
                "Subject": its.subject("reply"),
                "Text": f"{SUBJECT_PREFIX} the recipient's reply",
            }
            answered = its.send(reply, role="recipient")
            accepted = story.judge(
                "ITS-REPLY-001",
                200 <= answered.status < 300,
                f"the reply answered {answered.status} ({answered.where})",
            )
        if not accepted:
            story.give_up(REPLY[1:], "the reply was not accepted")
        else:
            with story.step("4 (the recipient reads the first again)"):
                got = its.get(url, role="recipient")
                after = its.message(got)
                if after is None:
                    story.give_up(REPLY[1:4], f"the recipient got {got.status} ({got.where})")
                else:
                    marked(story, after, "Replied", "ITS-REPLY-002", "ITS-REPLY-003", got.where)
                    unchanged(story, before, after, "Forwarded", "ITS-REPLY-004", "reply", got.where)
            with story.step("5 (the sender reads the reply through its Location)"):
                reply_url = its.location(answered)
                own = its.get(reply_url, role="recipient") if reply_url else None
                if not reply_url or own is None or own.status != 200:
                    story.give_up(
                        ["ITS-REPLY-005"], "the reply's Location does not lead the recipient to it (ITS-SEND-003)"
                    )
                else:
                    got = its.get(reply_url, role="sender")
                    problem = f"the sender got {got.status}" if got.status != 200 else as_sent(its.message(got), reply)
                    story.judge("ITS-REPLY-005", problem is None, f"{problem} ({got.where})")

    if "forward" in originals:
        url, before = originals["forward"]
        with story.step("6 (the recipient forwards the second to the bcc user)"):
            forward = {
                "ToPersonIds": [bcc],
                "ForwardToMessageId": message_id(before),
                "Subject": its.subject("forward"),
                "Text": f"{SUBJECT_PREFIX} the recipient's forward",
            }
            answered = its.send(forward, role="recipient")
            accepted = story.judge(
                "ITS-FWD-001",
                200 <= answered.status < 300,
                f"the forward answered {answered.status} ({answered.where})",
            )
        if not accepted:
            story.give_up(FORWARD[1:], "the forward was not accepted")
        else:
            with story.step("7 (the recipient reads the second again)"):
                got = its.get(url, role="recipient")
                after = its.message(got)
                if after is None:
                    story.give_up(FORWARD[1:], f"the recipient got {got.status} ({got.where})")
                else:
                    marked(story, after, "Forwarded", "ITS-FWD-002", "ITS-FWD-003", got.where)
                    unchanged(story, before, after, "Replied", "ITS-FWD-004", "forward", got.where)

    if originals:
        with story.step("8 (the sender reads the originals again)"):
            seen = []
            for action, (url, _) in originals.items():
                view = its.message(its.get(url, role="sender")) or {}
                seen.append(
                    f"after the {action}, IsReplied {view.get('IsReplied')} and IsForwarded {view.get('IsForwarded')}"
                )
            story.observe("ITS-INFO-003", "in the sender's copy: " + "; ".join(seen))


def marked(story: Story, after: dict, what: str, flag_case: str, date_case: str, where: str) -> None:
    """IsReplied/IsForwarded is true and Last…DateTime set, not before DateReceived."""
    flag, date = f"Is{what}", f"Last{what}DateTime"
    story.judge(flag_case, after.get(flag) is True, f"{flag} is {after.get(flag)!r} in the recipient's copy ({where})")
    last, received = instant(after.get(date)), instant(after.get("DateReceived"))
    if last is None:
        story.judge(date_case, False, f"{date} is {after.get(date)!r}, not a date-time ({where})")
    elif received is not None:
        story.judge(
            date_case,
            last >= received,
            f"{date} {after.get(date)} is before DateReceived {after.get('DateReceived')} ({where})",
        )
    else:
        story.give_up([date_case], f"DateReceived {after.get('DateReceived')!r} is not a date-time (ITS-GET-004)")


def unchanged(story: Story, before: dict, after: dict, what: str, case_id: str, action: str, where: str) -> None:
    """IsX and LastXDateTime are the same after `action` as before it."""
    changed = [
        f"{key} {before.get(key)!r} -> {after.get(key)!r}"
        for key in (f"Is{what}", f"Last{what}DateTime")
        if before.get(key) != after.get(key)
    ]
    story.judge(case_id, not changed, f"the {action} changed {', '.join(changed)} ({where})")


# --- 7: preview ---------------------------------------------------------------------------------


def test_preview_text(itslearning: Itslearning) -> None:
    """A Text holding HTML and entities gets a PreviewText without them."""
    its, story = itslearning, Story(itslearning, "preview")
    text = (
        f"{SUBJECT_PREFIX} <p>Dear&nbsp;class,</p><p>read <b>this</b> &amp; that, "
        "&quot;today&quot;&#33;</p><div>Kind regards</div>"
    )
    body = {"ToPersonIds": [its.users["recipient"].id], "Subject": its.subject("preview"), "Text": text}
    with story.step("1 (the sender sends a Text with HTML and entities)"):
        url = its.location(its.send(body))
        if url is None:
            return story.give_up(["ITS-PREV-001"], "the send was not accepted with a Location")
    with story.step("2 (the sender reads its PreviewText)"):
        got = its.get(url, role="sender")
        message = its.message(got)
        if message is None:
            return story.give_up(["ITS-PREV-001"], f"the sender got {got.status} ({got.where})")
        problem = preview_problem(text, message.get("PreviewText"))
        story.judge("ITS-PREV-001", problem is None, f"{problem} ({got.where})")


# --- 10: search ---------------------------------------------------------------------------------


def test_recipient_search(itslearning: Itslearning) -> None:
    """Fewer than three characters are refused; the first letters of a name find the person."""
    its, story = itslearning, Story(itslearning, "search")
    named = next((user for role in ("recipient", "bcc") if (user := its.users[role]).name), None)
    name = named.name if named is not None else None
    with story.step("1 (the sender searches with two characters)"):
        two = (name or "msgconform")[:2]
        got = its.search(two)
        story.judge("ITS-SRCH-001", got.status == 400, f"searchText {two!r} answered {got.status} ({got.where})")
    with story.step("2 (the sender searches for the first letters of a person's name)"):
        words = name.split() if name else []
        if named is None or not words or len(" ".join(words)) < 3:
            return story.give_up(
                ["ITS-SRCH-002"],
                "the targets file gives no name (of 3 or more characters) for the recipient or the bcc user",
            )
        text = words[0] if len(words[0]) >= 3 else " ".join(words)
        got = its.search(text)
        try:
            found = person_ids(got.json()) if got.status == 200 else []
        except ValueError:
            found = []
        story.judge(
            "ITS-SRCH-002",
            named.id in found,
            f"searchText {text!r} answered {got.status} without PersonId {named.id!r} ({got.where})",
        )


# --- 11: credentials ----------------------------------------------------------------------------


def test_credentials_are_required(itslearning: Itslearning) -> None:
    """Send and get, without a token and with a wrong one, are refused with 401 or 403."""
    its, story = itslearning, Story(itslearning, "credentials")
    body = {
        "ToPersonIds": [its.users["recipient"].id],
        "Subject": its.subject("no credentials"),
        "Text": f"{SUBJECT_PREFIX} never to be sent",
    }
    pool = its.harness.pools.messages
    wrong = {"Authorization": f"Bearer {INVALID_TOKEN}"}
    for number, (label, headers) in enumerate((("without a token", None), ("with a wrong token", wrong))):
        with story.step(f"{2 * number + 1} (a send {label})"):
            got = its.send(body, role=None, headers=headers)
            story.judge("ITS-AUTH-001", got.status in (401, 403), f"answered {got.status} ({got.where})")
        with story.step(f"{2 * number + 2} (a get {label})"):
            if not pool:
                story.give_up(["ITS-AUTH-001"], "no message of this run to ask for")
                continue
            got = its.get(its.message_url(pool[0]), role=None, headers=headers)
            story.judge("ITS-AUTH-001", got.status in (401, 403), f"answered {got.status} ({got.where})")
