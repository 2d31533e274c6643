"""Property-based fuzzing of send, positive and negative, in every request format the page
lists (XML written by the spec-driven codec, form bodies as Schemathesis encodes them).

Schemathesis generates the requests (fixed seed, no example database); the suite makes
their identifiers the run's own (`Owner` in conftest.py), the harness sends them through the
guard and runs every response check registered for CompleteEmpire (checks.py).
There is no stateful test: the API has no operation a link could lead to.
"""

import schemathesis

schema = schemathesis.pytest.from_fixture("completeempire_schema")


@schema.parametrize()
def test_operation(case, completeempire):
    completeempire.exercise(case)
