"""`msgconform diff` over two conformance reports (contracts.md section 6)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from msgconform import cli, diff


def case(cid: str, outcome: str = "pass", level: str = "MUST", details: str = "", **extra) -> dict:
    return {"id": cid, "level": level, "outcome": outcome, "title": cid, "source": "000.txt", "quote": "q",
            "checked": 1, "details": details, **extra}


def report(*cases: dict, verdict: str = "conformant", api: str = "itslearning") -> dict:
    return {"format": 1, "tool": "msgconform", "version": "0.1.0", "mode": "live", "strict": False,
            "seed": 20261122, "max_examples": 25, "started": "2026-11-22T10:00:00Z",
            "finished": "2026-11-22T10:01:02Z", "apis": {api: {"target": "http://127.0.0.1:1", "verdict": verdict,
                                                                "cases": list(cases)}},
            "totals": {"pass": 0, "fail": 0, "non-strict": 0, "skip": 0, "error": 0}}


def write(path: Path, document: dict) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def run(tmp_path, old: dict, new: dict, *args: str, capsys) -> tuple[int, str, str]:
    a, b = write(tmp_path / "old.json", old), write(tmp_path / "new.json", new)
    status = cli.main(["diff", str(a), str(b), *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


BASE = report(case("ITS-SEND-001"), case("ITS-SEND-002"), case("ITS-HTTP-001", level="SHOULD"),
              case("ITS-INFO-001", level="INFO", details="schema-valid send answered 400"),
              case("ITS-GET-004", "fail", details="DateReceived is not UTC"), verdict="nonconformant")


def test_the_same_report_diffs_to_nothing(tmp_path, capsys):
    status, out, err = run(tmp_path, BASE, copy.deepcopy(BASE), capsys=capsys)
    assert status == 0 and err == ""
    assert "# msgconform diff: no regression" in out and "No differences." in out


def test_one_regressed_case_exits_1_and_is_named_first(tmp_path, capsys):
    new = copy.deepcopy(BASE)
    new["apis"]["itslearning"]["cases"][1] = case("ITS-SEND-002", "fail", details="no Location (POST /send)")
    new["apis"]["itslearning"]["cases"][4] = case("ITS-GET-004")  # fixed
    status, out, _ = run(tmp_path, BASE, new, capsys=capsys)
    assert status == 1
    assert out.startswith("# msgconform diff: 1 regression\n")
    body = out.split("## Regressions", 1)[1]
    first_row = [line for line in body.splitlines() if line.startswith("| itslearning")][0]
    assert "regressed" in first_row and "ITS-SEND-002 (MUST)" in first_row and "no Location" in first_row
    assert "fixed" in out.split("## Other changes", 1)[1] and "ITS-GET-004" in out


def test_categories_in_json(tmp_path, capsys):
    old = report(case("A"), case("B", "fail"), case("C"), case("G"), case("I", level="INFO", details="answers 201"),
                 case("S", "skip"), case("N", level="SHOULD"))
    new = report(case("A", "error"), case("B"), case("C", "skip"), case("I", level="INFO", details="answers 200"),
                 case("S", "fail"), case("N", "non-strict", level="SHOULD"), case("X"), case("Y", "fail"))
    status, out, _ = run(tmp_path, old, new, "--format", "json", capsys=capsys)
    document = json.loads(out)
    assert status == 1 and document["regression"] is True and document["kind"] == "reports"
    api = document["apis"]["itslearning"]
    regressed = {c["where"] for c in api["regressions"]}
    assert regressed == {"A (MUST)", "S (MUST)", "Y (MUST)"}  # pass->error, skip->fail, absent->fail
    sections = {c["where"]: c["section"] for c in api["changes"]}
    assert sections["B (MUST)"] == "fixed"
    assert sections["G (MUST)"] == "gone" and sections["X (MUST)"] == "new"
    assert sections["C (MUST)"] == "outcome changed"
    assert sections["N (SHOULD)"] == "outcome changed"  # without --strict, non-strict does not regress
    info = next(c for c in api["changes"] if c["section"] == "INFO changed")
    assert (info["before"], info["after"]) == ("answers 201", "answers 200")


def test_strict_makes_a_should_failure_a_regression(tmp_path, capsys):
    old, new = report(case("N", level="SHOULD")), report(case("N", "non-strict", level="SHOULD"))
    assert run(tmp_path, old, new, capsys=capsys)[0] == 0
    status, out, _ = run(tmp_path, old, new, "--strict", capsys=capsys)
    assert status == 1 and "N (SHOULD)" in out.split("## Regressions", 1)[1]
    assert "| itslearning | conformant | nonconformant |" in out  # the verdict as `run --strict` gives it


def test_a_waived_case_compares_by_what_was_observed(tmp_path, capsys):
    waived = {"reason": "known", "expires": None, "ticket": None, "observed": "fail"}
    old = report(case("W"))
    new = report(case("W", "waived", waived=waived))
    status, out, _ = run(tmp_path, old, new, capsys=capsys)
    assert status == 1 and "waived (observed fail)" in out
    # waived before and after, the same failure observed: nothing changed
    assert run(tmp_path, new, copy.deepcopy(new), capsys=capsys)[0] == 0
    # waived before, now passing: fixed
    status, out, _ = run(tmp_path, new, old, "--format", "json", capsys=capsys)
    assert status == 0 and json.loads(out)["apis"]["itslearning"]["changes"][0]["section"] == "fixed"


def test_a_verdict_that_got_worse_is_a_regression(tmp_path, capsys):
    old = report(case("A"))
    new = report(case("A", "skip", details="not judged"), verdict="error")
    status, out, _ = run(tmp_path, old, new, capsys=capsys)
    assert status == 1
    assert "| itslearning | verdict | verdict | conformant | error |" in out


def test_report_folders_are_read_too(tmp_path, capsys):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        write(tmp_path / name / "conformance.json", BASE)
    assert cli.main(["diff", str(tmp_path / "a"), str(tmp_path / "b")]) == 0


@pytest.mark.parametrize("old_text,needle", [
    ("{not json", "not JSON"),
    ('{"apis": {"x": {"verdict": "conformant"}}}', "no `cases` list"),
    ("[]", "no `apis` object"),
])
def test_bad_input_is_one_line_and_status_2(tmp_path, capsys, old_text, needle):
    bad = tmp_path / "bad.json"
    bad.write_text(old_text, encoding="utf-8")
    status = cli.main(["diff", str(bad), str(write(tmp_path / "ok.json", BASE))])
    err = capsys.readouterr().err
    assert status == 2 and needle in err and len(err.strip().splitlines()) == 1


def test_missing_paths_and_mixed_kinds_are_refused_in_one_line(tmp_path, capsys):
    ok = write(tmp_path / "ok.json", BASE)
    assert cli.main(["diff", str(tmp_path / "nowhere"), str(ok)]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    cassettes = tmp_path / "cassettes"
    cassettes.mkdir()
    (cassettes / "manifest.json").write_text("{}", encoding="utf-8")
    assert cli.main(["diff", str(ok), str(cassettes)]) == 2
    err = capsys.readouterr().err
    assert "compare like with like" in err and len(err.strip().splitlines()) == 1
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli.main(["diff", str(empty), str(ok)]) == 2
    assert "neither a report folder" in capsys.readouterr().err


def test_the_library_api_returns_the_same_as_the_command(tmp_path):
    a, b = write(tmp_path / "a.json", BASE), write(tmp_path / "b.json", BASE)
    result = diff.compare(a, b)
    assert result.kind == "reports" and result.exit_status == 0 and not result.changes


@pytest.mark.parametrize("args", [["diff"], ["diff", "one"], ["diff", "a", "b", "--format", "html"]])
def test_usage_errors_are_one_line_and_status_2(capsys, args):
    with pytest.raises(SystemExit) as exited:
        cli.main(args)
    err = capsys.readouterr().err
    assert exited.value.code == 2 and err.startswith("msgconform: diff: ") and len(err.strip().splitlines()) == 1
