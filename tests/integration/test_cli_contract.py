"""The command-line contract (contracts.md sections 1, 3 and 4), pinned from the outside.

Everything here runs `python -m msgconform ...` in a subprocess and looks only at what a
user or a CI job sees: the exit status, stdout, stderr and the files in the report folder.

The file has two halves:

- Quick refusals and `serve` (a second or two each): usage errors, an unreachable target,
  rejected credentials, `serve`'s stdout and signals. Each refusal must come within
  seconds, as exactly one line on stderr starting with ``msgconform:``, nothing on stdout.
- Four full runs, started *together* by one module-scoped fixture so that they overlap
  (a run is ~20 s, mostly waiting): the embedded servers (the happy path), a MUST fault
  (`send-200`), and a SHOULD-only fault (`bad-input-422`) with and without ``--strict``.
  The fault runs use the CLI end to end: `msgconform serve --fault F` and
  `msgconform run --targets`. Every produced report is checked for consistency against the
  schema, the case catalogue, junit.xml and the summary line; then each run's own verdict.
"""

from __future__ import annotations

import json
import re
import signal
import sys
import xml.etree.ElementTree as ET
from contextlib import ExitStack
from pathlib import Path

import httpx
import jsonschema
import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for helpers.py
from helpers import REPO, Background, Completed, free_port, free_port_block, run_msgconform, serving  # noqa: E402

import msgconform  # noqa: E402
from msgconform.runner import DEFAULT_SEED, embedded_apis  # noqa: E402
from msgconform.servers import faults as fault_registry  # noqa: E402

pytestmark = pytest.mark.integration

WITHIN_SECONDS = 10.0  # "within seconds": generous, the machine may be busy
SUMMARY = re.compile(
    r"^(?P<api>[a-z]+): (?P<verdict>conformant|nonconformant|error|skipped) "
    r"\((?P<pass>\d+) pass, (?P<fail>\d+) fail, (?P<nonstrict>\d+) non-strict, "
    r"(?P<skip>\d+) skip, (?P<error>\d+) error\)$"
)
REPORT_FILES = {"conformance.json", "junit.xml", "conformance.md"}
SCHEMA = json.loads((REPO / "src/msgconform/report/conformance.schema.json").read_text(encoding="utf-8"))
SEND = "/restapi/personal/messages/send/v1"

# A valid targets file for a server nobody runs (what matters is what is refused first).
NOWHERE_TARGETS = """\
[itslearning]
base_url = "http://127.0.0.1:{port}"

[itslearning.users.sender]
id = 1001
token = "sender-SECRET"

[itslearning.users.recipient]
id = 1002
token = "recipient-SECRET"

[itslearning.users.bcc]
id = 1003
token = "bcc-SECRET"

[itslearning.users.outsider]
id = 1004
token = "outsider-SECRET"
"""


def assert_one_line_refusal(done: Completed, *words: str) -> str:
    """Status 2, nothing on stdout, one `msgconform:` line on stderr naming `words`, quickly."""
    assert done.status == 2, done
    assert done.stdout == "", done
    assert len(done.stderr_lines) == 1, done
    line = done.stderr_lines[0]
    assert line.startswith("msgconform: "), done
    for word in words:
        assert word in line, f"{word!r} not in {line!r}"
    assert done.seconds < WITHIN_SECONDS, done
    return line


def with_token(targets_text: str, role: str, token: str) -> str:
    """The same targets file with the token of one itslearning role replaced."""
    pattern = re.compile(rf'(\[itslearning\.users\.{role}\][^\[]*?token = )"[^"]*"')
    changed, count = pattern.subn(lambda m: f'{m.group(1)}"{token}"', targets_text)
    assert count == 1, targets_text
    return changed


def catalogued_cases(api: str) -> list[dict]:
    """The case catalogue as the repository has it (read directly, not via msgconform)."""
    data = yaml.safe_load((REPO / "specs" / f"{api}.cases.yaml").read_text(encoding="utf-8"))
    return data["cases"]


def words(text: str) -> str:
    return " ".join(str(text).split())


# --- quick refusals -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["run", "--api", "nosuchapi"], ["--api", "nosuchapi"]),
        (["run", "--max-examples", "0"], ["--max-examples"]),
        (["run", "--max-examples", "many"], ["--max-examples"]),
        (["run", "--record", "--replay"], ["--replay"]),
        (["serve", "--port", "not-a-port"], ["--port"]),
        (["frobnicate"], ["frobnicate"]),
        (["serve", "--fault", "no-such-fault"], ["no-such-fault"]),
    ],
    ids=["unknown-api", "max-examples-0", "max-examples-word", "record-and-replay", "bad-port",
         "unknown-command", "unknown-fault"],
)
def test_a_usage_error_is_one_line_and_status_2(tmp_path: Path, args: list[str], named: list[str]) -> None:
    done = run_msgconform(*args, cwd=tmp_path)
    assert_one_line_refusal(done, *named)
    assert not (tmp_path / "reports").exists()


def test_a_malformed_targets_file_is_refused(tmp_path: Path) -> None:
    targets = tmp_path / "targets.toml"
    targets.write_text("[itslearning\nbase_url = 'x'\n", encoding="utf-8")
    done = run_msgconform("run", "--targets", targets, "--report-dir", tmp_path / "r", cwd=tmp_path)
    assert_one_line_refusal(done, str(targets), "malformed")
    assert not (tmp_path / "r").exists()


def test_a_missing_targets_file_is_refused(tmp_path: Path) -> None:
    done = run_msgconform("run", "--targets", tmp_path / "absent.toml", cwd=tmp_path)
    assert_one_line_refusal(done, "absent.toml")


def test_naming_an_api_the_targets_file_lacks_is_refused(tmp_path: Path) -> None:
    targets = tmp_path / "targets.toml"
    targets.write_text(NOWHERE_TARGETS.format(port=free_port()), encoding="utf-8")
    done = run_msgconform("run", "--targets", targets, "--api", "highq", cwd=tmp_path)
    assert_one_line_refusal(done, "highq")


def test_an_unreachable_target_is_one_line_naming_the_api_and_url(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    targets = tmp_path / "targets.toml"
    targets.write_text(NOWHERE_TARGETS.replace("http://127.0.0.1:{port}", url), encoding="utf-8")
    report_dir = previous_reports(tmp_path / "reports")
    done = run_msgconform("run", "--targets", targets, "--report-dir", report_dir, cwd=tmp_path)
    assert_one_line_refusal(done, "itslearning", url)
    assert "SECRET" not in done.stderr
    assert_previous_reports_kept(report_dir)


def test_rejected_credentials_are_one_line_naming_the_role_never_the_token(tmp_path: Path) -> None:
    wrong = "wrong-SECRET-4711"
    report_dir = previous_reports(tmp_path / "reports")
    with serving(cwd=tmp_path) as server:
        targets = server.write_targets(tmp_path / "targets.toml", with_token(server.targets_text, "bcc", wrong))
        done = run_msgconform("run", "--targets", targets, "--report-dir", report_dir, cwd=tmp_path)
    line = assert_one_line_refusal(done, "itslearning", "bcc")
    assert wrong not in done.stdout + done.stderr
    for role, user in server.targets["itslearning"].users.items():  # nor anybody else's token
        assert user.headers["Authorization"].split()[-1] not in line, role
    assert_previous_reports_kept(report_dir)


def previous_reports(report_dir: Path) -> Path:
    report_dir.mkdir()
    for name in REPORT_FILES:
        (report_dir / name).write_text(f"previous run: {name}\n", encoding="utf-8")
    return report_dir


def assert_previous_reports_kept(report_dir: Path) -> None:
    assert {p.name for p in report_dir.iterdir()} == REPORT_FILES
    for name in REPORT_FILES:
        assert (report_dir / name).read_text(encoding="utf-8") == f"previous run: {name}\n"


# --- serve ----------------------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_prints_a_targets_file_serves_and_stops_on_a_signal(tmp_path: Path, sig: signal.Signals) -> None:
    with serving(cwd=tmp_path) as server:
        targets = server.targets
        assert list(targets) == embedded_apis()
        its = targets["itslearning"]
        assert its.is_loopback
        sender = its.users["sender"]
        with httpx.Client(base_url=its.base_url, timeout=10, trust_env=False) as http:
            sent = http.post(SEND, headers=sender.headers, json={
                "ToPersonIds": [its.users["recipient"].id], "Subject": "hello", "Text": "from the CLI test"})
            assert sent.status_code == 201, sent.text
            got = http.get(sent.headers["location"], headers=sender.headers)
            assert got.status_code == 200 and got.json()["Subject"] == "hello"
        stopped = server.stop(sig)
    assert stopped.seconds < 5, stopped
    assert stopped.status == 0, stopped
    assert stopped.stdout == "", "serve wrote more than the targets file to stdout"
    assert "Traceback" not in stopped.stderr, stopped


def test_serve_puts_each_api_at_its_offset_from_port(tmp_path: Path) -> None:
    port = free_port_block(4)
    with serving(port=port, cwd=tmp_path) as server:
        assert server.targets["itslearning"].base_url == f"http://127.0.0.1:{port}"


def test_serve_list_faults_prints_api_name_description_lines(tmp_path: Path) -> None:
    done = run_msgconform("serve", "--list-faults", cwd=tmp_path)
    assert done.status == 0, done
    lines = done.stdout.splitlines()
    assert lines == [f"{entry.api}\t{entry.name}\t{entry.description}" for entry in fault_registry.registry()]
    assert "itslearning\tsend-200\t" in done.stdout
    for line in lines:
        api, name, description = line.split("\t")
        assert api and re.fullmatch(r"[a-z0-9-]+", name) and description.strip() == description != ""


# --- full runs ------------------------------------------------------------------------------

RUNS = {
    # name: (fault of the server, or None for the embedded default; --strict?)
    "embedded": (None, False),
    "must-fault": ("send-200", False),
    "should-fault": ("bad-input-422", False),
    "should-fault-strict": ("bad-input-422", True),
}


class Run:
    """One finished `msgconform run` and what it left in its report folder."""

    def __init__(self, done: Completed, report_dir: Path, strict: bool) -> None:
        self.done, self.report_dir, self.strict = done, report_dir, strict

    @property
    def document(self) -> dict:
        return json.loads((self.report_dir / "conformance.json").read_text(encoding="utf-8"))

    @property
    def junit(self) -> ET.Element:
        return ET.parse(self.report_dir / "junit.xml").getroot()

    def cases(self, api: str = "itslearning") -> dict[str, dict]:
        return {case["id"]: case for case in self.document["apis"][api]["cases"]}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory):
    """Start all four runs at once (one server per fault run), wait for them lazily."""
    base = tmp_path_factory.mktemp("runs")
    started: dict[str, tuple[Background, Path, bool]] = {}
    with ExitStack() as stack:
        for name, (fault, strict) in RUNS.items():
            args = ["run", "--max-examples", "3", "--report-dir", f"reports-{name}"]
            if fault is not None:  # an itslearning fault: judge itslearning only
                server = stack.enter_context(serving(fault, cwd=base))
                args += ["--targets", server.write_targets(base / f"targets-{name}.toml"), "--api", "itslearning"]
            if strict:
                args.append("--strict")
            started[name] = (Background(*args, cwd=base), base / f"reports-{name}", strict)
        stack.callback(lambda: [background.kill() for background, _, _ in started.values()])
        finished: dict[str, Run] = {}

        def get(name: str) -> Run:
            if name not in finished:
                background, report_dir, strict = started[name]
                finished[name] = Run(background.wait(timeout=300), report_dir, strict)
            return finished[name]

        yield get


# Checks that hold for every run, whatever its verdict.


@pytest.mark.parametrize("name", RUNS)
def test_stdout_is_exactly_the_summary_lines_and_progress_goes_to_stderr(runs, name: str) -> None:
    run = runs(name)
    lines = run.done.stdout.splitlines()
    assert run.done.stdout == "".join(line + "\n" for line in lines)
    assert lines and all(SUMMARY.match(line) for line in lines), run.done
    assert [SUMMARY.match(line)["api"] for line in lines] == list(run.document["apis"])
    assert run.done.stderr.strip(), "no progress on stderr"


@pytest.mark.parametrize("name", RUNS)
def test_conformance_json_is_valid_against_the_shipped_schema(runs, name: str) -> None:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    validator.check_schema(SCHEMA)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(runs(name).document)]
    assert errors == []


@pytest.mark.parametrize("name", RUNS)
def test_conformance_json_lists_every_catalogued_case_once(runs, name: str) -> None:
    doc = runs(name).document
    for api, result in doc["apis"].items():
        listed = result["cases"]
        catalogued = catalogued_cases(api)
        assert [case["id"] for case in listed] == [case["id"] for case in catalogued]
        for case, entry in zip(listed, catalogued, strict=True):
            assert case["level"] == entry["level"], case["id"]
            assert case["title"] == entry["title"], case["id"]
            assert case["source"] == entry["source"], case["id"]
            assert case["quote"] == words(entry.get("quote", "")), case["id"]


@pytest.mark.parametrize("name", RUNS)
def test_conformance_json_settings_and_totals(runs, name: str) -> None:
    run = runs(name)
    doc = run.document
    assert doc["format"] == 1 and doc["tool"] == "msgconform" and doc["version"] == msgconform.__version__
    assert (doc["mode"], doc["strict"], doc["seed"], doc["max_examples"]) == ("live", run.strict, DEFAULT_SEED, 3)
    assert doc["started"] <= doc["finished"]
    totals = dict.fromkeys(["pass", "fail", "non-strict", "skip", "error"], 0)
    for result in doc["apis"].values():
        assert result["target"].startswith("http://127.0.0.1:")
        for case in result["cases"]:
            totals[case["outcome"]] += 1
            if case["outcome"] == "pass":
                assert case["checked"] >= 1, case
    assert doc["totals"] == totals


@pytest.mark.parametrize("name", RUNS)
def test_summary_line_numbers_equal_the_json(runs, name: str) -> None:
    run = runs(name)
    doc = run.document
    for line in run.done.stdout.splitlines():
        match = SUMMARY.match(line)
        result = doc["apis"][match["api"]]
        counts = {key: 0 for key in ("pass", "fail", "non-strict", "skip", "error")}
        for case in result["cases"]:
            counts[case["outcome"]] += 1
        assert match["verdict"] == result["verdict"]
        assert [int(match[k]) for k in ("pass", "fail", "nonstrict", "skip", "error")] == list(counts.values())
    if len(doc["apis"]) == 1:  # then the line's numbers are the run's totals
        match = SUMMARY.match(run.done.stdout.strip())
        assert [int(match[k]) for k in ("pass", "fail", "nonstrict", "skip", "error")] == [
            doc["totals"][k] for k in ("pass", "fail", "non-strict", "skip", "error")
        ]


@pytest.mark.parametrize("name", RUNS)
def test_reports_were_written_atomically(runs, name: str) -> None:
    run = runs(name)
    names = {path.name for path in run.report_dir.iterdir()}
    assert REPORT_FILES <= names
    leftovers = [n for n in names if n.startswith(".") or n.endswith((".tmp", "~")) or n not in
                 REPORT_FILES | {"allure-results", "html", "report.html"}]
    assert leftovers == []


@pytest.mark.parametrize("name", RUNS)
def test_junit_has_one_testcase_per_catalogued_case_as_section_4_says(runs, name: str) -> None:
    run = runs(name)
    doc = run.document
    root = run.junit
    suites = root.findall("testsuite")
    assert [suite.get("name") for suite in suites] == list(doc["apis"])
    for suite in suites:
        cases = doc["apis"][suite.get("name")]["cases"]
        testcases = suite.findall("testcase")
        assert [(t.get("classname"), t.get("name")) for t in testcases] == [
            (suite.get("name"), f"{c['id']}: {c['title']}") for c in cases
        ]
        failures = 0
        for testcase, case in zip(testcases, cases, strict=True):
            kinds = {child.tag for child in testcase} - {"system-out", "system-err", "properties"}
            outcome, details = case["outcome"], case["details"]
            if outcome == "fail" or (outcome == "non-strict" and run.strict):
                assert kinds == {"failure"}, case
                failure = testcase.find("failure")
                assert (failure.get("type") == "non-strict") == (outcome == "non-strict")
                assert details in (failure.text or ""), case
                failures += 1
            elif outcome == "error":
                assert kinds == {"error"}, case
                assert details in (testcase.find("error").text or testcase.find("error").get("message"))
            elif outcome == "skip":
                assert kinds == {"skipped"}, case
                assert testcase.find("skipped").get("message") == details
            else:  # pass, or non-strict without --strict: passes, the finding in system-out
                assert kinds == set(), case
                if outcome == "non-strict":
                    assert details in testcase.find("system-out").text
        assert int(suite.get("tests")) == len(cases)
        assert int(suite.get("failures")) == failures
        assert int(suite.get("errors")) == sum(c["outcome"] == "error" for c in cases)
        assert int(suite.get("skipped")) == sum(c["outcome"] == "skip" for c in cases)


@pytest.mark.parametrize("name", RUNS)
def test_markdown_names_every_case(runs, name: str) -> None:
    run = runs(name)
    text = (run.report_dir / "conformance.md").read_text(encoding="utf-8")
    for api, result in run.document["apis"].items():
        assert f"## {api} — {result['verdict']}" in text
        for case in result["cases"]:
            assert f"| {case['id']} |" in text


# What each run must conclude.


def test_embedded_default_run_is_conformant_exit_0(runs) -> None:
    run = runs("embedded")
    assert run.done.status == 0, run.done
    doc = run.document
    assert list(doc["apis"]) == embedded_apis()
    assert {result["verdict"] for result in doc["apis"].values()} == {"conformant"}
    assert doc["totals"]["fail"] == 0 and doc["totals"]["error"] == 0
    assert all(SUMMARY.match(line)["verdict"] == "conformant" for line in run.done.stdout.splitlines())


def test_a_must_fault_makes_the_run_nonconformant_exit_1(runs) -> None:
    run = runs("must-fault")
    assert run.done.status == 1, run.done
    assert run.done.stdout.startswith("itslearning: nonconformant (")
    assert run.document["apis"]["itslearning"]["verdict"] == "nonconformant"
    caught = run.cases()["ITS-SEND-001"]
    assert caught["outcome"] == "fail" and caught["checked"] >= 1
    assert "POST" in caught["details"] and SEND in caught["details"]


def test_a_should_failure_is_non_strict_and_exit_0_without_strict(runs) -> None:
    run = runs("should-fault")
    assert run.done.status == 0, run.done
    match = SUMMARY.match(run.done.stdout.strip())
    assert match["verdict"] == "conformant" and int(match["nonstrict"]) >= 1
    assert run.cases()["ITS-HTTP-003"]["outcome"] == "non-strict"
    assert "fail" not in {case["outcome"] for case in run.cases().values()}


def test_strict_turns_the_same_should_failure_into_exit_1(runs) -> None:
    run = runs("should-fault-strict")
    assert run.done.status == 1, run.done
    assert run.done.stdout.startswith("itslearning: nonconformant (")
    cases = run.cases()
    assert cases["ITS-HTTP-003"]["outcome"] == "non-strict"  # --strict changes the verdict, not the outcome
    assert "fail" not in {case["outcome"] for case in cases.values()}
    assert run.document["apis"]["itslearning"]["verdict"] == "nonconformant"
