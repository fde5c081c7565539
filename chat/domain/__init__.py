"""The chat's own vocabulary: records, errors and the store interface.

Plain Python, importing nothing from Flask, sockets or a database driver, so services,
stores and the HTTP and Socket.IO faces can all name these types without depending on
each other.
"""
