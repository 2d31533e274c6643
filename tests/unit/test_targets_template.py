"""`msgconform init`'s template (contracts.md sections 1 and 2), read back by the real parser.

The template is checked against `msgconform.targets` for every API the format knows, also
those this version does not test yet (`SUPPORTED_APIS` is widened for that): an unedited
template with its secrets in the environment is a valid targets file, so a user's first
error is never a typo of ours. Its secrets are all ``"${NAME}"`` placeholders, its values to
fill in reach nobody, and the CI examples export exactly the names it reads.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from msgconform import targets as targets_module
from msgconform.targets import KNOWN_APIS, parse_targets
from msgconform.targets_template import API_ORDER, render, secret_names

REPO = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")
OPTIONAL_KEYS = ("timeout", "rate_limit", "max_requests", "max_response_bytes", "max_duration", "verify", "proxy")


@pytest.fixture
def every_api_supported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(targets_module, "SUPPORTED_APIS", KNOWN_APIS)


def environment(apis: list[str]) -> dict[str, str]:
    return {name: f"{name.lower()}-SECRET" for name in secret_names(apis)}


def test_the_template_knows_the_apis_of_the_format() -> None:
    assert API_ORDER == KNOWN_APIS


@pytest.mark.parametrize("apis", [[api] for api in KNOWN_APIS] + [[]], ids=lambda a: a[0] if a else "all")
def test_an_unedited_template_is_a_valid_targets_file(apis: list[str], every_api_supported: None) -> None:
    named = apis or list(KNOWN_APIS)
    targets = parse_targets(render(apis), "<init>", environ=environment(named))
    assert list(targets) == named
    for api, target in targets.items():
        assert not target.is_loopback
        assert (urlsplit(target.base_url).hostname or "").endswith(".example")
        for role, user in target.users.items():
            secret = f"{api.upper()}_{role.upper()}_"
            value = user.headers["Authorization"]
            assert value.removeprefix("Bearer ").startswith(secret.lower()), (api, role)
            assert user.id in (None, 0, "00000000-0000-0000-0000-000000000000")
            assert user.email is None or user.email.endswith("@example.invalid")
        if target.smtp is not None:
            assert api == "superoffice"


def test_without_its_environment_the_template_is_refused_by_name(every_api_supported: None) -> None:
    with pytest.raises(targets_module.TargetsError, match=r"itslearning\.users\.sender\.token: environment variable "
                                                          r"ITSLEARNING_SENDER_TOKEN is not set"):
        parse_targets(render(["itslearning"]), "<init>", environ={})


def test_every_secret_is_a_placeholder_and_every_placeholder_is_listed() -> None:
    text = render([])
    data = tomllib.loads(text)
    credentials = []
    for table in data.values():
        for user in table["users"].values():
            credentials += [user["token"]] if "token" in user else list(user["headers"].values())
    assert credentials and all(PLACEHOLDER.fullmatch(value) for value in credentials), credentials
    values = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    assert sorted(set(PLACEHOLDER.findall(values))) == sorted(secret_names(KNOWN_APIS))
    for name in secret_names(KNOWN_APIS):
        assert f"#   {name}\n" in text  # listed at the top, for the person setting them


def test_the_template_explains_its_optional_keys_and_the_smtp_sink() -> None:
    for api in KNOWN_APIS:
        text = render([api])
        for key in OPTIONAL_KEYS:
            assert re.search(rf"^# {key} = ", text, re.M), (api, key)
        assert ("# max_emails = 50" in text) == (api == "superoffice")
        assert (f"[{api}.smtp]" in text) == (api == "superoffice")
    superoffice = render(["superoffice"])
    assert "imap_port" in superoffice and "advertise" in superoffice
    assert "loopback" in superoffice.split("[superoffice.smtp]")[1]
    for role in ("sender", "recipient", "bcc", "outsider"):
        assert f"[itslearning.users.{role}] # {role}: " in render(["itslearning"])


def test_the_order_is_the_contracts_whatever_the_order_asked() -> None:
    assert list(tomllib.loads(render(["superoffice", "itslearning"]))) == ["itslearning", "superoffice"]
    assert render(["highq", "highq"]) == render(["highq"])
    with pytest.raises(ValueError, match="unknown API 'itslearnig'"):
        render(["itslearnig"])


@pytest.mark.parametrize("ci", ["github-actions.yml", "gitlab-ci.yml"])
def test_the_ci_examples_export_the_names_the_template_reads(ci: str) -> None:
    """GitHub maps each name from `secrets.NAME` into the job's environment; GitLab reads the
    CI/CD variables of the same names (the file lists them in its comment)."""
    text = (REPO / "examples" / "ci" / ci).read_text(encoding="utf-8")
    vendors = ["itslearning", "highq"]
    if ci == "github-actions.yml":
        jobs = yaml.safe_load(text)["jobs"]
        for job in ("live", "diff"):
            exported = {k for step in jobs[job]["steps"] for k in step.get("env", {})}
            assert set(secret_names(vendors)) <= exported, job
            for name in exported:
                assert name in secret_names(KNOWN_APIS), name
                assert f"${{{{ secrets.{name} }}}}" in text
    else:
        assert secret_names(vendors)[0] in text

