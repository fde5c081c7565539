"""Extensions created unbound, bound to an app in `create_app`."""

from flask_cors import CORS
from flask_jwt_extended import JWTManager
from flask_socketio import SocketIO

from .http.openapi import ChatApi, StandardRefusals

socketio = SocketIO()
jwt = JWTManager()
cors = CORS()
api = ChatApi(spec_kwargs={"extra_plugins": [StandardRefusals()]})
