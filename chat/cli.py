"""Operator commands: `flask --app wsgi chat <command>`.

Each is a thin face like a route: it finds what it names, calls one service function
(the same rules as the API, minus the acting user's permissions: the operator has the
machine), and says what it did in one line. Passwords are prompted for, never taken
from the command line (they would land in shell history).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from .domain.errors import ChatError
from .domain.models import Message, User
from .schemas.outputs import MessageOut
from .schemas.viewer import viewing_as
from .services import Services

chat_cli = AppGroup("chat", help="Operate the chat server: accounts, rooms, backups.")


def _services() -> Services:
    services: Services = current_app.extensions["chat"]
    return services


def _user(username: str) -> User:
    user = _services().store.get_user_by_login(username)
    if user is None:
        raise click.ClickException(f"no user named {username!r}")
    return user


def _run(action: Any) -> Any:
    """Domain refusals become a one-line error and exit status 1."""
    try:
        return action()
    except ChatError as error:
        detail = f" {error.errors}" if error.errors else ""
        raise click.ClickException(f"{error.message}{detail}") from error


def _password(prompt: str) -> str:
    return str(click.prompt(prompt, hide_input=True, confirmation_prompt=True))


@chat_cli.command("create-user")
@click.argument("username")
@click.option("--email", default=None, help="Their email (marked verified).")
@click.option("--display-name", default=None)
def create_user(username: str, email: str | None, display_name: str | None) -> None:
    """Create an account; the password is prompted for."""
    from .schemas.inputs import RegisterIn

    password = _password("Password")
    data = RegisterIn().load(
        {"username": username, "password": password, "email": email, "display_name": display_name}
    )
    user = _run(lambda: _services().accounts.create_verified(**data))
    click.echo(f"created user {user.username} ({user.id})")


@chat_cli.command("reset-password")
@click.argument("username")
def reset_password(username: str) -> None:
    """Set a new password (prompted for) and sign the user out everywhere."""
    from .schemas.fields import password as password_field

    user = _user(username)
    new = password_field().deserialize(_password("New password"))
    _run(lambda: _services().accounts.reset_password(user, new))
    click.echo(f"password of {user.username} reset; every session of theirs has ended")


@chat_cli.command("promote")
@click.argument("username")
@click.argument("room_id")
def promote(username: str, room_id: str) -> None:
    """Make USERNAME the owner of room ROOM_ID (the current owner becomes an admin)."""
    user = _user(username)
    room = _run(lambda: _services().rooms.appoint_owner(room_id, user.id))
    click.echo(f"{user.username} now owns room {room.name} ({room.id})")


@chat_cli.command("delete-user")
@click.argument("username")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def delete_user(username: str, yes: bool) -> None:
    """Delete an account as its owner could: sessions ended, rooms passed on, the name
    freed, messages kept under a deleted account."""
    user = _user(username)
    if not yes:
        click.confirm(f"Delete the account {user.username} ({user.id})?", abort=True)
    _run(lambda: _services().accounts.close_account(user))
    click.echo(f"deleted the account {username}")


@chat_cli.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def backup(target: Path) -> None:
    """Copy the SQLite database to TARGET, safely while the server runs."""
    if target.exists():
        raise click.ClickException(f"{target} exists; choose a new file")
    try:
        _services().store.backup(str(target))
    except NotImplementedError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"backed up to {target} ({target.stat().st_size} bytes)")


@chat_cli.command("export-room")
@click.argument("room_id")
@click.option(
    "--output", "-o", type=click.File("w", encoding="utf-8"), default="-", show_default=True
)
def export_room(room_id: str, output: Any) -> None:
    """Write a room's history as JSON Lines, one message per line, oldest first."""
    count = 0
    schema = MessageOut()
    with viewing_as(None):
        for message in _run(lambda: list(_history(room_id))):
            output.write(json.dumps(schema.dump(message), ensure_ascii=False) + "\n")
            count += 1
    click.echo(f"exported {count} messages of room {room_id}", err=True)


def _history(room_id: str) -> Iterator[Message]:
    yield from _services().messages.export(room_id)


def register_cli(app: Any) -> None:
    app.cli.add_command(chat_cli)
