"""Process entry point for `make run` and gunicorn (`wsgi:app`).

Monkey-patching must happen before anything else imports socket or threading, so it
happens here, first, and nowhere else. ASYNC_MODE picks eventlet (default) or gevent.
"""

import os
import warnings

ASYNC_MODE = os.environ.get("ASYNC_MODE", "eventlet")
if ASYNC_MODE == "eventlet":
    # Eventlet announces its maintenance mode on every start; the README says it once.
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    import eventlet

    eventlet.monkey_patch()
elif ASYNC_MODE == "gevent":
    from gevent import monkey

    monkey.patch_all()
# Any other ASYNC_MODE: create_app's validation reports it with every other problem.

import sys  # noqa: E402

from chat import create_app  # noqa: E402
from chat.ops.logs import configure_logging  # noqa: E402
from config import EXIT_STATUS, ConfigError  # noqa: E402

try:
    app = create_app()
except ConfigError as error:  # one line per problem, no traceback (also for `flask`)
    print(error.report(), file=sys.stderr, flush=True)
    raise SystemExit(EXIT_STATUS) from None
configure_logging(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])

if __name__ == "__main__":
    from chat.serving import serve

    serve(app)
