"""The Socket.IO contract of the /chat namespace: every event, its payload and its ack.

The namespace validates each client event's payload with its schema here and shapes its
acknowledgement with the ack schema; the publisher shapes each server event with its
payload schema. The AsyncAPI document (`/asyncapi.json`) is generated from these
tables, so an event cannot drift from its documentation.
"""

from __future__ import annotations

from dataclasses import dataclass

from marshmallow import Schema, fields

from .inputs import MessageRef, RoomRef, SocketFetchIn, SocketJoinIn, SocketMessageIn
from .outputs import (
    ErrorOut,
    MessageOut,
    PageOut,
    PublicRoomOut,
    PublicUserOut,
    RoomOut,
    UserOut,
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


class OnlineAck(Ack):
    room_id = fields.String(required=True)
    users = fields.List(fields.Nested(UserOut), required=True)


# -- server events ----------------------------------------------------------------


class MessageDeletedEvent(Schema):
    room_id = fields.String(required=True)
    message_id = fields.String(required=True)
    seq = fields.Integer(required=True)


class MembershipEvent(Schema):
    room_id = fields.String(required=True)
    user = fields.Nested(PublicUserOut, required=True)


class RoomUpdatedEvent(Schema):
    room_id = fields.String(required=True)
    room = fields.Nested(PublicRoomOut, required=True)


class RoomDeletedEvent(Schema):
    room_id = fields.String(required=True)


class ErrorEvent(ErrorOut):
    event = fields.String(required=True, metadata={"description": "The event that failed."})


# -- the tables -------------------------------------------------------------------


@dataclass(frozen=True)
class ClientEvent:
    name: str
    payload: type[Schema]
    ack: type[Schema]
    summary: str


@dataclass(frozen=True)
class ServerEvent:
    name: str
    payload: type[Schema]
    summary: str
    to: str


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
        ServerEvent(
            "room_updated",
            RoomUpdatedEvent,
            "The room's settings or owner changed (an edit, a handover, a transfer).",
            ROOM,
        ),
        ServerEvent(
            "room_deleted",
            RoomDeletedEvent,
            "The owner deleted the room; its sockets stop watching it.",
            ROOM,
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
