"""The rewrite every generated SendEMails body passes before it is sent (suites/superoffice).

The full-run proof is tests/integration/test_superoffice_live_safety.py; this pins the rules
on hostile values a generator can make."""

from __future__ import annotations

from suites.superoffice.conftest import Safe


class _Session:
    def outgoing(self, use_ssl: bool = False) -> dict:
        return {"ServerName": "sink:1", "UserName": "u", "Password": "p", "Folder": None, "UseSSL": use_ssl}


def test_connections_recipients_ids_and_headers_are_made_safe():
    generated = {
        "OutgoingConnectionInfo": {"ServerName": "smtp.gmail.com:587", "UserName": "x", "Password": "y"},
        "SentItemsConnectionInfo": {"ServerName": "imap.example.com"},
        "Emails": [{
            "To": [{"Address": "ceo@bigcorp.com", "PersonId": 17, "ContactId": "42", "EmailId": 3.0,
                    "DuplicatePersonIds": [1, 2]}],
            "Bcc": [{"Address": "x@y"}] * 5,
            "Subject": "hi\r\nBcc: victim@real.example",
            "PlainBody": "line 1\r\nline 2",
            "EMailSOInfo": {"DocumentId": 5}, "InReplyTo": {"ServerId": 9}, "EmailItemId": 12, "AccountId": -4,
            "CustomHeaderList": [{"Name": "Bcc", "Values": ["a\nb"]}],
        }],
    }
    safe = Safe(_Session()).request(generated)
    assert safe["OutgoingConnectionInfo"] == _Session().outgoing()
    assert safe["SentItemsConnectionInfo"] is None
    [email] = safe["Emails"]
    [to] = email["To"]
    assert to["Address"].startswith("msgconform+F") and to["Address"].endswith("@example.test")
    assert (to["PersonId"], to["ContactId"], to["EmailId"], to["DuplicatePersonIds"]) == (0, 0, 0, None)
    assert len(email["Bcc"]) == 3  # lists bounded
    assert "\r" not in email["Subject"] and "\n" not in email["Subject"]
    assert email["PlainBody"] == "line 1\r\nline 2"  # bodies are not header lines
    assert email["EMailSOInfo"] is None and email["InReplyTo"] is None
    assert email["EmailItemId"] == 0 and email["AccountId"] == -4  # -4 names no record
    [header] = email["CustomHeaderList"]
    assert header["Name"] == "X-Msgconform-Bcc" and header["Values"] == ["a b"]


def test_a_body_without_connection_info_gets_the_sink():
    assert Safe(_Session()).request({})["OutgoingConnectionInfo"]["ServerName"] == "sink:1"
    assert Safe(_Session()).request([1, 2]) == [1, 2]
