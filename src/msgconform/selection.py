"""`--case PATTERN`: which cases a run judges, and which suite tests it needs for them.

    patterns --resolve()--> Selection (selected case ids per API; a pattern matching no case: UsageError)
    suite folder --SuiteMap.read()--> the cases each test can judge (read from the source, never imported)
    Selection + SuiteMap + the collected tests --tests_to_run()--> the tests to keep
    ApiResult --Selection.apply()--> the cases not selected become `skip` "not selected"

Which tests can judge which cases is *derived* from the suites' source, the same way
`tests/unit/test_cases_have_checks.py` finds that every case has a check: a check names its
case with a string literal. For one test function of `suites/<api>/test_*.py`, the cases it
can judge are

- the case ids written in the function, in the module-level names and functions it uses
  (a list such as `REPLY = ["ITS-REPLY-001", ...]`, a helper, a fixture of that module), and
  so on transitively; a test this reading cannot find (a class made at run time, such as
  Schemathesis' state machine) gets every case id its module names;
- plus the API's *shared* cases: every case id named in the suite's other modules
  (`checks.py`, `conftest.py`, ...). Response checks and follow-ups judge every exchange of
  every test, so a selected shared case keeps every test.

A suite for a new API gets this for free: nothing is declared by hand. The reading can only
err towards running more (an id in a docstring keeps its test), and the integration test
`tests/integration/test_case_selection.py` checks it against reality: every case a test
judged or skipped in a full replay is among the cases the reading gives that test.

Which tests run:

- live (and embedded) runs: the tests that can judge a selected case;
- replay: those, and every test collected before the last of them. A recorded request can
  depend on what earlier tests did (the run's first message, ids learned from responses,
  subjects numbered through the run), so leaving out an earlier test could ask the
  cassettes for a request they do not hold. Later tests cannot change what earlier ones
  send, so they are left out. The selected cases then get exactly a full replay's outcomes.
- `--record` with `--case` is refused: it would replace the cassettes with a partial set.

An API none of whose cases is selected is not tested at all (its cases are all
`skip` "not selected" and its verdict `skipped`).
"""

from __future__ import annotations

import ast
import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

from msgconform import catalogue
from msgconform.catalogue import CASE_ID
from msgconform.errors import UsageError
from msgconform.outcomes import ApiResult, CaseOutcome, skipped_api

NOT_SELECTED = "not selected"


def matches(pattern: str, case_id: str) -> bool:
    """A case id, or a glob over ids (`ITS-XML-*`, `HQ-CONV-00?`); case-sensitive."""
    return fnmatch.fnmatchcase(case_id, pattern)


@dataclass(frozen=True)
class Selection:
    """The case ids a run judges, per API (an API absent here has none selected)."""

    patterns: tuple[str, ...]
    cases: dict[str, frozenset[str]] = field(default_factory=dict)

    def of(self, api: str) -> frozenset[str]:
        return self.cases.get(api, frozenset())

    def apply(self, result: ApiResult) -> ApiResult:
        """The cases not selected become `skip` with details "not selected"."""
        chosen = self.of(result.api)
        if not chosen:
            skipped = skipped_api(catalogue.load(result.api), result.target, NOT_SELECTED)
            return skipped
        cases = [
            item if item.case.id in chosen else CaseOutcome(item.case, "skip", 0, NOT_SELECTED) for item in result.cases
        ]
        return replace(result, cases=cases)


def resolve(patterns: Sequence[str], mode: str, apis: Iterable[str] | None = None) -> Selection:
    """The cases `patterns` select among the catalogues of `apis` (default: every catalogue).

    Raises UsageError (exit 2, one line) for `--record`, and for a pattern that matches no case.
    """
    if mode == "record":
        raise UsageError("--case cannot be used with --record: it would replace the cassettes with a partial set")
    names = list(apis) if apis is not None else list(catalogue.available_apis())
    chosen: dict[str, set[str]] = {}
    for pattern in patterns:
        hits = [(api, case_id) for api in names for case_id in catalogue.load(api).ids if matches(pattern, case_id)]
        if not hits:
            where = ", ".join(names) or "no API"
            raise UsageError(f"--case {pattern}: matches no catalogued case ({where})")
        for api, case_id in hits:
            chosen.setdefault(api, set()).add(case_id)
    return Selection(tuple(patterns), {api: frozenset(ids) for api, ids in chosen.items()})


# --- which tests can judge which cases ------------------------------------------------------------


@dataclass(frozen=True)
class SuiteMap:
    """The cases each test function of one API's suite can judge, read from its source."""

    api: str
    shared: frozenset[str]  # named outside the test modules: judged on every exchange
    by_test: dict[tuple[str, str], frozenset[str]]  # (module file name, function name) -> cases
    by_module: dict[str, frozenset[str]]  # every case a test module names (for tests not found)
    tests: tuple[tuple[str, str], ...] = ()  # the module-level test functions, in pytest's default order

    @classmethod
    def read(cls, suite_dir: Path) -> SuiteMap:
        return _read_suite(suite_dir.resolve())

    def can_judge(self, module: str, function: str) -> frozenset[str]:
        own = self.by_test.get((module, function))
        if own is None:
            own = self.by_module.get(module, frozenset())
        return own | self.shared


@cache
def _read_suite(suite_dir: Path) -> SuiteMap:
    shared: set[str] = set()
    by_test: dict[tuple[str, str], frozenset[str]] = {}
    by_module: dict[str, frozenset[str]] = {}
    tests: list[tuple[str, str]] = []
    for path in sorted(suite_dir.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if not path.name.startswith("test_"):
            shared |= _case_ids(tree)
            continue
        by_module[path.name] = frozenset(_case_ids(tree))
        for name, cases in _cases_per_function(tree).items():
            if name.startswith("test"):
                by_test[(path.name, name)] = frozenset(cases)
                tests.append((path.name, name))
    return SuiteMap(
        api=suite_dir.name, shared=frozenset(shared), by_test=by_test, by_module=by_module, tests=tuple(tests)
    )


def _case_ids(node: ast.AST) -> set[str]:
    return {
        n.value
        for n in ast.walk(node)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and CASE_ID.match(n.value)
    }


def _cases_per_function(tree: ast.Module) -> dict[str, set[str]]:
    """For each module-level function: the case ids it reaches through module-level names."""
    definitions: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            definitions[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        definitions[name.id] = node

    def uses(node: ast.AST) -> set[str]:
        found = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):  # fixtures, by parameter name
            found |= {a.arg for a in node.args.args + node.args.kwonlyargs}
        return found & definitions.keys()

    result: dict[str, set[str]] = {}
    for function, definition in definitions.items():
        if not isinstance(definition, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        seen: set[str] = {function}
        todo: list[ast.AST] = [definition]
        cases: set[str] = set()
        while todo:
            current = todo.pop()
            cases |= _case_ids(current)
            for other in uses(current) - seen:
                seen.add(other)
                todo.append(definitions[other])
        result[function] = cases
    return result


def tests_to_run(tests: Sequence[tuple[str, str]], suite: SuiteMap, selected: frozenset[str], mode: str) -> list[bool]:
    """For each collected test, in collection order, (module file name, function name):
    whether the run keeps it (see the module docstring for replay's rule)."""
    needed = [bool(suite.can_judge(module, function) & selected) for module, function in tests]
    if mode == "replay" and any(needed):
        last = max(i for i, keep in enumerate(needed) if keep)
        return [i <= last for i in range(len(tests))]
    return needed
