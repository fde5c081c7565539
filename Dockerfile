# The chat server as an image: gunicorn running the Procfile's own command, as a
# non-root user. docker-compose.yml runs two of these behind nginx with Redis.

# Node is needed only to install the browser's Socket.IO script (the web client serves
# node_modules/socket.io-client/dist from disk); it stays in this stage.
FROM node:20-slim AS web-assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=8000
WORKDIR /app

# The pinned requirements first: this layer is rebuilt only when they change.
COPY requirements.txt ./
RUN pip install -r requirements.txt

# The code belongs to root and is read-only for the server; only the data directories
# are the server's (a named volume mounted on /data inherits that ownership).
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin chat \
    && mkdir -p /app/instance /data \
    && chown chat:chat /app/instance /data
COPY --from=web-assets /build/node_modules/socket.io-client node_modules/socket.io-client
COPY . .

USER chat
EXPOSE 8000

# slim has no curl: python's urllib. A 503 (store down) raises, so it counts as unhealthy.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8000'), timeout=4)"

# The Procfile's `web:` command itself, expanded by sh as a Procfile runner does; `exec
# env` leaves gunicorn as PID 1, so `docker stop`'s SIGTERM reaches it.
CMD ["sh", "-c", "eval \"exec env $(sed -n 's/^web: *//p' Procfile)\""]
