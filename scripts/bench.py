"""Benchmark: what a msgconform run costs. It prints figures and asserts nothing.

    python scripts/bench.py [--runs 3] [--jobs N] [--section runs|cases|latency]... [--max-examples N]

Sections (all by default):

- runs: wall time (median of --runs) and CPU time (user+sys of every process, summed) of
  `msgconform run` against the embedded reference servers and of `msgconform run --replay`
  of the committed cassettes: every API with the HTML build, every API without it
  (`--no-html`), and each API alone without it; then replay time over live time.
- cases: generated cases per second of msgconform and of `st run -w 1`, side by side against
  the same reference server (in this process), the same spec and the same --max-examples
  (default: the committed cassettes' manifest). A case is one request Schemathesis generated:
  the server counts the requests that carry Schemathesis' `X-Schemathesis-TestCaseId`
  header, so msgconform's follow-ups (plain httpx) are not counted; msgconform runs its fuzz
  test only (no stories, no state machine) and `st` the examples, coverage and fuzzing
  phases (no stateful phase) with the checks msgconform's fuzz test delegates to
  Schemathesis. Cases per second = cases / (last case - first case, as the server saw them).
- latency: each reference server's latency per operation (p50, p99), 8 concurrent clients
  in this process (lean ones: h11 over asyncio streams), each sending a fixed number of
  requests on its own connection (`msgconform serve` in another process). SendEMails, which
  talks SMTP (into an SMTP sink the bench starts), is reported apart.

Every section prints the load average (os.getloadavg) before it starts: figures taken on a
loaded machine are slower and noisier, and say so.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASSETTES = ROOT / "cassettes"
MSGCONFORM = [sys.executable, "-m", "msgconform"]
CLIENTS = 8
REQUESTS_PER_CLIENT = 50
# The Schemathesis checks msgconform's fuzz test delegates to (plugin/generic.py), for `st`.
ST_CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,"
    "negative_data_rejection"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (the median is printed)")
    parser.add_argument("--jobs", type=int, default=None, help="msgconform run --jobs (default: its own)")
    parser.add_argument("--section", action="append", choices=["runs", "cases", "latency"], default=[])
    parser.add_argument(
        "--max-examples",
        type=int,
        default=None,
        help="for the cases section (default: the committed cassettes' manifest)",
    )
    args = parser.parse_args()
    manifest = json.loads((CASSETTES / "manifest.json").read_text(encoding="utf-8"))
    apis = list(manifest["apis"])
    sections = args.section or ["runs", "cases", "latency"]
    print(
        f"msgconform bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} cores "
        f"({platform.processor() or platform.machine()}); Python {platform.python_version()}; "
        f"APIs {', '.join(apis)}; {args.runs} run(s) per figure, median shown"
    )
    if "runs" in sections:
        _runs(apis, manifest, args)
    if "cases" in sections:
        _cases(apis, args.max_examples or manifest["max_examples"], manifest["seed"])
    if "latency" in sections:
        _latency(apis)
    return 0


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


# --- runs ---------------------------------------------------------------------------------------


def _timed(command: list[str], runs: int) -> tuple[float, float, int]:
    """Median wall time, median CPU time of the command and its children, and the last exit status."""
    walls, cpus, status = [], [], 0
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="msgconform-bench-") as scratch:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            done = subprocess.run(
                [*command, "--report-dir", str(Path(scratch) / "reports")],
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=1800,
            )
            walls.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            status = done.returncode
            if done.returncode not in (0, 1):
                print(
                    f"    ({' '.join(command[2:])} ended with status {done.returncode}: "
                    f"{done.stderr.strip().splitlines()[-1:]})"
                )
    return statistics.median(walls), statistics.median(cpus), status


def _runs(apis: list[str], manifest: dict, args) -> None:
    print(f"\n## msgconform run: embedded servers (live) and replay of {CASSETTES.name}/ — {_load()}")
    jobs = ["--jobs", str(args.jobs)] if args.jobs else []
    examples = ["--max-examples", str(manifest["max_examples"])]
    print(
        f"(--max-examples {manifest['max_examples']}{', --jobs ' + str(args.jobs) if args.jobs else ''}; "
        f"wall = median seconds, cpu = seconds of CPU in all processes)"
    )
    print("| what | live wall | live cpu | replay wall | replay cpu | replay / live (wall) |")
    print("|---|---|---|---|---|---|")
    configs = [("every API, HTML report", [], True), ("every API, --no-html", [], False)]
    configs += [(f"{api} alone, --no-html", ["--api", api], False) for api in apis]
    ratios = {}
    for label, extra, html in configs:
        flags = [*extra, *jobs, *examples, *([] if html else ["--no-html"])]
        live = _timed([*MSGCONFORM, "run", *flags], args.runs)
        replay = _timed([*MSGCONFORM, "run", "--replay", "--cassette-dir", str(CASSETTES), *flags], args.runs)
        ratios[label] = replay[0] / live[0]
        print(
            f"| {label} | {live[0]:.1f} s | {live[1]:.1f} s | {replay[0]:.1f} s | {replay[1]:.1f} s | "
            f"{ratios[label]:.2f} |",
            flush=True,
        )
    print(f"(afterwards: {_load()})")


# --- cases per second ---------------------------------------------------------------------------


class _Counting:
    """ASGI middleware: the arrival time of every request that Schemathesis generated."""

    def __init__(self, app) -> None:
        self.app = app
        self.cases: list[float] = []
        self.others = 0

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            if any(name.lower() == b"x-schemathesis-testcaseid" for name, _ in scope["headers"]):
                self.cases.append(time.perf_counter())
            else:
                self.others += 1
        await self.app(scope, receive, send)

    def reset(self) -> None:
        self.cases.clear()
        self.others = 0

    def rate(self) -> tuple[int, float]:
        span = self.cases[-1] - self.cases[0] if len(self.cases) > 1 else 0.0
        return len(self.cases), (len(self.cases) - 1) / span if span else 0.0


@contextmanager
def _counted_server(api: str):
    from msgconform import servers
    from msgconform.servers.embedded import running_servers

    counting = {}
    original = servers.AVAILABLE[api]
    servers.AVAILABLE[api] = lambda faults: counting.setdefault("app", _Counting(original(faults)))
    try:
        with running_servers([api]) as running:
            logging.getLogger("uvicorn.error").setLevel(logging.ERROR)  # st's malformed requests, by design
            yield running, counting["app"]
    finally:
        servers.AVAILABLE[api] = original


def _msgconform_fuzz_only(targets_file: Path, api: str, max_examples: int, scratch: Path) -> float:
    """`msgconform run` for one API with only its fuzz test in the suite; its wall time."""
    from msgconform import lifecycle, runner

    real_spawn = lifecycle.Lifecycle.spawn
    narrowed = []

    def fuzz_only(self, command, **popen):
        command = list(command)
        if command[1:3] == ["-m", "pytest"] and command[-1].endswith(os.sep + api):
            command[-1] = str(Path(command[-1]) / "test_fuzz.py")
            narrowed.append(command[-1])
        return real_spawn(self, command, **popen)

    lifecycle.Lifecycle.spawn = fuzz_only
    try:
        start = time.perf_counter()
        with open(os.devnull, "w") as quiet:
            runner.run(
                runner.RunOptions(
                    targets=targets_file, apis=[api], max_examples=max_examples, jobs=1, report_dir=scratch / "reports"
                ),
                log=quiet,
            )
        wall = time.perf_counter() - start
    finally:
        lifecycle.Lifecycle.spawn = real_spawn
    if not narrowed:  # the figure would count the stories' time between the fuzz cases
        raise SystemExit(f"bench: the suite for {api} was not narrowed to its fuzz test (how runner starts it changed)")
    return wall


def _st(api: str, base_url: str, headers: dict[str, str], max_examples: int, seed: int, scratch: Path) -> float:
    st = shutil.which("st", path=str(Path(sys.executable).parent)) or shutil.which("st")
    config = scratch / "schemathesis.toml"
    config.write_text("[phases.coverage]\nunexpected-methods = []\n", encoding="utf-8")
    command = [
        st,
        "--config-file",
        str(config),
        "run",
        str(ROOT / "specs" / f"{api}.yaml"),
        "--url",
        base_url,
        "--workers",
        "1",
        "--max-examples",
        str(max_examples),
        "--seed",
        str(seed),
        "--phases",
        "examples,coverage,fuzzing",
        "--mode",
        "all",
        "--checks",
        ST_CHECKS,
        "--generation-database",
        "none",
        "--no-shrink",
    ]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=scratch, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=1800)
    if done.returncode not in (0, 1):  # 1: st found failures (its checks are stricter than ours)
        print(f"    (st ended with status {done.returncode}: {(done.stdout + done.stderr).strip()[-300:]})")
    return time.perf_counter() - start


def _cases(apis: list[str], max_examples: int, seed: int) -> None:
    from msgconform.targets import parse_targets

    print(f"\n## Generated cases per second, msgconform beside `st run -w 1` — {_load()}")
    print(
        f"(same reference server, spec and --max-examples {max_examples}; cases counted by the server; "
        "rate over the span from the first case to the last; process wall time beside it)"
    )
    print(
        "| API | msgconform cases | msgconform cases/s | msgconform wall | st cases | st cases/s | st wall | "
        "msgconform / st |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for api in apis:
        with (
            tempfile.TemporaryDirectory(prefix="msgconform-bench-") as scratch_text,
            _counted_server(api) as (running, counter),
        ):
            scratch = Path(scratch_text)
            targets_file = scratch / "targets.toml"
            targets_file.write_text(running.targets_toml(), encoding="utf-8")
            target = parse_targets(running.targets_toml(), source="<bench>")[api]
            counter.reset()
            ours_wall = _msgconform_fuzz_only(targets_file, api, max_examples, scratch)
            ours = counter.rate()
            counter.reset()
            st_wall = _st(api, target.base_url, dict(target.users["sender"].headers), max_examples, seed, scratch)
            theirs = counter.rate()
        ratio = ours[1] / theirs[1] if theirs[1] else float("nan")
        print(
            f"| {api} | {ours[0]} | {ours[1]:.0f} | {ours_wall:.1f} s | {theirs[0]} | {theirs[1]:.0f} | "
            f"{st_wall:.1f} s | {ratio:.2f} |",
            flush=True,
        )


# --- latency --------------------------------------------------------------------------------------


def _operations(api: str, users: dict) -> list[tuple[str, str, str, dict | None]]:
    """(label, method, path, JSON body) per operation worth timing."""
    if api == "itslearning":
        recipient = users["recipient"].id
        body = {"ToPersonIds": [recipient], "Subject": "[msgconform] bench", "Text": "[msgconform] bench"}
        return [
            ("sendMessage (POST send/v1)", "POST", "/restapi/personal/messages/send/v1", body),
            ("getMessage (GET {id}/v1)", "GET", "@location", None),
            (
                "searchRecipients (GET search/v1)",
                "GET",
                f"/restapi/personal/messages/recipients/search/v1?searchText={_word(users['recipient'])}",
                None,
            ),
        ]
    if api == "highq":
        body = {
            "recipients": {"users": {"user": [{"userid": users["recipient"].id}]}},
            "messages": {"message": [{"html": "<p>[msgconform] bench</p>"}]},
        }
        return [("createConversation (POST /4/conversations/)", "POST", "/4/conversations/", body)]
    if api == "completeempire":
        user = users["recipient"]
        body = {
            "to": [{"display_name": user.name or "Recipient", "email_address": user.email, "account_id": user.id}],
            "subject": "[msgconform] bench",
            "body": "[msgconform] bench",
        }
        return [("sendMessage (POST /api/messages/sendmessage)", "POST", "/api/messages/sendmessage", body)]
    if api == "superoffice":  # the body is made per run: it names the bench's own SMTP sink
        return [
            (
                "SendEMails (POST Agents/EMail/SendEMails, one e-mail over SMTP)",
                "POST",
                "/api/v1/Agents/EMail/SendEMails",
                None,
            )
        ]
    return []


def _send_emails_body(sink) -> dict:
    """One plainly new e-mail through the bench's SMTP sink, to an address nobody reads."""
    return {
        "OutgoingConnectionInfo": {
            "ServerName": sink.server_name,
            "UserName": sink.username,
            "Password": sink.password,
            "Folder": None,
            "UseSSL": False,
        },
        "Emails": [
            {
                "To": [{"Address": "msgconform+bench@example.test", "Name": "Bench"}],
                "Subject": "[msgconform] bench",
                "PlainBody": "[msgconform] bench",
            }
        ],
    }


def _word(user) -> str:
    """A search text that finds the user: the first word of the name (at least 3 characters)."""
    name = getattr(user, "name", None) or "msgconform"
    return max(name.split(), key=len)


async def _hammer(base_url: str, headers: dict, method: str, path: str, body, location: str | None, clients: int = 0):
    """`clients` connections (default CLIENTS), each sending REQUESTS_PER_CLIENT requests one
    after the other; the time of each exchange, and how many were not 2xx.

    The clients speak HTTP/1.1 with h11 over asyncio streams, the request's bytes built once:
    about 0.12 ms of CPU per exchange, so that the figure is the server's. With httpx's
    AsyncClient (0.9 ms per exchange, measured here) the 8 clients were what was measured: they
    kept the server at about a third of what it answers."""
    import h11  # uvicorn's own HTTP/1.1 library (a dependency of uvicorn and httpx)
    import httpx

    url = httpx.URL(location if path == "@location" else base_url + path)
    content = json.dumps(body).encode() if body is not None else b""
    head = [("Host", url.netloc), *headers.items(), ("Accept", "application/json")]
    if body is not None:
        head += [("Content-Type", "application/json"), ("Content-Length", str(len(content)))]
    target = url.raw_path
    timings: list[float] = []
    failures = 0

    async def client_loop() -> None:
        nonlocal failures
        reader, writer = await asyncio.open_connection(url.host, url.port)
        connection = h11.Connection(h11.CLIENT)
        try:
            for _ in range(REQUESTS_PER_CLIENT):
                start = time.perf_counter()
                data = connection.send(h11.Request(method=method, target=target, headers=head))
                data += connection.send(h11.Data(data=content)) if content else b""
                writer.write(data + connection.send(h11.EndOfMessage()))
                status = 0
                while True:
                    event = connection.next_event()
                    if event is h11.NEED_DATA:
                        received = await asyncio.wait_for(reader.read(65536), timeout=10)
                        if not received:
                            raise SystemExit(f"bench: {method} {url} closed the connection")
                        connection.receive_data(received)
                    elif isinstance(event, h11.Response):
                        status = event.status_code
                    elif isinstance(event, h11.EndOfMessage):
                        break
                timings.append(time.perf_counter() - start)
                failures += not 200 <= status < 300
                connection.start_next_cycle()
        finally:
            writer.close()

    await asyncio.gather(*(client_loop() for _ in range(clients or CLIENTS)))
    return timings, failures


def _latency(apis: list[str]) -> None:
    import httpx

    from msgconform.targets import parse_targets

    print(
        f"\n## Reference servers: latency per operation, {CLIENTS} concurrent clients x {REQUESTS_PER_CLIENT} "
        f"requests on loopback — {_load()}"
    )
    print(
        "(SuperOffice's SendEMails really sends each e-mail over SMTP, into a sink in this process:"
        " its row is apart, not a figure for the p50 target)"
    )
    print(
        "(p50 alone: the same requests from one client at a time, i.e. the server's own time plus"
        " one loopback round trip, without waiting behind the other seven)"
    )
    print("| API | operation | requests | p50 | p99 | not 2xx | p50 alone |")
    print("|---|---|---|---|---|---|---|")
    from msgconform.sink import SmtpSink

    sink = SmtpSink().start()
    serve = subprocess.Popen(
        [*MSGCONFORM, "serve", "--port", "0"],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        targets = parse_targets(_read_targets(serve, apis), source="<serve>")
        for api in apis:
            if api not in targets:
                continue
            target = targets[api]
            headers = dict(target.users["sender"].headers)
            location = None
            for label, method, path, body in _operations(api, target.users):
                if api == "superoffice":
                    body = _send_emails_body(sink)
                if path == "@location":
                    sent = httpx.post(
                        target.base_url + "/restapi/personal/messages/send/v1",
                        headers=headers,
                        json=_operations(api, target.users)[0][3],
                        timeout=10,
                    )
                    location = (
                        httpx.URL(target.base_url + "/restapi/personal/messages/send/v1")
                        .join(sent.headers["location"])
                        .__str__()
                    )
                timings, failures = asyncio.run(_hammer(target.base_url, headers, method, path, body, location))
                alone, failures_alone = asyncio.run(
                    _hammer(target.base_url, headers, method, path, body, location, clients=1)
                )
                timings.sort()
                alone.sort()
                p50 = timings[len(timings) // 2] * 1000
                p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))] * 1000
                print(
                    f"| {api} | {label} | {len(timings)} | {p50:.1f} ms | {p99:.1f} ms | "
                    f"{failures + failures_alone} | {alone[len(alone) // 2] * 1000:.1f} ms |",
                    flush=True,
                )
    finally:
        serve.terminate()
        serve.wait(timeout=30)
        sink.stop()


def _read_targets(process: subprocess.Popen, apis: list[str]) -> str:
    """What `msgconform serve` printed on stdout: read until it is a targets file naming `apis`."""
    from msgconform.errors import TargetsError
    from msgconform.targets import parse_targets

    received = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        chunk = os.read(process.stdout.fileno(), 65536)
        received += chunk
        try:
            if set(apis) <= set(parse_targets(received.decode(), source="<serve>")):
                return received.decode()
        except (TargetsError, UnicodeDecodeError):
            continue
    raise SystemExit(f"bench: msgconform serve printed no targets file naming {', '.join(apis)}")


if __name__ == "__main__":
    raise SystemExit(main())
