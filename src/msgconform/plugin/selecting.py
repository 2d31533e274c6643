"""`--case` inside the suite: leave out the tests that cannot judge a selected case.

Loaded by the runner (`-p msgconform.plugin.selecting`) only when the run selects cases;
it receives the selected case ids (`--msgconform-select ID,ID,...`, already resolved from
the patterns) and deselects tests as `msgconform.selection.tests_to_run` decides, per API
(the folder a test module lives in). Outcomes are not touched here: the runner marks the
cases that were not selected `skip` "not selected" after the run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from msgconform.selection import SuiteMap, tests_to_run


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("msgconform").addoption(
        "--msgconform-select", default=None, help="judge only these case ids (comma-separated)"
    )


def _test_of(item: pytest.Item) -> tuple[Path, str, str]:
    path = Path(str(item.path))
    function = getattr(item, "originalname", None) or item.name
    cls = getattr(item, "cls", None)
    if cls is not None:
        function = f"{cls.__name__}.{function}"  # not a module-level function: the module's cases
    return path.parent, path.name, function


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    chosen = config.getoption("msgconform_select")
    if chosen is None:
        return
    selected = frozenset(filter(None, chosen.split(",")))
    mode = config.getoption("msgconform_mode")
    by_suite: dict[Path, list[int]] = {}
    for index, item in enumerate(items):
        by_suite.setdefault(_test_of(item)[0], []).append(index)
    keep = [False] * len(items)
    for suite_dir, indexes in by_suite.items():
        suite = SuiteMap.read(suite_dir)
        tests = [_test_of(items[i])[1:] for i in indexes]
        for index, kept in zip(indexes, tests_to_run(tests, suite, selected, mode), strict=True):
            keep[index] = kept
    deselected = [item for item, kept in zip(items, keep, strict=True) if not kept]
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        names = sorted(
            {"::".join(item.nodeid.split("::")[:2]).split("[")[0] for item, k in zip(items, keep, strict=True) if k}
        )
        reporter.write_line(
            f"msgconform: --case: {len(items) - len(deselected)} of {len(items)} tests can judge "
            f"the selected cases: {', '.join(names) or 'none'}"
        )
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item, kept in zip(items, keep, strict=True) if kept]
