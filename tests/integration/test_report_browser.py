"""The HTML report as a person sees it: a real run, its Allure report served on loopback and
rendered by headless Chromium, the totals read from the page and compared with the run's
own results (the Allure results it wrote, and conformance.json for the catalogued cases).

Needs Node.js with the npm package `allure` (`npm ci`) and Chromium (Debian `chromium`);
`scripts/test` installs both. Without them the tests skip, except under CI (`CI` set),
where they must run. A screenshot of the report is kept in the run's report directory.

Playwright drives the machine's Chromium and waits until the page shows what a test reads
(the report fills its page from embedded data after it loads). An earlier version dumped
the DOM after a fixed `--virtual-time-budget`; under load that dump could come before the
report had drawn anything. A request that would leave the machine is refused and fails the
test: msgconform removes the Google Analytics tag that Allure 3 writes into its pages.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import threading
from collections import Counter
from collections.abc import Iterator
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from msgconform.report import allure_html
from tests.helpers import run_msgconform

pytestmark = pytest.mark.integration
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1400, "height": 1000}
WAIT_MS = 120_000  # for what a page must show; a loaded CI machine takes seconds, never this
# Outcomes of conformance.json -> statuses of the catalogued cases' Allure results
STATUS = {"pass": "passed", "fail": "failed", "non-strict": "failed", "skip": "skipped", "error": "broken"}
# The report's first page is drawn when its Total carries a number
TOTAL_DRAWN = """() => { const item = document.querySelector('[data-testid="metadata-item-total"]');
                       return item !== null && /[0-9]/.test(item.textContent); }"""


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _require_tools() -> None:
    missing = [what for what, absent in (("chromium (apt-get install chromium)", chromium() is None),
                                         ("the HTML report's tools", allure_html.missing() is not None)) if absent]
    if not missing:
        return
    reason = f"needs {' and '.join(missing)}: {allure_html.missing() or 'install chromium'}"
    if os.environ.get("CI"):
        pytest.fail(f"CI is set, so the browser test must run, but it {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A real run of the embedded servers; its report directory, with html/ and report.html."""
    _require_tools()
    report_dir = tmp_path_factory.mktemp("browser") / "reports"
    done = run_msgconform("run", "--report-dir", report_dir, "--max-examples", "3", timeout=300)
    assert done.status == 0, done
    assert f"HTML report in {report_dir / 'html'}/" in done.stderr, done
    assert (report_dir / "html" / "index.html").is_file() and (report_dir / "report.html").is_file()
    return report_dir


@pytest.fixture(scope="module")
def served(built: Path) -> Iterator[str]:
    """`html/` on a loopback port (the multi-file report needs http)."""
    handler = functools.partial(_Quiet, directory=str(built / "html"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format, *args) -> None:  # noqa: A002 - the base class's name
        pass


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """The machine's Chromium, headless, driven by Playwright."""
    _require_tools()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def render(browser, url: str, *, until: str, screenshot: Path | None = None) -> str:  # noqa: ANN001
    """The page at `url` once the script `until` holds, as HTML; its screenshot if asked.
    A request that would leave the machine is refused, and fails the test."""
    page = browser.new_page(viewport=VIEWPORT)
    refused: list[str] = []

    def local_only(route) -> None:  # noqa: ANN001 - Playwright's Route
        url = urlsplit(route.request.url)
        if url.scheme in ("file", "data", "blob") or url.hostname == "127.0.0.1":
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    try:
        page.route("**/*", local_only)
        page.goto(url, wait_until="load", timeout=WAIT_MS)
        page.wait_for_function(until, timeout=WAIT_MS)
        if screenshot is not None:
            page.screenshot(path=str(screenshot), full_page=True)
        dom = page.content()
    finally:
        page.close()
    assert not refused, f"the page asked for something off the machine: {refused}"
    return dom


class _Totals(HTMLParser):
    """The numbers Allure shows on its first page: Total, Passed, Failed, Broken, Skipped."""

    def __init__(self) -> None:
        super().__init__()
        self.totals: dict[str, int] = {}
        self._item: str | None = None
        self._depth = 0

    def handle_starttag(self, tag, attrs) -> None:  # noqa: ANN001
        testid = dict(attrs).get("data-testid") or ""
        if self._item is None and testid.startswith("metadata-item-"):
            self._item, self._depth = testid.removeprefix("metadata-item-"), 0
        if self._item is not None:
            self._depth += 1

    def handle_endtag(self, tag) -> None:  # noqa: ANN001
        if self._item is not None:
            self._depth -= 1
            if self._depth <= 0:
                self._item = None

    def handle_data(self, data) -> None:  # noqa: ANN001
        if self._item is not None and self._item not in self.totals and data.strip().isdigit():
            self.totals[self._item] = int(data.strip())


def page_totals(dom: str) -> dict[str, int]:
    parser = _Totals()
    parser.feed(dom)
    return {name: count for name, count in parser.totals.items() if name != "new"}


def own_results(report_dir: Path) -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in (report_dir / "allure-results").glob("*-result.json")]


def expected_totals(results: list[dict]) -> dict[str, int]:
    return {"total": len(results), **Counter(result["status"] for result in results)}


def test_the_served_report_shows_the_runs_totals_grouped_by_api(built, served, browser):
    shot = built / "report-screenshot.png"
    dom = render(browser, served, until=TOTAL_DRAWN, screenshot=shot)
    results = own_results(built)
    assert page_totals(dom) == expected_totals(results)
    document = json.loads((built / "conformance.json").read_text(encoding="utf-8"))
    for api in document["apis"]:
        assert f">{api}<" in dom  # the tree's first level is the API (epic)
    assert "Global Attachments" in dom
    assert shot.stat().st_size > 10_000


def test_the_single_file_opens_from_disk_with_the_same_totals(built, browser):
    dom = render(browser, (built / "report.html").resolve().as_uri(), until=TOTAL_DRAWN)
    assert page_totals(dom) == expected_totals(own_results(built))


def test_allure_counts_tests_operations_and_catalogued_cases(built):
    """The Allure results are the run's: one per catalogued case (its status from
    conformance.json), one per Schemathesis operation, one per other pytest test."""
    results = own_results(built)
    document = json.loads((built / "conformance.json").read_text(encoding="utf-8"))
    cases = {case["id"]: case for api in document["apis"].values() for case in api["cases"]}
    by_case = {r["fullName"].rpartition(".")[2]: r for r in results if r["fullName"].startswith("msgconform.")}
    assert set(by_case) == set(cases)
    assert {i: r["status"] for i, r in by_case.items()} == {i: STATUS[c["outcome"]] for i, c in cases.items()}
    tests = [r for r in results if not r["fullName"].startswith("msgconform.")]
    operations = [r for r in tests if any(p["name"] == "operation" for p in r.get("parameters", []))]
    assert len(operations) >= 4  # itslearning: send, get, search; highq: create
    assert len({r["historyId"] for r in operations}) == len(operations)  # not one merged history
    assert not [r for r in tests if re.fullmatch(r"test_operation", r["name"])]  # the merged one is gone
    for result in tests:
        labels = {label["name"]: label["value"] for label in result["labels"]}
        assert labels.get("epic") in document["apis"], result["name"]
    scenario = next(r for r in tests if r["name"] == "test_send_and_read")
    assert scenario["steps"] and all(step.get("attachments") for step in scenario["steps"][:3])
    for result in operations:
        assert result["attachments"], result["name"]  # its exchanges


def test_rebuilding_the_same_results_keeps_one_history_entry_per_run(built):
    history = built / allure_html.HISTORY
    before = history.read_text(encoding="utf-8").count("\n")
    done = run_msgconform("report", "--report-dir", built, timeout=300)
    assert done.status == 0, done
    assert history.read_text(encoding="utf-8").count("\n") == before == 1


def test_a_second_run_empties_the_results_and_extends_the_history(built):
    """Runs last in this module: it replaces the first run's results."""
    first = {p.name for p in (built / "allure-results").glob("*-result.json")}
    done = run_msgconform("run", "--report-dir", built, "--max-examples", "3", timeout=300)
    assert done.status == 0, done
    second = {p.name for p in (built / "allure-results").glob("*-result.json")}
    assert second and not first & second
    assert len(second) == len(first)  # the same run again: nothing of the first run is left over
    assert (built / allure_html.HISTORY).read_text(encoding="utf-8").count("\n") == 2


# --- `msgconform diff`'s Markdown, as a GitHub job summary shows it -------------------------

SUMMARY_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>job summary</title>
<style>body{{font-family:sans-serif;font-size:14px;max-width:1200px;margin:16px}}
table{{border-collapse:collapse;display:block;overflow:auto}}th,td{{border:1px solid #d0d7de;padding:6px 13px}}
code{{background:#eff1f3;padding:.2em .4em;border-radius:6px}}</style></head>
<body><article class="markdown-body">{body}</article></body></html>"""


class _Tables(HTMLParser):
    """Headings and tables of the rendered page: [(heading, [[cell, ...], ...]), ...]."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[str] = []
        self.tables: list[tuple[str, list[list[str]]]] = []
        self._text: list[str] | None = None
        self._row: list[str] | None = None

    def handle_starttag(self, tag, attrs) -> None:  # noqa: ANN001
        if tag in ("h1", "h2", "td", "th"):
            self._text = []
        elif tag == "table":
            self.tables.append((self.headings[-1] if self.headings else "", []))
        elif tag == "tr":
            self._row = []

    def handle_endtag(self, tag) -> None:  # noqa: ANN001
        if tag in ("h1", "h2") and self._text is not None:
            self.headings.append("".join(self._text).strip())
            self._text = None
        elif tag in ("td", "th") and self._text is not None and self._row is not None:
            self._row.append("".join(self._text).strip())
            self._text = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1][1].append(self._row)
            self._row = None

    def handle_data(self, data) -> None:  # noqa: ANN001
        if self._text is not None:
            self._text.append(data)


def show_summary(markdown: str, where: Path, browser) -> _Tables:  # noqa: ANN001
    """The Markdown rendered by GitHub's renderer (cmark-gfm), loaded in Chromium, parsed
    back from the DOM; a screenshot is left beside it."""
    cmarkgfm = pytest.importorskip("cmarkgfm")
    page = where.with_suffix(".html")
    html = cmarkgfm.github_flavored_markdown_to_html(markdown)
    page.write_text(SUMMARY_PAGE.format(body=html), encoding="utf-8")
    dom = render(browser, page.resolve().as_uri(), until="() => document.querySelector('table') !== null",
                 screenshot=where.with_suffix(".png"))
    assert where.with_suffix(".png").stat().st_size > 5_000
    parsed = _Tables()
    parsed.feed(dom)
    return parsed


def test_the_diff_of_two_reports_reads_as_a_job_summary(built, browser, tmp_path):
    """A real run's conformance.json against a copy with one case regressed: the summary's
    title says so, and the first table after the overview is the regression, cell by cell."""
    document = json.loads((built / "conformance.json").read_text(encoding="utf-8"))
    case = document["apis"]["itslearning"]["cases"][0]
    case.update(outcome="fail", details="a send answered 200 (POST /restapi/personal/messages/send/v1)")
    document["apis"]["itslearning"]["verdict"] = "nonconformant"
    after = tmp_path / "after.json"
    after.write_text(json.dumps(document), encoding="utf-8")
    done = run_msgconform("diff", built / "conformance.json", after, timeout=60)
    assert done.status == 1, done
    page = show_summary(done.stdout, built / "diff-summary", browser)
    assert page.headings[0] == "msgconform diff: 2 regressions"  # the case, and the verdict
    overview, regressions = page.tables[0], page.tables[1]
    assert overview[1][0] == ["API", "before", "after", "regressions", "other changes"]
    assert ["itslearning", "conformant", "nonconformant", "2", "0"] in overview[1]
    assert regressions[0] == "Regressions"
    first = regressions[1][1]
    assert first[:5] == ["itslearning", "regressed", f"{case['id']} ({case['level']})", "pass", "fail"]
    assert first[5] == case["details"]  # the `|`-free details in one cell


def test_the_behaviour_diff_reads_as_a_job_summary(browser, tmp_path):
    """The committed cassettes against a copy whose sends lost their Location header."""
    import yaml

    from tests.helpers import REPO

    after = tmp_path / "after"
    shutil.copytree(REPO / "cassettes", after)
    path = after / "itslearning" / "test_send.test_send_accepts_json_media_types.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for interaction in data["interactions"]:
        interaction["response"]["headers"].pop("location", None)
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    done = run_msgconform("diff", REPO / "cassettes", after, timeout=120)
    assert done.status == 1, done
    page = show_summary(done.stdout, tmp_path / "behaviour-summary", browser)
    assert page.headings[0].startswith("msgconform diff: ") and "regression" in page.headings[0]
    assert page.headings[1] == "Regressions"
    rows = page.tables[1][1]
    assert rows[0] == ["API", "change", "answers", "what", "before", "after", "seen in"]
    assert any(row[1] == "headers: removed" and row[3] == "location" for row in rows[1:]), rows
    assert "Not compared, and why" in page.headings
