"""YAML data files read with libyaml's C parser where PyYAML has it.

The specs, case catalogues and faults.yaml are read by every run, in the parent and again
in each suite process. PyYAML's pure-Python SafeLoader spent about 0.3 s of CPU per spec
there (profile in README.md, "Speed"); `CSafeLoader` builds the same objects with the same
safe constructors from libyaml's parser, several times faster. PyYAML wheels ship libyaml;
a build without it falls back to SafeLoader, with the same result, only slower.
tests/unit/test_yaml_loader.py checks that both loaders give equal data for every file.
"""

from __future__ import annotations

from typing import Any

import yaml

SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

__all__ = ["SafeLoader", "safe_load"]


def safe_load(text: str | bytes) -> Any:
    """`yaml.safe_load`, through libyaml when available."""
    return yaml.load(text, Loader=SafeLoader)  # noqa: S506 - a safe loader
