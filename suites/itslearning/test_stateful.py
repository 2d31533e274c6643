"""Schemathesis' state machine over the spec's links: send, then get through the Location.

Every step goes through the same harness as fuzzing, so the same checks judge it. A
Location that the link's pattern cannot parse is reported as a skip of ITS-SEND-003
with the reason, never as a failure: the document allows any URL form.

A recording keeps the machine's steps beside its cassette; a replay takes them in order
instead of running the machine (msgconform.plugin.stored_cases).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import reject, settings

from msgconform.plugin import stored_cases

LINK_PATTERN = re.compile(r"/messages/(\d+)/v1")


def _step(harness, case):
    """One step through the harness: its exchange, or None when nothing was sent."""
    exchange = harness.exercise(case)
    if exchange is None:
        return None
    location = exchange.headers.get("location", "")
    if exchange.operation_id == "send" and exchange.status == 201 and location and not LINK_PATTERN.search(location):
        harness.recorder.skip("ITS-SEND-003", f"the state machine cannot parse the Location {location!r}")
    return exchange


@pytest.fixture(scope="session")
def state_machine(itslearning_session):
    harness = itslearning_session.harness
    base: Any = harness.schema().as_state_machine()  # a class made at run time from the spec

    class Machine(base):
        def call(self, case, **kwargs):
            stored_cases.STORE.note(case)
            exchange = _step(harness, case)
            if exchange is None:
                reject()  # nothing was sent (XML cannot carry this example): drop the example
            return exchange.response

        def validate_response(self, response, case, additional_checks=(), **kwargs):
            return None  # the harness has run every check already

    Machine.TestCase.settings = settings(
        max_examples=max(2, harness.settings.max_examples // 5),
        stateful_step_count=4,
        derandomize=True,
        database=None,
        deadline=None,
    )
    return Machine


def test_send_then_get(state_machine, itslearning, itslearning_session):
    harness = itslearning_session.harness
    steps = stored_cases.STORE.sequence(harness.schema())
    if steps is None:
        state_machine.run()
        return
    for case in steps:
        _step(harness, case)
