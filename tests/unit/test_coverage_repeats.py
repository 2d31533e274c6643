"""The coverage phase's boundary values go once per body format (ApiHarness._repeats_coverage).

Schemathesis writes every boundary value of its coverage phase once per declared request
media type; one binder reads both media types of a format, so `text/json` beside
`application/json` (and `text/xml` beside `application/xml`) repeats a question already asked.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from schemathesis.generation.meta import TestPhase

from msgconform import specs
from msgconform.plugin.harness import ApiHarness


def _case(api: str, media_type: str, phase: TestPhase):
    spec = specs.load(api)
    path, item = next((p, i) for p, i in spec["paths"].items() if "post" in i)
    case = SimpleNamespace(media_type=media_type, meta=SimpleNamespace(phase=SimpleNamespace(name=phase)),
                           operation=SimpleNamespace(definition=SimpleNamespace(raw=item["post"])))
    return SimpleNamespace(raw_spec=spec), case


@pytest.mark.parametrize(("media_type", "repeated"), [
    ("application/json", False), ("text/json", True), ("application/xml", False), ("text/xml", True),
    ("application/x-www-form-urlencoded", False),
])
def test_only_the_first_declared_media_type_of_a_format_gets_the_coverage_phase(media_type, repeated):
    harness, case = _case("completeempire", media_type, TestPhase.COVERAGE)
    assert ApiHarness._repeats_coverage(harness, case) is repeated


@pytest.mark.parametrize("phase", [TestPhase.FUZZING, TestPhase.EXAMPLES, TestPhase.STATEFUL])
def test_every_other_phase_sends_every_media_type(phase):
    harness, case = _case("completeempire", "text/json", phase)
    assert ApiHarness._repeats_coverage(harness, case) is False


def test_a_media_type_alone_in_its_format_is_never_a_repeat():
    harness, case = _case("highq", "application/xml", TestPhase.COVERAGE)  # HighQ declares no text/xml
    assert ApiHarness._repeats_coverage(harness, case) is False


def test_a_case_without_metadata_is_sent():
    harness, case = _case("completeempire", "text/json", TestPhase.COVERAGE)
    case.meta = None
    assert ApiHarness._repeats_coverage(harness, case) is False
