"""The SuperOffice preflight: one POST that cannot send anything, and a 403 explained."""

from __future__ import annotations

import httpx
import pytest

from msgconform import preflight
from msgconform.targets import parse_targets

TARGETS = """
[superoffice]
base_url = "https://online.superoffice.com/Cust1"

[superoffice.users.sender]
email = "agent@example.test"
headers = { Authorization = "Bearer 8A:x" }
"""


def _answering(monkeypatch, status: int) -> list[httpx.Request]:
    seen: list[httpx.Request] = []

    def send(self, request, **kwargs):  # noqa: ANN001 - every request the client sends (streamed or not)
        seen.append(request)
        return httpx.Response(status, request=request)

    monkeypatch.setattr(httpx.Client, "send", send)
    return seen


def test_the_probe_is_a_body_that_cannot_bind(monkeypatch):
    seen = _answering(monkeypatch, 400)
    preflight.check(parse_targets(TARGETS)["superoffice"])
    [probe] = seen
    assert probe.method == "POST" and probe.url.path.endswith("/api/v1/Agents/EMail/SendEMails")
    assert probe.content == b"{"


def test_a_403_names_the_online_restriction_in_one_line(monkeypatch):
    _answering(monkeypatch, 403)
    with pytest.raises(preflight.PreflightError) as caught:
        preflight.check(parse_targets(TARGETS)["superoffice"])
    message = str(caught.value)
    assert "\n" not in message and message.startswith("superoffice: the credentials of role 'sender' were rejected")
    assert "EMail agent is not available in SuperOffice Online unless" in message
    assert "8A:x" not in message
