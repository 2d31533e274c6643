"""The suite catches what it claims, and blames nobody who follows the documents.

For every fault of the reference servers (src/msgconform/servers/faults.yaml) the suite
runs against a server with that fault switched on: each case the fault names must fail
(MUST: `fail`, SHOULD: `non-strict`) and no other case may fail or error — a fault that
breaks everything proves nothing. For every variant (an open choice turned the other
way) the verdict must stay `conformant` with no failing case.
"""

from __future__ import annotations

import pytest

from msgconform.runner import RunOptions, run
from msgconform.servers import faults as registry

pytestmark = pytest.mark.quality
MAX_EXAMPLES = 5
FAILED = {"fail", "non-strict"}

FAULTS = [entry for entry in registry.registry() if entry.kind == "fault"]
VARIANTS = [entry for entry in registry.registry() if entry.kind == "variant"]


def _outcomes(tmp_path, names):
    result = run(RunOptions(faults=list(names), max_examples=MAX_EXAMPLES, report_dir=tmp_path))
    return result, {item.case.id: item for api in result.report.apis for item in api.cases}


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f"{f.api}:{f.name}")
def test_fault_is_caught_by_its_cases_only(fault, tmp_path):
    result, cases = _outcomes(tmp_path, [fault.name])
    missed = [case for case in fault.catches if cases[case].outcome not in FAILED]
    assert not missed, f"{fault.name} not caught by {missed}: " + "; ".join(
        f"{c}={cases[c].outcome} ({cases[c].details})" for c in missed
    )
    disturbed = {
        case_id: f"{item.outcome}: {item.details}"
        for case_id, item in cases.items()
        if case_id not in fault.catches and item.outcome in FAILED | {"error"}
    }
    assert not disturbed, f"{fault.name} also disturbed {disturbed}"
    assert result.exit_status in (0, 1)


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: f"{v.api}:{v.name}")
def test_variant_stays_conformant(variant, tmp_path):
    result, cases = _outcomes(tmp_path, [variant.name])
    failing = {case_id: f"{item.outcome}: {item.details}" for case_id, item in cases.items()
               if item.outcome in FAILED | {"error"}}
    assert not failing, f"variant {variant.name} was blamed: {failing}"
    assert result.exit_status == 0


def test_all_variants_at_once_stay_conformant(tmp_path):
    result, cases = _outcomes(tmp_path, [v.name for v in VARIANTS])
    failing = {case_id: f"{item.outcome}: {item.details}" for case_id, item in cases.items()
               if item.outcome in FAILED | {"error"}}
    assert not failing, f"all variants together were blamed: {failing}"
    assert result.exit_status == 0


def test_every_must_and_should_case_has_a_fault():
    from msgconform import catalogue

    for api in catalogue.available_apis():
        caught = {case for fault in FAULTS if fault.api == api for case in fault.catches}
        uncaught = [c.id for c in catalogue.load(api).cases if c.level != "INFO" and c.id not in caught]
        assert not uncaught, f"{api}: no fault proves these cases can fail: {uncaught}"


def test_faithful_servers_pass_every_case(tmp_path):
    """Against the faithful servers every case is judged and holds: a check that can never
    apply would show here as a skip (and would then hide behind skips elsewhere)."""
    result, cases = _outcomes(tmp_path, [])
    not_passing = {case_id: f"{item.outcome}: {item.details}" for case_id, item in cases.items()
                   if item.outcome != "pass" or item.checked < 1}
    assert not not_passing, f"the faithful servers did not pass: {not_passing}"
    assert result.exit_status == 0
