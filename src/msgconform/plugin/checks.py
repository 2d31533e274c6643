"""The check registry: response checks, each judging one catalogued case.

A response check is a function `check(ex: Exchange) -> None | True | str`:

- `None`: the check does not apply to this exchange (nothing judged);
- `True`: the case holds for this exchange;
- a string: the case fails; the string says how, in one sentence.

Suites register their checks with `@response_check(api, case_id, operations=...)`.
Whatever a check returns is handed to the recorder with the request that showed it,
so checks never talk to the recorder themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the harness imports this module; the type is only needed for checking
    from msgconform.plugin.harness import Exchange

CheckResult = None | bool | str
CheckFn = Callable[["Exchange"], CheckResult]


@dataclass(frozen=True)
class ResponseCheck:
    api: str
    case_id: str
    operations: frozenset[str] | None  # None: every operation
    fn: CheckFn

    def applies_to(self, operation_id: str) -> bool:
        return self.operations is None or operation_id in self.operations


_REGISTRY: dict[str, list[ResponseCheck]] = {}


def response_check(api: str, case_id: str, operations: Iterable[str] | None = None) -> Callable[[CheckFn], CheckFn]:
    def register(fn: CheckFn) -> CheckFn:
        entry = ResponseCheck(api, case_id, frozenset(operations) if operations else None, fn)
        _REGISTRY.setdefault(api, []).append(entry)
        return fn

    return register


def checks_for(api: str) -> list[ResponseCheck]:
    return list(_REGISTRY.get(api, []))
