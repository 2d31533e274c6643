"""One line from a pydantic ValidationError: the key path and what is wrong, never the value.

msgconform's own data files (case catalogues, the cassette manifest, faults.yaml) are read
through pydantic models. Every such model sets ``hide_input_in_errors=True``, so that even
the exception's own text carries no value, and `first_problem` builds the one line a user
sees from the error's location and message only:

    cases[3].level: Input should be 'MUST', 'SHOULD' or 'INFO'

A value can hold a secret (a manifest is written next to redacted cassettes; a hand-edited
file may hold anything), so it is never quoted; the key path says where to look.
"""

from __future__ import annotations

from pydantic import ConfigDict, ValidationError

__all__ = ["MODEL_CONFIG", "first_problem"]

# The configuration every file model starts from: unknown keys refused, values never shown.
MODEL_CONFIG = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


def first_problem(exc: ValidationError) -> str:
    """``key.path[index]: message`` of the first error (``(top level)`` for the whole file)."""
    error = exc.errors(include_url=False, include_context=False, include_input=False)[0]
    where = ""
    for part in error["loc"]:
        if isinstance(part, int):
            where += f"[{part}]"
        elif not _is_union_tag(str(part)):
            where += f".{part}" if where else str(part)
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    elif error["type"] == "missing":
        message = "missing required key"
    return f"{where or '(top level)'}: {message}"


def _is_union_tag(part: str) -> bool:
    # pydantic names the member of a union it tried (`int`, `str`, `function-after[...]`)
    return part in {"int", "str", "float", "bool", "none"} or "[" in part
