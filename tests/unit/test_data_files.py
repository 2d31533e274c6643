"""msgconform's own data files read through pydantic models: precise one-line refusals
(file, key path, problem) and never a value in them.

Every bad value here contains "SECRET": a refusal, and the ValidationError behind it
(``hide_input_in_errors``), must name where the problem is without showing what was there.
The targets file has its own hand-written reader (ARCHITECTURE.md says why); the sweep at
the end holds it to the same rule over every key of a full targets file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w
import yaml
from pydantic import ValidationError

from msgconform import _resources, catalogue, cassettes
from msgconform.cassettes import CassetteError, Manifest, read_manifest
from msgconform.catalogue import CatalogueError
from msgconform.errors import TargetsError
from msgconform.targets import parse_targets

CASE = {"id": "ITS-SEND-001", "level": "MUST", "operation": "send", "title": "t", "source": "000_x.txt",
        "expect": "e", "quote": "It is\n  so."}
MANIFEST = {
    "format": 1, "tool": "msgconform", "version": "0.1.0", "seed": 1, "max_examples": 3,
    "apis": {"itslearning": {"base_url": "http://127.0.0.1:1", "spec": "abc",
                             "users": {"sender": {"id": 1001, "name": "Ada"}}}},
}


# --- the case catalogue ----------------------------------------------------------------------


@pytest.fixture
def catalogue_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "test.cases.yaml"
    monkeypatch.setattr(_resources, "cases_path", lambda api: path)
    catalogue.load.cache_clear()
    yield path
    catalogue.load.cache_clear()


def _catalogue_refusal(path: Path, doc: Any) -> str:
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(CatalogueError) as caught:
        catalogue.load("test")
    message = str(caught.value)
    assert "SECRET" not in message and "\n" not in message
    return message


def test_a_good_catalogue_loads_with_quotes_on_one_line(catalogue_file: Path) -> None:
    catalogue_file.write_text(yaml.safe_dump({"api": "test", "cases": [CASE, {**CASE, "id": "ITS-SEND-002",
                                                                             "quote": None}]}))
    loaded = catalogue.load("test")
    assert loaded.title == "test" and loaded.ids == ("ITS-SEND-001", "ITS-SEND-002")
    assert loaded["ITS-SEND-001"].quote == "It is so." and loaded["ITS-SEND-002"].quote == ""


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"level": "SECRET"}, "cases[1].level: Input should be 'MUST', 'SHOULD' or 'INFO'"),
        ({"id": "SECRET-1"}, "cases[1].id: must look like ITS-SEND-001 (prefix, group, three digits)"),
        ({"id": "ITS-SEND-001"}, "(top level): case id ITS-SEND-001 is listed twice"),
        ({"levle": "SECRET"}, "cases[1].levle: unknown key"),
        ({"title": ["SECRET"]}, "cases[1].title: Input should be a valid string"),
        ({"quote": {"SECRET": 1}}, "cases[1].quote: Input should be a valid string"),
    ],
)
def test_a_bad_case_is_refused_by_key_path(catalogue_file: Path, change: dict, problem: str) -> None:
    doc = {"api": "test", "cases": [CASE, {**CASE, "id": "ITS-SEND-002", **change}]}
    assert _catalogue_refusal(catalogue_file, doc) == f"test.cases.yaml: {problem}"


def test_a_missing_case_key_is_named(catalogue_file: Path) -> None:
    case = {k: v for k, v in CASE.items() if k != "expect"}
    assert _catalogue_refusal(catalogue_file, {"api": "test", "cases": [case]}) == (
        "test.cases.yaml: cases[0].expect: missing required key"
    )


def test_the_shipped_catalogues_load() -> None:
    for api in catalogue.available_apis():
        assert catalogue.load(api).cases


# --- the cassette manifest -------------------------------------------------------------------


def _manifest_refusal(tmp_path: Path, doc: Any) -> str:
    (tmp_path / cassettes.MANIFEST).write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(CassetteError) as caught:
        read_manifest(tmp_path)
    message = str(caught.value)
    assert "SECRET" not in message and "\n" not in message
    return message


def test_a_good_manifest_is_read_as_written(tmp_path: Path) -> None:
    (tmp_path / cassettes.MANIFEST).write_text(json.dumps({**MANIFEST, "later": "ignored"}))
    assert read_manifest(tmp_path)["apis"]["itslearning"]["users"]["sender"] == {"id": 1001, "name": "Ada"}


@pytest.mark.parametrize(
    ("path", "value", "problem"),
    [
        (("seed",), "SECRET-1", "seed: Input should be a valid integer"),
        (("format",), 2, "format: Input should be 1"),
        (("apis", "itslearning", "base_url"), ["SECRET"], "apis.itslearning.base_url: Input should be a valid string"),
        (("apis", "itslearning", "users", "sender", "id"), 1.5, "apis.itslearning.users.sender.id: Input should be"),
        (("apis", "itslearning", "users", "sender"), "SECRET", "apis.itslearning.users.sender: Input should be"),
    ],
)
def test_a_bad_manifest_is_refused_by_key_path(tmp_path: Path, path: tuple[str, ...], value: Any,
                                               problem: str) -> None:
    doc = json.loads(json.dumps(MANIFEST))
    table = doc
    for key in path[:-1]:
        table = table[key]
    table[path[-1]] = value
    message = _manifest_refusal(tmp_path, doc)
    assert message.startswith(f"{tmp_path / cassettes.MANIFEST}: not a msgconform cassette manifest: {problem}")


def test_a_manifest_missing_a_key_or_not_json(tmp_path: Path) -> None:
    doc = {k: v for k, v in MANIFEST.items() if k != "max_examples"}
    assert _manifest_refusal(tmp_path, doc).endswith(": max_examples: missing required key")
    (tmp_path / cassettes.MANIFEST).write_text("{SECRET", encoding="utf-8")
    with pytest.raises(CassetteError, match=r"not a msgconform cassette manifest \(not JSON\)$"):
        read_manifest(tmp_path)


def test_the_validation_error_itself_hides_the_input() -> None:
    with pytest.raises(ValidationError) as caught:
        Manifest.model_validate({**MANIFEST, "seed": "SECRET-1", "version": ["SECRET-2"]})
    assert "SECRET" not in str(caught.value) and "SECRET" not in repr(caught.value)
    assert "seed" in str(caught.value)


def test_replay_targets_come_from_the_manifest_with_placeholder_credentials(tmp_path: Path) -> None:
    (tmp_path / "itslearning").mkdir()
    doc = json.loads(json.dumps(MANIFEST))
    doc["apis"]["itslearning"]["users"] = {role: {"id": n} for n, role in
                                           enumerate(("sender", "recipient", "bcc", "outsider"), 1)}
    targets = cassettes.replay_targets(tmp_path, doc, [])
    assert targets["itslearning"].users["bcc"].id == 3
    assert targets["itslearning"].users["bcc"].headers == {"Authorization": cassettes.PLACEHOLDER}


# --- no value in any refusal of the targets file ----------------------------------------------

TARGETS = {
    "itslearning": {
        "base_url": "https://its.example", "timeout": 5, "rate_limit": 2, "max_requests": 10, "verify": True,
        "proxy": "http://proxy.example:3128",
        "users": {role: {"id": n, "name": "N", "token": f"{role}-token"}
                  for n, role in enumerate(("sender", "recipient", "bcc", "outsider"), 1)},
    },
}


def _leaves(doc: dict, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for key, value in doc.items():
        yield (*path, key)
        if isinstance(value, dict):
            yield from _leaves(value, (*path, key))


@pytest.mark.parametrize("bad", ["SECRET\nx", ["SECRET"], {"k": "SECRET"}, 1.5, True],
                         ids=["line-break", "array", "table", "float", "boolean"])
def test_no_refusal_of_the_targets_file_shows_a_value(bad: Any) -> None:
    refused = 0
    for path in _leaves(TARGETS):
        doc = json.loads(json.dumps(TARGETS))
        table = doc
        for key in path[:-1]:
            table = table[key]
        table[path[-1]] = bad
        try:
            parse_targets(tomli_w.dumps(doc), "targets.toml", environ={})
        except TargetsError as exc:
            refused += 1
            assert str(exc).startswith("targets.toml: ") and "\n" not in str(exc), (path, str(exc))
            if path[-1] != "verify":  # a CA bundle that is not found is named by its path, which is no secret
                assert "SECRET" not in str(exc), (path, str(exc))
    assert refused >= len(list(_leaves(TARGETS))) // 2  # the sweep really met refusals


def test_the_manifest_names_the_sink_addresses_recorded_requests_carry(tmp_path: Path) -> None:
    """Issue 14, item 7: the sinks' per-run host:port is recorded as a placeholder, and the
    manifest says so; a replay's stand-in sinks take exactly these (suites/superoffice)."""
    text = tomli_w.dumps({"superoffice": {
        "base_url": "http://127.0.0.1:8104",
        "users": {"sender": {"email": "agent@example.test", "headers": {"Authorization": "Basic c2VjcmV0"}}},
        "smtp": {"listen": "127.0.0.1", "port": 0, "advertise": "127.0.0.1", "imap_port": 0}}})
    cassettes.write_manifest(tmp_path, parse_targets(text, source="t", environ={}), seed=1, max_examples=2)
    manifest = read_manifest(tmp_path)
    smtp = manifest["apis"]["superoffice"]["smtp"]
    assert smtp["server_name"] == cassettes.SMTP_SINK_ADDRESS
    assert smtp["imap_server_name"] == cassettes.IMAP_SINK_ADDRESS
    assert cassettes.recorded_sink_addresses(manifest, "superoffice") == (
        cassettes.SMTP_SINK_ADDRESS, cassettes.IMAP_SINK_ADDRESS)
    older = json.loads(json.dumps(manifest))  # written before the keys existed: the same placeholders
    del older["apis"]["superoffice"]["smtp"]["server_name"], older["apis"]["superoffice"]["smtp"]["imap_server_name"]
    assert cassettes.recorded_sink_addresses(older, "superoffice") == (
        cassettes.SMTP_SINK_ADDRESS, cassettes.IMAP_SINK_ADDRESS)
    other = json.loads(json.dumps(manifest))
    other["apis"]["superoffice"]["smtp"]["server_name"] = "[elsewhere]"
    assert cassettes.recorded_sink_addresses(other, "superoffice")[0] == "[elsewhere]"
    with pytest.raises(ValidationError):
        Manifest.model_validate({**manifest, "apis": {"superoffice": {**manifest["apis"]["superoffice"],
                                                                       "smtp": {"server_name": 5}}}})
