"""The command line (contracts.md section 1): `run`, `serve`, `report`, `selftest`.

Parsing and exit statuses live here; the work is done by `runner` (run) and
`servers.embedded` (serve). Progress and logs go to stderr; stdout carries only what the
contract puts there (the summary lines of `run`, the targets file of `serve`, the fault
list of `serve --list-faults`). A `MsgconformError` becomes one line on stderr and its
exit status (2); argparse's own usage errors are shortened to one such line as well.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NoReturn

from msgconform import __version__
from msgconform.errors import MsgconformError, UsageError
from msgconform.lifecycle import Interrupted

APIS = ("itslearning", "completeempire", "highq", "superoffice")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number")
    return value


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (``msgconform: run: ...``) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("msgconform").strip()
        where = f"{command}: " if command else ""
        self.exit(2, f"msgconform: {where}{message} (see {self.prog} --help)\n")


def _port(text: str) -> int:
    value = int(text) if text.isdigit() else -1
    if not 0 <= value <= 65532:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0 to 65532)")
    return value


def build_parser() -> argparse.ArgumentParser:
    from msgconform.runner import DEFAULT_MAX_EXAMPLES

    parser = _Parser(prog="msgconform", description="Conformance suite for vendor messaging APIs.")
    parser.add_argument("--version", action="version", version=f"msgconform {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="test the targets (default: the embedded reference servers)")
    run.add_argument("--targets", type=Path, metavar="FILE", help="targets file (TOML); default: embedded servers")
    run.add_argument(
        "--api",
        action="append",
        default=[],
        choices=APIS,
        metavar="NAME",
        help="limit the run to this API (repeatable): " + ", ".join(APIS),
    )
    run.add_argument("--report-dir", type=Path, default=Path("reports"), metavar="DIR")
    run.add_argument(
        "--max-examples",
        type=_positive,
        default=DEFAULT_MAX_EXAMPLES,
        metavar="N",
        help=f"property-based examples per operation (default {DEFAULT_MAX_EXAMPLES})",
    )
    run.add_argument("--strict", action="store_true", help="SHOULD-level failures fail the run too")
    recording = run.add_mutually_exclusive_group()
    recording.add_argument("--record", action="store_true", help="run live and write cassettes")
    recording.add_argument("--replay", action="store_true", help="run offline from cassettes")
    run.add_argument("--cassette-dir", type=Path, default=Path("cassettes"), metavar="DIR")
    run.add_argument(
        "--allow-attacks",
        action="store_true",
        help="also send hostile payloads (XML entity attacks) to targets not on loopback",
    )
    _add_baseline_options(run)
    run.add_argument(
        "--jobs",
        type=_positive,
        default=None,
        metavar="N",
        help="APIs tested at once (default: the number of cores); the reports are the same",
    )
    run.add_argument("--no-html", action="store_true", help="do not build the HTML report")

    serve = commands.add_parser("serve", help="run the reference servers until interrupted")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument(
        "--port",
        type=_port,
        default=0,
        metavar="N",
        help="itslearning on N, completeempire N+1, highq N+2, superoffice N+3 (0: free ports)",
    )
    serve.add_argument("--fault", action="append", default=[], metavar="NAME", help="switch a named fault on")
    serve.add_argument("--list-faults", action="store_true", help="print api<TAB>name<TAB>description lines")

    report = commands.add_parser("report", help="build the HTML report from a run's results")
    report.add_argument("--report-dir", type=Path, default=Path("reports"), metavar="DIR")

    selftest = commands.add_parser("selftest", help="run the suite against the faithful servers and each fault")
    selftest.add_argument("--api", action="append", default=[], choices=APIS, metavar="NAME")
    selftest.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME",
        help="only this fault or variant (repeatable); default: all, and the faithful servers",
    )
    selftest.add_argument("--jobs", type=_positive, default=2, metavar="N", help="runs at a time (default 2)")
    selftest.add_argument(
        "--cassette-dir",
        type=Path,
        default=Path("cassettes"),
        metavar="DIR",
        help="recorded cassettes to mutate responses of (default cassettes/)",
    )
    _add_baseline_command(commands)
    diff = commands.add_parser("diff", help="what changed between two runs (reports or cassette folders)")
    diff.add_argument("old", type=Path, metavar="OLD", help="conformance.json, a report folder, or a cassette folder")
    diff.add_argument("new", type=Path, metavar="NEW", help="the same kind as OLD")
    diff.add_argument("--strict", action="store_true", help="a SHOULD case that now fails is a regression too")
    diff.add_argument("--format", choices=("markdown", "json"), default="markdown")
    _add_init(commands)
    return parser


def _add_init(commands: argparse._SubParsersAction) -> None:
    """`msgconform init [--api NAME]... [--out FILE]`; the template is `msgconform.targets_template`."""
    init = commands.add_parser("init", help="print a commented targets file to start from")
    init.add_argument(
        "--api",
        action="append",
        default=[],
        choices=APIS,
        metavar="NAME",
        help="an API to describe (repeatable; default: all): " + ", ".join(APIS),
    )
    init.add_argument("--out", type=Path, metavar="FILE", help="write the file there (never over an existing one)")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from msgconform.servers.faults import UnknownFault

    try:
        return _COMMANDS[args.command](args)
    except UnknownFault as exc:
        print(f"msgconform: {exc}", file=sys.stderr)
        return 2
    except MsgconformError as exc:
        print(f"msgconform: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print("msgconform: interrupted", file=sys.stderr)
        return 130
    except Interrupted as exc:  # SIGINT or SIGTERM before the run judged anything
        print(f"msgconform: interrupted by {exc} before anything was judged; no report written", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from msgconform.concurrency import default_jobs
    from msgconform.runner import RunOptions, run

    options = RunOptions(
        targets=args.targets,
        apis=args.api,
        report_dir=args.report_dir,
        max_examples=args.max_examples,
        strict=args.strict,
        mode="record" if args.record else "replay" if args.replay else "live",
        cassette_dir=args.cassette_dir,
        allow_attacks=args.allow_attacks,
        baseline=args.baseline,
        cases=args.case,
        jobs=args.jobs or default_jobs(),
    )
    result = run(options)
    from msgconform.report import summary_lines

    for api in result.report.apis:
        if api.harness_errors:  # the run could not judge: say why, in one line per API
            more = f" (and {len(api.harness_errors) - 1} more)" if len(api.harness_errors) > 1 else ""
            print(f"msgconform: {api.api}: {api.harness_errors[0]}{more}", file=sys.stderr)
    for line in summary_lines(result.report):
        print(line)
    if result.report.interrupted:
        print(
            "msgconform: the run was interrupted; no HTML report built (msgconform report builds it)", file=sys.stderr
        )
    elif args.no_html:
        print(
            f"msgconform: HTML report not built (--no-html); `msgconform report --report-dir {args.report_dir}` "
            "builds it",
            file=sys.stderr,
        )
    else:
        _html_after_run(args.report_dir)
    return result.exit_status


def _html_after_run(report_dir: Path) -> None:
    """The HTML report, when Node.js and the npm package allure are there; else one line why not."""
    from msgconform.report import allure_html

    problem = allure_html.missing()
    if problem is not None:
        print(f"msgconform: {problem}", file=sys.stderr)
        return
    try:
        html, single = allure_html.build_html(report_dir)
    except allure_html.HtmlReportError as exc:
        print(f"msgconform: {exc}", file=sys.stderr)
    else:
        print(f"msgconform: HTML report in {html}/ and {single}", file=sys.stderr)


def _serve(args: argparse.Namespace) -> int:
    from msgconform.servers import faults as fault_registry

    if args.list_faults:
        for fault in fault_registry.registry():
            print(f"{fault.api}\t{fault.name}\t{fault.description}")
        return 0
    from msgconform.servers.embedded import serve_forever

    try:
        serve_forever(faults=args.fault, host=args.host, port=args.port)
    except fault_registry.UnknownFault as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"serve: cannot listen on {args.host}:{args.port} ({exc.strerror or exc})") from None
    return 0


def _report(args: argparse.Namespace) -> int:
    from msgconform.report import allure_html

    html, single = allure_html.build_html(args.report_dir)  # HtmlReportError: one line, status 2
    print(f"msgconform: HTML report in {html}/ and {single}", file=sys.stderr)
    return 0


def _selftest(args: argparse.Namespace) -> int:
    from msgconform import selftest
    from msgconform.servers import faults as fault_registry

    for name in args.fault:
        fault_registry.lookup(name)  # UnknownFault for a typo
    return selftest.main(args.api, args.fault, jobs=args.jobs, cassette_dir=None if args.fault else args.cassette_dir)


def _diff(args: argparse.Namespace) -> int:
    from msgconform import diff

    result = diff.compare(args.old, args.new, strict=args.strict)  # UsageError: one line, status 2
    sys.stdout.write(diff.render_json(result) if args.format == "json" else diff.render_markdown(result))
    return result.exit_status


# --- baselines and case selection (contracts.md section 5) -------------------------------------


def _add_baseline_options(run: argparse.ArgumentParser) -> None:
    run.add_argument(
        "--baseline",
        type=Path,
        metavar="FILE",
        help="known deviations (TOML) that do not fail the gate; see `msgconform baseline`",
    )
    run.add_argument(
        "--case",
        action="append",
        default=[],
        metavar="PATTERN",
        help="judge only the cases matching this id or glob (repeatable); the others skip",
    )


def _iso_date(text: str):
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date such as 2027-03-31") from None


def _add_baseline_command(commands) -> None:
    command = commands.add_parser("baseline", help="write or ratchet a baseline from the last run's conformance.json")
    command.add_argument("--report-dir", type=Path, default=Path("reports"), metavar="DIR")
    command.add_argument(
        "--update",
        type=Path,
        metavar="FILE",
        help="keep this baseline's entries that still cover a failure or were not judged; drop stale ones",
    )
    command.add_argument(
        "--out", type=Path, metavar="FILE", help="write here (default stdout); never overwrites another file"
    )
    command.add_argument("--reason", metavar="TEXT", help="the reason of every new entry")
    command.add_argument("--expires", type=_iso_date, metavar="DATE", help="the expiry of every new entry (YYYY-MM-DD)")


def _baseline(args: argparse.Namespace) -> int:
    from msgconform import baseline
    from msgconform.report._model import write_atomically

    out, update = args.out, args.update
    if out is not None and out.exists() and (update is None or out.resolve() != update.resolve()):
        raise UsageError(
            f"baseline: --out {out}: the file exists; msgconform never overwrites it "
            f"(give another name, or --update {out} to ratchet it)"
        )
    text = baseline.write_baseline(
        baseline.read_report(args.report_dir), update=update, reason=args.reason, expires=args.expires
    )
    if out is None:
        sys.stdout.write(text)
    else:
        write_atomically(out, text)
        count = len(baseline.parse(text, str(out)).entries)
        print(f"msgconform: baseline written to {out} ({count} entr{'y' if count == 1 else 'ies'})", file=sys.stderr)
    return 0


_COMMANDS = {
    "run": _run,
    "serve": _serve,
    "report": _report,
    "selftest": _selftest,
    "baseline": _baseline,
    "diff": _diff,
}


def _init(args: argparse.Namespace) -> int:
    from msgconform.targets_template import render, secret_names

    text = render(args.api)
    if args.out is None:
        sys.stdout.write(text)
        return 0
    try:
        with args.out.open("x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise UsageError(f"init: {args.out} exists; it was left as it is (choose another --out)") from None
    except OSError as exc:
        raise UsageError(f"init: cannot write {args.out}: {exc.strerror or exc}") from None
    names = " ".join(secret_names(args.api or APIS))
    print(f"msgconform: wrote {args.out}: fill in its values, and set {names} before a run", file=sys.stderr)
    return 0


_COMMANDS["init"] = _init
