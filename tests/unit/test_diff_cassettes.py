"""`msgconform diff` over two cassette folders: the behaviour diff (contracts.md section 6).

Small hand-made recordings of itslearning's send and get; each test changes one thing in
NEW and checks what the diff names and its exit status. Recordings of the real reference
servers, with every fault and variant, are diffed in tests/quality/test_behaviour_diff.py.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import yaml

from msgconform import cli, diff

BASE = "http://127.0.0.1:40001"
SEND = "/restapi/personal/messages/send/v1"


def message(mid: int, port: int = 40001) -> dict:
    return {"MessageId": mid, "Subject": f"[msgconform] send and read {mid % 2**32:08x}", "Text": "hello",
            "DateReceived": "2026-11-22T12:40:18Z", "HasAttachments": False, "IsRead": False,
            "LastRepliedDateTime": None, "MessageUrl": f"http://127.0.0.1:{port}/Messages/View.aspx?MessageId={mid}",
            "To": [{"PersonId": 1002, "FullName": "Rita Recipient"}]}


def interaction(method: str, path: str, status: int, body: str = "", headers: dict | None = None,
                accept: str = "application/json", request_body: str | None = None, port: int = 40001) -> dict:
    response_headers = {"date": ["Sun, 22 Nov 2026 12:40:18 GMT"], "content-length": [str(len(body))]}
    response_headers.update(headers or {})
    return {"request": {"method": method, "uri": f"http://127.0.0.1:{port}{path}", "body": request_body,
                        "headers": {"accept": [accept], "authorization": ["[redacted]"]}},
            "response": {"status": {"code": status, "message": ""}, "headers": response_headers,
                         "body": {"string": body}}}


def recording(ids=(81, 82), port: int = 40001) -> dict[str, list[dict]]:
    """Two sends, each read back as JSON and XML: cassette name -> interactions."""
    items = []
    for index, mid in enumerate(ids):
        send_body = json.dumps({"ToPersonIds": [1002], "Subject": f"[msgconform] send and read 1a2b3c{index:02d}"})
        items.append(interaction("POST", SEND, 201, "", {"location": [f"http://127.0.0.1:{port}/restapi/personal/messages/{mid}/v1"]},
                                 request_body=send_body, port=port))
        items.append(interaction("GET", f"/restapi/personal/messages/{mid}/v1", 200, json.dumps(message(mid, port)),
                                 {"content-type": ["application/json; charset=utf-8"]}, port=port))
        xml = (f"<Message><MessageId>{mid}</MessageId><Subject>s</Subject><Text>t</Text>"
               f"<DateReceived>2026-11-22T12:40:18Z</DateReceived></Message>")
        items.append(interaction("GET", f"/restapi/personal/messages/{mid}/v1", 200, xml,
                                 {"content-type": ["application/xml"]}, accept="application/xml", port=port))
    items.append(interaction("GET", f"/restapi/personal/messages/-{ids[0]}/v1", 404,
                             json.dumps({"Message": f"No message with id -{ids[0]} was found."}),
                             {"content-type": ["application/json; charset=utf-8"]}, port=port))
    return {"test_scenarios.test_send_and_read": items}


def save(folder: Path, cassettes: dict[str, list[dict]], *, seed: int = 20261122, max_examples: int = 25,
         port: int = 40001) -> Path:
    (folder / "itslearning").mkdir(parents=True)
    manifest = {"format": 1, "tool": "msgconform", "version": "0.1.0", "seed": seed, "max_examples": max_examples,
                "apis": {"itslearning": {"base_url": f"http://127.0.0.1:{port}",
                                         "users": {"recipient": {"id": 1002}}, "spec": "x"}}}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    for name, interactions in cassettes.items():
        (folder / "itslearning" / f"{name}.yaml").write_text(yaml.safe_dump({"interactions": interactions}),
                                                            encoding="utf-8")
    return folder


def compare(tmp_path: Path, change=None, **new_options) -> diff.Diff:
    old = save(tmp_path / "old", recording())
    cassettes = recording(**{k: v for k, v in new_options.items() if k in ("ids", "port")})
    if change:
        change(cassettes["test_scenarios.test_send_and_read"])
    new = save(tmp_path / "new", cassettes, **{k: v for k, v in new_options.items() if k != "ids"})
    return diff.compare(old, new)


def named(result: diff.Diff) -> set[tuple[str, str, bool]]:
    return {(c.section, c.subject or c.where, c.regression) for c in result.changes}


def test_the_same_behaviour_with_other_ids_ports_and_dates_diffs_to_nothing(tmp_path):
    result = compare(tmp_path, ids=(5000000001, 5000000007), port=40999)
    assert result.changes == [] and result.exit_status == 0, [c.as_dict() for c in result.changes]
    assert any("3 requests paired" in n or "7 requests paired" in n for n in result.apis[0].notes)


def test_a_header_every_answer_had_and_now_lacks_is_a_regression(tmp_path):
    def drop_location(items):
        for item in items:
            item["response"]["headers"].pop("location", None)

    result = compare(tmp_path, drop_location)
    assert ("headers: removed", "location", True) in named(result)
    assert result.exit_status == 1


def test_a_retyped_property_is_a_regression_in_json_and_in_xml(tmp_path):
    def retype(items):
        for item in items:
            body = item["response"]["body"]["string"]
            if body.startswith("{") and "MessageId" in body:
                value = json.loads(body)
                value["MessageId"] = str(value["MessageId"])
                item["response"]["body"]["string"] = json.dumps(value)
            elif body.startswith("<"):
                item["response"]["body"]["string"] = body.replace("<MessageId>", "<MessageId>x")

    found = named(compare(tmp_path, retype))
    assert ("body: retyped", "$.MessageId", True) in found
    assert ("body: retyped", "/Message/MessageId", True) in found  # the codec reads it as documented: integer


def test_a_removed_property_is_a_regression_and_an_added_one_is_not(tmp_path):
    def change(items):
        for item in items:
            body = item["response"]["body"]["string"]
            if body.startswith("{") and "MessageId" in body:
                value = json.loads(body)
                del value["HasAttachments"]
                value["Extra"] = 1
                item["response"]["body"]["string"] = json.dumps(value)

    result = compare(tmp_path, change)
    assert ("body: removed", "$.HasAttachments", True) in named(result)
    assert ("body: added", "$.Extra", False) in named(result)


def test_a_status_of_another_class_for_the_same_request_is_a_regression(tmp_path):
    def refuse(items):
        items[0]["response"]["status"]["code"] = 400

    result = compare(tmp_path, refuse)
    status = [c for c in result.changes if c.section == "status"]
    assert status and status[0].regression and (status[0].before, status[0].after) == ("201", "400")

    def same_class(items):
        items[0]["response"]["status"]["code"] = 200

    status = [c for c in compare(tmp_path / "2", same_class).changes if c.section == "status"]
    assert status and not status[0].regression  # 201 -> 200: listed, not a regression


def test_a_media_type_for_the_same_request_that_changed_is_a_regression(tmp_path):
    def text_plain(items):
        for item in items:
            if item["response"]["headers"].get("content-type") == ["application/json; charset=utf-8"]:
                item["response"]["headers"]["content-type"] = ["text/plain"]

    result = compare(tmp_path, text_plain)
    media = [c for c in result.changes if c.section == "media type"]
    assert media and all(c.regression for c in media) and result.exit_status == 1


def test_value_changes_of_paired_answers_are_listed_not_failed(tmp_path):
    def attachments(items):
        for item in items:
            body = item["response"]["body"]["string"]
            if body.startswith("{") and "MessageId" in body:
                item["response"]["body"]["string"] = body.replace('"HasAttachments": false', '"HasAttachments": true')

    result = compare(tmp_path, attachments)
    values = [c for c in result.changes if c.section == "body value"]
    assert [(c.subject, c.before, c.after, c.regression) for c in values] == [("$.HasAttachments", "false", "true", False)]
    assert result.exit_status == 0


def test_recordings_of_another_seed_or_max_examples_are_refused_in_one_line(tmp_path, capsys):
    old = save(tmp_path / "old", recording())
    new = save(tmp_path / "new", recording(), max_examples=5)
    assert cli.main(["diff", str(old), str(new)]) == 2
    err = capsys.readouterr().err
    assert "--max-examples 25" in err and "--max-examples 5" in err and len(err.strip().splitlines()) == 1


def test_a_broken_cassette_is_refused_in_one_line(tmp_path, capsys):
    old = save(tmp_path / "old", recording())
    new = save(tmp_path / "new", recording())
    (new / "itslearning" / "test_scenarios.test_send_and_read.yaml").write_text("interactions: [{request: 1}]\n")
    assert cli.main(["diff", str(old), str(new)]) == 2
    err = capsys.readouterr().err
    assert "not a readable cassette" in err and len(err.strip().splitlines()) == 1
    (new / "manifest.json").write_text("{", encoding="utf-8")
    assert cli.main(["diff", str(old), str(new)]) == 2
    assert "not a msgconform cassette manifest" in capsys.readouterr().err


def test_unpaired_requests_are_still_compared_per_operation(tmp_path):
    def one_read_less(items):
        del items[1]  # the first JSON read is not made: the rest still pairs

    result = compare(tmp_path, one_read_less)
    assert not result.regressions
    assert any("1 in OLD and 0 in NEW could not be paired" in n for n in result.apis[0].notes)


def test_an_api_can_plug_in_another_comparison(tmp_path, monkeypatch):
    from msgconform.diff import _cassettes

    monkeypatch.setattr(_cassettes, "_EXTRA", copy.deepcopy(_cassettes._EXTRA))
    seen = []

    def deliveries(old_dir: Path, new_dir: Path) -> list[diff.Change]:
        seen.append((old_dir.name, new_dir.name))
        old, new = diff.Groups(), diff.Groups()
        old.add("delivered mail", ["from", "to", "subject"], {"/text/plain": {"part"}})
        new.add("delivered mail", ["from", "to"], {"/text/plain": {"part"}})
        return diff.compare_groups("itslearning", old, new, what="mails")

    diff.register_extra("itslearning", deliveries)
    result = compare(tmp_path)
    assert seen == [("itslearning", "itslearning")]
    assert ("headers: removed", "subject", True) in named(result)


def test_markdown_and_json_name_the_regression(tmp_path, capsys):
    old = save(tmp_path / "old", recording())
    cassettes = recording()
    for item in cassettes["test_scenarios.test_send_and_read"]:
        item["response"]["headers"].pop("location", None)
    new = save(tmp_path / "new", cassettes)
    assert cli.main(["diff", str(old), str(new)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("# msgconform diff: 1 regression")
    regressions = out.split("## Regressions", 1)[1].split("##", 1)[0]
    assert "`location`" in regressions and "POST /restapi/personal/messages/send/v1 → 201 (no body)" in regressions
    assert "## Not compared, and why" in out
    assert cli.main(["diff", str(old), str(new), "--format", "json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["kind"] == "cassettes" and document["regression"] is True
    assert document["apis"]["itslearning"]["regressions"][0]["subject"] == "location"


def test_byte_sizes_are_masked_and_their_type_is_still_compared():
    from msgconform.diff import _bodies

    # An e-mail's Size counts bytes that carry the run's Date: header and Message-ID.
    assert _bodies.mask([{"Size": 450, "IsSent": True}]) == _bodies.mask([{"Size": 451, "IsSent": True}])
    assert _bodies.mask({"Size": 450}) == {"Size": "<size>"}
    assert _bodies.value_shape({"Size": 450}) != _bodies.value_shape({"Size": "450"})


def test_a_new_type_is_a_regression_and_fewer_types_are_listed():
    old, new = diff.Groups(), diff.Groups()
    for shape in ({"/M/Subject": {"nil"}}, {"/M/Subject": {"text"}}, {"/M/To": {"element"}}, {"/M/To": {"empty"}}):
        old.add("g", [], shape)
    new.add("g", [], {"/M/Subject": {"text"}, "/M/To": {"element", "text"}})  # requests that sent nil now refused
    changes = {(c.section, c.subject, c.regression) for c in diff.compare_groups("x", old, new)}
    assert ("body: nullability changed", "/M/Subject", False) in changes
    assert ("body: retyped", "/M/To", True) in changes  # `text` is new there
    fewer_old, fewer_new = diff.Groups(), diff.Groups()
    fewer_old.add("g", [], {"$.n": {"integer", "string"}})
    fewer_new.add("g", [], {"$.n": {"integer"}})
    assert [(c.section, c.regression) for c in diff.compare_groups("x", fewer_old, fewer_new)] == [
        ("body: types no longer seen", False)
    ]
