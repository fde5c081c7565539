# `make run` and `make test` set themselves up: a fresh machine needs only Python 3.11
# (and Node.js with npm for the web client's Socket.IO script and the benchmark).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
NPM    := $(shell command -v npm)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
# npm ci writes node_modules/.package-lock.json; it is the stamp of the JavaScript install.
NODE_STAMP := $(if $(NPM),node_modules/.package-lock.json)

.PHONY: run test lint typecheck lock bench clean no-node-note

# Without npm the API still runs; the web client's page says what it lacks, and so do we.
no-node-note:
	@test -n "$(NPM)" || echo "NOTE: npm not found: the API works, but the web client at / needs \
	Node.js and npm to install its Socket.IO script (node_modules/socket.io-client). \
	Install them and run make again."

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		-r requirements.txt -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $@

node_modules/.package-lock.json: package.json package-lock.json
	$(NPM) ci --no-audit --no-fund --loglevel=error

run: $(STAMP) $(NODE_STAMP) no-node-note
	$(BIN)/python wsgi.py

test: lint typecheck $(NODE_STAMP) no-node-note
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/python -m ruff check .
	$(BIN)/python -m ruff format --check .

typecheck: $(STAMP)
	$(BIN)/python -m mypy

# Re-pin every requirement from the .in files (pip-tools); commit the .txt files it writes.
LOCK := $(BIN)/pip-compile --quiet --no-emit-index-url --no-emit-find-links --strip-extras --allow-unsafe
lock: $(STAMP)
	$(LOCK) --upgrade -o requirements.txt requirements.in
	$(LOCK) --upgrade -o requirements-dev.txt requirements-dev.in

bench: $(STAMP) $(NODE_STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache
