"""The targets file (contracts.md section 2): what it accepts, its defaults, what it refuses.

Most refusals are written as a valid itslearning document (a dict, turned into inline-table
TOML by `_toml`) with one change. Every secret in the test data contains "SECRET", so a
message can be checked for leaks with one assertion.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from msgconform import targets as targets_module
from msgconform.errors import MsgconformError, TargetsError, UsageError
from msgconform.targets import (
    KNOWN_APIS,
    SUPPORTED_APIS,
    ApiTarget,
    Smtp,
    Targets,
    User,
    dump_targets,
    load_targets,
    parse_targets,
)

# The example of contracts.md section 2, verbatim.
CONTRACT_EXAMPLE = """\
[itslearning]
base_url = "http://127.0.0.1:8101"       # paths such as /restapi/personal/messages/send/v1 are appended

[itslearning.users.sender]               # roles: sender, recipient, bcc, outsider — all four required
id = 1001                                # PersonId
name = "Ada Sender"                      # optional: full name as the API shows it (used by search checks)
token = "sender-token"

[itslearning.users.recipient]
id = 1002
token = "${ITS_RECIPIENT_TOKEN}"         # read from the environment

[itslearning.users.bcc]
id = 1003
token = "bcc-token"

[itslearning.users.outsider]             # a user who is never sent anything
id = 1004
token = "outsider-token"

[completeempire]
base_url = "http://127.0.0.1:8102"       # /api/messages/sendmessage is appended

[completeempire.users.sender]            # roles: sender, recipient
id = "73067954-43ed-4f1e-b2ba-c18e22e9e1fc"   # account_id
email = "sender@example.test"
name = "Sam Sender"
token = "ce-sender-token"

[completeempire.users.recipient]
id = "c188454f-3ac6-495c-869a-e3d255f3326a"
email = "rita@example.test"
name = "Rita Recipient"
token = "ce-recipient-token"

[highq]
base_url = "http://127.0.0.1:8103/demo/api"   # up to and including /api; /4/conversations/ is appended

[highq.users.sender]                     # roles: sender, recipient
id = 3001                                # userid
token = "hq-sender-token"

[highq.users.recipient]
id = 3002
token = "hq-recipient-token"

[superoffice]
base_url = "http://127.0.0.1:8104"       # /api/v1/Agents/EMail/SendEMails is appended

[superoffice.users.sender]               # role: sender
email = "agent@example.test"
headers = { Authorization = "Basic dXNlcjpwYXNz" }

[superoffice.smtp]                       # the SMTP sink that the suite starts to receive what the target sends
listen = "127.0.0.1"                     # where the sink binds
port = 0                                 # 0 = any free port
advertise = "127.0.0.1"                  # the host name put into OutgoingConnectionInfo.ServerName
"""

ENV = {"ITS_RECIPIENT_TOKEN": "recipient-SECRET"}
SOURCE = "targets.toml"


def _toml(doc: dict[str, Any]) -> str:
    """A document as TOML, every table inline (JSON strings are TOML strings but for DEL)."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{json.dumps(k)} = {value(x)}" for k, x in v.items()) + " }"
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, str):
            return json.dumps(v, ensure_ascii=False).replace("\x7f", "\\u007f")
        return repr(v)

    return "".join(f"{json.dumps(k)} = {value(v)}\n" for k, v in doc.items())


def _its() -> dict[str, Any]:
    """A valid itslearning document with a user for each role."""
    return {
        "itslearning": {
            "base_url": "http://127.0.0.1:8101",
            "users": {
                role: {"id": 1001 + n, "token": f"{role}-SECRET"}
                for n, role in enumerate(("sender", "recipient", "bcc", "outsider"))
            },
        }
    }


def _all_apis() -> dict[str, Any]:
    doc = _its()
    doc["completeempire"] = {
        "base_url": "http://127.0.0.1:8102",
        "users": {
            "sender": {
                "id": "73067954-43ed-4f1e-b2ba-c18e22e9e1fc", "email": "s@example.test", "token": "ce-SECRET",
            },
            "recipient": {
                "id": "c188454f-3ac6-495c-869a-e3d255f3326a", "email": "r@example.test", "token": "ce-SECRET",
            },
        },
    }
    doc["highq"] = {
        "base_url": "http://127.0.0.1:8103/demo/api",
        "users": {
            "sender": {"id": 3001, "token": "hq-SECRET"},
            "recipient": {"id": 3002, "token": "hq-SECRET"},
        },
    }
    doc["superoffice"] = {
        "base_url": "http://127.0.0.1:8104",
        "users": {
            "sender": {"email": "agent@example.test", "headers": {"Authorization": "Basic SECRET"}},
        },
        "smtp": {"listen": "127.0.0.1", "port": 0, "advertise": "127.0.0.1"},
    }
    return doc


@pytest.fixture
def all_supported(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend this version supports every API, to exercise the rules of the other three."""
    monkeypatch.setattr(targets_module, "SUPPORTED_APIS", KNOWN_APIS)


def _parse(doc: dict[str, Any] | str, environ: dict[str, str] = ENV, **kwargs: Any) -> Targets:
    text = doc if isinstance(doc, str) else _toml(doc)
    return parse_targets(text, SOURCE, environ=environ, **kwargs)


def _refusal(doc: dict[str, Any] | str, environ: dict[str, str] = ENV, **kwargs: Any) -> str:
    with pytest.raises(TargetsError) as caught:
        _parse(doc, environ, **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    assert "SECRET" not in message
    return message


# --- the contract's example and its defaults ------------------------------------------------


def test_all_four_apis_are_supported_today() -> None:
    assert SUPPORTED_APIS == ("itslearning", "completeempire", "highq", "superoffice")
    assert KNOWN_APIS == ("itslearning", "completeempire", "highq", "superoffice")


def test_contract_example_itslearning_section_parses_with_documented_defaults() -> None:
    its_only = CONTRACT_EXAMPLE.split("[completeempire]")[0]
    targets = _parse(its_only)
    assert list(targets) == ["itslearning"]
    its = targets["itslearning"]
    assert its.api == "itslearning"
    assert its.base_url == "http://127.0.0.1:8101"
    assert list(its.users) == ["sender", "recipient", "bcc", "outsider"]
    assert its.users["sender"] == User(
        role="sender", id=1001, name="Ada Sender", email=None,
        headers={"Authorization": "Bearer sender-token"},
    )
    assert its.users["recipient"].headers == {"Authorization": "Bearer recipient-SECRET"}
    assert its.users["recipient"].name is None
    assert its.users["outsider"].id == 1004
    # defaults on loopback
    assert its.is_loopback
    assert its.timeout == 10.0
    assert its.rate_limit is None
    assert its.max_requests is None
    assert its.verify is True
    assert its.proxy is None
    assert its.smtp is None
    assert its.max_response_bytes == 16 * 2**20
    assert its.max_duration is None


def test_contract_example_completeempire_section_parses_on_its_own() -> None:
    ce_only = "[completeempire]" + CONTRACT_EXAMPLE.split("[completeempire]")[1].split("[highq]")[0]
    targets = _parse(ce_only)
    assert list(targets) == ["completeempire"]
    ce = targets["completeempire"]
    assert ce.base_url == "http://127.0.0.1:8102" and list(ce.users) == ["sender", "recipient"]
    assert ce.users["sender"] == User(
        role="sender", id="73067954-43ed-4f1e-b2ba-c18e22e9e1fc", name="Sam Sender", email="sender@example.test",
        headers={"Authorization": "Bearer ce-sender-token"},
    )


def test_contract_example_highq_section_parses_on_its_own() -> None:
    highq_only = "[highq]" + CONTRACT_EXAMPLE.split("[highq]")[1].split("[superoffice]")[0]
    targets = _parse(highq_only)
    assert list(targets) == ["highq"]
    hq = targets["highq"]
    assert hq.base_url == "http://127.0.0.1:8103/demo/api"  # up to and including /api
    assert list(hq.users) == ["sender", "recipient"]
    assert hq.users["sender"] == User(
        role="sender", id=3001, name=None, email=None, headers={"Authorization": "Bearer hq-sender-token"},
    )
    assert hq.users["recipient"].id == 3002 and hq.is_loopback


@pytest.mark.usefixtures("all_supported")
def test_contract_example_parses_whole_under_the_rules_of_all_four_apis() -> None:
    targets = _parse(CONTRACT_EXAMPLE)
    assert list(targets) == list(KNOWN_APIS)
    ce = targets["completeempire"].users
    assert ce["sender"].id == "73067954-43ed-4f1e-b2ba-c18e22e9e1fc"
    assert ce["recipient"].email == "rita@example.test"
    assert ce["recipient"].name == "Rita Recipient"
    assert targets["highq"].base_url == "http://127.0.0.1:8103/demo/api"
    assert targets["highq"].users["recipient"].id == 3002
    so = targets["superoffice"]
    assert so.users["sender"] == User(
        role="sender", id=None, name=None, email="agent@example.test",
        headers={"Authorization": "Basic dXNlcjpwYXNz"},
    )
    assert so.smtp == Smtp(listen="127.0.0.1", port=0, advertise="127.0.0.1")
    assert all(t.smtp is None for api, t in targets.items() if api != "superoffice")


def test_remote_target_gets_rate_limit_and_request_cap_by_default() -> None:
    doc = _its()
    doc["itslearning"]["base_url"] = "https://school.itslearning.example/"
    its = _parse(doc)["itslearning"]
    assert not its.is_loopback
    assert its.base_url == "https://school.itslearning.example"
    assert its.rate_limit == 5.0
    assert its.max_requests == 2000
    assert its.timeout == 10.0
    assert its.max_duration == 900.0
    assert its.max_response_bytes == 16 * 2**20


def test_explicit_options_win_over_defaults(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not checked here\n")
    doc = _its()
    doc["itslearning"].update(
        base_url="https://its.example", timeout=2.5, rate_limit=0.5, max_requests=10,
        verify=str(bundle), proxy="http://proxy.example:3128",
    )
    its = _parse(doc)["itslearning"]
    assert (its.timeout, its.rate_limit, its.max_requests) == (2.5, 0.5, 10)
    assert its.verify == str(bundle.resolve())
    assert its.proxy == "http://proxy.example:3128"


def test_integers_are_accepted_for_seconds_and_rates() -> None:
    doc = _its()
    doc["itslearning"].update(timeout=3, rate_limit=2, verify=False)
    its = _parse(doc)["itslearning"]
    assert its.timeout == 3.0 and isinstance(its.timeout, float)
    assert its.rate_limit == 2.0
    assert its.verify is False


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("http://127.0.0.1:8101/", "http://127.0.0.1:8101"),
        ("http://127.0.0.1:8101///", "http://127.0.0.1:8101"),
        ("http://localhost:8103/demo/api/", "http://localhost:8103/demo/api"),
        ("https://example.test/demo/api", "https://example.test/demo/api"),
    ],
)
def test_trailing_slash_on_base_url_is_ignored(base_url: str, expected: str) -> None:
    doc = _its()
    doc["itslearning"]["base_url"] = base_url
    assert _parse(doc)["itslearning"].base_url == expected


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("LocalHost", True),
        ("127.0.0.1", True),
        ("127.255.3.4", True),
        ("[::1]", True),
        ("128.0.0.1", False),
        ("10.0.0.1", False),
        ("0.0.0.0", False),
        ("[::2]", False),
        ("localhost.example.test", False),
        ("example.test", False),
    ],
)
def test_loopback_detection(host: str, loopback: bool) -> None:
    doc = _its()
    doc["itslearning"]["base_url"] = f"http://{host}:8101"
    its = _parse(doc)["itslearning"]
    assert its.is_loopback is loopback
    assert its.rate_limit == (None if loopback else 5.0)
    assert its.max_requests == (None if loopback else 2000)


def test_headers_table_is_taken_as_given() -> None:
    doc = _its()
    headers = {"X-Api-Key": "key-SECRET", "Cookie": "s=SECRET"}
    doc["itslearning"]["users"]["bcc"] = {"id": 7, "headers": headers}
    assert _parse(doc)["itslearning"].users["bcc"].headers == headers


def test_environment_references_work_in_any_string_value_but_only_whole() -> None:
    doc = _its()
    doc["itslearning"]["base_url"] = "${ITS_URL}"
    doc["itslearning"]["users"]["sender"] = {"id": 1, "name": "${NAME}", "headers": {"X-Key": "${KEY}"}}
    doc["itslearning"]["users"]["bcc"]["token"] = "Bearer ${KEY}"  # not exactly ${NAME}: kept as is
    environ = {"ITS_URL": "http://127.0.0.1:9", "NAME": "Ada", "KEY": "key-SECRET"}
    its = _parse(doc, environ)["itslearning"]
    assert its.base_url == "http://127.0.0.1:9"
    assert its.users["sender"].name == "Ada"
    assert its.users["sender"].headers == {"X-Key": "key-SECRET"}
    assert its.users["bcc"].headers == {"Authorization": "Bearer Bearer ${KEY}"}


def test_load_targets_names_the_file_and_resolves_ca_paths_next_to_it(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("bundle\n")
    doc = _its()
    doc["itslearning"]["verify"] = "ca.pem"
    path = tmp_path / "targets.toml"
    path.write_text(_toml(doc))
    assert load_targets(path, environ={})["itslearning"].verify == str((tmp_path / "ca.pem").resolve())

    doc["itslearning"]["timeot"] = 3
    path.write_text(_toml(doc))
    with pytest.raises(TargetsError) as caught:
        load_targets(path, environ={})
    assert str(caught.value) == f"{path}: itslearning.timeot: unknown key"


def test_load_targets_refuses_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(TargetsError) as caught:
        load_targets(path)
    assert str(caught.value).startswith(f"{path}: cannot read the targets file")


def test_targets_error_is_a_usage_error_with_exit_status_2() -> None:
    assert issubclass(TargetsError, UsageError)
    assert issubclass(UsageError, MsgconformError)
    assert TargetsError("x").exit_status == 2


# --- refusals ----------------------------------------------------------------------------------


def test_malformed_toml_is_one_line_with_line_and_column() -> None:
    message = _refusal('[itslearning]\nbase_url = "http://127.0.0.1:8101"\ntoken = = "x-SECRET"\n')
    assert message.startswith("targets.toml: malformed TOML: ")
    assert "line 3, column" in message


def test_duplicate_key_is_malformed_toml() -> None:
    message = _refusal('[itslearning]\nbase_url = "http://a"\nbase_url = "http://b"\n')
    assert message.startswith("targets.toml: malformed TOML: ") and "line 3" in message


def test_empty_file_names_no_api() -> None:
    assert _refusal("# nothing\n") == "targets.toml: names no API (expected one of itslearning, completeempire, highq, superoffice)"


def test_unknown_api() -> None:
    doc = _its()
    doc["slack"] = {"base_url": "http://127.0.0.1:1"}
    assert _refusal(doc) == (
        "targets.toml: slack: unknown API (expected itslearning, completeempire, highq, superoffice)"
    )


@pytest.mark.parametrize("api", ["completeempire", "superoffice"])
def test_known_but_unsupported_api(api: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every known API is supported today; a version without one refuses it in one line."""
    supported = tuple(name for name in KNOWN_APIS if name != api)
    monkeypatch.setattr(targets_module, "SUPPORTED_APIS", supported)
    doc = _its()
    doc[api] = _all_apis()[api]
    assert _refusal(doc) == (
        f"targets.toml: {api}: not supported yet by this version (supported: " + ", ".join(supported) + ")"
    )


@pytest.mark.parametrize("role", ["sender", "recipient"])
def test_each_highq_role_is_required_and_no_other_is_known(role: str) -> None:
    doc = {"highq": _all_apis()["highq"]}
    assert list(_parse(doc)) == ["highq"]
    del doc["highq"]["users"][role]
    assert _refusal(doc) == f"targets.toml: highq.users.{role}: missing required role"
    doc = {"highq": _all_apis()["highq"]}
    doc["highq"]["users"]["bcc"] = {"id": 3003, "token": "hq-SECRET"}
    assert _refusal(doc) == "targets.toml: highq.users.bcc: unknown role (roles: sender, recipient)"


@pytest.mark.parametrize("role", ["sender", "recipient", "bcc", "outsider"])
def test_each_itslearning_role_is_required(role: str) -> None:
    doc = _its()
    del doc["itslearning"]["users"][role]
    assert _refusal(doc) == f"targets.toml: itslearning.users.{role}: missing required role"


@pytest.mark.usefixtures("all_supported")
@pytest.mark.parametrize(
    ("api", "role"),
    [("completeempire", "sender"), ("completeempire", "recipient"), ("highq", "sender"),
     ("highq", "recipient"), ("superoffice", "sender")],
)
def test_roles_of_the_other_apis_are_required(api: str, role: str) -> None:
    doc = _all_apis()
    del doc[api]["users"][role]
    assert _refusal(doc) == f"targets.toml: {api}.users.{role}: missing required role"


def test_unknown_role() -> None:
    doc = _its()
    doc["itslearning"]["users"]["admin"] = {"id": 1, "token": "SECRET"}
    assert _refusal(doc) == (
        "targets.toml: itslearning.users.admin: unknown role (roles: sender, recipient, bcc, outsider)"
    )


@pytest.mark.parametrize(
    ("key", "where"),
    [("base_url", "itslearning.base_url"), ("users", "itslearning.users")],
)
def test_missing_required_api_key(key: str, where: str) -> None:
    doc = _its()
    del doc["itslearning"][key]
    assert _refusal(doc) == f"targets.toml: {where}: missing required key"


def test_missing_user_id() -> None:
    doc = _its()
    del doc["itslearning"]["users"]["bcc"]["id"]
    assert _refusal(doc) == "targets.toml: itslearning.users.bcc.id: missing required key"


@pytest.mark.usefixtures("all_supported")
@pytest.mark.parametrize(("api", "key"), [("completeempire", "email"), ("completeempire", "id"),
                                          ("superoffice", "email")])
def test_missing_user_key_of_the_other_apis(api: str, key: str) -> None:
    doc = _all_apis()
    del doc[api]["users"]["sender"][key]
    assert _refusal(doc) == f"targets.toml: {api}.users.sender.{key}: missing required key"


def _set(doc: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    *parents, last = dotted.split(".")
    table = doc
    for part in parents:
        table = table[part]
    table[last] = value
    return doc


@pytest.mark.parametrize(
    "where",
    [
        "itslearning.timeot",
        "itslearning.smtp",  # only superoffice has one
        "itslearning.users.sender.tokn",
        "itslearning.users.sender.email",  # itslearning users have no email
    ],
)
def test_unknown_key_at_each_level(where: str) -> None:
    assert _refusal(_set(_its(), where, "x-SECRET")) == f"targets.toml: {where}: unknown key"


@pytest.mark.usefixtures("all_supported")
@pytest.mark.parametrize(
    "where",
    ["superoffice.smtp.host", "superoffice.users.sender.id", "highq.users.sender.email",
     "completeempire.proxy_url"],
)
def test_unknown_key_in_the_other_apis(where: str) -> None:
    assert _refusal(_set(_all_apis(), where, 1)) == f"targets.toml: {where}: unknown key"


def test_token_and_headers_together() -> None:
    doc = _its()
    doc["itslearning"]["users"]["sender"]["headers"] = {"Authorization": "Bearer other-SECRET"}
    assert _refusal(doc) == "targets.toml: itslearning.users.sender: give either token or headers, not both"


def test_neither_token_nor_headers() -> None:
    doc = _its()
    del doc["itslearning"]["users"]["outsider"]["token"]
    assert _refusal(doc).startswith("targets.toml: itslearning.users.outsider: give token or headers")


def test_missing_environment_variable_names_key_and_variable() -> None:
    doc = _its()
    doc["itslearning"]["users"]["recipient"]["token"] = "${ITS_RECIPIENT_TOKEN}"
    assert _refusal(doc, environ={"OTHER": "SECRET"}) == (
        "targets.toml: itslearning.users.recipient.token: environment variable ITS_RECIPIENT_TOKEN is not set"
    )


def test_missing_environment_variable_in_a_header() -> None:
    doc = _its()
    doc["itslearning"]["users"]["sender"] = {"id": 1, "headers": {"X-Api-Key": "${KEY}"}}
    assert _refusal(doc, environ={}) == (
        "targets.toml: itslearning.users.sender.headers.X-Api-Key: environment variable KEY is not set"
    )


@pytest.mark.parametrize(
    ("where", "value", "problem"),
    [
        ("itslearning.base_url", 8101, "must be a string, not an integer"),
        ("itslearning.users", "SECRET", "must be a table, not a string"),
        ("itslearning.users.sender", "SECRET", "must be a table, not a string"),
        ("itslearning.users.sender.id", "1001", "must be an integer, not a string"),
        ("itslearning.users.sender.id", True, "must be an integer, not a boolean"),
        ("itslearning.users.sender.id", 1001.0, "must be an integer, not a float"),
        ("itslearning.users.sender.name", 5, "must be a string, not an integer"),
        ("itslearning.users.sender.token", ["SECRET"], "must be a string, not an array"),
        ("itslearning.users.sender.token", "", "must be a non-empty string on one line"),
        ("itslearning.users.sender.token", "a-SECRET\nb", "must be a non-empty string on one line"),
        ("itslearning.timeout", "10", "must be a number, not a string"),
        ("itslearning.timeout", True, "must be a number, not a boolean"),
        ("itslearning.max_requests", 2.5, "must be an integer, not a float"),
        ("itslearning.verify", 1, "must be a boolean or string, not an integer"),
        ("itslearning.verify", "", "must be true, false or the path of a CA bundle"),
        ("itslearning.proxy", True, "must be a string, not a boolean"),
        ("itslearning.max_response_bytes", 1.5, "must be an integer, not a float"),
        ("itslearning.max_response_bytes", "16MiB", "must be an integer, not a string"),
        ("itslearning.max_duration", "900", "must be a number, not a string"),
    ],
)
def test_bad_types(where: str, value: Any, problem: str) -> None:
    assert _refusal(_set(_its(), where, value)) == f"targets.toml: {where}: {problem}"


def test_bad_headers() -> None:
    doc = _its()
    doc["itslearning"]["users"]["sender"] = {"id": 1, "headers": {"X-Key": 5}}
    where = "targets.toml: itslearning.users.sender.headers.X-Key"
    assert _refusal(doc) == f"{where}: must be a string, not an integer"
    doc["itslearning"]["users"]["sender"]["headers"] = {"X-Key": "a-SECRET\r\nInjected: 1"}
    assert _refusal(doc) == f"{where}: must not contain line breaks"
    doc["itslearning"]["users"]["sender"]["headers"] = {"Bad Name": "SECRET"}
    assert _refusal(doc) == (
        'targets.toml: itslearning.users.sender.headers."Bad Name": not a valid HTTP header name'
    )


def test_api_entry_must_be_a_table() -> None:
    assert _refusal({"itslearning": 3}) == "targets.toml: itslearning: must be a table, not an integer"


@pytest.mark.parametrize("key", ["timeout", "rate_limit", "max_requests", "max_response_bytes", "max_duration"])
@pytest.mark.parametrize("value", [0, -1])
def test_non_positive_numbers(key: str, value: int) -> None:
    assert _refusal(_set(_its(), f"itslearning.{key}", value)) == (
        f"targets.toml: itslearning.{key}: must be greater than 0"
    )


@pytest.mark.parametrize("literal", ["0.0", "-0.5", "nan", "inf"])
def test_non_positive_or_non_finite_floats(literal: str) -> None:
    text = _toml(_its()).replace('"itslearning" = { ', f'"itslearning" = {{ "timeout" = {literal}, ', 1)
    assert _refusal(text) == "targets.toml: itslearning.timeout: must be greater than 0"


def test_nonexistent_ca_bundle(tmp_path: Path) -> None:
    doc = _set(_its(), "itslearning.verify", "missing.pem")
    message = _refusal(doc, base_dir=tmp_path)
    missing = (tmp_path / "missing.pem").resolve()
    assert message == f"targets.toml: itslearning.verify: CA bundle not found: {missing}"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://127.0.0.1/", "must be a URL starting with http:// or https://"),
        ("127.0.0.1:8101", "must be a URL starting with http:// or https://"),
        ("http://", "must be a URL starting with http:// or https://"),
        ("http://127.0.0.1:99999", "not a valid URL"),
        ("", "must be a non-empty string on one line"),
        ("http://user:pw-SECRET@127.0.0.1:8101", "must not contain credentials (put them in the users' headers)"),
        ("http://127.0.0.1:8101/?key=SECRET", "must not have a query or fragment"),
    ],
)
def test_bad_base_url(url: str, problem: str) -> None:
    message = _refusal(_set(_its(), "itslearning.base_url", url))
    assert message == f"targets.toml: itslearning.base_url: {problem}"


def test_bad_proxy_never_quotes_the_url() -> None:
    message = _refusal(_set(_its(), "itslearning.proxy", "ftp://user:SECRET@proxy.example"))
    assert message == (
        "targets.toml: itslearning.proxy: "
        "must be a URL starting with http:// or https:// or socks5:// or socks5h://"
    )


@pytest.mark.usefixtures("all_supported")
def test_rules_of_the_other_apis() -> None:
    doc = _set(_all_apis(), "completeempire.users.sender.id", 42)
    assert _refusal(doc) == "targets.toml: completeempire.users.sender.id: must be a string, not an integer"
    doc = _set(_all_apis(), "completeempire.users.sender.id", "not-a-uuid")
    assert _refusal(doc).startswith("targets.toml: completeempire.users.sender.id: must be a UUID")
    doc = _set(_all_apis(), "superoffice.users.sender.email", "agent")
    assert _refusal(doc) == "targets.toml: superoffice.users.sender.email: must be an e-mail address"
    doc = _set(_all_apis(), "highq.users.recipient.id", "3002")
    assert _refusal(doc) == "targets.toml: highq.users.recipient.id: must be an integer, not a string"


@pytest.mark.usefixtures("all_supported")
def test_superoffice_smtp_table() -> None:
    doc = _all_apis()
    del doc["superoffice"]["smtp"]
    assert _parse(doc)["superoffice"].smtp == Smtp(listen="127.0.0.1", port=0, advertise="127.0.0.1")
    doc["superoffice"]["smtp"] = {"listen": "0.0.0.0", "port": 2525, "advertise": "runner.example"}
    assert _parse(doc)["superoffice"].smtp == Smtp(listen="0.0.0.0", port=2525, advertise="runner.example")
    doc["superoffice"]["smtp"] = {"listen": "0.0.0.0"}
    assert _refusal(doc) == (
        "targets.toml: superoffice.smtp.advertise: missing required key (listen is a wildcard address)"
    )
    doc["superoffice"]["smtp"] = {"port": 70000}
    assert _refusal(doc) == "targets.toml: superoffice.smtp.port: must be between 0 and 65535"
    doc["superoffice"]["smtp"] = {"imap_port": 0}
    assert _parse(doc)["superoffice"].smtp.imap_port == 0
    doc["superoffice"]["smtp"] = {"imap_port": -1}
    assert _refusal(doc) == "targets.toml: superoffice.smtp.imap_port: must be between 0 and 65535"


@pytest.mark.usefixtures("all_supported")
def test_superoffice_max_emails() -> None:
    doc = _all_apis()
    assert _parse(doc)["superoffice"].max_emails is None  # loopback: no cap unless asked for
    doc["superoffice"]["max_emails"] = 7
    assert _parse(doc)["superoffice"].max_emails == 7
    doc["superoffice"]["base_url"] = "https://online.superoffice.com/Cust1"
    del doc["superoffice"]["max_emails"]
    assert _parse(doc)["superoffice"].max_emails == 50
    doc["superoffice"]["max_emails"] = 0
    assert _refusal(doc) == "targets.toml: superoffice.max_emails: must be greater than 0"
    doc = _all_apis()
    doc["highq"]["max_emails"] = 3
    assert _refusal(doc) == "targets.toml: highq.max_emails: unknown key"


# --- secrets stay hidden ---------------------------------------------------------------------


def test_reprs_hide_header_values_and_proxy_passwords() -> None:
    doc = _its()
    doc["itslearning"]["proxy"] = "http://me:proxy-SECRET@proxy.example:3128"
    doc["itslearning"]["users"]["bcc"] = {"id": 9, "headers": {"Cookie": "SECRET", "X-Api-Key": "SECRET"}}
    targets = _parse(doc)
    for text in (repr(targets), repr(targets["itslearning"]), str(targets["itslearning"].users["sender"])):
        assert "SECRET" not in text
    assert "Authorization" in repr(targets["itslearning"].users["sender"])
    assert "proxy.example:3128" in repr(targets["itslearning"])


# --- selecting APIs ----------------------------------------------------------------------------


@pytest.mark.usefixtures("all_supported")
def test_select_keeps_the_named_apis_in_the_given_order() -> None:
    targets = _parse(_all_apis())
    chosen = targets.select(["superoffice", "itslearning", "superoffice"])
    assert list(chosen) == ["superoffice", "itslearning"]
    assert chosen["itslearning"] == targets["itslearning"]
    assert targets.select([]) == targets


def test_select_refuses_an_api_the_file_lacks() -> None:
    targets = _parse(_its())
    with pytest.raises(TargetsError, match=r"^--api highq: not in the targets file$"):
        targets.select(["itslearning", "highq"])
    with pytest.raises(TargetsError, match=r"^--api slack: unknown API \(expected itslearning, "):
        targets.select(["slack"])


# --- writing back ----------------------------------------------------------------------------


@pytest.mark.usefixtures("all_supported")
def test_round_trip_of_the_contract_example() -> None:
    targets = _parse(CONTRACT_EXAMPLE)
    text = targets.to_toml()
    assert "\ntoken =" not in text and "${" not in text
    assert tomllib.loads(text)["itslearning"]["users"]["recipient"]["headers"] == {
        "Authorization": "Bearer recipient-SECRET"
    }
    assert parse_targets(text, environ={}) == targets
    assert dump_targets(targets) == text


def test_round_trip_with_every_option_and_awkward_strings(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("bundle\n")
    doc = _its()
    doc["itslearning"].update(
        base_url="https://its.example/api/", timeout=0.25, max_requests=50, verify="ca.pem",
        proxy="http://me:pw@proxy.example:3128",
    )
    doc["itslearning"]["users"]["sender"] = {
        "id": -5, "name": 'Åse "Quote" \\ Ørn \t 😀',
        "headers": {"Authorization": "Basic SECRET", "X-Odd_Header.Name": "va\"l\\ue\x7f"},
    }
    targets = _parse(doc, base_dir=tmp_path)
    its = targets["itslearning"]
    assert its.rate_limit == 5.0  # remote default, written out explicitly
    again = parse_targets(dump_targets(targets), environ={})
    assert again == targets
    assert again["itslearning"] == ApiTarget(
        api="itslearning", base_url="https://its.example/api", users=its.users, timeout=0.25,
        rate_limit=5.0, max_requests=50, verify=str((tmp_path / "ca.pem").resolve()),
        proxy="http://me:pw@proxy.example:3128", smtp=None, max_duration=900.0,
    )


def test_round_trip_of_empty_headers() -> None:
    doc = _its()
    doc["itslearning"]["users"]["outsider"] = {"id": 4, "headers": {}}
    targets = _parse(doc)
    assert targets["itslearning"].users["outsider"].headers == {}
    assert parse_targets(targets.to_toml(), environ={}) == targets


def test_exchange_and_run_bounds_are_read_and_written_back() -> None:
    doc = _its()
    doc["itslearning"].update(max_response_bytes=1024, max_duration=60)
    targets = _parse(doc)
    its = targets["itslearning"]
    assert (its.max_response_bytes, its.max_duration) == (1024, 60.0)
    assert parse_targets(dump_targets(targets), environ={}) == targets
