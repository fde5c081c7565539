from __future__ import annotations

from typing import Any

from ..domain.models import Membership, ReadState, Role, Room
from ..http import authenticated, me, services
from ..schemas.inputs import (
    InviteIn,
    ReadIn,
    RoleIn,
    RoomCreateIn,
    RoomJoinIn,
    RoomListQuery,
    RoomUpdateIn,
)
from ..schemas.outputs import (
    MemberOut,
    MembersOut,
    OnlineOut,
    ReadStateOut,
    RoomOut,
    RoomsOut,
)
from . import bp


@bp.get("")
@authenticated
@bp.arguments(RoomListQuery, location="query")
@bp.response(200, RoomsOut)
def list_rooms(query: dict[str, Any]) -> dict[str, Any]:
    """Rooms you are in (`joined`), public rooms (`public`), or both (`all`)."""
    return {"rooms": services().rooms.listing(me(), query["scope"])}


@bp.post("")
@authenticated
@bp.arguments(RoomCreateIn, as_kwargs=True)
@bp.response(201, RoomOut)
@bp.alt_response(409, "CONFLICT")
def create_room(**room: Any) -> Room:
    """Create a group room; you are its owner and first member."""
    return services().rooms.create(me(), **room)


@bp.get("/<room_id>")
@authenticated
@bp.response(200, RoomOut)
def get_room(room_id: str) -> Room:
    """Public rooms to anyone signed in; private ones to members only (404 to others)."""
    return services().rooms.get(me(), room_id)


@bp.post("/<room_id>/join")
@authenticated
@bp.arguments(RoomJoinIn, required=False, as_kwargs=True)
@bp.response(200, RoomOut)
@bp.alt_response(403, "FORBIDDEN")
def join_room(room_id: str, **join: Any) -> Room:
    """Become a member of a public room (with its password, if it has one)."""
    room, _ = services().rooms.join(me(), room_id, **join)
    return room


@bp.post("/<room_id>/leave")
@authenticated
@bp.response(204)
@bp.alt_response(403, "FORBIDDEN")
@bp.alt_response(409, "CONFLICT")
def leave_room(room_id: str) -> None:
    """Stop being a member; an owner's room passes to the next in line."""
    services().rooms.leave(me(), room_id)


@bp.get("/<room_id>/members")
@authenticated
@bp.response(200, MembersOut)
@bp.alt_response(403, "FORBIDDEN")
def list_members(room_id: str) -> dict[str, Any]:
    return {"members": services().rooms.members(me(), room_id)}


# -- moderation (issue 6) -----------------------------------------------------------


@bp.patch("/<room_id>")
@authenticated
@bp.arguments(RoomUpdateIn, required=False)
@bp.response(200, RoomOut)
@bp.alt_response(403, "FORBIDDEN")
@bp.alt_response(409, "CONFLICT")
def update_room(changes: dict[str, Any], room_id: str) -> Room:
    """Change a room's settings (owners and admins).

    Name (unique ignoring case), description, visibility, and the password (a string
    sets or changes it, null removes it). Announced as `room_updated`."""
    return services().rooms.update(me(), room_id, changes)


@bp.delete("/<room_id>")
@authenticated
@bp.response(204)
@bp.alt_response(403, "FORBIDDEN")
@bp.alt_response(409, "CONFLICT")
def delete_room(room_id: str) -> None:
    """Delete a room and its whole history (the owner).

    Announced as `room_deleted`; every socket stops watching it."""
    services().rooms.delete(me(), room_id)


@bp.post("/<room_id>/members")
@authenticated
@bp.arguments(InviteIn, as_kwargs=True)
@bp.response(201, MemberOut)
@bp.alt_response(200, schema=MemberOut, description="Already a member.")
@bp.alt_response(403, "FORBIDDEN")
@bp.alt_response(409, "CONFLICT")
def invite_member(room_id: str, user_id: str) -> tuple[Membership, int]:
    """Invite someone into the room (owners and admins).

    The only way into a private room, and back into a room one was removed from.
    Announced as `user_joined` (to the invitee too)."""
    membership, added = services().rooms.invite(me(), room_id, user_id)
    return membership, 201 if added else 200


@bp.delete("/<room_id>/members/<user_id>")
@authenticated
@bp.response(204)
@bp.alt_response(403, "FORBIDDEN")
@bp.alt_response(409, "CONFLICT")
def remove_member(room_id: str, user_id: str) -> None:
    """Remove a member (admins; the owner removes admins too).

    Nobody removes the owner or an equal. The removed user cannot rejoin a public room until
    invited again, and their sockets stop receiving the room at once (`member_removed`)."""
    services().rooms.remove(me(), room_id, user_id)


@bp.patch("/<room_id>/members/<user_id>")
@authenticated
@bp.arguments(RoleIn, as_kwargs=True)
@bp.response(200, MemberOut)
@bp.alt_response(403, "FORBIDDEN")
@bp.alt_response(409, "CONFLICT")
def set_member_role(room_id: str, user_id: str, role: Role) -> Membership:
    """Set a member's role (the owner).

    `owner` hands the room over: the former owner becomes an admin, and `room_updated`
    announces it."""
    return services().rooms.set_role(me(), room_id, user_id, role)


# -- read markers and who is here (issue 7) ----------------------------------------


@bp.post("/<room_id>/read")
@authenticated
@bp.arguments(ReadIn, as_kwargs=True)
@bp.response(200, ReadStateOut)
@bp.alt_response(403, "FORBIDDEN")
def mark_read(room_id: str, seq: int) -> ReadState:
    """Move your read marker forward (never back; a seq past the last is the last)."""
    return services().messages.mark_read(me(), room_id, seq)


@bp.get("/<room_id>/online")
@authenticated
@bp.response(200, OnlineOut)
@bp.alt_response(403, "FORBIDDEN")
def online(room_id: str) -> dict[str, Any]:
    """Members connected now (on any process) and watching the room."""
    return {"room_id": room_id, "users": services().live.online(me(), room_id)}
