from __future__ import annotations

from typing import Any

from flask_jwt_extended import jwt_required

from ..http import load_body, load_query, me, services
from ..schemas.inputs import RoomCreateIn, RoomJoinIn, RoomListQuery
from ..schemas.outputs import members_out, room_out, rooms_out
from . import bp


@bp.get("")
@jwt_required()
def list_rooms() -> Any:
    scope = load_query(RoomListQuery())["scope"]
    return {"rooms": rooms_out.dump(services().rooms.listing(me(), scope))}


@bp.post("")
@jwt_required()
def create_room() -> Any:
    return room_out.dump(services().rooms.create(me(), **load_body(RoomCreateIn()))), 201


@bp.get("/<room_id>")
@jwt_required()
def get_room(room_id: str) -> Any:
    return room_out.dump(services().rooms.get(me(), room_id))


@bp.post("/<room_id>/join")
@jwt_required()
def join_room(room_id: str) -> Any:
    room, _ = services().rooms.join(me(), room_id, **load_body(RoomJoinIn()))
    return room_out.dump(room)


@bp.post("/<room_id>/leave")
@jwt_required()
def leave_room(room_id: str) -> Any:
    services().rooms.leave(me(), room_id)
    return "", 204


@bp.get("/<room_id>/members")
@jwt_required()
def list_members(room_id: str) -> Any:
    return {"members": members_out.dump(services().rooms.members(me(), room_id))}
