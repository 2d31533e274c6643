"""`--case PATTERN` (contracts.md section 5): patterns, the tests a selection keeps, and
what becomes of the cases not selected.

The reading of a suite's source is tried on a small synthetic suite (every way a test can
reach a case id) and on the real suites; whether that reading matches what the tests really
judge is checked against a full replay in tests/integration/test_case_selection.py.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from msgconform import catalogue
from msgconform.errors import UsageError
from msgconform.outcomes import ApiResult, CaseOutcome
from msgconform import selection
from msgconform.selection import NOT_SELECTED, Selection, SuiteMap, resolve

kept_tests = selection.tests_to_run

SUITES = Path(__file__).resolve().parents[2] / "suites"


def test_a_glob_selects_every_matching_id_and_nothing_else():
    chosen = resolve(["ITS-REPLY-*"], "live")
    expected = {i for i in catalogue.load("itslearning").ids if i.startswith("ITS-REPLY-")}
    assert chosen.of("itslearning") == expected and len(expected) == 5
    assert chosen.of("highq") == frozenset()


def test_patterns_add_up_and_an_exact_id_selects_one_case():
    chosen = resolve(["ITS-GET-004", "HQ-CONV-00?"], "replay")
    assert chosen.of("itslearning") == {"ITS-GET-004"}
    assert chosen.of("highq") == {i for i in catalogue.load("highq").ids if i.startswith("HQ-CONV-00")}


def test_matching_is_case_sensitive_and_whole_id():
    with pytest.raises(UsageError, match=r"^--case its-get-004: matches no catalogued case"):
        resolve(["its-get-004"], "live")
    with pytest.raises(UsageError, match="matches no catalogued case"):
        resolve(["ITS-GET"], "live")


def test_a_pattern_matching_no_case_of_the_run_is_refused():
    with pytest.raises(UsageError, match=r"--case HQ-\*: matches no catalogued case \(itslearning\)"):
        resolve(["HQ-*"], "live", apis=["itslearning"])


def test_case_with_record_is_refused():
    with pytest.raises(UsageError, match="--case cannot be used with --record: it would replace the cassettes"):
        resolve(["ITS-*"], "record")


# --- reading a suite ----------------------------------------------------------------------------

SYNTHETIC = {
    "checks.py": 'CHECKS = ["ITS-SEND-001"]\n',
    "conftest.py": 'import pytest\n\n@pytest.fixture\ndef its():\n    return "ITS-AUTH-001"\n',
    "test_a.py": '''
        REPLY = ["ITS-REPLY-001", "ITS-REPLY-002"]
        UNUSED = ["ITS-FWD-001"]

        def helper(story):
            story.judge("ITS-PREV-001")
            deeper(story)

        def deeper(story):
            story.judge("ITS-SRCH-001")

        @pytest.fixture
        def machine():
            return "ITS-SEND-003"

        def test_uses_a_list(its):
            give_up(REPLY)

        def test_uses_helpers(its):
            helper(its)

        def test_uses_a_local_fixture(machine):
            machine.run()

        def test_names_its_case(its):
            """A docstring naming ITS-GET-007 judges nothing, and does not count."""
            its.judge("ITS-GET-001")

        class TestMachine:
            def runTest(self):
                pass
    ''',
    "test_b.py": '''
        def test_judges_nothing_of_its_own(case, its):
            its.exercise(case)
    ''',
}


@pytest.fixture
def synthetic(tmp_path: Path) -> SuiteMap:
    suite = tmp_path / "itslearning"
    suite.mkdir()
    for name, text in SYNTHETIC.items():
        (suite / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return SuiteMap.read(suite)


def test_shared_cases_are_the_ones_named_outside_test_modules(synthetic):
    assert synthetic.shared == {"ITS-SEND-001", "ITS-AUTH-001"}


@pytest.mark.parametrize("test, own", [
    ("test_uses_a_list", {"ITS-REPLY-001", "ITS-REPLY-002"}),
    ("test_uses_helpers", {"ITS-PREV-001", "ITS-SRCH-001"}),
    ("test_uses_a_local_fixture", {"ITS-SEND-003"}),
    ("test_names_its_case", {"ITS-GET-001"}),
])
def test_a_test_reaches_cases_through_module_names_helpers_and_fixtures(synthetic, test, own):
    assert synthetic.can_judge("test_a.py", test) == own | synthetic.shared


def test_a_test_the_reading_cannot_find_gets_every_case_of_its_module(synthetic):
    everything = {"ITS-REPLY-001", "ITS-REPLY-002", "ITS-FWD-001", "ITS-PREV-001", "ITS-SRCH-001",
                  "ITS-SEND-003", "ITS-GET-001"}
    assert synthetic.can_judge("test_a.py", "TestMachine.runTest") == everything | synthetic.shared


def test_the_tests_are_listed_in_pytest_order(synthetic):
    assert synthetic.tests == (("test_a.py", "test_uses_a_list"), ("test_a.py", "test_uses_helpers"),
                               ("test_a.py", "test_uses_a_local_fixture"), ("test_a.py", "test_names_its_case"),
                               ("test_b.py", "test_judges_nothing_of_its_own"))


def test_live_keeps_only_the_tests_that_can_judge_and_replay_also_the_ones_before(synthetic):
    selected = frozenset({"ITS-PREV-001"})
    assert kept_tests(synthetic.tests, synthetic, selected, "live") == [False, True, False, False, False]
    assert kept_tests(synthetic.tests, synthetic, selected, "replay") == [True, True, False, False, False]


def test_a_selected_shared_case_keeps_every_test(synthetic):
    for mode in ("live", "replay"):
        assert all(kept_tests(synthetic.tests, synthetic, frozenset({"ITS-SEND-001"}), mode))


def test_nothing_selected_keeps_nothing(synthetic):
    assert not any(kept_tests(synthetic.tests, synthetic, frozenset({"HQ-CONV-001"}), "replay"))


@pytest.mark.parametrize("api", catalogue.available_apis())
def test_every_case_of_the_real_suites_has_a_test_that_can_judge_it(api):
    suite = SuiteMap.read(SUITES / api)
    reachable = set().union(*(suite.can_judge(m, f) for m, f in suite.tests))
    assert set(catalogue.load(api).ids) <= reachable


def test_the_itslearning_reply_cases_need_only_the_reply_story_live():
    suite = SuiteMap.read(SUITES / "itslearning")
    chosen = resolve(["ITS-REPLY-*"], "live").of("itslearning")
    kept = [t for t, keep in zip(suite.tests, kept_tests(suite.tests, suite, chosen, "live")) if keep]
    assert kept == [("test_scenarios.py", "test_reply_and_forward")]


# --- outcomes ----------------------------------------------------------------------------------


def _result(api: str) -> ApiResult:
    return ApiResult(api, "http://127.0.0.1:1", [CaseOutcome(c, "pass", 1) for c in catalogue.load(api).cases])


def test_cases_not_selected_skip_with_not_selected_and_selected_ones_keep_their_outcome():
    chosen = resolve(["ITS-GET-00[45]"], "live")
    result = chosen.apply(_result("itslearning"))
    by_id = {item.case.id: item for item in result.cases}
    assert {i for i, item in by_id.items() if item.outcome == "pass"} == {"ITS-GET-004", "ITS-GET-005"}
    others = [item for i, item in by_id.items() if i not in ("ITS-GET-004", "ITS-GET-005")]
    assert others and all(item.outcome == "skip" and item.details == NOT_SELECTED == "not selected"
                          and item.checked == 0 for item in others)
    assert result.verdict(strict=True) == "conformant"


def test_an_api_with_no_case_selected_is_not_tested():
    result = Selection(("ITS-*",), {"itslearning": frozenset({"ITS-GET-004"})}).apply(_result("highq"))
    assert not result.tested and result.verdict(strict=False) == "skipped"
    assert {(item.outcome, item.details) for item in result.cases} == {("skip", "not selected")}
