"""The CI pipelines in examples/ci/: valid for their CI, and every msgconform command in them
understood by msgconform itself, so that the examples cannot rot.

- Each file validates against check-jsonschema's built-in schema for its CI
  (`vendor.github-workflows`, `vendor.gitlab-ci`); the schemas ship inside the wheel, so
  this runs offline.
- Every `msgconform ...` command line in a `run:` (GitHub) or `script:`/`before_script:`/
  `after_script:` (GitLab) is cut out of its shell text (continuations joined, stopped at
  `|`, `||`, `&&`, `;`, `>`), its CI variables filled in with every value of the job's matrix,
  and parsed by `msgconform.cli.build_parser()` — the parser the command line really uses.
- What the pipelines promise (contracts and the issue that asked for them) is checked on the
  parsed YAML: replay only on pull/merge requests, no secrets there, never `--allow-attacks`,
  least privilege, JUnit and artifacts, the SuperOffice note.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from msgconform.cli import build_parser

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "ci"
GITHUB = EXAMPLES / "github-actions.yml"
GITLAB = EXAMPLES / "gitlab-ci.yml"
SCHEMAS = {GITHUB: "vendor.github-workflows", GITLAB: "vendor.gitlab-ci"}

# Parts of contracts.md section 1 that other issues implement: named in the failure
# message, so that a red test here says what it waits for.
IMPLEMENTED_ELSEWHERE = {
    "--baseline": "issue 15 (baselines)",
    "--case": "issue 15 (baselines and --case)",
    "baseline": "issue 15 (baselines)",
    "diff": "issue 16 (msgconform diff)",
    "--jobs": "contracts.md section 1 (run --jobs)",
}

_CONTROL = {"|", "||", "&&", ";", "&", ">", ">>", "<", "2>", "(", ")"}
_GITHUB_EXPR = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")
_SHELL_VAR = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")
_UNKNOWN = "VALUE"  # what a CI variable without a known value becomes


@dataclass(frozen=True)
class Command:
    where: str  # file, job and step
    argv: tuple[str, ...]  # after "msgconform"

    def __str__(self) -> str:
        return f"{self.where}: msgconform {shlex.join(self.argv)}"


# --- reading the pipelines -----------------------------------------------------------------


def load(path: Path) -> dict:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def github_jobs(doc: dict) -> Iterator[tuple[str, list[dict[str, str]], list[str]]]:
    """(job name, one dict of variables per matrix combination, shell scripts)."""
    for name, job in doc["jobs"].items():
        scripts = [step["run"] for step in job.get("steps", []) if "run" in step]
        yield name, _github_matrix(job.get("strategy", {}).get("matrix", {})), scripts


def _github_matrix(matrix: dict) -> list[dict[str, str]]:
    axes = {k: v for k, v in matrix.items() if k not in ("include", "exclude")}
    combos = [dict(zip(axes, values)) for values in itertools.product(*axes.values())] if axes else []
    combos += [dict(extra) for extra in matrix.get("include", [])]
    return [{f"matrix.{k}": str(v) for k, v in combo.items()} for combo in combos] or [{}]


def gitlab_jobs(doc: dict) -> Iterator[tuple[str, list[dict[str, str]], list[str]]]:
    hidden = {name: job for name, job in doc.items() if name.startswith(".") and isinstance(job, dict)}
    globals_ = {k: str(v) for k, v in doc.get("variables", {}).items()}
    for name, job in doc.items():
        if not isinstance(job, dict) or name in ("variables", "default", "workflow", "include"):
            continue
        merged = {**hidden.get(job.get("extends", ""), {}), **job}
        scripts = [line for key in ("before_script", "script", "after_script") for line in merged.get(key, [])]
        combos = []
        for entry in merged.get("parallel", {}).get("matrix", []):
            axes = {k: v if isinstance(v, list) else [v] for k, v in entry.items()}
            combos += [dict(zip(axes, values)) for values in itertools.product(*axes.values())]
        variables = {**globals_, **{k: str(v) for k, v in merged.get("variables", {}).items()}}
        yield name, [{**variables, **c} for c in combos] or [variables], scripts


def commands_in(script: str, variables: dict[str, str]) -> Iterator[tuple[str, ...]]:
    """Every `msgconform` command in a shell script, as argv after the program name."""
    script = re.sub(r"\\\n", " ", script).replace("\n", " ; ")  # continuations joined; a line ends a command
    script = _GITHUB_EXPR.sub(lambda m: variables.get(m.group(1), _UNKNOWN), script)
    script = _SHELL_VAR.sub(lambda m: variables.get(m.group(1), _UNKNOWN), script)
    lexer = shlex.shlex(script, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    words = list(lexer)
    for index, word in enumerate(words):
        at_start = index == 0 or words[index - 1] in _CONTROL
        if word == "msgconform" and at_start:
            argv = []
            for arg in words[index + 1:]:
                if arg in _CONTROL:
                    break
                argv.append(arg)
            yield tuple(argv)


def all_commands() -> list[Command]:
    found = []
    for path, jobs in ((GITHUB, github_jobs(load(GITHUB))), (GITLAB, gitlab_jobs(load(GITLAB)))):
        for job, combos, scripts in jobs:
            for combo, (number, script) in itertools.product(combos, enumerate(scripts, 1)):
                shown = ", ".join(f"{k}={v}" for k, v in combo.items() if k in ("matrix.vendor", "VENDOR"))
                where = f"{path.name}: job {job}, script {number}" + (f" [{shown}]" if shown else "")
                found += [Command(where, argv) for argv in commands_in(script, combo)]
    return list(dict.fromkeys(found))


COMMANDS = all_commands()


# --- the tests -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", list(SCHEMAS), ids=lambda p: p.name)
def test_the_pipeline_validates_against_its_ci_schema(path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", SCHEMAS[path], str(path)],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_command_lines_are_found() -> None:
    """The extraction itself: both files, every job kind, every matrix vendor."""
    text = "\n".join(map(str, COMMANDS))
    for name in ("github-actions.yml", "gitlab-ci.yml"):
        for job in ("replay", "live", "diff"):
            assert f"{name}: job {job}," in text, f"no msgconform command found in {name} job {job}"
    subcommands = {c.argv[0] for c in COMMANDS if c.argv}
    assert subcommands == {"run", "diff"}, subcommands


def test_commands_in_cuts_a_command_out_of_its_shell() -> None:
    script = 'status=0\nmsgconform diff "a b" c > diff.md || status=$?\nmsgconform run \\\n  --strict\n'
    assert list(commands_in(script, {})) == [("diff", "a b", "c"), ("run", "--strict")]
    assert list(commands_in("msgconform run --targets t/${{ matrix.vendor }}.toml", {"matrix.vendor": "x"})) == [
        ("run", "--targets", "t/x.toml")
    ]
    assert list(commands_in('msgconform run --targets "t/$VENDOR.toml" # msgconform diff', {"VENDOR": "y"})) == [
        ("run", "--targets", "t/y.toml")
    ]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.where)
def test_every_msgconform_command_line_parses(command: Command) -> None:
    stderr = io.StringIO()
    status = None
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            build_parser().parse_args(list(command.argv))
    except SystemExit as exc:
        status = exc.code
    if status is not None:
        waiting = sorted({why for word, why in IMPLEMENTED_ELSEWHERE.items() if word in command.argv})
        blocked = f"; it needs what contracts.md section 1 defines, from {', '.join(waiting)}" if waiting else ""
        pytest.fail(f"{command}\nmsgconform's parser refused it (status {status}): "
                    f"{stderr.getvalue().strip()}{blocked}", pytrace=False)


def test_a_wrong_option_would_be_caught() -> None:
    """The parse test has teeth: a misspelt option or a bad --api value is refused."""
    for argv in (["run", "--replay", "--casette-dir", "c"], ["run", "--api", "itslearnig"]):
        with contextlib.redirect_stderr(io.StringIO()), pytest.raises(SystemExit):
            build_parser().parse_args(argv)


def _runs(command: Command) -> bool:
    return bool(command.argv) and command.argv[0] == "run"


def test_pull_requests_only_replay_and_live_runs_never_send_attacks() -> None:
    for command in filter(_runs, COMMANDS):
        assert "--allow-attacks" not in command.argv, command
        if "job replay" in command.where:
            assert "--replay" in command.argv and "--targets" not in command.argv, command
        else:
            assert "--targets" in command.argv and "--replay" not in command.argv, command
            assert "--baseline" in command.argv or "--record" in command.argv, command


def test_github_live_jobs_never_run_on_pull_requests_and_privilege_is_least() -> None:
    doc = load(GITHUB)
    triggers = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` as true
    assert set(triggers) == {"pull_request", "schedule", "workflow_dispatch"}
    assert doc["permissions"] == {"contents": "read"}
    for name, job in doc["jobs"].items():
        assert set(job.get("permissions", {"contents": "read"}).items()) <= {("contents", "read"), ("checks", "write")}
        steps = yaml.safe_dump(job["steps"])
        if name == "replay":
            assert job["if"] == "github.event_name == 'pull_request'"
            assert "secrets." not in steps and "environment" not in job
        else:
            assert "pull_request" not in job["if"], f"job {name} may run on a pull request"
            assert "secrets." in steps and job["environment"].startswith("vendor-")
        assert "actions/upload-artifact" in steps
        if name != "diff":
            assert "GITHUB_STEP_SUMMARY" in steps and "junit.xml" in steps
            assert "report.html" in steps and "conformance.json" in steps
    assert "superoffice" in GITHUB.read_text(encoding="utf-8").lower()
    assert "SMTP" in GITHUB.read_text(encoding="utf-8")


def test_gitlab_live_jobs_never_run_on_merge_requests() -> None:
    doc = load(GITLAB)
    template = doc[".msgconform"]
    assert template["artifacts"]["reports"]["junit"] == "reports/junit.xml"
    assert {"reports/report.html", "reports/conformance.json"} <= set(template["artifacts"]["paths"])
    assert doc["replay"]["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
    assert "environment" not in doc["replay"]
    for name in ("live", "diff"):
        conditions = " ".join(rule["if"] for rule in doc[name]["rules"])
        assert "merge_request_event" not in conditions and "push" not in conditions, name
        assert doc[name]["environment"]["name"] == "vendor/$VENDOR"
    text = GITLAB.read_text(encoding="utf-8")
    assert "superoffice" in text.lower() and "SMTP" in text
