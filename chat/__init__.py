"""The chat server: `create_app(config)` builds one Flask app with its Socket.IO.

Importing `chat` imports nothing else: the domain and the services must load without
Flask (a test holds this), so the factory and the Socket.IO object are fetched on use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask
    from flask_socketio import SocketIO

__all__ = ["__version__", "create_app", "socketio"]
__version__ = "1.0.0"


def create_app(config: type | Mapping[str, Any] | None = None) -> Flask:
    """Build the app; `config` is a class or mapping laid over `config.Config`."""
    from .app import create_app as factory

    return factory(config)


def __getattr__(name: str) -> SocketIO:
    if name == "socketio":
        from .extensions import socketio

        return socketio
    raise AttributeError(f"module 'chat' has no attribute {name!r}")
