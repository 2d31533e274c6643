"""The HTML report: Allure 3 (npm package `allure`) run over `<report-dir>/allure-results`.

    build_html(report_dir) -> <report-dir>/html/      the report (serve it over http)
                              <report-dir>/report.html the same as one file (opens from disk)

Allure 3 is a Node.js program. Its version is pinned in the repository's `package.json`
and `package-lock.json`; `npm ci` installs it into `node_modules/`, and msgconform runs
that local copy (`node node_modules/.bin/allure`), never `npx`, which would fetch it from
the registry on every run. Where `node_modules` is looked for, in order:

1. the current directory (`./node_modules/.bin/allure`): where a wheel's user installs it,
   with `npm install allure@ALLURE_VERSION`;
2. the checkout msgconform runs from (an editable install): `npm ci` there.

Without Node.js or without the package, `missing()` says in one line what to install;
`msgconform run` prints it and carries on (its exit status is unchanged), `msgconform
report` exits with status 2.

The configuration (`allurerc.mjs`, next to this module) sets the categories and groups
results by API (epic) and operation (feature). One `allure generate` writes both outputs,
through two instances of the awesome plugin (two runs, one per output, took twice as long:
each read every result and started Node.js again). The history lives with the results, in
`<report-dir>/allure-results/history/` (which a new run does not empty), so that trends
show across runs; a rebuild of the same results (`msgconform report` after
`msgconform run`) does not add the run twice.

Allure 3 writes a Google Analytics tag into every report (opened, the page would load
googletagmanager.com and send it the report's id), and has no option to leave it out.
msgconform removes that tag from both outputs, so that a report opened on an offline or a
regulated machine asks nothing of anyone; tests/integration/test_report_browser.py fails on
any request a page makes off the machine.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from msgconform.errors import UsageError
from msgconform.report.allure_results import HISTORY_DIR, RESULTS_DIR

ALLURE_VERSION = "3.18.0"  # the same as package.json (tests/unit checks)
CONFIG = Path(__file__).with_name("allurerc.mjs")
HISTORY = f"{RESULTS_DIR}/{HISTORY_DIR}/history.jsonl"  # under the report directory
_HISTORY_MARK = f"{RESULTS_DIR}/{HISTORY_DIR}/last-run"  # fingerprint of the results last added to it
_ROOT = Path(__file__).resolve().parents[3]  # the checkout, when msgconform runs from one
_CHECKOUT = _ROOT if (_ROOT / "package.json").is_file() and (_ROOT / "src" / "msgconform").is_dir() else None
GENERATE_TIMEOUT = 300.0
_FOLDER_PLUGIN, _SINGLE_PLUGIN = "awesome", "single"  # the plugins' ids in allurerc.mjs
# Allure's analytics: the gtag.js loader and the inline script that configures it
_ANALYTICS = re.compile(
    r'<script async src="https://www\.googletagmanager\.com/[^"]*"></script>\s*'
    r"<script>\s*window\.dataLayer = window\.dataLayer \|\| \[\];.*?</script>\s*",
    re.DOTALL,
)


class HtmlReportError(UsageError):
    """The HTML report could not be built (status 2 for `msgconform report`)."""


def allure_binary() -> Path | None:
    """The local `allure` of the current directory or of msgconform's checkout, if installed."""
    for root in (Path.cwd(), _CHECKOUT):
        if root is None:
            continue
        candidate = root / "node_modules" / ".bin" / "allure"
        if candidate.exists():
            return candidate.resolve()
    return None


def missing() -> str | None:
    """One line saying what to install for the HTML report, or None when all is there."""
    where = (
        f"`npm ci` in {_CHECKOUT}"
        if _CHECKOUT is not None
        else f"`npm install allure@{ALLURE_VERSION}` in the current directory"
    )
    if shutil.which("node") is None:
        return (
            f"HTML report not built: Node.js is not installed; install Node.js 20 or newer "
            f"(e.g. `apt-get install nodejs npm`), run {where}, then `msgconform report`"
        )
    if allure_binary() is None:
        return f"HTML report not built: the npm package allure is not installed; run {where}, then `msgconform report`"
    return None


def build_html(report_dir: Path) -> tuple[Path, Path]:
    """Build `html/` and `report.html` from `<report-dir>/allure-results`; raises HtmlReportError."""
    results = report_dir / RESULTS_DIR
    if not results.is_dir() or not any(results.glob("*-result.json")):
        raise HtmlReportError(f"{results}: no Allure results; run `msgconform run --report-dir {report_dir}` first")
    problem = missing()
    if problem is not None:
        raise HtmlReportError(problem)
    fingerprint = _fingerprint(results)
    mark = report_dir / _HISTORY_MARK
    mark.parent.mkdir(parents=True, exist_ok=True)
    new_run = not mark.is_file() or mark.read_text(encoding="utf-8").strip() != fingerprint
    with tempfile.TemporaryDirectory(prefix=".html-", dir=report_dir) as scratch:
        # One generation, two outputs (allurerc.mjs): OUT/awesome/ is the folder and
        # OUT/single/index.html the single file; both show the same trend.
        output = Path(scratch) / "out"
        _generate(results, output, report_dir, append_history=new_run)
        folder = output / _FOLDER_PLUGIN
        for entry in output.iterdir():  # what Allure keeps beside the plugins (test-results.json)
            if entry.is_file() and entry.name != "index.html" and not (folder / entry.name).exists():
                os.replace(entry, folder / entry.name)
        for page in (folder / "index.html", output / _SINGLE_PLUGIN / "index.html"):
            without_analytics(page)
        os.replace(output / _SINGLE_PLUGIN / "index.html", report_dir / "report.html")
        shutil.rmtree(report_dir / "html", ignore_errors=True)
        os.replace(folder, report_dir / "html")
    mark.write_text(fingerprint + "\n", encoding="utf-8")
    return report_dir / "html", report_dir / "report.html"


def without_analytics(page: Path) -> None:
    """Remove Allure's Google Analytics tag from a generated page (in place)."""
    text = page.read_text(encoding="utf-8")
    stripped = _ANALYTICS.sub("", text, count=1)
    if stripped != text:
        page.write_text(stripped, encoding="utf-8")


def _generate(results: Path, output: Path, report_dir: Path, *, append_history: bool) -> None:
    env = dict(os.environ)
    env.update(
        {
            "MSGCONFORM_ALLURE_HISTORY": str((report_dir / HISTORY).resolve()),
            "MSGCONFORM_ALLURE_APPEND_HISTORY": "true" if append_history else "false",
            "NO_COLOR": "1",
        }
    )
    command = [
        shutil.which("node") or "node",
        str(allure_binary()),
        "generate",
        "-c",
        str(CONFIG),
        "-o",
        str(output.resolve()),
        str(results.resolve()),
    ]
    try:
        done = subprocess.run(
            command,
            env=env,
            cwd=report_dir,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=GENERATE_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        raise HtmlReportError(
            f"HTML report not built: allure generate took longer than {GENERATE_TIMEOUT:g} s"
        ) from None
    expected = (output / _FOLDER_PLUGIN / "index.html", output / _SINGLE_PLUGIN / "index.html")
    if done.returncode != 0 or not all(path.is_file() for path in expected):
        lines = [line for line in (done.stderr + done.stdout).splitlines() if line.strip()]
        last = lines[-1].strip() if lines else "no output"
        raise HtmlReportError(f"HTML report not built: allure generate ended with status {done.returncode}: {last}")


def _fingerprint(results: Path) -> str:
    names = sorted(path.name for path in results.glob("*-result.json"))
    return hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]
