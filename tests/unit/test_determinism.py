"""What a run generates depends on the seed and the specs alone (cassettes rely on it)."""

from __future__ import annotations

from hypothesis.internal.conjecture import providers


def test_hypothesis_still_has_the_local_constants_hook_msgconform_empties():
    # msgconform.plugin._stop_mining_local_constants replaces this function; if Hypothesis
    # renames it, generation would again depend on msgconform's own source and location.
    assert callable(providers._get_local_constants)
    assert len(providers._local_constants) == 0 or hasattr(providers._local_constants, "strings")


def test_the_plugin_empties_the_local_constants():
    from msgconform.plugin import _stop_mining_local_constants

    original = providers._get_local_constants
    try:
        _stop_mining_local_constants()
        assert providers._get_local_constants() is providers._local_constants
    finally:
        providers._get_local_constants = original
