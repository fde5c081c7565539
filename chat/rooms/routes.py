from __future__ import annotations

from typing import Any

from ..domain.models import Room
from ..http import authenticated, me, services
from ..schemas.inputs import RoomCreateIn, RoomJoinIn, RoomListQuery
from ..schemas.outputs import MembersOut, RoomOut, RoomsOut
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
