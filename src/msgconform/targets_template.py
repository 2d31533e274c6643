"""`msgconform init`: a first targets file, commented, for the APIs a user names.

    render(["itslearning"])          # the text of a targets file (contracts.md section 2)
    secret_names(["itslearning"])    # ["ITSLEARNING_SENDER_TOKEN", ...]: what to export

The template is written with tomlkit, because it is mostly comments: what each role is
for, where each value comes from, and every optional key with its default. The choices:

- Every secret is a ``"${NAME}"`` placeholder (`secret_names` lists them): the file can be
  committed, and CI fills the names from its secret store (examples/ci/ uses the same
  names). SuperOffice's sender gets a whole ``Authorization`` header, since that API takes
  Basic, SOTicket or Bearer credentials.
- Values a user must fill in are visibly not real: host names under ``.example`` and
  addresses under ``.invalid`` (reserved names that never resolve), ids 0 and the nil UUID.
  An unedited file therefore reaches nobody: the preflight stops the run in one line.
- The optional keys (``timeout``, ``rate_limit``, ``max_requests``, ``max_emails``,
  ``max_response_bytes``, ``max_duration``, ``verify``, ``proxy``) are written commented
  out with their defaults. Their defaults depend on whether the host is loopback, so an
  active line would change what an absent key means; uncommenting one is a decision.
- ``[superoffice.smtp]`` is written out and explained: the sink must be reachable from the
  vendor, which a CI runner's loopback is not.

This module knows the format only as text to write; `msgconform.targets` reads it (the
tests check that an unedited template parses, for every API).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import tomlkit
from tomlkit.items import Table

__all__ = ["API_ORDER", "render", "secret_names"]

API_ORDER = ("itslearning", "completeempire", "highq", "superoffice")


@dataclass(frozen=True)
class _Role:
    name: str
    purpose: str


@dataclass(frozen=True)
class _Api:
    title: str
    base_url: str
    base_url_help: str
    roles: tuple[_Role, ...]
    id_key: str | None  # "integer", "uuid" or None
    id_help: str = ""
    email: bool = False
    credential: str = "token"  # "token" or "authorization" (a whole Authorization header)
    credential_help: str = ""
    smtp: bool = False


_APIS: dict[str, _Api] = {
    "itslearning": _Api(
        title="itslearning Personal REST API (messages inside the platform)",
        base_url="https://your-site.itslearning.example",
        base_url_help="your site, such as https://{site}.itslearning.com; "
        "paths such as /restapi/personal/messages/send/v1 are appended",
        roles=(
            _Role("sender", "sends the suite's messages (their subject starts with [msgconform])"),
            _Role("recipient", "receives them, reads them, replies to and forwards them"),
            _Role("bcc", "gets blind copies, which nobody else may see"),
            _Role("outsider", "is never sent anything: proves others' messages stay unreadable"),
        ),
        id_key="integer",
        id_help="PersonId (0: not filled in yet)",
        credential_help="an OAuth2 access token with the scope Messages, sent as Authorization: Bearer",
    ),
    "completeempire": _Api(
        title="CompleteEmpire: send a message",
        base_url="https://api.completeempire.example",
        base_url_help="the API's host; /api/messages/sendmessage is appended",
        roles=(
            _Role("sender", "sends the suite's messages"),
            _Role("recipient", "receives them"),
        ),
        id_key="uuid",
        id_help="account_id, a UUID (the nil UUID: not filled in yet)",
        email=True,
        credential_help="the access token, sent as Authorization: Bearer",
    ),
    "highq": _Api(
        title="Thomson Reuters HighQ, Messages API (conversations)",
        base_url="https://highq.example/your-instance/api",
        base_url_help="up to and including /api, such as https://{host}/{instance}/api; /4/conversations/ is appended",
        roles=(
            _Role("sender", "starts the suite's conversations"),
            _Role("recipient", "is added to them"),
        ),
        id_key="integer",
        id_help="userid (0: not filled in yet)",
        credential_help="an OAuth2 access token of this HighQ instance, sent as Authorization: Bearer",
    ),
    "superoffice": _Api(
        title="SuperOffice WebAPI, EMail agent: send e-mails",
        base_url="https://online.superoffice.example/Cust12345",
        base_url_help="the tenant, such as https://{env}.superoffice.com/{CustId} (on-premises: "
        "https://{host}/{site}); /api/v1/Agents/EMail/SendEMails is appended",
        roles=(_Role("sender", "the associate whose e-mails the agent sends"),),
        id_key=None,
        email=True,
        credential="authorization",
        credential_help="the whole Authorization header: Basic ... (on-premises), SOTicket ... or Bearer ...",
        smtp=True,
    ),
}


def secret_names(apis: Iterable[str]) -> list[str]:
    """The environment variables the template for `apis` reads its secrets from."""
    names = []
    for api in _ordered(apis):
        suffix = "AUTHORIZATION" if _APIS[api].credential == "authorization" else "TOKEN"
        names += [f"{api.upper()}_{role.name.upper()}_{suffix}" for role in _APIS[api].roles]
    return names


def render(apis: Iterable[str] = ()) -> str:
    """The commented targets file for `apis` (every API when none is named)."""
    chosen = _ordered(apis) or list(API_ORDER)
    doc = tomlkit.document()
    doc.add(tomlkit.comment("msgconform targets file (contracts.md section 2), written by `msgconform init`."))
    doc.add(tomlkit.comment("One table per API under test; an API that is absent is not tested."))
    doc.add(tomlkit.comment('A value "${NAME}" is read from the environment variable NAME; a missing one is'))
    doc.add(tomlkit.comment("an error. Before a run, set (in CI: from its secret store):"))
    for name in secret_names(chosen):
        doc.add(tomlkit.comment(f"  {name}"))
    doc.add(tomlkit.comment("Then replace every value under .example or .invalid, and every id 0 or nil UUID."))
    for api in chosen:
        doc.add(tomlkit.nl())
        doc.add(api, _api_table(api))
    return tomlkit.dumps(doc)


def _ordered(apis: Iterable[str]) -> list[str]:
    wanted = set(apis)
    unknown = wanted - set(API_ORDER)
    if unknown:
        raise ValueError(f"unknown API {sorted(unknown)[0]!r} (expected {', '.join(API_ORDER)})")
    return [api for api in API_ORDER if api in wanted]


def _api_table(api: str) -> Table:
    spec = _APIS[api]
    table = tomlkit.table()
    table.add(tomlkit.comment(spec.title))
    table.add(tomlkit.comment(f"base_url: {spec.base_url_help}"))
    table.add("base_url", spec.base_url)
    table.add(tomlkit.comment("Optional, shown with their defaults (uncomment to change):"))
    for line in _optional_keys(spec):
        table.add(tomlkit.comment(line))
    users = tomlkit.table(is_super_table=True)
    for role in spec.roles:
        users.add(role.name, _user_table(api, spec, role))
    table.add("users", users)
    if spec.smtp:
        table.add("smtp", _smtp_table())
    return table


def _optional_keys(spec: _Api) -> list[str]:
    lines = [
        "timeout = 10                   # seconds for a whole exchange, from connect to the answer's last byte",
        "rate_limit = 5                 # requests per second (default 5; unlimited on loopback)",
        "max_requests = 2000            # requests in this API's whole run (default 2000; none on loopback)",
    ]
    if spec.smtp:
        lines.append(
            "max_emails = 50                # e-mails the run may ask the target to send (default 50; none on loopback)"
        )
    lines += [
        "max_response_bytes = 16777216  # a cap on each answer's decoded size (default 16 MiB)",
        "max_duration = 900             # seconds for this API's whole run (default 900; none on loopback)",
        "verify = true                  # TLS: true, false, or the path of a CA bundle",
        'proxy = "http://proxy.example:3128"   # default: none',
    ]
    return lines


def _user_table(api: str, spec: _Api, role: _Role) -> Table:
    user = tomlkit.table()
    user.comment(f"{role.name}: {role.purpose}")
    if spec.id_key == "integer":
        user.add("id", 0)
        user["id"].comment(spec.id_help)
    elif spec.id_key == "uuid":
        user.add("id", "00000000-0000-0000-0000-000000000000")
        user["id"].comment(spec.id_help)
    if spec.email:
        user.add("email", f"{role.name}@example.invalid")
        user["email"].comment("this account's e-mail address")
    user.add(tomlkit.comment('name = "Full Name"   # optional: the full name as the API shows it (search uses it)'))
    if spec.credential == "authorization":
        name = f"{api.upper()}_{role.name.upper()}_AUTHORIZATION"
        headers = tomlkit.inline_table()
        headers.add("Authorization", f"${{{name}}}")
        user.add("headers", headers)
        user["headers"].comment(spec.credential_help)
    else:
        user.add("token", f"${{{api.upper()}_{role.name.upper()}_TOKEN}}")
        user["token"].comment(spec.credential_help)
    return user


def _smtp_table() -> Table:
    smtp = tomlkit.table()
    smtp.comment("the SMTP sink the suite starts to receive what the target sends")
    for line in (
        "The vendor connects to this sink to deliver the suite's e-mails, so it must be able to",
        "reach it: a vendor on the internet cannot deliver to a CI runner's loopback (hosted CI",
        'runners take no inbound connections). For a live run, listen on "0.0.0.0" with a fixed',
        "port open to the vendor, on a runner of your own, and advertise its public host name.",
    ):
        smtp.add(tomlkit.comment(line))
    smtp.add("listen", "127.0.0.1")
    smtp["listen"].comment("where the sink binds")
    smtp.add("port", 0)
    smtp["port"].comment("0 = any free port")
    smtp.add("advertise", "127.0.0.1")
    smtp["advertise"].comment("the host name put into OutgoingConnectionInfo.ServerName")
    smtp.add(tomlkit.comment("imap_port = 0   # optional: also an IMAP sink for SentItemsConnectionInfo (same listen"))
    smtp.add(tomlkit.comment("                # and advertise; 0 = any free port); absent = none offered"))
    return smtp
