"""What must not change between two runs of the same suite against the same server, so
that `msgconform diff` compares behaviour and not the run: INFO details quote no ids the
target handed out, and the media type the suite asks for does not depend on them."""

from __future__ import annotations

from msgconform.plugin.generic import stable_example
from msgconform.plugin.harness import IdRewriter, Pools

FIELDS = {"ToPersonIds": "person", "ReplyToMessageId": "message", "messageId": "message", "attachment.id": "file"}


def test_an_info_example_quotes_no_ids_the_target_handed_out():
    first = {"ToPersonIds": [1002], "ReplyToMessageId": 81, "Subject": "", "ForwardToMessageId": "82"}
    second = {"ToPersonIds": [1002], "ReplyToMessageId": 5000000123, "Subject": "", "ForwardToMessageId": "99"}
    assert stable_example(first) == stable_example(second)
    assert "81" not in stable_example(first) and "<id>" in stable_example(first)
    # generated values no record can have stay, as do other members
    assert stable_example({"ReplyToMessageId": 0, "Subject": "x 81"}) == "{'ReplyToMessageId': 0, 'Subject': 'x 81'}"
    assert stable_example({"Text": "y" * 500}).startswith("{'Text': 'yyy") and len(stable_example({"Text": "y" * 500})) == 120


def test_without_ids_names_the_kind_of_each_id_field_and_keeps_the_rest():
    rewriter = IdRewriter(FIELDS, Pools(people=[1002], messages=[81]))
    body = {"ToPersonIds": [1002, 1003], "ReplyToMessageId": 81, "Subject": "s 81",
            "attachments": {"attachment": [{"id": 7}]}}
    assert rewriter.without_ids(body) == {
        "ToPersonIds": ["<person id>", "<person id>"], "ReplyToMessageId": "<message id>", "Subject": "s 81",
        "attachments": {"attachment": [{"id": "<file id>"}]}}
    assert rewriter.without_ids({"messageId": 5000000001}) == rewriter.without_ids({"messageId": 81})
