"""No token or password anywhere in the report directory after a run with canary secrets.

Every user of the targets file carries its token plus a canary credential in a header
msgconform knows nothing about (`X-Canary-Key`); the run writes the reports, the Allure
results (exchanges, curl commands, evidence) and, when Node.js is there, the HTML report.
Every file is searched, the single-file report's embedded (base64) data included.
"""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path

import pytest

from tests.helpers import run_msgconform, serving

pytestmark = pytest.mark.integration
TOKEN = re.compile(r'^token = "([^"]+)"$', re.M)
BASIC = re.compile(r'"Authorization" = "Basic ([^"]+)"')
SINK_USER = re.compile(r"msgconform-(imap-)?[0-9a-f]{10,12}\b")  # the sinks' fresh user names
EMBEDDED = re.compile(r'd\("[^"]+",\s*"([A-Za-z0-9+/=]+)"\)')  # report.html: d("data/...", "<base64>")


def with_canaries(targets_text: str) -> tuple[str, list[str]]:
    secrets: list[str] = []

    def swap(match: re.Match) -> str:
        token, canary = match.group(1), f"canary-SECRET-{len(secrets):02d}-5d1c9a"
        secrets.extend([token, canary])
        return f'headers = {{ Authorization = "Bearer {token}", X-Canary-Key = "{canary}" }}'

    text = TOKEN.sub(swap, targets_text)
    for credential in BASIC.findall(text):  # SuperOffice's user has Basic credentials in headers
        secrets.extend([f"Basic {credential}", credential])
    return text, secrets


def texts_of(folder: Path) -> dict[str, str]:
    texts = {}
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", "replace")
        texts[str(path)] = text
        for n, payload in enumerate(EMBEDDED.findall(text)):
            try:
                texts[f"{path} (embedded {n})"] = base64.b64decode(payload).decode("utf-8", "replace")
            except (binascii.Error, ValueError):
                continue
    return texts


def test_no_secret_reaches_the_report_directory(tmp_path):
    report_dir = tmp_path / "reports"
    with serving(cwd=tmp_path) as server:
        text, secrets = with_canaries(server.targets_text)
        targets = server.write_targets(tmp_path / "targets.toml", text)
        done = run_msgconform("run", "--targets", targets, "--report-dir", report_dir, "--max-examples", "3",
                              cwd=tmp_path, timeout=300)
    assert done.status == 0, done
    assert len(secrets) >= 8
    places = texts_of(report_dir)
    places |= {"stdout": done.stdout, "stderr": done.stderr}
    results = [p for p in places if p.endswith("-result.json")]
    attachments = [p for p in places if "-attachment" in p]
    assert results and attachments, sorted(places)
    assert any("authorization: [redacted]" in places[p].lower() for p in attachments)  # the exchanges are there
    assert any("RCPT TO: msgconform+" in places[p] for p in attachments)  # and SuperOffice's delivered messages
    if (report_dir / "report.html").is_file():
        assert any("(embedded" in p for p in places)
    leaks = sorted({(where, secret) for where, body in places.items() for secret in secrets if secret in body})
    assert not leaks, leaks[:10]
    sink_users = [where for where, body in places.items() if SINK_USER.search(body)]
    assert not sink_users, f"a mail sink's user name found in {sink_users[:3]}"
