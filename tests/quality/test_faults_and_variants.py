"""The suite catches what it claims, and blames nobody who follows the documents.

One test per entry of the fault registry (src/msgconform/servers/faults.yaml), each a
full run against the embedded reference server of the entry's API, judged by the same
functions `msgconform selftest` uses (src/msgconform/selftest.py):

- a fault: every case it names fails (MUST `fail`, SHOULD `non-strict`), no other case
  fails or errors — a fault that breaks everything proves nothing;
- a variant: the API stays conformant;
- the faithful servers: every catalogued case passes, judged at least once.

Each of these runs also records its cassettes, and the behaviour diff (`msgconform diff`)
of the faithful server's recording against the entry's names what the entry's `diff:` in
faults.yaml says it names, with the exit status it gives (no run is made twice for it;
see conftest.py). Two recordings of the faithful server diff to nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from msgconform import catalogue, diff, selftest
from msgconform.runner import embedded_apis
from msgconform.servers import faults as registry

pytestmark = pytest.mark.quality

APIS = embedded_apis()
FAULTS = [entry for entry in registry.registry() if entry.kind == "fault" and entry.api in APIS]
VARIANTS = [entry for entry in registry.registry() if entry.kind == "variant" and entry.api in APIS]


def diff_problems(entry: registry.Entry, faithful: Path, recorded: Path) -> list[str]:
    """What the behaviour diff of `faithful` against `recorded` gets wrong about `entry`."""
    if entry.diff is None:
        return []
    if not (recorded / "manifest.json").is_file():
        return [f"{entry.name}: its run left no recording to diff"]
    result = diff.compare(faithful, recorded)
    labels = [change.label for change in result.changes]
    problems = [f"the diff does not name {name!r}" for name in entry.diff.names
                if not any(name in label for label in labels)]
    if entry.diff.none and labels:
        problems.append("the diff should name nothing")
    if result.exit_status != entry.diff.exit:
        problems.append(f"the diff exits {result.exit_status}, not {entry.diff.exit}")
    if problems:
        shown = "\n  ".join(("R " if c.regression else "  ") + c.label for c in result.changes) or "(nothing)"
        problems.append(f"it names:\n  {shown}")
    return problems


@pytest.mark.parametrize("api", APIS)
def test_faithful_server_passes_every_case(api, faithful_recording):
    finding, _ = faithful_recording(api)
    assert finding.ok, finding.explain()


@pytest.mark.parametrize("api", APIS)
def test_two_recordings_of_the_faithful_server_diff_to_nothing(api, tmp_path, faithful_recording):
    _, first = faithful_recording(api)
    selftest.check_faithful(api, tmp_path / "reports", record_to=tmp_path / "cassettes")
    result = diff.compare(first, tmp_path / "cassettes")
    assert result.exit_status == 0 and not result.changes, [c.label for c in result.changes]


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f"{f.api}:{f.name}")
def test_fault_is_caught_by_its_cases_only(fault, tmp_path, faithful_recording):
    finding = selftest.check_fault(fault, tmp_path / "reports", record_to=tmp_path / "cassettes")
    problems = [] if finding.ok else [f"{fault.name}: {finding.explain()}"]
    problems += diff_problems(fault, faithful_recording(fault.api)[1], tmp_path / "cassettes")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: f"{v.api}:{v.name}")
def test_variant_stays_conformant(variant, tmp_path, faithful_recording):
    finding = selftest.check_variant(variant, tmp_path / "reports", record_to=tmp_path / "cassettes")
    problems = [] if finding.ok else [f"variant {variant.name} was blamed: {finding.explain()}"]
    problems += diff_problems(variant, faithful_recording(variant.api)[1], tmp_path / "cassettes")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("api", APIS)
def test_all_variants_of_an_api_at_once_stay_conformant(api, tmp_path):
    names = [v.name for v in VARIANTS if v.api == api]
    cases = selftest._cases(api, names, tmp_path)
    blamed = {cid: f"{c.outcome}: {c.details}" for cid, c in cases.items() if c.outcome in ("fail", "non-strict", "error")}
    assert not blamed, f"all {api} variants together were blamed: {blamed}"


@pytest.mark.parametrize("api", catalogue.available_apis())
def test_every_must_and_should_case_has_a_fault(api):
    caught = {case for fault in FAULTS if fault.api == api for case in fault.catches}
    uncaught = [c.id for c in catalogue.load(api).cases if c.level != "INFO" and c.id not in caught]
    assert not uncaught, f"{api}: no fault proves these cases can fail: {uncaught}"


def test_selftest_prints_its_table_and_score(capsys, tmp_path):
    status = selftest.main(["itslearning"], ["send-200", "relative-location"], jobs=2)
    out = capsys.readouterr().out
    assert status == 0
    assert "| itslearning | fault | send-200 | ITS-SEND-001, ITS-HTTP-003 | caught | none |" in out
    assert "| itslearning | variant | relative-location | - | conformant | none |" in out
    assert "faults caught: 1/1; variants passed: 1/1" in out


def test_selftest_exits_1_when_a_fault_is_missed(capsys, monkeypatch):
    wrong = registry.Entry(api="itslearning", name="send-200", kind="fault", description="claims the wrong case",
                           catches=("ITS-GET-004",))
    monkeypatch.setattr(selftest, "_entries", lambda api: (wrong,))
    assert selftest.main(["itslearning"], ["send-200"], jobs=1) == 1
    out = capsys.readouterr().out
    assert "MISSED by ITS-GET-004" in out and "faults caught: 0/1" in out


def test_response_mutants_are_killed_and_allowed_changes_survive(faithful_recording):
    """Mutation over the faithful servers' recordings (the ones made above, not a recording of
    its own): every killable mutant killed by a failing case, every change the documents
    allow survives (no false positive), none lacks a verdict. One replay at a time: the test
    workers already use every core."""
    from msgconform import mutation

    results = [result for api in APIS if any(m.api == api for m in mutation.MUTANTS)
               for result in mutation.run_mutants(faithful_recording(api)[1], [api], jobs=1)]
    assert results and {r.mutant.api for r in results} == {m.api for m in mutation.MUTANTS if m.api in APIS}
    wrong = {r.mutant.name: f"{r.status} ({r.details})" for r in results if not r.as_expected}
    assert not wrong, wrong
