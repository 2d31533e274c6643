"""`msgconform init` as a user meets it: print, write without overwriting, and a run on it.

The main test is the promise of the command: a person who fills in the template's
placeholders gets a green run. Here the values come from `msgconform serve` (the reference
servers): base URLs and ids are written into the file (with tomlkit, as a person edits it,
comments kept), and the secrets go into the environment variables the file names.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

import pytest
import tomlkit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for helpers.py
from helpers import child_env, run_msgconform, serving  # noqa: E402

from msgconform.servers import AVAILABLE  # noqa: E402
from msgconform.targets import SUPPORTED_APIS  # noqa: E402

pytestmark = pytest.mark.integration

TESTABLE = [api for api in SUPPORTED_APIS if api in AVAILABLE]
PROGRESS = re.compile(r"^msgconform: run: \[(\d+)/(\d+)\] (\w+): suite finished, [1-9]\d* cases judged "
                      r"\(\d+:\d\d elapsed\)$")


def test_init_prints_a_targets_file_for_the_apis_named() -> None:
    done = run_msgconform("init", "--api", "highq", timeout=30)
    assert done.status == 0, done
    assert list(tomllib.loads(done.stdout)) == ["highq"]
    assert done.stderr == ""
    every = run_msgconform("init", timeout=30)
    assert list(tomllib.loads(every.stdout)) == ["itslearning", "completeempire", "highq", "superoffice"]


def test_init_out_writes_once_and_never_overwrites(tmp_path: Path) -> None:
    out = tmp_path / "targets.toml"
    first = run_msgconform("init", "--api", "itslearning", "--out", out, timeout=30)
    assert first.status == 0 and first.stdout == "", first
    assert "ITSLEARNING_SENDER_TOKEN" in first.stderr
    written = out.read_text(encoding="utf-8")
    assert list(tomllib.loads(written)) == ["itslearning"]

    out.write_text("# mine\n", encoding="utf-8")
    again = run_msgconform("init", "--out", out, timeout=30)
    assert again.status == 2 and again.stdout == "", again
    assert again.stderr_lines == [f"msgconform: init: {out} exists; it was left as it is (choose another --out)"]
    assert out.read_text(encoding="utf-8") == "# mine\n"


def test_init_refuses_an_unknown_api_in_one_line() -> None:
    done = run_msgconform("init", "--api", "itslearnig", timeout=30)
    assert done.status == 2 and done.stdout == "" and len(done.stderr_lines) == 1, done
    assert "itslearnig" in done.stderr


def test_a_template_filled_from_serve_runs_green(tmp_path: Path) -> None:
    assert TESTABLE, "no API can be tested in this version"
    args = [word for api in TESTABLE for word in ("--api", api)]
    template = run_msgconform("init", *args, timeout=30)
    assert template.status == 0, template
    doc = tomlkit.parse(template.stdout)
    with serving() as server:
        env = child_env()
        for api in TESTABLE:
            served = server.targets[api]
            table = doc[api]
            table["base_url"] = served.base_url
            for role, user in table["users"].items():
                given = served.users[role]
                if "id" in user:
                    user["id"] = given.id
                if "email" in user:
                    user["email"] = given.email
                if "token" in user:
                    name = user["token"].removeprefix("${").removesuffix("}")
                    env[name] = given.headers["Authorization"].removeprefix("Bearer ")
                else:
                    name = user["headers"]["Authorization"].removeprefix("${").removesuffix("}")
                    env[name] = given.headers["Authorization"]
        filled = tmp_path / "targets.toml"
        filled.write_text(tomlkit.dumps(doc), encoding="utf-8")
        assert "# Optional, shown with their defaults" in filled.read_text(encoding="utf-8")  # comments kept
        done = run_msgconform("run", "--targets", filled, "--max-examples", "3", "--no-html",
                              "--report-dir", tmp_path / "reports", env=env, timeout=400)
    assert done.status == 0, done
    assert [line.split(":")[0] for line in done.stdout.splitlines()] == TESTABLE
    progress = [PROGRESS.match(line) for line in done.stderr_lines if line.startswith("msgconform: run: [")]
    # One progress line per API, in a log (stderr is not a terminal here), counted up in the
    # order the APIs finish (several run at once, so that order is not the targets file's).
    assert all(progress), done.stderr
    groups = [m.groups() for m in progress if m]
    assert [(n, total) for n, total, _ in groups] == [
        (str(n), str(len(TESTABLE))) for n in range(1, len(TESTABLE) + 1)
    ], done.stderr
    assert sorted(api for _, _, api in groups) == sorted(TESTABLE), done.stderr
    assert all(": conformant (" in line for line in done.stdout.splitlines()), done
    for name in (n for n in env if n.endswith(("_TOKEN", "_AUTHORIZATION")) and n.split("_")[0].lower() in TESTABLE):
        assert env[name] not in done.stdout + done.stderr
