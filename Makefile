# Two commands do everything: `make run` and `make test`. See README.md.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
HOST   ?= 127.0.0.1

.PHONY: run test install install-test browser assets lint lock bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Every dependency, transitive ones included, comes from a lock file with its hashes
# (requirements/, written by `make lock`); the project itself is then installed without
# dependencies. Re-install only when a lock file changes.
$(VENV)/.installed: requirements/lock.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements/lock.txt
	$(BIN)/pip install --quiet --no-deps .
	touch $@

$(VENV)/.installed-test: requirements/lock-test.txt $(VENV)/.installed
	$(BIN)/pip install --quiet --require-hashes -r requirements/lock-test.txt
	touch $@

# Rewrite the lock files from pyproject.toml after changing a pin there: runtime (lock.txt),
# runtime with the Redis scale-out (lock-redis.txt), runtime with Redis and the test tools
# (lock-test.txt). For Python 3.11 to 3.13 on any platform. Versions already in a lock file are
# kept unless pyproject.toml asks otherwise; `make lock LOCK_ARGS=--upgrade` moves every
# transitive dependency to its newest release. uv comes pinned, in a throwaway venv.
UV_VERSION := 0.13.9
LOCK_ARGS  ?=
lock:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(PYTHON) -m venv "$$tmp" && "$$tmp/bin/pip" install --quiet uv==$(UV_VERSION) && \
	compile() { "$$tmp/bin/uv" pip compile pyproject.toml --quiet --universal \
	  --python-version 3.11 --generate-hashes --custom-compile-command "make lock" \
	  $(LOCK_ARGS) "$$@"; } && \
	compile -o requirements/lock.txt && \
	compile --extra redis -o requirements/lock-redis.txt && \
	compile --extra test -o requirements/lock-test.txt && \
	echo "requirements/lock.txt, lock-redis.txt and lock-test.txt written"

install: $(VENV)/.installed assets
install-test: $(VENV)/.installed-test browser assets

# Front-end files we serve ourselves, pinned in package-lock.json: the barcode-detector polyfill
# and its zxing wasm (loaded only when a buyer taps Scan), and axe-core for the browser tests.
# They are built here rather than committed: the wasm alone is 1 MB per version.
# Without npm the site still runs: Scan then says so and the buyer types the IMEI.
VENDOR := buyer_portal/static/buyer_portal/vendor
$(VENDOR)/.copied: package.json package-lock.json
	@if ! command -v npm >/dev/null 2>&1; then \
	  echo "npm is missing: no camera scanning, and the browser tests cannot run axe-core"; \
	else \
	  npm ci --no-audit --no-fund --loglevel=error && mkdir -p $(VENDOR) && \
	  cp node_modules/barcode-detector/dist/es/ponyfill.js \
	     node_modules/barcode-detector/dist/es/zxing-exported.js \
	     node_modules/zxing-wasm/dist/reader/zxing_reader.wasm $(VENDOR)/ && \
	  touch $@; \
	fi

assets: $(VENDOR)/.copied

# Debian's Chromium for the browser tests (Playwright cannot download its own here).
browser:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "Installing Debian's chromium for the browser tests"; \
	    (apt-get install -y -qq chromium >/dev/null 2>&1 || \
	     (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)); \
	  else echo "chromium is missing and we are not root: browser tests will be skipped"; fi; \
	fi

# The last line execs one process, parent of both the web server and the worker: stopping
# `make run` (Ctrl-C, SIGTERM to its group or to make alone) stops both within 10 s
# (backoffice/management/commands/serve.py).
run: install
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createcachetable
	$(BIN)/python manage.py seed_demo
	SERVE_COLLECTED_STATIC=True $(BIN)/python manage.py collectstatic --noinput -v0
	@echo ""
	@echo "  Buyer storefront:  http://$(HOST):$(PORT)/"
	@echo "  Trade-in form:     http://$(HOST):$(PORT)/trade-in/"
	@echo "  Staff dashboard:   http://$(HOST):$(PORT)/dashboard/  (queue: /dashboard/trade-ins/)"
	@echo "  Intake bench:      http://$(HOST):$(PORT)/dashboard/intake/"
	@echo "  Logins (demo only): staff / manager / admin, password tradein-demo"
	@echo "  manager and admin then ask for a code (two-step sign-in): run"
	@echo "    $(BIN)/python manage.py demo_totp    (prints the current code)"
	@echo "  or add the demo secret TRADEINDEMOTOTPSECRETDEMOONLY234 to an authenticator app."
	@echo "  Emails to buyers are written to var/mail/ (open the quote link from there)."
	@echo ""
	SERVE_COLLECTED_STATIC=True exec $(BIN)/python manage.py serve --bind $(HOST):$(PORT) --workers 2

# Two test processes (pytest-xdist), one per core: the suite stays under ten minutes here.
PYTEST_ARGS ?= -n 2 --durations=20
test: install-test
	$(BIN)/pytest $(PYTEST_ARGS)

# Every performance number in one run, in throwaway databases (docs/benchmarks.md). Set
# DATABASE_URL to measure PostgreSQL; wrk drives the submissions (installed
# from Debian here when missing and we are root). BENCH_ARGS="--scale" grows to 1M units.
bench: install-test
	@command -v wrk >/dev/null 2>&1 || [ "$$(id -u)" != "0" ] || \
	  apt-get install -y -qq wrk >/dev/null 2>&1 || \
	  (apt-get update -qq && apt-get install -y -qq wrk >/dev/null)
	mkdir -p var
	$(BIN)/python -m bench $(BENCH_ARGS)
	$(BIN)/python -m bench buyer
	$(BIN)/python -m bench basket
	$(BIN)/python -m bench upload
	$(BIN)/python -m bench staff
	$(BIN)/python -m bench counter
	@if [ -n "$$DATABASE_URL" ]; then $(BIN)/python -m bench reports $(REPORTS_ARGS); \
	else echo "bench reports: skipped (it seeds 1M rows on PostgreSQL: set DATABASE_URL)"; fi

# What .ci/run checks before the suites: ruff's lint and format, and no model change without
# its migration (an in-memory database: nothing on disk is needed or touched).
lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DATABASE_URL="sqlite://:memory:" $(BIN)/python manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache node_modules $(VENDOR)
