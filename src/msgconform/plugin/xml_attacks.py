"""Hostile XML against a target's parser: the part every API that reads XML shares.

Two attacks, each judging one catalogued case of its API: a DTD declaring entities
(internal ones that only an expanding parser joins into a canary, and an external one
naming a local file), and an expansion bomb ("billion laughs", ten levels of ten
expansions each). A target passes when it refuses the body or ignores the DTD; it fails
when an entity shows expanded, when it answers with a 5xx, or when it takes longer than
`LIMIT_SECONDS`.

These requests attack the target, so they go to loopback targets only unless the run was
started with --allow-attacks (`require_allowed`). The only external entity is a `file:`
one: no body sent from here makes a target fetch a URL.

What is shared and what stays in a suite. The attack itself is the same for every API:
when it may be sent, the DTDs, how the body is posted (as the sender, XML in, JSON asked
for, timed), the bounds on the answer and what an expansion looks like. The document
around the DTD, the path it is posted to, and where an expanded entity can come back are
the API's: HighQ has no call to read a conversation back, so only its answer is searched;
itslearning's stored message is read back through the Location. So a suite's test builds
its body with the DTDs from here, posts it with `post`, reads back what it can, and uses
`refused_badly` and `expanded` to judge. Case ids are always passed in by the suite's test
functions: `msgconform.selection` reads which test can judge which case from the suite's
source, so the ids stay written there.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterable, Mapping

import httpx
import pytest

from msgconform.plugin.harness import ApiHarness
from msgconform.plugin.recorder import Recorder

LIMIT_SECONDS = 5.0  # an answer to a hostile body later than this is a parser working too hard
LOCAL_FILE = "file:///etc/hostname"  # the external entity's content: this host's name
BOMB = "&lol9;"  # the reference that sets the bomb off (10**9 "lol"s)
BOMB_EXPANDED = "lollollol"  # what any expansion of the bomb leaves in a text


def require_allowed(harness: ApiHarness, case_ids: Iterable[str]) -> None:
    """Skip the test, with its cases, unless the target may be attacked."""
    if harness.target.is_loopback or harness.settings.allow_attacks:
        return
    for case_id in case_ids:
        harness.recorder.skip(case_id, "hostile XML is sent only to loopback targets (use --allow-attacks)")
    pytest.skip("hostile XML only against loopback targets")


def entities_dtd(root: str, internal: Mapping[str, str]) -> str:
    """A DOCTYPE for `root` declaring the `internal` entities (name -> text) and `xxe`, an
    external entity naming `LOCAL_FILE`."""
    declared = "".join(f'<!ENTITY {name} "{text}">' for name, text in internal.items())
    return f'<!DOCTYPE {root} [{declared}<!ENTITY xxe SYSTEM "{LOCAL_FILE}">]>'


def bomb_dtd(root: str) -> str:
    """A DOCTYPE for `root` declaring the bomb: `lol0` is "lol", each next level ten of the one
    before; `BOMB` refers to the last."""
    levels = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)]
    return f"<!DOCTYPE {root} [{''.join(levels)}]>"


def post(harness: ApiHarness, path: str, body: bytes) -> tuple[httpx.Response, float]:
    """The hostile `body` posted to `path` as the sender (XML, asking for JSON): the answer
    and the seconds it took."""
    with harness.client("sender") as client:
        start = time.monotonic()
        response = client.post(
            path, content=body, headers={"Content-Type": "application/xml", "Accept": "application/json"}
        )
        return response, time.monotonic() - start


def refused_badly(
    recorder: Recorder, case_id: str, what: str, response: httpx.Response, elapsed: float | None = None
) -> bool:
    """Whether the answer to `what` (the hostile body, in words) already fails `case_id`: a
    server error, or (when `elapsed` is given) an answer later than `LIMIT_SECONDS`. A
    failure is judged here; True tells the test there is nothing left to judge."""
    if response.status_code >= 500:
        recorder.judge(case_id, False, f"{what} answered {response.status_code}")
        return True
    if elapsed is not None and elapsed > LIMIT_SECONDS:
        recorder.judge(case_id, False, f"{what} took {elapsed:.1f} s to answer")
        return True
    return False


def expanded(harness: ApiHarness, seen: str, canary: str) -> bool:
    """Whether `seen` (what came back) shows an entity of `entities_dtd` expanded: the
    canary, or this host's name (the content of `LOCAL_FILE`). The host's name is only
    looked for on a loopback target, the one whose file it is."""
    hostname = socket.gethostname() if harness.target.is_loopback else None
    return canary in seen or bool(hostname and hostname in seen)
