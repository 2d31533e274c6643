"""Property-based fuzzing of every itslearning operation in the spec, positive and negative.

Schemathesis generates the requests (fixed seed, no example database); the harness
rewrites their identifiers, sends them through the guard, and runs every response check
registered for itslearning (suites/itslearning/checks.py).
"""

import schemathesis

schema = schemathesis.pytest.from_fixture("itslearning_schema")


@schema.parametrize()
def test_operation(case, itslearning):
    itslearning.harness.exercise(case)
