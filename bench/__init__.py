"""`make bench`: the chat server measured against the bare Flask-SocketIO stack."""
