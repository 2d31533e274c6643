"""itslearning's entities (MessageToSend, Message, PersonSimple, Attachment, ApiError).

These mirror the component schemas of `specs/itslearning.yaml`, which stay the contract:
names are the wire names, a field is `X | None` exactly where the spec allows null (.NET
reference types and `Nullable<T>`), and a field is required exactly where the spec says so
(only ApiError.Message). tests/unit/test_itslearning_models.py holds the two together.

Absent and null are different things on the wire. A field the spec does not allow to be
null (a .NET value type such as MessageId) still need not be present, because the document
marks nothing required: such a field defaults to None when absent, and a null value is
rejected. `model_fields_set` tells what a body really contained; dump with
`exclude_unset=True` to send only what was set.

Validation is pydantic's lax mode (it accepts "1" for an integer, as Json.NET does);
judging a response body is the spec's job, not these models'.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["ApiError", "Attachment", "Message", "MessageToSend", "PersonSimple"]

# The default of a field that may be absent but not null (see the module docstring).
_ABSENT: Any = None


class _Entity(BaseModel):
    model_config = ConfigDict(extra="allow")  # vendors may add fields


class MessageToSend(_Entity):
    """What a send carries (Itslearning.RestApi.Entities.MessageToSend, seed 000)."""

    ToPersonIds: list[int] | None = None
    BccPersonIds: list[int] | None = None
    ReplyToMessageId: int | None = None
    ForwardToMessageId: int | None = None
    Subject: str | None = None
    Text: str | None = None


class PersonSimple(_Entity):
    """Basic details of a person (known from seed 003's samples only)."""

    PersonId: int = _ABSENT
    FirstName: str | None = None
    LastName: str | None = None
    FullName: str | None = None
    ProfileUrl: str | None = None
    AdditionalInfo: str | None = None
    ProfileImageUrl: str | None = None
    ProfileImageUrlSmall: str | None = None


class Attachment(_Entity):
    """An attachment of a message (known from seed 003's samples only)."""

    FileId: int = _ABSENT
    Url: str | None = None
    DisplayName: str | None = None
    FileSizeInKiloBytes: int = _ABSENT


class Message(_Entity):
    """A message as get returns it (Itslearning.RestApi.Entities.Message, seed 003).

    List items may be null because PersonSimple and Attachment are .NET reference types.
    """

    Text: str | None = None
    To: list[PersonSimple | None] | None = None
    Attachments: list[Attachment | None] | None = None
    MessageId: int = _ABSENT
    From: PersonSimple | None = None
    DateReceived: datetime = _ABSENT
    Subject: str | None = None
    PreviewText: str | None = None
    MessageUrl: str | None = None
    ContentUrl: str | None = None
    HasAttachments: bool = _ABSENT
    IsRead: bool = _ABSENT
    IsForwarded: bool = _ABSENT
    LastForwardedDateTime: datetime | None = None
    IsReplied: bool = _ABSENT
    LastRepliedDateTime: datetime | None = None


class ApiError(_Entity):
    """ASP.NET Web API's error object (HttpError); XML root `Error`."""

    Message: str
    MessageDetail: str = _ABSENT
    ModelState: dict[str, Any] = _ABSENT
