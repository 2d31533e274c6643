"""Baselines through the command line (contracts.md sections 1 and 5), as a team adopts them.

One module-scoped story against reference servers started with `msgconform serve`:

1. against the fault `date-local-offset` (ITS-GET-004 fails) the run fails (exit 1);
2. `msgconform baseline --reason ... --out B` writes the baseline from that run;
3. the same run with `--baseline B` passes: ITS-GET-004 is `waived` with its reason in
   conformance.json, junit.xml and the summary line;
4. against the faithful server the same baseline is stale: exit 0, and 1 with `--strict`;
5. an entry that expired yesterday waives nothing: the run fails again;
6. `msgconform baseline --update B --out B` after the faithful run drops the stale entry.

Then the refusals, each exit 2 in one line with the report folder of the previous run left
exactly as it was: every kind of bad baseline file, `--case` with `--record`, a `--case`
pattern that matches nothing, and `msgconform baseline` refusing to overwrite a file.
"""

from __future__ import annotations

import json
import shutil
import sys
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from pathlib import Path

import jsonschema
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for helpers.py
from helpers import REPO, Completed, run_msgconform, serving  # noqa: E402

pytestmark = pytest.mark.integration

SCHEMA = json.loads((REPO / "src/msgconform/report/conformance.schema.json").read_text(encoding="utf-8"))
REASON = "Dates come in local time; vendor ticket 1234"
FAST = ("--api", "itslearning", "--max-examples", "2")


def _report(folder: Path) -> dict:
    document = json.loads((folder / "conformance.json").read_text(encoding="utf-8"))
    jsonschema.validate(document, SCHEMA)
    return document


def _case(document: dict, case_id: str) -> dict:
    return next(c for c in document["apis"]["itslearning"]["cases"] if c["id"] == case_id)


class Story:
    """What each step of the adoption story left behind."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.baseline = root / "msgconform-baseline.toml"
        self.steps: dict[str, tuple[Completed, Path]] = {}

    def run(self, name: str, targets: Path, *extra) -> Completed:
        folder = self.root / name
        done = run_msgconform("run", "--targets", targets, "--report-dir", folder, *FAST, *extra,
                              cwd=self.root, timeout=300)
        self.steps[name] = (done, folder)
        return done


@pytest.fixture(scope="module")
def story(tmp_path_factory) -> Story:
    story = Story(tmp_path_factory.mktemp("adoption"))
    with serving("date-local-offset") as faulty:
        targets = faulty.write_targets(story.root / "faulty.toml")
        story.run("red", targets)
        made = run_msgconform("baseline", "--report-dir", story.root / "red", "--reason", REASON,
                              "--out", story.baseline, cwd=story.root)
        story.steps["baseline"] = (made, shutil.copy(story.baseline, story.root / "as-made.toml"))
        story.run("green", targets, "--baseline", story.baseline)
        expired = story.root / "expired.toml"
        yesterday = date.today() - timedelta(days=1)
        expired.write_text(story.baseline.read_text(encoding="utf-8").replace(
            f'reason = "{REASON}"', f'reason = "{REASON}"\nexpires = {yesterday.isoformat()}'), encoding="utf-8")
        story.run("expired", targets, "--baseline", expired)
    with serving() as faithful:
        targets = faithful.write_targets(story.root / "faithful.toml")
        story.run("stale", targets, "--baseline", story.baseline)
        story.run("stale-strict", targets, "--baseline", story.baseline, "--strict")
        ratchet = run_msgconform("baseline", "--report-dir", story.root / "stale", "--update", story.baseline,
                                 "--out", story.baseline, cwd=story.root)
        story.steps["ratchet"] = (ratchet, story.baseline)
    return story


def test_against_the_fault_the_run_fails(story):
    done, folder = story.steps["red"]
    assert done.status == 1, done
    assert _case(_report(folder), "ITS-GET-004")["outcome"] == "fail"
    assert "waived" not in _report(folder)["totals"] and "baseline" not in _report(folder)


def test_msgconform_baseline_writes_one_entry_per_failure_with_the_reason(story):
    done, path = story.steps["baseline"]
    assert done.status == 0 and done.stdout == "", done
    text = Path(path).read_text(encoding="utf-8")
    red = _report(story.steps["red"][1])
    failing = [c["id"] for c in red["apis"]["itslearning"]["cases"] if c["outcome"] in ("fail", "non-strict")]
    assert failing == ["ITS-GET-004"]
    assert "baseline written to" in done.stderr and "(1 entry)" in done.stderr
    assert text.startswith("# msgconform baseline") and 'case = "ITS-GET-004"' in text
    assert f'reason = "{REASON}"' in text and "expires" not in text.split("\n[[known]]\n")[1]


def test_with_the_baseline_the_run_passes_and_shows_the_waived_case_with_its_reason(story):
    done, folder = story.steps["green"]
    assert done.status == 0, done
    assert done.stdout.splitlines()[-1].startswith("itslearning: conformant (")
    assert done.stdout.splitlines()[-1].endswith(" 0 fail, 0 non-strict, 0 skip, 0 error, 1 waived)")
    document = _report(folder)
    case = _case(document, "ITS-GET-004")
    assert case["outcome"] == "waived"
    assert case["waived"] == {"reason": REASON, "expires": None, "ticket": None, "observed": "fail"}
    assert document["totals"]["waived"] == 1 and document["apis"]["itslearning"]["verdict"] == "conformant"
    assert document["baseline"]["stale"] == [] and document["baseline"]["entries"] == 1
    junit = ET.parse(folder / "junit.xml").getroot()
    testcase = next(t for t in junit.iter("testcase") if t.get("name").startswith("ITS-GET-004: "))
    assert testcase.find("skipped").get("message") == f"waived: {REASON}"
    assert "🔕 waived" in (folder / "conformance.md").read_text(encoding="utf-8")


def test_an_entry_expired_yesterday_waives_nothing(story):
    done, folder = story.steps["expired"]
    assert done.status == 1, done
    document = _report(folder)
    assert _case(document, "ITS-GET-004")["outcome"] == "fail"
    assert [e["case"] for e in document["baseline"]["expired"]] == ["ITS-GET-004"]
    assert document["totals"]["waived"] == 0
    assert "is expired (it waives nothing)" in done.stderr


def test_without_the_fault_the_baseline_is_stale_and_strict_fails_on_it(story):
    done, folder = story.steps["stale"]
    assert done.status == 0, done
    document = _report(folder)
    assert [e["case"] for e in document["baseline"]["stale"]] == ["ITS-GET-004"]
    assert "[[known]] entry 1 (itslearning ITS-GET-004) is stale" in done.stderr
    strict, strict_folder = story.steps["stale-strict"]
    assert strict.status == 1, strict
    assert "--strict: 1 stale baseline entry" in strict.stderr
    assert _report(strict_folder)["apis"]["itslearning"]["verdict"] == "conformant"  # verdicts stay as they are
    assert strict.stdout.splitlines()[-1].startswith("itslearning: conformant (")


def test_update_after_the_mended_run_drops_the_stale_entry(story):
    done, path = story.steps["ratchet"]
    assert done.status == 0, done
    text = path.read_text(encoding="utf-8")
    assert "\n[[known]]\n" not in text and text.startswith("# msgconform baseline")


# --- refusals: exit 2, one line, nothing of the last run lost ---------------------------------------


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


GOOD_ENTRY = '[[known]]\napi = "itslearning"\ncase = "ITS-GET-004"\nreason = "r"\n'
BAD_FILES = {
    "unknown-api": ('[[known]]\napi = "moodle"\ncase = "X-1"\nreason = "r"\n', "entry 1: api"),
    "unknown-case": (GOOD_ENTRY + '[[known]]\napi = "itslearning"\ncase = "ITS-GET-099"\nreason = "r"\n',
                     "entry 2: case"),
    "glob-matching-nothing": ('[[known]]\napi = "itslearning"\ncase = "ITS-NOPE-*"\nreason = "r"\n', "entry 1: case"),
    "no-reason": ('[[known]]\napi = "itslearning"\ncase = "ITS-GET-004"\n', "entry 1: reason: missing"),
    "unknown-key": (GOOD_ENTRY + 'owner = "me"\n', "entry 1: owner: unknown key"),
    "malformed-date": (GOOD_ENTRY + 'expires = "31.03.2027"\n', "entry 1: expires"),
    "not-toml": ("[[known]\n", "not a valid TOML file"),
}


@pytest.fixture
def last_run(story, tmp_path) -> Path:
    folder = tmp_path / "reports"
    shutil.copytree(story.steps["green"][1], folder)
    return folder


def _one_line(done: Completed, *words: str) -> None:
    assert done.status == 2, done
    assert done.stdout == "", done
    assert len(done.stderr_lines) == 1 and done.stderr_lines[0].startswith("msgconform: "), done
    for word in words:
        assert word in done.stderr_lines[0], (word, done.stderr_lines[0])


@pytest.mark.parametrize("kind", BAD_FILES)
def test_a_bad_baseline_is_refused_in_one_line_and_the_last_run_is_kept(last_run, tmp_path, kind):
    text, named = BAD_FILES[kind]
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    before = _snapshot(last_run)
    done = run_msgconform("run", "--baseline", bad, "--report-dir", last_run, *FAST, cwd=tmp_path, timeout=30)
    _one_line(done, str(bad), named)
    assert _snapshot(last_run) == before


@pytest.mark.parametrize("args, named", [
    (["--record", "--case", "ITS-GET-*"], "--case cannot be used with --record"),
    (["--case", "ITS-NOPE-*"], "--case ITS-NOPE-*: matches no catalogued case"),
    (["--baseline", "absent.toml"], "no such baseline file"),
])
def test_case_and_baseline_usage_errors_are_one_line_and_keep_the_last_run(last_run, tmp_path, args, named):
    before = _snapshot(last_run)
    done = run_msgconform("run", "--report-dir", last_run, "--cassette-dir", tmp_path / "cassettes", *args,
                          cwd=tmp_path, timeout=30)
    _one_line(done, named)
    assert _snapshot(last_run) == before and not (tmp_path / "cassettes").exists()


def test_baseline_never_overwrites_another_file_and_needs_a_report(last_run, tmp_path):
    other = tmp_path / "other.toml"
    other.write_text("# mine\n", encoding="utf-8")
    _one_line(run_msgconform("baseline", "--report-dir", last_run, "--out", other, cwd=tmp_path),
              "the file exists")
    assert other.read_text(encoding="utf-8") == "# mine\n"
    _one_line(run_msgconform("baseline", "--report-dir", tmp_path / "nothing", cwd=tmp_path),
              "conformance.json: no such file")


def test_baseline_to_stdout_prints_the_file_and_nothing_else(last_run, tmp_path):
    done = run_msgconform("baseline", "--report-dir", last_run, "--reason", "x", cwd=tmp_path)
    assert done.status == 0 and done.stderr == "", done
    assert done.stdout.startswith("# msgconform baseline") and 'case = "ITS-GET-004"' in done.stdout
