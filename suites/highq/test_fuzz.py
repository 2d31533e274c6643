"""Property-based fuzzing of the HighQ new-conversation operation, positive and negative,
in JSON and XML (the XML bodies are written by the spec-driven codec, see plugin/xml.py).

Schemathesis generates the requests (fixed seed, no example database); the suite makes
their identifiers safe (the harness's IdRewriter), the harness sends
them through the guard and runs every response check registered for HighQ
(suites/highq/checks.py).
"""

import schemathesis

schema = schemathesis.pytest.from_fixture("highq_schema")


@schema.parametrize()
def test_operation(case, highq):
    highq.exercise(case)
