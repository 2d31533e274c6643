"""The itslearning reference server, over real HTTP: faithful behaviour, then every fault
and variant of faults.yaml doing what its entry says."""

from __future__ import annotations

import re
import time
from datetime import datetime

import httpx
import pytest

from msgconform import specs
from msgconform.servers import itslearning
from msgconform.servers.embedded import running_servers
from msgconform.xmlcodec import XmlCodec
from tests.reference_servers import FaultChecks, ServerClient, faithful, with_fault

pytestmark = pytest.mark.integration

SEND = "/restapi/personal/messages/send/v1"
SEARCH = "/restapi/personal/messages/recipients/search/v1"
MESSAGE_KEYS = [  # seed 003's JSON sample, in its order
    "Text", "To", "Attachments", "MessageId", "From", "DateReceived", "Subject", "PreviewText",
    "MessageUrl", "ContentUrl", "HasAttachments", "IsRead", "IsForwarded", "LastForwardedDateTime",
    "IsReplied", "LastRepliedDateTime",
]
PERSON_KEYS = [
    "PersonId", "FirstName", "LastName", "FullName", "ProfileUrl", "AdditionalInfo", "ProfileImageUrl",
    "ProfileImageUrlSmall",
]
UTC_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
SENDER, RECIPIENT, BCC, OUTSIDER = "sender-token", "recipient-token", "bcc-token", "outsider-token"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Its(ServerClient):
    """A client for one running server, with the few calls the tests repeat."""

    API = "itslearning"

    def send(self, token: str = SENDER, **body) -> httpx.Response:
        body.setdefault("ToPersonIds", [1002])
        return self.http.post(SEND, json=body, headers=auth(token))

    def raw_send(self, content: bytes, content_type: str | None, token: str = SENDER) -> httpx.Response:
        headers = auth(token) | ({"Content-Type": content_type} if content_type else {})
        return self.http.post(SEND, content=content, headers=headers)

    def sent(self, **body) -> str:
        """Send as the sender and return the message path."""
        response = self.send(**body)
        assert response.status_code == 201, response.text
        return httpx.URL(response.headers["location"]).path

    def get(self, path: str, token: str = SENDER, **headers) -> httpx.Response:
        return self.http.get(path, headers=auth(token) | headers)


its = faithful(Its)
server_with = with_fault(Its)


# --- faithful behaviour -------------------------------------------------------------------


def test_send_answers_201_with_an_absolute_location_and_no_body(its: Its) -> None:
    response = its.send(Subject="Hello", Text="World", BccPersonIds=[1003])
    assert response.status_code == 201
    assert response.content == b""
    assert re.fullmatch(re.escape(its.base_url) + r"/restapi/personal/messages/\d+/v1", response.headers["location"])


def test_sender_recipient_and_bcc_read_the_message_the_outsider_gets_404(its: Its) -> None:
    path = its.sent(Subject="Hi", Text="<p>Hello&nbsp;<b>there</b></p>", BccPersonIds=[1003])
    message_id = int(path.split("/")[-2])
    bodies = {}
    for token in (SENDER, RECIPIENT, BCC):
        response = its.get(path, token)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json; charset=utf-8"
        bodies[token] = response.json()
    message = bodies[RECIPIENT]
    assert list(message) == MESSAGE_KEYS
    assert message["MessageId"] == message_id
    assert message["Subject"] == "Hi" and message["Text"] == "<p>Hello&nbsp;<b>there</b></p>"
    assert message["PreviewText"] == "Hello there"
    assert [p["PersonId"] for p in message["To"]] == [1002]  # Bcc is never shown
    assert list(message["To"][0]) == PERSON_KEYS and list(message["From"]) == PERSON_KEYS
    assert message["From"]["FullName"] == "Ada Sender"
    assert UTC_DATE.match(message["DateReceived"])
    assert message["Attachments"] == [] and message["HasAttachments"] is False
    assert message["LastRepliedDateTime"] is None and message["LastForwardedDateTime"] is None
    assert bodies[SENDER]["IsRead"] is True and bodies[RECIPIENT]["IsRead"] is False
    assert its.get(path, RECIPIENT).json()["IsRead"] is False  # GET does not mark read

    outsider = its.get(path, OUTSIDER)
    assert outsider.status_code == 404
    assert outsider.json() == {"Message": f"No message with id {message_id} was found."}
    assert its.get("/restapi/personal/messages/987654321/v1").status_code == 404


def test_reply_and_forward_mark_only_the_repliers_own_copy(its: Its) -> None:
    original = its.sent(Subject="Question")
    original_id = int(original.split("/")[-2])
    reply = its.send(RECIPIENT, ToPersonIds=[1001], ReplyToMessageId=original_id, Subject="Re")
    assert reply.status_code == 201
    forward = its.send(RECIPIENT, ToPersonIds=[1003], ForwardToMessageId=original_id)
    assert forward.status_code == 201

    mine = its.get(original, RECIPIENT).json()
    assert mine["IsReplied"] is True and UTC_DATE.match(mine["LastRepliedDateTime"])
    assert mine["IsForwarded"] is True and UTC_DATE.match(mine["LastForwardedDateTime"])
    theirs = its.get(original, SENDER).json()
    assert (theirs["IsReplied"], theirs["IsForwarded"]) == (False, False)
    assert theirs["LastRepliedDateTime"] is None

    hidden = its.send(OUTSIDER, ReplyToMessageId=original_id)
    assert hidden.status_code == 400 and "ModelState" in hidden.json()
    assert its.send(ForwardToMessageId=10**12).status_code == 400


def test_search_needs_three_characters_and_never_returns_the_caller(its: Its) -> None:
    for query in ("", "?searchText=", "?searchText=Ri", "?searchText=%20%20a"):
        response = its.http.get(SEARCH + query, headers=auth(SENDER))
        assert response.status_code == 400, query
        assert response.json()["Message"] == "The request is invalid."
    found = its.http.get(SEARCH, params={"searchText": "rIT"}, headers=auth(SENDER)).json()
    assert {p["FullName"] for p in found} == {"Rita Recipient", "Ritva Berg"}
    assert list(found[0]) == PERSON_KEYS
    by_last_name = its.http.get(SEARCH, params={"searchText": "Send"}, headers=auth(SENDER)).json()
    assert [p["PersonId"] for p in by_last_name] == [1007]  # Ada Sender herself is left out
    by_full_name = its.http.get(SEARCH, params={"searchText": "ada sen"}, headers=auth(RECIPIENT)).json()
    assert [p["PersonId"] for p in by_full_name] == [1001]


def test_requests_without_a_valid_token_answer_401(its: Its) -> None:
    path = its.sent()
    denied = {"Message": "Authorization has been denied for this request."}
    for headers in ({}, auth("wrong-token"), {"Authorization": "Basic c2VuZGVyLXRva2Vu"}):
        for response in (
            its.http.get(path, headers=headers),
            its.http.post(SEND, json={"ToPersonIds": [1002]}, headers=headers),
            its.http.get(SEARCH, params={"searchText": "Rita"}, headers=headers),
        ):
            assert response.status_code == 401
            assert response.json() == denied
    assert its.http.get(path, params={"access_token": SENDER}).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"ToPersonIds": []}, "message.ToPersonIds"),  # no recipient at all
        ({"ToPersonIds": None, "BccPersonIds": None}, "message.ToPersonIds"),
        ({"ToPersonIds": [99999]}, "message.ToPersonIds"),  # unknown person
        ({"ToPersonIds": ["1002"]}, "message.ToPersonIds"),
        ({"ToPersonIds": 1002}, "message.ToPersonIds"),
        ({"ToPersonIds": [1002.5]}, "message.ToPersonIds"),
        ({"ToPersonIds": [True]}, "message.ToPersonIds"),
        ({"ToPersonIds": [1002], "BccPersonIds": {"a": 1}}, "message.BccPersonIds"),
        ({"ToPersonIds": [1002], "ReplyToMessageId": "1"}, "message.ReplyToMessageId"),
        ({"ToPersonIds": [1002], "ForwardToMessageId": 2**70}, "message.ForwardToMessageId"),
        ({"ToPersonIds": [1002], "Subject": 5}, "message.Subject"),
        ({"ToPersonIds": [1002], "Text": ["x"]}, "message.Text"),
        ([1002], "message"),
        ("text", "message"),
        (None, "message"),
    ],
)
def test_invalid_sends_answer_400_with_an_aspnet_model_state(its: Its, body, field: str) -> None:
    response = its.http.post(SEND, json=body, headers=auth(SENDER))
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["Message"] == "The request is invalid."
    assert field in error["ModelState"]


def test_other_request_formats_are_accepted(its: Its) -> None:
    assert its.raw_send(b'{"ToPersonIds":[1002]}', "text/json").status_code == 201
    assert its.raw_send(b'{"ToPersonIds":[1002]}', "application/json; charset=utf-8").status_code == 201
    assert its.raw_send(b'\xef\xbb\xbf{"ToPersonIds":[1002]}', "Application/JSON").status_code == 201
    form_body = b"ToPersonIds=1002&ToPersonIds=1003&Subject=Form+post&Text=a%26b"
    form = its.raw_send(form_body, "application/x-www-form-urlencoded")
    assert form.status_code == 201
    message = its.get(httpx.URL(form.headers["location"]).path).json()
    assert (message["Subject"], message["Text"], len(message["To"])) == ("Form post", "a&b", 2)
    bad_form = its.raw_send(b"ToPersonIds=abc", "application/x-www-form-urlencoded")
    assert bad_form.status_code == 400
    assert its.raw_send(b'{"toPersonIds":[1002]}', "application/json").status_code == 201  # Json.NET ignores case
    assert its.send(ToPersonIds=[1002], Unknown="ignored").status_code == 201


def test_unsupported_request_types_answer_415_and_never_5xx(its: Its) -> None:
    for content_type in ("text/plain", None, "multipart/form-data; boundary=x", "application/octet-stream"):
        response = its.raw_send(b'{"ToPersonIds":[1002]}', content_type)
        assert response.status_code == 415, content_type
        assert "is not supported for this resource" in response.json()["Message"]


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{", "application/json"),
        (b"", "application/json"),
        (b"\xff\xfe\x00garbage", "application/json"),
        (b'{"ToPersonIds":[1002]}', "application/json; charset=no-such-charset"),
        (b"[" * 100_000, "application/json"),
        (b'{"ToPersonIds":[' + b"9" * 5000 + b"]}", "text/json"),
        (b'{"ToPersonIds":[1e999]}', "application/json"),
        (b'{"ToPersonIds":NaN}', "application/json"),
        (b"%zz=%%&ToPersonIds", "application/x-www-form-urlencoded"),
        (b"<MessageToSend><ToPersonIds>", "application/xml"),
        (b'<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>', "text/xml"),
        (b"\x00\x01\x02", "application/x-www-form-urlencoded; charset=utf-16"),
    ],
)
def test_garbage_bodies_get_a_4xx_never_a_5xx(its: Its, content: bytes, content_type: str) -> None:
    response = its.raw_send(content, content_type)
    assert 400 <= response.status_code < 500, response.text


def test_odd_paths_methods_and_headers_get_4xx(its: Its) -> None:
    path = its.sent()
    for method in ("PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"):
        response = its.http.request(method, path, headers=auth(SENDER))
        assert response.status_code == 405, method
        assert response.headers["allow"] == "GET"
    wrong_method = its.http.get(SEND, headers=auth(SENDER))
    assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "POST"
    assert "does not support http method 'GET'" in wrong_method.json()["Message"]
    assert its.get("/restapi/personal/messages/abc/v1").status_code == 400
    assert its.get("/restapi/personal/messages/" + "9" * 30 + "/v1").status_code == 400
    assert its.get("/restapi/personal/messages/-5/v1").status_code == 404
    assert its.get("/no/such/path").json()["Message"].startswith("No HTTP resource was found")
    assert its.get(path, accept="text/html").headers["content-type"] == "application/json; charset=utf-8"


def test_accept_picks_the_json_type_asked_for(its: Its) -> None:
    path = its.sent()
    assert its.get(path, accept="text/json").headers["content-type"] == "text/json; charset=utf-8"
    assert its.get(path, accept="application/json").headers["content-type"] == "application/json; charset=utf-8"
    preferred = its.get(path, accept="text/json;q=0.5, application/json")
    assert preferred.headers["content-type"].startswith("application/json")
    assert its.get(path, accept="*/*").headers["content-type"].startswith("application/json")


XML_SEND = b"""<MessageToSend xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://schemas.datacontract.org/2004/07/Itslearning.RestApi.Entities">
  <BccPersonIds xmlns:d2p1="http://schemas.microsoft.com/2003/10/Serialization/Arrays"><d2p1:int>1003</d2p1:int></BccPersonIds>
  <ReplyToMessageId i:nil="true"/>
  <Subject>In XML &amp; more</Subject>
  <Text>Body</Text>
  <ToPersonIds xmlns:d2p1="http://schemas.microsoft.com/2003/10/Serialization/Arrays"><d2p1:int>1002</d2p1:int></ToPersonIds>
</MessageToSend>"""


def test_xml_requests_and_answers_follow_the_spec(its: Its) -> None:
    codec = XmlCodec(specs.load("itslearning"))
    sent = its.raw_send(XML_SEND, "text/xml; charset=utf-8")
    assert sent.status_code == 201, sent.text
    path = httpx.URL(sent.headers["location"]).path

    as_xml = its.get(path, RECIPIENT, accept="application/xml")
    assert as_xml.headers["content-type"] == "application/xml"
    assert as_xml.content.lstrip().startswith(b"<Message ")
    assert codec.problems(as_xml.content, "Message") == []
    assert codec.loads(as_xml.content, "Message") == its.get(path, RECIPIENT).json()

    found = its.http.get(SEARCH, params={"searchText": "Rita"}, headers=auth(SENDER) | {"accept": "text/xml"})
    assert [p["PersonId"] for p in codec.loads(found.content, "ArrayOfPersonSimple")] == [1002]

    error = its.raw_send(b"<MessageToSend/>", "application/xml")
    assert error.status_code == 400 and error.json()["Message"] == "The request is invalid."
    headers = auth(SENDER) | {"content-type": "application/json", "accept": "text/xml"}
    as_xml_error = its.http.post(SEND, content=b"{", headers=headers)
    assert codec.loads(as_xml_error.content, "ApiError")["Message"] == "The request is invalid."


def test_preview_text_strips_html_and_cuts_at_100_characters() -> None:
    html = "<div>Dear&nbsp;class,<br/>read <i>this</i> &amp; that</div>"
    assert itslearning.preview(html) == "Dear class, read this & that"
    assert itslearning.preview("&lt;b&gt; stays text") == "<b> stays text"
    assert itslearning.preview("x" * 150) == "x" * 100
    assert itslearning.preview(None) is None


def test_every_app_has_its_own_state() -> None:
    with running_servers(["itslearning"]) as first, running_servers(["itslearning"]) as second:
        a, b = Its(first.base_urls["itslearning"]), Its(second.base_urls["itslearning"])
        path = a.sent()
        assert a.get(path).status_code == 200
        assert b.get(path).status_code == 404


# --- faults and variants: each one changes what its entry says -----------------------------

check = FaultChecks("itslearning")


def message_id(path: str) -> int:
    return int(path.split("/")[-2])


@check("send-200")
def _(s: Its) -> None:
    response = s.send()
    assert response.status_code == 200 and "location" in response.headers


@check("send-no-location")
def _(s: Its) -> None:
    response = s.send()
    assert response.status_code == 201 and "location" not in response.headers


@check("location-wrong-id")
def _(s: Its) -> None:
    location = httpx.URL(s.send().headers["location"]).path
    assert s.get(location).status_code == 404


@check("send-rejects-text-json")
def _(s: Its) -> None:
    assert s.raw_send(b'{"ToPersonIds":[1002]}', "text/json").status_code == 415
    assert s.raw_send(b'{"ToPersonIds":[1002]}', "application/json").status_code == 201


@check("reply-null-rejected")
def _(s: Its) -> None:
    assert s.send(ReplyToMessageId=None).status_code == 400
    assert s.send().status_code == 201


@check("outsider-403")
def _(s: Its) -> None:
    assert s.get(s.sent(), OUTSIDER).status_code == 403
    assert s.get("/restapi/personal/messages/999999/v1", OUTSIDER).status_code == 404


@check("no-access-check")
def _(s: Its) -> None:
    response = s.get(s.sent(Subject="secret"), OUTSIDER)
    assert response.status_code == 200 and response.json()["Subject"] == "secret"


@check("messageid-as-string")
def _(s: Its) -> None:
    assert isinstance(s.get(s.sent()).json()["MessageId"], str)


@check("date-local-offset")
def _(s: Its) -> None:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+02:00", s.get(s.sent()).json()["DateReceived"])


@check("get-text-plain")
def _(s: Its) -> None:
    response = s.get(s.sent())
    assert response.headers["content-type"].startswith("text/plain")
    assert response.json()["To"]


@check("has-attachments-true")
def _(s: Its) -> None:
    message = s.get(s.sent()).json()
    assert message["HasAttachments"] is True and message["Attachments"] == []


@check("500-on-malformed")
def _(s: Its) -> None:
    assert s.raw_send(b"{", "application/json").status_code == 500
    assert s.send(ToPersonIds=["x"]).status_code == 500
    assert s.send(ToPersonIds=[]).status_code == 400  # well-formed, just no recipient


@check("lenient-types")
def _(s: Its) -> None:
    assert s.send(ToPersonIds=[1003, "x"], Subject=7).status_code == 201
    assert s.raw_send(b"{", "application/json").status_code == 201
    assert s.send(ToPersonIds="nobody").status_code == 201


@check("binder-leniency")
def _(s: Its) -> None:
    ns = b'xmlns="http://schemas.datacontract.org/2004/07/Itslearning.RestApi.Entities"'
    arrays = b'xmlns:a="http://schemas.microsoft.com/2003/10/Serialization/Arrays"'
    assert s.send(ToPersonIds=["1002"], ReplyToMessageId="", Subject=7).status_code == 201
    assert s.send(ToPersonIds=[1002.0]).status_code == 201
    text_in_wrapper = (b"<MessageToSend " + ns + b"><BccPersonIds>AAA</BccPersonIds><ToPersonIds " + arrays
                       + b"><a:int>1002</a:int></ToPersonIds></MessageToSend>")
    assert s.raw_send(text_in_wrapper, "application/xml").status_code == 201
    out_of_order = (b"<MessageToSend " + ns + b"><Text>x</Text><ReplyToMessageId>abc</ReplyToMessageId><ToPersonIds "
                    + arrays + b"><a:int>1002</a:int></ToPersonIds></MessageToSend>")
    assert s.raw_send(out_of_order, "application/xml").status_code == 201  # DataContract skips it
    assert s.send(ToPersonIds="abc").status_code == 400  # unconvertible leaves are refused
    assert s.send(ReplyToMessageId="abc").status_code == 400
    in_order = b"<MessageToSend " + ns + b"><ReplyToMessageId>abc</ReplyToMessageId></MessageToSend>"
    assert s.raw_send(in_order, "application/xml").status_code == 400


@check("bad-input-422")
def _(s: Its) -> None:
    assert s.send(ToPersonIds=[]).status_code == 422
    assert s.raw_send(b"{", "application/json").status_code == 422


@check("error-body-text")
def _(s: Its) -> None:
    invalid = s.send(ToPersonIds=[])
    assert invalid.status_code == 400 and invalid.headers["content-type"].startswith("text/plain")
    assert "invalid" in invalid.text
    assert s.get("/restapi/personal/messages/1/v1", "nobody").headers["content-type"].startswith("text/plain")


@check("auth-ignored")
def _(s: Its) -> None:
    assert s.http.post(SEND, json={"ToPersonIds": [1002]}).status_code == 201
    assert s.http.get(s.sent(), headers=auth("wrong")).status_code == 200


@check("relative-location")
def _(s: Its) -> None:
    location = s.send().headers["location"]
    assert re.fullmatch(r"/restapi/personal/messages/\d+/v1", location)
    assert s.get(location).status_code == 200


@check("large-ids")
def _(s: Its) -> None:
    first, second = message_id(s.sent()), message_id(s.sent())
    assert min(first, second) > 2**32 and second != first + 1


@check("charset-params")
def _(s: Its) -> None:
    assert s.get(s.sent(), accept="text/json").headers["content-type"] == "text/json; charset=utf-8"
    assert s.send(ToPersonIds=[]).headers["content-type"] == "application/json; charset=utf-8"
    assert s.get(s.sent(), accept="application/xml").headers["content-type"] == "application/xml; charset=utf-8"


@check("extra-headers")
def _(s: Its) -> None:
    headers = s.get(s.sent()).headers
    assert headers.get("server") == "Microsoft-IIS/10.0" and headers.get("x-powered-by") == "ASP.NET"
    assert headers.get("x-aspnet-version") and headers.get("cache-control") == "no-cache"


@check("empty-404-body")
def _(s: Its) -> None:
    response = s.get(s.sent(), OUTSIDER)
    assert response.status_code == 404 and response.content == b""


@check("put-delete")
def _(s: Its) -> None:
    path = s.sent()
    assert s.http.put(path, json={"IsRead": False}, headers=auth(SENDER)).status_code == 204
    assert s.get(path).json()["IsRead"] is False
    assert s.http.put(path, json={"IsRead": "yes"}, headers=auth(SENDER)).status_code == 400
    assert s.http.put(path, json={"IsRead": True}, headers=auth(OUTSIDER)).status_code == 404
    assert s.http.delete(path, headers=auth(SENDER)).status_code == 204
    assert s.http.request("PATCH", path, headers=auth(SENDER)).headers["allow"] == "GET, PUT, DELETE"


@check("reply-unknown-404")
def _(s: Its) -> None:
    assert s.send(OUTSIDER, ReplyToMessageId=message_id(s.sent())).status_code == 404


@check("get-marks-read")
def _(s: Its) -> None:
    path = s.sent(BccPersonIds=[1003])
    assert s.get(path, RECIPIENT).json()["IsRead"] is True
    assert s.get(path, BCC).json()["IsRead"] is True


# --- XML faults and variants ----------------------------------------------------------------

ENTITY_SEND = XML_SEND.replace(b"<MessageToSend ", b'<!DOCTYPE MessageToSend [<!ENTITY c "canary-text">]>\n<MessageToSend ', 1).replace(
    b"In XML &amp; more", b"entity &c;"
)


def as_xml(s: Its) -> httpx.Response:
    return s.get(s.sent(), accept="application/xml")


@check("send-rejects-xml")
def _(s: Its) -> None:
    assert s.raw_send(XML_SEND, "application/xml").status_code == 415


@check("xml-served-as-json")
def _(s: Its) -> None:
    assert as_xml(s).headers["content-type"].startswith("application/json")


@check("xml-root-namespace")
def _(s: Its) -> None:
    assert b'<Message xmlns="http://schemas.datacontract.org/2004/07/Itslearning.RestApi.Entities"' in as_xml(s).content


@check("xml-alphabetical")
def _(s: Its) -> None:
    body = as_xml(s).content
    assert body.index(b"<Attachments") < body.index(b"<ContentUrl")


@check("xml-omit-nil")
def _(s: Its) -> None:
    body = as_xml(s).content
    assert b"LastRepliedDateTime" not in body and b"nil=" not in body


@check("xml-subject-truncated")
def _(s: Its) -> None:
    path = s.sent(Subject="A subject longer than twenty characters")
    assert b"<Subject>A subject longer tha</Subject>" in s.get(path, accept="application/xml").content


@check("xxe-expanded")
def _(s: Its) -> None:
    sent = s.raw_send(ENTITY_SEND, "application/xml")
    assert sent.status_code == 201
    assert s.get(httpx.URL(sent.headers["location"]).path).json()["Subject"] == "entity canary-text"


@check("entity-bomb-slow")
def _(s: Its) -> None:
    many = b"".join(b'<!ENTITY e%d "x">' % i for i in range(6))
    started = time.monotonic()
    answer = s.raw_send(XML_SEND.replace(b"<MessageToSend ", b"<!DOCTYPE MessageToSend [" + many + b"]><MessageToSend ", 1),
                        "application/xml")
    assert answer.status_code == 400 and time.monotonic() - started >= itslearning.BOMB_DELAY


@check("xml-etree-style")
def _(s: Its) -> None:
    body = as_xml(s).content
    assert b"xmlns:xsi=" in body and b"\n" not in body  # ElementTree names the prefix xsi, not i


@check("xml-compact")
def _(s: Its) -> None:
    assert b"\n" not in as_xml(s).content.strip()


@check("xml-declaration")
def _(s: Its) -> None:
    assert as_xml(s).content.startswith(b"<?xml ")


@check("xml-dtd-ignored")
def _(s: Its) -> None:
    sent = s.raw_send(ENTITY_SEND, "application/xml")
    assert sent.status_code == 201
    assert s.get(httpx.URL(sent.headers["location"]).path).json()["Subject"] == "entity "


# --- scenario faults and variants -------------------------------------------------------------


def views_after(s: Its, field: str = "ReplyToMessageId", to: int = 1001) -> tuple[dict, dict]:
    """The recipient replies to (or forwards) a new message: (the recipient's, the sender's) view of it."""
    path = s.sent()
    assert s.send(RECIPIENT, ToPersonIds=[to], **{field: message_id(path)}).status_code == 201
    return s.get(path, RECIPIENT).json(), s.get(path, SENDER).json()


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def searched(s: Its, text: str) -> httpx.Response:
    return s.http.get(SEARCH, params={"searchText": text}, headers=auth(SENDER))


@check("recipient-cannot-read")
def _(s: Its) -> None:
    path = s.sent(BccPersonIds=[1003])
    assert s.get(path, RECIPIENT).status_code == 404
    assert s.get(path, BCC).status_code == 200 and s.get(path).status_code == 200


@check("bcc-cannot-read")
def _(s: Its) -> None:
    path = s.sent(BccPersonIds=[1003])
    assert s.get(path, BCC).status_code == 404
    assert s.get(path, RECIPIENT).status_code == 200


@check("from-is-viewer")
def _(s: Its) -> None:
    path = s.sent()
    assert s.get(path, RECIPIENT).json()["From"]["PersonId"] == 1002
    assert s.get(path).json()["From"]["PersonId"] == 1001


@check("to-empty")
def _(s: Its) -> None:
    assert s.get(s.sent(), RECIPIENT).json()["To"] == []


@check("bcc-leak")
def _(s: Its) -> None:
    path = s.sent(BccPersonIds=[1003])
    assert [p["PersonId"] for p in s.get(path, RECIPIENT).json()["To"]] == [1002, 1003]
    assert b"<PersonId>1003</PersonId>" in s.get(path, RECIPIENT, accept="application/xml").content


@check("unknown-id-400")
def _(s: Its) -> None:
    path = s.sent()
    assert s.get(f"/restapi/personal/messages/{-message_id(path)}/v1").status_code == 400
    assert s.get(path, OUTSIDER).status_code == 404  # an existing message stays 404 for others


@check("reply-rejected")
def _(s: Its) -> None:
    original = message_id(s.sent())
    assert s.send(RECIPIENT, ToPersonIds=[1001], ReplyToMessageId=original).status_code == 400
    assert s.send(RECIPIENT, ToPersonIds=[1003], ForwardToMessageId=original).status_code == 201


@check("forward-rejected")
def _(s: Its) -> None:
    original = message_id(s.sent())
    assert s.send(RECIPIENT, ToPersonIds=[1003], ForwardToMessageId=original).status_code == 400
    assert s.send(RECIPIENT, ToPersonIds=[1001], ReplyToMessageId=original).status_code == 201


@check("reply-flag-missing")
def _(s: Its) -> None:
    mine, _ = views_after(s)
    assert mine["IsReplied"] is False and UTC_DATE.match(mine["LastRepliedDateTime"])


@check("reply-flags-wrong-view")
def _(s: Its) -> None:
    mine, theirs = views_after(s)
    assert (mine["IsReplied"], mine["LastRepliedDateTime"]) == (False, None)
    assert theirs["IsReplied"] is True and theirs["LastRepliedDateTime"]


@check("reply-date-shifted")
def _(s: Its) -> None:
    mine, _ = views_after(s)
    assert instant(mine["LastRepliedDateTime"]) < instant(mine["DateReceived"])


@check("reply-sets-forwarded")
def _(s: Its) -> None:
    mine, _ = views_after(s)
    assert mine["IsReplied"] is True and mine["IsForwarded"] is True and mine["LastForwardedDateTime"]


@check("reply-not-delivered")
def _(s: Its) -> None:
    original = message_id(s.sent())
    reply = s.send(RECIPIENT, ToPersonIds=[1001], ReplyToMessageId=original)
    path = httpx.URL(reply.headers["location"]).path
    assert s.get(path, SENDER).status_code == 404
    assert s.get(path, RECIPIENT).status_code == 200  # its own sender still sees it
    assert s.get(s.sent(), RECIPIENT).status_code == 200  # messages that are not replies arrive


@check("forward-flag-missing")
def _(s: Its) -> None:
    mine, _ = views_after(s, "ForwardToMessageId", 1003)
    assert (mine["IsForwarded"], mine["LastForwardedDateTime"]) == (False, None)


@check("forward-sets-replied")
def _(s: Its) -> None:
    mine, _ = views_after(s, "ForwardToMessageId", 1003)
    assert mine["IsForwarded"] is True and mine["IsReplied"] is True and mine["LastRepliedDateTime"]


@check("last-dates-local-offset")
def _(s: Its) -> None:
    mine, _ = views_after(s)
    assert mine["LastRepliedDateTime"].endswith("+02:00") and UTC_DATE.match(mine["DateReceived"])


@check("preview-keeps-html")
def _(s: Its) -> None:
    assert s.get(s.sent(Text="<b>bold</b> &amp; more")).json()["PreviewText"] == "<b>bold</b> &amp; more"


@check("search-ignores-min-length")
def _(s: Its) -> None:
    short = searched(s, "Ri")
    assert short.status_code == 200 and {p["PersonId"] for p in short.json()} == {1002, 1006}
    assert searched(s, "").status_code == 400


@check("search-whole-name-only")
def _(s: Its) -> None:
    assert searched(s, "Rita").json() == []
    assert [p["PersonId"] for p in searched(s, "rita recipient").json()] == [1002]


@check("flags-shared")
def _(s: Its) -> None:
    mine, theirs = views_after(s)
    assert mine["IsReplied"] is True and theirs["IsReplied"] is True


@check("preview-entities-removed")
def _(s: Its) -> None:
    preview = s.get(s.sent(Text="<p>Tom&nbsp;&amp;&nbsp;Jerry</p>" + " word" * 20)).json()["PreviewText"]
    assert preview == ("TomJerry" + " word" * 20)[:40] + "..."


@check("small-body-limit")
def _(s: Its) -> None:
    assert s.send(Subject="[msgconform] long " + "x" * 2000).status_code == 413
    assert s.send(Subject="[msgconform] short").status_code == 201


(
    test_every_itslearning_fault_and_variant_has_a_check,
    test_fault_or_variant_changes_what_it_says,
    test_the_faithful_server_does_not_show_it,
) = check.tests("its")
