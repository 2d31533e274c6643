"""Record once, replay offline, re-judge against today's spec (issue: cassettes).

One recording (embedded servers, few examples) made through the command line serves most
tests here; each replay runs against copies of it, with no server running at all.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from msgconform import cassettes
from msgconform.runner import RunOptions, run
from msgconform.servers import TARGET_USERS
from tests.helpers import REPO, child_env, run_msgconform

pytestmark = pytest.mark.integration
EXAMPLES = "3"


def outcomes(report_dir: Path) -> dict[str, tuple[str, int]]:
    document = json.loads((report_dir / "conformance.json").read_text())
    return {c["id"]: (c["outcome"], c["checked"]) for api in document["apis"].values() for c in api["cases"]}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    root = tmp_path_factory.mktemp("recorded")
    done = run_msgconform("run", "--record", "--cassette-dir", root / "cassettes", "--report-dir", root / "reports",
                          "--max-examples", EXAMPLES, timeout=600)  # three APIs, HTML included
    return root, done


@pytest.fixture
def cassette_copy(recorded, tmp_path):
    copy = tmp_path / "cassettes"
    shutil.copytree(recorded[0] / "cassettes", copy)
    return copy


def test_a_recording_writes_a_manifest_and_one_small_cassette_per_test(recorded):
    root, done = recorded
    assert done.status == 0, done
    manifest = json.loads((root / "cassettes" / cassettes.MANIFEST).read_text())
    assert manifest["seed"] and manifest["max_examples"] == int(EXAMPLES)
    for api, entry in manifest["apis"].items():
        assert entry["users"]["sender"].get("id") == TARGET_USERS[api]()["sender"].get("id")
        files = sorted((root / "cassettes" / api).glob("*.yaml"))
        assert len(files) >= 3, files  # fuzz, and at least two stories
        for path in files:
            assert yaml.safe_load(path.read_text())["interactions"], path
    assert not list(root.glob(".cassettes.recording-*")), "the fresh folder was not moved into place"


def test_superoffice_cassettes_carry_the_deliveries_and_no_sink_secret(recorded):
    """Beside each SuperOffice cassette, the deliveries its test received (so replay judges
    them offline); the sinks' fresh credentials and per-run addresses never written."""
    root, _ = recorded
    folder = root / "cassettes" / "superoffice"
    sidecars = sorted(folder.glob("*.mail.json"))
    delivered = sum(len(json.loads(p.read_text())["deliveries"]) for p in sidecars)
    assert len(sidecars) >= 8 and delivered >= 8, (len(sidecars), delivered)
    text = "\n".join(p.read_text() for p in folder.iterdir())
    assert not re.search(r"msgconform-(imap-)?[0-9a-f]{10,12}\b", text), "a sink user name was written"
    assert "[msgconform-smtp-sink]" in text and "[msgconform-imap-sink]" in text
    assert not re.search(r'"ServerName": ?"127\.0\.0\.1:\d+"', text)
    for path in folder.glob("*.yaml"):
        for interaction in yaml.safe_load(path.read_text())["interactions"]:
            body = interaction["request"]["body"] or ""
            for password in re.findall(r'"Password": ?("[^"]*"|null)', body if isinstance(body, str) else body.decode()):
                assert password in ('"[redacted]"', "null", '""'), (path.name, password)
    manifest = json.loads((root / "cassettes" / cassettes.MANIFEST).read_text())
    smtp = manifest["apis"]["superoffice"]["smtp"]
    assert smtp["imap"] is True
    # The address recorded requests carry is the one the manifest names (a replay sends it).
    names = set(re.findall(r'"OutgoingConnectionInfo": ?\{"ServerName": ?"([^"]*)"', text))
    assert names == {smtp["server_name"]}, names


def test_replay_gives_the_same_outcomes_with_no_server_running(recorded, cassette_copy, tmp_path):
    root, _ = recorded
    done = run_msgconform("run", "--replay", "--cassette-dir", cassette_copy, "--report-dir", tmp_path / "r",
                          "--max-examples", EXAMPLES, timeout=600)  # three APIs, HTML included
    assert done.status == 0, done
    assert outcomes(tmp_path / "r") == outcomes(root / "reports")
    assert json.loads((tmp_path / "r" / "conformance.json").read_text())["mode"] == "replay"


def _its(report_dir: Path) -> dict[str, tuple[str, int]]:
    return {case: outcome for case, outcome in outcomes(report_dir).items() if case.startswith("ITS-")}


def test_every_fuzz_test_keeps_its_cases(cassette_copy):
    for api in json.loads((cassette_copy / cassettes.MANIFEST).read_text())["apis"]:
        assert (cassette_copy / api / f"test_fuzz.test_operation{cassettes.CASES_SUFFIX}").is_file(), api


@pytest.mark.parametrize("test", ["test_fuzz.test_operation", "test_stateful.test_send_then_get"])
def test_replay_sends_the_cases_the_recording_kept(test, cassette_copy, tmp_path):
    """A fuzz test's cases and a state machine's steps are kept beside their cassettes, and
    replay sends those instead of generating: one kept case changed is a request the cassette lacks."""
    path = cassette_copy / "itslearning" / f"{test}{cassettes.CASES_SUFFIX}"
    header, *lines = path.read_text().splitlines()
    entries = [json.loads(line) for line in lines]
    victim = next(e for e in entries if e["case"]["media_type"] == "application/json" and isinstance(e["case"].get("body"), dict))
    victim["case"]["body"]["MsgconformTampered"] = 1
    path.write_text("\n".join([header, *map(json.dumps, entries)]) + "\n")
    done = run_msgconform("run", "--replay", "--api", "itslearning", "--no-html", "--cassette-dir", cassette_copy,
                          "--report-dir", tmp_path / "r", "--max-examples", EXAMPLES, timeout=300)
    assert done.status == 2, done
    line = next(line for line in done.stderr_lines if "cassette miss" in line)
    assert f"{test}.yaml" in line


def test_a_recording_without_kept_cases_replays_by_generating_them(recorded, cassette_copy, tmp_path):
    """Recordings older than the case files (or a test whose cases JSON cannot carry) still replay."""
    for path in cassette_copy.rglob(f"*{cassettes.CASES_SUFFIX}"):
        path.unlink()
    done = run_msgconform("run", "--replay", "--api", "itslearning", "--no-html", "--cassette-dir", cassette_copy,
                          "--report-dir", tmp_path / "r", "--max-examples", EXAMPLES, timeout=300)
    assert done.status == 0, done
    assert _its(tmp_path / "r") == _its(recorded[0] / "reports")


@pytest.mark.parametrize("test", ["test_fuzz.test_operation", "test_stateful.test_send_then_get"])
def test_a_broken_case_file_is_refused_in_one_line(test, cassette_copy, tmp_path):
    path = cassette_copy / "itslearning" / f"{test}{cassettes.CASES_SUFFIX}"
    path.write_text("not json\n")
    done = run_msgconform("run", "--replay", "--api", "itslearning", "--no-html", "--cassette-dir", cassette_copy,
                          "--report-dir", tmp_path / "r", "--max-examples", EXAMPLES, timeout=300)
    assert done.status == 2, done
    line = next(line for line in done.stderr_lines if "broken case file" in line)
    assert str(path) in line and "record again" in line
    assert (tmp_path / "r" / "conformance.json").is_file()  # what the other tests judged is reported


def test_no_secret_reaches_cassettes_reports_or_output(recorded):
    root, done = recorded
    secrets = [user["token"] for api in TARGET_USERS for user in TARGET_USERS[api]().values() if "token" in user]
    secrets += [value.split(" ", 1)[1] for api in TARGET_USERS for user in TARGET_USERS[api]().values()
                for value in user.get("headers", {}).values()]  # SuperOffice's Basic credentials
    places = {"stdout": done.stdout, "stderr": done.stderr}
    for folder in (root / "cassettes", root / "reports"):
        for path in folder.rglob("*"):
            if path.is_file():
                places[str(path)] = path.read_text(errors="replace")
    assert "junit.xml" in " ".join(places)
    leaks = [(where, secret) for where, text in places.items() for secret in secrets if secret in text]
    assert not leaks, leaks
    assert cassettes.PLACEHOLDER in (root / "cassettes" / "itslearning").joinpath(
        sorted(p.name for p in (root / "cassettes" / "itslearning").glob("*.yaml"))[0]).read_text()


def test_a_request_missing_from_the_cassettes_is_a_harness_error(cassette_copy, tmp_path):
    victim = next((cassette_copy / "itslearning").glob("test_send.test_send_accepts_json_media_types*.yaml"))
    data = yaml.safe_load(victim.read_text())
    data["interactions"] = data["interactions"][:1]
    victim.write_text(yaml.safe_dump(data))
    done = run_msgconform("run", "--replay", "--cassette-dir", cassette_copy, "--report-dir", tmp_path / "r",
                          "--max-examples", EXAMPLES, timeout=600)  # three APIs, HTML included
    assert done.status == 2, done
    line = next(line for line in done.stderr_lines if "cassette miss" in line)
    assert "test_send_accepts_json_media_types" in line  # the test
    assert re.search(r"cassette miss: (GET|POST) /restapi/personal/messages/\S+", line)  # the request
    assert victim.name in line  # the cassette


def test_replay_refuses_a_run_recorded_differently(cassette_copy, tmp_path):
    done = run_msgconform("run", "--replay", "--cassette-dir", cassette_copy, "--report-dir", tmp_path,
                          "--max-examples", "7")
    assert done.status == 2 and len(done.stderr_lines) == 1, done
    assert "recorded with" in done.stderr and "--max-examples 7" in done.stderr
    missing = run_msgconform("run", "--replay", "--cassette-dir", tmp_path / "none", "--report-dir", tmp_path)
    assert missing.status == 2 and "no manifest" in missing.stderr


def test_replay_rejudges_against_todays_spec(cassette_copy, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(REPO / "specs", data / "specs")
    shutil.copytree(REPO / "suites", data / "suites")
    spec = yaml.safe_load((data / "specs" / "itslearning.yaml").read_text())
    message = spec["components"]["schemas"]["Message"]
    message["required"] = [*message.get("required", []), "Signature"]  # a field no recording has
    (data / "specs" / "itslearning.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    done = run_msgconform("run", "--replay", "--api", "itslearning", "--cassette-dir", cassette_copy,
                          "--report-dir", tmp_path / "r", "--max-examples", EXAMPLES,
                          env=child_env(MSGCONFORM_DATA_DIR=str(data)), timeout=300)
    assert done.status == 1, done
    assert outcomes(tmp_path / "r")["ITS-GET-003"][0] == "fail"


def test_an_interrupted_recording_leaves_the_old_cassettes_intact(cassette_copy, tmp_path, monkeypatch):
    before = {p: p.read_bytes() for p in cassette_copy.rglob("*") if p.is_file()}

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("msgconform.runner._run_suite", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(RunOptions(mode="record", cassette_dir=cassette_copy, report_dir=tmp_path / "r", max_examples=3))
    after = {p: p.read_bytes() for p in cassette_copy.rglob("*") if p.is_file()}
    assert after == before
    assert [p.name for p in cassette_copy.parent.iterdir() if "recording" in p.name] == []
