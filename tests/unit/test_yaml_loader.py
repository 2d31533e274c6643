"""libyaml's loader (msgconform._yaml) reads every data file exactly as PyYAML's SafeLoader does."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from msgconform import _yaml

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted([*(ROOT / "specs").glob("*.yaml"), *(ROOT / "src" / "msgconform").rglob("*.yaml")])


def test_the_c_loader_is_used_where_pyyaml_has_it():
    assert FILES
    assert _yaml.SafeLoader is getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_same_data_as_the_python_loader(path):
    text = path.read_text(encoding="utf-8")
    assert _yaml.safe_load(text) == yaml.load(text, Loader=yaml.SafeLoader)  # noqa: S506


def test_unsafe_tags_are_refused():
    with pytest.raises(yaml.YAMLError):
        _yaml.safe_load("!!python/object/apply:os.system ['true']")
