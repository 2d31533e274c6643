"""SuperOffice's record-then-replay round trip, over the faithful server's recording that
the quality group makes anyway (conftest.py): issue 14, item 7.

- The sinks' addresses in the recorded requests are the ones the manifest names
  (`smtp.server_name`, `smtp.imap_server_name`): every OutgoingConnectionInfo and every
  non-null SentItemsConnectionInfo of every recorded request carries exactly those.
- A replay of that recording, with no server and no sink, has no cassette miss and gives
  every case the outcome and count the recording gave it, deliveries included.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest
import yaml

from msgconform import selftest
from msgconform.runner import RunOptions, run

pytestmark = pytest.mark.quality
API = "superoffice"


def _bodies(folder):
    for path in sorted((folder / API).glob("*.yaml")):
        for interaction in yaml.safe_load(path.read_text())["interactions"]:
            body = interaction["request"]["body"]
            if isinstance(body, bytes):
                body = body.decode("utf-8", "replace")
            try:
                yield path.name, json.loads(body or "")
            except ValueError:
                continue  # not JSON (a malformed body on purpose): it names no mail server


def test_recorded_requests_name_the_sinks_as_the_manifest_does(faithful_recording):
    _, folder = faithful_recording(API)
    smtp = json.loads((folder / "manifest.json").read_text())["apis"][API]["smtp"]
    assert smtp["server_name"] and smtp["imap"] and smtp["imap_server_name"], smtp
    outgoing = sent_items = 0
    for name, body in _bodies(folder):
        if not isinstance(body, dict):
            continue
        if isinstance(body.get("OutgoingConnectionInfo"), dict):
            assert body["OutgoingConnectionInfo"]["ServerName"] == smtp["server_name"], name
            outgoing += 1
        if isinstance(body.get("SentItemsConnectionInfo"), dict):
            assert body["SentItemsConnectionInfo"]["ServerName"] == smtp["imap_server_name"], name
            sent_items += 1
    assert outgoing >= 10 and sent_items >= 1, (outgoing, sent_items)


def test_a_replay_has_no_miss_and_the_recorded_outcomes(faithful_recording, tmp_path):
    _, folder = faithful_recording(API)
    copy = tmp_path / "cassettes"
    shutil.copytree(folder, copy)
    recorded = json.loads((folder.parent / "reports" / "conformance.json").read_text())
    with open(os.devnull, "w") as quiet:
        result = run(RunOptions(mode="replay", cassette_dir=copy, apis=[API], max_examples=selftest.MAX_EXAMPLES,
                                report_dir=tmp_path / "reports"), log=quiet)
    misses = [e["details"] for e in result.events if e.get("kind") == "harness"]
    assert not misses, misses[:3]
    replayed = {c.case.id: (c.outcome, c.checked) for c in result.report.apis[0].cases}
    expected = {c["id"]: (c["outcome"], c["checked"]) for c in recorded["apis"][API]["cases"]}
    assert replayed == expected
    assert result.exit_status == 0
