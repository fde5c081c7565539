"""The Socket.IO contract of the /chat namespace: every event, its payload and its ack.

The namespace validates each client event's payload with its schema here and shapes its
acknowledgement with the ack schema; the publisher shapes each server event with its
payload schema. The AsyncAPI document (`/asyncapi.json`) is generated from these
tables, so an event cannot drift from its documentation.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, fields

from .inputs import (
    MessageRef,
    RoomRef,
    SocketEditIn,
    SocketFetchIn,
    SocketJoinIn,
    SocketMessageIn,
    SocketReadIn,
    SocketTypingIn,
)
from .legacy import (
    LegacyMessageOut,
    LegacySocketDeleteIn,
    LegacySocketJoinIn,
    LegacySocketMessageIn,
    LegacySocketRoomIn,
)
from .outputs import (
    ErrorOut,
    MessageOut,
    OnlineOut,
    PageOut,
    PublicRoomOut,
    PublicUserOut,
    ReadStateOut,
    RoomOut,
)

# -- acknowledgements -------------------------------------------------------------


class Ack(Schema):
    ok = fields.Boolean(required=True, metadata={"enum": [True]})


class FailedAck(Schema):
    """Every event's failure: `{ok: false, error}`, also sent as an `error` event."""

    ok = fields.Boolean(required=True, metadata={"enum": [False]})
    error = fields.Nested(ErrorOut, required=True)


class JoinAck(Ack):
    room = fields.Nested(RoomOut, required=True)
    last_read_seq = fields.Integer(allow_none=True, required=True)
    messages = fields.List(fields.Nested(MessageOut), required=True)
    has_more = fields.Boolean(required=True)


class LeaveAck(Ack):
    room_id = fields.String(required=True)


class MessageAck(Ack):
    message = fields.Nested(MessageOut, required=True)
    created = fields.Boolean(
        required=True, metadata={"description": "False when `client_id` repeated a post."}
    )


class MessageResultAck(Ack):
    message = fields.Nested(MessageOut, required=True)


class PageAck(Ack, PageOut):
    pass


class OnlineAck(Ack, OnlineOut):
    pass


class ReadAck(Ack, ReadStateOut):
    pass


class TypingAck(Ack):
    room_id = fields.String(required=True)
    typing = fields.Boolean(required=True)


# -- server events ----------------------------------------------------------------


class MessageDeletedEvent(Schema):
    room_id = fields.String(required=True)
    message_id = fields.String(required=True)
    seq = fields.Integer(required=True)


class MembershipEvent(Schema):
    room_id = fields.String(required=True)
    user = fields.Nested(PublicUserOut, required=True)


class MemberUpdatedEvent(MembershipEvent):
    role = fields.String(required=True, metadata={"enum": ["owner", "admin", "member"]})


class RoomUpdatedEvent(Schema):
    room_id = fields.String(required=True)
    room = fields.Nested(PublicRoomOut, required=True)


class RoomDeletedEvent(Schema):
    room_id = fields.String(required=True)


class TypingEvent(Schema):
    room_id = fields.String(required=True)
    user = fields.Nested(PublicUserOut, required=True)
    typing = fields.Boolean(
        required=True, metadata={"description": "false: stopped, left, or 5 s without renewal"}
    )


class ReadEvent(Schema):
    room_id = fields.String(required=True)
    user_id = fields.String(required=True)
    seq = fields.Integer(required=True, metadata={"description": "Their marker now."})


class PresenceEvent(Schema):
    user_id = fields.String(required=True)
    online = fields.Boolean(required=True)
    last_seen = fields.DateTime(
        format="iso",
        allow_none=True,
        required=True,
        metadata={"description": "When they last went offline (now, if they just did)."},
    )


class NotificationEvent(Schema):
    room_id = fields.String(required=True)
    message = fields.Nested(MessageOut, required=True)


class ErrorEvent(ErrorOut):
    event = fields.String(required=True, metadata={"description": "The event that failed."})


# -- the tables -------------------------------------------------------------------


@functools.cache
def shared(schema: type[Schema]) -> Schema:
    """One instance per schema class, made once: building a schema deep-copies its
    fields, and per event that was a tenth of the server's time (marshmallow 4
    schemas keep no per-call state; the viewer is a context variable)."""
    return schema()


@dataclass(frozen=True)
class ClientEvent:
    name: str
    payload: type[Schema]
    ack: type[Schema]
    summary: str

    def load(self, data: Any) -> dict[str, Any]:
        loaded: dict[str, Any] = shared(self.payload).load(data)
        return loaded

    def dump_ack(self, ack: dict[str, Any]) -> dict[str, Any]:
        dumped: dict[str, Any] = shared(self.ack).dump(ack)
        return dumped


@dataclass(frozen=True)
class ServerEvent:
    name: str
    payload: type[Schema]
    summary: str
    to: str

    def dump(self, data: Any) -> dict[str, Any]:
        dumped: dict[str, Any] = shared(self.payload).dump(data)
        return dumped


CLIENT_EVENTS = {
    event.name: event
    for event in [
        ClientEvent(
            "join",
            SocketJoinIn,
            JoinAck,
            "Watch a room live (joining it if public) and get what was missed: the "
            "messages after `after_seq`, else the latest 50.",
        ),
        ClientEvent("leave", RoomRef, LeaveAck, "Stop watching a room; the membership stays."),
        ClientEvent(
            "message",
            SocketMessageIn,
            MessageAck,
            "Post a message; acknowledged once stored, then broadcast as `new_message`.",
        ),
        ClientEvent(
            "delete_message",
            MessageRef,
            MessageResultAck,
            "Delete a message (its author or a room admin); it stays as a tombstone.",
        ),
        ClientEvent(
            "edit_message",
            SocketEditIn,
            MessageResultAck,
            "Edit your message (not a tombstone); broadcast as `message_edited`.",
        ),
        ClientEvent(
            "typing",
            SocketTypingIn,
            TypingAck,
            "Tell the room you are (or stopped) typing; `true` lapses after 5 s unrenewed.",
        ),
        ClientEvent(
            "read",
            SocketReadIn,
            ReadAck,
            "Move your read marker forward (a seq past the last is the last).",
        ),
        ClientEvent("fetch", SocketFetchIn, PageAck, "A page of history, as REST."),
        ClientEvent("online", RoomRef, OnlineAck, "Members connected now and watching."),
    ]
}

ROOM = "the sockets watching the room"

SERVER_EVENTS = {
    event.name: event
    for event in [
        ServerEvent("new_message", MessageOut, "A message was posted.", ROOM),
        ServerEvent("message_deleted", MessageDeletedEvent, "A message became a tombstone.", ROOM),
        ServerEvent(
            "user_joined",
            MembershipEvent,
            "Someone became a member (joined, or was invited).",
            f"{ROOM} (for an invite, also the invitee's sockets)",
        ),
        ServerEvent("user_left", MembershipEvent, "A member left.", ROOM),
        ServerEvent("message_edited", MessageOut, "A message was edited.", ROOM),
        ServerEvent(
            "typing",
            TypingEvent,
            "Someone started or stopped typing.",
            "the sockets watching the room, the typist's excepted",
        ),
        ServerEvent(
            "read",
            ReadEvent,
            "A member's read marker moved.",
            "the sockets watching the room, and the reader's own",
        ),
        ServerEvent(
            "presence",
            PresenceEvent,
            "Someone came online (first socket) or went offline (last socket closed).",
            "the online users who share a room with them",
        ),
        ServerEvent(
            "notification",
            NotificationEvent,
            "A message in a room of yours that none of your sockets watches.",
            "the members connected but not watching the room, the author aside",
        ),
        ServerEvent(
            "room_updated",
            RoomUpdatedEvent,
            "The room's settings or owner changed (an edit, a handover, a transfer).",
            f"{ROOM} and its connected members' sockets",
        ),
        ServerEvent(
            "room_deleted",
            RoomDeletedEvent,
            "The owner deleted the room; its sockets stop watching it.",
            f"{ROOM} and its connected members' sockets",
        ),
        ServerEvent(
            "member_updated",
            MemberUpdatedEvent,
            "The owner made a member an admin or a plain member.",
            f"{ROOM} and that member's sockets",
        ),
        ServerEvent(
            "member_removed",
            MembershipEvent,
            "An admin removed a member, whose sockets stop watching the room at once.",
            f"{ROOM} and the removed user's sockets",
        ),
        ServerEvent(
            "error",
            ErrorEvent,
            "A client event failed (also its `{ok: false}` ack).",
            "the socket that sent the event",
        ),
    ]
}


# -- SPEC 3.1: the original events on the default namespace `/` --------------------

LEGACY_CLIENT_EVENTS = {
    event.name: event
    for event in [
        ClientEvent(
            "join",
            LegacySocketJoinIn,
            JoinAck,
            "As /chat `join`; the room is `roomID` (or `room_id`).",
        ),
        ClientEvent("leave", LegacySocketRoomIn, LeaveAck, "As /chat `leave`."),
        ClientEvent(
            "message",
            LegacySocketMessageIn,
            MessageAck,
            "As /chat `message`; the text is `message` (or `content`).",
        ),
        ClientEvent(
            "delete_message",
            LegacySocketDeleteIn,
            MessageResultAck,
            "As /chat `delete_message`; the message is `messageID` (or `message_id`).",
        ),
    ]
}

LEGACY_SERVER_EVENTS = {
    **SERVER_EVENTS,
    "message": ServerEvent(
        "message",
        LegacyMessageOut,
        "A message was posted, in the original flat shape (also sent as `new_message`).",
        ROOM,
    ),
}
