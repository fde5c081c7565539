"""Gunicorn's settings, read from the working directory whatever the command line.

The Procfile's command stays `gunicorn --worker-class ... --workers 1 --bind ...
wsgi:app`; what it does not say is here, from the same settings as `make run`
(config.py, README Configuration).
"""

import math
from typing import Any

from config import Config  # settings only: `chat` must not load before the monkey-patching

# One worker holds every socket: up to MAX_CONNECTIONS connections (greenthreads).
worker_connections = Config.MAX_CONNECTIONS
# Async workers read each request head under this many seconds (slowloris, idle).
keepalive = math.ceil(Config.REQUEST_HEADER_TIMEOUT)  # whole seconds only
# After SIGTERM: the worker stops accepting and gets this long for what is in flight.
graceful_timeout = math.ceil(Config.SHUTDOWN_TIMEOUT)
backlog = 4096


def on_starting(server: Any) -> None:
    """Raise the open-files limit in the master: the worker it forks inherits it.

    As chat/serving/fdlimit.py does for `make run`; importing it from here would
    import the app before gunicorn's worker monkey-patches.
    """
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    server.log.info("open-files limit %d", resource.getrlimit(resource.RLIMIT_NOFILE)[0])


def post_worker_init(worker: Any) -> None:
    """On SIGTERM, close the sockets' sessions too, so the worker's wait can end."""
    from chat.serving.shutdown import on_sigterm_in_gunicorn

    on_sigterm_in_gunicorn(worker)
