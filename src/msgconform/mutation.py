"""Response mutation over cassettes: would the suite notice if the vendor answered differently?

Each mutant changes ONE recorded response (a status, a header, a field, an XML element or
namespace) in a copy of the cassettes, and the run is replayed from the copy. A mutant is
*killed* when a case that passed in the unmutated replay now fails (MUST `fail` or SHOULD
`non-strict`). A replay that merely misses an interaction (the mutation changed what the
suite sent next) kills nothing: such a mutant is reported as `no verdict`. Mutants the
documents allow (an optional field removed, a charset parameter added) are *expected
survivors*: killing one would be a false positive.

Mutants are data: `MUTANTS` lists, per API, which cassette, which interaction (the last
one matching a predicate) and what to change.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import yaml

from msgconform import cassettes
from msgconform.progress import Progress
from msgconform.runner import RunOptions, run

Interaction = dict
FAILED = ("fail", "non-strict")


def _status(code: int) -> Callable[[Interaction], None]:
    def mutate(interaction: Interaction) -> None:
        interaction["response"]["status"]["code"] = code

    return mutate


def _drop_header(name: str) -> Callable[[Interaction], None]:
    def mutate(interaction: Interaction) -> None:
        headers = interaction["response"]["headers"]
        for key in [k for k in headers if k.lower() == name]:
            del headers[key]

    return mutate


def _add_charset(interaction: Interaction) -> None:
    headers = interaction["response"]["headers"]
    for key in [k for k in headers if k.lower() == "content-type"]:
        headers[key] = [value.split(";")[0] + "; charset=utf-8" for value in headers[key]]


def _json_field(change: Callable[[dict], None]) -> Callable[[Interaction], None]:
    def mutate(interaction: Interaction) -> None:
        body = interaction["response"]["body"]
        value = json.loads(body["string"])
        change(value)
        body["string"] = json.dumps(value)

    return mutate


def _json_whole(change: Callable[[Any], Any]) -> Callable[[Interaction], None]:
    """The whole JSON body replaced by what `change` makes of it (a root that is a list)."""

    def mutate(interaction: Interaction) -> None:
        body = interaction["response"]["body"]
        body["string"] = json.dumps(change(json.loads(body["string"])))

    return mutate


def _without_nulls(entities: Any) -> Any:
    return [{k: v for k, v in e.items() if v is not None} if isinstance(e, dict) else e for e in entities or []]


def _content_type(value: str) -> Callable[[Interaction], None]:
    def mutate(interaction: Interaction) -> None:
        headers = interaction["response"]["headers"]
        for key in [k for k in headers if k.lower() == "content-type"]:
            headers[key] = [value]

    return mutate


def _text(pattern: str, replacement: str) -> Callable[[Interaction], None]:
    def mutate(interaction: Interaction) -> None:
        body = interaction["response"]["body"]
        body["string"] = re.sub(pattern, replacement, body["string"], count=1, flags=re.S)

    return mutate


def _move_first_child_last(interaction: Interaction) -> None:
    body = interaction["response"]["body"]
    match = re.search(r"(<(\w+)>[^<]*</\2>)", body["string"])  # the first simple element
    if match:
        text = body["string"].replace(match.group(1), "", 1)
        body["string"] = re.sub(r"(</\w+>\s*)$", match.group(1) + r"\1", text, count=1)


def _is(method: str, path_end: str, status: int, media: str = "") -> Callable[[Interaction], bool]:
    def matches(interaction: Interaction) -> bool:
        request, response = interaction["request"], interaction["response"]
        content_type = " ".join(v for k, vs in response["headers"].items() if k.lower() == "content-type" for v in vs)
        return (
            request["method"] == method
            and re.search(path_end, request["uri"].split("?")[0]) is not None
            and response["status"]["code"] == status
            and media in content_type
        )

    return matches


SEND = _is("POST", r"/send/v1$", 201)
MESSAGE_JSON = _is("GET", r"/messages/\d+/v1$", 200, "json")
MESSAGE_XML = _is("GET", r"/messages/\d+/v1$", 200, "xml")
NOT_FOUND = _is("GET", r"/messages/-?\d+/v1$", 404)
CONVERSATION_JSON = _is("POST", r"/4/conversations/$", 201, "json")
CONVERSATION_XML = _is("POST", r"/4/conversations/$", 201, "xml")
HQ_ERROR_JSON = _is("POST", r"/4/conversations/$", 400, "json")
CE_JSON = _is("POST", r"/api/messages/sendmessage$", 200, "json")
CE_XML = _is("POST", r"/api/messages/sendmessage$", 200, "xml")
CE_REFUSED = _is("POST", r"/api/messages/sendmessage$", 400)
SO_SENT_JSON = _is("POST", r"/Agents/EMail/SendEMails$", 200, "json")
SO_SENT_XML = _is("POST", r"/Agents/EMail/SendEMails$", 200, "xml")
SO_REFUSED_JSON = _is("POST", r"/Agents/EMail/SendEMails$", 400, "json")
SO_REFUSED_XML = _is("POST", r"/Agents/EMail/SendEMails$", 400, "xml")
SO_UNAUTHORIZED = _is("POST", r"/Agents/EMail/SendEMails$", 401)


@dataclass(frozen=True)
class Mutant:
    api: str
    name: str
    cassette: str  # file name pattern inside <cassette-dir>/<api>/
    target: Callable[[Interaction], bool]
    mutate: Callable[[Interaction], None]
    expected: str  # "killed" or "survivor" (a change the documents allow)


MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "itslearning", "send-status-200", "test_send.test_send_accepts_json_media_types*", SEND, _status(200), "killed"
    ),
    Mutant(
        "itslearning",
        "send-location-removed",
        "test_send.test_send_accepts_json_media_types*",
        SEND,
        _drop_header("location"),
        "killed",
    ),
    Mutant(
        "itslearning",
        "get-messageid-retyped",
        "test_scenarios.test_send_and_read*",
        MESSAGE_JSON,
        _json_field(lambda m: m.update(MessageId=str(m["MessageId"]))),
        "killed",
    ),
    Mutant(
        "itslearning",
        "get-date-offset",
        "test_scenarios.test_send_and_read*",
        MESSAGE_JSON,
        _json_field(lambda m: m.update(DateReceived=m["DateReceived"].replace("Z", "+02:00"))),
        "killed",
    ),
    Mutant(
        "itslearning",
        "get-content-type-removed",
        "test_scenarios.test_send_and_read*",
        MESSAGE_JSON,
        _drop_header("content-type"),
        "killed",
    ),
    Mutant(
        "itslearning", "get-404-becomes-500", "test_send.test_outsider_cannot_read*", NOT_FOUND, _status(500), "killed"
    ),
    Mutant(
        "itslearning",
        "xml-element-moved",
        "test_scenarios.test_send_and_read*",
        MESSAGE_XML,
        _move_first_child_last,
        "killed",
    ),
    Mutant(
        "itslearning",
        "xml-namespace-dropped",
        "test_scenarios.test_send_and_read*",
        MESSAGE_XML,
        _text(r' xmlns:i="[^"]*"', ""),
        "killed",
    ),
    Mutant(
        "itslearning",
        "get-optional-field-removed",
        "test_scenarios.test_send_and_read*",
        MESSAGE_JSON,
        _json_field(lambda m: m.pop("ContentUrl", None)),
        "survivor",
    ),
    Mutant(
        "itslearning", "xml-charset-added", "test_scenarios.test_send_and_read*", MESSAGE_XML, _add_charset, "survivor"
    ),
    Mutant(
        "completeempire",
        "xml-sample-status-500",
        "test_send.test_the_seed_samples_are_accepted*",
        CE_XML,
        _status(500),
        "killed",
    ),
    Mutant(
        "completeempire",
        "xml-answer-labelled-json",
        "test_send.test_importance_is_a_number_in_json*",
        CE_XML,
        _content_type("application/json; charset=utf-8"),
        "killed",
    ),
    Mutant(
        "completeempire",
        "json-answer-labelled-text",
        "test_send.test_importance_is_a_number_in_json*",
        CE_JSON,
        _content_type("text/plain"),
        "killed",
    ),
    Mutant(
        "completeempire",
        "refusal-becomes-200",
        "test_send.test_bodies_the_binder_cannot_read_are_refused*",
        CE_REFUSED,
        _status(200),
        "killed",
    ),
    Mutant("completeempire", "success-status-201", "test_send.test_send_false*", CE_JSON, _status(201), "survivor"),
    Mutant(
        "completeempire", "success-body-removed", "test_send.test_send_false*", CE_JSON, _text(r"^.*$", ""), "survivor"
    ),
    Mutant(
        "highq",
        "conversation-status-202",
        "test_conversation.test_a_conversation_in_the_json_form_starts*",
        CONVERSATION_JSON,
        _status(202),
        "killed",
    ),
    Mutant(
        "highq",
        "conversationid-removed",
        "test_conversation.test_a_conversation_in_the_json_form_starts*",
        CONVERSATION_JSON,
        _json_field(lambda c: c.pop("conversationid", None)),
        "killed",
    ),
    Mutant(
        "highq",
        "messageid-removed",
        "test_conversation.test_a_conversation_in_the_json_form_starts*",
        CONVERSATION_JSON,
        _json_field(lambda c: c["messages"]["message"][0].pop("messageid", None)),
        "killed",
    ),
    Mutant(
        "highq",
        "xml-root-renamed",
        "test_conversation.test_a_conversation_in_the_xml_form_starts*",
        CONVERSATION_XML,
        _text(r"<conversation>(.*)</conversation>", r"<newConversation>\1</newConversation>"),
        "killed",
    ),
    Mutant(
        "highq",
        "error-object-as-text",
        "test_conversation.test_invalid_conversations_are_refused*",
        HQ_ERROR_JSON,
        _text(r"^.*$", "Problem with parameters"),
        "killed",
    ),
    Mutant(
        "highq",
        "one-element-list-as-object",
        "test_conversation.test_a_conversation_in_the_json_form_starts*",
        CONVERSATION_JSON,
        _json_field(lambda c: c["messages"].update(message=c["messages"]["message"][0])),
        "survivor",
    ),
    Mutant(
        "highq",
        "status-200-for-201",
        "test_conversation.test_a_conversation_in_the_json_form_starts*",
        CONVERSATION_JSON,
        _status(200),
        "survivor",
    ),
    Mutant(
        "superoffice",
        "answer-not-an-array",
        "test_delivery.test_a_plain_email_arrives*",
        SO_SENT_JSON,
        _json_whole(lambda entities: {"EMailEntity": entities}),
        "killed",
    ),
    Mutant(
        "superoffice",
        "priority-as-number",
        "test_delivery.test_a_plain_email_arrives*",
        SO_SENT_JSON,
        _json_field(lambda entities: entities[0].update(Priority=3)),
        "killed",
    ),
    Mutant(
        "superoffice",
        "xml-answer-labelled-json",
        "test_http.test_each_response_format*",
        SO_SENT_XML,
        _content_type("application/json"),
        "killed",
    ),
    Mutant(
        "superoffice",
        "select-ignored",
        "test_http.test_select_nulls_out_the_other_fields*",
        SO_SENT_JSON,
        _json_field(lambda entities: entities[0].update(PlainBody="the body $select did not name")),
        "killed",
    ),
    Mutant(
        "superoffice",
        "malformed-refusal-becomes-200",
        "test_http.test_malformed_json_is_refused*",
        SO_REFUSED_XML,
        _status(200),
        "killed",
    ),
    Mutant(
        "superoffice",
        "error-object-as-text",
        "test_http.test_malformed_json_is_refused*",
        SO_REFUSED_JSON,
        _text(r"^.*$", "Bad request"),
        "killed",
    ),
    Mutant(
        "superoffice",
        "unauthorized-served",
        "test_http.test_no_mail_without_valid_credentials*",
        SO_UNAUTHORIZED,
        _status(200),
        "killed",
    ),
    Mutant(
        "superoffice",
        "unauthorized-as-403",
        "test_http.test_no_mail_without_valid_credentials*",
        SO_UNAUTHORIZED,
        _status(403),
        "survivor",
    ),
    Mutant(
        "superoffice",
        "select-members-absent",
        "test_http.test_select_nulls_out_the_other_fields*",
        SO_SENT_JSON,
        _json_whole(_without_nulls),
        "survivor",
    ),
    Mutant(
        "superoffice",
        "batch-answer-reversed",
        "test_delivery.test_a_batch_of_emails*",
        SO_SENT_JSON,
        _json_whole(lambda entities: entities[::-1]),
        "survivor",
    ),
    Mutant(
        "superoffice",
        "charset-added",
        "test_delivery.test_a_plain_email_arrives*",
        SO_SENT_JSON,
        _add_charset,
        "survivor",
    ),
)


@dataclass
class MutantResult:
    mutant: Mutant
    status: str  # killed | survived | no verdict | not applicable
    details: str = ""

    @property
    def as_expected(self) -> bool:
        return (self.status == "killed") == (self.mutant.expected == "killed") and self.status in ("killed", "survived")


def _replay(folder: Path, api: str, manifest: dict, report_dir: Path):
    with open(os.devnull, "w") as quiet:
        return run(
            RunOptions(
                mode="replay",
                cassette_dir=folder,
                apis=[api],
                report_dir=report_dir,
                seed=manifest["seed"],
                max_examples=manifest["max_examples"],
            ),
            log=quiet,
        )


def _outcomes(result) -> dict[str, str]:
    return {item.case.id: item.outcome for api in result.report.apis for item in api.cases}


def apply(mutant: Mutant, source: Path, into: Path) -> bool:
    """Copy the cassettes to `into` with `mutant` applied; False if it has no target there."""
    shutil.copytree(source, into)
    for path in sorted((into / mutant.api).glob(mutant.cassette + ".yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        targets = [i for i in data["interactions"] if mutant.target(i)]
        if targets:
            mutant.mutate(targets[-1])
            path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
            return True
    return False


def run_mutants(source: Path, apis: list[str], *, jobs: int = 2, log: TextIO | None = None) -> list[MutantResult]:
    """Every mutant of `apis` replayed; with `log`, one progress step per mutant on it."""
    manifest = cassettes.read_manifest(source)
    chosen = [m for m in MUTANTS if m.api in apis and m.api in manifest["apis"]]
    progress = Progress("selftest: mutants", len(chosen), log if log is not None else io.StringIO())
    with tempfile.TemporaryDirectory(prefix="msgconform-mutants-") as scratch:
        scratch_path = Path(scratch)
        baselines = {
            api: _outcomes(_replay(source, api, manifest, scratch_path / f"base-{api}"))
            for api in {m.api for m in chosen}
        }

        def one(index_mutant: tuple[int, Mutant]) -> MutantResult:
            index, mutant = index_mutant
            progress.started(f"{mutant.api} {mutant.name}")
            result = judge(index, mutant)
            expected = "as expected" if result.as_expected else f"NOT as expected ({mutant.expected})"
            outcome = f"{result.status}, {expected}"
            progress.finished(f"{mutant.api} {mutant.name}", outcome, keep=not result.as_expected)
            return result

        def judge(index: int, mutant: Mutant) -> MutantResult:
            folder = scratch_path / f"m{index}" / "cassettes"
            if not apply(mutant, source, folder):
                return MutantResult(mutant, "not applicable", f"no interaction to mutate in {mutant.cassette}")
            result = _replay(folder, mutant.api, manifest, scratch_path / f"m{index}" / "reports")
            base, now = baselines[mutant.api], _outcomes(result)
            killers = [cid for cid, outcome in now.items() if outcome in FAILED and base.get(cid) not in FAILED]
            if killers:
                return MutantResult(mutant, "killed", ", ".join(killers))
            if any(api.harness_errors for api in result.report.apis):
                return MutantResult(mutant, "no verdict", "replay missed an interaction")
            return MutantResult(mutant, "survived")

        with ThreadPoolExecutor(jobs) as pool:
            results = list(pool.map(one, enumerate(chosen)))
        progress.close()
        return results


def print_results(results: list[MutantResult], out) -> None:
    print("| api | mutant | expected | result | cases that failed |", file=out)
    print("|---|---|---|---|---|", file=out)
    for r in results:
        print(f"| {r.mutant.api} | {r.mutant.name} | {r.mutant.expected} | {r.status} | {r.details or '-'} |", file=out)
    killable = [r for r in results if r.mutant.expected == "killed"]
    killed = [r for r in killable if r.status == "killed"]
    survivors = [r.mutant.name for r in results if r.mutant.expected == "survivor"]
    unexpected = [r.mutant.name for r in killable if r.status != "killed"]
    wrongly_killed = [r.mutant.name for r in results if r.mutant.expected == "survivor" and r.status == "killed"]
    print("", file=out)
    print(
        f"mutants killed: {len(killed)}/{len(killable)}; expected survivors: {', '.join(survivors) or 'none'}", file=out
    )
    print(
        f"unexpected survivors: {', '.join(unexpected) or 'none'}; "
        f"allowed changes wrongly blamed: {', '.join(wrongly_killed) or 'none'}",
        file=out,
    )
