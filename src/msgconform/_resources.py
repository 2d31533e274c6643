"""Where the data files are: specs, case catalogues, seed documents and suites.

They live at the top of a checkout (`specs/`, `suites/`) so that people can read them next
to the code. A wheel carries the same folders as package data under `msgconform/_data/`.
Every lookup goes through this module, so the rest of the code never cares which layout
it runs from.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@cache
def data_root() -> Path:
    """The folder holding `specs/` and `suites/`: `$MSGCONFORM_DATA_DIR` when set (a copy with
    edited specs, say), else the wheel's `_data`, else the checkout."""
    override = os.environ.get("MSGCONFORM_DATA_DIR")
    if override:
        root = Path(override).resolve()
        if not (root / "specs").is_dir() or not (root / "suites").is_dir():
            raise RuntimeError(f"MSGCONFORM_DATA_DIR={override}: no specs/ and suites/ there")
        return root
    installed = _PACKAGE / "_data"
    if (installed / "specs").is_dir():
        return installed
    checkout = _PACKAGE.parent.parent
    if (checkout / "specs").is_dir() and (checkout / "suites").is_dir():
        return checkout
    raise RuntimeError(f"msgconform's data files are missing (looked in {installed} and {checkout})")


def specs_dir() -> Path:
    return data_root() / "specs"


def suites_dir() -> Path:
    return data_root() / "suites"


def sources_dir() -> Path:
    """The seed documents every MUST quote is taken from."""
    return specs_dir() / "sources"


def spec_path(api: str) -> Path:
    return specs_dir() / f"{api}.yaml"


def cases_path(api: str) -> Path:
    return specs_dir() / f"{api}.cases.yaml"


def package_file(name: str) -> Path:
    """A file shipped inside the package itself (schemas, fault registry)."""
    return _PACKAGE / name
